"""Storage of ports' extra DHCP options (the extra_dhcp_opt extension).

An option is {"opt_name", "opt_value", "ip_version"}, one per name and IP
version on a port. On create, options without a value are skipped; on
update, options merge into the port's (Neutron's semantics): a value replaces
the option of the same name and version, a null value removes it.
"""
import sqlalchemy as sa

from netweave.core.db.models import dhcp as dhcp_models
from netweave.core.services import page as page_mod

ExtraDhcpOpt = dhcp_models.ExtraDhcpOpt
ATTRIBUTE = "extra_dhcp_opts"


def _as_dict(name, value, version):
    return {"opt_name": name, "opt_value": value, "ip_version": version}


def _chunks(ids, size=1000):
    # A page of up to 1,000 ports costs one query; longer lists stay within parameter limits.
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


_COLUMNS = (ExtraDhcpOpt.port_id, ExtraDhcpOpt.opt_name, ExtraDhcpOpt.opt_value, ExtraDhcpOpt.ip_version)
_ORDER = (ExtraDhcpOpt.port_id, ExtraDhcpOpt.ip_version, ExtraDhcpOpt.opt_name)


# session.info key of the options ``preload`` read: {port_id: [option dicts]}.
_PRELOADED = "netweave.extra_dhcp_opts.preloaded"


def preload(session, port_ids):
    """Read the options of many ports at once (one query per 1,000 ports), so that
    the port dicts built one at a time later in this session (a batch of status
    changes builds two port contexts per port) take them from memory. The
    session is one transaction; create and update drop what they change."""
    port_ids = list(dict.fromkeys(port_ids))
    if not port_ids:
        return
    found = _query(session, port_ids)
    cache = session.info.setdefault(_PRELOADED, {})
    for port_id in port_ids:
        cache[port_id] = found.get(port_id, [])


def _forget(session, port_id):
    session.info.get(_PRELOADED, {}).pop(port_id, None)


def load(session, port_ids, page=None):
    """{port_id: [option dicts]} for many ports, in one query per 1,000 ports.

    ``page``, when given, is the page (core/services/page.py) of ``port_ids``:
    the options are then joined to it in one query instead.
    Ports whose options ``preload`` read in this session cost no query.
    """
    cache = session.info.get(_PRELOADED)
    if page is None and cache:
        port_ids = list(port_ids)
        result = {port_id: [dict(option) for option in cache[port_id]]
                  for port_id in port_ids if cache.get(port_id)}
        missing = [port_id for port_id in port_ids if port_id not in cache]
        if missing:
            result.update(_query(session, missing))
        return result
    return _query(session, port_ids, page)


_TABLE = ExtraDhcpOpt.__table__
# A page's options, joined to it (core/services/page.py).
PAGE_OPTIONS = page_mod.Side(_TABLE.c.port_id, _TABLE.c.opt_name, _TABLE.c.opt_value, _TABLE.c.ip_version,
                             order_by=(_TABLE.c.port_id, _TABLE.c.ip_version, _TABLE.c.opt_name))


def _query(session, port_ids, page=None):
    if page is not None:
        batches = [page.rows(session, PAGE_OPTIONS)]
    else:
        batches = [session.execute(sa.select(*_COLUMNS).where(ExtraDhcpOpt.port_id.in_(chunk)).order_by(*_ORDER))
                   for chunk in _chunks(list(port_ids))]
    result = {}
    for rows in batches:
        for port_id, name, value, version in rows:
            result.setdefault(port_id, []).append(_as_dict(name, value, version))
    return result


def extend(session, port_dicts, page=None):
    """Set ``extra_dhcp_opts`` on port dicts read from the database (``page``: see load)."""
    if not port_dicts:
        return
    found = load(session, [p["id"] for p in port_dicts], page=page)
    for port in port_dicts:
        port[ATTRIBUTE] = found.get(port["id"], [])


def create(session, port_id, options):
    """Store a new port's options; returns them as the port shows them."""
    _forget(session, port_id)
    rows = [{"port_id": port_id, "opt_name": o["opt_name"], "opt_value": o["opt_value"],
             "ip_version": o.get("ip_version") or 4}
            for o in options or () if o.get("opt_value") is not None]
    if rows:
        session.execute(sa.insert(ExtraDhcpOpt.__table__),
                        [dict(row, id=dhcp_models.mb.new_uuid()) for row in rows])
    return sorted((_as_dict(r["opt_name"], r["opt_value"], r["ip_version"]) for r in rows),
                  key=lambda o: (o["ip_version"], o["opt_name"]))


def update(session, port_id, options):
    """Merge ``options`` into the port's; returns the port's options afterwards."""
    _forget(session, port_id)
    existing = {(row.opt_name, row.ip_version): row for row in session.scalars(
        sa.select(ExtraDhcpOpt).where(ExtraDhcpOpt.port_id == port_id))}
    for option in options or ():
        key = (option["opt_name"], option.get("ip_version") or 4)
        row = existing.get(key)
        if option.get("opt_value") is None:
            if row is not None:
                session.delete(row)
                del existing[key]
        elif row is not None:
            row.opt_value = option["opt_value"]
        else:
            existing[key] = ExtraDhcpOpt(port_id=port_id, opt_name=key[0], opt_value=option["opt_value"],
                                         ip_version=key[1])
            session.add(existing[key])
    session.flush()
    return [_as_dict(name, row.opt_value, version) for (name, version), row in sorted(
        existing.items(), key=lambda item: (item[0][1], item[0][0]))]

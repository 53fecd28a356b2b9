"""ML2 extension driver ``port_security``: port_security_enabled on networks and ports, and
the ports' security groups and allowed address pairs.

Its rows are written in the network's or port's own transaction (``plugin_context.session``).
Security groups are handled once the port_security service plugin has handed the
driver its SecurityGroupService (``use_security_groups``); until then ports carry
port security and address pairs only.
"""
import sqlalchemy as sa

from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.plugins.ml2 import driver_api
from netweave.core.services import page as page_mod
from netweave.service_plugins.port_security import exceptions as sg_exc
from netweave.service_plugins.port_security import models
from netweave.service_plugins.port_security.extensions import allowed_address_pairs as pairs_extension

PORT_SECURITY = "port_security_enabled"
SECURITY_GROUPS = "security_groups"
ADDRESS_PAIRS = "allowed_address_pairs"
# Ports of network services (DHCP, routers) get no default group, as in Neutron.
NETWORK_OWNER_PREFIX = "network:"


def _pair_dicts(rows):
    return [{"ip_address": p.ip_address, "mac_address": p.mac_address} for p in rows]


def complete_pairs(pairs, port_mac):
    """Address pairs with the port's MAC where none was given; refuses duplicates and too many."""
    result, seen = [], set()
    for pair in pairs:
        full = {"ip_address": pair["ip_address"], "mac_address": pair.get("mac_address") or port_mac}
        key = (full["ip_address"], full["mac_address"])
        if key in seen:
            raise sg_exc.DuplicateAddressPairInRequest(mac_address=key[1], ip_address=key[0])
        seen.add(key)
        result.append(full)
    if len(result) > pairs_extension.MAX_PAIRS:
        raise sg_exc.AllowedAddressPairExhausted(quota=pairs_extension.MAX_PAIRS)
    return sorted(result, key=lambda p: (p["ip_address"], p["mac_address"]))


# What a port list reads of each side table, built once; _page_rows restricts them to a page.
# Table columns, not mapped attributes: plain rows need none of the ORM's result handling.
_FLAGS_T = models.PortSecurityBinding.__table__
_GROUPS_T = models.SecurityGroupPortBinding.__table__
_PAIRS_T = models.AllowedAddressPair.__table__
_NETWORK_FLAGS_T = models.NetworkSecurityBinding.__table__
# Only the flags that are off: a missing one reads as on, as nearly every flag is, and a
# 1,000-port page then reads no flag rows instead of 1,000.
_NETWORK_FLAGS = page_mod.Side(_NETWORK_FLAGS_T.c.network_id, _NETWORK_FLAGS_T.c.port_security_enabled,
                               where=_NETWORK_FLAGS_T.c.port_security_enabled == sa.false())
_PORT_FLAGS = page_mod.Side(_FLAGS_T.c.port_id, _FLAGS_T.c.port_security_enabled,
                            where=_FLAGS_T.c.port_security_enabled == sa.false())
_PORT_GROUPS = page_mod.Side(_GROUPS_T.c.port_id, _GROUPS_T.c.security_group_id)
_PORT_PAIRS = page_mod.Side(_PAIRS_T.c.port_id, _PAIRS_T.c.ip_address, _PAIRS_T.c.mac_address)


_INSERT_FLAG = sa.insert(models.PortSecurityBinding.__table__)
_INSERT_PAIR = sa.insert(models.AllowedAddressPair.__table__)
_INSERT_GROUP = sa.insert(models.SecurityGroupPortBinding.__table__)


def _page_rows(connection, side, port_ids, page, chunk=500):
    """Rows of ``side`` (a page_mod.Side, port_id first) for the ports of a page, read on
    ``connection`` (a Core Connection).

    Joined to ``page`` (core/services/page.py), when there is one: read with the
    page's other side tables (``port_page_sides``), no ids sent back as
    parameters. Otherwise by id, in chunks that stay within every database's
    parameter limit.
    """
    if page is not None:
        return page.rows(connection, side)
    rows = []
    for start in range(0, len(port_ids), chunk):
        rows.extend(connection.execute(side.statement.where(side.key.in_(port_ids[start:start + chunk]))).all())
    return rows


_NETWORK_FLAG = (sa.select(_NETWORK_FLAGS_T.c.port_security_enabled)
                 .where(_NETWORK_FLAGS_T.c.network_id == sa.bindparam("network_id")))
_DEFAULTS_T = models.DefaultSecurityGroup.__table__
# A new port's two defaults at once: its network's flag and its project's default group.
_NETWORK_FLAG_AND_DEFAULT_GROUP = sa.select(
    _NETWORK_FLAG.scalar_subquery(),
    sa.select(_DEFAULTS_T.c.security_group_id).where(_DEFAULTS_T.c.project_id == sa.bindparam("project_id"))
    .scalar_subquery())

# session.info keys of what a transaction read already (see _in_transaction).
_NETWORK_FLAGS_READ = "port_security.network_port_security"
_DEFAULT_GROUPS_READ = "port_security.default_group"


def _in_transaction(session, kind, key, read):
    """``read()``, once per transaction and key: the ports of a bulk create share one
    network and project, and what was read (or made) stays so until the transaction ends."""
    known = session.info.setdefault(kind, {})
    if key not in known:
        known[key] = read()
    return known[key]


def _network_port_security(session, network_id):
    return _flag_or_on(session.scalar(_NETWORK_FLAG, {"network_id": network_id}))


def _flag_or_on(flag):
    # A network without a flag row has port security on (Neutron's default).
    return True if flag is None else flag


def _read_both_defaults(session, network_id, project_id):
    """Read the network's flag and the project's default group in one statement, for
    _in_transaction to find (a project without its default group yet is left to
    ensure_default, which makes it)."""
    flags = session.info.setdefault(_NETWORK_FLAGS_READ, {})
    groups = session.info.setdefault(_DEFAULT_GROUPS_READ, {})
    if network_id in flags or project_id in groups:
        return
    flag, group_id = session.execute(_NETWORK_FLAG_AND_DEFAULT_GROUP,
                                     {"network_id": network_id, "project_id": project_id}).one()
    flags[network_id] = _flag_or_on(flag)
    if group_id is not None:
        groups[project_id] = group_id


class PortSecurityExtensionDriver(driver_api.ExtensionDriver):
    extension_alias = "port-security"
    extends_port_pages = True
    port_page_sides = (_PORT_FLAGS, _PORT_GROUPS, _PORT_PAIRS)
    extends_network_pages = True
    network_page_sides = (_NETWORK_FLAGS,)
    # The L2 agents filter by these, so a change must reach them.
    wiring_attributes = frozenset((SECURITY_GROUPS, ADDRESS_PAIRS, PORT_SECURITY))

    def __init__(self):
        self.groups = None

    def extend_device_details(self, port, details):
        """The agents' anti-spoofing needs the addresses a port may use and whether it is filtered."""
        details[ADDRESS_PAIRS] = port.get(ADDRESS_PAIRS, [])
        details[PORT_SECURITY] = port.get(PORT_SECURITY, True)

    def use_security_groups(self, group_service):
        self.groups = group_service

    # --- networks --------------------------------------------------------------

    def process_create_network(self, plugin_context, data, result):
        enabled = data.get(PORT_SECURITY)
        enabled = True if enabled is None else enabled
        plugin_context.session.execute(sa.insert(models.NetworkSecurityBinding.__table__),
                                       {"network_id": result["id"], "port_security_enabled": enabled})
        result[PORT_SECURITY] = enabled

    def process_update_network(self, plugin_context, data, result):
        if data.get(PORT_SECURITY) is None:
            return
        session = plugin_context.session
        binding = session.get(models.NetworkSecurityBinding, result["id"])
        if binding is None:
            session.add(models.NetworkSecurityBinding(network_id=result["id"],
                                                      port_security_enabled=data[PORT_SECURITY]))
        else:
            binding.port_security_enabled = data[PORT_SECURITY]
        session.flush()
        result[PORT_SECURITY] = data[PORT_SECURITY]

    def extend_network_dict(self, session, db_obj, result):
        # Networks read as plain rows (a port create's snapshot) do not carry the binding.
        if not isinstance(db_obj, net_models.Network):
            return
        binding = db_obj.port_security
        result[PORT_SECURITY] = True if binding is None else binding.port_security_enabled

    def extend_network_dicts(self, connection, results, page):
        flags = dict(page.rows(connection, _NETWORK_FLAGS))
        for network_id, result in results.items():
            flag = flags.get(network_id)
            result[PORT_SECURITY] = _flag_or_on(flag)

    # --- ports -----------------------------------------------------------------

    def process_create_port(self, plugin_context, data, result):
        session = plugin_context.session
        network_id, project_id = result["network_id"], result["project_id"]
        enabled = data.get(PORT_SECURITY)
        # The project's own default group: for ports with port security that ask for no
        # groups, but not for network services' ports.
        wants_default = (self.groups is not None and data.get(SECURITY_GROUPS) is None
                         and not (result.get("device_owner") or "").startswith(NETWORK_OWNER_PREFIX))
        if enabled is None:
            if wants_default:
                _read_both_defaults(session, network_id, project_id)
            enabled = _in_transaction(session, _NETWORK_FLAGS_READ, network_id,
                                      lambda: _network_port_security(session, network_id))
        pairs = complete_pairs(data.get(ADDRESS_PAIRS) or [], result["mac_address"])
        if pairs and not enabled:
            raise sg_exc.AddressPairAndPortSecurityRequired()
        group_ids = []
        if self.groups is not None:
            requested = data.get(SECURITY_GROUPS)
            if not enabled:
                if requested:
                    raise sg_exc.PortSecurityAndIPRequiredForSecurityGroups()
            elif wants_default:
                # The project's own default group needs no visibility check.
                group_ids = [_in_transaction(session, _DEFAULT_GROUPS_READ, project_id,
                                             lambda: self.groups.ensure_default(session, project_id))]
            elif requested is not None:
                group_ids = self.groups.check_port_groups(session, plugin_context, project_id, requested)
        # Plain inserts, not the Port object's relationships: the port may have been
        # written as plain rows too, and loading it back cost more than these.
        port_id = result["id"]
        session.execute(_INSERT_FLAG, {"port_id": port_id, "port_security_enabled": enabled})
        if pairs:
            session.execute(_INSERT_PAIR, [dict(p, port_id=port_id) for p in pairs])
        if group_ids:
            session.execute(_INSERT_GROUP, [{"port_id": port_id, "security_group_id": g} for g in group_ids])
        self._fill(result, enabled, group_ids, pairs)

    def process_update_port(self, plugin_context, data, result):
        if not {PORT_SECURITY, SECURITY_GROUPS, ADDRESS_PAIRS} & set(data):
            return
        session = plugin_context.session
        port = session.get(port_models.Port, result["id"])
        current = self._port_values(port)
        enabled = current[0] if data.get(PORT_SECURITY) is None else data[PORT_SECURITY]
        group_ids = current[1]
        if self.groups is not None and SECURITY_GROUPS in data:
            requested = data[SECURITY_GROUPS] or []
            if requested and not enabled:
                raise sg_exc.PortSecurityAndIPRequiredForSecurityGroups()
            group_ids = self.groups.check_port_groups(session, plugin_context, result["project_id"], requested)
        elif group_ids and not enabled:
            raise sg_exc.PortSecurityPortHasSecurityGroup()
        pairs = current[2]
        if ADDRESS_PAIRS in data:
            pairs = complete_pairs(data[ADDRESS_PAIRS] or [], port.mac_address)
        if pairs and not enabled:
            raise sg_exc.AddressPairAndPortSecurityRequired()
        if port.port_security is None:
            port.port_security = models.PortSecurityBinding(port_security_enabled=enabled)
        else:
            port.port_security.port_security_enabled = enabled
        if pairs != current[2]:
            port.allowed_address_pairs = [models.AllowedAddressPair(**p) for p in pairs]
        if group_ids != current[1]:
            kept = {b.security_group_id: b for b in port.security_group_bindings}
            port.security_group_bindings = [kept.get(g) or models.SecurityGroupPortBinding(security_group_id=g)
                                            for g in group_ids]
        session.flush()
        self._fill(result, enabled, group_ids, pairs)

    def extend_port_dict(self, session, db_obj, result):
        enabled, group_ids, pairs = self._port_values(db_obj)
        self._fill(result, enabled, group_ids, pairs)

    def extend_port_dicts(self, connection, results, page=None):
        """The page's flags, groups and pairs in three queries, whatever its length."""
        ids = list(results)
        enabled = dict(_page_rows(connection, _PORT_FLAGS, ids, page))
        groups = {}
        for port_id, group_id in _page_rows(connection, _PORT_GROUPS, ids, page):
            groups.setdefault(port_id, []).append(group_id)
        pairs = {}
        for port_id, ip_address, mac_address in _page_rows(connection, _PORT_PAIRS, ids, page):
            pairs.setdefault(port_id, []).append((ip_address, mac_address))
        # What _fill sets, written out: most ports have no pairs and one group, and a page
        # holds up to thousands of them.
        with_groups = self.groups is not None
        for port_id, result in results.items():
            result[PORT_SECURITY] = enabled.get(port_id, True)
            # Sorted here as the relationships order them, whatever the database's collation.
            own = pairs.get(port_id)
            result[ADDRESS_PAIRS] = [{"ip_address": ip_address, "mac_address": mac_address}
                                     for ip_address, mac_address in sorted(own)] if own else []
            if with_groups:
                own = groups.get(port_id)
                result[SECURITY_GROUPS] = sorted(own) if own else []

    def _port_values(self, port):
        binding = port.port_security
        enabled = True if binding is None else binding.port_security_enabled
        group_ids = sorted(b.security_group_id for b in port.security_group_bindings)
        return enabled, group_ids, _pair_dicts(port.allowed_address_pairs)

    def _fill(self, result, enabled, group_ids, pairs):
        result[PORT_SECURITY] = enabled
        result[ADDRESS_PAIRS] = [dict(p) for p in pairs]
        if self.groups is not None:
            result[SECURITY_GROUPS] = list(group_ids)

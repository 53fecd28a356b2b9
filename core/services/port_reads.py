"""What every read of ports selects, and the API dict of a port.

A port is read with its binding (one at most) in one row; its addresses and tags
come as sides of the page that read it (core/services/page.py), one statement in
all. The pages here are templates, built once per process: a port by id, a
network's ports, a member's page of the ports it sees.
"""
import collections
import functools
import json

import sqlalchemy as sa

from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.db.models import tag as tag_model
from netweave.core.services import common, networks
from netweave.core.services import page as page_mod

Port = port_models.Port
Binding = port_models.PortBinding

VIF_TYPE_UNBOUND = "unbound"

# port-trusted-vif: whether the VIF is trusted, a key of binding:profile.
TRUSTED = "trusted"

_FROM_ROW = object()


def json_dict(text):
    # Nearly every stored profile and vif_details is "{}": skip the parser for those.
    return {} if text == "{}" else json.loads(text)


def make_dict(row, tags=None, fixed_ips=None, binding=_FROM_ROW):
    """The API dict of a port.

    ``row`` is a Port, or a row of the ports table read by a list query; then the
    caller also passes ``fixed_ips`` (the API's list of {"subnet_id", "ip_address"})
    and ``binding`` (a row of the bindings table, or None).
    """
    if binding is _FROM_ROW:
        binding = row.binding
    if fixed_ips is None:
        fixed_ips = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips]
    # Keys set one by one into the standard attributes' dict: merging dicts built apart
    # cost twice as much, and a list makes thousands of these.
    result = common.standard_dict(row, tags)
    result["network_id"] = row.network_id
    result["mac_address"] = row.mac_address
    result["admin_state_up"] = row.admin_state_up
    result["status"] = row.status
    result["device_id"] = row.device_id
    result["device_owner"] = row.device_owner
    result["fixed_ips"] = fixed_ips
    set_binding(result, binding)
    return result


def set_binding(result, binding):
    """Set the binding's attributes of port dict ``result`` (``binding``: a binding row, or
    None: the unbound defaults)."""
    if binding is None:
        host, vnic_type, profile, vif_type, vif_details = "", "normal", {}, VIF_TYPE_UNBOUND, {}
    else:
        host, vnic_type, vif_type = binding.host, binding.vnic_type, binding.vif_type
        profile, vif_details = json_dict(binding.profile), json_dict(binding.vif_details)
    result["binding:host_id"] = host
    result["binding:vnic_type"] = vnic_type
    result["binding:profile"] = profile
    result["binding:vif_type"] = vif_type
    result["binding:vif_details"] = vif_details
    result[TRUSTED] = profile.get(TRUSTED)


_ALLOCATIONS = port_models.IPAllocation.__table__
# A page's addresses (joined to it) and those of whole networks, each port's in its order.
PAGE_ADDRESSES = page_mod.Side(_ALLOCATIONS.c.port_id, _ALLOCATIONS.c.subnet_id, _ALLOCATIONS.c.ip_address,
                               order_by=(_ALLOCATIONS.c.port_id, _ALLOCATIONS.c.position))
_NETWORK_ADDRESSES = sa.select(_ALLOCATIONS.c.port_id, _ALLOCATIONS.c.subnet_id, _ALLOCATIONS.c.ip_address).where(
    _ALLOCATIONS.c.network_id.in_(sa.bindparam("network_ids", expanding=True))).order_by(_ALLOCATIONS.c.position)
_TAGS = tag_model.Tag.__table__
PAGE_TAGS = page_mod.Side(_TAGS.c.resource_id, _TAGS.c.tag)


def fixed_ips_of(connection, page, port_ids, network_ids=None):
    """{port_id: the port's fixed_ips as the API shows them} for the ports of ``page``.

    The allocations are joined to the page in one query, instead of sending
    every id back as a parameter (which cost more than the query itself). With
    ``network_ids`` (every port is on one of them) they are read by their
    indexed network_id instead, and those of other ports skipped.
    """
    if network_ids:
        wanted = set(port_ids)
        rows = connection.execute(_NETWORK_ADDRESSES, {"network_ids": list(network_ids)}).all()
    else:
        wanted = None
        rows = page.rows(connection, PAGE_ADDRESSES)
    result = {}
    for port_id, subnet_id, ip_address in rows:
        if wanted is not None and port_id not in wanted:
            continue
        entry = {"subnet_id": subnet_id, "ip_address": ip_address}
        if port_id in result:
            result[port_id].append(entry)
        else:
            result[port_id] = [entry]
    return result


def tags_of_page(connection, page):
    """{port_id: sorted tags} of the ports of ``page``, joined to it in one query."""
    result = collections.defaultdict(list)
    for resource_id, tag in page.rows(connection, PAGE_TAGS):
        result[resource_id].append(tag)
    # Sorted here, not by the database, whose collation may order differently.
    for values in result.values():
        values.sort()
    return result


@functools.lru_cache(maxsize=16)
def named_row_type(keys):
    return collections.namedtuple("PortListRow", keys)


# What a port list reads of the binding, next to the port's own columns.
_BINDINGS = Binding.__table__
_BINDING_COLUMNS = [_BINDINGS.c.port_id.label("binding_port_id"), _BINDINGS.c.host.label("binding_host"),
                    _BINDINGS.c.vnic_type.label("binding_vnic_type"), _BINDINGS.c.profile.label("binding_profile"),
                    _BINDINGS.c.vif_type.label("binding_vif_type"),
                    _BINDINGS.c.vif_details.label("binding_vif_details")]
BindingRow = collections.namedtuple("BindingRow", ["host", "vnic_type", "profile", "vif_type", "vif_details"])
_PORTS = Port.__table__
# What every read of ports selects: each port's row with its binding's (one at most).
PORT_ROWS = sa.select(*_PORTS.columns, *_BINDING_COLUMNS).outerjoin(_BINDINGS, _BINDINGS.c.port_id == _PORTS.c.id)


def port_rows_past(marker):
    """PORT_ROWS for a page in ascending id order after ``marker``: the bindings joined
    from the marker on too. PostgreSQL merges the join and does not carry ``ports.id >
    marker`` over to the bindings, so it read them from the first up to the marker: a
    deep page cost as much as the pages before it. (An unknown marker bounds nothing,
    as the page then starts at the first port.)"""
    markers = _PORTS.alias("marker_port")
    known = sa.select(markers.c.id).where(markers.c.id == marker).scalar_subquery()
    return sa.select(*_PORTS.columns, *_BINDING_COLUMNS).outerjoin(_BINDINGS, sa.and_(
        _BINDINGS.c.port_id == _PORTS.c.id, _BINDINGS.c.port_id > sa.func.coalesce(known, "")))


def visible_to(project_id):
    """Which ports a project sees: its own and, as in Neutron, every port on its networks.
    ``project_id`` is a value or a bound parameter."""
    networks_t = net_models.Network.__table__
    return sa.or_(_PORTS.c.project_id == project_id, _PORTS.c.network_id.in_(
        sa.select(networks_t.c.id).where(networks_t.c.project_id == project_id)))


# A member's page in id order reads its project's ports and those on each network it owns
# as separate seeks, each limited to the page: past this many networks, the networks'
# ports are read as one branch (sorted past the marker).
SEEK_NETWORKS = 16
_NETWORKS = net_models.Network.__table__
OWN_NETWORK_IDS = sa.select(_NETWORKS.c.id).where(_NETWORKS.c.project_id == sa.bindparam("project_id")).limit(
    SEEK_NETWORKS + 1)


def _past_marker(marker):
    """``ports.id > marker`` as a seek bound; an unknown marker bounds nothing (the page
    then starts at the first port, as query.apply_sorting does)."""
    markers = _PORTS.alias("marker_port")
    known = sa.select(markers.c.id).where(markers.c.id == marker).scalar_subquery()
    return _PORTS.c.id > sa.func.coalesce(known, "")


def member_statement(project_id, owned, marker, limit, refine=None, with_bindings=False):
    """The page statement of _member_page: ``owned`` is a condition per network the project
    owns (None: too many, one branch for them all); the values are values or bound
    parameters; ``refine`` adds a list's filters to each branch. Each port comes with its
    network's owner (``network_owner``, NULL when the project does not see the network):
    the page's policy targets need them, and no read of the networks follows."""
    if owned is None:
        owned = [_PORTS.c.network_id.in_(sa.select(_NETWORKS.c.id).where(_NETWORKS.c.project_id == project_id))]
    source = _PORTS.outerjoin(_BINDINGS, _BINDINGS.c.port_id == _PORTS.c.id) if with_bindings else _PORTS
    after = None if marker is None else _past_marker(marker)
    branches = []
    for visible in [_PORTS.c.project_id == project_id] + owned:
        branch = sa.select(_PORTS.c.id).select_from(source).where(visible)
        if after is not None:
            branch = branch.where(after)
        if refine is not None:
            branch = refine(branch)
        # A subquery: SQLite takes no LIMIT in a compound select's own branches.
        branches.append(sa.select(branch.order_by(_PORTS.c.id).limit(limit).subquery().c.id))
    # UNION, not UNION ALL: a project's port on its own network is in two branches.
    ids = sa.union(*branches) if len(branches) > 1 else branches[0]
    owner = networks.owner_of(_PORTS.c.network_id, visible_to=project_id).label("network_owner")
    return PORT_ROWS.add_columns(owner).where(_PORTS.c.id.in_(ids)).order_by(_PORTS.c.id).limit(limit)


@functools.lru_cache(maxsize=2 * (SEEK_NETWORKS + 1))
def member_page_template(networks, with_marker):
    """The unfiltered member_statement over ``networks`` networks as a template page (bind
    project_id, network_0.., limit and, ``with_marker``, marker)."""
    return page_mod.Page(member_statement(
        page_mod.bound("project_id"), [_PORTS.c.network_id == page_mod.bound("network_%d" % index)
                                       for index in range(networks)],
        page_mod.bound("marker") if with_marker else None, page_mod.bound("limit")), _PORTS.c.id)


# One port by id, read as a page of one (templates built once; bind port_id, and
# project_id for a caller who is not an admin); its sides are read by port_id.
ONE_PORT = page_mod.Page(PORT_ROWS.where(_PORTS.c.id == page_mod.bound("port_id")), _PORTS.c.id,
                         key_param="port_id")
ONE_VISIBLE_PORT = page_mod.Page(ONE_PORT.statement.where(visible_to(page_mod.bound("project_id"))),
                                 _PORTS.c.id, key_param="port_id")
# Both with the owner of the port's network, when the caller sees that network (NULL
# otherwise): a show's policy target needs it, and no read of the network follows.
ONE_PORT_WITH_OWNER = page_mod.Page(ONE_PORT.statement.add_columns(
    networks.owner_of(_PORTS.c.network_id).label("network_owner")), _PORTS.c.id, key_param="port_id")
ONE_VISIBLE_PORT_WITH_OWNER = page_mod.Page(ONE_VISIBLE_PORT.statement.add_columns(
    networks.owner_of(_PORTS.c.network_id, visible_to=page_mod.bound("project_id")).label("network_owner")),
    _PORTS.c.id, key_param="port_id")
# A whole network's ports in id order (bind network_id, and project_id for a caller
# who is not an admin): the list of ?network_id=<id> with nothing else asked.
NETWORK_PORTS = page_mod.Page(
    PORT_ROWS.where(_PORTS.c.network_id == page_mod.bound("network_id")).order_by(_PORTS.c.id), _PORTS.c.id)
VISIBLE_NETWORK_PORTS = page_mod.Page(
    NETWORK_PORTS.statement.where(visible_to(page_mod.bound("project_id"))), _PORTS.c.id)


def one_network(filters):
    """The network id of filters naming one network and nothing else, or None."""
    if len(filters) != 1:
        return None
    values = filters.get("network_id")
    return values[0] if values is not None and len(values) == 1 else None


def binding_of(port):
    """The binding of a port dict, as make_dict takes it from a row."""
    return BindingRow(port["binding:host_id"], port["binding:vnic_type"], json.dumps(port["binding:profile"]),
                      port["binding:vif_type"], json.dumps(port["binding:vif_details"]))

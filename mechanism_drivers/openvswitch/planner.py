"""The difference between what a host holds and what it should hold, as a plan (no I/O).

``plan(config, desired, snapshot, dumped_flows)`` returns a frozen ``Plan``
of typed, frozen operations:
  * ``ovsdb_ops``: bridge, port and interface changes (AddBridge, SetBridge,
    DelPort, AddPort, SetInterface, SetPort), applied in one OVSDB
    transaction, in the order given;
  * ``flows``: a FlowChanges per bridge whose installed flows differ from
    the desired ones: the flow mods that make up the difference, applied
    atomically in one bundle.

Flows are compared by key (table, priority, match; ``flows.key``) among the
flows holding the agent's cookie for the bridge: a wanted key the bridge lacks
is added, one whose actions differ is modified in place (its counters and age
stay), one the agent no longer wants is deleted. Flows with other cookies
(learned flows, other programs') are never touched; the number of flow mods is
proportional to the change, not to the table. When a bridge's flows could not
be dumped, the plan deletes every flow with the agent's cookie and adds the
wanted ones, still in one bundle.

A host that already matches yields an empty plan: nothing is written.
"""
import dataclasses

from netweave.core import naming
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import desired as desired_mod
from netweave.mechanism_drivers.openvswitch import flows as flows_mod

# Interface options of patch and tunnel ports that the agent decides; any
# other option someone set on such a port is left as it is.
MANAGED_OPTIONS = frozenset(("peer", "remote_ip", "local_ip", "in_key", "out_key", "key",
                             "df_default", "dst_port"))


@dataclasses.dataclass(frozen=True)
class AddBridge:
    name: str
    datapath_type: str
    fail_mode: str
    protocols: tuple


@dataclasses.dataclass(frozen=True)
class SetBridge:
    name: str
    columns: tuple  # (column, value) pairs


@dataclasses.dataclass(frozen=True)
class DelPort:
    bridge: str
    name: str


@dataclasses.dataclass(frozen=True)
class AddPort:
    bridge: str
    name: str
    type: str
    options: tuple


@dataclasses.dataclass(frozen=True)
class SetInterface:
    name: str
    type: str
    options: tuple


@dataclasses.dataclass(frozen=True)
class SetPort:
    name: str
    tag: int
    other_config: tuple


@dataclasses.dataclass(frozen=True)
class FlowMod:
    """One line of an ``ovs-ofctl add-flows`` file: ``verb`` (add, modify_strict,
    delete_strict, delete) and the flow (for deletes: its match only)."""
    verb: str
    flow: str

    @property
    def line(self):
        return "%s %s" % (self.verb, self.flow)


@dataclasses.dataclass(frozen=True)
class FlowChanges:
    """Flow mods of one bridge, all carrying or matching the agent's ``cookie``."""
    bridge: str
    cookie: int
    mods: tuple

    @property
    def text(self):
        return "".join(mod.line + "\n" for mod in self.mods)

    def count(self, verb):
        return sum(1 for mod in self.mods if mod.verb == verb)


_ORDER = {AddBridge: 0, SetBridge: 1, DelPort: 2, AddPort: 3, SetInterface: 4, SetPort: 5}


@dataclasses.dataclass(frozen=True)
class Plan:
    ovsdb_ops: tuple = ()
    flows: tuple = ()      # FlowChanges, by bridge name

    @property
    def empty(self):
        return not self.ovsdb_ops and not self.flows

    @property
    def flow_bridges(self):
        return tuple(op.bridge for op in self.flows)

    def summary(self):
        kinds = {}
        for op in self.ovsdb_ops:
            kinds[type(op).__name__] = kinds.get(type(op).__name__, 0) + 1
        flow_mods = {}
        for changes in self.flows:
            for mod in changes.mods:
                flow_mods[mod.verb] = flow_mods.get(mod.verb, 0) + 1
        return {"ovsdb_ops": kinds, "flow_bridges": list(self.flow_bridges), "flow_mods": flow_mods}


def _datapath(value):
    return value or "system"


def _plan_bridges(desired, snapshot):
    ops = []
    for name, spec in sorted(desired.bridges.items()):
        row = snapshot.bridges.get(name)
        if row is None:
            ops.append(AddBridge(name, spec.datapath_type, spec.fail_mode, tuple(sorted(spec.protocols))))
            continue
        changes = []
        if _datapath(row.datapath_type) != _datapath(spec.datapath_type):
            changes.append(("datapath_type", spec.datapath_type))
        if (row.fail_mode or "") != spec.fail_mode:
            changes.append(("fail_mode", spec.fail_mode))
        if tuple(sorted(row.protocols)) != tuple(sorted(spec.protocols)):
            changes.append(("protocols", tuple(sorted(spec.protocols))))
        if changes:
            ops.append(SetBridge(name, tuple(changes)))
    return ops


def _owned(config, bridge_name, port_name, iface):
    """True for a port the agent made and may delete when it is no longer wanted."""
    kind = iface.type if iface else ""
    if bridge_name == config.tunnel_bridge and config.tunnelling:
        return kind in c.TUNNEL_TYPES or (kind == "patch" and port_name == config.tun_peer_patch_port)
    if bridge_name == config.integration_bridge:
        return kind == "patch" and (port_name == config.int_peer_patch_port
                                    or port_name.startswith(naming.INT_PEER_PREFIX))
    if bridge_name in config.bridge_mappings.values():
        return kind == "patch" and port_name.startswith(naming.PHY_PEER_PREFIX)
    return False


def _plan_owned_ports(config, desired, snapshot):
    ops = []
    for name, spec in sorted(desired.ports.items()):
        row = snapshot.ports.get(name)
        iface = snapshot.interface_of(name)
        want = spec.options_dict
        if row is None or iface is None:
            ops.append(AddPort(spec.bridge, name, spec.type, spec.options))
            continue
        if row.bridge != spec.bridge:
            ops.append(DelPort(row.bridge, name))
            ops.append(AddPort(spec.bridge, name, spec.type, spec.options))
            continue
        have = {k: v for k, v in iface.options.items() if k in MANAGED_OPTIONS}
        if iface.type != spec.type or have != want:
            merged = {k: v for k, v in iface.options.items() if k not in MANAGED_OPTIONS}
            merged.update(want)
            ops.append(SetInterface(name, spec.type, tuple(sorted(merged.items()))))
    agent_bridges = set(desired.bridges)
    for bridge_name in sorted(agent_bridges):
        row = snapshot.bridges.get(bridge_name)
        for port_name in (row.ports if row else ()):
            if port_name in desired.ports or port_name == bridge_name:
                continue
            if _owned(config, bridge_name, port_name, snapshot.interface_of(port_name)):
                ops.append(DelPort(bridge_name, port_name))
    return ops


def _plan_vm_ports(desired, snapshot):
    ops = []
    managed = desired_mod.MANAGED_OTHER_CONFIG
    for name, spec in sorted(desired.vm_ports.items()):
        row = snapshot.ports.get(name)
        if row is None:
            continue  # gone since the scan; the next pass forgets it
        want = dict(spec.other_config)
        have = {k: v for k, v in row.other_config.items() if k in managed}
        if row.tag != spec.tag or have != want:
            merged = {k: v for k, v in row.other_config.items() if k not in managed}
            merged.update(want)
            ops.append(SetPort(name, spec.tag, tuple(sorted(merged.items()))))
    return ops


def _with_cookie(flow, cookie):
    return "cookie=%#x, %s" % (cookie, flow.render())


def _mask(cookie):
    return "cookie=%#x/-1, " % cookie


def bridge_flow_mods(wanted, dumped, cookie):
    """FlowMods turning a bridge holding ``dumped`` into one holding ``wanted`` (Flow
    objects) with ``cookie``; ``dumped`` None: unknown (replace what carries the cookie)."""
    if dumped is None:
        return (FlowMod("delete", _mask(cookie).rstrip(", ")),) + tuple(
            FlowMod("add", _with_cookie(f, cookie)) for f in wanted)
    want = {}
    for flow in wanted:
        canonical = flows_mod.canonical_flow(flow)
        want[flows_mod.key(canonical)] = (flow, canonical)
    ours = {flows_mod.key(f): f for f in flows_mod.iter_canonical(dumped) if f.cookie == cookie}
    modifies, adds = [], []
    deletes = [FlowMod("delete_strict", _mask(cookie) + flows_mod.match_text(ours[k]))
               for k in sorted(k for k in ours if k not in want)]
    for k, (flow, canonical) in want.items():   # in the desired order
        installed = ours.get(k)
        if installed is None:
            adds.append(FlowMod("add", _with_cookie(flow, cookie)))
        elif not flows_mod.same_treatment(installed, canonical):
            modifies.append(FlowMod("modify_strict", _mask(cookie) + flow.render()))
    return tuple(deletes + modifies + adds)


def plan_flows(desired, snapshot, dumped_flows, cookies):
    """FlowChanges for the bridges whose flows must change, by bridge name.

    ``dumped_flows`` maps a bridge to what it holds: the lines of ``ovs-ofctl
    dump-flows`` (or canonical flows); for a bridge missing from it the dump
    failed, unless the bridge does not exist yet (then it holds nothing).
    ``cookies``: {bridge: the agent's cookie there}.
    """
    result = []
    for bridge, wanted in sorted(desired.flows.items()):
        dumped = (dumped_flows or {}).get(bridge)
        if dumped is None and bridge not in snapshot.bridges:
            dumped = ()
        mods = bridge_flow_mods(wanted, dumped, cookies[bridge])
        if mods:
            result.append(FlowChanges(bridge, cookies[bridge], mods))
    return tuple(result)


def plan(config, desired, snapshot, dumped_flows, cookies):
    ops = _plan_bridges(desired, snapshot)
    ops += _plan_owned_ports(config, desired, snapshot)
    ops += _plan_vm_ports(desired, snapshot)
    ops.sort(key=lambda op: _ORDER[type(op)])  # stable: keeps name order within a kind
    return Plan(ovsdb_ops=tuple(ops), flows=plan_flows(desired, snapshot, dumped_flows, cookies))

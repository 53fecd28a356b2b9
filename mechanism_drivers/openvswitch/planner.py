"""The difference between what a host holds and what it should hold, as a plan (no I/O).

``plan(config, desired, snapshot, dumped_flows)`` returns a frozen ``Plan``
of typed, frozen operations:
  * ``ovsdb_ops``: bridge, port and interface changes (AddBridge, SetBridge,
    DelPort, AddPort, SetInterface, SetPort), applied in one OVSDB
    transaction, in the order given;
  * ``flows``: a ReplaceFlows per bridge whose installed flows differ from
    the desired ones, each replaced atomically in one bundle.

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
class ReplaceFlows:
    """Make ``text`` (an ovs-ofctl flow file) the bridge's whole flow table."""
    bridge: str
    text: str


_ORDER = {AddBridge: 0, SetBridge: 1, DelPort: 2, AddPort: 3, SetInterface: 4, SetPort: 5}


@dataclasses.dataclass(frozen=True)
class Plan:
    ovsdb_ops: tuple = ()
    flows: tuple = ()      # ReplaceFlows, by bridge name

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
        return {"ovsdb_ops": kinds, "flow_bridges": list(self.flow_bridges)}


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


def plan_flows(desired, snapshot, dumped_flows):
    """ReplaceFlows for the bridges whose flows must be replaced, by bridge name.

    ``dumped_flows`` maps a bridge to what it holds: the lines of ``ovs-ofctl
    dump-flows`` (or canonical flows); a bridge missing from it (not dumped, or
    the dump failed) is replaced.
    """
    result = []
    for bridge, wanted in sorted(desired.flows.items()):
        dumped = (dumped_flows or {}).get(bridge)
        if bridge in snapshot.bridges and dumped is not None and flows_mod.tables_equal(wanted, dumped):
            continue
        result.append(ReplaceFlows(bridge, flows_mod.render_table(wanted)))
    return tuple(result)


def plan(config, desired, snapshot, dumped_flows):
    ops = _plan_bridges(desired, snapshot)
    ops += _plan_owned_ports(config, desired, snapshot)
    ops += _plan_vm_ports(desired, snapshot)
    ops.sort(key=lambda op: _ORDER[type(op)])  # stable: keeps name order within a kind
    return Plan(ovsdb_ops=tuple(ops), flows=plan_flows(desired, snapshot, dumped_flows))

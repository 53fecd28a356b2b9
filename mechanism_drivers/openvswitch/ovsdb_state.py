"""What Open vSwitch holds now: bridges, ports, interfaces and their ids, read through ovsdbapp.

``connect`` opens an ovsdbapp connection (its IDL keeps an in-memory replica of
the tables the agent needs). ``read_snapshot`` copies that replica into plain,
immutable values under the connection's lock: no transaction, nothing written.
"""
import dataclasses

from ovsdbapp.backend.ovs_idl import command as ovs_command
from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.open_vswitch import impl_idl

SCHEMA = "Open_vSwitch"
# The columns the agent reads or writes; statistics and status stay unmonitored.
COLUMNS = {
    "Open_vSwitch": ("bridges", "next_cfg", "cur_cfg", "datapath_types", "iface_types",
                     "external_ids", "ovs_version"),
    "Bridge": ("name", "ports", "datapath_type", "fail_mode", "protocols", "external_ids",
               "other_config"),
    "Port": ("name", "interfaces", "tag", "other_config", "external_ids"),
    "Interface": ("name", "type", "options", "external_ids", "ofport", "ofport_request",
                  "mac_in_use", "error"),
}


def connect(connection_string, timeout=30):
    """An ovsdbapp Open_vSwitch API whose connection thread is already running.

    ovsdbapp keeps the connection on the API *class*; a class made for each call
    gives every caller (two agents in one test process, say) its own connection.
    """
    helper = idlutils.get_schema_helper(connection_string, SCHEMA)
    for table, columns in COLUMNS.items():
        helper.register_columns(table, list(columns))
    idl = ovs_connection.OvsdbIdl(connection_string, helper)
    conn = ovs_connection.Connection(idl=idl, timeout=timeout)
    api_class = type("AgentOvsdbApi", (impl_idl.OvsdbIdl,), {"_ovsdb_connection": None})
    return api_class(conn, start=True, auto_index=False)


def disconnect(api):
    api.ovsdb_connection.stop()


def _optional(value):
    """An optional OVSDB column as the python IDL shows it ([] or [x], or x) -> x or None."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


@dataclasses.dataclass(frozen=True)
class BridgeRow:
    name: str
    datapath_type: str
    fail_mode: str
    protocols: tuple
    ports: tuple  # port names


@dataclasses.dataclass(frozen=True)
class PortRow:
    name: str
    bridge: str
    tag: int
    other_config: dict
    interfaces: tuple  # interface names


@dataclasses.dataclass(frozen=True)
class InterfaceRow:
    name: str
    type: str
    options: dict
    external_ids: dict
    ofport: int


@dataclasses.dataclass
class Snapshot:
    bridges: dict      # name -> BridgeRow
    ports: dict        # name -> PortRow
    interfaces: dict   # name -> InterfaceRow
    next_cfg: int = 0

    def interface_of(self, port_name):
        port = self.ports.get(port_name)
        if port is None or not port.interfaces:
            return None
        return self.interfaces.get(port.interfaces[0])

    def iface_ports(self, bridge):
        """[(port name, iface-id, InterfaceRow)] of ports on ``bridge`` carrying external_ids:iface-id."""
        found = []
        row = self.bridges.get(bridge)
        for name in (row.ports if row else ()):
            iface = self.interface_of(name)
            if iface is None:
                continue
            iface_id = iface.external_ids.get("iface-id")
            if iface_id:
                found.append((name, iface_id, iface))
        return sorted(found)

    def vlan_rows(self, bridge):
        """(other_config, tag) of every port on ``bridge``, for local VLAN recovery."""
        row = self.bridges.get(bridge)
        return [(self.ports[n].other_config, self.ports[n].tag)
                for n in (row.ports if row else ()) if n in self.ports]


class _SnapshotCommand(ovs_command.ReadOnlyCommand):
    def run_idl(self, txn):
        tables = self.api.tables
        interfaces = {}
        for row in tables["Interface"].rows.values():
            interfaces[row.name] = InterfaceRow(
                name=row.name, type=row.type or "", options=dict(row.options),
                external_ids=dict(row.external_ids), ofport=_optional(row.ofport))
        ports, bridges = {}, {}
        for br in tables["Bridge"].rows.values():
            names = []
            for port in br.ports:
                names.append(port.name)
                ports[port.name] = PortRow(
                    name=port.name, bridge=br.name, tag=_optional(port.tag),
                    other_config=dict(port.other_config),
                    interfaces=tuple(sorted(i.name for i in port.interfaces)))
            bridges[br.name] = BridgeRow(
                name=br.name, datapath_type=br.datapath_type or "",
                fail_mode=_optional(br.fail_mode) or "", protocols=tuple(sorted(br.protocols)),
                ports=tuple(sorted(names)))
        top = list(tables["Open_vSwitch"].rows.values())
        next_cfg = top[0].next_cfg if top else 0
        self.result = Snapshot(bridges=bridges, ports=ports, interfaces=interfaces, next_cfg=next_cfg)


def read_snapshot(api):
    return _SnapshotCommand(api).execute(check_error=True)


def supported_datapath_types(api):
    top = list(api.tables["Open_vSwitch"].rows.values())
    return set(top[0].datapath_types) if top else set()


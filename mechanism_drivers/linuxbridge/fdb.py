"""l2population: forwarding entries on vxlan-<vni> devices from the server's messages.

Payloads (fdb_add / fdb_remove)::

    {network_id: {"network_type": "vxlan", "segment_id": 1001,
                  "ports": {"192.0.2.2": [["00:00:00:00:00:00", "0.0.0.0"],
                                          ["fa:16:3e:11:22:33", "10.0.0.5"]]}}}

and fdb_update: ``{"chg_ip": {network_id: {agent_ip: {"before": [[mac, ip]],
"after": [[mac, ip]]}}}}``.

For each remote VTEP (the agent's own local_ip is skipped; only VXLAN
networks count):

* the flooding pair (MAC 00:00:00:00:00:00) -> ``bridge fdb append
  00:00:00:00:00:00 dev vxlan-<vni> dst <vtep>``: broadcast and unknown
  traffic is copied to every such VTEP;
* a port (mac, ip) -> ``bridge fdb replace <mac> dev vxlan-<vni> dst <vtep>``
  and, with arp_responder, ``ip neigh replace <ip> lladdr <mac> dev
  vxlan-<vni> nud permanent`` so the vxlan device answers ARP itself.

The plan_* functions are pure: they compare with a KernelState and plan
nothing that is already there. Entries for a network whose vxlan device does
not exist on this host are skipped; ``FdbTable`` remembers everything the
server sent so a device created later gets its entries on the next pass.
"""
import dataclasses
import ipaddress
import socket

from netweave.core import naming
from netweave.mechanism_drivers.linuxbridge import constants
from netweave.mechanism_drivers.linuxbridge import operations as ops

NUD_NOARP = 0x40
NUD_PERMANENT = 0x80
NTF_SELF = 0x02
AF_BRIDGE = 7


def _same_host(left, right):
    if not left or not right:
        return False
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return left == right


def _pairs(ports):
    for entry in ports or ():
        mac, ip = (list(entry) + [None, None])[:2]
        if mac:
            yield mac.lower(), ip


def _device(network_id, values, segments):
    """vxlan device name of a payload entry, or None when it is not a VXLAN network."""
    known = segments.get(network_id) or {}
    network_type = values.get("network_type") or known.get("network_type")
    vni = values.get("segment_id")
    if vni is None:
        vni = known.get("segment_id")
    if network_type != constants.TYPE_VXLAN or vni is None:
        return None
    return naming.vxlan_device(vni)


def _usable_ip(ip):
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return None if address.is_unspecified else str(address)


def entries(payload, local_ip, segments=None):
    """{(network_id, device): {"flood": {vtep}, "unicast": {(mac, vtep)}, "neigh": {(ip, mac)}}}.

    ``segments``: {network_id: {"network_type", "segment_id"}} the agent knows,
    used when a payload leaves them out.
    """
    segments = segments or {}
    result = {}
    for network_id, values in (payload or {}).items():
        device = _device(network_id, values or {}, segments)
        if device is None:
            continue
        wanted = result.setdefault((network_id, device), {"flood": set(), "unicast": set(), "neigh": set()})
        for vtep, ports in ((values or {}).get("ports") or {}).items():
            if _same_host(vtep, local_ip):
                continue
            for mac, ip in _pairs(ports):
                if mac == constants.FLOODING_MAC:
                    wanted["flood"].add(vtep)
                    continue
                wanted["unicast"].add((mac, vtep))
                ip = _usable_ip(ip)
                if ip:
                    wanted["neigh"].add((ip, mac))
    return result


def _present(state, device):
    link = state.link(device)
    return link is not None and link.kind == "vxlan"


def plan_add(payload, local_ip, arp_responder, state, segments=None):
    """Operations that program ``payload`` (an fdb_add) on this host."""
    planned = []
    for (network_id, device), wanted in sorted(entries(payload, local_ip, segments).items()):
        if not _present(state, device):
            continue
        existing = state.fdb.get(device, frozenset())
        neighbours = state.neighbours.get(device, {})
        for vtep in sorted(wanted["flood"]):
            if (constants.FLOODING_MAC, vtep) not in existing:
                planned.append(ops.Operation.make(ops.FDB_APPEND, device, network_id,
                                                  mac=constants.FLOODING_MAC, dst=vtep))
        for mac, vtep in sorted(wanted["unicast"]):
            if (mac, vtep) not in existing:
                planned.append(ops.Operation.make(ops.FDB_REPLACE, device, network_id, mac=mac, dst=vtep))
        if arp_responder:
            for ip, mac in sorted(wanted["neigh"]):
                if neighbours.get(ip) != mac:
                    planned.append(ops.Operation.make(ops.NEIGH_REPLACE, device, network_id, ip=ip, mac=mac))
    return tuple(planned)


def plan_remove(payload, local_ip, state, segments=None):
    """Operations that remove what ``payload`` (an fdb_remove) names and this host has."""
    planned = []
    for (network_id, device), wanted in sorted(entries(payload, local_ip, segments).items()):
        if not _present(state, device):
            continue
        existing = state.fdb.get(device, frozenset())
        neighbours = state.neighbours.get(device, {})
        for ip, mac in sorted(wanted["neigh"]):
            if neighbours.get(ip) == mac:
                planned.append(ops.Operation.make(ops.NEIGH_DELETE, device, network_id, ip=ip))
        for mac, vtep in sorted(wanted["unicast"]):
            if (mac, vtep) in existing:
                planned.append(ops.Operation.make(ops.FDB_DELETE, device, network_id, mac=mac, dst=vtep))
        for vtep in sorted(wanted["flood"]):
            if (constants.FLOODING_MAC, vtep) in existing:
                planned.append(ops.Operation.make(ops.FDB_DELETE, device, network_id,
                                                  mac=constants.FLOODING_MAC, dst=vtep))
    return tuple(planned)


def plan_update(payload, local_ip, arp_responder, state, segments=None):
    """Operations for an fdb_update ("chg_ip": a port's IP changed; only ARP entries change)."""
    if not arp_responder:
        return ()
    planned = []
    for network_id, agents in sorted(((payload or {}).get("chg_ip") or {}).items()):
        device = _device(network_id, {}, segments or {})
        if device is None or not _present(state, device):
            continue
        neighbours = state.neighbours.get(device, {})
        for vtep, change in sorted((agents or {}).items()):
            if _same_host(vtep, local_ip):
                continue
            for mac, ip in _pairs((change or {}).get("before")):
                ip = _usable_ip(ip)
                if ip and neighbours.get(ip) == mac:
                    planned.append(ops.Operation.make(ops.NEIGH_DELETE, device, network_id, ip=ip))
            for mac, ip in _pairs((change or {}).get("after")):
                ip = _usable_ip(ip)
                if ip and neighbours.get(ip) != mac:
                    planned.append(ops.Operation.make(ops.NEIGH_REPLACE, device, network_id, ip=ip, mac=mac))
    return tuple(planned)


def project(state, operations):
    """``state`` with the FDB and neighbour entries as they will be after ``operations`` (pure)."""
    fdb_entries = {name: set(values) for name, values in state.fdb.items()}
    neighbours = {name: dict(values) for name, values in state.neighbours.items()}
    for op in operations:
        mac, dst, ip = op.get("mac"), op.get("dst"), op.get("ip")
        if op.action == ops.FDB_APPEND:
            fdb_entries.setdefault(op.device, set()).add((mac, dst))
        elif op.action == ops.FDB_REPLACE:
            entries = fdb_entries.setdefault(op.device, set())
            entries.difference_update({entry for entry in entries if entry[0] == mac})
            entries.add((mac, dst))
        elif op.action == ops.FDB_DELETE:
            fdb_entries.get(op.device, set()).discard((mac, dst))
        elif op.action == ops.NEIGH_REPLACE:
            neighbours.setdefault(op.device, {})[ip] = mac
        elif op.action == ops.NEIGH_DELETE:
            neighbours.get(op.device, {}).pop(ip, None)
    return dataclasses.replace(state, fdb={name: frozenset(values) for name, values in fdb_entries.items()},
                               neighbours=neighbours)


class FdbTable:
    """Everything the server asked to program, per network, as an fdb_add payload would hold it."""

    def __init__(self):
        self._networks = {}

    def _entry(self, network_id, values):
        entry = self._networks.setdefault(network_id, {"network_type": None, "segment_id": None, "ports": {}})
        if values.get("network_type"):
            entry["network_type"] = values["network_type"]
        if values.get("segment_id") is not None:
            entry["segment_id"] = values["segment_id"]
        return entry

    def add(self, payload):
        for network_id, values in (payload or {}).items():
            entry = self._entry(network_id, values or {})
            for vtep, ports in ((values or {}).get("ports") or {}).items():
                entry["ports"].setdefault(vtep, set()).update(_pairs(ports))

    def remove(self, payload):
        for network_id, values in (payload or {}).items():
            entry = self._networks.get(network_id)
            if entry is None:
                continue
            for vtep, ports in ((values or {}).get("ports") or {}).items():
                known = entry["ports"].get(vtep)
                if known is None:
                    continue
                known.difference_update(_pairs(ports))
                if not known:
                    del entry["ports"][vtep]

    def update(self, payload):
        for network_id, agents in ((payload or {}).get("chg_ip") or {}).items():
            entry = self._networks.get(network_id)
            if entry is None:
                continue
            for vtep, change in (agents or {}).items():
                known = entry["ports"].setdefault(vtep, set())
                known.difference_update(_pairs((change or {}).get("before")))
                known.update(_pairs((change or {}).get("after")))

    def drop_network(self, network_id):
        self._networks.pop(network_id, None)

    def payload(self):
        """The whole table as one fdb_add payload (for re-programming recreated devices)."""
        return {network_id: {"network_type": entry["network_type"], "segment_id": entry["segment_id"],
                             "ports": {vtep: sorted(ports, key=lambda pair: (pair[0], pair[1] or ""))
                                       for vtep, ports in entry["ports"].items()}}
                for network_id, entry in self._networks.items()}

    def __len__(self):
        return sum(len(ports) for entry in self._networks.values() for ports in entry["ports"].values())


def _family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def execute(ipr, ifindex, op):
    """Run one FDB/neighbour operation on the device with ``ifindex``."""
    if op.action == ops.FDB_APPEND:
        ipr.fdb("append", ifindex=ifindex, lladdr=op.get("mac"), dst=op.get("dst"))
    elif op.action == ops.FDB_REPLACE:
        ipr.neigh("replace", family=AF_BRIDGE, ifindex=ifindex, lladdr=op.get("mac"), dst=op.get("dst"),
                  state=NUD_PERMANENT | NUD_NOARP, flags=NTF_SELF)
    elif op.action == ops.FDB_DELETE:
        ipr.fdb("del", ifindex=ifindex, lladdr=op.get("mac"), dst=op.get("dst"))
    elif op.action == ops.NEIGH_REPLACE:
        ipr.neigh("replace", family=_family(op.get("ip")), ifindex=ifindex, dst=op.get("ip"),
                  lladdr=op.get("mac"), state=NUD_PERMANENT)
    elif op.action == ops.NEIGH_DELETE:
        ipr.neigh("del", family=_family(op.get("ip")), ifindex=ifindex, dst=op.get("ip"))
    else:
        raise ValueError("not an FDB operation: %s" % op.action)

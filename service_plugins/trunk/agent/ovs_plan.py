"""What a trunk needs on an Open vSwitch host, and the changes that get it there (no I/O).

Upstream's design (book chapter 14, B.8): the instance of a trunk's parent port is
plugged into the trunk bridge ``tbr-<trunk>``, not br-int. That bridge is joined to
br-int by patch pairs:

  tpt-<parent> (tbr-, no tag)  <->  tpi-<parent> (br-int, the parent port)
      untagged frames: the parent's own traffic, wired by the L2 agent on br-int
      like any port of the parent's network.
  spt-<subport> (tbr-, tag=<segmentation_id>)  <->  spi-<subport> (br-int, the subport)
      frames the guest tagged with the segmentation id leave tbr- untagged through
      spt-, enter br-int as the subport's port, and get the subport network's local
      VLAN there like any port.

The br-int ends carry external_ids ``iface-id`` (the port id), ``attached-mac`` and
``iface-status=active``: that is how the L2 agent finds them as the ports' devices.
Ports of the trunk prefixes the trunk does not want are removed; other ports are left.
"""
import dataclasses

from netweave.core import naming

TRUNK_PORT_PREFIXES = (naming.TRUNK_PARENT_INT_PREFIX, naming.TRUNK_PARENT_TRUNK_PREFIX,
                       naming.SUBPORT_INT_PREFIX, naming.SUBPORT_TRUNK_PREFIX)


@dataclasses.dataclass(frozen=True)
class PatchPort:
    """One end of a patch pair as the trunk wants it."""

    bridge: str
    name: str
    peer: str
    tag: int | None = None
    external_ids: tuple = ()   # sorted (key, value) pairs


@dataclasses.dataclass(frozen=True)
class AddPatchPort:
    port: PatchPort


@dataclasses.dataclass(frozen=True)
class DelPort:
    bridge: str
    name: str


def _ids(port_id, mac):
    return tuple(sorted({"iface-id": port_id, "attached-mac": mac, "iface-status": "active"}.items()))


def desired_ports(trunk, parent_mac, subport_macs, integration_bridge):
    """{(bridge, name): PatchPort} of one trunk.

    ``trunk`` is the API dict (id, port_id, sub_ports); ``subport_macs`` maps each
    subport's id to its MAC (the server's trunk_details carry them).
    """
    tbr = naming.trunk_bridge(trunk["id"])
    parent = trunk["port_id"]
    tpi, tpt = naming.trunk_parent_int_port(parent), naming.trunk_parent_trunk_port(parent)
    ports = [PatchPort(integration_bridge, tpi, tpt, None, _ids(parent, parent_mac)),
             PatchPort(tbr, tpt, tpi)]
    for sub in trunk["sub_ports"]:
        spi, spt = naming.subport_int_port(sub["port_id"]), naming.subport_trunk_port(sub["port_id"])
        ports.append(PatchPort(integration_bridge, spi, spt, None, _ids(sub["port_id"], subport_macs[sub["port_id"]])))
        ports.append(PatchPort(tbr, spt, spi, int(sub["segmentation_id"])))
    return {(p.bridge, p.name): p for p in ports}


def is_trunk_port(name):
    return name.startswith(TRUNK_PORT_PREFIXES)


# The br-int ends' VLAN tags are the L2 agent's (the networks' local VLANs), not the trunk's.
_AGENT_TAGGED = (naming.TRUNK_PARENT_INT_PREFIX, naming.SUBPORT_INT_PREFIX)


def _same(wanted, found):
    if wanted is None or found is None:
        return wanted is found
    if wanted.name.startswith(_AGENT_TAGGED):
        found = dataclasses.replace(found, tag=wanted.tag)
    return wanted == found


def plan(desired, current, bridges):
    """The operations that turn ``current`` into ``desired`` on ``bridges``.

    ``current`` is {(bridge, name): PatchPort} of the trunk-prefixed ports found on
    those bridges. A port that differs (but for the agent's tag on a br-int end) is
    deleted and added again (one
    OVSDB transaction applies the lot, so no frame sees it missing). Deletes come
    first, then adds in a stable order.
    """
    deletes, adds = [], []
    for key, port in sorted(current.items()):
        if key[0] in bridges and is_trunk_port(key[1]) and not _same(desired.get(key), port):
            deletes.append(DelPort(*key))
    for key, port in sorted(desired.items()):
        if not _same(port, current.get(key)):
            adds.append(AddPatchPort(port))
    return deletes + adds


@dataclasses.dataclass(frozen=True)
class Vnic:
    """The instance's port on a trunk bridge: its name, the parent port id and MAC."""

    name: str
    port_id: str
    mac: str


def keep_unknown(desired, current, unknown_bridges):
    """``desired`` plus the current ports of trunk bridges the server could not tell
    about this pass (and their br-int peers), so a failed lookup removes nothing."""
    kept = dict(desired)
    unknown = {key: port for key, port in current.items() if key[0] in unknown_bridges}
    peers = {port.peer for port in unknown.values()}
    for key, port in current.items():
        if key in unknown or key[1] in peers:
            kept.setdefault(key, port)
    return kept

"""What this kernel can do, found out once at start-up.

Each probe creates the device it asks about in a throwaway network namespace
(so nothing on the host changes and a module the kernel can load on demand is
found too): a VXLAN device, a VLAN device on a veth, and two
``bridge fdb append`` entries on the VXLAN device. Without the right to create
namespaces, /sys/module is consulted instead.
"""
import dataclasses
import errno
import logging
import os
import uuid

LOG = logging.getLogger(__name__)

VLAN_UNSUPPORTED = "VLAN networks need the 8021q kernel module, which this kernel does not have"
VXLAN_UNSUPPORTED = "VXLAN networks need the vxlan kernel module, which this kernel does not have"
FDB_APPEND_UNSUPPORTED = ("l2_population needs 'bridge fdb append' on vxlan devices, which this "
                          "kernel does not support")

_PROBE_NS_PREFIX = "nwlbcap-"


class VlanUnsupported(RuntimeError):
    def __init__(self, message=VLAN_UNSUPPORTED):
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Capabilities:
    vxlan: bool = True
    vlan: bool = True
    fdb_append: bool = True
    notes: tuple = ()       # how each answer was found, for the log

    def describe(self):
        return "vxlan=%s vlan=%s fdb_append=%s" % (self.vxlan, self.vlan, self.fdb_append)


ALL = Capabilities()


def _unsupported(error):
    code = getattr(error, "code", None) or getattr(error, "errno", None)
    return code in (errno.EOPNOTSUPP, errno.EPROTONOSUPPORT, errno.EAFNOSUPPORT, errno.ENODEV)


def _probe(ipr):
    """Run the probes with ``ipr`` (an IPRoute inside an empty namespace)."""
    notes = []
    ipr.link("add", ifname="probe0", kind="veth", peer="probe1")
    base = ipr.link_lookup(ifname="probe0")[0]
    ipr.addr("add", index=base, address="198.51.100.1", prefixlen=24)

    vlan = True
    try:
        ipr.link("add", ifname="probe0.7", kind="vlan", link=base, vlan_id=7)
    except Exception as error:  # noqa: BLE001 - any refusal means no VLAN support
        if not _unsupported(error):
            LOG.debug("VLAN probe failed: %s", error)
        vlan = False
        notes.append("vlan: %s" % error)

    vxlan = True
    fdb_append = False
    try:
        ipr.link("add", ifname="probevx", kind="vxlan", vxlan_id=7, vxlan_local="198.51.100.1",
                 vxlan_link=base, vxlan_port=4789, vxlan_learning=0)
    except Exception as error:  # noqa: BLE001
        vxlan = False
        notes.append("vxlan: %s" % error)
    if vxlan:
        index = ipr.link_lookup(ifname="probevx")[0]
        try:
            for dst in ("198.51.100.2", "198.51.100.3"):
                ipr.fdb("append", ifindex=index, lladdr="00:00:00:00:00:00", dst=dst)
            dsts = {msg.get_attr("NDA_DST") for msg in ipr.fdb("dump")
                    if msg["ifindex"] == index and msg.get_attr("NDA_DST")}
            fdb_append = {"198.51.100.2", "198.51.100.3"} <= dsts
            if not fdb_append:
                notes.append("fdb append: second entry did not stick")
        except Exception as error:  # noqa: BLE001
            notes.append("fdb append: %s" % error)
    return Capabilities(vxlan=vxlan, vlan=vlan, fdb_append=fdb_append, notes=tuple(notes))


def _from_sysfs():
    has = {name: os.path.isdir("/sys/module/%s" % name) for name in ("8021q", "vxlan")}
    return Capabilities(vxlan=has["vxlan"], vlan=has["8021q"], fdb_append=has["vxlan"],
                        notes=("from /sys/module (no namespace for probing)",))


def detect():
    """Capabilities of the running kernel."""
    try:
        from pyroute2 import IPRoute, netns
    except ImportError:     # pragma: no cover - pyroute2 is a dependency
        return _from_sysfs()
    name = _PROBE_NS_PREFIX + uuid.uuid4().hex[:12]
    try:
        netns.create(name)
    except OSError as error:
        LOG.warning("Cannot create a namespace to probe the kernel (%s); reading /sys/module", error)
        return _from_sysfs()
    try:
        with IPRoute(netns=name, flags=0) as ipr:
            result = _probe(ipr)
    finally:
        try:
            netns.remove(name)
        except OSError as error:
            LOG.warning("Could not remove probe namespace %s: %s", name, error)
    LOG.info("Kernel capabilities: %s", result.describe())
    return result

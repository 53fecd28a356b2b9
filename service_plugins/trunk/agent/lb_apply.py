"""Carry out lb_plan's operations in the Linux bridge agent's namespace (pyroute2, sysctl).

``requests(ops)`` turns the operations into requests (pure, for the tests): netlink
link requests naming their devices, resolved to interface indexes only when they run
(a VLAN device made by one request is enslaved by a later one), and sysctl writes
(IPv6 off on each sub-interface, as upstream's plumber). ``run(requests, ipr, sysctl)``
sends them in order on one IPRoute socket; a kernel without 8021q answers EOPNOTSUPP
to the first VLAN device, raised as capabilities.VlanUnsupported.
"""
import dataclasses
import errno

from netweave.core.agent import commands
from netweave.mechanism_drivers.linuxbridge import capabilities
from netweave.service_plugins.trunk.agent import lb_plan


@dataclasses.dataclass(frozen=True)
class LinkRequest:
    command: str           # "add", "set" or "del" (pyroute2's IPRoute.link)
    ifname: str
    fields: tuple = ()     # sorted (name, value) pairs sent as they are
    devices: tuple = ()    # (field, device name) pairs sent as that device's index


@dataclasses.dataclass(frozen=True)
class SysctlRequest:
    key: str
    value: str


def requests(ops):
    result = []
    for op in ops:
        if isinstance(op, lb_plan.CreateVlan):
            result.append(LinkRequest("add", op.name, (("kind", "vlan"), ("vlan_id", op.vlan_id)),
                                      (("link", op.parent),)))
        elif isinstance(op, lb_plan.DeleteDevice):
            result.append(LinkRequest("del", op.name))
        elif isinstance(op, lb_plan.DisableIpv6):
            result.append(SysctlRequest("net.ipv6.conf.%s.disable_ipv6" % op.name, "1"))
        elif isinstance(op, lb_plan.Enslave):
            result.append(LinkRequest("set", op.name, (), (("master", op.bridge),)))
        elif isinstance(op, lb_plan.SetUp):
            result.append(LinkRequest("set", op.name, (("state", "up"),)))
        else:
            raise TypeError("unknown operation %r" % (op,))
    return result


def _index(ipr, name):
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise LookupError("device %s does not exist" % name)
    return found[0]


def _error_code(error):
    code = getattr(error, "code", None)
    return code if code is not None else getattr(error, "errno", None)


def run(reqs, ipr, sysctl):
    """Send ``reqs`` in order; ``sysctl(key, value)`` writes a sysctl where the devices are."""
    for req in reqs:
        if isinstance(req, SysctlRequest):
            sysctl(req.key, req.value)
            continue
        fields = dict(req.fields)
        fields.update({field: _index(ipr, device) for field, device in req.devices})
        if req.command == "add":
            try:
                ipr.link("add", ifname=req.ifname, **fields)
            except Exception as error:
                if fields.get("kind") == "vlan" and _error_code(error) == errno.EOPNOTSUPP:
                    raise capabilities.VlanUnsupported() from error
                raise
        else:
            ipr.link(req.command, index=_index(ipr, req.ifname), **fields)


def sysctl_in(namespace):
    """A sysctl writer for ``run`` in that network namespace (None: the process's own)."""
    def write(key, value):
        commands.run(["sysctl", "-w", "%s=%s" % (key, value)], namespace=namespace)
    return write


def read_children(parent, namespace=None):
    """{name: lb_plan.VlanChild} of the VLAN devices on ``parent`` (``ip -d link list``)."""
    out = commands.run(["ip", "-d", "link", "list"], namespace=namespace).stdout
    return lb_plan.parse_vlan_children(out, parent)

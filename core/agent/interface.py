"""Interface drivers: plug a network-side port (DHCP, later router) into a namespace.

Each driver makes the device and hands the L2 agent what it needs to wire it:

* ``BridgeInterfaceDriver`` (linuxbridge): a veth pair, tap<port[:11]> left in
  the host namespace (the Linux bridge agent finds it and joins it to
  brq<net[:11]>) and ns-<port[:11]> inside the target namespace.
* ``OVSInterfaceDriver`` (openvswitch): an internal port tap<port[:11]> on the
  integration bridge moved into the target namespace, or with ``ovs_use_veth``
  a veth pair whose host side joins the bridge; the external_ids (iface-id,
  attached-mac, iface-status) are what Nova sets, so the OVS agent wires it.

Kernel changes are planned as ``ip -batch`` lines by pure functions
(``plug_lines``, ``address_lines``) and applied one batch per namespace. A
device's state is read over a netlink socket the calling thread opens inside
the namespace (core.agent.netns), and a namespace's existence from /run/netns:
no ``ip`` process for either.
``host_namespace`` names the namespace standing for "the host" (the agents'
``--netns``); None is the process's own. ``device_namer`` (port id -> name)
names the device inside the namespace for callers whose devices are not the
DHCP agent's (the L3 agent's qr-/qg-); the host side is always tap<port[:11]>.
"""
import ipaddress
import json
import logging
import os

from netweave.core import naming
from netweave.core.agent import commands, netns, rtnetlink

LOG = logging.getLogger(__name__)

# What a failed ip or ovs-vsctl command raises.
InterfaceError = commands.CommandError


def ip_command(namespace, *args):
    return ["ip"] + (["-n", namespace] if namespace else []) + list(args)


def run_ip(namespace, *args, check=True):
    return commands.run(ip_command(namespace, *args), timeout=30, check=check)


def run_batch(namespace, lines):
    """Apply ``ip`` command lines in one process; stops at the first failing line
    (the error's stdin is not kept: the log shows the lines ip complained about)."""
    if not lines:
        return
    commands.run(ip_command(namespace, "-batch", "-"), stdin="".join(line + "\n" for line in lines), timeout=60)


# --- namespaces -------------------------------------------------------------------------------

def namespace_exists(namespace):
    """Whether ``ip netns`` has ``namespace`` (what ``ip netns list`` lists: /run/netns)."""
    return os.path.exists(netns.path_of(namespace))


def ensure_namespace(namespace):
    if not namespace_exists(namespace):
        result = commands.run(["ip", "netns", "add", namespace], timeout=30, check=False)
        # Another thread (or a previous run) may have made it meanwhile.
        if not result.ok and "File exists" not in result.stderr:
            raise commands.error_of(result)
    run_ip(namespace, "link", "set", "lo", "up")


def delete_namespace(namespace):
    commands.run(["ip", "netns", "delete", namespace], timeout=30, check=False)


# --- device state ------------------------------------------------------------------------------

IFF_UP = 0x1


def link_info(namespace, device):
    """{"address", "mtu", "up"} of ``device`` in ``namespace`` (None: the process's own), or
    None when either is absent."""
    try:
        with netns.entered(namespace):
            reader = rtnetlink.Reader()
    except FileNotFoundError:
        return None
    try:
        link = reader.link(device)
    finally:
        reader.close()
    if link is None:
        return None
    return {"address": link.get_attr("IFLA_ADDRESS", "").lower(), "mtu": link.get_attr("IFLA_MTU"),
            "up": bool(link["flags"] & IFF_UP)}


def device_addresses(namespace, device):
    """["ip/prefixlen"] on ``device``. IPv6 link-local addresses are the kernel's and left
    out, but for those added with "nodad", which only address_lines adds."""
    result = run_ip(namespace, "-j", "addr", "show", "dev", device, check=False)
    if result.returncode or not result.stdout.strip():
        return []
    found = []
    for entry in json.loads(result.stdout):
        for info in entry.get("addr_info") or ():
            if info.get("family") == "inet6" and info.get("scope") == "link" and not info.get("nodad"):
                continue
            found.append("%s/%s" % (info["local"], info["prefixlen"]))
    return found


def _canonical(cidr):
    interface = ipaddress.ip_interface(cidr)
    return "%s/%d" % (interface.ip, interface.network.prefixlen)


def address_lines(device, current, wanted):
    """ip -batch lines turning the addresses ``current`` into ``wanted`` (pure)."""
    current = {_canonical(c) for c in current}
    wanted_list = [_canonical(w) for w in wanted]
    lines = ["addr del %s dev %s" % (c, device) for c in sorted(current - set(wanted_list))]
    lines += ["addr add %s dev %s%s" % (w, device, _NODAD if _link_local(w) else "")
              for w in wanted_list if w not in current]
    return lines


# A link-local address we add may stand on several hosts' devices of one network
# (fe80::a9fe:a9fe on each DHCP port): duplicate address detection would disable it.
_NODAD = " nodad"


def _link_local(cidr):
    address = ipaddress.ip_interface(cidr).ip
    return address.version == 6 and address.is_link_local


def device_fix_lines(device, info, mac, mtu):
    """Lines bringing an existing device to ``mac``/``mtu`` and up (pure)."""
    lines = []
    if mac and info["address"] != mac.lower():
        lines.append("link set dev %s address %s" % (device, mac.lower()))
    if mtu and info["mtu"] != mtu:
        lines.append("link set dev %s mtu %d" % (device, mtu))
    if not info["up"]:
        lines.append("link set dev %s up" % device)
    return lines


def set_addresses(namespace, device, cidrs):
    """Give ``device`` exactly ``cidrs`` (apart from its link-local address)."""
    run_batch(namespace, address_lines(device, device_addresses(namespace, device), cidrs))


# --- drivers --------------------------------------------------------------------------------------

class BridgeInterfaceDriver:
    """veth tap<port> (host) / ns-<port> (namespace); the Linux bridge agent bridges the tap."""

    def __init__(self, host_namespace=None, device_namer=None, **_options):
        self.host_namespace = host_namespace
        self.device_namer = device_namer or naming.dhcp_device

    def device_name(self, port_id):
        return self.device_namer(port_id)

    @staticmethod
    def host_device_name(port_id):
        return naming.tap_device(port_id)

    def plug(self, network_id, port_id, mac, namespace, mtu=None):
        """Make (or repair) the pair; returns the device name inside ``namespace``."""
        device, tap = self.device_name(port_id), self.host_device_name(port_id)
        inside = link_info(namespace, device)
        outside = link_info(self.host_namespace, tap)
        if inside is not None and outside is not None:
            run_batch(namespace, device_fix_lines(device, inside, mac, mtu))
            run_batch(self.host_namespace, device_fix_lines(tap, outside, None, mtu))
            return device
        # Half a pair is useless: start again from nothing.
        if inside is not None:
            run_ip(namespace, "link", "del", "dev", device, check=False)
        if outside is not None:
            run_ip(self.host_namespace, "link", "del", "dev", tap, check=False)
        mtu_args = " mtu %d" % mtu if mtu else ""
        run_batch(self.host_namespace, [
            "link add %s%s type veth peer name %s netns %s%s" % (tap, mtu_args, device, namespace, mtu_args),
            "link set dev %s up" % tap,
        ])
        run_batch(namespace, ["link set dev %s address %s" % (device, mac.lower()),
                              "link set dev %s up" % device])
        LOG.info("Plugged %s (%s) into %s for network %s", device, tap, namespace, network_id)
        return device

    def unplug(self, port_id, namespace):
        run_ip(namespace, "link", "del", "dev", self.device_name(port_id), check=False)
        run_ip(self.host_namespace, "link", "del", "dev", self.host_device_name(port_id), check=False)


class OVSInterfaceDriver:
    """An internal port (or a veth with ``ovs_use_veth``) on the integration bridge."""

    def __init__(self, host_namespace=None, integration_bridge="br-int", use_veth=False, vsctl=("ovs-vsctl",),
                 device_namer=None, **_options):
        self.host_namespace = host_namespace
        self.integration_bridge = integration_bridge
        self.use_veth = use_veth
        self.vsctl = list(vsctl)
        self.device_namer = device_namer

    def device_name(self, port_id):
        if self.device_namer is not None:
            return self.device_namer(port_id)
        return naming.dhcp_device(port_id) if self.use_veth else naming.tap_device(port_id)

    @staticmethod
    def host_device_name(port_id):
        return naming.tap_device(port_id)

    def _vsctl(self, *args):
        return commands.run(self.vsctl + ["--timeout=10"] + list(args), timeout=30).stdout

    def _add_port_args(self, port_name, port_id, mac, internal):
        args = ["--", "--may-exist", "add-port", self.integration_bridge, port_name,
                "--", "set", "Interface", port_name]
        if internal:
            args.append("type=internal")
        args += ["external_ids:iface-id=%s" % port_id, "external_ids:attached-mac=%s" % mac.lower(),
                 "external_ids:iface-status=active"]
        return args

    def plug(self, network_id, port_id, mac, namespace, mtu=None):
        device = self.device_name(port_id)
        inside = link_info(namespace, device)
        if inside is not None:
            run_batch(namespace, device_fix_lines(device, inside, mac, mtu))
            return device
        if self.use_veth:
            tap = self.host_device_name(port_id)
            run_ip(self.host_namespace, "link", "del", "dev", tap, check=False)
            mtu_args = " mtu %d" % mtu if mtu else ""
            run_batch(self.host_namespace, [
                "link add %s%s type veth peer name %s netns %s%s" % (tap, mtu_args, device, namespace, mtu_args),
                "link set dev %s up" % tap])
            self._vsctl(*self._add_port_args(tap, port_id, mac, internal=False))
        else:
            self._vsctl(*self._add_port_args(device, port_id, mac, internal=True))
            run_ip(self.host_namespace, "link", "set", "dev", device, "netns", namespace)
        lines = ["link set dev %s address %s" % (device, mac.lower())]
        if mtu:
            lines.append("link set dev %s mtu %d" % (device, mtu))
        lines.append("link set dev %s up" % device)
        run_batch(namespace, lines)
        LOG.info("Plugged %s into %s on %s for network %s", device, namespace, self.integration_bridge, network_id)
        return device

    def unplug(self, port_id, namespace):
        device = self.device_name(port_id)
        port_name = self.host_device_name(port_id) if self.use_veth else device
        try:
            self._vsctl("--", "--if-exists", "del-port", self.integration_bridge, port_name)
        except InterfaceError:
            LOG.warning("Could not remove %s from %s", port_name, self.integration_bridge)
        run_ip(namespace, "link", "del", "dev", device, check=False)
        if self.use_veth:
            run_ip(self.host_namespace, "link", "del", "dev", port_name, check=False)


# Neutron's class paths, as dhcp_agent.ini files written for it name them.
NEUTRON_ALIASES = {
    "neutron.agent.linux.interface.BridgeInterfaceDriver": "linuxbridge",
    "neutron.agent.linux.interface.OVSInterfaceDriver": "openvswitch",
}


def load_driver(name, **options):
    """The interface driver named by ``interface_driver``: an entry point name or a class path."""
    if not name:
        raise ValueError("interface_driver is not set (linuxbridge or openvswitch)")
    name = NEUTRON_ALIASES.get(name, name)
    from stevedore import driver as stevedore_driver
    try:
        manager = stevedore_driver.DriverManager("netweave.interface_drivers", name, invoke_on_load=False)
        cls = manager.driver
    except Exception:  # noqa: BLE001 - not an entry point: try it as a class path
        module_name, _, class_name = name.rpartition(".")
        if not module_name:
            raise ValueError("interface_driver %r is neither linuxbridge, openvswitch nor a class path" % name)
        import importlib
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ValueError("interface_driver %r cannot be loaded: %s" % (name, error)) from error
    return cls(**options)

"""Plugging qr-/qg- devices with the interface drivers of core/agent/interface.py.

Those drivers (Linux bridge veth pairs, Open vSwitch internal ports or veths)
name the in-namespace device after the DHCP port (``ns-``/``tap``) unless given
a ``device_namer``; a router's devices are ``qr-<port[:11]>`` and
``qg-<port[:11]>``. ``RouterPlugging`` keeps one driver per device kind, each
the configured driver with that kind's namer; everything else (host-side tap,
br-int external_ids, MTU, MAC) is the driver's. The host side keeps the drivers'
names: ``tap<port[:11]>`` (joined to brq<net[:11]> by the Linux bridge agent,
or the OVS port of a veth).

Device names hold only 11 characters of the port id, and the drivers build
every name from those, so a device found in a namespace can be unplugged from
its name alone (``unplug_device``).
"""
from netweave.core import naming
from netweave.core.agent import interface
from netweave.service_plugins.router.agent import namespace_plan

NAMERS = {
    namespace_plan.INTERNAL: naming.router_interface_device,
    namespace_plan.GATEWAY: naming.router_gateway_device,
}
KIND_OF_PREFIX = {
    naming.ROUTER_INTERFACE_PREFIX: namespace_plan.INTERNAL,
    naming.ROUTER_GATEWAY_PREFIX: namespace_plan.GATEWAY,
}


class RouterPlugging:
    """Plugs and unplugs a router's devices; ``make_driver(device_namer)`` returns an
    interface driver naming its in-namespace devices with ``device_namer``."""

    def __init__(self, make_driver):
        self.drivers = {kind: make_driver(namer) for kind, namer in NAMERS.items()}

    @classmethod
    def from_config(cls, interface_driver, **options):
        """From l3_agent.ini's ``interface_driver`` (linuxbridge, openvswitch or a class path)."""
        return cls(lambda namer: interface.load_driver(interface_driver, device_namer=namer, **options))

    @classmethod
    def of_class(cls, driver_class, **options):
        """With drivers of ``driver_class`` (e.g. interface.BridgeInterfaceDriver) built with ``options``."""
        return cls(lambda namer: driver_class(device_namer=namer, **options))

    def plug(self, device, namespace):
        """Plug a namespace_plan.DeviceSpec into ``namespace``; returns the device name."""
        return self.drivers[device.kind].plug(device.network_id, device.port_id, device.mac_address, namespace,
                                              mtu=device.mtu)

    def unplug_device(self, name, namespace):
        """Remove ``name`` (qr-/qg-...) from ``namespace`` and its host side."""
        kind = KIND_OF_PREFIX[name[:3]]
        self.drivers[kind].unplug(name[3:], namespace)

    def host_device(self, port_id):
        """The host-side device of a port (tap<port[:11]>), as the L2 agent sees it."""
        return self.drivers[namespace_plan.INTERNAL].host_device_name(port_id)

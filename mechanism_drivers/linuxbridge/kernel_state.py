"""What the kernel has now: links, addresses and the vxlan devices' FDB and neighbour entries.

``read(reader)`` takes one snapshot over one raw rtnetlink socket
(core.agent.rtnetlink.Reader: a dump each of links, addresses and, with vxlan
devices, the bridge FDB and the IPv4 and IPv6 neighbours, decoded only as far
as compared here) and returns a plain value the pure planners compare against.
Unit tests build the same values by hand with ``KernelState.of``.
"""
import dataclasses
import socket

IFF_UP = 0x1
NUD_PERMANENT = 0x80
RT_SCOPE_UNIVERSE = 0


@dataclasses.dataclass(frozen=True)
class VxlanInfo:
    vni: int
    local: str = None
    dev: str = None                 # name of the underlay device (IFLA_VXLAN_LINK)
    port: int = None
    ttl: int = None
    tos: int = None
    learning: bool = True
    proxy: bool = False
    group: str = None
    srcport_min: int = 0
    srcport_max: int = 0


@dataclasses.dataclass(frozen=True)
class Link:
    name: str
    kind: str = None                # "bridge", "vxlan", "vlan", "veth", "tun", None for a NIC
    index: int = 0
    master: str = None              # name of the bridge it is enslaved to
    mtu: int = 1500
    up: bool = False
    stp_state: int = None           # bridges
    forward_delay: int = None       # bridges, in 1/100 s as the kernel reports it
    vxlan: VxlanInfo = None         # vxlan devices
    vlan_id: int = None             # vlan devices
    parent: str = None              # vlan devices: the device under it


@dataclasses.dataclass(frozen=True)
class Address:
    address: str
    prefixlen: int
    family: int = socket.AF_INET
    scope: int = RT_SCOPE_UNIVERSE


@dataclasses.dataclass(frozen=True)
class KernelState:
    links: dict = dataclasses.field(default_factory=dict)        # name -> Link
    addresses: dict = dataclasses.field(default_factory=dict)    # name -> (Address, ...)
    fdb: dict = dataclasses.field(default_factory=dict)          # vxlan name -> frozenset((mac, dst))
    neighbours: dict = dataclasses.field(default_factory=dict)   # vxlan name -> {ip: mac}

    @classmethod
    def of(cls, links=(), addresses=None, fdb=None, neighbours=None):
        return cls(links={link.name: link for link in links},
                   addresses={name: tuple(values) for name, values in (addresses or {}).items()},
                   fdb={name: frozenset((mac.lower(), dst) for mac, dst in values)
                        for name, values in (fdb or {}).items()},
                   neighbours={name: {ip: mac.lower() for ip, mac in values.items()}
                               for name, values in (neighbours or {}).items()})

    def link(self, name):
        return self.links.get(name)

    def taps(self):
        return sorted(name for name in self.links if name.startswith("tap"))

    def members(self, bridge):
        return sorted(link.name for link in self.links.values() if link.master == bridge)

    def device_with_address(self, ip):
        """Name of the device that holds ``ip``, or None."""
        for name, addresses in self.addresses.items():
            if any(entry.address == ip for entry in addresses):
                return name
        return None

    def global_addresses(self, name):
        return tuple(entry for entry in self.addresses.get(name, ()) if entry.scope == RT_SCOPE_UNIVERSE)


def _info_data(msg):
    linkinfo = msg.get_attr("IFLA_LINKINFO")
    if not linkinfo:
        return None, None
    return linkinfo.get_attr("IFLA_INFO_KIND"), linkinfo.get_attr("IFLA_INFO_DATA")


def _vxlan_info(data, names):
    if data is None:
        return VxlanInfo(vni=0)
    # core.agent.rtnetlink decodes the range as {"low": n, "high": n} (both 0 when the
    # kernel picks source ports itself); None only when the attribute is absent from the dump.
    port_range = data.get_attr("IFLA_VXLAN_PORT_RANGE")
    srcport_min, srcport_max = (0, 0) if port_range is None else (port_range["low"], port_range["high"])
    link = data.get_attr("IFLA_VXLAN_LINK")
    return VxlanInfo(
        vni=data.get_attr("IFLA_VXLAN_ID"),
        local=data.get_attr("IFLA_VXLAN_LOCAL") or data.get_attr("IFLA_VXLAN_LOCAL6"),
        dev=names.get(link) if link else None,
        port=data.get_attr("IFLA_VXLAN_PORT"),
        ttl=data.get_attr("IFLA_VXLAN_TTL"),
        tos=data.get_attr("IFLA_VXLAN_TOS"),
        learning=bool(data.get_attr("IFLA_VXLAN_LEARNING")),
        proxy=bool(data.get_attr("IFLA_VXLAN_PROXY")),
        group=data.get_attr("IFLA_VXLAN_GROUP") or data.get_attr("IFLA_VXLAN_GROUP6"),
        srcport_min=srcport_min,
        srcport_max=srcport_max,
    )


def _links(messages):
    names = {msg["index"]: msg.get_attr("IFLA_IFNAME") for msg in messages}
    links = {}
    for msg in messages:
        name = names[msg["index"]]
        kind, data = _info_data(msg)
        fields = {}
        if kind == "bridge" and data is not None:
            fields["stp_state"] = data.get_attr("IFLA_BR_STP_STATE")
            fields["forward_delay"] = data.get_attr("IFLA_BR_FORWARD_DELAY")
        elif kind == "vxlan":
            fields["vxlan"] = _vxlan_info(data, names)
        elif kind == "vlan":
            fields["vlan_id"] = data.get_attr("IFLA_VLAN_ID") if data is not None else None
            fields["parent"] = names.get(msg.get_attr("IFLA_LINK"))
        master = msg.get_attr("IFLA_MASTER")
        links[name] = Link(name=name, kind=kind, index=msg["index"],
                           master=names.get(master) if master else None,
                           mtu=msg.get_attr("IFLA_MTU"), up=bool(msg["flags"] & IFF_UP), **fields)
    return links, names


def _addresses(messages, names):
    result = {}
    for msg in messages:
        name = names.get(msg["index"])
        if name is None:
            continue
        address = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
        result.setdefault(name, []).append(Address(address, msg["prefixlen"], msg["family"], msg["scope"]))
    return {name: tuple(values) for name, values in result.items()}


def _fdb(messages, vxlan_names):
    result = {}
    for msg in messages:
        name = vxlan_names.get(msg["ifindex"])
        dst = msg.get_attr("NDA_DST")
        if name is None or dst is None:
            continue
        result.setdefault(name, set()).add((msg.get_attr("NDA_LLADDR").lower(), dst))
    return {name: frozenset(values) for name, values in result.items()}


def _neighbours(messages, vxlan_names):
    result = {}
    for msg in messages:
        name = vxlan_names.get(msg["ifindex"])
        if name is None or msg["family"] not in (socket.AF_INET, socket.AF_INET6):
            continue
        lladdr = msg.get_attr("NDA_LLADDR")
        if lladdr is None:
            continue
        result.setdefault(name, {})[msg.get_attr("NDA_DST")] = lladdr.lower()
    return result


def read(reader):
    """A KernelState of the namespace ``reader`` (a core.agent.rtnetlink.Reader) was opened in."""
    links, names = _links(reader.links())
    addresses = _addresses(reader.addresses(), names)
    vxlan_names = {link.index: link.name for link in links.values() if link.kind == "vxlan"}
    fdb, neighbours = {}, {}
    if vxlan_names:
        fdb = _fdb(reader.neighbours(socket.AF_BRIDGE, vxlan_names), vxlan_names)
        neighbours = _neighbours(reader.neighbours(socket.AF_INET, vxlan_names)
                                 + reader.neighbours(socket.AF_INET6, vxlan_names), vxlan_names)
    return KernelState(links=links, addresses=addresses, fdb=fdb, neighbours=neighbours)

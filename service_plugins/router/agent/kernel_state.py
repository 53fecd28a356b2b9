"""What a qrouter- namespace holds now, read in one pass.

``read_netlink(reader)`` dumps links, addresses and routes over one raw
rtnetlink socket opened in the namespace (core.agent.rtnetlink) (sysctls are read from /proc/sys by
core.agent.netns). The result is a plain ``NamespaceState`` the pure planner compares
with the desired state; unit tests build one by hand.

Left out on purpose: IPv6 link-local addresses (the kernel's), addresses that
are not permanent (SLAAC on qg-), and routes the agent did not add (it adds
with ``proto static``; kernel and RA routes are the kernel's business).
"""
import dataclasses
import ipaddress
import socket

from netweave.service_plugins.router.agent import namespace_plan

IFF_UP = 0x1
IFA_F_PERMANENT = 0x80
RTPROT_STATIC = 4
RT_TABLE_MAIN = 254


@dataclasses.dataclass(frozen=True)
class Link:
    name: str
    index: int
    mac_address: str
    mtu: int
    up: bool


@dataclasses.dataclass(frozen=True)
class NamespaceState:
    exists: bool = True
    links: dict = dataclasses.field(default_factory=dict)        # {name: Link}
    addresses: dict = dataclasses.field(default_factory=dict)    # {name: frozenset("ip/prefixlen")}
    routes: tuple = ()                                           # (namespace_plan.RouteSpec, ...)
    sysctls: dict = dataclasses.field(default_factory=dict)      # {key: value}


ABSENT = NamespaceState(exists=False)


def _links(messages):
    links = {}
    for msg in messages:
        name = msg.get_attr("IFLA_IFNAME")
        links[name] = Link(name=name, index=msg["index"], mac_address=(msg.get_attr("IFLA_ADDRESS") or "").lower(),
                           mtu=msg.get_attr("IFLA_MTU"), up=bool(msg["flags"] & IFF_UP))
    return links


def _addresses(messages, names):
    result = {}
    for msg in messages:
        name = names.get(msg["index"])
        address = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
        if name is None or address is None:
            continue
        flags = msg.get_attr("IFA_FLAGS")
        flags = msg["flags"] if flags is None else flags
        if not flags & IFA_F_PERMANENT:
            continue
        if msg["family"] == socket.AF_INET6 and ipaddress.ip_address(address).is_link_local:
            continue
        result.setdefault(name, set()).add("%s/%d" % (address, msg["prefixlen"]))
    return {name: frozenset(values) for name, values in result.items()}


def _routes(messages, names):
    routes = []
    for msg in messages:
        if msg["proto"] != RTPROT_STATIC or (msg.get_attr("RTA_TABLE") or msg["table"]) != RT_TABLE_MAIN:
            continue
        family_any = "0.0.0.0" if msg["family"] == socket.AF_INET else "::"
        destination = "%s/%d" % (msg.get_attr("RTA_DST") or family_any, msg["dst_len"])
        oif = msg.get_attr("RTA_OIF")
        routes.append(namespace_plan.RouteSpec(destination=str(ipaddress.ip_network(destination)),
                                               gateway=msg.get_attr("RTA_GATEWAY"),
                                               device=names.get(oif) if oif else None))
    return tuple(routes)


def read_netlink(reader):
    """Links, addresses and our routes of the namespace ``reader`` (a core.agent.rtnetlink.Reader)
    was opened in."""
    links = _links(reader.links())
    names = {link.index: name for name, link in links.items()}
    addresses = _addresses(reader.addresses(), names)
    routes = _routes(reader.routes(socket.AF_INET) + reader.routes(socket.AF_INET6), names)
    return links, addresses, routes

"""Dumps of links, addresses, routes and neighbours over a raw rtnetlink socket, decoded only as far as
agents look.

An agent comparing a namespace with what it wants reads three dumps per
namespace and looks at a handful of fields. pyroute2 decodes every attribute
of every message (statistics, per-device IPv6 configuration...) through its
event loop, which made reading a router namespace cost more than everything
else a resync does. This module sends the dump requests itself and decodes
the fixed headers plus the attributes asked for:

    with netns.entered(namespace):
        reader = rtnetlink.Reader()         # the socket belongs to the namespace
    links = reader.links()                  # [Message]: link["index"], link.get_attr("IFLA_IFNAME")
    reader.close()

A link's IFLA_LINKINFO is decoded as a ``Nested`` value: its IFLA_INFO_KIND and,
for the kinds the Linux bridge agent compares (bridge, vxlan, vlan), the few
IFLA_INFO_DATA attributes it looks at, named as pyroute2 names them. Neighbour
dumps (``neighbours(family)``: AF_BRIDGE for a bridge's or vxlan device's FDB,
AF_INET/AF_INET6 for ARP/NDP entries) give NDA_DST and NDA_LLADDR.

``parse(data)`` (pure) turns the bytes of a dump into Messages; the unit tests
feed it bytes built by hand. Writes stay with pyroute2.
"""
import dataclasses
import errno
import os
import socket
import struct

NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_DUMP = 0x1, 0x2, 0x300
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
RTM_NEWNEIGH, RTM_GETNEIGH = 28, 30

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_LINKINFO = 1, 3, 4, 5, 10, 18
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
NDA_DST, NDA_LLADDR = 1, 2
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_TABLE = 1, 4, 5, 15

_HEADER = struct.Struct("=IHHII")           # nlmsghdr: length, type, flags, sequence, port id
_ATTR = struct.Struct("=HH")                # rtattr: length, type
_IFINFO = struct.Struct("=BxHiII")          # family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")           # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")        # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_NDMSG = struct.Struct("=BxxxiHBB")         # family, ifindex, state, flags, type
_ERROR = struct.Struct("=i")

# Fixed header layout and field names of each message type.
_BODIES = {
    RTM_NEWLINK: (_IFINFO, ("family", "type", "index", "flags", "change")),
    RTM_NEWADDR: (_IFADDR, ("family", "prefixlen", "flags", "scope", "index")),
    RTM_NEWROUTE: (_RTMSG, ("family", "dst_len", "src_len", "tos", "table", "proto", "scope", "type", "flags")),
    RTM_NEWNEIGH: (_NDMSG, ("family", "ifindex", "state", "flags", "type")),
}


def _text(value):
    return value.split(b"\0", 1)[0].decode()


def _mac(value):
    return value.hex(":")


def _u32(value):
    return struct.unpack("=I", value[:4])[0]


def _u16(value):
    return struct.unpack("=H", value[:2])[0]


def _u8(value):
    return value[0]


def _be16(value):
    return struct.unpack("!H", value[:2])[0]


def _ip(family):
    return lambda value: socket.inet_ntop(family, value)


def _any_ip(value):
    """An address whose family only its length tells (NDA_DST of an AF_BRIDGE entry)."""
    return socket.inet_ntop(socket.AF_INET6 if len(value) == 16 else socket.AF_INET, value)


def _port_range(value):
    low, high = struct.unpack("!HH", value[:4])
    return {"low": low, "high": high}


# IFLA_INFO_DATA attributes read, by IFLA_INFO_KIND.
_INFO_DATA = {
    "bridge": {1: ("IFLA_BR_FORWARD_DELAY", _u32), 5: ("IFLA_BR_STP_STATE", _u32)},
    "vxlan": {1: ("IFLA_VXLAN_ID", _u32), 2: ("IFLA_VXLAN_GROUP", _ip(socket.AF_INET)),
              3: ("IFLA_VXLAN_LINK", _u32), 4: ("IFLA_VXLAN_LOCAL", _ip(socket.AF_INET)),
              5: ("IFLA_VXLAN_TTL", _u8), 6: ("IFLA_VXLAN_TOS", _u8), 7: ("IFLA_VXLAN_LEARNING", _u8),
              10: ("IFLA_VXLAN_PORT_RANGE", _port_range), 11: ("IFLA_VXLAN_PROXY", _u8),
              15: ("IFLA_VXLAN_PORT", _be16), 16: ("IFLA_VXLAN_GROUP6", _ip(socket.AF_INET6)),
              17: ("IFLA_VXLAN_LOCAL6", _ip(socket.AF_INET6))},
    "vlan": {1: ("IFLA_VLAN_ID", _u16)},
}


@dataclasses.dataclass(frozen=True)
class Nested:
    """A nested attribute's attributes that were read."""
    attrs: dict

    def get_attr(self, attr, default=None):
        return self.attrs.get(attr, default)


def _linkinfo(value):
    raw = _raw_attributes(value, 0, len(value))
    attrs = {}
    if IFLA_INFO_KIND in raw:
        attrs["IFLA_INFO_KIND"] = kind = _text(raw[IFLA_INFO_KIND])
        decoders = _INFO_DATA.get(kind)
        if decoders is not None and IFLA_INFO_DATA in raw:
            data = raw[IFLA_INFO_DATA]
            attrs["IFLA_INFO_DATA"] = Nested(_attributes(data, 0, len(data), decoders))
    return Nested(attrs)


def _decoders(message_type, family):
    """{attribute type: (name, decoder)} for the attributes read from a message."""
    if message_type == RTM_NEWLINK:
        return _LINK_DECODERS
    if message_type == RTM_NEWADDR:
        return {IFA_ADDRESS: ("IFA_ADDRESS", _ip(family)), IFA_LOCAL: ("IFA_LOCAL", _ip(family)),
                IFA_FLAGS: ("IFA_FLAGS", _u32)}
    if message_type == RTM_NEWNEIGH:
        return _NEIGH_DECODERS
    return {RTA_DST: ("RTA_DST", _ip(family)), RTA_GATEWAY: ("RTA_GATEWAY", _ip(family)),
            RTA_OIF: ("RTA_OIF", _u32), RTA_TABLE: ("RTA_TABLE", _u32)}


_LINK_DECODERS = {IFLA_IFNAME: ("IFLA_IFNAME", _text), IFLA_ADDRESS: ("IFLA_ADDRESS", _mac),
                  IFLA_MTU: ("IFLA_MTU", _u32), IFLA_LINK: ("IFLA_LINK", _u32), IFLA_MASTER: ("IFLA_MASTER", _u32),
                  IFLA_LINKINFO: ("IFLA_LINKINFO", _linkinfo)}
_NEIGH_DECODERS = {NDA_DST: ("NDA_DST", _any_ip), NDA_LLADDR: ("NDA_LLADDR", _mac)}


@dataclasses.dataclass(frozen=True)
class Message:
    type: int
    fields: dict        # the fixed header's fields by name
    attrs: dict         # {attribute name ("IFLA_IFNAME"...): decoded value}, the attributes read only

    def __getitem__(self, name):
        return self.fields[name]

    def get_attr(self, attr, default=None):
        return self.attrs.get(attr, default)


class NetlinkError(OSError):
    """The kernel answered a dump with an error."""


def _raw_attributes(data, offset, end):
    """{attribute type: bytes} of the attributes between ``offset`` and ``end``."""
    attrs = {}
    while offset + _ATTR.size <= end:
        length, attr_type = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        attrs[attr_type & 0x3FFF] = bytes(data[offset + _ATTR.size:offset + length])
        offset += (length + 3) & ~3
    return attrs


def _attributes(data, offset, end, decoders):
    # The loop a host's link dump spends most of its time in (some 50 attributes a link,
    # a few decoded): names looked up once, ``data`` (bytes) sliced without a copy more.
    attrs = {}
    unpack, known_types, size = _ATTR.unpack_from, decoders.get, _ATTR.size
    while offset + size <= end:
        length, attr_type = unpack(data, offset)
        if length < size:
            break
        known = known_types(attr_type & 0x3FFF)           # without the nested/byte-order flags
        if known is not None:
            attrs[known[0]] = known[1](data[offset + size:offset + length])
        offset += (length + 3) & ~3
    return attrs


def parse(data, keep=None):
    """(messages, done) from the bytes of one or more netlink messages: the link, address,
    route and neighbour messages decoded, ``done`` once NLMSG_DONE was seen. NetlinkError for
    an error answer. ``keep(fields)``: whether to decode and return a message, judged by its
    fixed header's fields (None: every one)."""
    data = bytes(data)          # decoders take bytes (a copy only when given another buffer)
    messages, offset, done = [], 0, False
    while offset + _HEADER.size <= len(data):
        length, message_type, _flags, _sequence, _port = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or offset + length > len(data):
            raise NetlinkError("truncated netlink message")
        body = offset + _HEADER.size
        if message_type == NLMSG_DONE:
            done = True
        elif message_type == NLMSG_ERROR:
            code = _ERROR.unpack_from(data, body)[0]
            if code:
                raise NetlinkError(-code, "netlink dump failed: %s" % os.strerror(-code))
        elif message_type in _BODIES:
            layout, names = _BODIES[message_type]
            fields = dict(zip(names, layout.unpack_from(data, body)))
            if keep is not None and not keep(fields):
                offset += (length + 3) & ~3
                continue
            attrs = _attributes(data, body + layout.size, offset + length,
                                _decoders(message_type, fields["family"]))
            messages.append(Message(message_type, fields, attrs))
        offset += (length + 3) & ~3
    return messages, done


def request(message_type, sequence, family=socket.AF_UNSPEC):
    """The bytes of a dump request of ``message_type`` (RTM_GET*) for ``family``."""
    if message_type == RTM_GETLINK:
        body = _IFINFO.pack(family, 0, 0, 0, 0)
    elif message_type == RTM_GETADDR:
        body = _IFADDR.pack(family, 0, 0, 0, 0)
    elif message_type == RTM_GETNEIGH:
        body = _NDMSG.pack(family, 0, 0, 0, 0)
    else:
        body = _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
    return _HEADER.pack(_HEADER.size + len(body), message_type, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0) + body


def link_request(name, sequence):
    """The bytes of a request for the one link named ``name``."""
    body = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    value = name.encode() + b"\0"
    body += _ATTR.pack(_ATTR.size + len(value), IFLA_IFNAME) + value + b"\0" * (-len(value) % 4)
    return _HEADER.pack(_HEADER.size + len(body), RTM_GETLINK, NLM_F_REQUEST, sequence, 0) + body


class Reader:
    """One raw rtnetlink socket, opened in the calling thread's namespace; dumps one at a time."""

    BUFFER = 1 << 16

    def __init__(self):
        self.socket = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        self.socket.bind((0, 0))
        self._sequence = 0

    def dump(self, message_type, family=socket.AF_UNSPEC, keep=None):
        """Every message a dump of ``message_type`` (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE,
        RTM_GETNEIGH) returns (those ``keep`` keeps: see parse)."""
        self._sequence += 1
        self.socket.send(request(message_type, self._sequence, family))
        found, done = [], False
        while not done:
            messages, done = parse(self.socket.recv(self.BUFFER), keep)
            found += messages
        return found

    def links(self):
        return self.dump(RTM_GETLINK)

    def link(self, name):
        """The link named ``name`` (a Message), or None when there is none."""
        self._sequence += 1
        self.socket.send(link_request(name, self._sequence))
        try:
            messages, _done = parse(self.socket.recv(self.BUFFER))
        except NetlinkError as error:
            if error.errno == errno.ENODEV:
                return None
            raise
        return messages[0] if messages else None

    def addresses(self):
        return self.dump(RTM_GETADDR)

    def routes(self, family):
        return self.dump(RTM_GETROUTE, family)

    def neighbours(self, family, indexes=None):
        """Neighbour entries of ``family``: AF_BRIDGE gives the FDB, AF_INET/AF_INET6 ARP and NDP;
        with ``indexes``, only those of these devices are decoded (a host's FDB dump also
        lists every bridge port's own and multicast addresses)."""
        keep = None if indexes is None else (lambda fields: fields["ifindex"] in indexes)
        return self.dump(RTM_GETNEIGH, family, keep)

    def close(self):
        self.socket.close()

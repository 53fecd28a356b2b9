"""Dumps of links, addresses and routes over a raw rtnetlink socket, decoded only as far as agents look.

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

``parse(data)`` (pure) turns the bytes of a dump into Messages; the unit tests
feed it bytes built by hand. Writes stay with pyroute2.
"""
import dataclasses
import os
import socket
import struct

NETLINK_ROUTE = 0
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_DUMP = 0x1, 0x2, 0x300
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU = 1, 3, 4
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS = 1, 2, 8
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_TABLE = 1, 4, 5, 15

_HEADER = struct.Struct("=IHHII")           # nlmsghdr: length, type, flags, sequence, port id
_ATTR = struct.Struct("=HH")                # rtattr: length, type
_IFINFO = struct.Struct("=BxHiII")          # family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")           # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")        # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_ERROR = struct.Struct("=i")

# Fixed header layout and field names of each message type.
_BODIES = {
    RTM_NEWLINK: (_IFINFO, ("family", "type", "index", "flags", "change")),
    RTM_NEWADDR: (_IFADDR, ("family", "prefixlen", "flags", "scope", "index")),
    RTM_NEWROUTE: (_RTMSG, ("family", "dst_len", "src_len", "tos", "table", "proto", "scope", "type", "flags")),
}


def _text(value):
    return value.split(b"\0", 1)[0].decode()


def _mac(value):
    return ":".join("%02x" % byte for byte in value)


def _u32(value):
    return struct.unpack("=I", value[:4])[0]


def _ip(family):
    return lambda value: socket.inet_ntop(family, value)


def _decoders(message_type, family):
    """{attribute type: (name, decoder)} for the attributes read from a message."""
    if message_type == RTM_NEWLINK:
        return {IFLA_IFNAME: ("IFLA_IFNAME", _text), IFLA_ADDRESS: ("IFLA_ADDRESS", _mac),
                IFLA_MTU: ("IFLA_MTU", _u32)}
    if message_type == RTM_NEWADDR:
        return {IFA_ADDRESS: ("IFA_ADDRESS", _ip(family)), IFA_LOCAL: ("IFA_LOCAL", _ip(family)),
                IFA_FLAGS: ("IFA_FLAGS", _u32)}
    return {RTA_DST: ("RTA_DST", _ip(family)), RTA_GATEWAY: ("RTA_GATEWAY", _ip(family)),
            RTA_OIF: ("RTA_OIF", _u32), RTA_TABLE: ("RTA_TABLE", _u32)}


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


def _attributes(data, offset, end, decoders):
    attrs = {}
    while offset + _ATTR.size <= end:
        length, attr_type = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size:
            break
        known = decoders.get(attr_type & 0x3FFF)          # without the nested/byte-order flags
        if known is not None:
            name, decode = known
            attrs[name] = decode(bytes(data[offset + _ATTR.size:offset + length]))
        offset += (length + 3) & ~3
    return attrs


def parse(data):
    """(messages, done) from the bytes of one or more netlink messages: the link, address and
    route messages decoded, ``done`` once NLMSG_DONE was seen. NetlinkError for an error answer."""
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
    else:
        body = _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
    return _HEADER.pack(_HEADER.size + len(body), message_type, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0) + body


class Reader:
    """One raw rtnetlink socket, opened in the calling thread's namespace; dumps one at a time."""

    BUFFER = 1 << 16

    def __init__(self):
        self.socket = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        self.socket.bind((0, 0))
        self._sequence = 0

    def dump(self, message_type, family=socket.AF_UNSPEC):
        """Every message a dump of ``message_type`` (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) returns."""
        self._sequence += 1
        self.socket.send(request(message_type, self._sequence, family))
        found, done = [], False
        while not done:
            messages, done = parse(self.socket.recv(self.BUFFER))
            found += messages
        return found

    def links(self):
        return self.dump(RTM_GETLINK)

    def addresses(self):
        return self.dump(RTM_GETADDR)

    def routes(self, family):
        return self.dump(RTM_GETROUTE, family)

    def close(self):
        self.socket.close()

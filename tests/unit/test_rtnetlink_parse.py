"""core.agent.rtnetlink.parse: netlink dump bytes built by hand, decoded as far as agents look."""
import socket
import struct

import pytest

from netweave.core.agent import rtnetlink as rt


def attr(attr_type, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, attr_type) + payload + b"\0" * ((4 - length % 4) % 4)


def message(message_type, body, flags=rt.NLM_F_MULTI, sequence=7):
    return struct.pack("=IHHII", 16 + len(body), message_type, flags, sequence, 0) + body


def link(index, name, mac, mtu, flags):
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, index, flags, 0)
    body += attr(rt.IFLA_IFNAME, name.encode() + b"\0") + attr(rt.IFLA_MTU, struct.pack("=I", mtu))
    body += attr(rt.IFLA_ADDRESS, bytes.fromhex(mac.replace(":", "")))
    body += attr(27, b"\1" * 23)                          # IFLA_STATS64 and the like: skipped
    return message(rt.RTM_NEWLINK, body)


def test_links_addresses_and_routes_are_decoded_and_the_rest_skipped():
    data = link(1, "lo", "00:00:00:00:00:00", 65536, 0x9)
    data += link(7, "qg-7ae20af9-e3", "FA:16:3E:8C:A0:3F", 1450, 0x1043)
    address = struct.pack("=BBBBI", socket.AF_INET, 24, 0x80, 0, 7) + attr(
        rt.IFA_LOCAL, socket.inet_aton("10.30.0.106")) + attr(rt.IFA_FLAGS, struct.pack("=I", 0x80))
    address6 = struct.pack("=BBBBI", socket.AF_INET6, 64, 0, 0, 7) + attr(
        rt.IFA_ADDRESS, socket.inet_pton(socket.AF_INET6, "2001:db8::1"))
    route = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 254, 4, 0, 1, 0) + attr(
        rt.RTA_TABLE, struct.pack("=I", 254)) + attr(rt.RTA_GATEWAY, socket.inet_aton("10.30.0.1")) + attr(
        rt.RTA_OIF, struct.pack("=I", 7))
    data += message(rt.RTM_NEWADDR, address) + message(rt.RTM_NEWADDR, address6)
    data += message(rt.RTM_NEWROUTE, route) + message(rt.NLMSG_DONE, struct.pack("=i", 0))
    messages, done = rt.parse(data)
    assert done
    links = [m for m in messages if m.type == rt.RTM_NEWLINK]
    assert [(m["index"], m.get_attr("IFLA_IFNAME"), m.get_attr("IFLA_ADDRESS"), m.get_attr("IFLA_MTU"), m["flags"])
            for m in links] == [(1, "lo", "00:00:00:00:00:00", 65536, 0x9),
                                (7, "qg-7ae20af9-e3", "fa:16:3e:8c:a0:3f", 1450, 0x1043)]
    assert links[0].attrs.keys() == {"IFLA_IFNAME", "IFLA_ADDRESS", "IFLA_MTU"}
    v4, v6 = [m for m in messages if m.type == rt.RTM_NEWADDR]
    assert (v4["prefixlen"], v4["index"], v4.get_attr("IFA_LOCAL"), v4.get_attr("IFA_FLAGS")) == (
        24, 7, "10.30.0.106", 0x80)
    assert (v6["family"], v6.get_attr("IFA_ADDRESS"), v6.get_attr("IFA_LOCAL")) == (
        socket.AF_INET6, "2001:db8::1", None)
    (default,) = [m for m in messages if m.type == rt.RTM_NEWROUTE]
    assert (default["dst_len"], default["proto"], default["table"], default.get_attr("RTA_DST"),
            default.get_attr("RTA_GATEWAY"), default.get_attr("RTA_OIF")) == (0, 4, 254, None, "10.30.0.1", 7)


def test_a_part_of_a_dump_is_not_done_and_an_error_answer_raises():
    messages, done = rt.parse(link(1, "lo", "00:00:00:00:00:00", 65536, 0x9))
    assert len(messages) == 1 and not done
    with pytest.raises(rt.NetlinkError) as failed:
        rt.parse(message(rt.NLMSG_ERROR, struct.pack("=i", -1) + b"\0" * 16))
    assert failed.value.errno == 1
    with pytest.raises(rt.NetlinkError):
        rt.parse(link(1, "lo", "00:00:00:00:00:00", 65536, 0x9)[:-8])       # cut short


def test_a_dump_request_asks_for_every_entry_of_a_family():
    data = rt.request(rt.RTM_GETROUTE, 3, socket.AF_INET6)
    length, message_type, flags, sequence, _port = struct.unpack_from("=IHHII", data)
    assert (length, message_type, flags, sequence) == (len(data), rt.RTM_GETROUTE,
                                                       rt.NLM_F_REQUEST | rt.NLM_F_DUMP, 3)
    assert data[16] == socket.AF_INET6


def test_a_links_kind_and_the_compared_info_data_are_decoded():
    vxlan_data = (attr(1, struct.pack("=I", 7)) + attr(3, struct.pack("=I", 2))
                  + attr(4, socket.inet_aton("192.0.2.5")) + attr(5, b"\3") + attr(7, b"\0") + attr(11, b"\1")
                  + attr(10, struct.pack("!HH", 1000, 2000)) + attr(15, struct.pack("!H", 4789))
                  + attr(20, b"\1" * 8))                               # not compared: skipped
    linkinfo = attr(rt.IFLA_INFO_KIND, b"vxlan\0") + attr(rt.IFLA_INFO_DATA | 0x8000, vxlan_data)
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, 5, 0x1043, 0)
    body += attr(rt.IFLA_IFNAME, b"vxlan-7\0") + attr(rt.IFLA_MASTER, struct.pack("=I", 4))
    body += attr(rt.IFLA_LINKINFO | 0x8000, linkinfo)
    bridge_info = attr(rt.IFLA_INFO_KIND, b"bridge\0") + attr(rt.IFLA_INFO_DATA, attr(
        1, struct.pack("=I", 1500)) + attr(5, struct.pack("=I", 0)) + attr(2, struct.pack("=I", 99)))
    bridge = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, 4, 0x1003, 0) + attr(rt.IFLA_IFNAME, b"brqx\0") + attr(
        rt.IFLA_LINKINFO, bridge_info)
    veth = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, 6, 0, 0) + attr(rt.IFLA_IFNAME, b"tapx\0") + attr(
        rt.IFLA_LINKINFO, attr(rt.IFLA_INFO_KIND, b"veth\0") + attr(rt.IFLA_INFO_DATA, attr(1, b"\0" * 8)))
    messages, _done = rt.parse(message(rt.RTM_NEWLINK, body) + message(rt.RTM_NEWLINK, bridge)
                               + message(rt.RTM_NEWLINK, veth))
    vxlan, bridge, veth = messages
    assert vxlan.get_attr("IFLA_MASTER") == 4
    info = vxlan.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == "vxlan"
    assert info.get_attr("IFLA_INFO_DATA").attrs == {
        "IFLA_VXLAN_ID": 7, "IFLA_VXLAN_LINK": 2, "IFLA_VXLAN_LOCAL": "192.0.2.5", "IFLA_VXLAN_TTL": 3,
        "IFLA_VXLAN_LEARNING": 0, "IFLA_VXLAN_PROXY": 1, "IFLA_VXLAN_PORT_RANGE": {"low": 1000, "high": 2000},
        "IFLA_VXLAN_PORT": 4789}
    assert bridge.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA").attrs == {
        "IFLA_BR_FORWARD_DELAY": 1500, "IFLA_BR_STP_STATE": 0}
    assert veth.get_attr("IFLA_LINKINFO").attrs == {"IFLA_INFO_KIND": "veth"}     # its data is not looked at


def test_neighbour_entries_of_either_family_are_decoded():
    def neighbour(family, ifindex, state, *attrs):
        return message(rt.RTM_NEWNEIGH, struct.pack("=BxxxiHBB", family, ifindex, state, 0, 1) + b"".join(attrs))
    data = neighbour(7, 5, 0x80, attr(rt.NDA_LLADDR, bytes(6)), attr(rt.NDA_DST, socket.inet_aton("192.0.2.9")))
    data += neighbour(7, 5, 0x80, attr(rt.NDA_LLADDR, bytes.fromhex("FA163E000001")),
                      attr(rt.NDA_DST, socket.inet_pton(socket.AF_INET6, "2001:db8::9")))
    data += neighbour(socket.AF_INET, 5, 0x01, attr(rt.NDA_DST, socket.inet_aton("10.0.0.5")))   # incomplete
    messages, _done = rt.parse(data)
    assert [(m["family"], m["ifindex"], m["state"], m.get_attr("NDA_DST"), m.get_attr("NDA_LLADDR"))
            for m in messages] == [(7, 5, 0x80, "192.0.2.9", "00:00:00:00:00:00"),
                                   (7, 5, 0x80, "2001:db8::9", "fa:16:3e:00:00:01"),
                                   (socket.AF_INET, 5, 0x01, "10.0.0.5", None)]
    request = rt.request(rt.RTM_GETNEIGH, 4, socket.AF_BRIDGE)
    assert struct.unpack_from("=IHH", request) == (len(request), rt.RTM_GETNEIGH, rt.NLM_F_REQUEST | rt.NLM_F_DUMP)
    assert request[16] == socket.AF_BRIDGE


def test_messages_a_dump_does_not_keep_are_skipped_undecoded():
    def neighbour(ifindex, mac):
        return message(rt.RTM_NEWNEIGH, struct.pack("=BxxxiHBB", 7, ifindex, 0x80, 0, 1)
                       + attr(rt.NDA_LLADDR, bytes.fromhex(mac)))
    data = neighbour(5, "FA163E000001") + neighbour(9, "FA163E000002") + neighbour(5, "FA163E000003")
    data += message(rt.NLMSG_DONE, struct.pack("=i", 0))
    messages, done = rt.parse(data, keep=lambda fields: fields["ifindex"] == 5)
    assert done
    assert [m.get_attr("NDA_LLADDR") for m in messages] == ["fa:16:3e:00:00:01", "fa:16:3e:00:00:03"]

"""Gratuitous ARP for addresses a router starts answering for on its gateway.

When a floating IP or the gateway address appears on qg-, neighbours on the
external network may still hold another MAC for it (the previous router, or
nothing); an unsolicited ARP request (sender IP = target IP) makes them learn
the qg- MAC at once, as Neutron's ``arping -U`` does. ``announcements`` plans
them (pure); running this module sends them from inside the namespace:

    ip netns exec qrouter-<id> python -m ...agent.garp <device> <ip>[,<ip>...] [count] [interval]

(one sender for all the addresses a pass added: starting an interpreter per
floating IP costs more than the announcements themselves).

It needs nothing but the standard library (an AF_PACKET socket), so no arping
package is required.
"""
import ipaddress
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806
ARP_REQUEST = 1
BROADCAST = b"\xff" * 6


def announcements(address_additions, gateway_device):
    """[(device, ip)] for IPv4 addresses added on the gateway device, from a plan's
    ``address_additions`` ([(device, cidr)])."""
    found = []
    for device, cidr in address_additions:
        address = ipaddress.ip_interface(cidr).ip
        if device == gateway_device and address.version == 4:
            found.append((device, str(address)))
    return found


def frame(mac, address):
    """An Ethernet broadcast carrying a gratuitous ARP request for ``address`` from ``mac``."""
    sender = bytes.fromhex(mac.replace(":", ""))
    ip = socket.inet_aton(address)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, ARP_REQUEST, sender, ip, b"\x00" * 6, ip)
    return BROADCAST + sender + struct.pack("!H", ETH_P_ARP) + arp


def send(device, addresses, count=3, interval=1.0):
    """``count`` rounds, ``interval`` seconds apart, each announcing every one of ``addresses``."""
    with open("/sys/class/net/%s/address" % device) as handle:
        mac = handle.read().strip()
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((device, ETH_P_ARP))
        for number in range(count):
            if number:
                time.sleep(interval)
            for address in addresses:
                sock.send(frame(mac, address))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        sys.stderr.write("usage: garp DEVICE IPV4[,IPV4...] [COUNT] [INTERVAL]\n")
        return 2
    count = int(argv[2]) if len(argv) > 2 else 3
    interval = float(argv[3]) if len(argv) > 3 else 1.0
    send(argv[0], [address for address in argv[1].split(",") if address], count, interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Gratuitous ARP for addresses a router starts answering for on its gateway.

``Sender`` sends them from a thread of the agent: the thread enters the
router's namespace only to open its AF_PACKET socket (setns is per thread),
so no interpreter is started per announcement. Running this module sends
them from a process instead:

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
import threading
import time

from netweave.core.agent import netns

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


def packet_socket(namespace, device):
    """An AF_PACKET socket on ``device`` of ``namespace`` (None: this thread's own), opened by
    this thread entering the namespace and coming back; returns (socket, MAC of the device)."""
    with netns.entered(namespace):
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        # The device name is looked up in the socket's own namespace.
        sock.bind((device, ETH_P_ARP))
        mac = ":".join("%02x" % byte for byte in sock.getsockname()[4])
    except OSError:
        sock.close()
        raise
    return sock, mac


class Sender(threading.Thread):
    """Announces ``addresses`` on ``device`` of ``namespace``: ``count`` rounds ``interval``
    seconds apart. Popen-like for its owner: ``args``, ``poll()`` (None while sending),
    ``wait(timeout)``, ``kill()`` (stops after the current round)."""

    def __init__(self, namespace, device, addresses, count=3, interval=1.0):
        super().__init__(name="garp-%s" % device, daemon=True)
        self.args = (namespace, device, tuple(addresses))
        self.count, self.interval = count, interval
        self.error = None
        self._stop_event = threading.Event()

    def run(self):
        namespace, device, addresses = self.args
        try:
            sock, mac = packet_socket(namespace, device)
        except OSError as error:
            self.error = error
            return
        with sock:
            for number in range(self.count):
                if number and self._stop_event.wait(self.interval):
                    break
                for address in addresses:
                    try:
                        sock.send(frame(mac, address))
                    except OSError as error:
                        self.error = error
                        return

    def poll(self):
        return None if self.is_alive() else 0

    def wait(self, timeout=None):
        self.join(timeout)
        return self.poll()

    def kill(self):
        self._stop_event.set()


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

"""Packets between instance namespaces for firewall tests: ICMP, TCP and UDP, IPv4 and IPv6.

``serve(namespace, ports)`` starts an echo server (TCP and UDP, dual stack) in
an instance; ``reach(namespace, kind, dst, port=None, src=None)`` answers True
when one exchange of that kind gets its echo back within the timeout;
``reach_many`` runs several probes at once (a refused probe costs its whole
timeout, so they are waited for together); ``Session`` keeps one TCP
connection open and says, line by line, whether the peer still echoes;
``eventually`` polls until a check gives the value expected.
"""
import subprocess
import sys
import time

from harness import system

PROBE = r"""
import os, select, socket, struct, sys, threading, time

def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF

def serve(ports):
    def tcp_client(conn):
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                conn.sendall(data)
    def tcp(port):
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("::", port)); sock.listen(64)
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=tcp_client, args=(conn,), daemon=True).start()
    def udp(port):
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
        while True:
            data, peer = sock.recvfrom(4096)
            sock.sendto(data, peer)
    for port in ports:
        threading.Thread(target=tcp, args=(port,), daemon=True).start()
        threading.Thread(target=udp, args=(port,), daemon=True).start()
    print("serving", flush=True)
    while True:
        time.sleep(3600)

def bound(kind, dst, src):
    sock = socket.socket(family_of(dst), kind)
    if src:
        sock.bind((src, 0))
    return sock

def tcp(dst, port, timeout, src):
    sock = bound(socket.SOCK_STREAM, dst, src)
    sock.settimeout(timeout)
    try:
        sock.connect((dst, port)); sock.sendall(b"probe")
        return sock.recv(16) == b"probe"
    except OSError:
        return False

def udp(dst, port, timeout, src):
    sock = bound(socket.SOCK_DGRAM, dst, src)
    sock.settimeout(timeout / 2)
    for _ in range(2):
        try:
            sock.sendto(b"probe", (dst, port))
            if sock.recvfrom(16)[0] == b"probe":
                return True
        except OSError:
            pass
    return False

def icmp(dst, timeout, src):
    v6 = family_of(dst) == socket.AF_INET6
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    sock = socket.socket(family_of(dst), socket.SOCK_RAW, proto)
    if src:
        sock.bind((src, 0))
    ident = os.getpid() & 0xFFFF
    request, reply = (128, 129) if v6 else (8, 0)
    deadline = time.monotonic() + timeout
    for seq in range(2):
        body = struct.pack("!BBHHH", request, 0, 0, ident, seq) + b"netweave"
        packet = body if v6 else struct.pack("!BBHHH", request, 0, checksum(body), ident, seq) + b"netweave"
        sock.sendto(packet, (dst, 0))
        until = min(deadline, time.monotonic() + timeout / 2)
        while True:
            left = until - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data, source = sock.recvfrom(65535)
            except socket.timeout:
                break
            start = 0 if v6 else (data[0] & 0x0F) * 4
            kind, _c, _s, rid, _seq = struct.unpack("!BBHHH", data[start:start + 8])
            if kind == reply and rid == ident and source[0] == dst:
                return True
    return False

def session(dst, port):
    sock = socket.create_connection((dst, port), timeout=5)
    print("connected", flush=True)
    for line in sys.stdin:
        sock.sendall(line.strip().encode())
        ready, _, _ = select.select([sock], [], [], float(os.environ.get("PROBE_WAIT", "3")))
        ok = False
        if ready:
            try:
                ok = bool(sock.recv(4096))
            except OSError:
                ok = False
        print(1 if ok else 0, flush=True)

mode = sys.argv[1]
if mode == "serve":
    serve([int(port) for port in sys.argv[2:]])
elif mode == "session":
    session(sys.argv[2], int(sys.argv[3]))
else:
    dst, timeout = sys.argv[2], float(sys.argv[3])
    port = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    src = sys.argv[5] if len(sys.argv) > 5 else None
    ok = {"tcp": lambda: tcp(dst, port, timeout, src), "udp": lambda: udp(dst, port, timeout, src),
          "icmp": lambda: icmp(dst, timeout, src)}[mode]()
    print(1 if ok else 0)
"""

DEFAULT_TIMEOUT = 1.5


def _argv(namespace, *args):
    return [system.find_executable("ip") or "ip", "netns", "exec", namespace, sys.executable, "-c", PROBE,
            *[str(arg) for arg in args]]


def serve(namespace, ports):
    """A running echo server in ``namespace`` on every port (TCP+UDP, IPv4+IPv6); stop it with
    ``process.kill()``."""
    process = subprocess.Popen(_argv(namespace, "serve", *ports), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.strip() == "serving", process.stderr.read()
    return process


def _probe_args(kind, dst, port, src, timeout):
    args = [kind, dst, timeout, "-" if port is None else port]
    if src:
        args.append(src)
    return args


def reach_many(probes, timeout=DEFAULT_TIMEOUT):
    """[(namespace, kind, dst, port, src)] -> [bool], all probes run at the same time."""
    processes = [subprocess.Popen(_argv(namespace, *_probe_args(kind, dst, port, src, timeout)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for namespace, kind, dst, port, src in probes]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(out.strip() == "1")
    return results


def reach(namespace, kind, dst, port=None, src=None, timeout=DEFAULT_TIMEOUT):
    return reach_many([(namespace, kind, dst, port, src)], timeout)[0]


class Session:
    """One open TCP connection from ``namespace`` to dst:port; ``exchange()`` sends a line
    and tells whether the echo came back."""

    def __init__(self, namespace, dst, port, wait=3.0):
        self.process = subprocess.Popen(_argv(namespace, "session", dst, port), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env={"PROBE_WAIT": str(wait), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        line = self.process.stdout.readline()
        assert line.strip() == "connected", self.process.stderr.read()

    def exchange(self, text="data"):
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip() == "1"

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


GARP = r"""
import socket, struct, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
claimed = socket.inet_aton(sys.argv[2])
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind(("eth0", 0))
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, claimed, b"\xff" * 6, claimed)
for _ in range(3):
    sock.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
"""


def gratuitous_arp(namespace, mac, claimed_ip):
    """Send three gratuitous ARP replies from ``namespace``'s eth0: ``claimed_ip`` is at ``mac``."""
    argv = [system.find_executable("ip") or "ip", "netns", "exec", namespace, sys.executable, "-c", GARP, mac,
            claimed_ip]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def eventually(check, expected, what, timeout=45.0, interval=0.5):
    """Poll ``check()`` until it returns ``expected``; AssertionError with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting until %s (last: %r)" % (what, value))
        time.sleep(interval)

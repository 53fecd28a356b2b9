"""Router descriptions in the server's sync_routers shape, built from the book's chapter 10.

``book_router()`` is MyLegacyRouter as the spec's worked examples have it:
gateway 10.30.0.106 on GATEWAY_NET (10.30.0.0/24, gateway 10.30.0.1), one
interface 192.168.200.1 on PROJECT_NET, optionally the floating IP
10.30.0.101 of MyInstance1 (192.168.200.6) or MyInstance2 (192.168.200.10).
The builders take other addresses so functional tests can make their own.
"""
import copy
import subprocess
import sys

from harness.multihost import run

ROUTER_ID = "9ef2eede-4a55-4f64-b8be-4b07a43ec373"
PROJECT_ID = "9233b6b4f6a54386af63c0a7b8f043c2"
GATEWAY_NET = "758070f9-ecaf-4d2a-aa49-e119ce7943f6"
GATEWAY_SUBNET = "0af5a767-fce0-4c4d-9df2-1aedbd259405"
GATEWAY_PORT = "73e65609-f0ea-4f4b-9581-42fe4b7df8d8"
GATEWAY_MAC = "fa:16:3e:8c:a0:3f"
PROJECT_NET = "ce1fe7cd-7b01-4d58-b1c8-414886b7d8f2"
PROJECT_SUBNET = "f29a2257-1283-4047-a835-b207480aa6f3"
INTERFACE_PORT = "a9327c59-a654-479f-9a0f-b706e81cd1ba"
INTERFACE_MAC = "fa:16:3e:86:4e:53"
FIP_ID = "9e08a332-5128-4e3c-a201-ee3e6d8d1b75"
INSTANCE1_PORT = "7ae20af9-e3d3-41ce-b74a-57cfaf41fe59"
INSTANCE2_PORT = "7e18b92b-ed27-42d5-ad05-f58e2b0f5705"


def subnet(subnet_id, cidr, gateway_ip, ip_version=4, **extra):
    return dict({"id": subnet_id, "cidr": cidr, "gateway_ip": gateway_ip, "ip_version": ip_version}, **extra)


def port(port_id, mac, network_id, fixed, subnets, device_owner="network:router_interface", mtu=1500):
    """``fixed``: [(subnet id, ip)]; prefixlen comes from the subnet, as the server fills it in."""
    by_id = {item["id"]: item for item in subnets}
    return {"id": port_id, "mac_address": mac, "network_id": network_id, "device_owner": device_owner, "mtu": mtu,
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": ip,
                           "prefixlen": int(by_id[subnet_id]["cidr"].split("/")[1])} for subnet_id, ip in fixed],
            "subnets": subnets}


def floating_ip(address, fixed_ip, port_id, fip_id=FIP_ID, router_id=ROUTER_ID):
    return {"id": fip_id, "floating_ip_address": address, "fixed_ip_address": fixed_ip, "port_id": port_id,
            "router_id": router_id if port_id else None, "status": "DOWN"}


def router(router_id=ROUTER_ID, gateway=None, interfaces=(), floating_ips=(), enable_snat=True, routes=(),
           name="MyLegacyRouter"):
    """A sync_routers entry; ``gateway`` is a port dict (or None)."""
    data = {"id": router_id, "name": name, "admin_state_up": True, "status": "ACTIVE", "project_id": PROJECT_ID,
            "distributed": False, "ha": False, "routes": [dict(item) for item in routes],
            "external_gateway_info": None, "gw_port": None, "enable_snat": enable_snat,
            "_interfaces": [copy.deepcopy(item) for item in interfaces],
            "_floatingips": [dict(item) for item in floating_ips]}
    if gateway is not None:
        data["gw_port"] = copy.deepcopy(gateway)
        data["external_gateway_info"] = {
            "network_id": gateway["network_id"], "enable_snat": enable_snat,
            "external_fixed_ips": [{"subnet_id": item["subnet_id"], "ip_address": item["ip_address"]}
                                   for item in gateway["fixed_ips"]]}
    return data


def book_gateway(ip="10.30.0.106"):
    return port(GATEWAY_PORT, GATEWAY_MAC, GATEWAY_NET, [(GATEWAY_SUBNET, ip)],
                [subnet(GATEWAY_SUBNET, "10.30.0.0/24", "10.30.0.1")], device_owner="network:router_gateway")


def book_interface():
    return port(INTERFACE_PORT, INTERFACE_MAC, PROJECT_NET, [(PROJECT_SUBNET, "192.168.200.1")],
                [subnet(PROJECT_SUBNET, "192.168.200.0/24", "192.168.200.1")])


def book_router(fixed_ip=None, enable_snat=True, routes=()):
    """MyLegacyRouter; with ``fixed_ip`` the floating IP 10.30.0.101 leads to it."""
    fips = ()
    if fixed_ip:
        instance_port = INSTANCE1_PORT if fixed_ip == "192.168.200.6" else INSTANCE2_PORT
        fips = (floating_ip("10.30.0.101", fixed_ip, instance_port),)
    return router(gateway=book_gateway(), interfaces=[book_interface()], floating_ips=fips,
                  enable_snat=enable_snat, routes=routes)


# --- packets between namespaces ---------------------------------------------------------------

ECHO_PORT = 9000

# UDP and TCP echo: answers "<name> <peer address>" and logs each peer, one per line.
ECHO_SERVER = r"""
import socket, sys, threading
name, port, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "a", buffering=1)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", port))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", port))
tcp.listen(16)
def serve_udp():
    while True:
        data, peer = udp.recvfrom(2048)
        log.write(peer[0] + "\n")
        try:
            udp.sendto(("%s %s" % (name, peer[0])).encode(), peer)
        except OSError:         # no way back to the peer: it is logged all the same
            pass
def serve_connection(conn, peer):
    with conn:
        for line in conn.makefile("rb"):
            log.write(peer[0] + "\n")
            conn.sendall(("%s %s\n" % (name, peer[0])).encode())
def serve_tcp():
    while True:
        conn, peer = tcp.accept()
        threading.Thread(target=serve_connection, args=(conn, peer), daemon=True).start()
threading.Thread(target=serve_tcp, daemon=True).start()
print("ready", flush=True)
serve_udp()
"""

UDP_ASK = r"""
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(float(sys.argv[3]))
for attempt in range(3):
    sock.sendto(b"who", (sys.argv[1], int(sys.argv[2])))
    try:
        print(sock.recvfrom(2048)[0].decode())
        break
    except socket.timeout:
        continue
"""

# A TCP client kept open: each line on stdin is sent, each answer (or "CLOSED") printed.
TCP_SESSION = r"""
import socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
sock.settimeout(float(sys.argv[3]))
reader = sock.makefile("rb")
print("connected", flush=True)
for line in sys.stdin:
    try:
        sock.sendall(line.encode())
        answer = reader.readline().decode().strip()
        print(answer or "CLOSED", flush=True)
    except OSError as error:
        print("CLOSED %s" % error, flush=True)
"""


def ns_python(namespace, script, *args, timeout=30):
    return run("ip", "netns", "exec", namespace, sys.executable, "-c", script, *map(str, args), timeout=timeout)


def udp_ask(namespace, address, wait=1.0):
    """The echo server's answer ("<name> <peer seen>") to a datagram from ``namespace``, or ""."""
    return ns_python(namespace, UDP_ASK, address, ECHO_PORT, wait).stdout.strip()




def start_echo_server(namespace, name, log_path):
    """The echo server in ``namespace``, answering as ``name`` and logging peers to ``log_path``;
    the caller kills the returned process."""
    process = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", ECHO_SERVER, name,
                                str(ECHO_PORT), str(log_path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def start_tcp_session(namespace, address, wait=3):
    """A TCP connection from ``namespace`` to the echo server at ``address``, kept open: write a
    line to its stdin, read the answer from its stdout."""
    session = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", TCP_SESSION, address,
                                str(ECHO_PORT), str(wait)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert session.stdout.readline().strip() == "connected"
    return session


def session_say(session, text="hello"):
    session.stdin.write(text + "\n")
    session.stdin.flush()
    return session.stdout.readline().strip()


def nat_listing(namespace):
    """``iptables -t nat -L`` in ``namespace``, whitespace collapsed, column headers dropped."""
    text = run("ip", "netns", "exec", namespace, "iptables", "-t", "nat", "-L").stdout
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.startswith("target ")]


# The book's listings (spec 4.4.1, 4.4.2) with its addresses as placeholders. iptables prints
# "redir ports" (the book's 4.4.1 listing has the longer "redirect ports").
BOOK_NAT_LISTING = """\
Chain PREROUTING (policy ACCEPT)
neutron-l3-agent-PREROUTING all -- anywhere anywhere
Chain INPUT (policy ACCEPT)
Chain OUTPUT (policy ACCEPT)
neutron-l3-agent-OUTPUT all -- anywhere anywhere
Chain POSTROUTING (policy ACCEPT)
neutron-l3-agent-POSTROUTING all -- anywhere anywhere
neutron-postrouting-bottom all -- anywhere anywhere
Chain neutron-l3-agent-OUTPUT (1 references)
{output}Chain neutron-l3-agent-POSTROUTING (1 references)
ACCEPT all -- anywhere anywhere ! ctstate DNAT
Chain neutron-l3-agent-PREROUTING (1 references)
REDIRECT tcp -- anywhere 169.254.169.254 tcp dpt:http redir ports 9697
{prerouting}Chain neutron-l3-agent-float-snat (1 references)
{float_snat}Chain neutron-l3-agent-snat (1 references)
neutron-l3-agent-float-snat all -- anywhere anywhere
SNAT all -- anywhere anywhere to:{gw}
SNAT all -- anywhere anywhere mark match ! 0x2/0xffff ctstate DNAT to:{gw}
Chain neutron-postrouting-bottom (1 references)
neutron-l3-agent-snat all -- anywhere anywhere /* Perform source NAT on outgoing traffic. */
"""


def book_nat_listing(gateway, floating=None, fixed=None):
    """The book's listing for gateway address ``gateway`` (and one floating IP)."""
    fields = {"gw": gateway, "output": "", "prerouting": "", "float_snat": ""}
    if floating:
        fields["output"] = fields["prerouting"] = "DNAT all -- anywhere %s to:%s\n" % (floating, fixed)
        fields["float_snat"] = "SNAT all -- %s anywhere to:%s\n" % (fixed, floating)
    return BOOK_NAT_LISTING.format(**fields).splitlines()

"""Linux bridge agent benchmark on the real stack: server, RPC server, RabbitMQ, agent processes.

    sudo python bench/l2_agent_bench.py [--ports 200]

Uses the test harness (tests/harness/multihost.Cloud): a private RabbitMQ,
netweave-server and netweave-rpc-server on SQLite with ML2 linuxbridge and
l2population, two host namespaces and one netweave-linuxbridge-agent process
per host (--netns). It then measures

1. binding: N ports bound to host1 (one POST each), their taps created in
   host1 in one ``ip -batch`` (veth pairs, as a hypervisor would), and the
   time from the taps existing until the API shows all N ports ACTIVE;
2. resync: host1's agent killed with SIGKILL and started again; the time
   from its start until every port was marked again by the agent (new
   revision) and is ACTIVE (and, from the agent's log, how long its first
   full pass took: one details call, one update_device_list call, each
   handled by the server in one transaction), and the kernel changes it made meanwhile, counted
   with ``ip monitor`` (links, addresses, neighbours, FDB) in host1 and by
   comparing link, FDB and neighbour snapshots: both must be 0.

Everything is removed at the end. Needs root, ip, bridge and rabbitmq-server.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness import multihost, rabbitmq  # noqa: E402
from netweave.core import naming  # noqa: E402


def snapshot(namespace):
    links = multihost.run("ip", "-d", "-n", namespace, "link", "show").stdout
    # The bridge's timers run on their own; they are not changes.
    links = re.sub(r"\b\w+_timer\s+[\d.]+", "", links)
    fdb = multihost.run("ip", "netns", "exec", namespace, "bridge", "fdb", "show").stdout
    neigh = multihost.run("ip", "-n", namespace, "neigh", "show", "nud", "permanent").stdout
    return sorted(links.splitlines()), sorted(fdb.splitlines()), sorted(neigh.splitlines())


def settled_snapshot(namespace, timeout=20.0, stable_for=3):
    """A snapshot once ``stable_for`` taken half a second apart agree: new bridges take a
    moment to settle (operstate UNKNOWN, then UP), which is the kernel's doing, not the agent's."""
    deadline = time.monotonic() + timeout
    taken = [snapshot(namespace)]
    while len(taken) < stable_for or any(other != taken[-1] for other in taken[-stable_for:]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        taken.append(snapshot(namespace))
    return taken[-1]


def first_full_pass(log_path):
    """Seconds the agent's latest first full pass took, from its log (None if not logged yet)."""
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        found = re.findall(r"Full resync done \(agent start\) in ([\d.]+)s", handle.read())
    # The log holds every start of the agent on that host: the last one is the restart.
    return float(found[-1]) if found else None


def ports_of(cloud, network_id):
    return {p["id"]: p for p in cloud.api("GET", "/ports?network_id=%s" % network_id)["ports"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=200)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    workdir = tempfile.mkdtemp(prefix="nw-l2bench-")
    broker = rabbitmq.start_private_rabbitmq()
    cloud = multihost.Cloud(workdir, broker.transport_url)
    monitor = None
    try:
        started = time.monotonic()
        cloud.start()
        print("stack up in %.1fs (broker, server, rpc-server, 2 agents)" % (time.monotonic() - started))
        net = cloud.network("bench", "10.64.0.0/16")
        h1 = cloud.lab.hosts["h1"]
        created = time.monotonic()
        ports = [cloud.port(net, "h1") for _ in range(args.ports)]
        print("create+bind of %d ports (one POST each): %.2fs" % (len(ports), time.monotonic() - created))
        batch = "".join("link add %s type veth peer name vb%05d\nlink set vb%05d up\n"
                        % (naming.tap_device(p["id"]), i, i) for i, p in enumerate(ports))
        multihost.run("ip", "-n", h1, "-batch", "-", input=batch)
        taps_at = time.monotonic()
        ids = {p["id"] for p in ports}
        while True:
            current = ports_of(cloud, net["id"])
            if all(current[i]["status"] == "ACTIVE" for i in ids):
                break
            if time.monotonic() - taps_at > 300:
                raise SystemExit("ports not ACTIVE after 300s")
            time.sleep(0.1)
        wired = time.monotonic() - taps_at
        print("binding: %d taps created -> all ACTIVE through the API: %.2fs (%.1f ports/s)"
              % (args.ports, wired, args.ports / wired))

        before = settled_snapshot(h1)
        revisions = {i: p["revision_number"] for i, p in ports_of(cloud, net["id"]).items()}
        old = cloud.agents["h1"]
        os.kill(old.pid, signal.SIGKILL)
        old.popen.wait(timeout=10)
        monitor = subprocess.Popen([shutil.which("ip") or "ip", "-n", h1, "monitor", "link", "address", "neigh"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(0.5)
        restart = time.monotonic()
        cloud.start_agent("h1")
        while True:
            current = ports_of(cloud, net["id"])
            if all(current[i]["revision_number"] > revisions[i] and current[i]["status"] == "ACTIVE" for i in ids):
                break
            if time.monotonic() - restart > 300:
                raise SystemExit("resync not finished after 300s")
            time.sleep(0.1)
        resync = time.monotonic() - restart
        time.sleep(1.0)
        monitor.send_signal(signal.SIGTERM)
        events, _ = monitor.communicate(timeout=10)
        monitor = None
        changes = [line for line in events.splitlines() if line.strip()]
        after = snapshot(h1)
        differing_lines = [line for x, y in zip(before, after) for line in sorted(set(x) ^ set(y))]
        differing = len(differing_lines)
        print("resync: agent restart with %d wired ports -> all reported again and ACTIVE: %.2fs"
              % (args.ports, resync))
        print("   of which the agent's first full pass (scan, details, plan, report): %ss; the rest is "
              "process start-up and the API polling" % first_full_pass(cloud.agents["h1"].log_path))
        print("kernel changes during the resync: %d netlink events (ip monitor), %d differing "
              "link/fdb/neigh lines" % (len(changes), differing))
        for line in changes[:10] + differing_lines[:10]:
            print("   ", line)
        print("machine: %d cores, load average %.1f over the last minute (figures scale with it)"
              % (os.cpu_count() or 0, os.getloadavg()[0]))
        print("ran with: private RabbitMQ, netweave-server (1 worker) + netweave-rpc-server on SQLite, "
              "netweave-linuxbridge-agent processes (polling_interval 1, report_interval 2) "
              "wiring host namespaces through --netns; logs in %s" % workdir)
        return 0 if not changes and not differing else 1
    finally:
        if monitor is not None:
            monitor.kill()
            monitor.wait()
        cloud.close()
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())

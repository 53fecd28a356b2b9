"""The L3 agent's full sync in process: N routers applied, then resynced by a fresh applier.

    sudo python bench/l3_resync_bench.py [--routers 100] [--fips 1000] [--workers 4] [--profile FILE]

No server, broker or L2 agent: the routers are sync_routers descriptions
built here (a gateway on one external network, one interface on a network of
their own, the floating IPs spread over them), applied by a RouterApplier
with the linuxbridge interface driver whose host side is a lab namespace.
Then a second RouterApplier, as a restarted agent has, syncs the same
descriptions; the figures are that sync's wall-clock time, the CPU time of
this process and of the commands it ran, how many routers it changed (the
goal is none) and what it ran. ``--profile`` profiles that sync with one
worker (cProfile sees one thread) into FILE. l3_agent_bench.py measures the
same through the real processes.

Everything is removed at the end. Needs root, ip and iptables.
"""
import argparse
import contextlib
import cProfile
import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness import l3  # noqa: E402
from netweave.core import naming  # noqa: E402
from netweave.core.agent import interface  # noqa: E402
from netweave.service_plugins.router.agent import applier as applier_mod  # noqa: E402
from netweave.service_plugins.router.agent import interfaces  # noqa: E402
from netweave.service_plugins.router.agent.settings import DataplaneSettings  # noqa: E402

EXTERNAL_NET = str(uuid.uuid4())


def mac(kind, index):
    return "fa:16:3e:%02x:%02x:%02x" % (kind, index // 256, index % 256)


def descriptions(routers, fips):
    per_router = [fips // routers + (1 if i < fips % routers else 0) for i in range(routers)]
    result, next_fip = [], 0
    for index in range(routers):
        router_id, net = str(uuid.uuid4()), str(uuid.uuid4())
        cidr = "10.%d.%d.0/24" % (64 + index // 250, index % 250)
        prefix = cidr.rsplit(".", 1)[0]
        gateway = l3.port(str(uuid.uuid4()), mac(1, index), EXTERNAL_NET, [("ext", "203.0.%d.%d" % (
            114 + index // 250, 1 + index % 250))], [l3.subnet("ext", l3.INTERNET_CIDR, l3.INTERNET_IP)],
            device_owner="network:router_gateway")
        inner = l3.port(str(uuid.uuid4()), mac(2, index), net, [("int-%d" % index, prefix + ".1")],
                        [l3.subnet("int-%d" % index, cidr, prefix + ".1")])
        floating = []
        for number in range(per_router[index]):
            address = "203.0.%d.%d" % (118 + next_fip // 250, 1 + next_fip % 250)
            floating.append(l3.floating_ip(address, "%s.%d" % (prefix, 10 + number), str(uuid.uuid4()),
                                           fip_id=str(uuid.uuid4()), router_id=router_id))
            next_fip += 1
        result.append(l3.router(router_id, gateway=gateway, interfaces=[inner], floating_ips=floating,
                                name="bench-%d" % index))
    return result


def new_applier(host, workers):
    plugging = interfaces.RouterPlugging.of_class(interface.BridgeInterfaceDriver, host_namespace=host)
    return applier_mod.RouterApplier(plugging, DataplaneSettings(), garp_count=0, sync_workers=workers)


def cpu():
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routers", type=int, default=100)
    parser.add_argument("--fips", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=applier_mod.SYNC_WORKERS)
    parser.add_argument("--profile", metavar="FILE", help="profile the resync (one worker) into FILE")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("l3_resync_bench.py needs root (namespaces, iptables)")
    host = "nwl3rs-%s" % uuid.uuid4().hex[:6]
    routers = descriptions(args.routers, args.fips)
    subprocess.run(["ip", "netns", "add", host], check=True)
    try:
        started = time.monotonic()
        first = new_applier(host, args.workers).sync(routers)
        assert all(report.ok for report in first.values()), [r.errors for r in first.values() if r.errors][:3]
        print("wiring             %d routers, %d floating IPs applied from nothing in %.2f s"
              % (args.routers, args.fips, time.monotonic() - started))
        applier = new_applier(host, 1 if args.profile else args.workers)
        before, started = cpu(), time.monotonic()
        if args.profile:
            profiler = cProfile.Profile()
            reports = profiler.runcall(applier.sync, routers)
            profiler.dump_stats(args.profile)
        else:
            reports = applier.sync(routers)
        seconds = time.monotonic() - started
        own, children = (now - then for now, then in zip(cpu(), before))
        changed = sum(1 for report in reports.values() if report.changed)
        ran = {}
        for _namespace, command, _stdin in applier.commands.history:
            ran[command[0]] = ran.get(command[0], 0) + 1
        print("resync             %d routers in %.2f s with %d workers, %d changed; CPU %.2f s (%.2f s this "
              "process, %.2f s its commands); ran %s" % (len(reports), seconds, applier.sync_workers, changed,
                                                        own + children, own, children,
                                                        ", ".join("%s x%d" % item for item in sorted(ran.items()))))
        return 0 if changed == 0 else 1
    finally:
        cleanup = new_applier(host, args.workers)
        for router in routers:
            with contextlib.suppress(Exception):
                cleanup.remove(router["id"])
            subprocess.run(["ip", "netns", "del", naming.router_namespace(router["id"])], check=False,
                           stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", host], check=False)


if __name__ == "__main__":
    sys.exit(main())

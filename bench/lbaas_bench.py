"""LBaaS v2 timings on this host (root: namespaces, haproxy, a private RabbitMQ).

  python bench/lbaas_bench.py [--rounds 3] [--members 100] [--reloads 10]
                              [--load-reloads 40] [--rate 200] [--quick]

Phases:
  create -> ACTIVE / first request   the whole stack (netweave-server, RPC server, Linux bridge
      agent, netweave-lbaas-agent on a private RabbitMQ, tests/harness/lbaas.LbaasCloud):
      an LB with a listener on 80, an HTTP pool and one member created through the API; the
      time from the load balancer's POST to provisioning_status ACTIVE, and to the first
      request the VIP serves (the listener, pool and member are created as soon as each
      previous change is ACTIVE, as a client must).
  reload with N members               the agent's driver alone (tests/harness/lbaas.Lab): a
      load balancer whose pool has N members (all the one lab server); each round changes one member's weight and
      times driver.deploy (render, write, haproxy -f ... -x <reload socket> -sf <old>) until
      the new haproxy's pid file is written, and checks the VIP kept answering.
  reloads under load                   the driver alone (Lab): three member servers, a client
      namespace sending RATE requests/s (tests/harness/loadgen.py, a new connection each)
      while the pool's weights change every INTERVAL s, each change a reload; the failed
      requests are counted (a reload must cost none).
Everything it makes is removed at the end.
"""
import argparse
import collections
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from harness import lbaas, lbaas_server, loadgen  # noqa: E402
from harness.rabbitmq import start_private_rabbitmq  # noqa: E402


def _wait(predicate, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError("timed out")


def bench_create(rounds):
    workdir = tempfile.mkdtemp(prefix="lbbench")
    broker = start_private_rabbitmq()
    cloud = lbaas.LbaasCloud(workdir, broker.transport_url)
    results = {"active": [], "served": []}
    try:
        cloud.start()
        net = cloud.network("BENCH_NET", "192.168.200.0/24")
        subnet_id = cloud.api("GET", "/subnets?network_id=" + net["id"])["subnets"][0]["id"]
        _port, web = cloud.web("web1", net)
        client_port = cloud.port(net, lbaas.HOST)
        client = cloud.plug(lbaas.HOST, net, client_port)
        cloud.wait_active(client_port, _port, timeout=60)
        api = lbaas_server.connect(cloud.server.url, prefix="/v2").load_balancer
        for _ in range(rounds):
            started = time.monotonic()
            lb = api.create_load_balancer(name="BENCH", vip_subnet_id=subnet_id)

            def active(lb_id=lb.id):
                return api.get_load_balancer(lb_id).provisioning_status == "ACTIVE"

            _wait(active)
            results["active"].append(time.monotonic() - started)
            listener = api.create_listener(loadbalancer_id=lb.id, protocol="HTTP", protocol_port=80)
            _wait(active)
            pool = api.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", listener_id=listener.id)
            _wait(active)
            api.create_member(pool, address=web.ip, protocol_port=80, subnet_id=subnet_id)
            _wait(active)
            _wait(lambda lb=lb: lbaas.curl(client.namespace, "http://%s/" % lb.vip_address, seconds=1), timeout=60)
            results["served"].append(time.monotonic() - started)
            api.delete_load_balancer(lb.id, cascade=True)
            _wait(lambda lb=lb: api.find_load_balancer(lb.id) is None)
    finally:
        cloud.close()
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def bench_reload(members, reloads):
    workdir = tempfile.mkdtemp(prefix="lbreload")
    lab = lbaas.Lab(pathlib.Path(workdir))
    timings = []
    try:
        lab.web("web1", "192.168.200.9")
        # Every member is the one server (haproxy does not mind), so every request is served.
        pool = [lbaas.member("192.168.200.9", "m%d" % index) for index in range(members)]
        description = lbaas.description(pool)
        lab.deploy(description)
        _wait(lambda: lab.curl("http://%s/" % lbaas.VIP) or True)
        manager = lab.driver._manager(description["id"])
        for round_ in range(reloads):
            pool[0]["weight"] = 2 + round_ % 2
            old = manager.pid
            started = time.monotonic()
            lab.driver.deploy(description)
            _wait(lambda old=old: manager.pid not in (None, old), timeout=30, interval=0.005)
            timings.append(time.monotonic() - started)
        served = sum(1 for _ in range(20) if lab.curl("http://%s/" % lbaas.VIP))
    finally:
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return timings, served


def bench_reloads_under_load(reloads, rate, interval=0.25):
    """(requests, failures by error, reload timings) while ``reloads`` reloads happen under ``rate`` req/s."""
    workdir = tempfile.mkdtemp(prefix="lbload")
    lab = lbaas.Lab(pathlib.Path(workdir))
    output = os.path.join(lab.lbaas_path, "load.json")
    timings = []
    try:
        webs = (("web1", "192.168.200.9"), ("web2", "192.168.200.7"), ("web3", "192.168.200.8"))
        for name, ip in webs:
            lab.web(name, ip)
        pool = [lbaas.member(ip, name) for name, ip in webs]
        description = lbaas.description(pool)
        lab.deploy(description)
        _wait(lambda: lab.curl("http://%s/" % lbaas.VIP))
        seconds = reloads * interval + 2
        load = subprocess.Popen(["ip", "netns", "exec", lab.clients[0], sys.executable, loadgen.__file__,
                                 "http://%s/" % lbaas.VIP, str(rate), str(seconds), output])
        try:
            time.sleep(1)
            for round_ in range(reloads):
                pool[round_ % 3]["weight"] = 2 + round_ % 5  # differs from its previous weight: a reload
                started = time.monotonic()
                lab.driver.deploy(description)
                timings.append(time.monotonic() - started)
                time.sleep(max(0.0, interval - timings[-1]))
            load.wait(timeout=seconds + 60)
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        with open(output) as handle:
            results = json.load(handle)
    finally:
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)
    failures = collections.Counter("not sent" if r is None else r[3].split(":")[0] for r in results
                                   if r is None or not r[2])
    return len(results), failures, timings


def _summary(values):
    return "median %.2f s, min %.2f s, max %.2f s (n=%d)" % (statistics.median(values), min(values), max(values),
                                                            len(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--load-reloads", type=int, default=40)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--skip-create", action="store_true", help="only the driver's phases")
    parser.add_argument("--quick", action="store_true", help="one round, 10 members, 3 reloads")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.members, args.reloads, args.load_reloads = 1, 10, 3, 4
    print("load average %s" % " ".join("%.1f" % value for value in os.getloadavg()))
    requests, failures, timings = bench_reloads_under_load(args.load_reloads, args.rate)
    print("%d reloads under %d requests/s: %d requests, %d failed %s; reload %s"
          % (args.load_reloads, args.rate, requests, sum(failures.values()), dict(failures), _summary(timings)))
    timings, served = bench_reload(args.members, args.reloads)
    print("haproxy reload with %d members: %s; VIP answered %d/20 after" % (args.members, _summary(timings), served))
    if args.skip_create:
        return 0
    results = bench_create(args.rounds)
    print("loadbalancer create -> ACTIVE: %s" % _summary(results["active"]))
    print("loadbalancer create -> first served request (listener, pool, member added): %s"
          % _summary(results["served"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

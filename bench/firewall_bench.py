"""Firewall programming time of the iptables driver on one host.

    sudo python bench/firewall_bench.py [--ports 500] [--rules 20] [--members 500]

Runs the Linux bridge driver (IptablesFirewallDriver, ipset on) in a fresh
network namespace that stands for the host, with the dicts the server's
security_group_info_for_devices returns: ``--ports`` ports on one network,
each in two groups of ``--rules``/2 rules (TCP ports and ranges, UDP, ICMP
with a type, prefixes, and remote-group rules on both families). One of the
groups is referenced as remote group and has ``--members`` members. It measures

1. full resync: a new driver (as after an agent restart: it reads the
   kernel first), the whole state handed over, one apply: ipset restore,
   iptables-restore and ip6tables-restore side by side, ebtables-restore;
2. resync with nothing changed: a second driver over the same kernel state
   (must run no restore at all);
3. membership change: one address joins the remote group and then leaves it
   (an ipset add/del through one ``ipset restore``, no table rewritten; a
   departure also deletes that address's flows, one conntrack call per zone).

Targets (issue 4): full resync under 2 s, membership change under 50 ms.
The namespace is deleted at the end, with every rule and set in it.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid

from netweave.service_plugins.port_security.firewall import iptables


def build_info(ports, rules_per_port, members):
    network_id = str(uuid.uuid4())
    remote = str(uuid.uuid4())
    half = max(1, rules_per_port // 2)
    group_ids = [remote] + [str(uuid.uuid4()) for _ in range(9)]
    rules = {}
    for index, group in enumerate(group_ids):
        body = []
        for n in range(half):
            kind = n % 5
            rule = {"id": "%s-%03d" % (group, n), "security_group_id": group, "direction": "ingress",
                    "ethertype": "IPv4", "protocol": None, "port_range_min": None, "port_range_max": None,
                    "remote_ip_prefix": None, "remote_group_id": None}
            if kind == 0:
                rule.update(protocol="tcp", port_range_min=1000 + 10 * index + n, port_range_max=1000 + 10 * index + n)
            elif kind == 1:
                rule.update(protocol="udp", port_range_min=2000 + n, port_range_max=2100 + n,
                            remote_ip_prefix="10.%d.0.0/16" % n)
            elif kind == 2:
                rule.update(protocol="icmp", port_range_min=8, port_range_max=0, direction="egress")
            elif kind == 3:
                rule.update(ethertype="IPv6", protocol="tcp", port_range_min=3000 + n, port_range_max=3000 + n,
                            remote_group_id=remote)
            else:
                rule.update(protocol="tcp", port_range_min=4000 + n, port_range_max=4000 + n,
                            remote_group_id=remote)
            body.append(rule)
        rules[group] = body
    devices = {}
    for n in range(ports):
        port_id = str(uuid.uuid4())
        devices[port_id] = {
            "id": port_id, "device": port_id, "network_id": network_id,
            "mac_address": "fa:16:3e:%02x:%02x:%02x" % (n >> 16 & 255, n >> 8 & 255, n & 255),
            "fixed_ips": ["10.200.%d.%d" % (n // 250, n % 250 + 1), "fd00:200::%x" % (n + 1)],
            "allowed_address_pairs": [], "port_security_enabled": True, "device_owner": "compute:nova",
            "security_groups": [remote, group_ids[1 + n % 9]]}
    member_ips = {"IPv4": ["10.201.%d.%d" % (n // 250, n % 250 + 1) for n in range(members)],
                  "IPv6": ["fd00:201::%x" % (n + 1) for n in range(members)]}
    return {"devices": devices, "security_groups": rules, "sg_member_ips": {remote: member_ips}}, remote


def run(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ports", type=int, default=500)
    parser.add_argument("--rules", type=int, default=20)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="membership changes to time")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, iptables, ipset)")
    namespace = "nwfwbench-%s" % uuid.uuid4().hex[:6]
    run("ip", "netns", "add", namespace)
    try:
        info, remote = build_info(args.ports, args.rules, args.members)
        driver = iptables.IptablesFirewallDriver(netns=namespace)
        driver.replace_info(info)
        full, report = timed(driver.apply)
        print("host: network namespace %s, %d cores, iptables-nft" % (namespace, os.cpu_count()))
        print("ports %d, rules per port %d, remote group members %d per family"
              % (args.ports, args.rules, args.members))
        print("full resync (kernel read, render, ipset + iptables + ip6tables + ebtables restore): %.3f s "
              "(%d restore lines, %d set entries)" % (full, report.restore_lines, report.ipset_added))

        again = iptables.IptablesFirewallDriver(netns=namespace)
        again.replace_info(info)
        idle, idle_report = timed(again.apply)
        print("resync with nothing changed (a new driver reading the kernel back): %.3f s, changes made: %s"
              % (idle, "none" if not idle_report.changed else idle_report))

        members = info["sg_member_ips"][remote]
        joined = {"IPv4": members["IPv4"] + ["10.202.0.1"], "IPv6": members["IPv6"]}
        samples = []
        for _ in range(args.repeat):
            for value in (joined, members):
                driver.update_security_group_members(remote, value)
                seconds, change = timed(driver.apply)
                assert change.members_only and not change.restored, change
                samples.append(seconds)
        print("membership change (one address joins or leaves, %d samples): median %.1f ms, max %.1f ms, "
              "no iptables rewrite" % (len(samples), statistics.median(samples) * 1000, max(samples) * 1000))
        ok = full < 2.0 and statistics.median(samples) < 0.05
        print("targets (full < 2 s, membership < 50 ms): %s" % ("met" if ok else "NOT met"))
        return 0 if ok else 1
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False)


if __name__ == "__main__":
    sys.exit(main())

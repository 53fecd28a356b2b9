"""The metering chains of one router, planned from its labels (pure), as Neutron's iptables driver
lays them out in the filter table of qrouter-<id>:

    FORWARD                       -> neutron-meter-FORWARD        (the first jump of FORWARD)
    neutron-meter-FORWARD         -j neutron-meter-r-<label>      one per label
    neutron-meter-r-<label>       the label's rules on the qg- device: excluded ones first
                                  (-j RETURN), then the others (-j neutron-meter-l-<label>)
    neutron-meter-l-<label>       one empty rule: its packet and byte counters are the label's

Chain names are cut to 28 characters (iptables' limit less the wrap room), so a label's chains
are ``neutron-meter-l-`` / ``neutron-meter-r-`` plus its id's first 12 characters.

A rule matches on the gateway device: ingress ``-i qg-…``, egress ``-o qg-…``; with
``remote_ip_prefix`` (the original form) the remote side is the source for ingress and the
destination for egress; otherwise ``source_ip_prefix`` and ``destination_ip_prefix`` match as
named. Bodies are spelt as ``iptables-save`` prints them (prefixes normalised, ``-s`` before
``-d`` before ``-i``/``-o``), so a pass over a router whose rules are right changes nothing and
the counters keep running. IPv6 prefixes are not metered (ip6tables is not programmed).
"""
import ipaddress

from netweave.core import naming

WRAP = "neutron-meter"
TOP_CHAIN = WRAP + "-FORWARD"
LABEL_PREFIX = WRAP + "-l-"
RULES_PREFIX = WRAP + "-r-"
MAX_CHAIN_LEN = 28
TABLE = "filter"
HOOKS = (("FORWARD", TOP_CHAIN),)


def label_chain(label_id):
    return (LABEL_PREFIX + label_id)[:MAX_CHAIN_LEN]


def rules_chain(label_id):
    return (RULES_PREFIX + label_id)[:MAX_CHAIN_LEN]


def owns(chain):
    return chain.startswith(WRAP + "-")


def _network(prefix):
    """A prefix as iptables-save prints it ("10.0.0.0/24", "192.0.2.7/32"); None for IPv6."""
    network = ipaddress.ip_network(prefix, strict=False)
    return str(network) if network.version == 4 else None


def rule_match(rule, device):
    """The match part of one rule on ``device``; None when it cannot be metered here (IPv6)."""
    source = destination = None
    if rule.get("remote_ip_prefix"):
        if rule["direction"] == "egress":
            destination = rule["remote_ip_prefix"]
        else:
            source = rule["remote_ip_prefix"]
    else:
        source, destination = rule.get("source_ip_prefix"), rule.get("destination_ip_prefix")
    parts = []
    for option, prefix in (("-s", source), ("-d", destination)):
        if prefix:
            network = _network(prefix)
            if network is None:
                return None
            parts.append("%s %s" % (option, network))
    parts.append(("-o %s" if rule["direction"] == "egress" else "-i %s") % device)
    return " ".join(parts)


def router_chains(router):
    """{chain: (rule body, ...)} of the filter table for one router of get_sync_data_metering."""
    chains = {TOP_CHAIN: ()}
    if not router.get("gw_port_id"):
        return chains
    device = naming.router_gateway_device(router["gw_port_id"])
    top = []
    for label in sorted(router.get("_metering_labels") or (), key=lambda item: item["id"]):
        counting, rules = label_chain(label["id"]), rules_chain(label["id"])
        ordered = sorted(label.get("rules") or (), key=lambda r: (not r.get("excluded"), r["id"]))
        bodies = []
        for rule in ordered:
            match = rule_match(rule, device)
            if match is not None:
                bodies.append("%s -j %s" % (match, "RETURN" if rule.get("excluded") else counting))
        chains[counting] = ("",)
        chains[rules] = tuple(bodies)
        top.append("-j " + rules)
    chains[TOP_CHAIN] = tuple(top)
    return chains


def removal_lines(state):
    """An iptables-restore --noflush input dropping every metering chain and hook of ``state``
    (an iptables_restore.TableState); [] when there is none."""
    if not state.chains and not state.hooks:
        return []
    lines = ["*" + TABLE]
    lines += ["-D %s -j %s" % (builtin, target) for builtin, target in state.hooks]
    lines += [":%s - [0:0]" % chain for chain in sorted(state.chains)]
    lines += ["-X %s" % chain for chain in sorted(state.chains)]
    lines.append("COMMIT")
    return lines


def parse_counters(listing):
    """(packets, bytes) of the first rule in ``iptables -L <chain> -n -v -x`` output."""
    for line in listing.splitlines()[2:]:
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
            return int(fields[0]), int(fields[1])
    return 0, 0

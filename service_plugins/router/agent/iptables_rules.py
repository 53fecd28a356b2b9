"""The IPv4 nat, mangle and filter tables of a qrouter- namespace, rendered from a Router.

``render(router, settings)`` is pure. Chain names are the book's: the L3
agent wraps its chains with its binary name cut to 16 characters,
``neutron-l3-agent``; ``neutron-postrouting-bottom`` and
``neutron-filter-top`` are shared and unwrapped. The nat table is spec section
4.4.1/4.4.2 line for line::

    PREROUTING  -> neutron-l3-agent-PREROUTING   metadata REDIRECT, per floating IP DNAT
    OUTPUT      -> neutron-l3-agent-OUTPUT       per floating IP DNAT (the router's own traffic)
    POSTROUTING -> neutron-l3-agent-POSTROUTING  internal<->internal, not DNAT'd: ACCEPT (no SNAT)
                -> neutron-postrouting-bottom -> neutron-l3-agent-snat
                     -> neutron-l3-agent-float-snat   per floating IP SNAT (first: a FIP owner
                                                      leaves as its FIP)
                     -o qg- SNAT to the gateway IP   (only with enable_snat)
                     DNAT'd but not entered on qg- (hairpin): SNAT to the gateway IP

mangle marks what enters on qg- (external_ingress_mark, which the hairpin
rule tests) and metadata requests from qr- (metadata_access_mark); filter
accepts the marked metadata traffic to the proxy port and drops any other
traffic to it, so only redirected requests reach the proxy.
"""
import dataclasses
import ipaddress

from netweave.core import naming

WRAP = "neutron-l3-agent"
POSTROUTING_BOTTOM = "neutron-postrouting-bottom"
FILTER_TOP = "neutron-filter-top"
MARK_MASK = "0xffff"
SNAT_COMMENT = "Perform source NAT on outgoing traffic."
METADATA_ADDRESS = "169.254.169.254/32"

NAT, MANGLE, FILTER = "nat", "mangle", "filter"
TABLES = (FILTER, MANGLE, NAT)
BUILTIN_CHAINS = {
    NAT: ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    MANGLE: ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    FILTER: ("INPUT", "FORWARD", "OUTPUT"),
}
# Built-in chains the agent wraps (Neutron's iptables manager), per table.
WRAPPED_CHAINS = {
    NAT: ("PREROUTING", "OUTPUT", "POSTROUTING"),
    MANGLE: ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    FILTER: ("INPUT", "FORWARD", "OUTPUT"),
}


def chain(name):
    """neutron-l3-agent + snat -> neutron-l3-agent-snat."""
    return "%s-%s" % (WRAP, name)


def owns(name):
    """Whether a chain is the L3 agent's (the whole namespace is; built-ins excepted)."""
    return name.startswith(WRAP + "-") or name in (POSTROUTING_BOTTOM, FILTER_TOP)


@dataclasses.dataclass(frozen=True)
class Tables:
    """chains: {table: {chain: (rule body, ...)}}; hooks: {table: ((built-in chain, target), ...)}."""
    chains: dict
    hooks: dict

    def hook_targets(self, table):
        return {target for _builtin, target in self.hooks[table]}


def _hooks(table):
    hooks = []
    for builtin in WRAPPED_CHAINS[table]:
        if table == FILTER and builtin in ("FORWARD", "OUTPUT"):
            hooks.append((builtin, FILTER_TOP))
        hooks.append((builtin, chain(builtin)))
        if table == NAT and builtin == "POSTROUTING":
            hooks.append((builtin, POSTROUTING_BOTTOM))
    return tuple(hooks)


def _empty_chains(table):
    chains = {chain(builtin): [] for builtin in WRAPPED_CHAINS[table]}
    if table == NAT:
        chains[chain("snat")] = ["-j %s" % chain("float-snat")]
        chains[chain("float-snat")] = []
        chains[POSTROUTING_BOTTOM] = ['-m comment --comment "%s" -j %s' % (SNAT_COMMENT, chain("snat"))]
    elif table == MANGLE:
        chains[chain("mark")] = []
        chains[chain("PREROUTING")].append("-j %s" % chain("mark"))
    elif table == FILTER:
        chains[chain("local")] = []
        chains[FILTER_TOP] = ["-j %s" % chain("local")]
    return chains


def _metadata(chains, settings):
    port = settings.metadata_port
    internal = naming.ROUTER_INTERFACE_PREFIX + "+"
    metadata_tcp = "-d %s -i %s -p tcp -m tcp --dport 80" % (METADATA_ADDRESS, internal)
    chains[NAT][chain("PREROUTING")].append("%s -j REDIRECT --to-ports %d" % (metadata_tcp, port))
    chains[MANGLE][chain("PREROUTING")].append("%s -j MARK --set-xmark %s/%s"
                                               % (metadata_tcp, settings.metadata_access_mark, MARK_MASK))
    chains[FILTER][chain("INPUT")] += ["-m mark --mark %s/%s -j ACCEPT" % (settings.metadata_access_mark, MARK_MASK),
                                       "-p tcp -m tcp --dport %d -j DROP" % port]


def _gateway(chains, router, settings):
    gateway_ip = router.gateway_ipv4()
    if gateway_ip is None:          # an IPv6-only gateway: nothing to NAT
        return
    qg = naming.router_gateway_device(router.gateway.id)
    address = gateway_ip.ip_address
    nat = chains[NAT]
    nat[chain("POSTROUTING")].append("! -i %s ! -o %s -m conntrack ! --ctstate DNAT -j ACCEPT" % (qg, qg))
    if router.enable_snat:
        nat[chain("snat")].append("-o %s -j SNAT --to-source %s" % (qg, address))
    nat[chain("snat")].append("-m mark ! --mark %s/%s -m conntrack --ctstate DNAT -j SNAT --to-source %s"
                              % (settings.external_ingress_mark, MARK_MASK, address))
    chains[MANGLE][chain("mark")].append("-i %s -j MARK --set-xmark %s/%s"
                                         % (qg, settings.external_ingress_mark, MARK_MASK))
    for fip in router.associated_floating_ips():
        floating, fixed = fip.floating_ip_address, fip.fixed_ip_address
        nat[chain("PREROUTING")].append("-d %s/32 -j DNAT --to-destination %s" % (floating, fixed))
        nat[chain("OUTPUT")].append("-d %s/32 -j DNAT --to-destination %s" % (floating, fixed))
        nat[chain("float-snat")].append("-s %s/32 -j SNAT --to-source %s" % (fixed, floating))


def render(router, settings):
    """The Tables of ``router``'s namespace."""
    chains = {table: _empty_chains(table) for table in TABLES}
    if settings.enable_metadata_proxy:
        _metadata(chains, settings)
    if router.gateway is not None:
        _gateway(chains, router, settings)
    return Tables(chains={table: {name: tuple(bodies) for name, bodies in table_chains.items()}
                          for table, table_chains in chains.items()},
                  hooks={table: _hooks(table) for table in TABLES})


def save_text(tables, table):
    """One table as ``iptables-save`` prints it after a restore (no counters, no comments):
    built-in chains, owned chains sorted, the hooks, then every owned chain's rules."""
    chains = tables.chains[table]
    lines = ["*" + table]
    lines += [":%s ACCEPT [0:0]" % name for name in BUILTIN_CHAINS[table]]
    lines += [":%s - [0:0]" % name for name in sorted(chains)]
    for builtin in BUILTIN_CHAINS[table]:
        lines += ["-A %s -j %s" % (hook, target) for hook, target in tables.hooks[table] if hook == builtin]
    for name in sorted(chains):
        lines += ["-A %s %s" % (name, body) for body in chains[name]]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def floating_ip_map(nat_chains):
    """{floating IP: fixed IP} as the PREROUTING DNAT rules of a nat table hold them."""
    mapping = {}
    for body in nat_chains.get(chain("PREROUTING"), ()):
        parts = body.split()
        if "DNAT" in parts and parts[:1] == ["-d"] and "--to-destination" in parts:
            floating = str(ipaddress.ip_interface(parts[1]).ip)
            mapping[floating] = parts[parts.index("--to-destination") + 1]
    return mapping

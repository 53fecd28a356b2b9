"""Plans for iptables-restore, ipset restore and ebtables-restore, from two rulesets.

Pure functions: ``previous`` is what the kernel holds (as last applied, or as
read back with *-save), ``desired`` what render() produced. Only chains whose
rules differ are declared (which flushes them under --noflush) and refilled;
chains no longer wanted are flushed and deleted in the same transaction;
nothing outside our chains is touched except inserting the jumps from the
built-in chains when they are missing. Equal inputs give ``None``: a resync
that changes nothing runs nothing. The iptables part is the generic
core.agent.iptables_restore with the firewall's chain ownership and spelling.
"""
import dataclasses
import functools
import ipaddress
import re

from netweave.core.agent import iptables_restore as iptables_restore_mod
from netweave.service_plugins.port_security.firewall import model, names

TableState = iptables_restore_mod.TableState
table_restore = iptables_restore_mod.table_restore
iptables_restore = iptables_restore_mod.restore_text

_MAC_SOURCE = re.compile(r"--mac-source (\S+)")


def canonical(body):
    """A rule as we render it: iptables-save prints MACs in lower case, the book upper."""
    return _MAC_SOURCE.sub(lambda match: "--mac-source " + match.group(1).upper(), body)


def owned(chain, prefix):
    return chain.startswith(prefix + "-") or chain == names.FILTER_TOP


def parse_save(text, table, prefix, hook_targets=()):
    """Our part of ``iptables-save -t <table>`` output as a TableState."""
    return iptables_restore_mod.parse_save(text, table, lambda chain: owned(chain, prefix), hook_targets,
                                           canonical)


# --- ipsets -------------------------------------------------------------------------------------


def _family(ethertype):
    return "inet" if ethertype == model.IPV4 else "inet6"


@functools.lru_cache(maxsize=65536)
def ipset_entry(cidr):
    """ipset's spelling: host routes without their /32 or /128."""
    network = ipaddress.ip_network(cidr)
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


@dataclasses.dataclass
class IpsetPlan:
    before: str = None     # ipset restore input to run before iptables (create, fill, deltas)
    after: str = None      # run after iptables stopped referencing the sets (destroy)
    added: int = 0
    removed: int = 0


def ipset_plan(previous, desired):
    """previous: {name: (ethertype, members) or None (exists, contents unknown)};
    desired: {name: (ethertype, members)}. New or unknown sets are filled as a swap
    twin and swapped in; known sets get add/del deltas only."""
    before, after, plan = [], [], IpsetPlan()
    for name in sorted(desired):
        ethertype, members = desired[name]
        if name in previous and previous[name] is not None:
            old, new = set(previous[name][1]), set(members)
            for member in sorted(old - new):
                before.append("del %s %s -exist" % (name, ipset_entry(member)))
                plan.removed += 1
            for member in sorted(new - old):
                before.append("add %s %s -exist" % (name, ipset_entry(member)))
                plan.added += 1
            continue
        twin = name + names.IPSET_SWAP_SUFFIX
        create = "create %%s hash:net family %s -exist" % _family(ethertype)
        before += [create % name, create % twin, "flush %s" % twin]
        before += ["add %s %s -exist" % (twin, ipset_entry(member)) for member in members]
        before += ["swap %s %s" % (twin, name), "destroy %s" % twin]
        plan.added += len(members)
    for name in sorted(previous):
        if name not in desired:
            after.append("destroy %s" % name)
    plan.before = "\n".join(before) + "\n" if before else None
    plan.after = "\n".join(after) + "\n" if after else None
    return plan


def parse_ipset_save(text):
    """``ipset save`` output -> {name: (ethertype, members)} for our sets (N + IPv4/IPv6)."""
    sets = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "create" and parts[1].startswith(("NIPv4", "NIPv6")):
            ethertype = model.IPV6 if "inet6" in parts else model.IPV4
            sets[parts[1]] = (ethertype, ())
        elif len(parts) >= 3 and parts[0] == "add" and parts[1] in sets:
            ethertype, members = sets[parts[1]]
            sets[parts[1]] = (ethertype, members + (model.as_cidr(parts[2]),))
    return {name: value for name, value in sets.items() if not name.endswith(names.IPSET_SWAP_SUFFIX)}


# --- ebtables -----------------------------------------------------------------------------------


def ebtables_restore(previous, desired, top_chain):
    """nat-table input for ebtables-restore --noflush; previous/desired: {chain: bodies}.
    The top chain is hooked from PREROUTING once; user chains return by default."""
    changed = [chain for chain in sorted(desired) if chain not in previous or previous[chain] != desired[chain]]
    removed = [chain for chain in sorted(previous) if chain not in desired]
    hook_missing = top_chain in desired and top_chain not in previous
    if not changed and not removed:
        return None
    lines = ["*nat"]
    lines += [":%s RETURN" % chain for chain in changed + removed]
    if hook_missing:
        lines.append("-A PREROUTING -j %s" % top_chain)
    for chain in changed:
        lines += ["-A %s %s" % (chain, body) for body in desired[chain]]
    lines += ["-X %s" % chain for chain in removed]
    return "\n".join(lines) + "\n"


def parse_ebtables_save(text, top_chain):
    """Our chains of ``ebtables-save`` (nat), and whether PREROUTING jumps to the top chain."""
    chains, hooked, current = {}, False, None
    ours = (top_chain, names.EBTABLES_ARP_PREFIX, names.EBTABLES_MAC_PREFIX)
    for line in text.splitlines():
        if line.startswith("*"):
            current = line[1:].strip()
        elif current != "nat":
            continue
        elif line.startswith(":"):
            chain = line[1:].split()[0]
            if chain.startswith(ours):
                chains.setdefault(chain, ())
        elif line.startswith("-A "):
            chain, _, body = line[3:].partition(" ")
            if chain.startswith(ours):
                chains[chain] = chains.get(chain, ()) + (body,)
            elif chain == "PREROUTING" and body.strip() == "-j %s" % top_chain:
                hooked = True
    return chains, hooked

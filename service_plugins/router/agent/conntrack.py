"""Connection-tracking entries to cut when a floating IP stops leading where it did.

A floating IP that is disassociated, or moved to another fixed IP, must not
keep carrying the flows conntrack already translated: their DNAT/SNAT was
decided when the flow began. ``flows_to_cut`` compares the floating IP ->
fixed IP map the kernel's nat table holds (iptables_rules.floating_ip_map) with
the desired one; ``delete_commands`` gives Neutron's two deletions per address:
flows sent to it (inbound, ``-d``) and flows answered to it (outbound, SNAT'd
to it: ``-q``, the reply destination). Pure.
"""
import ipaddress

BINARY = "conntrack"


def flows_to_cut(current, desired):
    """Floating IPs (sorted) whose mapping in ``current`` ({fip: fixed}) is gone or changed."""
    changed = [floating for floating, fixed in current.items() if desired.get(floating) != fixed]
    return sorted(changed, key=ipaddress.ip_address)


def delete_commands(floating_ips):
    """argv lists deleting the flows of each address; exit status 1 means none matched."""
    commands = []
    for address in floating_ips:
        commands.append([BINARY, "-D", "-d", address])
        commands.append([BINARY, "-D", "-q", address])
    return commands

"""ARP and MAC anti-spoofing of the Linux bridge agent's taps, whatever the firewall driver.

As Neutron's arp_protect, protection belongs to the L2 agent, not to the
security group driver: every tap whose port has port security (and is not a
trusted ``network:*`` port) may send frames only from its MAC addresses and
ARP only for its IPv4 addresses, also under ``firewall_driver = noop``.

ebtables, nat table (frames are checked as they enter the bridge):

    PREROUTING -j lb-arp-protect
    lb-arp-protect:  -i <tap> -j lbMAC-<tap>
                     -p ARP -i <tap> -j lbARP-<tap>
    lbMAC-<tap>:     -s <mac> -j RETURN ...   -j DROP
    lbARP-<tap>:     -p ARP --arp-ip-src <ip or cidr> -j ACCEPT ...   -j DROP

``render`` (pure) gives the chains from the device details; ``restore_text``
(pure) the ``ebtables-restore --noflush`` input that turns what the kernel
holds into them, touching only the chains that differ; ``ArpProtection``
applies it, reading the kernel back with ``ebtables-save`` the first time and
after a failure. The chains' names are the agent's own, so they never collide
with the chains an iptables firewall driver keeps for itself.
"""
import ipaddress
import logging

from netweave.core.agent import commands

LOG = logging.getLogger(__name__)

TOP_CHAIN = "lb-arp-protect"
ARP_PREFIX = "lbARP-"
MAC_PREFIX = "lbMAC-"


def arp_chain(tap):
    return ARP_PREFIX + tap


def mac_chain(tap):
    return MAC_PREFIX + tap


def wants_protection(details):
    """True for a port the agent must protect (Neutron: port security on, port not trusted)."""
    if details.get("port_security_enabled") is False:
        return False
    if (details.get("device_owner") or "").startswith("network:"):
        return False
    # Details without the port's addresses (an older server) would leave it no ARP at all.
    return "fixed_ips" in details


def _ipv4_source(address):
    network = ipaddress.ip_network(address, strict=False)
    if network.version != 4:
        return None
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def render(ports):
    """{chain: (rule body, ...)} protecting ``ports`` ({tap: device details}); {} for none."""
    top, chains = [], {}
    for tap, details in sorted(ports.items()):
        if not wants_protection(details):
            continue
        pairs = details.get("allowed_address_pairs") or []
        macs = [(details.get("mac_address") or "").lower()] + [(p.get("mac_address") or "").lower() for p in pairs]
        addresses = [ip.get("ip_address") for ip in details.get("fixed_ips") or []]
        addresses += [p.get("ip_address") for p in pairs]
        sources = [s for s in (_ipv4_source(a) for a in addresses if a) if s]
        top.append("-i %s -j %s" % (tap, mac_chain(tap)))
        top.append("-p ARP -i %s -j %s" % (tap, arp_chain(tap)))
        chains[mac_chain(tap)] = tuple("-s %s -j RETURN" % m for m in dict.fromkeys(macs) if m) + ("-j DROP",)
        chains[arp_chain(tap)] = tuple("-p ARP --arp-ip-src %s -j ACCEPT" % s
                                       for s in dict.fromkeys(sources)) + ("-j DROP",)
    if top:
        chains[TOP_CHAIN] = tuple(top)
    return chains


def _ours(chain):
    return chain == TOP_CHAIN or chain.startswith((ARP_PREFIX, MAC_PREFIX))


def parse_save(text):
    """(our chains {chain: bodies}, whether PREROUTING jumps to the top chain) of ``ebtables-save``."""
    chains, hooked, table = {}, False, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif table != "nat":
            continue
        elif line.startswith(":"):
            chain = line[1:].split()[0]
            if _ours(chain):
                chains.setdefault(chain, ())
        elif line.startswith("-A "):
            chain, _, body = line[3:].partition(" ")
            if _ours(chain):
                chains[chain] = chains.get(chain, ()) + (body.strip(),)
            elif chain == "PREROUTING" and body.strip() == "-j %s" % TOP_CHAIN:
                hooked = True
    return chains, hooked


def restore_text(previous, hooked, desired):
    """``ebtables-restore --noflush`` input from what the kernel holds (``previous``, ``hooked``)
    to ``desired``; None when nothing differs. Declaring a chain flushes it; the top chain is
    emptied before the chains it jumps to are deleted."""
    changed = [chain for chain in sorted(desired) if previous.get(chain) != desired[chain]]
    removed = [chain for chain in sorted(previous) if chain not in desired]
    hook = TOP_CHAIN in desired and not hooked
    unhook = TOP_CHAIN not in desired and hooked
    if not (changed or removed or hook or unhook):
        return None
    lines = ["*nat"]
    lines += [":%s RETURN" % chain for chain in changed + removed]
    if unhook:
        lines.append("-D PREROUTING -j %s" % TOP_CHAIN)
    if hook:
        lines.append("-A PREROUTING -j %s" % TOP_CHAIN)
    for chain in changed:
        lines += ["-A %s %s" % (chain, body) for body in desired[chain]]
    lines += ["-X %s" % chain for chain in removed]
    return "\n".join(lines) + "\n"


class ArpProtection:
    """Keeps the host's ebtables protection equal to ``render`` of the wired taps.

    ``netns``: the network namespace the taps are in (None: this one). ``applied``
    is what the kernel holds as far as we know (None: read it back first).
    """

    def __init__(self, netns=None):
        self.netns = netns
        self._applied = None      # (chains, hooked)
        self.restores = 0

    def _read(self):
        result = commands.run(["ebtables-save"], namespace=self.netns, check=False)
        if result.returncode != 0:
            raise commands.error_of(result)
        return parse_save(result.stdout)

    def apply(self, ports):
        """Protect ``ports`` ({tap: device details}) and nothing else; True when ebtables changed."""
        desired = render(ports)
        if self._applied is None:
            try:
                self._applied = self._read()
            except commands.CommandError:
                if desired:
                    raise
                return False    # nothing to protect, and no ebtables holding anything of ours

        previous, hooked = self._applied
        text = restore_text(previous, hooked, desired)
        if text is None:
            return False
        try:
            commands.run(["ebtables-restore", "--noflush"], namespace=self.netns, stdin=text)
        except commands.CommandError:
            self._applied = None      # read the kernel again next time
            raise
        self._applied = (desired, TOP_CHAIN in desired)
        self.restores += 1
        return True

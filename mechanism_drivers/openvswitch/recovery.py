"""l2population entries read back from a tunnel bridge the agent wired before it restarted (no I/O).

With l2_population the tunnel bridge holds only what the server announced:
tunnel ports towards hosts with ports of a network, table 22 flood flows,
table 20 unicast flows and table 21 ARP answers. A restarted agent knows
none of it until the server sends the entries again (it does once the
agent reports its ports up), and a first pass planned without them would
tear down tunnels that carry traffic. ``recover_fdb`` rebuilds the entries
from the installed flows, in the shape the server sends them:

    {network_id: {"ports": {remote_ip: [[mac, ip], ...]}}}

The agent plans with them until the server has had time to resend its own.
"""
import collections
import re

from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import flows as flows_mod

_OUTPUT = re.compile(r"output:([^,]+)")
_ARP_MAC = re.compile(r"mod_dl_src:([0-9a-fA-F:]{17})")


def _match_value(flow, key):
    for item in flow.match:
        name, _, value = item.partition("=")
        if name == key:
            return value
    return None


def _outputs(actions):
    return [name.strip() for name in _OUTPUT.findall(actions)]


def recover_fdb(tunnel_flows, tunnel_remotes, local_vlans):
    """Entries implied by ``tunnel_flows`` (dump lines of the tunnel bridge).

    ``tunnel_remotes``: {tunnel port name: remote ip} of the bridge's tunnel
    ports; ``local_vlans``: {network id: local VLAN} recovered from br-int.
    Flows naming an unknown VLAN or port are ignored.
    """
    network_of_vlan = {vlan: net for net, vlan in local_vlans.items()}
    canonical = flows_mod.canonical_table(tunnel_flows)
    ip_of_mac = collections.defaultdict(list)   # (vlan, mac) -> [ip] from the ARP responder
    for flow in canonical:
        if flow.table != c.ARP_RESPONDER or flow.priority != 1:
            continue
        vlan, tpa = _match_value(flow, "dl_vlan"), _match_value(flow, "arp_tpa")
        found = _ARP_MAC.search(flow.actions)
        if vlan and tpa and found:
            ip_of_mac[(int(vlan), found.group(1).lower())].append(tpa)

    result = {}

    def add(vlan, port, pair):
        net = network_of_vlan.get(vlan)
        remote = tunnel_remotes.get(port)
        if net is None or remote is None:
            return
        entries = result.setdefault(net, {"ports": {}})["ports"].setdefault(remote, [])
        if list(pair) not in entries:
            entries.append(list(pair))

    for flow in canonical:
        vlan = _match_value(flow, "dl_vlan")
        if vlan is None:
            continue
        vlan = int(vlan)
        if flow.table == c.FLOOD_TO_TUN and flow.priority == 1:
            for port in _outputs(flow.actions):
                add(vlan, port, (c.FLOODING_MAC, c.FLOODING_IP))
        elif flow.table == c.UCAST_TO_TUN and flow.priority == 2 and flow.cookie != c.LEARNED_FLOW_COOKIE:
            mac = (_match_value(flow, "dl_dst") or "").lower()
            if not mac:
                continue
            for port in _outputs(flow.actions)[:1]:
                for ip in ip_of_mac.get((vlan, mac)) or [None]:
                    add(vlan, port, (mac, ip))
    return result


def merge(first, second):
    """Union of two entry sets (neither is changed)."""
    result = {}
    for source in (first or {}, second or {}):
        for net, value in source.items():
            target = result.setdefault(net, {"ports": {}})
            for key in ("network_type", "segment_id"):
                if key in value:
                    target[key] = value[key]
            for remote, pairs in ((value or {}).get("ports") or {}).items():
                listed = target["ports"].setdefault(remote, [])
                for pair in pairs or []:
                    pair = list(pair) if not isinstance(pair, dict) else [pair.get("mac_address"),
                                                                          pair.get("ip_address")]
                    if pair not in listed:
                        listed.append(pair)
    return result

"""The firewall renderers against the book's iptables-save sample (ch06-09 spec, 5.4)."""
import pytest

from netweave.service_plugins.port_security.firewall import conntrack, model, names, render, restore, rules
from netweave.service_plugins.port_security.firewall import zones as zones_mod

PORT_ID = "adcc4b66-c1b4-4f2e-9c33-4a1c1a2a7d10"
NETWORK_ID = "03327707-c369-4bd7-bd71-a42d9bcf49b8"
WEB = "7e1d3a55-8d0e-4b8e-a1f4-1b5f5f0c9e21"
DEFAULT = "fae5da02-5d96-43df-aebf-bf0210d353bc"

BOOK_FILTER = """\
-A INPUT -j neutron-linuxbri-INPUT
-A FORWARD -j neutron-filter-top
-A FORWARD -j neutron-linuxbri-FORWARD
-A OUTPUT -j neutron-filter-top
-A OUTPUT -j neutron-linuxbri-OUTPUT
-A neutron-filter-top -j neutron-linuxbri-local
-A neutron-linuxbri-FORWARD -m physdev --physdev-out tapadcc4b66-c1 --physdev-is-bridged -j neutron-linuxbri-sg-chain
-A neutron-linuxbri-FORWARD -m physdev --physdev-in tapadcc4b66-c1 --physdev-is-bridged -j neutron-linuxbri-sg-chain
-A neutron-linuxbri-INPUT -m physdev --physdev-in tapadcc4b66-c1 --physdev-is-bridged -j neutron-linuxbri-oadcc4b66-c
-A neutron-linuxbri-iadcc4b66-c -m state --state RELATED,ESTABLISHED -j RETURN
-A neutron-linuxbri-iadcc4b66-c -d 192.168.206.6/32 -p udp -m udp --sport 67 --dport 68 -j RETURN
-A neutron-linuxbri-iadcc4b66-c -d 255.255.255.255/32 -p udp -m udp --sport 67 --dport 68 -j RETURN
-A neutron-linuxbri-iadcc4b66-c -p tcp -m tcp --dport 443 -j RETURN
-A neutron-linuxbri-iadcc4b66-c -p tcp -m tcp --dport 80 -j RETURN
-A neutron-linuxbri-iadcc4b66-c -m set --match-set NIPv4fae5da02-5d96-43df-aebf- src -j RETURN
-A neutron-linuxbri-iadcc4b66-c -p icmp -j RETURN
-A neutron-linuxbri-iadcc4b66-c -p tcp -m tcp --dport 22 -j RETURN
-A neutron-linuxbri-iadcc4b66-c -m state --state INVALID -j DROP
-A neutron-linuxbri-iadcc4b66-c -j neutron-linuxbri-sg-fallback
-A neutron-linuxbri-oadcc4b66-c -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN
-A neutron-linuxbri-oadcc4b66-c -j neutron-linuxbri-sadcc4b66-c
-A neutron-linuxbri-oadcc4b66-c -p udp -m udp --sport 68 --dport 67 -m comment --comment "Allow DHCP client traffic." -j RETURN
-A neutron-linuxbri-oadcc4b66-c -p udp -m udp --sport 67 --dport 68 -m comment --comment "Prevent DHCP Spoofing by VM." -j DROP
-A neutron-linuxbri-oadcc4b66-c -m state --state RELATED,ESTABLISHED -j RETURN
-A neutron-linuxbri-oadcc4b66-c -j RETURN
-A neutron-linuxbri-oadcc4b66-c -m state --state INVALID -j DROP
-A neutron-linuxbri-oadcc4b66-c -m comment --comment "Send unmatched traffic to the fallback chain." -j neutron-linuxbri-sg-fallback
-A neutron-linuxbri-sadcc4b66-c -s 192.168.206.6/32 -m mac --mac-source FA:16:3E:0C:D2:AB -j RETURN
-A neutron-linuxbri-sadcc4b66-c -m comment --comment "Drop traffic without an IP/MAC allow rule." -j DROP
-A neutron-linuxbri-sg-chain -m physdev --physdev-out tapadcc4b66-c1 --physdev-is-bridged -j neutron-linuxbri-iadcc4b66-c
-A neutron-linuxbri-sg-chain -m physdev --physdev-in tapadcc4b66-c1 --physdev-is-bridged -j neutron-linuxbri-oadcc4b66-c
-A neutron-linuxbri-sg-chain -j ACCEPT
-A neutron-linuxbri-sg-fallback -m comment --comment "Default drop rule for unmatched traffic." -j DROP
"""

BOOK_RAW = """\
-A PREROUTING -j neutron-linuxbri-PREROUTING
-A OUTPUT -j neutron-linuxbri-OUTPUT
-A neutron-linuxbri-PREROUTING -m physdev --physdev-in brq03327707-c3 -m comment --comment "Set zone for dcc4b66-c1" -j CT --zone 1
-A neutron-linuxbri-PREROUTING -i brq03327707-c3 -m comment --comment "Set zone for dcc4b66-c1" -j CT --zone 1
-A neutron-linuxbri-PREROUTING -m physdev --physdev-in tapadcc4b66-c1 -m comment --comment "Set zone for dcc4b66-c1" -j CT --zone 1
"""


def rule(direction, ethertype="IPv4", **fields):
    return dict(fields, direction=direction, ethertype=ethertype)


def book_state(**port_fields):
    port = dict(id=PORT_ID, device=PORT_ID, network_id=NETWORK_ID, mac_address="fa:16:3e:0c:d2:ab",
                fixed_ips=["192.168.206.6"], allowed_address_pairs=[], port_security_enabled=True,
                security_groups=[WEB, DEFAULT], device_owner="compute:nova")
    port.update(port_fields)
    web = [rule("ingress", protocol="tcp", port_range_min=443, port_range_max=443),
           rule("ingress", protocol="tcp", port_range_min=80, port_range_max=80, remote_ip_prefix="0.0.0.0/0"),
           rule("egress"), rule("egress", "IPv6")]
    default = [rule("ingress", remote_group_id=DEFAULT), rule("ingress", "IPv6", remote_group_id=DEFAULT),
               rule("ingress", protocol="icmp"), rule("ingress", protocol="tcp", port_range_min=22,
                                                      port_range_max=22),
               rule("egress"), rule("egress", "IPv6")]
    return model.FirewallState(
        ports={PORT_ID: model.Port.from_dict(port)},
        rules={WEB: tuple(map(model.Rule.from_dict, web)), DEFAULT: tuple(map(model.Rule.from_dict, default))},
        members={DEFAULT: model.members_from_dict({"IPv4": ["192.168.206.6"], "IPv6": []})})


def rule_lines(text):
    return [line for line in text.splitlines() if line.startswith("-A ")]


def test_filter_table_is_the_books_sample():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    assert rule_lines(render.save_text(ruleset, "IPv4", "filter")) == BOOK_FILTER.splitlines()


def test_raw_table_sets_one_zone_per_network_as_in_the_book():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    assert rule_lines(render.save_text(ruleset, "IPv4", "raw")) == BOOK_RAW.splitlines()


def test_chain_and_set_names():
    assert names.port_chain("neutron-linuxbri", "i", PORT_ID) == "neutron-linuxbri-iadcc4b66-c"
    assert len(names.port_chain("neutron-openvswi", "s", PORT_ID)) == 28
    assert names.ipset_name("IPv4", DEFAULT) == "NIPv4fae5da02-5d96-43df-aebf-"
    assert names.ipset_name("IPv6", DEFAULT) == "NIPv6fae5da02-5d96-43df-aebf-"
    assert len(names.ipset_swap_name("IPv6", DEFAULT)) <= 31


def test_ipset_holds_members_of_referenced_groups_only():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    assert ruleset.ipsets == {"NIPv4fae5da02-5d96-43df-aebf-": ("IPv4", ("192.168.206.6/32",)),
                              "NIPv6fae5da02-5d96-43df-aebf-": ("IPv6", ())}


def test_without_ipset_each_member_is_a_rule():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1}, use_ipset=False)
    chain = ruleset.tables["IPv4"]["filter"]["neutron-linuxbri-iadcc4b66-c"]
    assert "-s 192.168.206.6/32 -j RETURN" in chain
    assert not any("match-set" in body for body in chain)
    assert ruleset.ipsets == {}


def test_hybrid_driver_uses_the_openvswi_prefix_and_a_zone_per_port():
    state = book_state()
    second = "bdcc4b66-0000-4000-8000-000000000002"
    state.ports[second] = model.Port.from_dict(dict(id=second, network_id=NETWORK_ID, mac_address="fa:16:3e:00:00:02",
                                                    fixed_ips=["192.168.206.7"], security_groups=[WEB]))
    zones = {PORT_ID: 3, second: 4}
    ruleset = render.render(state, render.HYBRID, zones)
    filter_v4 = ruleset.tables["IPv4"]["filter"]
    assert filter_v4["neutron-openvswi-FORWARD"][0] == (
        "-m physdev --physdev-out tapadcc4b66-c1 --physdev-is-bridged -j neutron-openvswi-sg-chain")
    assert "neutron-openvswi-iadcc4b66-c" in filter_v4 and "neutron-openvswi-ibdcc4b66-0" in filter_v4
    raw = ruleset.tables["IPv4"]["raw"]["neutron-openvswi-PREROUTING"]
    assert raw[:3] == (
        '-m physdev --physdev-in qvbadcc4b66-c1 -m comment --comment "Set zone for dcc4b66-c1" -j CT --zone 3',
        '-i qvbadcc4b66-c1 -m comment --comment "Set zone for dcc4b66-c1" -j CT --zone 3',
        '-m physdev --physdev-in tapadcc4b66-c1 -m comment --comment "Set zone for dcc4b66-c1" -j CT --zone 3')
    assert raw[3].endswith("--zone 4")
    assert ruleset.ebtables == {}


def test_zone_map_gives_the_lowest_free_zone_and_keeps_zones():
    zone_map = zones_mod.ZoneMap()
    assert zone_map.assign(["net-b", "net-a"]) == {"net-a": 1, "net-b": 2}
    assert zone_map.assign(["net-b", "net-c"]) == {"net-b": 2, "net-c": 1}
    assert zone_map.assign(["net-b", "net-c", "net-d"], preferred={"net-d": 9}) == {"net-b": 2, "net-c": 1,
                                                                                     "net-d": 9}


def test_ipv6_chains_allow_neighbour_discovery_and_link_local_source():
    state = book_state(fixed_ips=["192.168.206.6", "fd00::6"])
    chains = render.render(state, render.LINUXBRIDGE, {NETWORK_ID: 1}).tables["IPv6"]["filter"]
    ingress = chains["neutron-linuxbri-iadcc4b66-c"]
    assert "-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN" in ingress
    assert "-m set --match-set NIPv6fae5da02-5d96-43df-aebf- src -j RETURN" in ingress
    assert "-p icmp -j RETURN" not in ingress          # an IPv4 rule stays in the IPv4 chain
    spoof = chains["neutron-linuxbri-sadcc4b66-c"]
    assert spoof[:2] == ("-s fd00::6/128 -m mac --mac-source FA:16:3E:0C:D2:AB -j RETURN",
                         "-s fe80::f816:3eff:fe0c:d2ab/128 -m mac --mac-source FA:16:3E:0C:D2:AB -j RETURN")
    egress = chains["neutron-linuxbri-oadcc4b66-c"]
    assert egress.index("-j neutron-linuxbri-sadcc4b66-c") < egress.index("-p ipv6-icmp -j RETURN")


def test_allowed_address_pairs_extend_the_spoof_chain_and_arp_protection():
    state = book_state(allowed_address_pairs=[{"ip_address": "10.0.0.0/24", "mac_address": "fa:16:3e:00:00:01"},
                                              {"ip_address": "192.168.206.200"}])
    ruleset = render.render(state, render.LINUXBRIDGE, {NETWORK_ID: 1})
    spoof = ruleset.tables["IPv4"]["filter"]["neutron-linuxbri-sadcc4b66-c"]
    assert spoof == ("-s 192.168.206.6/32 -m mac --mac-source FA:16:3E:0C:D2:AB -j RETURN",
                     "-s 10.0.0.0/24 -m mac --mac-source FA:16:3E:00:00:01 -j RETURN",
                     "-s 192.168.206.200/32 -m mac --mac-source FA:16:3E:0C:D2:AB -j RETURN",
                     '-m comment --comment "Drop traffic without an IP/MAC allow rule." -j DROP')
    assert ruleset.ebtables["neutronARP-tapadcc4b66-c1"] == (
        "-p ARP --arp-ip-src 192.168.206.6 -j ACCEPT", "-p ARP --arp-ip-src 10.0.0.0/24 -j ACCEPT",
        "-p ARP --arp-ip-src 192.168.206.200 -j ACCEPT", "-j DROP")
    assert ruleset.ebtables["neutronMAC-tapadcc4b66-c1"] == (
        "-s fa:16:3e:0c:d2:ab -j RETURN", "-s fa:16:3e:00:00:01 -j RETURN", "-j DROP")


def test_port_security_disabled_gets_accept_rules_and_no_port_chains():
    ruleset = render.render(book_state(port_security_enabled=False), render.LINUXBRIDGE, {})
    filter_v4 = ruleset.tables["IPv4"]["filter"]
    assert not any(chain.endswith("adcc4b66-c") for chain in filter_v4)
    assert all(body.endswith("-j ACCEPT") for body in filter_v4["neutron-linuxbri-FORWARD"])
    assert len(filter_v4["neutron-linuxbri-FORWARD"]) == 2
    assert ruleset.tables["IPv4"]["raw"]["neutron-linuxbri-PREROUTING"] == ()


@pytest.mark.parametrize("fields, expected", [
    (dict(protocol="tcp", port_range_min=80, port_range_max=80), "-p tcp -m tcp --dport 80 -j RETURN"),
    (dict(protocol="udp", port_range_min=1000, port_range_max=2000),
     "-p udp -m multiport --dports 1000:2000 -j RETURN"),
    (dict(protocol="tcp", port_range_min=1, port_range_max=65535), "-p tcp -j RETURN"),
    (dict(protocol="6"), "-p tcp -j RETURN"),
    (dict(protocol="icmp", port_range_min=8, port_range_max=0), "-p icmp -m icmp --icmp-type 8/0 -j RETURN"),
    (dict(protocol="icmp", port_range_min=8), "-p icmp -m icmp --icmp-type 8 -j RETURN"),
    (dict(protocol="112"), "-p 112 -j RETURN"),
    (dict(remote_ip_prefix="10.1.2.3/8"), "-s 10.0.0.0/8 -j RETURN"),
    (dict(protocol="any"), "-j RETURN"),
])
def test_ingress_rule_bodies(fields, expected):
    assert rules.rule_bodies(model.Rule.from_dict(rule("ingress", **fields))) == [expected]


def test_ipv6_icmp_and_egress_prefix():
    assert rules.rule_bodies(model.Rule.from_dict(rule("ingress", "IPv6", protocol="icmp", port_range_min=128))) \
        == ["-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j RETURN"]
    assert rules.rule_bodies(model.Rule.from_dict(rule("egress", "IPv6", remote_ip_prefix="fd00::/64",
                                                       protocol="udp", port_range_min=53, port_range_max=53))) \
        == ["-d fd00::/64 -p udp -m udp --dport 53 -j RETURN"]
    assert rules.rule_bodies(model.Rule.from_dict(rule("egress", remote_group_id=DEFAULT))) \
        == ["-m set --match-set NIPv4fae5da02-5d96-43df-aebf- dst -j RETURN"]


def test_rule_with_a_prefix_of_the_wrong_family_is_refused():
    with pytest.raises(ValueError):
        model.Rule.from_dict(rule("ingress", "IPv6", remote_ip_prefix="10.0.0.0/8"))


def test_restore_of_an_unchanged_ruleset_is_nothing_and_changes_touch_only_changed_chains():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    first = restore.iptables_restore({}, ruleset.tables["IPv4"], ruleset.hooks)
    assert "-I INPUT 1 -j neutron-linuxbri-INPUT" in first and "-I FORWARD 2 -j neutron-linuxbri-FORWARD" in first
    applied = {table: restore.TableState(chains=dict(chains), hooks=ruleset.hooks[table])
               for table, chains in ruleset.tables["IPv4"].items()}
    assert restore.iptables_restore(applied, ruleset.tables["IPv4"], ruleset.hooks) is None

    state = book_state()
    state.rules[WEB] = state.rules[WEB][1:]          # drop tcp 443
    changed = render.render(state, render.LINUXBRIDGE, {NETWORK_ID: 1})
    text = restore.iptables_restore(applied, changed.tables["IPv4"], changed.hooks)
    declared = [line for line in text.splitlines() if line.startswith(":")]
    assert declared == [":neutron-linuxbri-iadcc4b66-c - [0:0]"]
    assert "--dport 443" not in text and "-I " not in text and "*raw" not in text


def test_removed_port_chains_are_flushed_and_deleted():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    applied = {table: restore.TableState(chains=dict(chains), hooks=ruleset.hooks[table])
               for table, chains in ruleset.tables["IPv4"].items()}
    empty = model.FirewallState(ports={}, rules={}, members={})
    gone = render.render(empty, render.LINUXBRIDGE, {})
    text = restore.iptables_restore(applied, gone.tables["IPv4"], gone.hooks)
    for letter in "ios":
        chain = "neutron-linuxbri-%sadcc4b66-c" % letter
        assert ":%s - [0:0]" % chain in text and "-X %s" % chain in text
    assert text.index("-A neutron-linuxbri-sg-chain -j ACCEPT") < text.index("-X neutron-linuxbri-iadcc4b66-c")


def test_parse_save_finds_our_chains_and_hooks():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    text = render.save_text(ruleset, "IPv4", "filter") + "*filter\n:other - [0:0]\n-A other -j DROP\nCOMMIT\n"
    state = restore.parse_save(text, "filter", "neutron-linuxbri",
                               {"neutron-linuxbri-INPUT", "neutron-filter-top", "neutron-linuxbri-FORWARD",
                                "neutron-linuxbri-OUTPUT"})
    assert state.chains == ruleset.tables["IPv4"]["filter"]
    assert state.hooks == ruleset.hooks["filter"]
    assert restore.iptables_restore({"filter": state}, {"filter": ruleset.tables["IPv4"]["filter"]},
                                    ruleset.hooks) is None


def test_ipset_plan_uses_deltas_for_known_sets_and_swap_for_new_ones():
    name = names.ipset_name("IPv4", DEFAULT)
    new = restore.ipset_plan({}, {name: ("IPv4", ("10.0.0.5/32", "10.0.1.0/24"))})
    assert new.before.splitlines() == [
        "create %s hash:net family inet -exist" % name, "create %s-n hash:net family inet -exist" % name,
        "flush %s-n" % name, "add %s-n 10.0.0.5 -exist" % name, "add %s-n 10.0.1.0/24 -exist" % name,
        "swap %s-n %s" % (name, name), "destroy %s-n" % name]
    delta = restore.ipset_plan({name: ("IPv4", ("10.0.0.5/32", "10.0.0.6/32"))},
                               {name: ("IPv4", ("10.0.0.6/32", "10.0.0.7/32"))})
    assert delta.before.splitlines() == ["del %s 10.0.0.5 -exist" % name, "add %s 10.0.0.7 -exist" % name]
    assert (delta.added, delta.removed, delta.after) == (1, 1, None)
    gone = restore.ipset_plan({name: None}, {})
    assert gone.before is None and gone.after == "destroy %s\n" % name


def test_conntrack_plan_for_a_removed_rule_and_a_departed_member():
    old = book_state()
    new = book_state()
    new.rules[WEB] = new.rules[WEB][1:]                        # tcp 443 removed
    new.members[DEFAULT] = model.members_from_dict({"IPv4": []})
    old.members[DEFAULT] = model.members_from_dict({"IPv4": ["192.168.206.9"]})
    commands = conntrack.plan(old, new, {NETWORK_ID: 4})
    assert ["-D", "-f", "ipv4", "-w", "4", "-d", "192.168.206.6", "-p", "tcp", "--dport", "443"] in commands
    assert ["-D", "-f", "ipv4", "-w", "4", "-s", "192.168.206.9"] in commands
    assert len(commands) == 2
    assert conntrack.plan(old, old, {NETWORK_ID: 4}) == []
    removed = model.FirewallState(ports={}, rules=old.rules, members=old.members)
    assert conntrack.plan(old, removed, {NETWORK_ID: 4}) == [
        ["-D", "-f", "ipv4", "-w", "4", "-d", "192.168.206.6"], ["-D", "-f", "ipv4", "-w", "4", "-s", "192.168.206.6"]]


def test_rendering_is_deterministic():
    first = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    second = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    assert render.save_text(first, "IPv6", "filter") == render.save_text(second, "IPv6", "filter")
    assert first == second


def test_ports_of_the_network_itself_are_trusted():
    ruleset = render.render(book_state(device_owner="network:dhcp"), render.LINUXBRIDGE, {})
    forward = ruleset.tables["IPv4"]["filter"]["neutron-linuxbri-FORWARD"]
    assert forward == tuple("-m physdev --%s tapadcc4b66-c1 --physdev-is-bridged %s" % (way, render.PORT_SECURITY_OFF)
                            for way in ("physdev-out", "physdev-in"))


def test_conntrack_plan_when_a_port_leaves_a_group():
    old = book_state()
    new = book_state(security_groups=[DEFAULT])
    commands = conntrack.plan(old, new, {NETWORK_ID: 2})
    assert commands == [["-D", "-f", "ipv4", "-w", "2", "-d", "192.168.206.6", "-p", "tcp", "--dport", "443"],
                        ["-D", "-f", "ipv4", "-w", "2", "-d", "192.168.206.6", "-p", "tcp", "--dport", "80"]]
    # port security turned off: everything is allowed, nothing to cut
    assert conntrack.plan(old, book_state(port_security_enabled=False), {NETWORK_ID: 2}) == []


def test_ebtables_restore_hooks_once_and_deletes_chains_of_gone_ports():
    ruleset = render.render(book_state(), render.LINUXBRIDGE, {NETWORK_ID: 1})
    top = "neutron-linuxbri-PREROUTING"
    first = restore.ebtables_restore({}, ruleset.ebtables, top).splitlines()
    assert first[0] == "*nat" and "-A PREROUTING -j %s" % top in first
    assert ":neutronARP-tapadcc4b66-c1 RETURN" in first
    saved = "\n".join(["*nat", ":PREROUTING ACCEPT", ":%s RETURN" % top, "-A PREROUTING -j %s" % top] +
                      [":%s RETURN" % chain for chain in ruleset.ebtables if chain != top] +
                      ["-A %s %s" % (chain, body) for chain, bodies in ruleset.ebtables.items() for body in bodies])
    chains, hooked = restore.parse_ebtables_save(saved, top)
    assert hooked and chains == ruleset.ebtables
    assert restore.ebtables_restore(chains, ruleset.ebtables, top) is None
    empty = render.render(model.FirewallState(ports={}, rules={}, members={}), render.LINUXBRIDGE, {})
    gone = restore.ebtables_restore(chains, empty.ebtables, top).splitlines()
    assert "-X neutronMAC-tapadcc4b66-c1" in gone and "-A PREROUTING -j %s" % top not in gone


STATELESS_RAW = """\
-A PREROUTING -j neutron-linuxbri-PREROUTING
-A OUTPUT -j neutron-linuxbri-OUTPUT
-A neutron-linuxbri-PREROUTING -m physdev --physdev-in tapadcc4b66-c1 -m comment --comment "Stateless port dcc4b66-c1" -j CT --notrack
-A neutron-linuxbri-PREROUTING -d 192.168.206.6/32 -m physdev --physdev-in brq03327707-c3 -m comment --comment "Stateless port dcc4b66-c1" -j CT --notrack
-A neutron-linuxbri-PREROUTING -d 192.168.206.6/32 -i brq03327707-c3 -m comment --comment "Stateless port dcc4b66-c1" -j CT --notrack
"""


def test_a_stateless_port_is_filtered_without_connection_tracking():
    ruleset = render.render(book_state(stateful=False), render.LINUXBRIDGE, {NETWORK_ID: 1})
    stateful_lines = BOOK_FILTER.splitlines()
    connection_lines = [line for line in stateful_lines if "--state" in line]
    assert len(connection_lines) == 4
    # The book's filter table less its RELATED,ESTABLISHED shortcuts and INVALID drops.
    assert rule_lines(render.save_text(ruleset, "IPv4", "filter")) == [
        line for line in stateful_lines if line not in connection_lines]
    assert rule_lines(render.save_text(ruleset, "IPv4", "raw")) == STATELESS_RAW.splitlines()
    ipv6_raw = rule_lines(render.save_text(ruleset, "IPv6", "raw"))
    assert ipv6_raw[2:] == [STATELESS_RAW.splitlines()[2]]
    assert not [body for body in ruleset.tables["IPv6"]["filter"]["neutron-linuxbri-iadcc4b66-c"]
                if "--state" in body]


def test_notrack_comes_before_the_zones_of_stateful_ports():
    other = "0b3c3f1e-2222-4a44-9b55-123456789abc"
    state = book_state(stateful=False)
    ports = dict(state.ports)
    ports[other] = model.Port.from_dict(dict(id=other, network_id=NETWORK_ID, mac_address="fa:16:3e:00:00:01",
                                             fixed_ips=["192.168.206.7"], security_groups=[WEB]))
    state = model.FirewallState(ports=ports, rules=state.rules, members=state.members)
    raw = rule_lines(render.save_text(render.render(state, render.LINUXBRIDGE, {NETWORK_ID: 1}), "IPv4", "raw"))
    kinds = [("notrack" if "--notrack" in line else "zone") for line in raw[2:]]
    assert kinds == ["notrack"] * 3 + ["zone"] * 3


def test_a_port_without_stateful_in_its_dict_is_stateful():
    port = model.Port.from_dict(dict(id=PORT_ID, network_id=NETWORK_ID, mac_address="fa:16:3e:0c:d2:ab"))
    assert port.stateful is True
    assert model.Port.from_dict(dict(id=PORT_ID, mac_address="fa:16:3e:0c:d2:ab", stateful=False)).stateful is False

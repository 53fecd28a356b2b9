"""The qrouter- namespace's tables: golden against the book (spec 4.4.1, 4.4.2, T5-T7, T10)."""
from harness import l3
from netweave.core.agent import iptables_restore
from netweave.service_plugins.router.agent import conntrack, iptables_rules, router_info
from netweave.service_plugins.router.agent.settings import DataplaneSettings

SETTINGS = DataplaneSettings()

# Spec 4.4.1, the iptables-save form, line for line.
BOOK_SNAT_ONLY = """\
-A PREROUTING -j neutron-l3-agent-PREROUTING
-A OUTPUT -j neutron-l3-agent-OUTPUT
-A POSTROUTING -j neutron-l3-agent-POSTROUTING
-A POSTROUTING -j neutron-postrouting-bottom
-A neutron-l3-agent-POSTROUTING ! -i qg-73e65609-f0 ! -o qg-73e65609-f0 -m conntrack ! --ctstate DNAT -j ACCEPT
-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 9697
-A neutron-l3-agent-snat -j neutron-l3-agent-float-snat
-A neutron-l3-agent-snat -o qg-73e65609-f0 -j SNAT --to-source 10.30.0.106
-A neutron-l3-agent-snat -m mark ! --mark 0x2/0xffff -m conntrack --ctstate DNAT -j SNAT --to-source 10.30.0.106
-A neutron-postrouting-bottom -m comment --comment "Perform source NAT on outgoing traffic." -j neutron-l3-agent-snat
"""

# Spec 4.4.2: the three per floating IP rules (upstream floating_forward_rules, exact strings).
BOOK_FIP_RULES = [
    "-A neutron-l3-agent-PREROUTING -d 10.30.0.101/32 -j DNAT --to-destination 192.168.200.6",
    "-A neutron-l3-agent-OUTPUT -d 10.30.0.101/32 -j DNAT --to-destination 192.168.200.6",
    "-A neutron-l3-agent-float-snat -s 192.168.200.6/32 -j SNAT --to-source 10.30.0.101",
]

BOOK_NAT_CHAINS = {"neutron-l3-agent-OUTPUT", "neutron-l3-agent-POSTROUTING", "neutron-l3-agent-PREROUTING",
                   "neutron-l3-agent-float-snat", "neutron-l3-agent-snat", "neutron-postrouting-bottom"}


def rule_lines(text):
    return [line for line in text.splitlines() if line.startswith("-A ")]


def nat_save(description, settings=SETTINGS):
    tables = iptables_rules.render(router_info.parse_router(description), settings)
    return iptables_rules.save_text(tables, "nat")


def test_snat_only_nat_table_is_the_books_line_for_line():
    text = nat_save(l3.book_router())
    assert rule_lines(text) == BOOK_SNAT_ONLY.splitlines()
    declared = {line[1:].split()[0] for line in text.splitlines() if line.startswith(":")}
    # T5: the chain set iptables -t nat -L shows.
    assert declared == BOOK_NAT_CHAINS | {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}


def test_floating_ip_adds_exactly_the_three_book_rules_in_iptables_save_order():
    without = rule_lines(nat_save(l3.book_router()))
    with_fip = rule_lines(nat_save(l3.book_router(fixed_ip="192.168.200.6")))
    assert sorted(set(with_fip) - set(without)) == sorted(BOOK_FIP_RULES)
    assert len(with_fip) == len(without) + 3
    # Ordered as iptables-save prints the book's 4.4.2 state: REDIRECT before the DNAT,
    # the float-snat jump first in snat.
    assert with_fip.index(BOOK_FIP_RULES[0]) == with_fip.index(
        "-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 "
        "-j REDIRECT --to-ports 9697") + 1
    snat = [line for line in with_fip if line.startswith("-A neutron-l3-agent-snat ")]
    assert snat[0] == "-A neutron-l3-agent-snat -j neutron-l3-agent-float-snat"


def test_reassociation_rewrites_the_rules_with_the_new_fixed_ip():
    moved = rule_lines(nat_save(l3.book_router(fixed_ip="192.168.200.10")))
    expected = {line.replace("192.168.200.6", "192.168.200.10") for line in BOOK_FIP_RULES}
    assert expected <= set(moved)
    assert not [line for line in moved if "192.168.200.6" in line]


def test_enable_snat_false_drops_only_the_default_snat_rule():
    """T6: the float-snat jump, the POSTROUTING ACCEPT and the mark rule stay."""
    lines = rule_lines(nat_save(l3.book_router(enable_snat=False)))
    expected = [line for line in BOOK_SNAT_ONLY.splitlines()
                if line != "-A neutron-l3-agent-snat -o qg-73e65609-f0 -j SNAT --to-source 10.30.0.106"]
    assert lines == expected


def test_no_gateway_leaves_only_the_skeleton_and_metadata():
    description = l3.router(interfaces=[l3.book_interface()])
    lines = rule_lines(nat_save(description))
    assert lines == [
        "-A PREROUTING -j neutron-l3-agent-PREROUTING",
        "-A OUTPUT -j neutron-l3-agent-OUTPUT",
        "-A POSTROUTING -j neutron-l3-agent-POSTROUTING",
        "-A POSTROUTING -j neutron-postrouting-bottom",
        "-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 "
        "-j REDIRECT --to-ports 9697",
        "-A neutron-l3-agent-snat -j neutron-l3-agent-float-snat",
        '-A neutron-postrouting-bottom -m comment --comment "Perform source NAT on outgoing traffic." '
        "-j neutron-l3-agent-snat",
    ]


def test_metadata_rules_follow_enable_metadata_proxy():
    """T10: REDIRECT (nat), MARK (mangle) and the INPUT accept/drop pair (filter), or none."""
    router = router_info.parse_router(l3.book_router())
    on = iptables_rules.render(router, SETTINGS)
    assert rule_lines(iptables_rules.save_text(on, "mangle")) == [
        "-A PREROUTING -j neutron-l3-agent-PREROUTING",
        "-A INPUT -j neutron-l3-agent-INPUT",
        "-A FORWARD -j neutron-l3-agent-FORWARD",
        "-A OUTPUT -j neutron-l3-agent-OUTPUT",
        "-A POSTROUTING -j neutron-l3-agent-POSTROUTING",
        "-A neutron-l3-agent-PREROUTING -j neutron-l3-agent-mark",
        "-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 "
        "-j MARK --set-xmark 0x1/0xffff",
        "-A neutron-l3-agent-mark -i qg-73e65609-f0 -j MARK --set-xmark 0x2/0xffff",
    ]
    assert rule_lines(iptables_rules.save_text(on, "filter")) == [
        "-A INPUT -j neutron-l3-agent-INPUT",
        "-A FORWARD -j neutron-filter-top",
        "-A FORWARD -j neutron-l3-agent-FORWARD",
        "-A OUTPUT -j neutron-filter-top",
        "-A OUTPUT -j neutron-l3-agent-OUTPUT",
        "-A neutron-filter-top -j neutron-l3-agent-local",
        "-A neutron-l3-agent-INPUT -m mark --mark 0x1/0xffff -j ACCEPT",
        "-A neutron-l3-agent-INPUT -p tcp -m tcp --dport 9697 -j DROP",
    ]
    off = iptables_rules.render(router, DataplaneSettings(enable_metadata_proxy=False))
    everything = "".join(iptables_rules.save_text(off, table) for table in iptables_rules.TABLES)
    assert "169.254.169.254" not in everything and "9697" not in everything and "0x1/" not in everything


def test_an_unchanged_router_restores_nothing_and_a_new_fip_touches_only_its_chains():
    router = router_info.parse_router(l3.book_router())
    tables = iptables_rules.render(router, SETTINGS)
    empty = iptables_restore.TableState()
    first = iptables_restore.table_restore("nat", empty, tables.chains["nat"], tables.hooks["nat"])
    assert "-I POSTROUTING 1 -j neutron-l3-agent-POSTROUTING" in first
    assert "-I POSTROUTING 2 -j neutron-postrouting-bottom" in first
    # What iptables-save then prints parses back to exactly what was rendered.
    state = iptables_restore.parse_save(iptables_rules.save_text(tables, "nat"), "nat", iptables_rules.owns,
                                        tables.hook_targets("nat"))
    assert state.chains == tables.chains["nat"] and state.hooks == tables.hooks["nat"]
    assert iptables_restore.table_restore("nat", state, tables.chains["nat"], tables.hooks["nat"]) == []

    with_fip = iptables_rules.render(router_info.parse_router(l3.book_router(fixed_ip="192.168.200.6")), SETTINGS)
    lines = iptables_restore.table_restore("nat", state, with_fip.chains["nat"], with_fip.hooks["nat"])
    assert [line for line in lines if line.startswith(":")] == [
        ":neutron-l3-agent-OUTPUT - [0:0]", ":neutron-l3-agent-PREROUTING - [0:0]",
        ":neutron-l3-agent-float-snat - [0:0]"]
    assert not [line for line in lines if line.startswith(("-I", "-D", "-X"))]


def test_floating_ip_map_and_the_flows_to_cut():
    """T8: disassociating or moving the floating IP cuts its flows, both directions."""
    fip6 = iptables_rules.render(router_info.parse_router(l3.book_router(fixed_ip="192.168.200.6")), SETTINGS)
    fip10 = iptables_rules.render(router_info.parse_router(l3.book_router(fixed_ip="192.168.200.10")), SETTINGS)
    bare = iptables_rules.render(router_info.parse_router(l3.book_router()), SETTINGS)
    mapped6 = iptables_rules.floating_ip_map(fip6.chains["nat"])
    assert mapped6 == {"10.30.0.101": "192.168.200.6"}
    mapped10 = iptables_rules.floating_ip_map(fip10.chains["nat"])
    assert conntrack.flows_to_cut(mapped6, mapped6) == []
    assert conntrack.flows_to_cut(mapped6, mapped10) == ["10.30.0.101"]
    assert conntrack.flows_to_cut(mapped6, iptables_rules.floating_ip_map(bare.chains["nat"])) == ["10.30.0.101"]
    assert conntrack.flows_to_cut({}, mapped6) == []
    assert conntrack.delete_commands(["10.30.0.101"]) == [["conntrack", "-D", "-d", "10.30.0.101"],
                                                          ["conntrack", "-D", "-q", "10.30.0.101"]]

"""The metering plugin's pure parts: the rules' checks, the iptables chains planned for a router
(Neutron's layout, spelt as iptables-save prints it) and the agent's pass over its routers."""
import pytest

from netweave.core.agent import commands, iptables_restore
from netweave.service_plugins.metering import exceptions as mexc
from netweave.service_plugins.metering import labels
from netweave.service_plugins.metering.agent import agent as agent_mod
from netweave.service_plugins.metering.agent import iptables_plan as plan

LABEL = "9d0e3b95-d0e3-4c47-b1a2-6a8e0e8e1a11"
GW_PORT = "73e65609-f0ea-4f4b-9581-42fe4b7df8d8"
QG = "qg-73e65609-f0"


def _rule(rule_id, direction="ingress", excluded=False, **prefixes):
    return dict({"id": rule_id, "metering_label_id": LABEL, "direction": direction, "excluded": excluded,
                 "remote_ip_prefix": None, "source_ip_prefix": None, "destination_ip_prefix": None}, **prefixes)


def _router(rules, router_id="r1", gw_port_id=GW_PORT):
    return {"id": router_id, "gw_port_id": gw_port_id, "_metering_labels": [{"id": LABEL, "rules": rules}]}


def test_chain_names_are_cut_to_28_characters():
    assert plan.label_chain(LABEL) == "neutron-meter-l-9d0e3b95-d0e"
    assert plan.rules_chain(LABEL) == "neutron-meter-r-9d0e3b95-d0e"
    assert len(plan.label_chain(LABEL)) == 28
    assert plan.owns("neutron-meter-FORWARD") and not plan.owns("neutron-l3-agent-FORWARD")


def test_router_chains_in_neutrons_layout():
    chains = plan.router_chains(_router([
        _rule("b", remote_ip_prefix="10.0.0.5/24"),
        _rule("a", direction="egress", remote_ip_prefix="203.0.113.0/24"),
        _rule("c", direction="egress", excluded=True, remote_ip_prefix="203.0.113.7"),
        _rule("d", source_ip_prefix="198.51.100.0/24", destination_ip_prefix="10.0.0.0/24"),
        _rule("e", direction="egress", destination_ip_prefix="2001:db8::/64"),
    ]))
    assert chains == {
        "neutron-meter-FORWARD": ("-j neutron-meter-r-9d0e3b95-d0e",),
        "neutron-meter-l-9d0e3b95-d0e": ("",),
        "neutron-meter-r-9d0e3b95-d0e": (
            # Excluded first; prefixes as iptables-save prints them; IPv6 left out.
            "-d 203.0.113.7/32 -o %s -j RETURN" % QG,
            "-d 203.0.113.0/24 -o %s -j neutron-meter-l-9d0e3b95-d0e" % QG,
            "-s 10.0.0.0/24 -i %s -j neutron-meter-l-9d0e3b95-d0e" % QG,
            "-s 198.51.100.0/24 -d 10.0.0.0/24 -i %s -j neutron-meter-l-9d0e3b95-d0e" % QG,
        ),
    }


def test_a_router_without_gateway_or_labels_keeps_only_the_top_chain():
    assert plan.router_chains(_router([_rule("a", remote_ip_prefix="10.0.0.0/8")], gw_port_id=None)) == {
        "neutron-meter-FORWARD": ()}
    assert plan.router_chains({"id": "r", "gw_port_id": GW_PORT, "_metering_labels": []}) == {
        "neutron-meter-FORWARD": ()}


SAVED = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [10:840]
:OUTPUT ACCEPT [0:0]
:neutron-filter-top - [0:0]
:neutron-l3-agent-FORWARD - [0:0]
:neutron-meter-FORWARD - [0:0]
:neutron-meter-l-9d0e3b95-d0e - [0:0]
:neutron-meter-r-9d0e3b95-d0e - [0:0]
-A FORWARD -j neutron-meter-FORWARD
-A FORWARD -j neutron-filter-top
-A FORWARD -j neutron-l3-agent-FORWARD
-A neutron-meter-FORWARD -j neutron-meter-r-9d0e3b95-d0e
-A neutron-meter-l-9d0e3b95-d0e
-A neutron-meter-r-9d0e3b95-d0e -s 10.0.0.0/24 -i qg-73e65609-f0 -j neutron-meter-l-9d0e3b95-d0e
COMMIT
"""


def test_what_iptables_save_shows_is_left_alone_and_a_change_touches_only_its_chain():
    current = iptables_restore.parse_save(SAVED, "filter", plan.owns, (plan.TOP_CHAIN,))
    router = _router([_rule("b", remote_ip_prefix="10.0.0.5/24")])
    assert iptables_restore.table_restore("filter", current, plan.router_chains(router), plan.HOOKS) == []
    router = _router([_rule("b", remote_ip_prefix="10.0.0.5/24"), _rule("c", excluded=True,
                                                                          remote_ip_prefix="10.0.0.9/32")])
    lines = iptables_restore.table_restore("filter", current, plan.router_chains(router), plan.HOOKS)
    # Only the rules chain is redeclared: the label's counting chain keeps its counters.
    assert lines == ["*filter", ":neutron-meter-r-9d0e3b95-d0e - [0:0]",
                     "-A neutron-meter-r-9d0e3b95-d0e -s 10.0.0.9/32 -i %s -j RETURN" % QG,
                     "-A neutron-meter-r-9d0e3b95-d0e -s 10.0.0.0/24 -i %s -j neutron-meter-l-9d0e3b95-d0e" % QG,
                     "COMMIT"]


def test_removal_drops_the_hook_then_every_metering_chain():
    current = iptables_restore.parse_save(SAVED, "filter", plan.owns, (plan.TOP_CHAIN,))
    assert plan.removal_lines(current) == [
        "*filter", "-D FORWARD -j neutron-meter-FORWARD",
        ":neutron-meter-FORWARD - [0:0]", ":neutron-meter-l-9d0e3b95-d0e - [0:0]",
        ":neutron-meter-r-9d0e3b95-d0e - [0:0]",
        "-X neutron-meter-FORWARD", "-X neutron-meter-l-9d0e3b95-d0e", "-X neutron-meter-r-9d0e3b95-d0e",
        "COMMIT"]
    assert plan.removal_lines(iptables_restore.TableState()) == []


def test_parse_counters():
    listing = ("Chain neutron-meter-l-9d0e3b95-d0e (1 references)\n"
               "    pkts      bytes target     prot opt in     out     source               destination\n"
               "      12     1008            all  --  *      *       0.0.0.0/0            0.0.0.0/0\n")
    assert plan.parse_counters(listing) == (12, 1008)
    assert plan.parse_counters("Chain x (0 references)\n pkts bytes\n") == (0, 0)


# --- the API's checks --------------------------------------------------------------------------

@pytest.mark.parametrize("rule, fragment", [
    ({}, "You must define at least one"),
    ({"remote_ip_prefix": "10.0.0.0/8", "destination_ip_prefix": "10.0.0.0/8"}, "Cannot use 'remote-ip-prefix'"),
    ({"source_ip_prefix": "300.0.0.0/8"}, "source_ip_prefix: 300.0.0.0/8 is invalid ["),
])
def test_check_prefixes_refusals(rule, fragment):
    with pytest.raises(mexc.Invalid) as raised:
        labels.check_prefixes(rule)
    assert fragment in str(raised.value)
    assert raised.value.status == 400


def test_overlapping_is_judged_on_remote_prefixes_of_the_same_direction_and_excluded():
    existing = [_rule("a", remote_ip_prefix="10.0.0.0/16"), _rule("b", source_ip_prefix="192.0.2.0/24")]
    assert labels.overlapping(_rule("n", remote_ip_prefix="10.0.5.0/24"), existing)["id"] == "a"
    assert labels.overlapping(_rule("n", direction="egress", remote_ip_prefix="10.0.5.0/24"), existing) is None
    assert labels.overlapping(_rule("n", excluded=True, remote_ip_prefix="10.0.5.0/24"), existing) is None
    assert labels.overlapping(_rule("n", remote_ip_prefix="192.0.2.0/24"), existing) is None
    assert labels.overlapping(_rule("n", source_ip_prefix="10.0.0.0/16"), existing) is None


# --- the agent's pass ----------------------------------------------------------------------------

class FakeApi:
    def __init__(self, routers):
        self.routers = routers

    def get_sync_data_metering(self, context):
        return self.routers


class FakeDriver:
    def __init__(self, fail_for=()):
        self.applied, self.removed, self.fail_for = [], [], set(fail_for)

    def apply(self, namespace, router):
        if namespace in self.fail_for:
            raise commands.CommandError(["iptables-restore"], 1, stderr="boom")
        self.applied.append(namespace)
        return True

    def remove(self, namespace):
        self.removed.append(namespace)
        return True


def test_agent_pass_meters_present_routers_and_cleans_those_it_no_longer_meters():
    present = {"qrouter-r1", "qrouter-r2", "qrouter-old"}
    api, driver = FakeApi([_router([], "r1"), _router([], "r2"), _router([], "r3")]), FakeDriver()
    agent = agent_mod.MeteringAgent("host2", api, None, driver=driver, namespaces=lambda: sorted(present))
    assert agent.run_once()
    # r3 has no namespace yet; the first pass cleans any other router namespace of the host.
    assert driver.applied == ["qrouter-r1", "qrouter-r2"] and driver.removed == ["qrouter-old"]
    assert sorted(agent.metered) == ["r1", "r2"]
    api.routers = [_router([], "r1")]
    driver.applied, driver.removed = [], []
    assert agent.run_once()
    assert driver.applied == ["qrouter-r1"] and driver.removed == ["qrouter-r2"]
    assert agent.agent_state()["agent_type"] == "Metering agent"


def test_agent_pass_failing_for_one_router_serves_the_others_and_reports_it():
    api = FakeApi([_router([], "r1"), _router([], "r2")])
    driver = FakeDriver(fail_for={"qrouter-r1"})
    agent = agent_mod.MeteringAgent("host2", api, None, driver=driver,
                                    namespaces=lambda: ["qrouter-r1", "qrouter-r2"])
    assert not agent.run_once()
    assert driver.applied == ["qrouter-r2"]

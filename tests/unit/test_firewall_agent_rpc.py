"""SecurityGroupAgent and FirewalledAgent: what they ask the server and tell the driver."""
import oslo_messaging
from oslo_config import cfg

from netweave.core.agent import loop as agent_loop
from netweave.service_plugins.port_security import agent_rpc
from netweave.service_plugins.port_security.firewall import iptables, noop

GROUP, REMOTE = "g1", "g2"


class RecordingDriver(iptables.IptablesFirewallDriver):
    """The real driver's bookkeeping; apply() records instead of touching a kernel."""

    def __init__(self):
        super().__init__()
        self.applied = []

    def apply(self):
        self.applied.append(self.state())
        return iptables.ApplyReport()


class Server:
    def __init__(self):
        self.calls = []
        self.ports = {}

    def security_group_info_for_devices(self, context, devices):
        self.calls.append(list(devices))
        return {"devices": {d: self.ports[d] for d in devices if d in self.ports},
                "security_groups": {GROUP: [{"id": "r1", "direction": "ingress", "ethertype": "IPv4",
                                             "remote_group_id": REMOTE}]},
                "sg_member_ips": {REMOTE: {"IPv4": ["10.0.0.9"], "IPv6": []}}}


def port(port_id, groups=(GROUP,)):
    return {"id": port_id, "device": port_id, "network_id": "n1", "mac_address": "fa:16:3e:00:00:01",
            "fixed_ips": ["10.0.0.5"], "security_groups": list(groups)}


def make(chunk=500):
    server, driver = Server(), RecordingDriver()
    server.ports = {"p%d" % n: port("p%d" % n, (GROUP,) if n % 2 else ("other",)) for n in range(5)}
    return server, driver, agent_rpc.SecurityGroupAgent(driver, server, chunk=chunk)


def test_full_sync_fetches_in_chunks_and_replaces_the_state():
    server, driver, sg_agent = make(chunk=2)
    sg_agent.sync({"p0", "p1", "p2", "p3", "p4"}, full=True)
    assert server.calls == [["p0", "p1"], ["p2", "p3"], ["p4"]]
    assert sorted(driver.ports) == ["p0", "p1", "p2", "p3", "p4"]
    sg_agent.sync({"p1"}, full=True)
    assert sorted(driver.ports) == ["p1"]


def test_incremental_sync_asks_only_for_new_changed_and_notified_ports():
    server, driver, sg_agent = make()
    sg_agent.sync({"p0", "p1", "p2"}, full=True)
    server.calls.clear()
    sg_agent.sync({"p0", "p1", "p2"})
    assert server.calls == []                      # nothing to ask
    sg_agent.sync({"p0", "p1", "p2", "p3"}, changed={"p0"})
    assert server.calls == [["p0", "p3"]]
    woken = []
    sg_agent.wake = lambda: woken.append(1)
    endpoint = agent_rpc.SecurityGroupNotifications(sg_agent)
    endpoint.security_groups_rule_updated(None, security_groups=[GROUP])
    endpoint.security_groups_member_updated(None, security_groups=[REMOTE])
    assert woken == [1, 1]
    sg_agent.sync({"p1", "p2", "p3"})          # p0 left the host
    assert server.calls[-1] == ["p1", "p3"]     # the ports in GROUP, which uses REMOTE
    assert "p0" not in driver.ports


def test_a_failed_fetch_keeps_the_notifications_for_the_next_pass():
    server, driver, sg_agent = make()
    sg_agent.sync({"p1"}, full=True)

    def broken(context, devices):
        raise RuntimeError("no server")

    sg_agent.security_groups_rule_updated([GROUP])
    server.security_group_info_for_devices, original = broken, server.security_group_info_for_devices
    try:
        sg_agent.sync({"p1"})
    except RuntimeError:
        pass
    server.security_group_info_for_devices = original
    sg_agent.sync({"p1"})
    assert server.calls[-1] == ["p1"]


def test_noop_driver_asks_the_server_nothing():
    server = Server()
    sg_agent = agent_rpc.SecurityGroupAgent(noop.NoopFirewallDriver(), server)
    assert sg_agent.sync({"p1"}, full=True) is None and server.calls == []


def test_firewalled_agent_programs_the_firewall_before_wiring():
    order = []

    class L2Agent:
        def scan_devices(self):
            return {"tapp1": 1, "tapx": 2}

        def plan(self, desired, actual=None):
            return "plan"

        def apply(self, plan):
            order.append("wire")
            return agent_loop.Outcome()

    class Recorder:
        def sync(self, present, changed=(), full=False):
            order.append(("firewall", sorted(present), sorted(changed), full))

    wrapped = agent_rpc.FirewalledAgent(L2Agent(), Recorder())
    desired = agent_loop.DesiredState(devices={"tapp1": {"device": "tapp1", "port_id": "p1"},
                                               "tapx": {"device": "tapx"}},
                                      changed={"tapp1", "tapx"}, removed=set(), full=True)
    wrapped.apply(wrapped.plan(desired, wrapped.scan_devices()))
    assert order == [("firewall", ["p1"], ["p1"], True), "wire"]


def test_an_unavailable_driver_falls_back_to_noop_and_ipset_option_exists():
    conf = cfg.ConfigOpts()
    conf([])
    conf.register_opt(cfg.StrOpt("firewall_driver", default="openvswitch"), "securitygroup")
    transport = oslo_messaging.get_rpc_transport(conf, url="fake:/")
    sg_agent = agent_rpc.SecurityGroupAgent.from_conf(conf, transport=transport, context=None)
    assert isinstance(sg_agent.driver, noop.NoopFirewallDriver)
    assert conf.securitygroup.enable_ipset is True


def test_a_rule_that_makes_no_sense_is_left_out():
    driver = RecordingDriver()
    driver.update_security_group_rules(GROUP, [
        {"id": "a", "direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"},
        {"id": "b", "direction": "sideways", "ethertype": "IPv4"},
        {"id": "c", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
         "port_range_max": 22}])
    assert [rule.port_range_min for rule in driver.rules[GROUP]] == [22]


def test_a_host_without_ports_is_left_untouched():
    server, driver, sg_agent = make()
    assert sg_agent.sync(set(), full=True) is None
    assert driver.applied == []


def test_a_server_without_security_groups_leaves_ports_unfiltered():
    class OldServer:
        def security_group_info_for_devices(self, context, devices):
            raise oslo_messaging.NoSuchMethod("security_group_info_for_devices")

    driver = RecordingDriver()
    sg_agent = agent_rpc.SecurityGroupAgent(driver, OldServer())
    assert sg_agent.sync({"p1"}, full=True) is None
    assert sg_agent.server_without_groups and driver.ports == {}

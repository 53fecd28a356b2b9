"""Security groups on the agents: fetch what the server says, hand it to the firewall driver.

``SecurityGroupAgent`` is told by an L2 agent, once per pass, which ports are
on the host, which changed and which went away; it asks the server
(``security_group_info_for_devices``, batched) about the ones it must
refresh, feeds the driver and applies once. The server's casts
(``security_groups_rule_updated`` / ``security_groups_member_updated`` on
q-agent-notifier-security_group-update) only queue group ids and wake the
agent's loop; the next pass refetches the ports using those groups (rules) or
referencing them as a remote group (members: with ipset this becomes a set
delta and no table is rewritten). A full pass of the loop replaces the whole
firewall state.

``FirewalledAgent`` wraps an L2 agent for core.agent.loop.ReconcileLoop so the
firewall of a pass is in place before its devices are wired.
"""
import logging
import threading

import oslo_messaging

from netweave.core.agent import notifications as core_notifications
from netweave.core.rpc import serializer, topics
from netweave.service_plugins.port_security import config
from netweave.service_plugins.port_security import firewall as firewall_mod
from netweave.service_plugins.port_security import topics as sg_topics

LOG = logging.getLogger(__name__)

SUBSCRIPTION = (sg_topics.SECURITY_GROUP, topics.UPDATE)
CHUNK = 500          # ports per security_group_info_for_devices call


class SecurityGroupServerApi:
    """The call the agents make (topic q-plugin, no namespace)."""

    def __init__(self, transport, topic=topics.PLUGIN):
        target = oslo_messaging.Target(topic=topic, version="1.0")
        self.client = oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())

    def security_group_info_for_devices(self, context, devices):
        cctxt = self.client.prepare(version="1.2")
        return cctxt.call(context, "security_group_info_for_devices", devices=list(devices))


def merge_info(replies):
    merged = {"devices": {}, "security_groups": {}, "sg_member_ips": {}}
    for reply in replies:
        for key in merged:
            merged[key].update((reply or {}).get(key) or {})
    return merged


class SecurityGroupAgent:
    def __init__(self, driver, server_api=None, context=None, chunk=CHUNK):
        self.driver = driver
        self.server_api = server_api
        self.context = context
        self.chunk = chunk
        self.wake = lambda: None        # set to the loop's mark_dirty by the agent
        self.filtering = driver.filters_ports     # the noop driver asks the server nothing
        self._lock = threading.Lock()
        self._rule_groups, self._member_groups = set(), set()
        self.server_without_groups = False
        self.last_report = None

    @classmethod
    def from_conf(cls, conf, transport, context, netns=None):
        config.register_opts(conf)
        group = conf.securitygroup
        name = (group.firewall_driver or "noop") if group.enable_security_group else "noop"
        if name not in firewall_mod.available_drivers():
            # e.g. the OVS agent's "openvswitch" choice, which has no driver here
            LOG.error("Firewall driver %s is not available (%s): ports are NOT filtered", name,
                      ", ".join(firewall_mod.available_drivers()))
            name = "noop"
        driver = firewall_mod.load_driver(name, netns=netns, enable_ipset=group.enable_ipset)
        LOG.info("Firewall driver %s (ipset %s)", name, "on" if group.enable_ipset else "off")
        return cls(driver, SecurityGroupServerApi(transport), context)

    # --- notifications (RPC threads): queue and wake ----------------------------------------

    def security_groups_rule_updated(self, group_ids):
        with self._lock:
            self._rule_groups.update(group_ids or ())
        self.wake()

    def security_groups_member_updated(self, group_ids):
        with self._lock:
            self._member_groups.update(group_ids or ())
        self.wake()

    # --- the agent's pass --------------------------------------------------------------------

    def sync(self, present, changed=(), full=False):
        """Bring the firewall in line for the port ids ``present`` on the host; returns the
        driver's ApplyReport (None when nothing was asked)."""
        if not self.filtering:
            return None
        with self._lock:
            rule_groups, self._rule_groups = self._rule_groups, set()
            member_groups, self._member_groups = self._member_groups, set()
        try:
            return self._sync(set(present), set(changed), full, rule_groups, member_groups)
        except Exception:
            with self._lock:          # asked again in the next pass
                self._rule_groups |= rule_groups
                self._member_groups |= member_groups
            raise

    def _sync(self, present, changed, full, rule_groups, member_groups):
        driver = self.driver
        if full:
            driver.replace_info(self._fetch(sorted(present)))
            driver.forget_kernel()
        else:
            known = set(driver.ports)
            driver.remove_ports(sorted(known - present))
            refresh = (changed & present) | (present - known)
            refresh |= {port.id for port in driver.ports.values() if set(port.security_groups) & rule_groups}
            refresh |= self._referencing(member_groups)
            if refresh:
                driver.update_info(self._fetch(sorted(refresh)))
        if not driver.ports and not driver.has_applied:
            return None         # nothing to filter and nothing of ours in the kernel: touch nothing
        self.last_report = driver.apply()
        return self.last_report

    def _referencing(self, group_ids):
        """Ports whose rules use one of ``group_ids`` as remote group."""
        if not group_ids:
            return set()
        wanted = set()
        for port in self.driver.ports.values():
            for group in port.security_groups:
                if any(rule.remote_group_id in group_ids for rule in self.driver.rules.get(group, ())):
                    wanted.add(port.id)
                    break
        return wanted

    def _fetch(self, port_ids):
        replies = []
        for start in range(0, len(port_ids), self.chunk):
            try:
                replies.append(self.server_api.security_group_info_for_devices(
                    self.context, port_ids[start:start + self.chunk]))
            except (oslo_messaging.NoSuchMethod, oslo_messaging.UnsupportedVersion) as error:
                # A server without security groups has no rules to enforce; wiring the
                # ports must not stop because of it. Asked again at every refresh.
                if not self.server_without_groups:
                    LOG.error("The server does not serve security groups (is the port_security service "
                              "plugin loaded?): ports are not filtered (%s)", error)
                self.server_without_groups = True
                return merge_info([])
        self.server_without_groups = False
        return merge_info(replies)


class SecurityGroupNotifications:
    """RPC endpoint for the server's security group casts."""

    def __init__(self, sg_agent):
        self.sg_agent = sg_agent

    def security_groups_rule_updated(self, context, security_groups=None, **_kwargs):
        self.sg_agent.security_groups_rule_updated(security_groups)

    def security_groups_member_updated(self, context, security_groups=None, **_kwargs):
        self.sg_agent.security_groups_member_updated(security_groups)


def create_consumers(transport, host, sg_agent):
    """The consumer of q-agent-notifier-security_group-update; start() / stop() it."""
    return core_notifications.create_consumers(transport, host, [SecurityGroupNotifications(sg_agent)],
                                               subscriptions=(SUBSCRIPTION,))


def port_id_of(device, details):
    return details.get("port_id") or device


class FirewalledAgent:
    """An L2 agent for the ReconcileLoop whose passes also program the firewall, first."""

    def __init__(self, agent, sg_agent):
        self.agent = agent
        self.sg_agent = sg_agent
        self._desired = None

    def scan_devices(self):
        return self.agent.scan_devices()

    def plan(self, desired_state, actual=None):
        self._desired = desired_state
        return self.agent.plan(desired_state, actual)

    def apply(self, plan):
        state = self._desired
        if state is not None:
            ports = {device: port_id_of(device, details) for device, details in state.devices.items()
                     if details.get("port_id")}
            # Ports gone from the host are simply absent from ``present``.
            self.sg_agent.sync(present=set(ports.values()),
                               changed={ports[device] for device in state.changed if device in ports},
                               full=state.full)
        return self.agent.apply(plan)

    def __getattr__(self, name):
        return getattr(self.agent, name)

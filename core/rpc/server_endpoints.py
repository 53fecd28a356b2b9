"""What the server answers on RPC: Neutron's method names, arguments and versions.

Topic PLUGIN ("q-plugin"), namespace None, up to version 1.5:
  get_device_details(device, agent_id, host)                  -> details
  get_devices_details_list(devices, agent_id, host)           -> [details]
  get_devices_details_list_and_failed_devices(devices, agent_id, host)
                                                              -> {"devices", "failed_devices"}
  update_device_up(device, agent_id, host)                    -> None
  update_device_down(device, agent_id, host)                  -> {"device", "exists"}
  update_device_list(devices_up, devices_down, agent_id, host)
      -> {"devices_up", "failed_devices_up", "devices_down", "failed_devices_down"}
  tunnel_sync(tunnel_ip, tunnel_type, host)                   -> {"tunnels": [{"ip_address", "host"}]}

Topic REPORTS ("q-reports-plugin"), namespace "state", version 1.2:
  report_state(agent_state={"agent_state": {...}}, time="<agent's UTC, ISO 8601>")
                                                              -> "new" | "alive" | "revived"
  has_alive_neutron_server()                                  -> True

Extra keyword arguments are accepted and ignored, so newer agents can send more.
"""
import logging

import oslo_messaging

from netweave.core.rpc import topics

LOG = logging.getLogger(__name__)

STATE_NAMESPACE = "state"


class DeviceEndpoint:
    """The L2 agents' questions about their devices, and their reports (Neutron's RpcCallbacks).

    History: 1.1 security groups, 1.2 get_devices_details_list, 1.3 ``host``
    on get_device_details, 1.4 ``host`` on tunnel_sync, 1.5 update_device_list
    and get_devices_details_list_and_failed_devices.
    """

    target = oslo_messaging.Target(version="1.5")

    def __init__(self, devices):
        self.devices = devices

    @staticmethod
    def _admin(context):
        # Agents are trusted through the broker's credentials; they act as admin.
        return context.elevated()

    def get_device_details(self, context, device, agent_id=None, host=None, **_kwargs):
        return self.devices.get_device_details(self._admin(context), device, agent_id, host)

    def get_devices_details_list(self, context, devices, agent_id=None, host=None, **_kwargs):
        return self.devices.get_devices_details_list(self._admin(context), devices or [], agent_id, host)

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id=None, host=None,
                                                    **_kwargs):
        return self.devices.get_devices_details_list_and_failed_devices(self._admin(context), devices or [],
                                                                        agent_id, host)

    def update_device_up(self, context, device, agent_id=None, host=None, **_kwargs):
        self.devices.update_device_up(self._admin(context), device, agent_id, host)

    def update_device_down(self, context, device, agent_id=None, host=None, **_kwargs):
        return self.devices.update_device_down(self._admin(context), device, agent_id, host)

    def update_device_list(self, context, devices_up=None, devices_down=None, agent_id=None, host=None,
                           **_kwargs):
        return self.devices.update_device_list(self._admin(context), devices_up or [], devices_down or [],
                                               agent_id, host)


class TunnelEndpoint:
    """tunnel_sync: an agent registers its tunnel endpoint and learns everyone else's."""

    target = oslo_messaging.Target(version="1.5")

    def __init__(self, tunnels, notifier):
        self.tunnels = tunnels
        self.notifier = notifier

    def tunnel_sync(self, context, tunnel_ip=None, tunnel_type=None, host=None, **_kwargs):
        result = self.tunnels.sync(tunnel_ip, tunnel_type, host)
        if result.stale_ip:
            self.notifier.tunnel_delete(context, result.stale_ip, tunnel_type)
        # Every agent (the caller too, which ignores its own IP) adds the new endpoint.
        self.notifier.tunnel_update(context, tunnel_ip, tunnel_type)
        return {"tunnels": result.tunnels}


class StateReportEndpoint:
    """Heartbeats, on their own topic so a busy PLUGIN queue cannot delay them."""

    target = oslo_messaging.Target(version="1.2", namespace=STATE_NAMESPACE)

    def __init__(self, reports):
        # What stores a report: report_state(context, state, time) -> "new" | "alive" | "revived"
        # (the AgentService, or the core plugin's DhcpReportFollowUp wrapping it).
        self.reports = reports

    def report_state(self, context, agent_state=None, time=None, **_kwargs):
        # Neutron wraps the state once more: {"agent_state": {"agent_state": {...}}}.
        state = (agent_state or {}).get("agent_state", agent_state) or {}
        return self.reports.report_state(context, state, time)

    def has_alive_neutron_server(self, context, **_kwargs):
        return True


def endpoints_by_topic(devices, tunnels, reports, notifier):
    """{topic: [endpoint, ...]} of the core plugin's RPC."""
    return {
        topics.PLUGIN: [DeviceEndpoint(devices), TunnelEndpoint(tunnels, notifier)],
        topics.REPORTS: [StateReportEndpoint(reports)],
    }

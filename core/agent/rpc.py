"""The agents' side of RPC: calls to the server, in Neutron's names and versions.

``PluginApi`` asks about devices and reports them (topic PLUGIN);
``StateReportApi`` sends heartbeats (topic REPORTS). Both take an
oslo.messaging transport (core/rpc/transport.py makes one from
``transport_url``) and a context, normally ``context.get_admin_context()``.
Calls raise ``oslo_messaging.MessagingTimeout`` when no server answers within
``rpc_response_timeout``.
"""
import datetime

import oslo_messaging

from netweave.core.rpc import serializer, topics

# The agent's clock, as report_state's ``time`` carries it.
AGENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
STATE_NAMESPACE = "state"


def _client(transport, topic, version, namespace=None):
    target = oslo_messaging.Target(topic=topic, version=version, namespace=namespace)
    return oslo_messaging.get_rpc_client(transport, target, serializer=serializer.ContextSerializer())


class PluginApi:
    """What an L2 agent asks the server (see core/rpc/server_endpoints.py for the answers).

    Details of one device, as a dict: device, port_id, network_id, network_type,
    physical_network, segmentation_id, mtu, mac_address, admin_state_up,
    fixed_ips, device_owner, qos_policy_id, network_qos_policy_id, profile,
    plus what the server's ML2 extension drivers add (extend_device_details);
    or only {"device": ...} when the server knows no port bound to this host
    by that name.
    """

    def __init__(self, transport, topic=topics.PLUGIN):
        self.client = _client(transport, topic, "1.0")

    def get_device_details(self, context, device, agent_id, host=None):
        cctxt = self.client.prepare(version="1.3")
        return cctxt.call(context, "get_device_details", device=device, agent_id=agent_id, host=host)

    def get_devices_details_list(self, context, devices, agent_id, host=None):
        cctxt = self.client.prepare(version="1.3")
        return cctxt.call(context, "get_devices_details_list", devices=list(devices), agent_id=agent_id,
                          host=host)

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host=None):
        """{"devices": [details], "failed_devices": [device]}: failures are retried by the caller."""
        cctxt = self.client.prepare(version="1.5")
        return cctxt.call(context, "get_devices_details_list_and_failed_devices", devices=list(devices),
                          agent_id=agent_id, host=host)

    def update_device_up(self, context, device, agent_id, host=None):
        cctxt = self.client.prepare(version="1.3")
        return cctxt.call(context, "update_device_up", device=device, agent_id=agent_id, host=host)

    def update_device_down(self, context, device, agent_id, host=None):
        """{"device": device, "exists": whether the server knows its port}."""
        cctxt = self.client.prepare(version="1.3")
        return cctxt.call(context, "update_device_down", device=device, agent_id=agent_id, host=host)

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        """{"devices_up", "failed_devices_up", "devices_down" ([{"device", "exists"}]), "failed_devices_down"}."""
        cctxt = self.client.prepare(version="1.5")
        return cctxt.call(context, "update_device_list", devices_up=list(devices_up),
                          devices_down=list(devices_down), agent_id=agent_id, host=host)

    def tunnel_sync(self, context, tunnel_ip, tunnel_type=None, host=None):
        """{"tunnels": [{"ip_address", "host"}]}: every endpoint of that tunnel type."""
        cctxt = self.client.prepare(version="1.4")
        return cctxt.call(context, "tunnel_sync", tunnel_ip=tunnel_ip, tunnel_type=tunnel_type, host=host)


class StateReportApi:
    """Heartbeats. ``agent_state``: agent_type, binary, host, topic, configurations
    (a dict shown by the API), and optionally start_flag, availability_zone,
    load, resource_versions."""

    def __init__(self, transport, topic=topics.REPORTS):
        self.client = _client(transport, topic, "1.2", namespace=STATE_NAMESPACE)

    def report_state(self, context, agent_state, use_call=True, timeout=None):
        """With ``use_call``, waits and returns "new", "alive" or "revived" ("revived":
        the server had taken the agent for dead, so it should resync)."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        kwargs = {"agent_state": {"agent_state": agent_state}, "time": now.strftime(AGENT_TIME_FORMAT)}
        cctxt = self.client.prepare(timeout=timeout) if timeout else self.client
        if use_call:
            return cctxt.call(context, "report_state", **kwargs)
        cctxt.cast(context, "report_state", **kwargs)
        return None

    def has_alive_neutron_server(self, context):
        return self.client.call(context, "has_alive_neutron_server")

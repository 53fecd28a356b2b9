"""The server as the agent sees it, in two shapes.

``PluginClient`` is the small protocol a caller without RPC implements (a
test's fake server, a file of port details): three methods, no context.

The reconciler loop of netweave.core.agent.loop talks to the server with
core.agent.rpc.PluginApi's calls (context, devices, agent_id, host) and batch
reports; ``PluginClientApi`` serves those calls from a PluginClient, so the
same loop drives the agent whether the server is at the other end of RPC or
in the same process.
"""
import logging
import typing

LOG = logging.getLogger(__name__)


@typing.runtime_checkable
class PluginClient(typing.Protocol):
    """What the agent needs from the server.

    ``get_devices_details_list(devices)`` returns one dict per device, each with
    "device" and, for a port bound to this host, "port_id", "network_id",
    "network_type", "physical_network", "segmentation_id", "mtu",
    "mac_address", "admin_state_up", "device_owner". A dict without
    "port_id" means the server knows no port bound here by that name.
    """

    def get_devices_details_list(self, devices):
        ...

    def update_device_up(self, device):
        ...

    def update_device_down(self, device):
        ...


class PluginClientApi:
    """core.agent.rpc.PluginApi's calls that ReconcileLoop makes, answered by a PluginClient."""

    def __init__(self, client):
        self.client = client

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host=None):
        return {"devices": list(self.client.get_devices_details_list(list(devices)) or []),
                "failed_devices": []}

    def get_devices_details_list(self, context, devices, agent_id, host=None):
        return list(self.client.get_devices_details_list(list(devices)) or [])

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        reply = {"devices_up": [], "failed_devices_up": [], "devices_down": [], "failed_devices_down": []}
        for device in devices_up:
            try:
                self.client.update_device_up(device)
            except Exception:  # noqa: BLE001 - reported as failed; the loop retries it
                LOG.exception("Could not report %s up", device)
                reply["failed_devices_up"].append(device)
            else:
                reply["devices_up"].append(device)
        for device in devices_down:
            try:
                self.client.update_device_down(device)
            except Exception:  # noqa: BLE001
                LOG.exception("Could not report %s down", device)
                reply["failed_devices_down"].append(device)
            else:
                reply["devices_down"].append({"device": device, "exists": True})
        return reply


def make_loop(agent, client, host, **kwargs):
    """A core ReconcileLoop driving ``agent`` against a PluginClient."""
    from netweave.core.agent import loop as agent_loop
    return agent_loop.ReconcileLoop(agent, PluginClientApi(client), context=None, agent_id=agent.agent_id(),
                                    host=host, **kwargs)

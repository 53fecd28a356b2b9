"""The server as an L2 agent sees it: one client for every L2 agent.

``PluginClient`` binds the context, agent id and host to the calls of a
PluginApi-shaped object (core.agent.rpc.PluginApi over RPC, or
``LocalPluginApi`` below), and splits long device lists into calls of at
most RPC_CHUNK devices, so no single call outlives rpc_response_timeout:

  get_devices_details(devices) -> ({device: details}, [failed devices])
  update_device_list(up, down) -> {devices whose report failed}
  tunnel_sync(tunnel_ip, tunnel_type) -> {remote endpoint ips of that type}

The reconciler loop (core.agent.loop) makes the first two calls; an agent
with tunnels makes the third. Heartbeats go through core.agent.state_reporter
(started by core.agent.service.connect_l2_agent).

Without RPC, a ``LocalServer`` (four context-free methods: a test's fake
server, a JSON file of port details) stands behind ``LocalPluginApi``, so
the same loop and agents run against it.
"""
import itertools
import logging
import threading
import typing

LOG = logging.getLogger(__name__)

# Devices per RPC call: one call for a host's usual few hundred, several for more.
RPC_CHUNK = 500


def chunks(items, size=RPC_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


class PluginClient:
    def __init__(self, plugin_api, context, agent_id, host):
        self.plugin_api = plugin_api
        self.context = context
        self.agent_id = agent_id
        self.host = host

    def get_devices_details(self, devices):
        """({device: details}, [devices the server failed on]); details without "port_id"
        mean the server knows no port bound to this host by that name."""
        fetched, failed = {}, []
        for chunk in chunks(devices):
            reply = self.plugin_api.get_devices_details_list_and_failed_devices(
                self.context, chunk, self.agent_id, self.host)
            failed += list(reply.get("failed_devices") or [])
            fetched.update((details["device"], details) for details in reply.get("devices") or [])
        if failed:
            LOG.warning("Server could not give details of %s", ", ".join(failed))
        return fetched, failed

    def update_device_list(self, devices_up, devices_down):
        """Report devices up and down (RPC_CHUNK of each per call); returns those whose report failed."""
        failed = set()
        for up, down in itertools.zip_longest(chunks(devices_up), chunks(devices_down), fillvalue=[]):
            reply = self.plugin_api.update_device_list(self.context, up, down, self.agent_id, self.host) or {}
            failed |= set(reply.get("failed_devices_up") or []) | set(reply.get("failed_devices_down") or [])
        return failed

    def tunnel_sync(self, tunnel_ip, tunnel_type):
        """Register this host's endpoint; returns the other endpoints' addresses of that type."""
        reply = self.plugin_api.tunnel_sync(self.context, tunnel_ip, tunnel_type, self.host) or {}
        return {t["ip_address"] for t in reply.get("tunnels") or []
                if t.get("ip_address") and t["ip_address"] != tunnel_ip}


@typing.runtime_checkable
class LocalServer(typing.Protocol):
    """A server without RPC.

    ``get_devices_details_list(devices)`` returns one dict per device, each with
    "device" and, for a port bound to this host, "port_id", "network_id",
    "network_type", "physical_network", "segmentation_id", "mtu",
    "mac_address", "admin_state_up", "device_owner". A dict without "port_id"
    means the server knows no port bound here by that name.
    ``tunnel_sync(tunnel_ip, tunnel_type, host)`` returns {"tunnels": [{"ip_address", "host"}]}.
    """

    def get_devices_details_list(self, devices): ...

    def update_device_up(self, device): ...

    def update_device_down(self, device): ...

    def tunnel_sync(self, tunnel_ip, tunnel_type, host=None): ...


class LocalPluginApi:
    """core.agent.rpc.PluginApi's calls, answered by a LocalServer."""

    def __init__(self, server):
        self.server = server

    def get_devices_details_list_and_failed_devices(self, context, devices, agent_id, host=None):
        return {"devices": list(self.server.get_devices_details_list(list(devices)) or []),
                "failed_devices": []}

    def update_device_list(self, context, devices_up, devices_down, agent_id, host):
        reply = {"devices_up": [], "failed_devices_up": [], "devices_down": [], "failed_devices_down": []}
        for device in devices_up:
            try:
                self.server.update_device_up(device)
            except Exception:  # noqa: BLE001 - reported as failed; the loop retries it
                LOG.exception("Could not report %s up", device)
                reply["failed_devices_up"].append(device)
            else:
                reply["devices_up"].append(device)
        for device in devices_down:
            try:
                self.server.update_device_down(device)
            except Exception:  # noqa: BLE001
                LOG.exception("Could not report %s down", device)
                reply["failed_devices_down"].append(device)
            else:
                reply["devices_down"].append({"device": device, "exists": True})
        return reply

    def tunnel_sync(self, context, tunnel_ip, tunnel_type=None, host=None):
        return self.server.tunnel_sync(tunnel_ip, tunnel_type, host)


class InMemoryServer:
    """A LocalServer in dictionaries: port details in, port status and calls out."""

    def __init__(self, ports=None, host="localhost"):
        self._lock = threading.Lock()
        self.host = host
        self.ports = dict(ports or {})       # device -> details dict
        self.status = {}                      # device -> "ACTIVE" / "DOWN"
        self.endpoints = {}                   # tunnel type -> {ip: host}
        self.calls = []                       # (method, argument) in call order

    def set_port(self, details):
        with self._lock:
            self.ports[details["device"]] = dict(details)

    def remove_port(self, device):
        with self._lock:
            self.ports.pop(device, None)

    def get_devices_details_list(self, devices):
        with self._lock:
            self.calls.append(("get_devices_details_list", tuple(devices)))
            return [dict(self.ports[d]) if d in self.ports else {"device": d} for d in devices]

    def update_device_up(self, device):
        with self._lock:
            self.calls.append(("update_device_up", device))
            self.status[device] = "ACTIVE"

    def update_device_down(self, device):
        with self._lock:
            self.calls.append(("update_device_down", device))
            self.status[device] = "DOWN"

    def tunnel_sync(self, tunnel_ip, tunnel_type, host=None):
        with self._lock:
            self.calls.append(("tunnel_sync", (tunnel_ip, tunnel_type)))
            known = self.endpoints.setdefault(tunnel_type, {})
            known[tunnel_ip] = host or self.host
            return {"tunnels": [{"ip_address": ip, "host": h} for ip, h in sorted(known.items())]}

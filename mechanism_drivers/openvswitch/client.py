"""What the agent asks of the server, as a small protocol the RPC layer implements.

Agent -> server (``PluginClient``, calls):
  get_devices_details_list(devices) -> [details]   one dict per asked port id;
      a port the server does not know comes back as {"device": id} alone.
  update_device_up(device) / update_device_down(device)
  tunnel_sync(tunnel_ip, tunnel_type) -> {"tunnels": [{"ip_address", "host"}, ...]}
      registers this host's endpoint and returns every known endpoint of the type.

Server -> agent (methods of ``agent.OVSAgent`` an RPC endpoint calls):
  port_update(port_id), port_delete(port_id), network_delete(network_id),
  tunnel_update(tunnel_ip, tunnel_type), tunnel_delete(tunnel_ip, tunnel_type),
  fdb_add(fdb_entries), fdb_remove(fdb_entries).

``InMemoryPluginClient`` implements the protocol with dictionaries; the tests
use it as the server, and it is what ``netweave-openvswitch-agent --standalone``
runs with until the RPC client is plugged in.
"""
import threading
import typing


@typing.runtime_checkable
class PluginClient(typing.Protocol):
    def get_devices_details_list(self, devices): ...

    def update_device_up(self, device): ...

    def update_device_down(self, device): ...

    def tunnel_sync(self, tunnel_ip, tunnel_type): ...


class InMemoryPluginClient:
    """A server in a dictionary: port details in, port status and calls out."""

    def __init__(self, ports=None, host="localhost"):
        self._lock = threading.Lock()
        self.host = host
        self.ports = dict(ports or {})       # port id -> details dict
        self.status = {}                      # port id -> "ACTIVE" / "DOWN"
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

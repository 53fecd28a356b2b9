"""get_ports for the metadata agent (Neutron's MetadataRpcCallback), on topic PLUGIN.

  get_ports(filters) -> [port]   version 1.0

``filters`` are API list filters: {attribute: [values]}, with ``fixed_ips``
given as {"ip_address": [...], "subnet_id": [...]} (or as the API's
["ip_address=10.0.0.5", ...] strings). Several ``ip_address`` values match a
port holding any of them. Each port carries what the agent needs: id,
device_id, device_owner, project_id and tenant_id, network_id, fixed_ips,
mac_address.
"""
import oslo_messaging

from netweave.core.rpc import topics

PORT_KEYS = ("id", "device_id", "device_owner", "project_id", "tenant_id", "network_id", "fixed_ips",
             "mac_address")


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _fixed_ip_queries(fixed_ips):
    """The API's fixed_ips filter strings, one list per query to run (any IP may match)."""
    if isinstance(fixed_ips, dict):
        subnets = ["subnet_id=%s" % s for s in _as_list(fixed_ips.get("subnet_id"))]
        addresses = _as_list(fixed_ips.get("ip_address"))
        if not addresses:
            return [subnets]
        return [["ip_address=%s" % a] + subnets for a in addresses]
    return [[str(v) for v in _as_list(fixed_ips)]]


class MetadataEndpoint:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self, ports):
        self.ports = ports

    def get_ports(self, context, filters=None, **_kwargs):
        filters = dict(filters or {})
        fixed_ips = filters.pop("fixed_ips", None)
        filters = {key: _as_list(value) for key, value in filters.items()}
        # Agents are trusted through the broker's credentials; they act as admin.
        admin = context.elevated()
        found = {}
        for query in _fixed_ip_queries(fixed_ips) if fixed_ips else [None]:
            wanted = dict(filters)
            if query:
                wanted["fixed_ips"] = query
            for port in self.ports.list(admin, filters=wanted):
                found.setdefault(port["id"], {key: port.get(key) for key in PORT_KEYS})
        return list(found.values())


def add_to(endpoints_by_topic, ports):
    """{topic: [endpoint]} with the metadata endpoint added to topic PLUGIN."""
    endpoints_by_topic.setdefault(topics.PLUGIN, []).append(MetadataEndpoint(ports))
    return endpoints_by_topic

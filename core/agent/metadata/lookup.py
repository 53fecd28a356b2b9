"""Which port sends a metadata request: by client address and network (or router).

Lookups go to the server over RPC and are cached for a few seconds
(``cache_url = memory://?default_ttl=5``, Neutron's default), since an
instance booting asks for a dozen paths in a row.
"""
import ipaddress
import logging
import threading
import time
import urllib.parse

import netaddr
from oslo_utils import netutils

LOG = logging.getLogger(__name__)

# Ports through which a router reaches its networks (Neutron's ROUTER_INTERFACE_OWNERS).
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")
DEFAULT_TTL = 5.0


def ttl_from_cache_url(cache_url):
    """Seconds to keep lookups, from ``memory://?default_ttl=N``; 0 means no caching."""
    if not cache_url:
        return 0.0
    parsed = urllib.parse.urlsplit(cache_url)
    if parsed.scheme != "memory":
        LOG.warning("cache_url %s: only memory:// caches are supported; using one in memory", cache_url)
    values = urllib.parse.parse_qs(parsed.query).get("default_ttl")
    if not values:
        return DEFAULT_TTL
    try:
        return max(0.0, float(values[0]))
    except ValueError:
        LOG.warning("cache_url %s: default_ttl is not a number; using %s s", cache_url, DEFAULT_TTL)
        return DEFAULT_TTL


def mac_of_link_local(address):
    """The MAC inside an EUI-64 IPv6 link-local address; None for any other address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version != 6 or not ip.is_link_local or ip.packed[11:13] != b"\xff\xfe":
        return None
    mac = netutils.get_mac_addr_by_ipv6(netaddr.IPAddress(address.split("%")[0]))
    return str(netaddr.EUI(mac, dialect=netaddr.mac_unix_expanded))


class TtlCache:
    """A thread-safe dict whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, ttl, clock=time.monotonic, max_entries=10000):
        self.ttl = float(ttl)
        self._clock = clock
        self._max = max_entries
        self._entries = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self._clock():
                del self._entries[key]
                return None
            return value

    def put(self, key, value):
        if self.ttl <= 0:
            return
        with self._lock:
            now = self._clock()
            if len(self._entries) >= self._max:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= self._max:
                    self._entries.clear()
            self._entries[key] = (now + self.ttl, value)


class PortLookup:
    """``instance_of(address, network_id=None, router_id=None)`` -> (instance id, project id) or None."""

    def __init__(self, plugin_api, context, cache):
        self.api = plugin_api
        self.context = context
        self.cache = cache

    def _cached(self, key, fetch, skip_cache):
        if not skip_cache:
            value = self.cache.get(key)
            if value is not None:
                return value
        value = fetch()
        # An empty answer is not kept: a port created a moment ago must be found at once.
        if value:
            self.cache.put(key, value)
        return value

    def router_networks(self, router_id, skip_cache=False):
        def fetch():
            ports = self.api.get_ports(self.context, {"device_id": [router_id],
                                                      "device_owner": list(ROUTER_INTERFACE_OWNERS)})
            return tuple(sorted({p["network_id"] for p in ports}))
        return self._cached(("router", router_id), fetch, skip_cache)

    def ports_at(self, address, networks, skip_cache=False):
        """Ports on ``networks`` sending from ``address``: a fixed IP, or over IPv6
        link-local (metadata at fe80::a9fe:a9fe) the MAC its EUI-64 address carries."""
        filters = {"network_id": list(networks)}
        mac = mac_of_link_local(address)
        if mac is not None:
            filters["mac_address"] = [mac]
        else:
            filters["fixed_ips"] = {"ip_address": [address]}

        def fetch():
            return tuple(self.api.get_ports(self.context, filters))
        return self._cached(("ports", address, tuple(networks)), fetch, skip_cache)

    def instance_of(self, address, network_id=None, router_id=None, skip_cache=False):
        if network_id:
            networks = (network_id,)
        elif router_id:
            networks = self.router_networks(router_id, skip_cache)
        else:
            raise ValueError("a network id or a router id is needed")
        if not networks:
            return None
        ports = self.ports_at(address, networks, skip_cache)
        # One port per address on these networks is expected; more is ambiguous.
        if len(ports) != 1 or not ports[0].get("device_id"):
            return None
        port = ports[0]
        return port["device_id"], port.get("project_id") or port.get("tenant_id") or ""

"""The metadata agent's port lookup (with a recording RPC double) and its request handling,
forwarding to the stand-in metadata backend over the loopback."""
import socket

import pytest
import webob

from harness.metadata_backend import MetadataBackend
from netweave.core.agent.metadata import backend as backend_mod
from netweave.core.agent.metadata import handler as handler_mod
from netweave.core.agent.metadata import lookup as lookup_mod

SECRET = "MetadataSecret123"
NET = "net-1"


class RecordingPluginApi:
    """Answers get_ports from a list of port dicts, applying the filters the server applies."""

    def __init__(self, ports):
        self.ports = ports
        self.calls = []
        self.error = None

    def get_ports(self, context, filters):
        self.calls.append(filters)
        if self.error is not None:
            raise self.error
        result = []
        for port in self.ports:
            ok = True
            for key, values in filters.items():
                if key == "fixed_ips":
                    ips = {ip["ip_address"] for ip in port["fixed_ips"]}
                    ok = ok and bool(ips & set(values["ip_address"]))
                else:
                    ok = ok and port.get(key) in values
            if ok:
                result.append(dict(port))
        return result


def _port(device_id, ip, network_id=NET, project="proj-1", owner="compute:nova"):
    return {"id": "port-" + device_id, "device_id": device_id, "project_id": project, "tenant_id": project,
            "network_id": network_id, "device_owner": owner, "fixed_ips": [{"ip_address": ip}]}


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


# --- cache -------------------------------------------------------------------------------

def test_ttl_comes_from_cache_url():
    assert lookup_mod.ttl_from_cache_url("memory://?default_ttl=5") == 5.0
    assert lookup_mod.ttl_from_cache_url("memory://?default_ttl=0") == 0.0
    assert lookup_mod.ttl_from_cache_url("memory://") == lookup_mod.DEFAULT_TTL
    assert lookup_mod.ttl_from_cache_url("") == 0.0
    assert lookup_mod.ttl_from_cache_url("memory://?default_ttl=soon") == lookup_mod.DEFAULT_TTL


def test_cache_entries_expire():
    clock = FakeClock()
    cache = lookup_mod.TtlCache(5, clock=clock)
    cache.put("k", "v")
    clock.now += 4.9
    assert cache.get("k") == "v"
    clock.now += 0.2
    assert cache.get("k") is None


def test_zero_ttl_keeps_nothing_and_size_is_bounded():
    cache = lookup_mod.TtlCache(0)
    cache.put("k", "v")
    assert cache.get("k") is None
    small = lookup_mod.TtlCache(60, max_entries=3)
    for i in range(10):
        small.put(i, i)
    assert small.get(9) == 9
    assert len(small._entries) <= 3


# --- lookup ------------------------------------------------------------------------------

def test_lookup_by_network_asks_for_the_address_on_that_network():
    api = RecordingPluginApi([_port("vm-a", "10.0.0.5"), _port("vm-b", "10.0.0.5", network_id="net-2")])
    lookup = lookup_mod.PortLookup(api, "ctx", lookup_mod.TtlCache(5))
    assert lookup.instance_of("10.0.0.5", network_id=NET) == ("vm-a", "proj-1")
    assert api.calls == [{"network_id": [NET], "fixed_ips": {"ip_address": ["10.0.0.5"]}}]
    # Cached: no second call.
    assert lookup.instance_of("10.0.0.5", network_id=NET) == ("vm-a", "proj-1")
    assert len(api.calls) == 1
    assert lookup.instance_of("10.0.0.5", network_id=NET, skip_cache=True) == ("vm-a", "proj-1")
    assert len(api.calls) == 2


def test_lookup_by_router_covers_every_network_behind_it():
    api = RecordingPluginApi([
        _port("router-1", "10.0.0.1", owner="network:router_interface"),
        _port("router-1", "10.1.0.1", network_id="net-2", owner="network:router_interface"),
        _port("router-1", "203.0.113.5", network_id="ext", owner="network:router_gateway"),
        _port("vm-b", "10.1.0.7", network_id="net-2"),
    ])
    lookup = lookup_mod.PortLookup(api, "ctx", lookup_mod.TtlCache(5))
    assert lookup.instance_of("10.1.0.7", router_id="router-1") == ("vm-b", "proj-1")
    assert api.calls[0] == {"device_id": ["router-1"], "device_owner": list(lookup_mod.ROUTER_INTERFACE_OWNERS)}
    assert api.calls[1] == {"network_id": [NET, "net-2"], "fixed_ips": {"ip_address": ["10.1.0.7"]}}
    # The gateway's network is not one the router serves metadata for.
    assert lookup.instance_of("203.0.113.9", router_id="router-1") is None


def test_an_ipv6_link_local_client_is_found_by_the_mac_in_its_address():
    vm = dict(_port("vm-a", "10.0.0.5"), mac_address="fa:16:3e:12:34:56")
    other = dict(_port("vm-b", "10.0.0.6"), mac_address="fa:16:3e:12:34:57")
    api = RecordingPluginApi([vm, other])
    lookup = lookup_mod.PortLookup(api, "ctx", lookup_mod.TtlCache(5))
    assert lookup.instance_of("fe80::f816:3eff:fe12:3456", network_id=NET) == ("vm-a", "proj-1")
    assert api.calls == [{"network_id": [NET], "mac_address": ["fa:16:3e:12:34:56"]}]
    # A link-local address that is not EUI-64 names no MAC: nobody is found.
    assert lookup.instance_of("fe80::1234:5678", network_id=NET) is None
    assert api.calls[-1] == {"network_id": [NET], "fixed_ips": {"ip_address": ["fe80::1234:5678"]}}


def test_mac_of_link_local():
    mac = lookup_mod.mac_of_link_local("fe80::f816:3eff:fe12:3456")
    assert (type(mac), mac) == (str, "fa:16:3e:12:34:56")  # a plain string goes over RPC
    assert lookup_mod.mac_of_link_local("fe80::f816:3eff:fe12:3456%ns-1") == "fa:16:3e:12:34:56"
    for address in ("2001:db8::f816:3eff:fe12:3456", "fe80::1", "10.0.0.5", "not an address"):
        assert lookup_mod.mac_of_link_local(address) is None


def test_no_port_ambiguous_ports_and_ports_without_device_are_not_instances():
    api = RecordingPluginApi([_port("vm-a", "10.0.0.5"), _port("vm-c", "10.0.0.5"), _port("", "10.0.0.9")])
    lookup = lookup_mod.PortLookup(api, "ctx", lookup_mod.TtlCache(5))
    assert lookup.instance_of("10.0.0.6", network_id=NET) is None
    assert lookup.instance_of("10.0.0.5", network_id=NET) is None
    assert lookup.instance_of("10.0.0.9", network_id=NET) is None
    with pytest.raises(ValueError):
        lookup.instance_of("10.0.0.5")


def test_a_miss_is_not_cached_so_a_new_port_is_found_at_once():
    api = RecordingPluginApi([])
    lookup = lookup_mod.PortLookup(api, "ctx", lookup_mod.TtlCache(60))
    assert lookup.instance_of("10.0.0.5", network_id=NET) is None
    api.ports.append(_port("vm-a", "10.0.0.5"))
    assert lookup.instance_of("10.0.0.5", network_id=NET) == ("vm-a", "proj-1")


def test_client_address_is_the_entry_the_proxy_added():
    assert handler_mod.client_address("10.0.0.5") == "10.0.0.5"
    assert handler_mod.client_address("10.0.0.99, 10.0.0.5") == "10.0.0.5"
    assert handler_mod.client_address("not-an-ip") is None
    assert handler_mod.client_address("") is None
    assert handler_mod.client_address(None) is None


# --- handler against the stand-in backend --------------------------------------------------

@pytest.fixture
def nova():
    with MetadataBackend(SECRET) as backend:
        backend.add_instance("vm-a", hostname="vm-a-host", project_id="proj-1")
        backend.add_instance("vm-b", hostname="vm-b-host", project_id="proj-1")
        yield backend


def _handler(backend_port, ports, secret=SECRET, timeout=10.0):
    api = RecordingPluginApi(ports)
    lookup = lookup_mod.PortLookup(api, "ctx", lookup_mod.TtlCache(5))
    settings = backend_mod.BackendSettings(host="127.0.0.1", port=backend_port, shared_secret=secret,
                                           timeout=timeout)
    return handler_mod.MetadataProxyHandler(lookup, backend_mod.MetadataBackend(settings)), api


def _get(app, path, xff="10.0.0.5", network=NET, router=None, method="GET", body=None, extra=None):
    headers = {}
    if xff:
        headers["X-Forwarded-For"] = xff
    if network:
        headers["X-Neutron-Network-ID"] = network
    if router:
        headers["X-Neutron-Router-ID"] = router
    headers.update(extra or {})
    request = webob.Request.blank(path, method=method, headers=headers)
    if body is not None:
        request.body = body
    return request.get_response(app)


def test_request_is_answered_for_the_port_owner_and_signed(nova):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5"), _port("vm-b", "10.0.0.6")])
    response = _get(app, "/latest/meta-data/instance-id")
    assert response.status_int == 200
    assert response.text == "vm-a"
    assert response.content_type == "text/plain"
    method, path, headers, _ = nova.requests[-1]
    assert (method, path) == ("GET", "/latest/meta-data/instance-id")
    assert headers["X-Instance-ID"] == "vm-a"
    assert headers["X-Tenant-ID"] == "proj-1"
    assert headers["X-Forwarded-For"] == "10.0.0.5"
    assert headers["X-Instance-ID-Signature"] == backend_mod.sign_instance_id(SECRET, "vm-a")
    response = _get(app, "/openstack/latest/meta_data.json", xff="10.0.0.6")
    assert response.status_int == 200 and response.json["uuid"] == "vm-b"
    assert response.content_type == "application/json"


def test_query_string_method_and_body_are_forwarded(nova):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5")])
    assert _get(app, "/openstack/latest/password", method="POST", body=b"s3cr3t").status_int == 200
    response = _get(app, "/openstack/latest/password?x=1")
    assert response.body == b"s3cr3t"
    assert nova.requests[-1][1] == "/openstack/latest/password?x=1"


def test_client_sent_instance_headers_are_not_passed_on(nova):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5"), _port("vm-b", "10.0.0.6")])
    forged = {"X-Instance-ID": "vm-b", "X-Instance-ID-Signature": backend_mod.sign_instance_id(SECRET, "vm-b"),
              "X-Tenant-ID": "other"}
    response = _get(app, "/latest/meta-data/instance-id", extra=forged)
    assert response.text == "vm-a"
    assert nova.requests[-1][2]["X-Tenant-ID"] == "proj-1"


def test_unknown_address_is_404_without_asking_the_backend(nova):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5")])
    assert _get(app, "/latest/meta-data/instance-id", xff="10.0.0.77").status_int == 404
    assert nova.requests == []


@pytest.mark.parametrize("kwargs", [{"xff": None}, {"xff": "garbage"}, {"network": None}])
def test_requests_not_from_a_proxy_are_400(nova, kwargs):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5")])
    assert _get(app, "/latest/meta-data/instance-id", **kwargs).status_int == 400


def test_a_wrong_shared_secret_is_403(nova):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5")], secret="not-the-secret")
    assert _get(app, "/latest/meta-data/instance-id").status_int == 403


@pytest.mark.parametrize("backend_status,expected", [
    (400, 400), (403, 403), (404, 404), (409, 409), (500, 500), (502, 502), (503, 503), (504, 504),
    (401, 502), (302, 502), (418, 502),
])
def test_backend_statuses_are_passed_on_as_neutron_does(nova, backend_status, expected):
    app, _api = _handler(nova.port, [_port("vm-a", "10.0.0.5")])
    nova.force_status(backend_status)
    assert _get(app, "/latest/meta-data/instance-id").status_int == expected


def test_unreachable_backend_is_503_and_a_hung_one_504():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app, _api = _handler(port, [_port("vm-a", "10.0.0.5")])
    listener.close()
    assert _get(app, "/latest/meta-data/instance-id").status_int == 503
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        app, _api = _handler(silent.getsockname()[1], [_port("vm-a", "10.0.0.5")], timeout=0.5)
        assert _get(app, "/latest/meta-data/instance-id").status_int == 504
    finally:
        silent.close()


def test_server_unreachable_is_503_not_500(nova):
    app, api = _handler(nova.port, [_port("vm-a", "10.0.0.5")])
    api.error = TimeoutError("no reply on q-plugin")
    assert _get(app, "/latest/meta-data/instance-id").status_int == 503


def test_a_404_for_a_cached_owner_asks_the_server_again(nova):
    ports = [_port("vm-gone", "10.0.0.5")]
    app, api = _handler(nova.port, ports)
    # vm-gone is not known to the backend: 404, and no other owner yet.
    assert _get(app, "/latest/meta-data/instance-id").status_int == 404
    # The address now belongs to vm-a; the cached vm-gone answer is bypassed on the 404.
    ports[:] = [_port("vm-a", "10.0.0.5")]
    response = _get(app, "/latest/meta-data/instance-id")
    assert response.status_int == 200 and response.text == "vm-a"

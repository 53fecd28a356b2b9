"""Malformed and hostile requests against a live server, with plain HTTP.

Every malformed request must get a 4xx answer in Neutron's error shape
``{"NeutronError": {"type", "message", "detail"}}`` with an
``X-Openstack-Request-Id: req-<uuid>`` header, and never a 5xx. Each case is
its own test id: ``<resource>-<what is wrong>``.

Paths and bodies may name ``{network}``, ``{subnet}``, ``{port}``,
``{subnetpool}``, ``{rbac}``, ``{other_network}``, ``{other_subnet}`` and
``{member_network}`` (rows made once for the module) and ``{missing}`` (a
well-formed id of nothing).

``test_odd_request_never_breaks_the_server`` holds requests Neutron may accept
or refuse (its own validation is looser in places); they must still never get a
5xx, and a refusal must still have the error shape.
"""
import dataclasses
import json
import re
import uuid
from typing import Any

import pytest
import requests

REQUEST_ID_RE = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ADMIN = {}
MEMBER = {"X-Project-Id": "sweep-member-project", "X-Roles": "member"}
REJECTED_NAME = "sweep-rejected"
MISSING_ID = str(uuid.uuid4())
DROP = object()  # removes a key from a base body
NO_BODY = object()


@dataclasses.dataclass
class Raw:
    """A body sent byte for byte (not JSON-encoded)."""
    data: bytes


@dataclasses.dataclass
class Case:
    id: str
    method: str
    path: str
    body: Any = NO_BODY
    status: tuple = (400,)
    headers: dict = dataclasses.field(default_factory=dict)


CASES = []
ODD_CASES = []


def case(id, method, path, body=NO_BODY, status=400, headers=None):
    statuses = status if isinstance(status, tuple) else (status,)
    CASES.append(Case(id, method, path, body, statuses, dict(headers or {})))


def odd(id, method, path, body=NO_BODY, headers=None):
    ODD_CASES.append(Case(id, method, path, body, (), dict(headers or {})))


def merged(base, changes):
    body = dict(base)
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_cidr_counter = iter(range(1, 250))


def subnet_base():
    """A valid subnet body with its own CIDR, so one accepted case cannot mask the next."""
    return {"name": REJECTED_NAME, "network_id": "{network}", "ip_version": 4,
            "cidr": "10.199.%d.0/24" % next(_cidr_counter)}


BASES = {
    "networks": ("network", lambda: {"name": REJECTED_NAME}),
    "subnets": ("subnet", subnet_base),
    "ports": ("port", lambda: {"name": REJECTED_NAME, "network_id": "{network}"}),
    "subnetpools": ("subnetpool", lambda: {"name": REJECTED_NAME, "prefixes": ["10.150.0.0/16"]}),
    "rbac-policies": ("rbac_policy", lambda: {"object_type": "network", "object_id": "{network}",
                                              "action": "access_as_shared",
                                              "target_tenant": "sweep-target"}),
}
MEMBER_PATHS = {"networks": "{network}", "subnets": "{subnet}", "ports": "{port}",
                "subnetpools": "{subnetpool}", "rbac-policies": "{rbac}"}


def bad_create(collection, label, changes, status=400):
    member, base = BASES[collection]
    case("%s-create-%s" % (collection, label), "POST", "/v2.0/" + collection,
         {member: merged(base(), changes)}, status)


def bad_update(collection, label, changes, status=400):
    member, _ = BASES[collection]
    case("%s-update-%s" % (collection, label), "PUT",
         "/v2.0/%s/%s" % (collection, MEMBER_PATHS[collection]), {member: changes}, status)


# --- wrong JSON types and values, attribute by attribute --------------------------

NOT_STRINGS = {"int": 123, "list": ["a"], "dict": {"a": 1}, "bool": True}
NOT_BOOLEANS = {"word": "maybe", "int2": 2, "list": [], "dict": {}, "float": 1.5}
# Neutron truncates floats and booleans to int before range checks, so only values
# int() cannot take at all are malformed everywhere.
NOT_INTEGERS = {"word": "abc", "list": [1], "dict": {}, "null-string": "None"}
NOT_UUIDS = {"word": "not-a-uuid", "int": 42, "short": "1234", "list": ["x"]}
NOT_LISTS = {"string": "x", "int": 5, "dict": {"a": 1}}

for label, value in NOT_STRINGS.items():
    for collection in ("networks", "subnets", "ports", "subnetpools"):
        bad_create(collection, "name-%s" % label, {"name": value})
        bad_create(collection, "description-%s" % label, {"description": value})
    bad_update("networks", "name-%s" % label, {"name": value})
    bad_create("ports", "device_id-%s" % label, {"device_id": value})
    bad_create("ports", "device_owner-%s" % label, {"device_owner": value})
    bad_create("ports", "binding_host_id-%s" % label, {"binding:host_id": value})
    bad_create("networks", "physnet-%s" % label, {"provider:network_type": "flat",
                                                  "provider:physical_network": value})
    bad_create("rbac-policies", "target_tenant-%s" % label, {"target_tenant": value})
for collection in ("networks", "subnets", "ports", "subnetpools"):
    bad_create(collection, "name-too-long", {"name": "n" * 256})
    bad_create(collection, "project_id-int", {"project_id": 5})
    bad_create(collection, "tenant_id-list", {"tenant_id": ["admin"]})
    bad_create(collection, "project-and-tenant-differ", {"project_id": "admin", "tenant_id": "other"})
bad_create("networks", "description-too-long", {"description": "d" * 256})

for label, value in NOT_BOOLEANS.items():
    bad_create("networks", "admin_state_up-%s" % label, {"admin_state_up": value})
    bad_create("networks", "shared-%s" % label, {"shared": value})
    bad_create("networks", "router_external-%s" % label, {"router:external": value})
    bad_create("subnets", "enable_dhcp-%s" % label, {"enable_dhcp": value})
    bad_create("subnets", "use_default_subnetpool-%s" % label,
               {"use_default_subnetpool": value, "cidr": DROP})
    bad_create("ports", "admin_state_up-%s" % label, {"admin_state_up": value})
    bad_create("subnetpools", "is_default-%s" % label, {"is_default": value})
    bad_create("subnetpools", "shared-%s" % label, {"shared": value})
    bad_update("networks", "admin_state_up-%s" % label, {"admin_state_up": value})
    bad_update("ports", "admin_state_up-%s" % label, {"admin_state_up": value})
    bad_update("subnets", "enable_dhcp-%s" % label, {"enable_dhcp": value})

for label, value in NOT_INTEGERS.items():
    bad_create("networks", "mtu-%s" % label, {"mtu": value})
    bad_create("networks", "segmentation_id-%s" % label,
               {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                "provider:segmentation_id": value})
    bad_create("subnets", "ip_version-%s" % label, {"ip_version": value})
    bad_create("subnets", "prefixlen-%s" % label,
               {"prefixlen": value, "cidr": DROP, "subnetpool_id": "{subnetpool}"})
    bad_create("subnetpools", "default_prefixlen-%s" % label, {"default_prefixlen": value})
    bad_create("subnetpools", "min_prefixlen-%s" % label, {"min_prefixlen": value})
    bad_create("subnetpools", "max_prefixlen-%s" % label, {"max_prefixlen": value})
    bad_create("subnetpools", "default_quota-%s" % label, {"default_quota": value})
    bad_update("networks", "mtu-%s" % label, {"mtu": value})

bad_create("networks", "mtu-below-68", {"mtu": 67})
bad_create("networks", "mtu-negative", {"mtu": -1})
bad_create("networks", "mtu-above-vxlan-maximum", {"mtu": 9000})
bad_create("networks", "mtu-huge", {"mtu": 10 ** 25})
bad_create("networks", "network_type-int", {"provider:network_type": 5})
bad_create("networks", "network_type-unknown", {"provider:network_type": "token-ring"})
for vlan in (0, -1, 4095, 10 ** 25):
    bad_create("networks", "vlan-%s" % vlan, {"provider:network_type": "vlan",
                                               "provider:physical_network": "physnet1",
                                               "provider:segmentation_id": vlan})
bad_create("networks", "vlan-physnet-unknown", {"provider:network_type": "vlan",
                                                "provider:physical_network": "no-such-physnet",
                                                "provider:segmentation_id": 300})
bad_create("networks", "vxlan-vni-too-big", {"provider:network_type": "vxlan",
                                             "provider:segmentation_id": 2 ** 24})
bad_create("networks", "flat-with-segment", {"provider:network_type": "flat",
                                             "provider:physical_network": "physnet9",
                                             "provider:segmentation_id": 7})
bad_create("networks", "vxlan-with-physnet", {"provider:network_type": "vxlan",
                                              "provider:physical_network": "physnet1"})
bad_create("networks", "segment-without-type", {"provider:segmentation_id": 5})

for label, value in {"word": "not-a-cidr", "int": 5, "list": ["10.0.0.0/24"], "empty": "",
                     "octet-300": "300.1.1.0/24", "prefix-33": "10.0.0.0/33", "no-prefix-bits": "10.0.0.0/",
                     "negative-prefix": "10.0.0.0/-1", "v6-prefix-129": "2001:db8::/129",
                     "shorthand": "10.1/16", "leading-zero": "010.0.0.0/24",
                     "prefix-word": "10.0.0.0/abc", "spaces": " 10.0.0.0/24 "}.items():
    bad_create("subnets", "cidr-%s" % label, {"cidr": value})
bad_create("subnets", "cidr-v6-with-ip_version-4", {"cidr": "2001:db8::/64"})
bad_create("subnets", "ip_version-5", {"ip_version": 5})
bad_create("subnets", "ip_version-mismatch", {"ip_version": 6})
bad_create("subnets", "network_id-missing", {"network_id": DROP})
bad_create("subnets", "network_id-null", {"network_id": None})
for label, value in NOT_UUIDS.items():
    bad_create("subnets", "network_id-%s" % label, {"network_id": value})
    bad_create("ports", "network_id-%s" % label, {"network_id": value})
    bad_create("subnets", "subnetpool_id-%s" % label, {"subnetpool_id": value, "cidr": DROP})
    bad_create("subnetpools", "address_scope_id-%s" % label, {"address_scope_id": value})
    bad_create("rbac-policies", "object_id-%s" % label, {"object_id": value})
bad_create("subnets", "network_id-unknown", {"network_id": MISSING_ID}, status=404)
bad_create("ports", "network_id-unknown", {"network_id": MISSING_ID}, status=404)
bad_create("subnets", "subnetpool_id-unknown", {"subnetpool_id": MISSING_ID, "cidr": DROP}, status=404)
bad_create("rbac-policies", "object_id-unknown", {"object_id": MISSING_ID}, status=404)
bad_create("subnets", "no-cidr-no-pool", {"cidr": DROP})
bad_create("subnets", "cidr-and-prefixlen", {"prefixlen": 28})
bad_create("subnets", "pool-and-default-pool", {"cidr": DROP, "subnetpool_id": "{subnetpool}",
                                                "use_default_subnetpool": True})
bad_create("subnets", "prefixlen-out-of-pool-bounds", {"cidr": DROP, "subnetpool_id": "{subnetpool}",
                                                       "prefixlen": 33})
bad_create("subnets", "prefixlen-negative", {"cidr": DROP, "subnetpool_id": "{subnetpool}",
                                             "prefixlen": -4})
bad_create("subnets", "prefix-too-long-for-dhcp", {"cidr": "10.198.0.0/31"})

for label, value in {"word": "gw", "int": 5, "list": ["10.0.0.1"], "octet-999": "999.1.1.1",
                     "cidr": "10.0.0.1/24", "v6": "2001:db8::1"}.items():
    bad_create("subnets", "gateway_ip-%s" % label, {"gateway_ip": value})
    bad_update("subnets", "gateway_ip-%s" % label, {"gateway_ip": value})
bad_create("subnets", "gateway_ip-network-address", {"cidr": "10.197.0.0/24", "gateway_ip": "10.197.0.0"})
bad_create("subnets", "gateway_ip-broadcast", {"cidr": "10.197.1.0/24", "gateway_ip": "10.197.1.255"})

POOL_CASES = {
    "string": "10.0.0.2-10.0.0.9",
    "dict": {"start": "10.196.0.2", "end": "10.196.0.9"},
    "item-int": [5],
    "item-null": [None],
    "missing-end": [{"start": "10.196.0.2"}],
    "missing-start": [{"end": "10.196.0.9"}],
    "extra-key": [{"start": "10.196.0.2", "end": "10.196.0.9", "size": 8}],
    "start-word": [{"start": "first", "end": "10.196.0.9"}],
    "start-after-end": [{"start": "10.196.0.9", "end": "10.196.0.2"}],
    "outside-cidr": [{"start": "10.196.0.2", "end": "10.196.1.9"}],
    "includes-gateway": [{"start": "10.196.0.1", "end": "10.196.0.9"}],
    "includes-broadcast": [{"start": "10.196.0.200", "end": "10.196.0.255"}],
    "overlapping": [{"start": "10.196.0.2", "end": "10.196.0.20"},
                    {"start": "10.196.0.10", "end": "10.196.0.30"}],
    "v6-in-v4": [{"start": "2001:db8::2", "end": "2001:db8::9"}],
}
# Neutron answers 409 for pools overlapping each other or the gateway, 400 otherwise.
POOL_CONFLICTS = ("overlapping", "includes-gateway")
for label, value in POOL_CASES.items():
    bad_create("subnets", "allocation_pools-%s" % label,
               {"cidr": "10.196.0.0/24", "allocation_pools": value},
               status=409 if label in POOL_CONFLICTS else 400)
bad_update("subnets", "allocation_pools-string", {"allocation_pools": "x"})
bad_update("subnets", "allocation_pools-outside", {"allocation_pools": [{"start": "10.9.0.2",
                                                                           "end": "10.9.0.9"}]})

for label, value in {"string": "8.8.8.8", "int": 8, "item-word": ["dns"], "item-int": [8],
                     "item-cidr": ["8.8.8.0/24"], "item-null": [None], "six": ["10.0.0.%d" % i for i in range(1, 7)],
                     "duplicate": ["8.8.8.8", "8.8.8.8"], "v6-in-v4": ["2001:db8::53"]}.items():
    bad_create("subnets", "dns_nameservers-%s" % label, {"dns_nameservers": value})
    bad_update("subnets", "dns_nameservers-%s" % label, {"dns_nameservers": value})

ROUTE_CASES = {
    "string": "10.0.0.0/8 via 10.0.0.1",
    "item-int": [5],
    "item-empty": [{}],
    "missing-nexthop": [{"destination": "10.0.0.0/8"}],
    "destination-word": [{"destination": "far", "nexthop": "10.195.0.1"}],
    "nexthop-word": [{"destination": "10.0.0.0/8", "nexthop": "near"}],
    "nexthop-cidr": [{"destination": "10.0.0.0/8", "nexthop": "10.195.0.1/24"}],
    "extra-key": [{"destination": "10.0.0.0/8", "nexthop": "10.195.0.1", "metric": 5}],
    "twenty-one": [{"destination": "172.20.%d.0/24" % i, "nexthop": "10.195.0.254"} for i in range(21)],
    "duplicate": [{"destination": "10.0.0.0/8", "nexthop": "10.195.0.1"}] * 2,
    "v6-in-v4": [{"destination": "2001:db8::/64", "nexthop": "2001:db8::1"}],
}
for label, value in ROUTE_CASES.items():
    bad_create("subnets", "host_routes-%s" % label, {"host_routes": value})
bad_update("subnets", "host_routes-string", {"host_routes": "x"})

for label, value in {"ra-word": {"ipv6_ra_mode": "fast"}, "address-word": {"ipv6_address_mode": "fast"},
                     "ra-on-v4": {"ipv6_ra_mode": "slaac"}, "address-on-v4": {"ipv6_address_mode": "slaac"},
                     "ra-int": {"ipv6_ra_mode": 6},
                     "modes-differ": {"ip_version": 6, "cidr": "2001:db8:1::/64",
                                      "ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"},
                     "slaac-not-64": {"ip_version": 6, "cidr": "2001:db8:2::/80",
                                      "ipv6_address_mode": "slaac"},
                     "mode-without-dhcp": {"ip_version": 6, "cidr": "2001:db8:3::/64",
                                           "ipv6_address_mode": "slaac", "enable_dhcp": False}}.items():
    bad_create("subnets", "ipv6-%s" % label, value)
for label, value in {"string": "network", "item-int": [5], "item-list": [["x"]]}.items():
    bad_create("subnets", "service_types-%s" % label, {"service_types": value})

for label, value in {"word": "zz:zz:zz:zz:zz:zz", "int": 5, "short": "fa:16:3e:00:00",
                     "zero": "00:00:00:00:00:00",
                     "broadcast": "ff:ff:ff:ff:ff:ff", "list": ["fa:16:3e:00:00:01"],
                     "separator": "fa.16.3e.00.00.01"}.items():
    bad_create("ports", "mac_address-%s" % label, {"mac_address": value})
    bad_update("ports", "mac_address-%s" % label, {"mac_address": value})
FIXED_IP_CASES = {
    "string": "10.194.0.5",
    "dict": {"ip_address": "10.194.0.5"},
    "item-int": [5],
    "item-null": [None],
    "item-list": [["10.194.0.5"]],
    "unknown-key": [{"address": "10.194.0.5"}],
    "ip-word": [{"ip_address": "here"}],
    "ip-int": [{"ip_address": 5}],
    "ip-cidr": [{"ip_address": "10.194.0.5/24"}],
    "subnet-word": [{"subnet_id": "not-a-uuid"}],
    "subnet-unknown": [{"subnet_id": MISSING_ID}],
    "ip-not-on-network": [{"ip_address": "203.0.113.5"}],
    "subnet-of-other-network": [{"subnet_id": "{other_subnet}"}],
}
for label, value in FIXED_IP_CASES.items():
    bad_create("ports", "fixed_ips-%s" % label, {"fixed_ips": value}, status=(400, 404))
    bad_update("ports", "fixed_ips-%s" % label, {"fixed_ips": value}, status=(400, 404))
for label, value in {"word": "fast", "int": 1, "list": ["normal"]}.items():
    bad_create("ports", "vnic_type-%s" % label, {"binding:vnic_type": value})
for label, value in {"string": "profile", "list": ["a"], "int": 5}.items():
    bad_create("ports", "binding_profile-%s" % label, {"binding:profile": value})

for label, value in {"missing": DROP, "null": None, "string": "10.0.0.0/8", "empty": [],
                     "item-word": ["net"], "item-int": [5], "item-address": ["10.0.0.1"],
                     "mixed-versions": ["10.150.0.0/16", "2001:db8::/32"]}.items():
    bad_create("subnetpools", "prefixes-%s" % label, {"prefixes": value})
bad_create("subnetpools", "min-above-max", {"min_prefixlen": 24, "max_prefixlen": 16})
bad_create("subnetpools", "default-below-min", {"min_prefixlen": 16, "default_prefixlen": 12})
bad_create("subnetpools", "default-above-max", {"max_prefixlen": 24, "default_prefixlen": 28})
bad_create("subnetpools", "max-prefixlen-33", {"max_prefixlen": 33})
bad_create("subnetpools", "default_quota-negative", {"default_quota": -5})
bad_update("subnetpools", "prefixes-shrink", {"prefixes": ["10.150.0.0/24"]})
bad_update("subnetpools", "prefixes-string", {"prefixes": "10.150.0.0/16"})
bad_update("subnetpools", "min-above-max", {"min_prefixlen": 30, "max_prefixlen": 20})

for key in ("object_type", "object_id", "action", "target_tenant"):
    bad_create("rbac-policies", "%s-missing" % key, {key: DROP})
    bad_create("rbac-policies", "%s-null" % key, {key: None})
for label, value in {"word": "router", "int": 5, "list": ["network"]}.items():
    bad_create("rbac-policies", "object_type-%s" % label, {"object_type": value})
for label, value in {"word": "access_as_owner", "int": 1, "list": ["access_as_shared"]}.items():
    bad_create("rbac-policies", "action-%s" % label, {"action": value})
bad_create("rbac-policies", "target_tenant-empty", {"target_tenant": ""})
bad_create("rbac-policies", "target_tenant-too-long", {"target_tenant": "t" * 256})
bad_update("rbac-policies", "target_tenant-int", {"target_tenant": 5})
bad_update("rbac-policies", "target_tenant-empty", {"target_tenant": ""})

# --- unknown, missing and read-only attributes ------------------------------------

for collection in BASES:
    bad_create(collection, "unknown-attribute", {"colour": "blue"})
    bad_create(collection, "unknown-attribute-null", {"colour": None})
    bad_update(collection, "unknown-attribute", {"colour": "blue"})
    bad_create(collection, "id-given", {"id": str(uuid.uuid4())})
    bad_update(collection, "id", {"id": str(uuid.uuid4())})
    bad_update(collection, "tenant_id", {"tenant_id": "other"})
    bad_update(collection, "project_id", {"project_id": "other"})
bad_create("ports", "network_id-missing", {"network_id": DROP})
for collection in ("networks", "subnets", "ports", "subnetpools"):
    for key, value in (("created_at", "2018-01-08T19:04:53Z"), ("updated_at", "2018-01-08T19:04:53Z"),
                       ("revision_number", 7)):
        bad_create(collection, "%s-given" % key, {key: value})
        bad_update(collection, key, {key: value})
for key, value in (("status", "DOWN"), ("subnets", [])):
    bad_create("networks", "%s-given" % key, {key: value})
    bad_update("networks", key, {key: value})
for key, value in (("network_id", "{network}"), ("cidr", "10.193.0.0/24"), ("ip_version", 6),
                   ("subnetpool_id", "{subnetpool}"), ("ipv6_ra_mode", "slaac"),
                   ("ipv6_address_mode", "slaac"), ("prefixlen", 24)):
    bad_update("subnets", key, {key: value})
for key, value in (("network_id", "{network}"), ("status", "ACTIVE"), ("binding:vif_type", "ovs"),
                   ("binding:vif_details", {"port_filter": True})):
    bad_update("ports", key, {key: value})
for key, value in (("status", "ACTIVE"), ("binding:vif_type", "ovs"),
                   ("binding:vif_details", {"port_filter": True})):
    bad_create("ports", "%s-given" % key, {key: value})
for key, value in (("ip_version", 4), ("shared", True)):
    bad_update("subnetpools", key, {key: value})
bad_create("subnetpools", "ip_version-given", {"ip_version": 4})
for key, value in (("object_id", "{network}"), ("object_type", "network"), ("action", "access_as_external")):
    bad_update("rbac-policies", key, {key: value})

# --- bodies that are not the expected JSON object ---------------------------------

BODY_SHAPES = {
    "not-json": Raw(b"{this is not json"),
    "truncated-json": Raw(b'{"network": {"name": "x"'),
    "invalid-utf8": Raw(b'{"network": {"name": "\xff\xfe"}}'),
    "xml": Raw(b"<network><name>x</name></network>"),
    "empty-object": {},
    "list": [],
    "list-of-object": [{"x": {}}],
    "string": "network",
    "number": 5,
    "null": None,
    "true": True,
    "member-string": "{member}:string",
    "member-list": "{member}:list",
    "member-null": "{member}:null",
    "member-number": "{member}:number",
    "wrong-member": {"something": {}},
}


def shaped_body(shape, member):
    if isinstance(shape, str) and shape.startswith("{member}:"):
        kind = shape.split(":", 1)[1]
        return {member: {"string": "x", "list": [], "null": None, "number": 3}[kind]}
    return shape


for collection, (member, _) in BASES.items():
    for label, shape in BODY_SHAPES.items():
        case("%s-create-body-%s" % (collection, label), "POST", "/v2.0/" + collection,
             shaped_body(shape, member))
        case("%s-update-body-%s" % (collection, label), "PUT",
             "/v2.0/%s/%s" % (collection, MEMBER_PATHS[collection]), shaped_body(shape, member))
    case("%s-create-no-body" % collection, "POST", "/v2.0/" + collection)
    case("%s-update-no-body" % collection, "PUT", "/v2.0/%s/%s" % (collection, MEMBER_PATHS[collection]))
for collection in ("networks", "subnets", "ports", "subnetpools"):
    member, _ = BASES[collection]
    case("%s-bulk-string" % collection, "POST", "/v2.0/" + collection, {collection: "x"})
    case("%s-bulk-empty" % collection, "POST", "/v2.0/" + collection, {collection: []})
    case("%s-bulk-item-int" % collection, "POST", "/v2.0/" + collection, {collection: [5]})
    # Neutron's bulk items are bare attribute dicts; a wrapped item is an unknown attribute.
    case("%s-bulk-item-wrapped" % collection, "POST", "/v2.0/" + collection,
         {collection: [{member: {"name": REJECTED_NAME}}]})
    if collection != "networks":
        case("%s-bulk-item-missing-required" % collection, "POST", "/v2.0/" + collection,
             {collection: [{"name": REJECTED_NAME}]})
case("networks-bulk-one-bad-item", "POST", "/v2.0/networks",
     {"networks": [{"name": REJECTED_NAME}, {"admin_state_up": "maybe"}]})
case("networks-create-nested-json", "POST", "/v2.0/networks", Raw(b"[" * 50000 + b"]" * 50000))
case("networks-create-nan-mtu", "POST", "/v2.0/networks",
     Raw(b'{"network": {"name": "sweep-rejected", "mtu": NaN}}'))
case("networks-create-infinite-mtu", "POST", "/v2.0/networks",
     Raw(b'{"network": {"name": "sweep-rejected", "mtu": Infinity}}'))

# --- sizes ------------------------------------------------------------------------

MEGABYTE = b'{"network": {"name": "' + b"x" * (1024 * 1024) + b'"}}'
case("networks-create-1MB-body", "POST", "/v2.0/networks", Raw(MEGABYTE), status=413)
case("networks-update-1MB-body", "PUT", "/v2.0/networks/{network}", Raw(MEGABYTE), status=413)
case("ports-create-1MB-body", "POST", "/v2.0/ports", Raw(MEGABYTE), status=413)
case("quotas-update-1MB-body", "PUT", "/v2.0/quotas/sweep-project", Raw(MEGABYTE), status=413)
case("rbac-policies-create-1MB-body", "POST", "/v2.0/rbac-policies", Raw(MEGABYTE), status=413)

# --- query strings ----------------------------------------------------------------

QUERY_CASES = {
    "unknown-filter": "colour=blue",
    "sort_key-unknown": "sort_key=colour",
    "sort_dir-sideways": "sort_key=name&sort_dir=sideways",
    "sort_dir-without-key-count": "sort_key=name&sort_dir=asc&sort_dir=desc",
    "limit-negative": "limit=-1",
    "limit-word": "limit=ten",
    "limit-float": "limit=1.5",
    "limit-empty": "limit=",
    "revision_number-word": "revision_number=seven",
}
for collection in ("networks", "subnets", "ports", "subnetpools", "rbac-policies"):
    for label, query in QUERY_CASES.items():
        case("%s-list-%s" % (collection, label), "GET", "/v2.0/%s?%s" % (collection, query))
    case("%s-list-marker-word" % collection, "GET", "/v2.0/%s?limit=2&marker=not-a-uuid" % collection,
         status=(400, 404))
    case("%s-list-marker-unknown" % collection, "GET",
         "/v2.0/%s?limit=2&marker=%s" % (collection, MISSING_ID), status=(400, 404))
for label, query in {"admin_state_up-word": "admin_state_up=maybe", "shared-word": "shared=maybe",
                     "router_external-word": "router%3Aexternal=maybe", "mtu-word": "mtu=big",
                     "segmentation_id-word": "provider%3Asegmentation_id=abc"}.items():
    case("networks-list-%s" % label, "GET", "/v2.0/networks?" + query)
for label, query in {"ip_version-word": "ip_version=four", "enable_dhcp-word": "enable_dhcp=maybe"}.items():
    case("subnets-list-%s" % label, "GET", "/v2.0/subnets?" + query)
case("ports-list-admin_state_up-word", "GET", "/v2.0/ports?admin_state_up=maybe")
case("subnetpools-list-ip_version-word", "GET", "/v2.0/subnetpools?ip_version=four")

# --- unknown URLs and missing rows ------------------------------------------------

for collection in ("networks", "subnets", "ports", "subnetpools", "rbac-policies"):
    for label, item in (("unknown-id", MISSING_ID), ("malformed-id", "not-a-uuid")):
        case("%s-show-%s" % (collection, label), "GET", "/v2.0/%s/%s" % (collection, item), status=404)
        case("%s-delete-%s" % (collection, label), "DELETE", "/v2.0/%s/%s" % (collection, item), status=404)
    member, _ = BASES[collection]
    case("%s-update-unknown-id" % collection, "PUT", "/v2.0/%s/%s" % (collection, MISSING_ID),
         {member: {"name": "x"} if collection != "rbac-policies" else {"target_tenant": "x"}}, status=404)
    case("%s-sub-resource-unknown" % collection, "GET",
         "/v2.0/%s/%s/colour" % (collection, MEMBER_PATHS[collection]), status=404)
for label, path in {"collection-unknown": "/v2.0/routers-and-more", "version-unknown": "/v3/networks",
                    "root-unknown": "/networks", "deep-unknown": "/v2.0/networks/{network}/tags/a/b",
                    "extension-unknown": "/v2.0/extensions/colour", "quota-sub-unknown": "/v2.0/quotas/p/colour",
                    "double-slash-id": "/v2.0/networks//x",
                    "tag-unknown": "/v2.0/networks/{network}/tags/no-such-tag",
                    "tags-of-unknown-network": "/v2.0/networks/%s/tags" % MISSING_ID}.items():
    case("url-%s" % label, "GET", path, status=404)
case("url-percent-ff", "GET", "/v2.0/networks/%ff", status=(400, 404))
case("url-percent-ff-in-collection", "GET", "/v2.0/net%ffworks", status=(400, 404))

# --- wrong methods ----------------------------------------------------------------

for collection in ("networks", "subnets", "ports", "subnetpools", "rbac-policies"):
    member_path = "/v2.0/%s/%s" % (collection, MEMBER_PATHS[collection])
    case("%s-method-PUT-collection" % collection, "PUT", "/v2.0/" + collection, {"x": {}}, status=405)
    case("%s-method-DELETE-collection" % collection, "DELETE", "/v2.0/" + collection, status=405)
    case("%s-method-POST-member" % collection, "POST", member_path, {"x": {}}, status=405)
    case("%s-method-PATCH-member" % collection, "PATCH", member_path, {"x": {}}, status=405)
for label, (method, path) in {"POST-extensions": ("POST", "/v2.0/extensions"),
                              "DELETE-extension": ("DELETE", "/v2.0/extensions/quotas"),
                              "POST-quotas": ("POST", "/v2.0/quotas"),
                              "POST-quota": ("POST", "/v2.0/quotas/sweep-project"),
                              "PUT-quota-details": ("PUT", "/v2.0/quotas/sweep-project/details"),
                              "PATCH-tags": ("PATCH", "/v2.0/networks/{network}/tags"),
                              "POST-v2.0": ("POST", "/v2.0"),
                              "DELETE-v2.0": ("DELETE", "/v2.0"),
                              "POST-root": ("POST", "/"),
                              "PUT-root": ("PUT", "/")}.items():
    case("method-%s" % label, method, path, status=405)
# Newer Neutron takes POST .../tags as "add these tags", so without a body it is a 400.
case("method-POST-tags", "POST", "/v2.0/networks/{network}/tags", status=(400, 405))

# --- quotas -----------------------------------------------------------------------

QUOTA_BODIES = {
    "limit-word": {"quota": {"network": "many"}},
    "limit-list": {"quota": {"network": [5]}},
    "limit-below-minus-one": {"quota": {"network": -5}},
    "limit-huge": {"quota": {"network": 10 ** 25}},
    "unknown-resource": {"quota": {"colour": 5}},
    "quota-string": {"quota": "network=5"},
    "quota-list": {"quota": [{"network": 5}]},
    "wrong-key": {"quotas": {"network": 5}},
    "empty-object": {},
    "list": [],
    "string": "quota",
    "not-json": Raw(b"quota: {network: 5}"),
}
for label, body in QUOTA_BODIES.items():
    case("quotas-update-%s" % label, "PUT", "/v2.0/quotas/sweep-project", body)
case("quotas-update-by-member", "PUT", "/v2.0/quotas/sweep-member-project",
     {"quota": {"network": 50}}, status=403, headers=MEMBER)
case("quotas-show-other-project-by-member", "GET", "/v2.0/quotas/sweep-project", status=403, headers=MEMBER)
case("quotas-list-by-member", "GET", "/v2.0/quotas", status=403, headers=MEMBER)
case("quotas-delete-by-member", "DELETE", "/v2.0/quotas/sweep-member-project", status=403, headers=MEMBER)

# --- tags -------------------------------------------------------------------------

for label, body in {"tags-string": {"tags": "red"}, "tags-item-int": {"tags": [5]},
                    "tags-item-null": {"tags": [None]}, "tags-missing": {"colour": ["red"]},
                    "tags-too-long": {"tags": ["t" * 256]}, "list": ["red"],
                    "not-json": Raw(b"red,blue")}.items():
    case("tags-replace-%s" % label, "PUT", "/v2.0/networks/{network}/tags", body)
case("tags-add-too-long", "PUT", "/v2.0/networks/{network}/tags/" + "t" * 256)
case("tags-add-on-unknown-network", "PUT", "/v2.0/networks/%s/tags/red" % MISSING_ID, status=404)
case("tags-remove-absent", "DELETE", "/v2.0/networks/{network}/tags/never-set", status=404)
case("tags-list-filter-on-unknown", "GET", "/v2.0/ports/%s/tags" % MISSING_ID, status=404)

# --- headers and authority --------------------------------------------------------

case("networks-update-if-match-stale", "PUT", "/v2.0/networks/{network}",
     {"network": {"name": "x"}}, status=412, headers={"If-Match": "revision_number=99999"})
case("networks-delete-if-match-stale", "DELETE", "/v2.0/networks/{network}", status=412,
     headers={"If-Match": "revision_number=99999"})
case("networks-create-shared-by-member", "POST", "/v2.0/networks",
     {"network": {"name": REJECTED_NAME, "shared": True}}, status=403, headers=MEMBER)
case("networks-create-provider-by-member", "POST", "/v2.0/networks",
     {"network": {"name": REJECTED_NAME, "provider:network_type": "vxlan"}}, status=403, headers=MEMBER)
case("networks-create-for-other-project-by-member", "POST", "/v2.0/networks",
     {"network": {"name": REJECTED_NAME, "project_id": "someone-else"}}, status=(400, 403), headers=MEMBER)
case("networks-show-other-project-by-member", "GET", "/v2.0/networks/{network}", status=404, headers=MEMBER)
case("networks-delete-other-project-by-member", "DELETE", "/v2.0/networks/{network}", status=404,
     headers=MEMBER)
case("ports-create-on-other-project-network-by-member", "POST", "/v2.0/ports",
     {"port": {"name": REJECTED_NAME, "network_id": "{network}"}}, status=404, headers=MEMBER)
case("rbac-policies-create-wildcard-by-member", "POST", "/v2.0/rbac-policies",
     {"rbac_policy": {"object_type": "network", "object_id": "{member_network}",
                      "action": "access_as_shared", "target_tenant": "*"}}, status=403, headers=MEMBER)
case("rbac-policies-show-by-member", "GET", "/v2.0/rbac-policies/{rbac}", status=404, headers=MEMBER)

# --- requests that may succeed but must never break the server -------------------

# Neutron does not check the format of id-like filter values: an empty list is fine too.
for collection, key in (("networks", "id"), ("subnets", "network_id"), ("ports", "network_id"),
                        ("rbac-policies", "object_id")):
    odd("%s-list-%s-word" % (collection, key), "GET", "/v2.0/%s?%s=not-a-uuid" % (collection, key))
odd("networks-update-if-match-malformed", "PUT", "/v2.0/networks/{network}",
    {"network": {"name": "sweep-network"}},
    headers={"If-Match": "etag-123"})
odd("ports-create-mac-bare-hex", "POST", "/v2.0/ports",
    {"port": {"network_id": "{other_network}", "mac_address": "fa163e0000aa"}})
odd("ports-create-mac-dotted-quads", "POST", "/v2.0/ports",
    {"port": {"network_id": "{other_network}", "mac_address": "fa16.3e00.00bb"}})
odd("ports-create-mac-multicast", "POST", "/v2.0/ports",
    {"port": {"network_id": "{other_network}", "mac_address": "01:00:5e:00:00:01"}})
odd("networks-list-name-invalid-utf8", "GET", "/v2.0/networks?name=%ff%fe")
odd("networks-list-limit-huge", "GET", "/v2.0/networks?limit=" + "9" * 30)
odd("networks-list-revision-huge", "GET", "/v2.0/networks?revision_number=" + "9" * 30)
odd("networks-list-segmentation-huge", "GET", "/v2.0/networks?provider%3Asegmentation_id=" + "9" * 30)
odd("networks-list-mtu-huge", "GET", "/v2.0/networks?mtu=" + "9" * 30)
odd("subnets-list-ip_version-huge", "GET", "/v2.0/subnets?ip_version=" + "9" * 30)
odd("networks-list-fields-unknown", "GET", "/v2.0/networks?fields=colour")
for _collection in ("networks", "subnets", "ports", "subnetpools", "rbac-policies", "agents"):
    # A page whose fields leave the id out still links to the next page.
    odd("%s-list-fields-without-id-paged" % _collection, "GET", "/v2.0/%s?fields=name&limit=1" % _collection)
odd("ip-availabilities-list-paged", "GET", "/v2.0/network-ip-availabilities?limit=1")
odd("ip-availabilities-list-paged-fields", "GET", "/v2.0/network-ip-availabilities?limit=1&fields=total_ips")
case("ip-availabilities-create", "POST", "/v2.0/network-ip-availabilities",
     {"network_ip_availability": {}}, status=405)
case("ip-availabilities-update", "PUT", "/v2.0/network-ip-availabilities/{network}",
     {"network_ip_availability": {}}, status=405)
case("ip-availabilities-delete", "DELETE", "/v2.0/network-ip-availabilities/{network}", status=405)
odd("networks-list-many-filters", "GET", "/v2.0/networks?" + "&".join("name=n%d" % i for i in range(2000)))
odd("networks-list-sort-many-keys", "GET", "/v2.0/networks?" + "&".join(["sort_key=name", "sort_dir=asc"] * 50))
odd("networks-list-page_reverse-word", "GET", "/v2.0/networks?page_reverse=maybe")
odd("networks-list-tags-empty", "GET", "/v2.0/networks?tags=&not-tags=,,")
odd("networks-create-lone-surrogate-name", "POST", "/v2.0/networks",
    Raw(b'{"network": {"name": "\\ud800"}}'))
odd("networks-create-nul-in-name", "POST", "/v2.0/networks", Raw(b'{"network": {"name": "a\\u0000b"}}'))
odd("networks-create-bom", "POST", "/v2.0/networks", Raw(b'\xef\xbb\xbf{"network": {"name": "bom"}}'))
odd("networks-create-utf16", "POST", "/v2.0/networks", Raw('{"network": {"name": "u16"}}'.encode("utf-16")))
odd("networks-create-duplicate-keys", "POST", "/v2.0/networks",
    Raw(b'{"network": {"name": "dup", "name": "dup2"}}'))
odd("networks-create-text-plain", "POST", "/v2.0/networks", Raw(b'{"network": {"name": "plain"}}'),
    headers={"Content-Type": "text/plain"})
odd("networks-show-very-long-id", "GET", "/v2.0/networks/" + "a" * 5000)
odd("networks-update-empty-member", "PUT", "/v2.0/networks/{network}", {"network": {}})
odd("ports-create-mac-uppercase", "POST", "/v2.0/ports",
    {"port": {"network_id": "{network}", "mac_address": "FA:16:3E:AA:BB:CC"}})
odd("subnets-create-gateway-outside-cidr", "POST", "/v2.0/subnets",
    {"subnet": {"network_id": "{other_network}", "ip_version": 4, "cidr": "10.192.0.0/24",
                "gateway_ip": "10.191.0.1"}})
odd("tags-add-unicode", "PUT", "/v2.0/networks/{network}/tags/%E2%9C%93")
odd("quotas-show-unknown-project", "GET", "/v2.0/quotas/" + "p" * 300)


# --- the tests --------------------------------------------------------------------


def _api(server, method, path, body=None, headers=None):
    return requests.request(method, server.url + path, headers=dict(headers or {}), json=body, timeout=30)


@pytest.fixture(scope="module")
def rows(aio_server):
    """The rows the cases refer to, made once through the API as admin."""
    def create(collection, member, body, headers=None):
        response = _api(aio_server, "POST", "/v2.0/" + collection, {member: body}, headers)
        assert response.status_code == 201, response.text
        return response.json()[member]["id"]

    made = {"missing": MISSING_ID}
    made["network"] = create("networks", "network", {"name": "sweep-network"})
    made["subnet"] = create("subnets", "subnet", {"network_id": made["network"], "ip_version": 4,
                                                  "cidr": "10.1.0.0/24"})
    made["port"] = create("ports", "port", {"network_id": made["network"]})
    made["subnetpool"] = create("subnetpools", "subnetpool", {"name": "sweep-pool",
                                                              "prefixes": ["10.150.0.0/16"]})
    made["rbac"] = create("rbac-policies", "rbac_policy", {"object_type": "network",
                                                          "object_id": made["network"],
                                                          "action": "access_as_shared",
                                                          "target_tenant": "sweep-shared-with"})
    made["other_network"] = create("networks", "network", {"name": "sweep-other-network"})
    made["other_subnet"] = create("subnets", "subnet", {"network_id": made["other_network"],
                                                        "ip_version": 4, "cidr": "10.2.0.0/24"})
    made["member_network"] = create("networks", "network", {"name": "sweep-member-network"}, MEMBER)
    return made


def _fill(value, made):
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: made.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, made) for v in value]
    if isinstance(value, dict):
        return {_fill(k, made): _fill(v, made) for k, v in value.items()}
    return value


def send(server, made, item):
    headers = dict(item.headers)
    data = None
    if isinstance(item.body, Raw):
        data = item.body.data
        headers.setdefault("Content-Type", "application/json")
    elif item.body is not NO_BODY:
        data = json.dumps(_fill(item.body, made)).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    return requests.request(item.method, server.url + _fill(item.path, made), data=data,
                            headers=headers, timeout=60)


def describe(item, response):
    return "%s %s -> %s %s" % (item.method, item.path, response.status_code, response.text[:500])


def assert_neutron_error(item, response):
    assert response.status_code < 500, describe(item, response)
    assert 400 <= response.status_code < 500, describe(item, response)
    assert REQUEST_ID_RE.match(response.headers.get("X-Openstack-Request-Id", "")), describe(item, response)
    assert response.headers.get("Content-Type", "").startswith("application/json"), describe(item, response)
    body = response.json()
    assert list(body) == ["NeutronError"], describe(item, response)
    error = body["NeutronError"]
    assert {"type", "message", "detail"} <= set(error), describe(item, response)
    assert isinstance(error["type"], str) and error["type"], describe(item, response)
    assert isinstance(error["message"], str) and error["message"], describe(item, response)
    assert isinstance(error["detail"], str), describe(item, response)


@pytest.mark.parametrize("item", CASES, ids=[c.id for c in CASES])
def test_malformed_request_is_rejected(aio_server, rows, item):
    response = send(aio_server, rows, item)
    assert_neutron_error(item, response)
    assert response.status_code in item.status, describe(item, response)


@pytest.mark.parametrize("item", ODD_CASES, ids=[c.id for c in ODD_CASES])
def test_odd_request_never_breaks_the_server(aio_server, rows, item):
    response = send(aio_server, rows, item)
    assert response.status_code < 500, describe(item, response)
    assert REQUEST_ID_RE.match(response.headers.get("X-Openstack-Request-Id", "")), describe(item, response)
    if response.status_code >= 400:
        assert_neutron_error(item, response)


def test_rejected_requests_left_nothing_behind(aio_server, rows):
    for collection in ("networks", "subnets", "ports", "subnetpools"):
        listed = _api(aio_server, "GET", "/v2.0/%s?name=%s" % (collection, REJECTED_NAME)).json()[collection]
        assert listed == [], "%s: %s" % (collection, listed)
    network = _api(aio_server, "GET", "/v2.0/networks/%s" % rows["network"]).json()["network"]
    assert network["name"] == "sweep-network"
    assert network["subnets"] == [rows["subnet"]]
    pool = _api(aio_server, "GET", "/v2.0/subnetpools/%s" % rows["subnetpool"]).json()["subnetpool"]
    assert pool["prefixes"] == ["10.150.0.0/16"]
    quota = _api(aio_server, "GET", "/v2.0/quotas/sweep-project").json()["quota"]
    defaults = _api(aio_server, "GET", "/v2.0/quotas/sweep-project/default").json()["quota"]
    assert quota == defaults

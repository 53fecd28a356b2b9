"""Pure parts of the lbaasv2 API: the list filters Octavia's clients send (filters.py) and
the nulls a PUT may carry (schemas.parse)."""
import pytest

from netweave.core.api import faults
from netweave.service_plugins.lbaasv2 import filters, schemas

LISTENER = {"id": "l1", "name": "web", "admin_state_up": True, "protocol_port": 80, "tags": ["a", "b"],
            "loadbalancers": [{"id": "lb1"}], "default_pool_id": None}
MONITOR = {"id": "h1", "pools": [{"id": "p1"}], "tags": []}


@pytest.mark.parametrize("query, passes", [
    ({}, True),
    ({"name": ["web"]}, True),
    ({"name": ["db", "web"]}, True),
    ({"name": ["db"]}, False),
    ({"protocol_port": ["80"]}, True),
    ({"admin_state_up": ["true"]}, True),
    ({"admin_state_up": ["False"]}, False),
    ({"loadbalancer_id": ["lb1"]}, True),
    ({"loadbalancer_id": ["lb2"]}, False),
    ({"tags": ["a,b"]}, True),
    ({"tags": ["a", "c"]}, False),
    ({"tags-any": ["c,b"]}, True),
    ({"tags-any": ["c"]}, False),
    ({"not-tags": ["a,c"]}, True),
    ({"not-tags": ["a,b"]}, False),
    ({"not-tags-any": ["c"]}, True),
    ({"not-tags-any": ["c,a"]}, False),
    # Names a listener does not show filter nothing (as Neutron ignores unknown filters).
    ({"vip_subnet_id": ["x"]}, True),
    ({"pool_id": ["p1"]}, True),
])
def test_listener_filters(query, passes):
    assert filters.matches(LISTENER, query) is passes


def test_relation_filters_read_the_id_lists():
    assert filters.matches(MONITOR, {"pool_id": ["p1"]})
    assert not filters.matches(MONITOR, {"pool_id": ["p2"]})
    assert not filters.matches(MONITOR, {"tags": ["a"]}) and filters.matches(MONITOR, {"not-tags-any": ["a"]})
    # A shown attribute of that name wins over the relation (members show pool_id).
    assert filters.matches({"id": "m1", "pool_id": "p1"}, {"pool_id": ["p1"]})
    assert not filters.matches({"id": "m1", "pool_id": "p1"}, {"pool_id": ["p2"]})


def test_nulls_reset_to_octavias_defaults():
    monitor = schemas.parse(schemas.HEALTHMONITOR, {"healthmonitor": {
        "http_method": None, "url_path": None, "expected_codes": None, "max_retries_down": None, "name": None}},
        "healthmonitor", creating=False)
    assert monitor == {"http_method": "GET", "url_path": "/", "expected_codes": "200", "max_retries_down": 3,
                       "name": ""}
    assert schemas.parse(schemas.LISTENER, {"listener": {"connection_limit": None, "default_pool_id": None}},
                         "listener", creating=False) == {"connection_limit": -1, "default_pool_id": None}
    assert schemas.parse(schemas.MEMBER, {"member": {"weight": None, "backup": None}}, "member",
                         creating=False) == {"weight": 1, "backup": False}


def test_a_null_without_a_default_is_still_refused():
    with pytest.raises(faults.HTTPError) as error:
        schemas.parse(schemas.LISTENER, {"listener": {"admin_state_up": None}}, "listener", creating=False)
    assert error.value.status == 400 and "admin_state_up" in error.value.msg
    with pytest.raises(faults.HTTPError) as error:
        schemas.parse(schemas.POOL, {"pool": {"tls_enabled": True}}, "pool", creating=False)
    assert error.value.msg == "Invalid input for tls_enabled. Reason: 'True' is not in [False]."

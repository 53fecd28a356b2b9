"""Resource events of the core plugin on a real database (SQLite and PostgreSQL).

The API runs in the test process over the real ML2 plugin; subscribers are
plain functions on ``plugin.events``, as a service plugin's would be. What is
checked: a BEFORE_DELETE subscriber refuses a port delete asked through the
REST API (Neutron's 409 shape, the port intact) but lets a plugin's own delete
through; a PRECOMMIT failure leaves the database exactly as it was; AFTER
subscribers see the committed change with its original and current dicts; the
network service's declared auto-delete owners go with their network, others
keep it in use.
"""
import json
import uuid

import pytest
import sqlalchemy as sa
import webob
from oslo_config import cfg

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.api import builder
from netweave.core.db import all_models
from netweave.core.db import api as db_api

ADMIN = context_mod.get_admin_context()
PROJECT = "ev-%s" % uuid.uuid4().hex[:8]
ROUTER_INTERFACE = "network:router_interface"
Event = events.Event
# The events of a create, an update and a delete, in the order they are published.
CREATE = (Event.BEFORE_CREATE, Event.PRECOMMIT_CREATE, Event.AFTER_CREATE)
UPDATE = (Event.BEFORE_UPDATE, Event.PRECOMMIT_UPDATE, Event.AFTER_UPDATE)
DELETE = (Event.BEFORE_DELETE, Event.PRECOMMIT_DELETE, Event.AFTER_DELETE)


class ServicePortInUse(exc.InUse):
    """What a router plugin answers for a delete of its interface through the port API."""
    message = "Port %(port_id)s cannot be deleted directly via the port API: %(reason)s."


class Refused(exc.Conflict):
    message = "Refused by a subscriber: %(why)s."


class Api:
    def __init__(self, app):
        self.app = app

    def call(self, method, path, body=None, expect=None):
        request = webob.Request.blank("/v2.0" + path, method=method,
                                      headers={"X-Project-Id": PROJECT, "Content-Type": "application/json"})
        if body is not None:
            request.body = json.dumps(body).encode()
        response = request.get_response(self.app)
        if expect is not None:
            assert response.status_int == expect, response.body
        return response.status_int, (json.loads(response.body) if response.body else None)


class Cloud:
    def __init__(self, plugin):
        self.plugin = plugin
        self.api = Api(builder.build_wsgi_app(cfg.CONF, plugin))

    def network(self, **extra):
        _, body = self.api.call("POST", "/networks", {"network": dict({"name": "ev"}, **extra)}, expect=201)
        return body["network"]

    def subnet(self, network, cidr="10.60.0.0/24", **extra):
        body = {"subnet": dict({"network_id": network["id"], "cidr": cidr, "ip_version": 4}, **extra)}
        _, body = self.api.call("POST", "/subnets", body, expect=201)
        return body["subnet"]

    def port(self, network, **extra):
        _, body = self.api.call("POST", "/ports", {"port": dict({"network_id": network["id"]}, **extra)},
                                expect=201)
        return body["port"]

    def subscribe(self, callback, resource, *wanted):
        for event in wanted:
            self.plugin.events.subscribe(callback, resource, event)


@pytest.fixture(params=ml2_plugin.BACKENDS)
def cloud(request, tmp_path):
    url = ml2_plugin.database_url(request, tmp_path)
    cfg.CONF.set_override("auth_strategy", "noauth")
    try:
        with ml2_plugin.running_plugin(url) as plugin:
            yield Cloud(plugin)
    finally:
        cfg.CONF.clear_override("auth_strategy")


def database_contents():
    """Every row of every table, as sorted tuples: equal means nothing was written."""
    contents = {}
    with db_api.reader_scope() as session:
        for table in all_models.metadata.sorted_tables:
            contents[table.name] = sorted(tuple(str(v) for v in row) for row in session.execute(sa.select(table)))
    return contents


def port_row_exists(port_id):
    with db_api.reader_scope() as session:
        ports = all_models.metadata.tables["ports"]
        return session.scalar(sa.select(sa.func.count()).select_from(ports).where(ports.c.id == port_id)) == 1


# --- BEFORE_DELETE: a veto of API deletes only ---------------------------------------

def refuse_router_interface_deletes(resource, event, payload):
    port = payload.original
    if payload.via_api and port["device_owner"] == ROUTER_INTERFACE:
        raise ServicePortInUse(port_id=port["id"], reason="has device owner %s" % ROUTER_INTERFACE)


def test_a_before_delete_subscriber_refuses_an_api_delete_but_not_a_plugins_own(cloud):
    cloud.subscribe(refuse_router_interface_deletes, events.PORT, Event.BEFORE_DELETE)
    network = cloud.network()
    cloud.subnet(network)
    interface = cloud.port(network, device_owner=ROUTER_INTERFACE, device_id=str(uuid.uuid4()))
    before = database_contents()

    status, body = cloud.api.call("DELETE", "/ports/%s" % interface["id"])
    assert status == 409
    assert body == {"NeutronError": {
        "type": "ServicePortInUse", "detail": "",
        "message": "Port %s cannot be deleted directly via the port API: has device owner "
                   "network:router_interface." % interface["id"]}}
    # Refused before anything was written: the port, its address and binding are intact.
    assert database_contents() == before
    _, shown = cloud.api.call("GET", "/ports/%s" % interface["id"], expect=200)
    assert shown["port"]["fixed_ips"] == interface["fixed_ips"]

    # Other ports are deleted through the API as before.
    plain = cloud.port(network)
    cloud.api.call("DELETE", "/ports/%s" % plain["id"], expect=204)
    assert not port_row_exists(plain["id"])

    # The plugin owning the interface deletes it through the core service for itself.
    cloud.plugin.ports.delete(ADMIN, interface["id"])
    assert not port_row_exists(interface["id"])
    cloud.api.call("GET", "/ports/%s" % interface["id"], expect=404)


def test_a_before_delete_veto_sees_what_the_caller_may_see(cloud):
    seen = []
    cloud.subscribe(lambda _r, _e, payload: seen.append(payload), events.PORT, Event.BEFORE_DELETE)
    missing = str(uuid.uuid4())
    status, body = cloud.api.call("DELETE", "/ports/%s" % missing)
    # An unknown port is a 404 as without subscribers, and nobody was asked.
    assert status == 404 and body["NeutronError"]["type"] == "PortNotFound"
    assert seen == []


# --- PRECOMMIT: a failure takes the whole change back ------------------------------

def test_a_failing_precommit_subscriber_leaves_no_network_behind(cloud):
    cloud.network()  # the tables are not all empty
    before = database_contents()

    def refuse(resource, event, payload):
        # Inside the transaction: the network and its segment are written already.
        networks = all_models.metadata.tables["networks"]
        assert payload.session.scalar(sa.select(networks.c.name).where(networks.c.id == payload.resource_id)) \
            == "doomed"
        raise Refused(why="no more networks")

    cloud.subscribe(refuse, events.NETWORK, Event.PRECOMMIT_CREATE)
    status, body = cloud.api.call("POST", "/networks", {"network": {"name": "doomed"}})
    assert status == 409 and body["NeutronError"] == {
        "type": "Refused", "message": "Refused by a subscriber: no more networks.", "detail": ""}
    # No network, segment, RBAC entry, and the VNI is free again.
    assert database_contents() == before


def test_a_failing_precommit_subscriber_leaves_no_port_behind(cloud):
    network = cloud.network()
    cloud.subnet(network)
    cloud.port(network)
    before = database_contents()
    attempts = []

    def refuse(resource, event, payload):
        attempts.append(payload.request.get("name"))
        if payload.request.get("name") == "doomed":
            raise RuntimeError("the subscriber's own rows could not be written")

    cloud.subscribe(refuse, events.PORT, Event.PRECOMMIT_CREATE)
    # A plugin creating a port for itself gets the subscriber's error as it is.
    with pytest.raises(RuntimeError, match="could not be written"):
        cloud.plugin.ports.create(ADMIN, {"project_id": PROJECT, "network_id": network["id"], "name": "doomed",
                                          "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400"}]})
    assert attempts == ["doomed"]
    # No port, binding, address, DHCP option or provisioning block.
    assert database_contents() == before

    # A bulk request is all or nothing: the third port fails it, the first two go too.
    def veto_third(resource, event, payload):
        if payload.request.get("name") == "third":
            raise Refused(why="no third port")

    cloud.subscribe(veto_third, events.PORT, Event.PRECOMMIT_CREATE)
    status, body = cloud.api.call("POST", "/ports", {"ports": [{"network_id": network["id"], "name": name}
                                                               for name in ("first", "second", "third")]})
    assert status == 409 and body["NeutronError"]["type"] == "Refused"
    assert attempts[1:] == ["first", "second", "third"]
    assert database_contents() == before


# --- AFTER: the committed change, original and current ------------------------------

class Recorder:
    """Every event of the given resources, with what a fresh session saw at that moment."""

    def __init__(self, cloud, resources):
        self.calls = []
        for resource in resources:
            cloud.subscribe(self.record, resource, *Event)

    def record(self, resource, event, payload):
        self.calls.append((resource, event, payload, self._committed(resource, payload.resource_id)))

    @staticmethod
    def _committed(resource, resource_id):
        """The row's name as another connection sees it (None: no committed row)."""
        if resource_id is None:
            return None
        table = all_models.metadata.tables[resource + "s"]
        with db_api.reader_scope() as session:
            return session.scalar(sa.select(table.c.name).where(table.c.id == resource_id))

    def take(self):
        calls, self.calls = self.calls, []
        return calls


def _shape(calls):
    return [(resource, event, payload.via_api) for resource, event, payload, _seen in calls]


def test_network_events_in_order_with_original_and_current(cloud):
    recorder = Recorder(cloud, [events.NETWORK])
    network = cloud.network(name="first")
    calls = recorder.take()
    assert _shape(calls) == [(events.NETWORK, e, True) for e in CREATE]
    (_, _, before, _), (_, _, precommit, seen_in_precommit), (_, _, after, seen_after) = calls
    assert before.resource_id is None and before.current["name"] == "first" and before.session is None
    assert precommit.session is not None and precommit.current["id"] == network["id"]
    # Not committed while PRECOMMIT runs; committed when AFTER does.
    assert seen_in_precommit is None and seen_after == "first"
    assert after.session is None and after.original is None
    assert after.current["id"] == network["id"] and after.current["provider:network_type"] == "vxlan"
    assert after.request["name"] == "first"

    cloud.api.call("PUT", "/networks/%s" % network["id"], {"network": {"name": "second"}}, expect=200)
    calls = recorder.take()
    assert [c[1] for c in calls] == list(UPDATE)
    revision = network["revision_number"]
    for _resource, _event, payload, _seen in calls:
        assert payload.resource_id == network["id"] and payload.request == {"name": "second"}
        assert payload.original["name"] == "first" and payload.original["revision_number"] == revision
        assert payload.via_api is True
    assert calls[0][2].current is None
    assert calls[2][2].current["name"] == "second" and calls[2][2].current["revision_number"] == revision + 1
    assert calls[1][3] == "first" and calls[2][3] == "second"

    cloud.api.call("DELETE", "/networks/%s" % network["id"], expect=204)
    calls = recorder.take()
    assert [c[1] for c in calls] == list(DELETE)
    assert all(c[2].original["name"] == "second" and c[2].current is None for c in calls)
    assert [c[3] for c in calls] == ["second", "second", None]


def test_port_events_per_port_of_a_bulk_create_and_via_api_of_a_plugins_own_calls(cloud):
    network = cloud.network()
    cloud.subnet(network)
    recorder = Recorder(cloud, [events.PORT])
    _, body = cloud.api.call("POST", "/ports", {"ports": [{"network_id": network["id"], "name": "a"},
                                                          {"network_id": network["id"], "name": "b"}]},
                             expect=201)
    created = {p["name"]: p for p in body["ports"]}
    calls = recorder.take()
    # Each phase for every port before the next phase: one transaction for the whole request.
    assert [(c[1], c[2].request["name"]) for c in calls] == [
        (Event.BEFORE_CREATE, "a"), (Event.BEFORE_CREATE, "b"), (Event.PRECOMMIT_CREATE, "a"),
        (Event.PRECOMMIT_CREATE, "b"), (Event.AFTER_CREATE, "a"), (Event.AFTER_CREATE, "b")]
    assert all(c[2].via_api for c in calls)
    for _resource, _event, payload, seen in calls[4:]:
        port = created[payload.request["name"]]
        assert payload.resource_id == port["id"] and seen == port["name"]
        assert payload.current["fixed_ips"] == port["fixed_ips"]
        assert payload.current["mac_address"] == port["mac_address"]

    # A plugin's own port: the same events, via_api False.
    own = cloud.plugin.ports.create(ADMIN, {"project_id": PROJECT, "network_id": network["id"], "name": "own",
                                            "device_owner": "network:example"})
    cloud.plugin.ports.update(ADMIN, own["id"], {"name": "own2"})
    cloud.plugin.ports.delete(ADMIN, own["id"])
    calls = recorder.take()
    assert _shape(calls) == [(events.PORT, e, False) for e in CREATE + UPDATE + DELETE]
    after_update = calls[5][2]
    assert after_update.original["name"] == "own" and after_update.current["name"] == "own2"
    assert calls[8][2].original["name"] == "own2" and calls[8][3] is None


def test_a_port_deletes_precommit_subscribers_leave_metadata_for_its_after_subscribers(cloud):
    network = cloud.network()
    port = cloud.plugin.ports.create(ADMIN, {"project_id": PROJECT, "network_id": network["id"], "name": "m"})

    def note(resource, event, payload):
        payload.metadata["noted"] = payload.resource_id

    cloud.subscribe(note, events.PORT, Event.PRECOMMIT_DELETE)
    recorder = Recorder(cloud, [events.PORT])
    cloud.plugin.ports.delete(ADMIN, port["id"])
    (_, _, precommit, _), (_, _, after, _) = [c for c in recorder.take() if c[1] != Event.BEFORE_DELETE]
    assert after.metadata is precommit.metadata
    assert after.metadata == {"noted": port["id"]}
    # Payloads of other changes start with metadata of their own.
    assert events.Payload(ADMIN).metadata == {} and events.Payload(ADMIN).metadata is not after.metadata


def test_subnet_and_subnet_pool_events(cloud):
    recorder = Recorder(cloud, [events.SUBNET, events.SUBNETPOOL])
    network = cloud.network()
    _, body = cloud.api.call("POST", "/subnetpools", {"subnetpool": {
        "name": "pool", "prefixes": ["10.70.0.0/16"], "default_prefixlen": 24}}, expect=201)
    pool = body["subnetpool"]
    _, body = cloud.api.call("POST", "/subnets", {"subnet": {
        "name": "from-pool", "network_id": network["id"], "subnetpool_id": pool["id"], "ip_version": 4}},
        expect=201)
    subnet = body["subnet"]
    cloud.api.call("PUT", "/subnets/%s" % subnet["id"], {"subnet": {"name": "renamed"}}, expect=200)
    cloud.api.call("DELETE", "/subnets/%s" % subnet["id"], expect=204)
    cloud.api.call("PUT", "/subnetpools/%s" % pool["id"], {"subnetpool": {"name": "pool2"}}, expect=200)
    cloud.api.call("DELETE", "/subnetpools/%s" % pool["id"], expect=204)
    calls = recorder.take()
    assert _shape(calls) == ([(events.SUBNETPOOL, e, True) for e in CREATE]
                             + [(events.SUBNET, e, True) for e in CREATE + UPDATE + DELETE]
                             + [(events.SUBNETPOOL, e, True) for e in UPDATE + DELETE])
    by_event = {(r, e): (p, seen) for r, e, p, seen in calls}
    created, seen = by_event[(events.SUBNET, Event.AFTER_CREATE)]
    assert created.current["cidr"] == subnet["cidr"] == "10.70.0.0/24" and seen == "from-pool"
    updated, seen = by_event[(events.SUBNET, Event.AFTER_UPDATE)]
    assert (updated.original["name"], updated.current["name"], seen) == ("from-pool", "renamed", "renamed")
    pool_updated, seen = by_event[(events.SUBNETPOOL, Event.AFTER_UPDATE)]
    assert (pool_updated.original["name"], pool_updated.current["name"], seen) == ("pool", "pool2", "pool2")
    assert pool_updated.original["prefixes"] == pool_updated.current["prefixes"] == ["10.70.0.0/16"]
    deleted, seen = by_event[(events.SUBNETPOOL, Event.AFTER_DELETE)]
    assert deleted.original["name"] == "pool2" and seen is None


def test_an_after_subscriber_failure_does_not_undo_or_fail_the_change(cloud):
    def broken(resource, event, payload):
        raise RuntimeError("notification system down")

    cloud.subscribe(broken, events.PORT, Event.AFTER_CREATE, Event.AFTER_DELETE)
    network = cloud.network()
    cloud.subnet(network)
    port = cloud.port(network)
    assert port_row_exists(port["id"])
    cloud.api.call("DELETE", "/ports/%s" % port["id"], expect=204)
    assert not port_row_exists(port["id"])


# --- ports that go with their network ----------------------------------------------------

def test_network_delete_takes_ports_of_declared_owners_and_refuses_others(cloud):
    cloud.plugin.networks.declare_auto_delete_port_owner("network:example_service")
    assert cloud.plugin.networks.auto_delete_port_owners == ("network:dhcp", "network:example_service")
    network = cloud.network()
    subnet = cloud.subnet(network)
    dhcp = cloud.port(network, device_owner="network:dhcp", device_id="dhcp-host-1")
    service = cloud.port(network, device_owner="network:example_service")
    for owner in ("compute:nova", ROUTER_INTERFACE):
        other = cloud.port(network, device_owner=owner)
        status, body = cloud.api.call("DELETE", "/networks/%s" % network["id"])
        assert status == 409 and body["NeutronError"] == {
            "type": "NetworkInUse", "detail": "",
            "message": "Unable to complete operation on network %s. There are one or more ports still in use "
                       "on the network." % network["id"]}
        cloud.api.call("GET", "/networks/%s" % network["id"], expect=200)
        status, body = cloud.api.call("DELETE", "/subnets/%s" % subnet["id"])
        assert status == 409 and body["NeutronError"]["type"] == "SubnetInUse"
        cloud.api.call("DELETE", "/ports/%s" % other["id"], expect=204)

    # The declared owners' ports keep neither the subnet nor the network in use.
    cloud.api.call("DELETE", "/subnets/%s" % subnet["id"], expect=204)
    _, body = cloud.api.call("GET", "/ports/%s" % dhcp["id"], expect=200)
    assert body["port"]["fixed_ips"] == []
    cloud.api.call("DELETE", "/networks/%s" % network["id"], expect=204)
    for port in (dhcp, service):
        assert not port_row_exists(port["id"])
    assert database_contents()["networks"] == []


def test_an_auto_delete_owner_needs_a_name(cloud):
    with pytest.raises(ValueError):
        cloud.plugin.networks.declare_auto_delete_port_owner("")
    assert cloud.plugin.networks.auto_delete_port_owners == ("network:dhcp",)

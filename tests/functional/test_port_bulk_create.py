"""Bulk port create: one transaction, one write path with a single port create.

Every port of a request is planned (MAC, fixed IPs, quota) with the earlier
ports of the same request counted as taken, then all are written together: a
failure of any item leaves nothing behind (no port, binding, address, DHCP
option or extension row), on SQLite and on PostgreSQL.
"""
import pytest
import sqlalchemy as sa

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import dhcp as dhcp_models
from netweave.core.db.models import port as port_models

CTX = context_mod.get_admin_context()
TABLES = [port_models.Port, port_models.PortBinding, port_models.IPAllocation, dhcp_models.ExtraDhcpOpt]


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
        yield plugin


def _network(plugin, cidr="10.50.0.0/28"):
    net = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
    subnet = plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"], "cidr": cidr,
                                                   "ip_version": 4}})
    return net["id"], subnet["id"]


def _counts():
    with db_api.reader_scope() as session:
        return {model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in TABLES}


def _bulk(plugin, *ports):
    return plugin.create_port_bulk(CTX, {"ports": [{"port": dict({"project_id": "p1"}, **p)} for p in ports]})


def _ok(network_id, name):
    return {"network_id": network_id, "name": name,
            "extra_dhcp_opts": [{"opt_name": "tftp-server", "opt_value": "10.50.0.9", "ip_version": 4}]}


@pytest.mark.parametrize("bad", ["address taken", "same address twice", "same mac twice", "pool exhausted",
                                 "no such network", "over quota"])
def test_one_bad_item_creates_nothing(plugin, bad):
    network_id, subnet_id = _network(plugin)
    existing = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": network_id,
                                                 "fixed_ips": [{"ip_address": "10.50.0.5"}]}})
    before = _counts()
    items = [_ok(network_id, "first"), _ok(network_id, "second")]
    if bad == "address taken":
        items.append({"network_id": network_id, "fixed_ips": [{"ip_address": "10.50.0.5"}]})
        error = exc.IpAddressAlreadyAllocated
    elif bad == "same address twice":
        items[0]["fixed_ips"] = [{"ip_address": "10.50.0.7"}]
        items.append({"network_id": network_id, "fixed_ips": [{"subnet_id": subnet_id, "ip_address": "10.50.0.7"}]})
        error = exc.IpAddressAlreadyAllocated
    elif bad == "same mac twice":
        items[0]["mac_address"] = "fa:16:3e:11:22:33"
        items.append({"network_id": network_id, "mac_address": "fa:16:3e:11:22:33"})
        error = exc.MacAddressInUse
    elif bad == "pool exhausted":
        # The /28 has 13 addresses, one of them taken: the 13th port of the request finds none.
        items += [{"network_id": network_id} for _ in range(11)]
        error = exc.IpAddressGenerationFailure
    elif bad == "no such network":
        items.append({"network_id": "00000000-0000-0000-0000-00000000dead"})
        error = exc.NetworkNotFound
    else:
        with db_api.session_scope() as session:
            plugin.quotas.update(session, "p1", {"port": 3})
        items.append({"network_id": network_id})
        error = exc.OverQuota
    with pytest.raises(error):
        _bulk(plugin, *items)
    assert _counts() == before
    assert [p["id"] for p in plugin.get_ports(CTX, filters={"network_id": [network_id]})] == [existing["id"]]


def test_ports_of_one_request_share_no_address_or_mac_and_fill_the_pool(plugin):
    network_id, subnet_id = _network(plugin)
    created = _bulk(plugin, {"network_id": network_id, "fixed_ips": [{"ip_address": "10.50.0.2"}]},
                    *[{"network_id": network_id} for _ in range(11)],
                    {"network_id": network_id, "device_owner": "network:dhcp"})
    addresses = [p["fixed_ips"][0]["ip_address"] for p in created]
    assert sorted(addresses) == sorted("10.50.0.%d" % i for i in range(2, 15))
    assert created[0]["fixed_ips"] == [{"subnet_id": subnet_id, "ip_address": "10.50.0.2"}]
    assert len({p["mac_address"] for p in created}) == len(created)
    # What the request answered is what was stored.
    stored = {p["id"]: p for p in plugin.get_ports(CTX, filters={"network_id": [network_id]})}
    for port in created:
        assert stored[port["id"]]["fixed_ips"] == port["fixed_ips"]
        assert stored[port["id"]]["mac_address"] == port["mac_address"]


def test_a_single_create_and_a_bulk_of_one_answer_alike(plugin):
    network_id, _ = _network(plugin)
    body = {"network_id": network_id, "name": "same", "mac_address": "fa:16:3e:00:00:01",
            "fixed_ips": [{"ip_address": "10.50.0.3"}], "device_owner": "compute:nova",
            "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400", "ip_version": 4}]}
    single = plugin.create_port(CTX, {"port": dict(body, project_id="p1")})
    plugin.delete_port(CTX, single["id"])
    bulk = _bulk(plugin, body)[0]
    varying = ("id", "created_at", "updated_at")
    assert {k: v for k, v in single.items() if k not in varying} == \
        {k: v for k, v in bulk.items() if k not in varying}

"""common.revision_precondition, the If-Match check inside the writing transaction, on the
in-process plugin: what it holds, and what it leaves alone."""
import pytest

from harness import ml2_plugin
from netweave.core import context as context_mod
from netweave.core import exceptions as exc
from netweave.core.services import common

CTX = context_mod.get_admin_context()


@pytest.fixture(params=ml2_plugin.BACKENDS)
def plugin(request, tmp_path):
    with ml2_plugin.running_plugin(ml2_plugin.database_url(request, tmp_path)) as plugin:
        yield plugin


def _port(plugin):
    net = plugin.create_network(CTX, {"network": {"project_id": "p1", "name": "net"}})
    plugin.create_subnet(CTX, {"subnet": {"project_id": "p1", "network_id": net["id"], "cidr": "10.70.0.0/24",
                                          "ip_version": 4}})
    return net, plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": net["id"]}})


def test_a_stale_revision_fails_the_update_and_the_delete_without_writing(plugin):
    net, port = _port(plugin)
    stale = port["revision_number"]
    plugin.update_port(CTX, port["id"], {"port": {"name": "moved on"}})
    with pytest.raises(exc.RevisionNumberConstraintFailed) as error:
        with common.revision_precondition(port["id"], stale):
            plugin.update_port(CTX, port["id"], {"port": {"name": "lost"}})
    assert error.value.status == 412
    with pytest.raises(exc.RevisionNumberConstraintFailed):
        with common.revision_precondition(port["id"], stale):
            plugin.delete_port(CTX, port["id"])
    now = plugin.get_port(CTX, port["id"])
    assert now["name"] == "moved on" and now["revision_number"] == stale + 1
    with pytest.raises(exc.RevisionNumberConstraintFailed):
        with common.revision_precondition(net["id"], net["revision_number"] + 99):
            plugin.update_network(CTX, net["id"], {"network": {"name": "lost"}})
    assert plugin.get_network(CTX, net["id"])["name"] == "net"


def test_the_request_s_later_transactions_are_not_held_to_it(plugin):
    """A port update that rebinds commits the update, then the binding in a second
    transaction that moves the revision again: only the first is checked."""
    _net, port = _port(plugin)
    current = plugin.get_port(CTX, port["id"])["revision_number"]
    with common.revision_precondition(port["id"], current) as precondition:
        updated = plugin.update_port(CTX, port["id"], {"port": {"binding:host_id": "host-a"}})
    assert precondition.settled
    assert updated["binding:host_id"] == "host-a"
    assert updated["revision_number"] >= current + 2
    # Another resource's writes in the block are not held to it either.
    with common.revision_precondition(port["id"], updated["revision_number"]):
        other = plugin.create_port(CTX, {"port": {"project_id": "p1", "network_id": port["network_id"]}})
        plugin.update_port(CTX, other["id"], {"port": {"name": "other"}})
        plugin.delete_port(CTX, port["id"])
    with pytest.raises(exc.PortNotFound):
        plugin.get_port(CTX, port["id"])

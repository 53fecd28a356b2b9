"""Request body checks derived from the declarative attribute maps."""
import pytest

from netweave.core import context
from netweave.core.api import body, faults
from netweave.core.api.definitions import core


def _ctx(project="p1", admin=False):
    return context.Context(project_id=project, roles=["admin"] if admin else ["member"])


def test_defaults_filled_and_project_taken_from_context():
    item, sent = body.prepare_create(core.NETWORKS, {"name": "n"}, _ctx())
    assert sent == {"name"}
    assert item["admin_state_up"] is True and item["shared"] is False
    assert item["project_id"] == item["tenant_id"] == "p1"


def test_unknown_attribute_is_named():
    with pytest.raises(faults.HTTPError, match="Unrecognized attribute\\(s\\) 'bogus'") as err:
        body.prepare_create(core.NETWORKS, {"bogus": 1}, _ctx())
    assert err.value.status == 400 and err.value.type == "HTTPBadRequest"


def test_read_only_attribute_refused_on_post_and_put():
    with pytest.raises(faults.HTTPError, match="Attribute 'status' not allowed in POST"):
        body.prepare_create(core.NETWORKS, {"status": "DOWN"}, _ctx())
    with pytest.raises(faults.HTTPError, match="Cannot update read-only attribute network_id"):
        body.prepare_update(core.PORTS, {"network_id": "d51943ef-8061-4bdb-b684-7a8d2b7ce73b"})


def test_required_attribute_missing():
    with pytest.raises(faults.HTTPError, match="Required attribute 'network_id' not specified"):
        body.prepare_create(core.PORTS, {}, _ctx())


def test_invalid_value_names_attribute_and_reason():
    with pytest.raises(faults.HTTPError, match="Invalid input for admin_state_up. Reason: 'x' cannot be"):
        body.prepare_create(core.NETWORKS, {"admin_state_up": "x"}, _ctx())


def test_other_project_needs_admin_and_ids_must_match():
    with pytest.raises(faults.HTTPError, match="requires admin privileges"):
        body.prepare_create(core.NETWORKS, {"project_id": "p2"}, _ctx())
    item, _ = body.prepare_create(core.NETWORKS, {"project_id": "p2"}, _ctx(admin=True))
    assert item["tenant_id"] == "p2"
    with pytest.raises(faults.HTTPError, match="do not match"):
        body.prepare_create(core.NETWORKS, {"project_id": "p2", "tenant_id": "p3"}, _ctx(admin=True))


def test_bulk_and_single_bodies():
    members, bulk = body.members_of(core.NETWORKS, {"networks": [{"name": "a"}, {"name": "b"}]}, True)
    assert bulk and [m["name"] for m in members] == ["a", "b"]
    for bad in ({}, [], "x", {"networks": []}, {"networks": ["x"]}, {"network": "x"}, {"other": {}}):
        with pytest.raises(faults.HTTPError):
            members, _ = body.members_of(core.NETWORKS, bad, True)
            body.prepare_create(core.NETWORKS, members[0], _ctx())

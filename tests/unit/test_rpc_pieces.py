"""Small pure parts of the RPC layer: context serializer, device names, agent times."""
import datetime

from netweave.core import context as context_mod
from netweave.core.rpc import serializer
from netweave.core.services import agents, devices

PORT_ID = "6c15d7b8-8714-4f6e-a2c7-1b3a5d0c9e21"


def test_context_survives_the_trip_without_its_token():
    ctx = context_mod.Context(project_id="p1", user_id="u1", roles=["member"], auth_token="secret",
                              request_id="req-1")
    wire = serializer.ContextSerializer().serialize_context(ctx)
    assert "auth_token" not in wire
    back = serializer.ContextSerializer().deserialize_context(wire)
    assert isinstance(back, context_mod.Context)
    assert (back.project_id, back.user_id, back.roles, back.is_admin, back.request_id) == (
        "p1", "u1", ["member"], False, "req-1")
    assert back.auth_token is None


def test_admin_context_and_empty_context():
    wire = serializer.ContextSerializer().serialize_context(context_mod.get_admin_context())
    assert serializer.ContextSerializer().deserialize_context(wire).is_admin
    assert serializer.ContextSerializer().serialize_context(None) == {}
    assert not serializer.ContextSerializer().deserialize_context({}).is_admin


def test_entities_become_json_primitives():
    moment = datetime.datetime(2018, 1, 8, 19, 4, 53)
    entity = serializer.ContextSerializer().serialize_entity(None, {"when": moment, "ids": ("a", "b")})
    assert entity["ids"] == ["a", "b"] and isinstance(entity["when"], str)


def test_device_names_map_to_port_ids():
    assert devices.port_id_prefix("tap6c15d7b8-87") == "6c15d7b8-87"
    assert devices.port_id_prefix("ns-6c15d7b8-87") == "6c15d7b8-87"
    assert devices.port_id_prefix("qr-6c15d7b8-87") == "6c15d7b8-87"
    assert devices.port_id_prefix(PORT_ID) == PORT_ID


def test_agent_times_read_and_shown_as_neutron_does():
    assert agents.format_time(datetime.datetime(2018, 1, 8, 19, 4, 53)) == "2018-01-08 19:04:53"
    assert agents.format_time(None) is None
    assert agents.parse_agent_time("2018-01-08T19:04:53.123456") == datetime.datetime(2018, 1, 8, 19, 4, 53,
                                                                                       123456)
    assert agents.parse_agent_time("2018-01-08 19:04:53") == datetime.datetime(2018, 1, 8, 19, 4, 53)
    assert agents.parse_agent_time("yesterday") is None
    assert agents.parse_agent_time(None) is None

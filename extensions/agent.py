"""agent: the agents that report to the server, readable by administrators.

Agents create their rows themselves through state reports; the API lists,
shows, updates (admin_state_up, description) and deletes them, and refuses
creation.
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs


def _description(value):
    return v.string_or_none(255)(value)


AGENTS = Resource(
    collection="agents", member="agent", allow_bulk=False,
    attributes=attrs(
        A("id", is_filter=True, is_sort_key=True, filter_convert=v.id_filter),
        A("agent_type", is_filter=True, is_sort_key=True),
        A("binary", is_filter=True, is_sort_key=True),
        A("topic", is_filter=True, is_sort_key=True),
        A("host", is_filter=True, is_sort_key=True),
        A("admin_state_up", allow_put=True, convert=v.boolean, is_filter=True, is_sort_key=True,
          filter_convert=v.boolean),
        A("alive", is_filter=True, is_sort_key=True, filter_convert=v.boolean),
        A("created_at", is_sort_key=True),
        A("started_at", is_sort_key=True),
        A("heartbeat_timestamp", is_sort_key=True),
        A("configurations"),
        A("description", allow_put=True, convert=_description, is_filter=True, is_sort_key=True),
        A("availability_zone", is_filter=True, is_sort_key=True),
        A("resources_synced"),
        A("load", is_filter=True, is_sort_key=True, filter_convert=v.integer()),
    ))

EXTENSION = Extension(
    alias="agent", name="agent", description="The agent management extension.",
    updated="2013-02-03T10:00:00-00:00",
    resources=(AGENTS,),
)

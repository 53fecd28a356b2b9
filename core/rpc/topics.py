"""Topic names and agent type strings, the same as Neutron's so the layout is familiar.

Server side:  PLUGIN ("q-plugin") serves agents' calls; REPORTS ("q-reports-plugin")
receives heartbeats. Agents listen on fanout topics named
``q-agent-notifier-<resource>-<event>`` and, for messages about one host only,
on ``<that topic>.<host>``.
"""
PLUGIN = "q-plugin"
REPORTS = "q-reports-plugin"
AGENT = "q-agent-notifier"
DHCP_AGENT = "dhcp_agent"
L3_AGENT = "l3_agent"

PORT = "port"
NETWORK = "network"
TUNNEL = "tunnel"
L2POPULATION = "l2population"

CREATE = "create"
UPDATE = "update"
DELETE = "delete"

AGENT_TYPE_LINUXBRIDGE = "Linux bridge agent"
AGENT_TYPE_OVS = "Open vSwitch agent"
AGENT_TYPE_DHCP = "DHCP agent"
AGENT_TYPE_METADATA = "Metadata agent"
AGENT_TYPE_L3 = "L3 agent"


def notifier_topic(resource, event, host=None):
    """q-agent-notifier-port-update, or q-agent-notifier-port-update.<host>."""
    topic = "%s-%s-%s" % (AGENT, resource, event)
    return "%s.%s" % (topic, host) if host else topic

"""Names of the metering plugin (Neutron's)."""
METERING_LABEL = "metering_label"
METERING_LABELS = "metering_labels"
METERING_LABEL_RULE = "metering_label_rule"
METERING_LABEL_RULES = "metering_label_rules"
PATH_PREFIX = "metering"

INGRESS, EGRESS = "ingress", "egress"
DIRECTIONS = (INGRESS, EGRESS)
PREFIX_FIELDS = ("remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix")

# RPC: the agents ask on METERING_PLUGIN_TOPIC, the server casts (fanout) on METERING_AGENT_TOPIC.
METERING_PLUGIN_TOPIC = "q-metering-plugin"
METERING_AGENT_TOPIC = "metering_agent"
AGENT_TYPE = "Metering agent"
AGENT_BINARY = "netweave-metering-agent"

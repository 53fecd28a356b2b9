"""Service plugin ``metering``: L3 traffic metering labels and rules (Neutron's metering API).

Labels and rules live in their own tables (models.py, the Alembic branch
``metering``); labels.py holds Neutron's checks. Metering agents
(``netweave-metering-agent``, agent/) ask for the routers of their host with
the labels that apply to them (metering_rpc.py) and count each label's traffic
with iptables in the routers' namespaces; every change is cast to them.
"""
from netweave.core.plugins import service_base
from netweave.service_plugins.metering import constants as const
from netweave.service_plugins.metering import labels as labels_mod
from netweave.service_plugins.metering import notifier


class MeteringPlugin(service_base.ServicePlugin):
    supported_extension_aliases = ["metering", "metering_source_and_destination_fields"]

    def __init__(self):
        self.service = labels_mod.MeteringService()
        self.notifier = notifier.MeteringAgentNotifier()

    def connect_agents(self, transport):
        self.notifier.connect(transport)

    def rpc_endpoints(self):
        # Here, not at import: only RPC servers load oslo.messaging.
        from netweave.service_plugins.metering import metering_rpc

        return {const.METERING_PLUGIN_TOPIC: [metering_rpc.MeteringRpcEndpoint(self.service)]}

    # --- labels ----------------------------------------------------------------------------

    def create_metering_label(self, context, body):
        label = self.service.create_label(context, body[const.METERING_LABEL])
        self.notifier.notify(context, "add_metering_label", label["project_id"], label["shared"])
        return label

    def delete_metering_label(self, context, label_id):
        label = self.service.delete_label(context, label_id)
        self.notifier.notify(context, "remove_metering_label", label["project_id"], label["shared"])

    def get_metering_label(self, context, label_id, fields=None):
        return self.service.get_label(context, label_id, fields)

    def get_metering_labels(self, context, **kwargs):
        return self.service.list_labels(context, **kwargs)

    # --- rules -----------------------------------------------------------------------------

    def create_metering_label_rule(self, context, body):
        rule = self.service.create_rule(context, body[const.METERING_LABEL_RULE])
        self._notify_rule(context, "add_metering_label_rule", rule)
        return rule

    def delete_metering_label_rule(self, context, rule_id):
        rule = self.service.delete_rule(context, rule_id)
        self._notify_rule(context, "remove_metering_label_rule", rule)

    def get_metering_label_rule(self, context, rule_id, fields=None):
        return self.service.get_rule(context, rule_id, fields)

    def get_metering_label_rules(self, context, **kwargs):
        return self.service.list_rules(context, **kwargs)

    def _notify_rule(self, context, method, rule):
        try:
            label = self.service.get_label(context.elevated(), rule["metering_label_id"])
        except Exception:  # noqa: BLE001 - the label went meanwhile: every agent resyncs
            label = {"project_id": None, "shared": True}
        self.notifier.notify(context, method, label["project_id"], label["shared"])

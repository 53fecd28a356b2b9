"""Service plugin ``port_security``: the security-groups API, quotas, agent RPC and notifications.

It needs the ``port_security`` ML2 extension driver, which stores the ports'
side (port security, groups, address pairs) in the ports' own transactions;
``initialize`` hands that driver the group service and refuses to start without it.
"""
from netweave.core.plugins import service_base
from netweave.core.rpc import topics
from netweave.service_plugins.port_security import (
    default_rules,
    extension_driver,
    groups,
    models,
    notifier,
    port_events,
    sharing,
)

SUPPORTED_ALIASES = ("security-group", "security-groups-normalized-cidr", "allowed-address-pairs",
                     "security-groups-rbac", "security-groups-shared-filtering", "stateful-security-group",
                     "security-groups-default-rules")


class PortSecurityPlugin(service_base.ServicePlugin):
    supported_extension_aliases = list(SUPPORTED_ALIASES)

    def __init__(self):
        self.notifier = notifier.SecurityGroupAgentNotifier()
        self.groups = None
        self.membership = None
        self.default_rules = default_rules.DefaultRuleService()

    def initialize(self, core_plugin):
        driver = next((d for _name, d in core_plugin.extension_manager.drivers
                       if isinstance(d, extension_driver.PortSecurityExtensionDriver)), None)
        if driver is None:
            raise RuntimeError("service plugin port_security needs the port_security ML2 extension driver: "
                               "set [ml2] extension_drivers = port_security")
        quotas = core_plugin.quotas
        quotas.register("security_group", models.SecurityGroup)
        quotas.register("security_group_rule", models.SecurityGroupRule)
        core_plugin.register_tagged_model("security_groups", models.SecurityGroup)
        self.groups = groups.SecurityGroupService(quotas, self.notifier)
        core_plugin.rbac.register(sharing.object_type())
        driver.use_security_groups(self.groups)
        self.membership = port_events.PortMembershipNotifier(self.notifier)
        self.membership.subscribe(core_plugin.events)

    def connect_agents(self, transport):
        self.notifier.connect(transport)

    def rpc_endpoints(self):
        from netweave.service_plugins.port_security import rpc

        return {topics.PLUGIN: [rpc.SecurityGroupServerRpcEndpoint(self.groups)]}

    # --- security groups -------------------------------------------------------
    def create_security_group(self, context, body):
        return self.groups.create_group(context, body["security_group"])

    def update_security_group(self, context, group_id, body):
        return self.groups.update_group(context, group_id, body["security_group"])

    def delete_security_group(self, context, group_id):
        return self.groups.delete_group(context, group_id)

    def get_security_group(self, context, group_id, fields=None):
        return self.groups.get_group(context, group_id, fields)

    def get_security_groups(self, context, **kwargs):
        return self.groups.list_groups(context, **kwargs)

    # --- rules -----------------------------------------------------------------
    def create_security_group_rule(self, context, body):
        return self.groups.create_rules(context, [body["security_group_rule"]])[0]

    def create_security_group_rule_bulk(self, context, body):
        return self.groups.create_rules(context, [item["security_group_rule"]
                                                  for item in body["security_group_rules"]])

    def update_security_group_rule(self, context, rule_id, body):
        return self.groups.update_rule(context, rule_id, body["security_group_rule"])

    def delete_security_group_rule(self, context, rule_id):
        return self.groups.delete_rule(context, rule_id)

    def get_security_group_rule(self, context, rule_id, fields=None):
        return self.groups.get_rule(context, rule_id, fields)

    def get_security_group_rules(self, context, **kwargs):
        return self.groups.list_rules(context, **kwargs)

    # --- default-security-group-rules (templates) -------------------------------
    def create_default_security_group_rule(self, context, body):
        return self.default_rules.create(context, body["default_security_group_rule"])

    def delete_default_security_group_rule(self, context, rule_id):
        return self.default_rules.delete(context, rule_id)

    def get_default_security_group_rule(self, context, rule_id, fields=None):
        return self.default_rules.get(context, rule_id, fields)

    def get_default_security_group_rules(self, context, **kwargs):
        return self.default_rules.list(context, **kwargs)

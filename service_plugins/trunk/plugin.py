"""Service plugin ``trunk``: VLAN-aware instances (Neutron's trunk API).

Trunks and subports live in its own tables (models.py, the Alembic branch
``trunk``); it counts the quota ``trunk``, vetoes API deletes of trunk ports
(port_guards.py) and routes the subport member actions. ``trunk_details`` on
ports comes from the ``trunk`` ML2 extension driver when it is configured
(``[ml2] extension_drivers = trunk``), which then also serves ``trunk-details``.
"""
from oslo_config import cfg

from netweave.core.plugins import service_base
from netweave.service_plugins.trunk import config, models, port_guards, trunks
from netweave.service_plugins.trunk import constants as const


class TrunkPlugin(service_base.ServicePlugin):
    supported_extension_aliases = ["trunk"]

    def __init__(self, conf=None):
        config.register_opts(conf or cfg.CONF)
        self.trunks = None
        self.ports = None

    def initialize(self, core):
        core.quotas.register(const.TRUNK, models.Trunk)
        core.register_tagged_model(const.TRUNKS, models.Trunk)
        self.ports = core.ports
        self.trunks = trunks.TrunkService(core.quotas, core.ports)
        port_guards.subscribe(core.events, self.trunks, core.ports)

    def rpc_endpoints(self):
        # Here, not at import: only RPC servers load oslo.messaging.
        from netweave.service_plugins.trunk import trunk_rpc

        return {trunk_rpc.TRUNK_TOPIC: [trunk_rpc.TrunkRpcEndpoint(self.trunks, self.ports)]}

    def create_trunk(self, context, body):
        return self.trunks.create(context, body[const.TRUNK])

    def update_trunk(self, context, trunk_id, body):
        return self.trunks.update(context, trunk_id, body[const.TRUNK])

    def delete_trunk(self, context, trunk_id):
        return self.trunks.delete(context, trunk_id)

    def get_trunk(self, context, trunk_id, fields=None):
        return self.trunks.get(context, trunk_id, fields)

    def get_trunks(self, context, **kwargs):
        return self.trunks.list(context, **kwargs)

    def add_subports(self, context, trunk_id, body):
        return self.trunks.add_subports(context, trunk_id, body)

    def remove_subports(self, context, trunk_id, body):
        return self.trunks.remove_subports(context, trunk_id, body)

    def get_subports(self, context, trunk_id):
        return self.trunks.get_subports(context, trunk_id)

"""ML2 extension driver ``trunk``: ``trunk_details`` of ports (the trunk-details extension).

A trunk's parent port shows {"trunk_id", "sub_ports": [{port_id, segmentation_type,
segmentation_id, mac_address}]}; every other port shows None. Read only: trunks are
changed through /v2.0/trunks.
"""
import collections

import sqlalchemy as sa

from netweave.core.db.models import port as port_models
from netweave.core.plugins.ml2 import driver_api
from netweave.service_plugins.trunk import constants as const
from netweave.service_plugins.trunk import models

_DETAILS = (sa.select(models.Trunk.port_id, models.Trunk.id, models.SubPort.port_id,
                      models.SubPort.segmentation_type, models.SubPort.segmentation_id,
                      port_models.Port.mac_address)
            .outerjoin(models.SubPort, models.SubPort.trunk_id == models.Trunk.id)
            .outerjoin(port_models.Port, port_models.Port.id == models.SubPort.port_id)
            .order_by(models.Trunk.port_id, models.SubPort.segmentation_type, models.SubPort.segmentation_id))


def details_of(session, port_ids):
    """{parent port id: trunk_details} for those of ``port_ids`` that are trunk parents."""
    result = collections.OrderedDict()
    port_ids = list(port_ids)
    for start in range(0, len(port_ids), 500):
        chunk = port_ids[start:start + 500]
        for parent_id, trunk_id, sub_id, seg_type, seg_id, mac in session.execute(
                _DETAILS.where(models.Trunk.port_id.in_(chunk))):
            details = result.setdefault(parent_id, {"trunk_id": trunk_id, const.SUB_PORTS: []})
            if sub_id is not None:
                details[const.SUB_PORTS].append({"port_id": sub_id, "segmentation_type": seg_type,
                                                 "segmentation_id": seg_id, "mac_address": mac})
    return result


class TrunkDetailsExtensionDriver(driver_api.ExtensionDriver):
    extension_alias = "trunk-details"

    def process_create_port(self, plugin_context, data, result):
        # A new port is nobody's parent yet.
        result[const.TRUNK_DETAILS] = None

    def process_update_port(self, plugin_context, data, result):
        result[const.TRUNK_DETAILS] = details_of(plugin_context.session, [result["id"]]).get(result["id"])

    def extend_port_dict(self, session, db_obj, result):
        result[const.TRUNK_DETAILS] = details_of(session, [result["id"]]).get(result["id"])

    def extend_port_dicts(self, session, results, page=None):
        found = details_of(session, list(results))
        for port_id, port in results.items():
            port[const.TRUNK_DETAILS] = found.get(port_id)

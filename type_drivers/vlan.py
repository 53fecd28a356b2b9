"""vlan: 802.1Q-tagged networks on physical networks, ids from network_vlan_ranges."""
import logging

from oslo_config import cfg

from netweave.core import exceptions as exc
from netweave.core.config import common as _common_opts  # noqa: F401 - registers global_physnet_mtu
from netweave.core.config import ml2 as _ml2_opts  # noqa: F401 - registers [ml2] and [ml2_type_*]
from netweave.core.plugins.ml2 import driver_api as api
from netweave.type_drivers import models, mtu, segment_pool, validation
from netweave.type_drivers import ranges as id_ranges

LOG = logging.getLogger(__name__)

NETWORK_TYPE = "vlan"


class VlanTypeDriver(api.TypeDriver):
    """One pool of VLAN ids per physical network, in ml2_vlan_allocations."""

    def __init__(self, conf=None):
        self._conf = conf or cfg.CONF
        # {physnet: [(low, high), ...]}; a physnet with [] serves provider networks only.
        self.network_vlan_ranges = {}
        self._physnet_mtus = {}
        self._pool = segment_pool.SegmentPool(models.VlanAllocation, "vlan_id",
                                              partition_column="physical_network")

    def get_type(self):
        return NETWORK_TYPE

    def initialize(self):
        self.network_vlan_ranges = id_ranges.parse_vlan_ranges(self._conf.ml2_type_vlan.network_vlan_ranges)
        self._physnet_mtus = mtu.parse_physnet_mtus(self._conf.ml2.physical_network_mtus)
        LOG.info("vlan type driver ready; ranges: %s", self.network_vlan_ranges)

    def sync_allocations(self, session):
        self._pool.forget_partitions_except(session, set(self.network_vlan_ranges))
        for physical_network, vlan_ranges in self.network_vlan_ranges.items():
            self._pool.sync(session, vlan_ranges, partition=physical_network)

    def is_partial_segment(self, segment):
        return segment.get(api.SEGMENTATION_ID) is None

    def validate_provider_segment(self, segment):
        physical_network = segment.get(api.PHYSICAL_NETWORK)
        segmentation_id = segment.get(api.SEGMENTATION_ID)
        if validation.is_given(physical_network):
            if physical_network not in self.network_vlan_ranges:
                raise exc.InvalidInput(
                    error_message="physical_network '%s' unknown for VLAN provider network" % physical_network)
            if segmentation_id is not None:
                validation.check_segmentation_id(segmentation_id, id_ranges.VLAN_ID_MIN, id_ranges.VLAN_ID_MAX)
        elif segmentation_id is not None:
            raise exc.InvalidInput(
                error_message="segmentation_id requires physical_network for VLAN provider network")

    def reserve_provider_segment(self, session, segment, filters=None):
        physical_network = segment.get(api.PHYSICAL_NETWORK) or None
        vlan_id = segment.get(api.SEGMENTATION_ID)
        if vlan_id is not None:
            if not self._pool.allocate(session, vlan_id, partition=physical_network):
                raise exc.VlanIdInUse(vlan_id=vlan_id, physical_network=physical_network)
            return self._segment(physical_network, vlan_id)
        # Partial segment: any free id of the given physnet, or of any physnet.
        physnets = [physical_network] if physical_network else list(self.network_vlan_ranges)
        segment = self._allocate_from(session, physnets)
        if segment is None:
            raise exc.NoNetworkAvailable()
        return segment

    def allocate_tenant_segment(self, session, filters=None):
        return self._allocate_from(session, list(self.network_vlan_ranges))

    def release_segment(self, session, segment):
        physical_network = segment[api.PHYSICAL_NETWORK]
        vlan_id = segment[api.SEGMENTATION_ID]
        inside = id_ranges.in_ranges(vlan_id, self.network_vlan_ranges.get(physical_network, []))
        if not self._pool.release(session, vlan_id, inside, partition=physical_network):
            LOG.warning("No vlan_id %s found on physical network %s", vlan_id, physical_network)

    def get_mtu(self, physical_network=None):
        return mtu.physnet_mtu(self._conf.global_physnet_mtu, self._physnet_mtus, physical_network)

    def _allocate_from(self, session, physnets):
        for physical_network in physnets:
            vlan_id = self._pool.allocate_any(session, partition=physical_network)
            if vlan_id is not None:
                return self._segment(physical_network, vlan_id)
        return None

    def _segment(self, physical_network, vlan_id):
        return {api.NETWORK_TYPE: NETWORK_TYPE, api.PHYSICAL_NETWORK: physical_network,
                api.SEGMENTATION_ID: vlan_id, api.MTU: self.get_mtu(physical_network)}

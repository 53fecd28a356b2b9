"""What vxlan, gre and geneve have in common: one id pool, no physnet, overlay MTU.

A concrete driver names its network type, the option holding its ranges, the id
bounds, its tables and the size of its encapsulation header.
"""
import logging

from oslo_config import cfg

from netweave.core import exceptions as exc
from netweave.core.config import common as _common_opts  # noqa: F401 - registers global_physnet_mtu
from netweave.core.config import ml2 as _ml2_opts  # noqa: F401 - registers [ml2] and [ml2_type_*]
from netweave.core.plugins.ml2 import driver_api as api
from netweave.type_drivers import mtu, segment_pool, validation
from netweave.type_drivers import ranges as id_ranges

LOG = logging.getLogger(__name__)

MIN_TUNNEL_ID = 1


class TunnelTypeDriver(api.TypeDriver):
    network_type = None       # "vxlan", "gre", "geneve"
    ranges_group = None       # config group and option holding "<min>:<max>" ranges
    ranges_option = None
    max_id = None             # highest id the protocol can carry
    allocation_model = None
    id_column = None          # primary key of allocation_model
    endpoint_model = None     # tunnel endpoints reported by the agents

    def __init__(self, conf=None):
        self._conf = conf or cfg.CONF
        self.tunnel_ranges = []
        self._pool = segment_pool.SegmentPool(self.allocation_model, self.id_column)

    def encap_overhead(self):
        """Bytes the encapsulation adds on top of the outer IP header."""
        raise NotImplementedError

    def get_type(self):
        return self.network_type

    def initialize(self):
        entries = getattr(getattr(self._conf, self.ranges_group), self.ranges_option)
        self.tunnel_ranges = id_ranges.parse_id_ranges(
            entries, self.network_type, MIN_TUNNEL_ID, self.max_id,
            option="[%s] %s" % (self.ranges_group, self.ranges_option))
        LOG.info("%s type driver ready; ranges: %s", self.network_type, self.tunnel_ranges)

    def sync_allocations(self, session):
        self._pool.sync(session, self.tunnel_ranges)

    def is_partial_segment(self, segment):
        return segment.get(api.SEGMENTATION_ID) is None

    def validate_provider_segment(self, segment):
        if validation.is_given(segment.get(api.PHYSICAL_NETWORK)):
            raise exc.InvalidInput(
                error_message="provider:physical_network specified for %s network" % self.network_type)
        segmentation_id = segment.get(api.SEGMENTATION_ID)
        if segmentation_id is not None:
            validation.check_segmentation_id(segmentation_id, MIN_TUNNEL_ID, self.max_id)

    def reserve_provider_segment(self, session, segment, filters=None):
        tunnel_id = segment.get(api.SEGMENTATION_ID)
        if tunnel_id is None:
            tunnel_id = self._pool.allocate_any(session)
            if tunnel_id is None:
                raise exc.NoNetworkAvailable()
        elif not self._pool.allocate(session, tunnel_id):
            raise exc.TunnelIdInUse(tunnel_id=tunnel_id)
        return self._segment(tunnel_id)

    def allocate_tenant_segment(self, session, filters=None):
        tunnel_id = self._pool.allocate_any(session)
        return None if tunnel_id is None else self._segment(tunnel_id)

    def release_segment(self, session, segment):
        tunnel_id = segment[api.SEGMENTATION_ID]
        inside = id_ranges.in_ranges(tunnel_id, self.tunnel_ranges)
        if not self._pool.release(session, tunnel_id, inside):
            LOG.warning("No %s tunnel %s found to release", self.network_type, tunnel_id)

    def get_mtu(self, physical_network=None):
        ml2 = self._conf.ml2
        return mtu.overlay_mtu(self._conf.global_physnet_mtu, ml2.path_mtu, ml2.overlay_ip_version,
                               self.encap_overhead())

    def _segment(self, tunnel_id):
        return {api.NETWORK_TYPE: self.network_type, api.PHYSICAL_NETWORK: None,
                api.SEGMENTATION_ID: tunnel_id, api.MTU: self.get_mtu()}

"""local: networks that never leave their host; no physical network, no segmentation id."""
import logging

from netweave.core.plugins.ml2 import driver_api as api
from netweave.type_drivers import validation

LOG = logging.getLogger(__name__)

NETWORK_TYPE = "local"


class LocalTypeDriver(api.TypeDriver):
    """Any number of local networks may exist, so there is nothing to allocate."""

    def get_type(self):
        return NETWORK_TYPE

    def initialize(self):
        LOG.info("local type driver ready")

    def is_partial_segment(self, segment):
        return False

    def validate_provider_segment(self, segment):
        validation.reject_given(segment, (api.PHYSICAL_NETWORK, api.SEGMENTATION_ID), NETWORK_TYPE)

    def reserve_provider_segment(self, session, segment, filters=None):
        return _segment()

    def allocate_tenant_segment(self, session, filters=None):
        return _segment()

    def release_segment(self, session, segment):
        pass

    def get_mtu(self, physical_network=None):
        # Nothing limits traffic that stays on the host. Neutron's driver answers None
        # here and the plugin then gives the network global_physnet_mtu; 0 ("unknown")
        # leads the type manager to that same value.
        return 0


def _segment():
    return {api.NETWORK_TYPE: NETWORK_TYPE, api.PHYSICAL_NETWORK: None, api.SEGMENTATION_ID: None, api.MTU: 0}

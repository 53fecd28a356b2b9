"""The type drivers named in ``[ml2] type_drivers`` and the segment logic built on them.

Segments are plain dicts (see driver_api). Every method that touches the database
works in the caller's session, so a network row and its segments commit or roll
back together; allocation races surface as RetryRequest or duplicate-key errors,
which ``db_api.retry_db_errors`` around the unit of work turns into a new attempt.
"""
import logging

from oslo_config import cfg

from netweave.core import exceptions as exc
from netweave.core.api.resource import MISSING
from netweave.core.config import common as _common_opts  # noqa: F401 - registers global_physnet_mtu
from netweave.core.config import ml2 as _ml2_opts  # noqa: F401 - registers [ml2] and [ml2_type_*]
from netweave.core.plugins.ml2 import driver_api as api
from netweave.core.plugins.ml2 import loading

LOG = logging.getLogger(__name__)

TYPE_DRIVER_NAMESPACE = "netweave.ml2.type_drivers"

# API attribute of the provider extension -> key of the segment dict.
PROVIDER_ATTRIBUTES = {
    "provider:network_type": api.NETWORK_TYPE,
    "provider:physical_network": api.PHYSICAL_NETWORK,
    "provider:segmentation_id": api.SEGMENTATION_ID,
}


class TypeManager:
    """Loads the type drivers, keyed by the network type each one serves."""

    def __init__(self, conf=None):
        self._conf = conf or cfg.CONF
        self.drivers = {}
        for name, driver in loading.load_named(TYPE_DRIVER_NAMESPACE, self._conf.ml2.type_drivers,
                                               "type driver"):
            network_type = driver.get_type()
            if network_type in self.drivers:
                LOG.error("Type driver '%s' ignored: network type '%s' already has a driver", name, network_type)
                continue
            self.drivers[network_type] = driver
        self.tenant_network_types = self._checked_tenant_network_types()

    def _checked_tenant_network_types(self):
        types = [name.strip() for name in self._conf.ml2.tenant_network_types if name.strip()]
        unserved = [name for name in types if name not in self.drivers]
        if unserved:
            raise loading.UnknownDriver(
                "[ml2] tenant_network_types lists %s, but no loaded type driver serves it; "
                "loaded types: %s (add it to [ml2] type_drivers)" % (
                    ", ".join(repr(name) for name in unserved), ", ".join(sorted(self.drivers)) or "none"))
        return types

    def initialize(self):
        """Let every driver parse its options; a bad option raises ValueError naming it."""
        for network_type, driver in self.drivers.items():
            LOG.info("Initializing type driver '%s'", network_type)
            driver.initialize()
        LOG.info("Project network types, in order of preference: %s", self.tenant_network_types)

    def sync_allocations(self, session):
        """Bring the allocation tables in step with the configured ranges (at start-up)."""
        for driver in self.drivers.values():
            driver.sync_allocations(session)

    def get_driver(self, network_type):
        return self.drivers[network_type]

    # --- provider segments -----------------------------------------------------

    @staticmethod
    def provider_segment(network_request):
        """The segment described by the request's provider:* attributes, or None if none is given."""
        segment = {key: _given(network_request.get(attribute)) for attribute, key in PROVIDER_ATTRIBUTES.items()}
        if all(value is None for value in segment.values()):
            return None
        if segment[api.NETWORK_TYPE] is None:
            raise exc.InvalidInput(error_message="network_type required")
        return segment

    def validate_provider_segment(self, segment):
        driver = self.drivers.get(segment[api.NETWORK_TYPE])
        if driver is None:
            raise exc.InvalidInput(error_message="network_type value '%s' not supported" % segment[api.NETWORK_TYPE])
        driver.validate_provider_segment(segment)

    def is_partial_segment(self, segment):
        return self.get_driver(segment[api.NETWORK_TYPE]).is_partial_segment(segment)

    def reserve_provider_segment(self, session, segment, filters=None):
        return self.get_driver(segment[api.NETWORK_TYPE]).reserve_provider_segment(session, segment, filters)

    # --- project segments --------------------------------------------------------

    def allocate_tenant_segment(self, session, filters=None):
        """A segment of the first tenant network type that still has one free."""
        for network_type in self.tenant_network_types:
            segment = self.drivers[network_type].allocate_tenant_segment(session, filters)
            if segment:
                return segment
        raise exc.NoNetworkAvailable()

    # --- network life cycle ---------------------------------------------------------

    def create_network_segments(self, session, network_request, project_id):
        """Segments of a new network: the provider one when provider:* is given, else a project one.

        Raises InvalidInput (400), FlatNetworkInUse / VlanIdInUse / TunnelIdInUse (409)
        or NoNetworkAvailable (503).
        """
        filters = {"project_id": project_id}
        segment = self.provider_segment(network_request)
        if segment is None:
            return [self.allocate_tenant_segment(session, filters)]
        self.validate_provider_segment(segment)
        return [self.reserve_provider_segment(session, segment, filters)]

    def release_network_segments(self, session, segments):
        for segment in segments:
            driver = self.drivers.get(segment.get(api.NETWORK_TYPE))
            if driver is None:
                # Its driver was unloaded from the config: nothing can hold the id any more.
                LOG.error("Cannot release segment %s: network type not loaded", segment)
                continue
            driver.release_segment(session, segment)

    def get_network_mtu(self, segments):
        """The smallest MTU the segments allow; global_physnet_mtu when none of them sets one.

        Local networks (and types no longer loaded) set none, as in Neutron, whose
        plugin gives such networks global_physnet_mtu.
        """
        mtus = []
        for segment in segments:
            driver = self.drivers.get(segment.get(api.NETWORK_TYPE))
            mtu = driver.get_mtu(segment.get(api.PHYSICAL_NETWORK)) if driver is not None else 0
            if mtu:
                mtus.append(mtu)
        return min(mtus) if mtus else self._conf.global_physnet_mtu

    @staticmethod
    def extend_network_dict_provider(result, segments):
        """Show the first segment as provider:network_type/physical_network/segmentation_id."""
        first = segments[0] if segments else {}
        for attribute, key in PROVIDER_ATTRIBUTES.items():
            result[attribute] = first.get(key)


def _given(value):
    return None if value is MISSING else value

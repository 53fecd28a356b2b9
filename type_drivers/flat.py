"""flat: untagged traffic on a physical network, so at most one network per physnet."""
import logging

from oslo_config import cfg
from sqlalchemy import exc as sa_exc

from netweave.core import exceptions as exc
from netweave.core.config import common as _common_opts  # noqa: F401 - registers global_physnet_mtu
from netweave.core.config import ml2 as _ml2_opts  # noqa: F401 - registers [ml2] and [ml2_type_*]
from netweave.core.db import api as db_api
from netweave.core.plugins.ml2 import driver_api as api
from netweave.type_drivers import models, mtu, validation

LOG = logging.getLogger(__name__)

NETWORK_TYPE = "flat"
ANY_PHYSNET = "*"


class FlatTypeDriver(api.TypeDriver):
    """A row in ml2_flat_allocations marks a physnet as taken; its primary key settles races."""

    def __init__(self, conf=None):
        self._conf = conf or cfg.CONF
        # None: any physnet; []: flat networks disabled; otherwise the allowed names.
        self.flat_networks = None
        self._physnet_mtus = {}

    def get_type(self):
        return NETWORK_TYPE

    def initialize(self):
        entries = [name.strip() for name in self._conf.ml2_type_flat.flat_networks if name.strip()]
        self.flat_networks = None if ANY_PHYSNET in entries else entries
        self._physnet_mtus = mtu.parse_physnet_mtus(self._conf.ml2.physical_network_mtus)
        LOG.info("flat type driver ready; physical networks: %s",
                 "any" if self.flat_networks is None else (", ".join(self.flat_networks) or "none (disabled)"))

    def is_partial_segment(self, segment):
        return False

    def validate_provider_segment(self, segment):
        physical_network = segment.get(api.PHYSICAL_NETWORK)
        if not validation.is_given(physical_network):
            raise exc.InvalidInput(error_message="physical_network required for flat provider network")
        if self.flat_networks is not None and not self.flat_networks:
            raise exc.InvalidInput(error_message="Flat provider networks are disabled")
        if self.flat_networks and physical_network not in self.flat_networks:
            raise exc.InvalidInput(
                error_message="physical_network '%s' unknown for flat provider network" % physical_network)
        validation.reject_given(segment, (api.SEGMENTATION_ID,), NETWORK_TYPE)

    def reserve_provider_segment(self, session, segment, filters=None):
        physical_network = segment[api.PHYSICAL_NETWORK]
        table = models.FlatAllocation.__table__
        try:
            # Savepoint: a taken physnet must leave the caller's transaction usable.
            with session.begin_nested():
                session.execute(table.insert().values(physical_network=physical_network))
        except sa_exc.IntegrityError as error:
            if not db_api.is_duplicate(error):
                raise
            raise exc.FlatNetworkInUse(physical_network=physical_network) from None
        return {api.NETWORK_TYPE: NETWORK_TYPE, api.PHYSICAL_NETWORK: physical_network,
                api.SEGMENTATION_ID: None, api.MTU: self.get_mtu(physical_network)}

    def allocate_tenant_segment(self, session, filters=None):
        # Project networks are never flat: the type manager moves on to the next type.
        return None

    def release_segment(self, session, segment):
        table = models.FlatAllocation.__table__
        deleted = session.execute(
            table.delete().where(table.c.physical_network == segment[api.PHYSICAL_NETWORK])).rowcount
        if not deleted:
            LOG.warning("No flat network found on physical network %s", segment[api.PHYSICAL_NETWORK])

    def get_mtu(self, physical_network=None):
        return mtu.physnet_mtu(self._conf.global_physnet_mtu, self._physnet_mtus, physical_network)

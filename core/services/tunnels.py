"""Tunnel endpoints (VTEPs) the agents register with tunnel_sync.

One endpoint per host and per IP in each tunnel type's table. A host whose
tunnel IP changed replaces its old endpoint (the caller tells the other agents
to drop tunnels to the old IP); an IP that moved to another host is taken from
the host that had it.
"""
import logging

import sqlalchemy as sa

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api

LOG = logging.getLogger(__name__)


class SyncResult:
    def __init__(self, tunnels, stale_ip=None):
        self.tunnels = tunnels      # every endpoint of the type: [{"ip_address", "host"}]
        self.stale_ip = stale_ip    # the host's previous IP, whose tunnels must go


class TunnelEndpoints:
    def __init__(self, type_manager):
        self.types = type_manager

    def _model(self, tunnel_type):
        driver = self.types.drivers.get(tunnel_type)
        model = driver.endpoint_model if driver is not None else None
        if model is None:
            raise exc.InvalidInput(error_message="Network type value '%s' not supported" % tunnel_type)
        return model

    @db_api.retry_db_errors
    def sync(self, tunnel_ip, tunnel_type, host=None):
        if not tunnel_ip:
            raise exc.InvalidInput(error_message="Tunnel IP value needed by the ML2 plugin")
        if not tunnel_type:
            raise exc.InvalidInput(error_message="Network type value needed by the ML2 plugin")
        model = self._model(tunnel_type)
        stale_ip = None
        with db_api.session_scope() as session:
            by_ip = session.get(model, tunnel_ip)
            by_host = session.scalar(sa.select(model).where(model.host == host)) if host else None
            if by_host is not None and by_host.ip_address != tunnel_ip:
                stale_ip = by_host.ip_address
                LOG.info("Host %s moved its %s endpoint from %s to %s", host, tunnel_type, stale_ip, tunnel_ip)
                session.delete(by_host)
            if by_ip is not None and host and by_ip.host != host:
                LOG.info("%s endpoint %s passes from host %s to %s", tunnel_type, tunnel_ip, by_ip.host, host)
                session.delete(by_ip)
                by_ip = None
            # Deletes first: the new row may reuse the primary key or host just freed.
            session.flush()
            if by_ip is None:
                session.add(model(ip_address=tunnel_ip, host=host))
                session.flush()
            tunnels = [{"ip_address": ip, "host": h}
                       for ip, h in session.execute(sa.select(model.ip_address, model.host)
                                                    .order_by(model.ip_address))]
        return SyncResult(tunnels, stale_ip)

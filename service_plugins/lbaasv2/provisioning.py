"""How a changed load balancer reaches its data plane.

A provisioner has one method, ``changed(lb_id)``, called after every committed
change. ``NoopProvisioner`` settles the change at once (no data plane);
``AgentProvisioner`` schedules the load balancer to an alive Loadbalancerv2 agent
(the least loaded) and casts ``loadbalancer_changed`` to that agent's host; the
agent deploys and answers through the RPC endpoint (lbaas_rpc.py), which settles
the statuses.
"""
import logging

from netweave.core.context import get_admin_context
from netweave.service_plugins.lbaasv2 import constants as const

LOG = logging.getLogger(__name__)

AGENT_TOPIC = "lbaasv2_agent"


class NoopProvisioner:
    def __init__(self):
        self.service = None  # set by the plugin once the service exists

    def changed(self, lb_id):
        self.service.finish(lb_id)
        tree_statuses = self.service.operating_defaults(lb_id)
        self.service.set_operating_statuses(lb_id, tree_statuses)


class AgentProvisioner:
    """Sends nothing until ``connect`` gives it a transport; the scheduler is scheduling.py's."""

    def __init__(self, scheduler, cast_client):
        self.scheduler = scheduler
        self._casts = cast_client

    def connect(self, transport):
        self._casts.connect(transport)

    def changed(self, lb_id):
        host = self.scheduler.host_of(lb_id)
        if host is None:
            LOG.info("Load balancer %s waits for an alive %s", lb_id, const.AGENT_TYPE)
            return
        if self._casts.connected:
            self._casts.cast(get_admin_context(), "loadbalancer_changed", server=host, loadbalancer_id=lb_id)

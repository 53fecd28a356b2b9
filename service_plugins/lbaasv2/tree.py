"""One load balancer's whole tree read at once, and the relations the views need."""
import collections

import sqlalchemy as sa

from netweave.core.services import common
from netweave.service_plugins.lbaasv2 import models


class Tree:
    """The rows of some load balancers' trees, indexed by parent."""

    def __init__(self, session, lb_ids):
        lb_ids = list(lb_ids)
        self.loadbalancers = {r.id: r for r in self._rows(session, models.LoadBalancer, models.LoadBalancer.id, lb_ids)}
        self.listeners = self._by_id(session, models.Listener, lb_ids)
        self.pools = self._by_id(session, models.Pool, lb_ids)
        self.members = self._by_id(session, models.Member, lb_ids)
        self.monitors = self._by_id(session, models.HealthMonitor, lb_ids)
        self._tags = common.load_tags(session, self.ids())
        self._lb_listeners = collections.defaultdict(list)
        self._lb_pools = collections.defaultdict(list)
        self._pool_members = collections.defaultdict(list)
        self._pool_listeners = collections.defaultdict(list)
        self._pool_monitor = {}
        for row in self.listeners.values():
            self._lb_listeners[row.loadbalancer_id].append(row.id)
            if row.default_pool_id:
                self._pool_listeners[row.default_pool_id].append(row.id)
        for row in self.pools.values():
            self._lb_pools[row.loadbalancer_id].append(row.id)
        for row in self.members.values():
            self._pool_members[row.pool_id].append(row.id)
        for row in self.monitors.values():
            self._pool_monitor[row.pool_id] = row.id

    @staticmethod
    def _rows(session, model, column, ids):
        if not ids:
            return []
        return list(session.scalars(sa.select(model).where(column.in_(ids)).order_by(model.created_at, model.id)))

    def _by_id(self, session, model, lb_ids):
        return {r.id: r for r in self._rows(session, model, model.loadbalancer_id, lb_ids)}

    def ids(self):
        """Every entity of the trees: load balancers and all below them."""
        return [*self.loadbalancers, *self.listeners, *self.pools, *self.members, *self.monitors]

    def tags_of(self, item_id):
        return list(self._tags.get(item_id, []))

    def listeners_of_lb(self, lb_id):
        return self._lb_listeners.get(lb_id, [])

    def pools_of_lb(self, lb_id):
        return self._lb_pools.get(lb_id, [])

    def members_of_pool(self, pool_id):
        return self._pool_members.get(pool_id, [])

    def listeners_of_pool(self, pool_id):
        return self._pool_listeners.get(pool_id, [])

    def monitor_of_pool(self, pool_id):
        return self._pool_monitor.get(pool_id)

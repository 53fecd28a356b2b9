"""The status tree of a load balancer (GET .../status), a pure function of its rows.

An entity that is admin-down, and everything under it, is DISABLED. A child in
provisioning ERROR, or whose operating status is neither ONLINE nor NO_MONITOR,
makes its ancestors DEGRADED (pool -> listener -> load balancer).
"""
from netweave.service_plugins.lbaasv2 import constants as const

_HEALTHY = (const.ONLINE, const.NO_MONITOR)


def _operating(row, parent_disabled):
    if parent_disabled or not row.admin_state_up:
        return const.DISABLED
    return row.operating_status


def _degrades(entry, row):
    return row.provisioning_status == const.ERROR or entry["operating_status"] not in _HEALTHY


def _pool_entry(tree, pool_id, parent_disabled):
    pool = tree.pools[pool_id]
    status = _operating(pool, parent_disabled)
    disabled = status == const.DISABLED
    members = []
    degraded = False
    for member_id in tree.members_of_pool(pool_id):
        member = tree.members[member_id]
        entry = {"id": member.id, "name": member.name, "address": member.address,
                 "protocol_port": member.protocol_port, "provisioning_status": member.provisioning_status,
                 "operating_status": _operating(member, disabled)}
        degraded = degraded or (not disabled and entry["operating_status"] != const.DISABLED
                                and _degrades(entry, member))
        members.append(entry)
    monitor = {}
    monitor_id = tree.monitor_of_pool(pool_id)
    if monitor_id:
        hm = tree.monitors[monitor_id]
        monitor = {"id": hm.id, "name": hm.name, "type": hm.type, "provisioning_status": hm.provisioning_status}
        degraded = degraded or hm.provisioning_status == const.ERROR
    if degraded and status == const.ONLINE:
        status = const.DEGRADED
    return {"id": pool.id, "name": pool.name, "provisioning_status": pool.provisioning_status,
            "operating_status": status, "healthmonitor": monitor, "members": members}


def status_tree(tree, lb_id):
    lb = tree.loadbalancers[lb_id]
    lb_status = _operating(lb, False)
    lb_disabled = lb_status == const.DISABLED
    listeners = []
    lb_degraded = False
    listed_pools = set()
    for listener_id in tree.listeners_of_lb(lb_id):
        listener = tree.listeners[listener_id]
        status = _operating(listener, lb_disabled)
        pools = []
        if listener.default_pool_id in tree.pools:
            entry = _pool_entry(tree, listener.default_pool_id, status == const.DISABLED)
            listed_pools.add(listener.default_pool_id)
            pools.append(entry)
            if status == const.ONLINE and _degrades(entry, tree.pools[listener.default_pool_id]) \
                    and entry["operating_status"] != const.DISABLED:
                status = const.DEGRADED
        lb_degraded = lb_degraded or (status != const.DISABLED and _degrades({"operating_status": status}, listener))
        listeners.append({"id": listener.id, "name": listener.name,
                          "provisioning_status": listener.provisioning_status, "operating_status": status,
                          "pools": pools})
    # Pools no listener uses yet still show, beside the listeners.
    pools = [_pool_entry(tree, pool_id, lb_disabled) for pool_id in tree.pools_of_lb(lb_id)
             if pool_id not in listed_pools]
    if lb_degraded and lb_status == const.ONLINE:
        lb_status = const.DEGRADED
    return {"loadbalancer": {"id": lb.id, "name": lb.name, "provisioning_status": lb.provisioning_status,
                             "operating_status": lb_status, "listeners": listeners, "pools": pools}}

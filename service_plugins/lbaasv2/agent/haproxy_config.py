"""haproxy.cfg of one load balancer, a pure function of its tree (spec A.6.2).

``render(lb, state_dir, user_group)`` takes the load balancer as the server
sends it to the agent (lbaas_rpc.get_loadbalancer) and returns the file's text.
What is admin-down or pending deletion is left out, as the namespace driver of
Neutron LBaaS does. haproxy 1.6 dropped ``appsession``; APP_COOKIE persistence
is written as the equivalent stick table on the cookie unless
``legacy_appsession`` asks for the book's line. ``seamless_reload`` adds a
second, root-only socket that hands the listening sockets to a reloading haproxy
(``-x``); without it the file is the book's.
"""
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2 import rules

DEFAULT_MAXCONN = 2000
_MODES = {"TCP": "tcp", "HTTP": "http", "HTTPS": "tcp"}
_BALANCE = {"ROUND_ROBIN": "roundrobin", "LEAST_CONNECTIONS": "leastconn", "SOURCE_IP": "source"}

STATS_SOCKET = "haproxy_stats.sock"
RELOAD_SOCKET = "haproxy_reload.sock"


def _live(entity):
    return entity.get("admin_state_up", True) and entity.get("provisioning_status") != const.PENDING_DELETE


def active_listeners(lb):
    """Listeners haproxy serves: admin-up, not being deleted, sorted by port."""
    return sorted((li for li in lb.get("listeners", ()) if _live(li)), key=lambda li: (li["protocol_port"], li["id"]))


def deployable(lb):
    """haproxy will not start without a port: a load balancer runs when admin-up with a live listener."""
    return _live(lb) and bool(active_listeners(lb))


def _global_maxconn(listeners):
    return sum(li["connection_limit"] if li.get("connection_limit", -1) > -1 else DEFAULT_MAXCONN
               for li in listeners)


def _frontend(listener, vip_address):
    mode = _MODES[listener["protocol"]]
    lines = ["frontend %s" % listener["id"], "    option tcplog"]
    if mode == "http":
        lines.append("    option forwardfor")
    if listener.get("connection_limit", -1) > -1:
        lines.append("    maxconn %d" % listener["connection_limit"])
    lines += ["    bind %s:%d" % (vip_address, listener["protocol_port"]), "    mode %s" % mode]
    if listener.get("default_pool_id"):
        lines.append("    default_backend %s" % listener["default_pool_id"])
    return lines


def _persistence_lines(persistence, legacy_appsession):
    if not persistence:
        return []
    kind = persistence["type"]
    if kind == "SOURCE_IP":
        return ["    stick-table type ip size 10k", "    stick on src"]
    if kind == "HTTP_COOKIE":
        return ["    cookie SRV insert indirect nocache"]
    cookie = persistence["cookie_name"]
    if legacy_appsession:
        return ["    appsession %s len 56 timeout 3h" % cookie]
    return ["    stick-table type string len 56 size 10k expire 3h",
            "    stick store-response res.cook(%s)" % cookie,
            "    stick match req.cook(%s)" % cookie]


def _backend(pool, legacy_appsession):
    monitor = pool.get("healthmonitor")
    if monitor is not None and not _live(monitor):
        monitor = None
    persistence = pool.get("session_persistence")
    lines = ["backend %s" % pool["id"], "    mode %s" % _MODES[pool["protocol"]],
             "    balance %s" % _BALANCE[pool["lb_algorithm"]]]
    lines += _persistence_lines(persistence, legacy_appsession)
    if monitor is not None:
        lines.append("    timeout check %ds" % monitor["timeout"])
        if monitor["type"] in const.HTTP_MONITORS:
            lines.append("    option httpchk %s %s" % (monitor["http_method"], monitor["url_path"]))
            lines.append("    http-check expect rstatus %s" % rules.expand_codes(monitor["expected_codes"]))
        if monitor["type"] == "HTTPS":
            lines.append("    option ssl-hello-chk")
    members = sorted((m for m in pool.get("members", ()) if _live(m)), key=lambda m: m["id"])
    for member in members:
        line = "    server %s %s:%d weight %d" % (member["id"], member["address"], member["protocol_port"],
                                                  member["weight"])
        if monitor is not None:
            line += " check inter %ds fall %d" % (monitor["delay"], monitor["max_retries"])
        if persistence and persistence["type"] == "HTTP_COOKIE":
            line += " cookie %s" % member["id"]
        lines.append(line)
    return lines


def render(lb, state_dir, user_group="nogroup", legacy_appsession=False, seamless_reload=False):
    listeners = active_listeners(lb)
    pools = {pool["id"]: pool for pool in lb.get("pools", ()) if _live(pool)}
    lines = [
        "# Configuration for %s" % lb["name"],
        "global",
        "    daemon",
        "    user nobody",
        "    group %s" % user_group,
        "    log /dev/log local0",
        "    log /dev/log local1 notice",
        "    maxconn %d" % _global_maxconn(listeners),
        "    stats socket %s/%s mode 0666 level user" % (state_dir, STATS_SOCKET),
    ]
    if seamless_reload:
        # Admin level and mode 0600: only root (the agent) may take the listening sockets.
        lines.append("    stats socket %s/%s mode 0600 level admin expose-fd listeners" % (state_dir, RELOAD_SOCKET))
    lines += [
        "",
        "defaults",
        "    log global",
        "    retries 3",
        "    option redispatch",
        "    timeout connect 5000",
        "    timeout client 50000",
        "    timeout server 50000",
    ]
    backends = []
    for listener in listeners:
        pool_id = listener.get("default_pool_id")
        if pool_id not in pools:
            listener = dict(listener, default_pool_id=None)
        lines += [""] + _frontend(listener, lb["vip_address"])
        if pool_id in pools and pool_id not in backends:
            backends.append(pool_id)
    for pool_id in backends:
        lines += [""] + _backend(pools[pool_id], legacy_appsession)
    return "\n".join(lines) + "\n"

"""haproxy.cfg rendering: the book's LB_WEB file byte for byte (spec A.6.2) and the mapping rules."""
import copy

from netweave.service_plugins.lbaasv2.agent import haproxy_config

LB_ID = "137292b2-79cf-447a-8259-39ac9aef6575"
STATE_DIR = "/var/lib/neutron/lbaas/v2/" + LB_ID
POOL_ID = "05762f48-64e8-4e5a-a972-ddc2516c0153"

BOOK_FILE = """\
# Configuration for LB_WEB
global
    daemon
    user nobody
    group haproxy
    log /dev/log local0
    log /dev/log local1 notice
    maxconn 2000
    stats socket /var/lib/neutron/lbaas/v2/137292b2-79cf-447a-8259-39ac9aef6575/haproxy_stats.sock mode 0666 level user

defaults
    log global
    retries 3
    option redispatch
    timeout connect 5000
    timeout client 50000
    timeout server 50000

frontend d416b3cb-612f-4a68-a77e-e14cf8bda245
    option tcplog
    option forwardfor
    bind 192.168.200.12:80
    mode http
    default_backend 05762f48-64e8-4e5a-a972-ddc2516c0153

backend 05762f48-64e8-4e5a-a972-ddc2516c0153
    mode http
    balance roundrobin
    timeout check 4s
    option httpchk GET /
    http-check expect rstatus 200
    server 0ec91151-6ef1-4289-ad53-db9e46dc9d60 192.168.200.7:80 weight 1 check inter 5s fall 3
    server 9554ae8b-8ced-4074-ab5f-037f0ef440cc 192.168.200.9:80 weight 1 check inter 5s fall 3
"""


def _member(member_id, address, **extra):
    return dict({"id": member_id, "address": address, "protocol_port": 80, "weight": 1, "admin_state_up": True,
                 "provisioning_status": "ACTIVE"}, **extra)


LB_WEB = {
    "id": LB_ID, "name": "LB_WEB", "vip_address": "192.168.200.12", "admin_state_up": True,
    "provisioning_status": "ACTIVE",
    "listeners": [{"id": "d416b3cb-612f-4a68-a77e-e14cf8bda245", "protocol": "HTTP", "protocol_port": 80,
                   "connection_limit": -1, "default_pool_id": POOL_ID, "admin_state_up": True,
                   "provisioning_status": "ACTIVE"}],
    "pools": [{"id": POOL_ID, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": None,
               "admin_state_up": True, "provisioning_status": "ACTIVE",
               "healthmonitor": {"id": "98cc9c87-d001-4d0a-b317-3e77d21c0689", "type": "HTTP", "delay": 5,
                                 "timeout": 4, "max_retries": 3, "max_retries_down": 3, "http_method": "GET",
                                 "url_path": "/", "expected_codes": "200", "admin_state_up": True,
                                 "provisioning_status": "ACTIVE"},
               "members": [_member("9554ae8b-8ced-4074-ab5f-037f0ef440cc", "192.168.200.9"),
                           _member("0ec91151-6ef1-4289-ad53-db9e46dc9d60", "192.168.200.7")]}],
}


def _render(lb, **kwargs):
    return haproxy_config.render(lb, STATE_DIR, user_group="haproxy", **kwargs)


def _lb(**changes):
    lb = copy.deepcopy(LB_WEB)
    for path, value in changes.items():
        target = lb
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value
    return lb


def test_the_book_file_exactly():
    assert _render(LB_WEB) == BOOK_FILE


def test_seamless_reload_adds_a_root_only_socket_that_hands_the_listeners_over():
    text = _render(LB_WEB, seamless_reload=True)
    line = "    stats socket %s/haproxy_reload.sock mode 0600 level admin expose-fd listeners\n" % STATE_DIR
    assert text == BOOK_FILE.replace("level user\n", "level user\n" + line)


def test_algorithms():
    assert "    balance leastconn\n" in _render(_lb(pools__0__lb_algorithm="LEAST_CONNECTIONS"))
    assert "    balance source\n" in _render(_lb(pools__0__lb_algorithm="SOURCE_IP"))


def test_session_persistence():
    text = _render(_lb(pools__0__session_persistence={"type": "HTTP_COOKIE", "cookie_name": None}))
    assert "    cookie SRV insert indirect nocache\n" in text
    assert "192.168.200.9:80 weight 1 check inter 5s fall 3 cookie 9554ae8b-8ced-4074-ab5f-037f0ef440cc\n" in text
    text = _render(_lb(pools__0__session_persistence={"type": "SOURCE_IP", "cookie_name": None}))
    assert "    stick-table type ip size 10k\n    stick on src\n" in text
    app = {"type": "APP_COOKIE", "cookie_name": "JSESSIONID"}
    assert "    appsession JSESSIONID len 56 timeout 3h\n" in _render(_lb(pools__0__session_persistence=app),
                                                                      legacy_appsession=True)
    modern = _render(_lb(pools__0__session_persistence=app))
    assert "appsession" not in modern and "    stick match req.cook(JSESSIONID)\n" in modern


def test_monitors():
    tcp = _render(_lb(pools__0__healthmonitor__type="TCP"))
    assert "    timeout check 4s\n" in tcp and "httpchk" not in tcp and "check inter 5s fall 3" in tcp
    https = _render(_lb(pools__0__healthmonitor__type="HTTPS"))
    assert "    option ssl-hello-chk\n" in https
    ranged = _render(_lb(pools__0__healthmonitor__expected_codes="200-202"))
    assert "    http-check expect rstatus 200|201|202\n" in ranged
    listed = _render(_lb(pools__0__healthmonitor__expected_codes="200, 204"))
    assert "    http-check expect rstatus 200|204\n" in listed
    off = _render(_lb(pools__0__healthmonitor__admin_state_up=False))
    assert "timeout check" not in off and "check inter" not in off
    none = _render(_lb(pools__0__healthmonitor=None))
    assert "server 9554ae8b-8ced-4074-ab5f-037f0ef440cc 192.168.200.9:80 weight 1\n" in none


def test_members_weights_and_admin_state():
    assert "192.168.200.9:80 weight 2 " in _render(_lb(pools__0__members__0__weight=2))
    text = _render(_lb(pools__0__members__0__admin_state_up=False))
    assert "192.168.200.9" not in text and "192.168.200.7" in text
    text = _render(_lb(pools__0__members__0__provisioning_status="PENDING_DELETE"))
    assert "192.168.200.9" not in text


def test_listeners_connection_limit_and_admin_state():
    text = _render(_lb(listeners__0__connection_limit=100))
    assert "    maxconn 100\n" in text.split("defaults")[0]
    assert "    option forwardfor\n    maxconn 100\n" in text
    lb = _lb()
    lb["listeners"].append({"id": "l2", "protocol": "TCP", "protocol_port": 22, "connection_limit": -1,
                            "default_pool_id": None, "admin_state_up": True, "provisioning_status": "ACTIVE"})
    text = _render(lb)
    assert "    maxconn 4000\n" in text
    assert "frontend l2\n    option tcplog\n    bind 192.168.200.12:22\n    mode tcp\n\n" in text
    down = _render(_lb(listeners__0__admin_state_up=False))
    assert "frontend" not in down and "backend" not in down
    assert not haproxy_config.deployable(_lb(listeners__0__admin_state_up=False))
    assert not haproxy_config.deployable(_lb(admin_state_up=False))
    assert haproxy_config.deployable(LB_WEB)


def test_https_listener_is_tcp_passthrough():
    text = _render(_lb(listeners__0__protocol="HTTPS", pools__0__protocol="HTTPS"))
    assert "forwardfor" not in text and "    mode tcp\n" in text

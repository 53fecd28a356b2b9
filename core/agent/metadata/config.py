"""Options of metadata_agent.ini, and of the namespace proxy the DHCP and L3 agents start.

Names and defaults are Neutron's, so an existing metadata_agent.ini works.
The proxy options (``register_proxy_opts``) are shared: the DHCP agent reads
``metadata_proxy_socket`` to point its haproxy at the metadata agent.
"""
import copy

from oslo_config import cfg

from netweave.core.config import agent as agent_config
from netweave.core.config import common as common_config

SOCKET_MODE_DEDUCE = "deduce"
SOCKET_MODE_USER = "user"
SOCKET_MODE_GROUP = "group"
SOCKET_MODE_ALL = "all"

proxy_opts = [
    cfg.StrOpt("metadata_proxy_socket", default="$state_path/metadata_proxy",
               help="Unix socket on which the metadata agent listens for the namespace proxies."),
    cfg.StrOpt("metadata_proxy_user", default="",
               help="User (uid or name) the namespace proxies run as; empty: the agent's effective user."),
    cfg.StrOpt("metadata_proxy_group", default="",
               help="Group (gid or name) the namespace proxies run as; empty: the agent's effective group."),
]

agent_opts = [
    cfg.StrOpt("metadata_proxy_socket_mode", default=SOCKET_MODE_DEDUCE,
               choices=[SOCKET_MODE_DEDUCE, SOCKET_MODE_USER, SOCKET_MODE_GROUP, SOCKET_MODE_ALL],
               help="Permissions of the metadata proxy socket: 'user' (0644), 'group' (0664), 'all' "
                    "(0666), or 'deduce' from metadata_proxy_user and metadata_proxy_group."),
    cfg.HostAddressOpt("nova_metadata_host", default="127.0.0.1",
                       help="Host name or IP address of the metadata backend (Nova's metadata API)."),
    cfg.PortOpt("nova_metadata_port", default=8775, help="TCP port of the metadata backend."),
    cfg.StrOpt("nova_metadata_protocol", default="http", choices=["http", "https"],
               help="Protocol used to reach the metadata backend."),
    cfg.BoolOpt("nova_metadata_insecure", default=False,
                help="Do not verify the metadata backend's certificate (https only)."),
    cfg.StrOpt("auth_ca_cert", help="CA bundle used to verify the metadata backend's certificate."),
    cfg.StrOpt("nova_client_cert", default="",
               help="Client certificate presented to the metadata backend (https only)."),
    cfg.StrOpt("nova_client_priv_key", default="", help="Private key of nova_client_cert."),
    cfg.StrOpt("metadata_proxy_shared_secret", default="", secret=True,
               help="Shared secret signing the instance id sent to the metadata backend; it must "
                    "equal Nova's [neutron] metadata_proxy_shared_secret."),
    cfg.IntOpt("metadata_workers", default=16, min=1,
               help="Number of threads answering requests on the metadata proxy socket."),
    cfg.IntOpt("metadata_backlog", default=4096, min=1,
               help="Listen backlog of the metadata proxy socket."),
    cfg.StrOpt("cache_url", default="memory://?default_ttl=5",
               help="Cache of port lookups: 'memory://?default_ttl=<seconds>'; an empty value or a "
                    "TTL of 0 disables caching."),
    cfg.FloatOpt("nova_metadata_timeout", default=30.0, min=0.1,
                 help="Seconds to wait for the metadata backend before answering 504."),
]


def _shared_opts():
    # metadata_proxy_socket's default refers to state_path; host names the agent.
    return [opt for opt in common_config.core_opts if opt.dest in ("state_path", "host")]


def register_proxy_opts(conf):
    """The options an agent starting namespace proxies needs (metadata_proxy_socket and friends)."""
    conf.register_opts(_shared_opts())
    conf.register_opts(proxy_opts)


def register_agent_opts(conf):
    register_proxy_opts(conf)
    conf.register_opts(agent_opts)
    agent_config.register(conf)


def list_opts():
    """Everything metadata_agent.ini may hold (entry point netweave.metadata_agent)."""
    return [
        ("DEFAULT", copy.deepcopy(_shared_opts() + proxy_opts + agent_opts)),
        # Of [agent], only the heartbeat interval applies to this agent.
        ("agent", copy.deepcopy([o for o in agent_config.agent_opts if o.dest == "report_interval"])),
    ]

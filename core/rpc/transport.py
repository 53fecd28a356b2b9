"""The oslo.messaging transport of a process, from ``[DEFAULT] transport_url``.

``rabbit://user:password@host:5672/`` reaches agents on other hosts;
``fake://`` (IN_PROCESS_URL) passes messages between the RPC servers and
clients of one process only, which is what the all-in-one uses when no broker
is configured: casts, fanout casts and calls all work in memory.

A process keeps one transport per URL: every RPC server and client shares its
connection pool. A forked child (a gunicorn worker) makes its own.

oslo.messaging is imported on first use only: an API server without
transport_url never loads it (it costs tens of MB in every worker).
"""
import os
import threading

from oslo_config import cfg

IN_PROCESS_URL = "fake://"
# The exchange every netweave message goes through (Neutron uses "neutron").
CONTROL_EXCHANGE = "netweave"

_lock = threading.Lock()
_cache = {"pid": None, "transports": {}}


def register_opts(conf):
    """transport_url, rpc_response_timeout and the other [DEFAULT] options of oslo.messaging."""
    import oslo_messaging
    from oslo_messaging import opts as messaging_opts

    # Defaults first: the copies registered below must equal the library's own
    # options, which it registers again when it makes a transport.
    oslo_messaging.set_transport_defaults(CONTROL_EXCHANGE)
    for group, opts in messaging_opts.list_opts():
        if group is None:
            conf.register_opts(opts)


def url_configured(conf):
    """True when transport_url was given (in a file, on the command line or by an override)."""
    if "transport_url" in conf:
        return conf.get_location("transport_url").location != cfg.Locations.opt_default
    # Not registered yet (and so not overridden either): look for it in the same
    # files and environment, without loading oslo.messaging to register it.
    # ``conf`` has parsed its command line, so it has config_file and config_dir.
    probe = cfg.ConfigOpts()
    probe.register_opt(cfg.StrOpt("transport_url"))
    probe(args=[], project=conf.project, default_config_files=list(conf.config_file or []),
          default_config_dirs=list(conf.config_dir or []), use_env=True)
    try:
        location = probe.get_location("transport_url")
        return location is not None and location.location != cfg.Locations.opt_default
    finally:
        probe.reset()


def get_transport(conf, url=None):
    """This process's transport for ``url`` (default: transport_url), made on first use."""
    register_opts(conf)
    url = url or conf.transport_url
    with _lock:
        if _cache["pid"] != os.getpid():
            # Connections do not survive a fork: the child starts afresh.
            _cache["pid"] = os.getpid()
            _cache["transports"] = {}
        transport = _cache["transports"].get(url)
        if transport is None:
            import oslo_messaging

            transport = oslo_messaging.get_rpc_transport(conf, url=url)
            _cache["transports"][url] = transport
        return transport


def cleanup():
    """Close every transport this process made."""
    with _lock:
        transports = list(_cache["transports"].values()) if _cache["pid"] == os.getpid() else []
        _cache["transports"] = {}
    for transport in transports:
        transport.cleanup()

"""netweave-server: the API in ``api_workers`` processes.

The master checks the schema (in a child process) and syncs allocation tables once; every worker
then builds its own plugins and engine after the fork (no shared connections).
gunicorn's arbiter forks, watches and restarts the workers and passes SIGTERM
on; each worker serves HTTP with netweave's own server (core/api/http_server.py,
the one the all-in-one runs too), so gunicorn's request handling is not used.

Workers only send to the agents (notifications after commit, over
``transport_url``); what the agents send is served by netweave-rpc-server
(see core/cmd/rpc_server.py). Without transport_url no agent is told anything.
"""
import concurrent.futures
import logging
import multiprocessing
import os
import signal
import sys

from gunicorn.app import base as gunicorn_base
from gunicorn.workers import base as gunicorn_worker
from oslo_config import cfg

from netweave.core import memory, policy, service
from netweave.core.api import builder, http_server
from netweave.core.api import extension as api_extension
from netweave.core.cmd import common
from netweave.core.db import api as db_api
from netweave.core.db import setup as db_setup
from netweave.core.rpc import transport as rpc_transport

LOG = logging.getLogger(__name__)


def load_plugins(conf, sync=False):
    """The configured plugins on the configured database, connected to the agents if
    a transport_url is set."""
    db_setup.configure(conf)
    core_plugin, service_plugins = service.load_plugins(conf, sync=sync)
    if rpc_transport.url_configured(conf):
        transport = rpc_transport.get_transport(conf)
        for plugin in [core_plugin] + list(service_plugins):
            plugin.connect_agents(transport)
    else:
        LOG.info("transport_url is not set: agents will not be notified of changes")
    return core_plugin, service_plugins


def make_app(conf, sync=False):
    core_plugin, service_plugins = load_plugins(conf, sync=sync)
    return builder.build_wsgi_app(conf, core_plugin, service_plugins)


def prepare_worker_memory(_worker):
    """gunicorn's post_worker_init: once a worker has built its app, before its threads."""
    memory.prepare_for_serving()


class ApiWorker(gunicorn_worker.Worker):
    """A gunicorn worker process serving with netweave's HTTP server.

    SIGTERM (sent on by the arbiter) makes the server stop accepting and drain;
    it also stops when the arbiter is gone.
    """

    def run(self):
        server = http_server.HttpServer(self.wsgi, self.app.http_limits)
        server.serve([listener.sock for listener in self.sockets], stop_signals=(signal.SIGTERM,),
                     heartbeat=self.notify, keep_running=self._arbiter_alive)

    def _arbiter_alive(self):
        return self.alive and self.ppid == os.getppid()


class _Gunicorn(gunicorn_base.BaseApplication):
    def __init__(self, conf, workers):
        self.conf_ = conf
        self.workers = workers
        self.http_limits = http_server.limits_from_conf(conf)
        super().__init__()

    def load_config(self):
        settings = {
            "bind": "%s:%s" % (self.conf_.bind_host, self.conf_.bind_port),
            "backlog": self.conf_.backlog,
            "workers": self.workers,
            "worker_class": ApiWorker,
            # A worker whose loop misses heartbeats this long is replaced.
            "timeout": 120,
            # The workers drain within graceful_shutdown_timeout; the arbiter waits a little longer.
            "graceful_timeout": self.conf_.graceful_shutdown_timeout + 5,
            "accesslog": None,
            "loglevel": "warning",
            "proc_name": "netweave-server",
            "post_worker_init": prepare_worker_memory,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        return make_app(self.conf_)


def require_current_schema(conf):
    """Check the schema in a child process.

    The check loads Alembic and Mako (about 10 MB); done in this process, every
    worker forked from it would carry them for nothing.
    """
    fork = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=fork) as child:
        problem = child.submit(common.schema_problem, db_setup.database_url(conf)).result()
    if problem is not None:
        raise common.SchemaOutOfDate(problem)


def main(argv=None):
    http_server.register_opts(cfg.CONF)
    conf = common.parse_config(sys.argv[1:] if argv is None else argv)
    try:
        require_current_schema(conf)
        # A broken API extension or policy entry point stops the master, not each worker.
        api_extension.discover()
        policy.default_rules()
        # One process syncs allocation tables before any worker serves.
        db_setup.configure(conf)
        service.load_plugins(conf, sync=True)
        db_api.DATABASE.engine.dispose()
    except (common.SchemaOutOfDate, RuntimeError) as error:
        common.fail(str(error))
    workers = conf.api_workers if conf.api_workers else multiprocessing.cpu_count()
    LOG.info("Serving on %s:%s with %d workers", conf.bind_host, conf.bind_port, workers)
    _Gunicorn(conf, workers).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

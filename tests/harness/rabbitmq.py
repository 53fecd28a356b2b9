"""A private, throw-away RabbitMQ broker for tests.

``start_private_rabbitmq()`` makes a new temporary folder and starts, from the
Debian package rabbitmq-server, a broker that shares nothing with a system
one: its own node name, AMQP port and Erlang distribution port on 127.0.0.1,
its own Mnesia, log and cookie (HOME) folders, no plugins, and its own epmd on
a private port (ERL_EPMD_PORT). That epmd is started here, in the foreground,
so that stopping it is ours to do: Erlang would otherwise start one that
outlives the tests. The broker is ready once a guest login over AMQP
succeeds; ``stop()`` ends broker and epmd and deletes the folder.

Fixtures:
  rabbitmq_server  (session) the running broker, a PrivateRabbitMQ
  rabbitmq_url     its transport_url: rabbit://guest:guest@127.0.0.1:<port>/

Outside pytest:
    with start_private_rabbitmq() as broker:
        print(broker.transport_url)
"""
import atexit
import os
import shutil
import signal
import tempfile
import time

import pytest

from harness.processes import LOCALHOST, ProcessDied, free_tcp_port, start_process
from harness.system import find_executable, start_or_require

BINDIR_ENV = "NETWEAVE_RABBITMQ_BINDIR"
DEFAULT_BINDIR = "/usr/lib/rabbitmq/bin"
USER = PASSWORD = "guest"


class RabbitMQUnavailable(RuntimeError):
    """This machine cannot run a private RabbitMQ broker."""


def find_rabbitmq_bindir():
    """Folder holding the package's own rabbitmq-server script (not the /usr/sbin
    wrapper, which switches user and redirects the output); or None."""
    bindir = os.environ.get(BINDIR_ENV) or DEFAULT_BINDIR
    return bindir if os.access(os.path.join(bindir, "rabbitmq-server"), os.X_OK) else None


def amqp_login(port, host=LOCALHOST, timeout=2.0):
    """True when the broker on host:port accepts an AMQP login as guest."""
    import amqp

    connection = amqp.Connection(host="%s:%d" % (host, port), userid=USER, password=PASSWORD,
                                 connect_timeout=timeout)
    try:
        connection.connect()
        return True
    except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
        return False
    finally:
        try:
            connection.collect()
        except Exception:  # noqa: BLE001
            pass


class PrivateRabbitMQ:
    """A running private broker; see start_private_rabbitmq()."""

    def __init__(self, base_dir, bindir, epmd):
        self.base_dir = base_dir
        self.bindir = bindir
        self.epmd_exe = epmd
        self.host = LOCALHOST
        self.port = None
        self.epmd_port = None
        self.dist_port = None
        self.process = None
        self.epmd = None
        self.start_seconds = None

    @property
    def transport_url(self):
        return "rabbit://%s:%s@%s:%d/" % (USER, PASSWORD, self.host, self.port)

    @property
    def log_path(self):
        return os.path.join(self.base_dir, "rabbitmq.log")

    def _environment(self):
        path = lambda *parts: os.path.join(self.base_dir, *parts)  # noqa: E731
        return {
            "HOME": self.base_dir,   # the Erlang cookie lives here
            "RABBITMQ_CONF_ENV_FILE": path("rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": path("rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": path("advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": path("enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": path("mnesia"),
            "RABBITMQ_LOG_BASE": path("log"),
            "RABBITMQ_PID_FILE": path("rabbitmq.pid"),
            "RABBITMQ_NODENAME": "netweave-test-%d@localhost" % self.port,
            "RABBITMQ_NODE_IP_ADDRESS": self.host,
            "RABBITMQ_NODE_PORT": self.port,
            "RABBITMQ_DIST_PORT": self.dist_port,
            # Node-to-node traffic stays on the loopback too.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": self.epmd_port,
            "ERL_EPMD_ADDRESS": self.host,
            "RABBITMQ_LOGS": "-",
        }

    def _prepare(self):
        with open(os.path.join(self.base_dir, "rabbitmq-env.conf"), "w"):
            pass  # empty: the machine's /etc/rabbitmq/rabbitmq-env.conf is not read
        with open(os.path.join(self.base_dir, "enabled_plugins"), "w") as handle:
            handle.write("[].\n")
        for folder in ("mnesia", "log"):
            os.makedirs(os.path.join(self.base_dir, folder), exist_ok=True)

    def _start(self, timeout):
        self.port, self.dist_port, self.epmd_port = free_tcp_port(), free_tcp_port(), free_tcp_port()
        started = time.monotonic()
        self.epmd = start_process([self.epmd_exe, "-port", self.epmd_port, "-address", self.host],
                                  os.path.join(self.base_dir, "epmd.log"))
        self.epmd.wait_for_port(self.epmd_port, timeout=timeout)
        self.process = start_process([os.path.join(self.bindir, "rabbitmq-server")], self.log_path,
                                     env=self._environment(), cwd=self.base_dir)
        self.process.wait_until(lambda: amqp_login(self.port), timeout, "it accepted a guest login")
        self.start_seconds = time.monotonic() - started

    def stop(self):
        """Stop broker and epmd, delete the folder. Safe to call twice."""
        atexit.unregister(self.stop)
        try:
            if self.process is not None:
                # SIGTERM makes RabbitMQ shut down cleanly; the group signal also
                # reaches erl_child_setup and the other helpers of the VM.
                self.process.stop(grace=30, sig=signal.SIGTERM)
            if self.epmd is not None:
                self.epmd.stop(grace=5)
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_private_rabbitmq(tmpdir=None, timeout=90):
    """Start a private broker in a new folder under ``tmpdir`` (default: the system
    temp folder). Raises RabbitMQUnavailable when the machine cannot run one. The
    broker is also stopped at interpreter exit if nobody did."""
    bindir = find_rabbitmq_bindir()
    epmd = find_executable("epmd")
    if bindir is None or epmd is None:
        raise RabbitMQUnavailable("rabbitmq-server or epmd not installed (Debian package rabbitmq-server; "
                                  "or set %s)" % BINDIR_ENV)
    broker = PrivateRabbitMQ(tempfile.mkdtemp(prefix="netweave-rabbitmq-", dir=tmpdir), bindir, epmd)
    atexit.register(broker.stop)
    try:
        broker._prepare()
        # A port picked as free can be taken before the broker binds it: retry with new ones.
        for attempt in range(3):
            try:
                broker._start(timeout)
                break
            except ProcessDied:
                for process in (broker.process, broker.epmd):
                    if process is not None:
                        process.stop()
                if attempt == 2:
                    raise
    except BaseException:
        broker.stop()
        raise
    return broker


@pytest.fixture(scope="session")
def rabbitmq_server():
    """The session's private RabbitMQ broker (PrivateRabbitMQ)."""
    broker = start_or_require(start_private_rabbitmq, RabbitMQUnavailable)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def rabbitmq_url(rabbitmq_server):
    return rabbitmq_server.transport_url

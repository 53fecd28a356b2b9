"""The real `openstack` CLI (from the test virtualenv) pointed at one noauth server.

``run_openstack(args, env)`` runs one command and returns a CompletedProcess.
Each command runs in a child forked from one interpreter that has already
imported python-openstackclient and its plugins (harness/cli_zygote.py): the
same ``openstackclient.shell.main`` the executable calls, in a process of its
own, without a second of imports per command. NETWEAVE_CLI_FORK=0 runs the
executable itself for every command instead.
"""
import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")
ZYGOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli_zygote.py")
FORK_ENV = "NETWEAVE_CLI_FORK"


def cli_environment():
    """Only the server the command names: no clouds.yaml or OS_* credentials from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = os.devnull
    return env


class _Zygote:
    """The forking interpreter, started at first use and ended at exit (or when its input closes)."""

    def __init__(self):
        self.process = None
        self.folder = None
        self.lock = threading.Lock()

    def _start(self):
        self.folder = tempfile.mkdtemp(prefix="netweave-cli-")
        self.process = subprocess.Popen([sys.executable, ZYGOTE, OPENSTACK], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=cli_environment(), text=True, bufsize=1)
        self.pending = b""
        atexit.register(self.stop)

    def _reply(self, deadline_seconds):
        """The zygote's next reply line, or None when ``deadline_seconds`` pass first."""
        deadline = time.monotonic() + deadline_seconds
        fd = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("the openstack CLI zygote exited (code %s)" % self.process.wait())
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def run(self, command, env, timeout):
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._start()
            out, err = (os.path.join(self.folder, name) for name in ("stdout", "stderr"))
            request = {"argv": list(command[1:]), "env": env, "stdout": out, "stderr": err}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            started = self._reply(timeout)  # the first one waits for the imports too
            if started is None:
                raise RuntimeError("the openstack CLI zygote did not fork within %ss" % timeout)
            pid = int(started.split()[1])
            line = self._reply(timeout)
            timed_out = line is None
            if timed_out:
                os.kill(pid, signal.SIGKILL)
                line = self._reply(30)
            code = int(line.split()[1])
            outputs = []
            for path in (out, err):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    outputs.append(handle.read())
                os.unlink(path)
        if timed_out:
            raise subprocess.TimeoutExpired(command, timeout, outputs[0], outputs[1])
        return subprocess.CompletedProcess(command, code, outputs[0], outputs[1])

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder is not None:
            for name in os.listdir(self.folder):
                os.unlink(os.path.join(self.folder, name))
            os.rmdir(self.folder)
            self.folder = None


_ZYGOTE = _Zygote()


def run_openstack(args, env, timeout=120):
    """``openstack <args>`` with ``env``; a CompletedProcess with text stdout and stderr."""
    command = [OPENSTACK] + list(args)
    if os.environ.get(FORK_ENV, "1") == "0":
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    return _ZYGOTE.run(command, env, timeout)


class Cli:
    def __init__(self, url):
        self.url = url
        self.env = cli_environment()

    def run(self, *args, check=True):
        done = run_openstack(["--os-auth-type", "none", "--os-endpoint", self.url] + list(args), self.env)
        if check:
            assert done.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(args), done.stdout, done.stderr)
        return done

    def json(self, *args):
        return json.loads(self.run(*(args + ("-f", "json"))).stdout)

    def fails(self, *args):
        """stderr of a command that must fail."""
        done = self.run(*args, check=False)
        assert done.returncode != 0, "%s unexpectedly worked" % " ".join(args)
        return done.stderr

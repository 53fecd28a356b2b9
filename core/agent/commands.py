"""Running host commands from an agent: one way, one error type.

    result = commands.run(["iptables-restore", "--noflush"], namespace="qdhcp-x", stdin=text)
    result = commands.run(["ip", "netns", "list"], check=False)

``run`` builds the real argv (``build_argv``, a pure function the unit tests
pin down), runs it and returns a ``Result`` (argv, returncode, stdout,
stderr). With ``check`` (the default) a non-zero exit raises ``CommandError``;
a command that cannot be started or outlives ``timeout`` raises it in either
mode (returncode None), so a caller never sees a subprocess exception.

The argv is built so:

* the program is looked up on PATH and then in the sbin folders (agents run
  from services whose PATH may lack them);
* iptables, ip6tables and their -restore twins get ``-w`` (ebtables
  ``--concurrent``): they wait for the xtables lock instead of failing when
  another process (Docker, a second agent) holds it;
* with ``namespace`` it runs under ``ip netns exec NAMESPACE``.

``run_all`` starts several commands side by side (each reading its stdin
from a file, so they really overlap) and waits for all of them.

Long-lived daemons (dnsmasq, the metadata proxy) are started by
core/agent/external_process.py, which keeps its own process handling but
raises ``CommandError`` too.
"""
import dataclasses
import os
import shlex
import shutil
import subprocess
import tempfile

DEFAULT_TIMEOUT = 60

_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"

# Programs that take the xtables lock, and the option that makes them wait for it.
XTABLES_LOCK_OPTIONS = {
    "iptables": "-w",
    "ip6tables": "-w",
    "iptables-restore": "-w",
    "ip6tables-restore": "-w",
    "ebtables": "--concurrent",
}


class CommandError(RuntimeError):
    """A command failed: exited non-zero (``returncode``), could not start, or timed
    out (``returncode`` None). ``stdout`` and ``stderr`` are kept for the log."""

    def __init__(self, argv, returncode, stdout="", stderr="", reason=None):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout or ""
        self.stderr = stderr or ""
        self.reason = reason
        super().__init__(self._message())

    def _message(self):
        command = shlex.join(self.argv)
        if self.returncode is None:
            return "%s: %s" % (command, self.reason or "did not run")
        detail = (self.stderr or self.stdout).strip()
        return "%s failed (%d): %s" % (command, self.returncode, detail)


@dataclasses.dataclass(frozen=True)
class Result:
    argv: tuple
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self):
        return self.returncode == 0


def which(program):
    """``program`` as found on PATH or in the sbin folders; unchanged when it has a
    slash or is found nowhere (running it then fails with a clear error)."""
    if os.sep in program:
        return program
    return shutil.which(program) or shutil.which(program, path=_SBIN) or program


def xtables_lock_option(program):
    """The option making ``program`` wait for the xtables lock, or None."""
    return XTABLES_LOCK_OPTIONS.get(os.path.basename(program))


def build_argv(argv, namespace=None, xtables_lock=True, resolve=which):
    """The argv ``run`` executes for ``argv`` (see the module docstring)."""
    argv = [str(arg) for arg in argv]
    if not argv:
        raise ValueError("no command given")
    program, args = argv[0], argv[1:]
    lock = xtables_lock_option(program) if xtables_lock else None
    if lock and lock not in args and not (lock == "-w" and "--wait" in args):
        args = [lock] + args
    full = [resolve(program)] + args
    if namespace:
        full = [resolve("ip"), "netns", "exec", namespace] + full
    return full


def run(argv, namespace=None, stdin=None, timeout=DEFAULT_TIMEOUT, check=True, xtables_lock=True):
    """Run ``argv`` and return its Result; raises CommandError (see the module docstring)."""
    full = build_argv(argv, namespace, xtables_lock)
    try:
        completed = subprocess.run(full, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                                   capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise CommandError(full, None, _text(exc.stdout), _text(exc.stderr),
                           reason="timed out after %ss" % timeout) from None
    except OSError as exc:
        raise CommandError(full, None, reason=str(exc)) from None
    result = Result(tuple(full), completed.returncode, completed.stdout, completed.stderr)
    if check and completed.returncode != 0:
        raise error_of(result)
    return result


def run_all(commands, namespace=None, stdins=None, timeout=DEFAULT_TIMEOUT, check=True, xtables_lock=True):
    """Run ``commands`` ({key: argv}) side by side -> {key: Result}.

    ``stdins``: {key: text} for the commands that read input. With ``check``,
    once all have ended, the first failure (in ``commands`` order) is raised.
    """
    stdins = stdins or {}
    started = {}
    try:
        for key, argv in commands.items():
            full = build_argv(argv, namespace, xtables_lock)
            source = subprocess.DEVNULL
            if stdins.get(key) is not None:
                source = tempfile.TemporaryFile("w+")
                source.write(stdins[key])
                source.seek(0)
            try:
                started[key] = (full, subprocess.Popen(full, stdin=source, stdout=subprocess.PIPE,
                                                       stderr=subprocess.PIPE, text=True))
            except OSError as exc:
                raise CommandError(full, None, reason=str(exc)) from None
            finally:
                if source is not subprocess.DEVNULL:
                    source.close()
        results = {}
        for key, (full, process) in started.items():
            try:
                out, err = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                raise CommandError(full, None, out, err, reason="timed out after %ss" % timeout) from None
            results[key] = Result(tuple(full), process.returncode, out, err)
    finally:
        for _full, process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    if check:
        for result in results.values():
            if not result.ok:
                raise error_of(result)
    return results


def error_of(result):
    """The CommandError for a failed Result."""
    return CommandError(result.argv, result.returncode, result.stdout, result.stderr)


def _text(value):
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""

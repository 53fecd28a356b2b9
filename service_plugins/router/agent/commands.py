"""Running a command inside a router's namespace: the one call site for processes.

Everything the data plane runs besides netlink (iptables-save/-restore,
sysctl, conntrack, the GARP sender) goes through ``NamespaceCommands.run``,
which keeps a short history so tests and operators can see what ran.
"""
import collections
import logging
import shutil
import subprocess

LOG = logging.getLogger(__name__)
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


class CommandFailed(RuntimeError):
    def __init__(self, argv, returncode, stderr):
        super().__init__("%s failed (%d): %s" % (" ".join(argv), returncode, (stderr or "").strip()))
        self.argv, self.returncode, self.stderr = argv, returncode, stderr


def which(name):
    return shutil.which(name) or shutil.which(name, path=_SBIN) or name


class NamespaceCommands:
    def __init__(self, history_size=512):
        self.history = collections.deque(maxlen=history_size)     # (namespace, argv, stdin)

    @staticmethod
    def argv(namespace, args):
        args = [which(args[0])] + list(args[1:])
        return [which("ip"), "netns", "exec", namespace] + args if namespace else args

    def run(self, namespace, *args, stdin=None, check=True, timeout=60):
        self.history.append((namespace, list(args), stdin))
        result = subprocess.run(self.argv(namespace, args), input=stdin, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise CommandFailed(list(args), result.returncode, result.stderr)
        return result

    def start(self, namespace, *args):
        """Start a short-lived helper without waiting for it; the caller reaps it."""
        self.history.append((namespace, list(args), None))
        return subprocess.Popen(self.argv(namespace, args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def count(self, program, namespace=None):
        """How many runs of ``program`` the history holds (in ``namespace`` when given)."""
        return sum(1 for ns, args, _stdin in self.history
                   if args and args[0] == program and (namespace is None or ns == namespace))

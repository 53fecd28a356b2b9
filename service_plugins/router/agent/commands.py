"""The router data plane's processes, run through core.agent.commands, with a history.

Everything the data plane runs besides netlink (iptables-save/-restore,
sysctl, conntrack, the GARP sender) goes through ``NamespaceCommands.run``
(core.agent.commands.run in the router's namespace: a failure raises its
CommandError), which keeps a short history so tests and operators can see
what ran.
"""
import collections
import subprocess

from netweave.core.agent import commands

CommandError = commands.CommandError


class NamespaceCommands:
    def __init__(self, history_size=512):
        self.history = collections.deque(maxlen=history_size)     # (namespace, argv, stdin)

    def run(self, namespace, *args, stdin=None, check=True, timeout=commands.DEFAULT_TIMEOUT):
        """core.agent.commands.run of ``args`` in ``namespace`` (None: the agent's own)."""
        self.history.append((namespace, list(args), stdin))
        return commands.run(list(args), namespace=namespace, stdin=stdin, check=check, timeout=timeout)

    def start(self, namespace, *args):
        """Start a short-lived helper without waiting for it; the caller reaps it.
        OSError when it cannot start."""
        self.history.append((namespace, list(args), None))
        return subprocess.Popen(commands.build_argv(list(args), namespace), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def count(self, program, namespace=None):
        """How many runs of ``program`` the history holds (in ``namespace`` when given)."""
        return sum(1 for ns, args, _stdin in self.history
                   if args and args[0] == program and (namespace is None or ns == namespace))

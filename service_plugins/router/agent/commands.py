"""The router data plane's processes, started inside the router's namespace, with a history.

Everything the data plane runs (iptables-save/-restore, conntrack) goes
through ``NamespaceCommands.run``: core.agent.netns.run, which starts the
process from a thread that entered the namespace (no ``ip netns exec``: a
full sync runs one per router) and raises core.agent.commands' CommandError
on failure. It keeps a short history so tests and operators can see what ran.
Sysctls are read and written through /proc/sys (core.agent.netns), not a
process.
"""
import collections

from netweave.core.agent import commands, netns

CommandError = commands.CommandError


class NamespaceCommands:
    def __init__(self, history_size=512):
        self.history = collections.deque(maxlen=history_size)     # (namespace, argv, stdin)

    def run(self, namespace, *args, stdin=None, check=True, timeout=commands.DEFAULT_TIMEOUT):
        """``args`` run in ``namespace`` (None: the agent's own) -> core.agent.commands.Result."""
        self.history.append((namespace, list(args), stdin))
        return netns.run(namespace, list(args), stdin=stdin, check=check, timeout=timeout)

    def count(self, program, namespace=None):
        """How many runs of ``program`` the history holds (in ``namespace`` when given)."""
        return sum(1 for ns, args, _stdin in self.history
                   if args and args[0] == program and (namespace is None or ns == namespace))

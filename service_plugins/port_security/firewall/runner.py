"""Runs the firewall's commands, in a network namespace when one is given.

The agents manage a host namespace in tests (--netns); every command then
runs under ``ip netns exec``, so nothing touches the root namespace's tables.
Commands go through core.agent.commands: iptables and its kin wait for the
xtables lock (-w), and a failure raises its CommandError.
"""
import collections

from netweave.core.agent import commands

# What a failed firewall command raises.
CommandFailed = commands.CommandError

TIMEOUT = 120


class Runner:
    def __init__(self, netns=None):
        self.netns = netns
        self.history = collections.deque(maxlen=256)   # (argv, stdin) of recent commands

    def argv(self, args):
        """The argv that runs ``args`` (namespace, xtables lock and all)."""
        return commands.build_argv(args, self.netns)

    def run(self, *args, stdin=None, check=True):
        self.history.append((list(args), stdin))
        return commands.run(list(args), namespace=self.netns, stdin=stdin, timeout=TIMEOUT, check=check)

    def run_all(self, argvs, stdins=None, check=True):
        """{key: argv} run side by side (stdins: {key: text}) -> {key: commands.Result}."""
        stdins = stdins or {}
        for key, args in argvs.items():
            self.history.append((list(args), stdins.get(key)))
        return commands.run_all(argvs, namespace=self.netns, stdins=stdins, timeout=TIMEOUT, check=check)

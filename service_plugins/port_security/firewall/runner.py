"""Runs the firewall's commands, in a network namespace when one is given.

The agents manage a host namespace in tests (--netns); every command then
runs under ``ip netns exec``, so nothing touches the root namespace's tables.
"""
import collections
import shutil
import subprocess

_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


class CommandFailed(RuntimeError):
    def __init__(self, argv, returncode, stderr):
        super().__init__("%s failed (%d): %s" % (" ".join(argv), returncode, stderr.strip()))
        self.returncode, self.stderr = returncode, stderr


def _which(name):
    return shutil.which(name) or shutil.which(name, path=_SBIN) or name


class Runner:
    def __init__(self, netns=None):
        self.netns = netns
        self.history = collections.deque(maxlen=256)   # (argv, stdin) of recent commands

    def argv(self, args):
        args = [_which(args[0])] + list(args[1:])
        if self.netns:
            return [_which("ip"), "netns", "exec", self.netns] + args
        return args

    def run(self, *args, stdin=None, check=True):
        argv = self.argv(args)
        self.history.append((list(args), stdin))
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise CommandFailed(list(args), result.returncode, result.stderr)
        return result

    def run_parallel(self, commands):
        """{key: argv} run side by side -> {key: (returncode, stdout, stderr)}."""
        started = {}
        for key, args in commands.items():
            self.history.append((list(args), None))
            started[key] = subprocess.Popen(self.argv(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True)
        results = {}
        for key, process in started.items():
            out, err = process.communicate(timeout=120)
            results[key] = (process.returncode, out, err)
        return results

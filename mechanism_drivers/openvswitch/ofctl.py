"""``ovs-ofctl``: dump a bridge's flows, apply flow mods to it in one bundle.

Every command reaches the bridge through ovs-vswitchd's management socket
``<rundir>/<bridge>.mgmt`` (``target``): the ovs-vswitchd whose OVSDB the agent
uses (``[ovs] ovsdb_connection``), which need not be the one of the default run
directory that a bare bridge name would find.
"""
import logging
import os
import tempfile

from netweave.core.agent import commands

LOG = logging.getLogger(__name__)

OFCTL = "ovs-ofctl"

# What a failed ovs-ofctl command raises.
OfctlError = commands.CommandError


class Ofctl:
    """Runs ovs-ofctl. ``writes`` counts the commands that changed a switch,
    ``flow_mods`` the flow mods they carried.

    ``rundir``: the directory of ovs-vswitchd's management sockets; None names
    bridges the way ovs-ofctl does by itself (its default run directory).
    """

    def __init__(self, executable=OFCTL, timeout=60, rundir=None):
        self.executable = executable
        self.timeout = timeout
        self.rundir = rundir
        self.writes = 0
        self.flow_mods = 0
        self.dumps = 0

    def target(self, bridge):
        if self.rundir is None:
            return bridge
        return "unix:%s" % os.path.join(self.rundir, "%s.mgmt" % bridge)

    def _run(self, args):
        argv = [self.executable, "--timeout=%d" % self.timeout] + list(args)
        return commands.run(argv, timeout=self.timeout + 5).stdout

    def dump_flows(self, bridge):
        """Lines of ``ovs-ofctl dump-flows --names`` (OpenFlow 1.0 notation, as in the book)."""
        self.dumps += 1
        out = self._run(["dump-flows", "--names", self.target(bridge)])
        return [line for line in out.splitlines() if " actions=" in line]

    def apply_flow_mods(self, bridge, text):
        """Apply ``text`` (an add-flows file whose lines start with add, modify_strict,
        delete_strict or delete) to the bridge, atomically."""
        self._bundle("add-flows", bridge, text)
        self.flow_mods += sum(1 for line in text.splitlines() if line.strip())

    def _bundle(self, verb, bridge, text):
        fd, path = tempfile.mkstemp(prefix="%s-" % bridge, suffix=".flows")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            self._run(["-O", "OpenFlow13", "--bundle", verb, self.target(bridge), path])
            self.writes += 1
        finally:
            os.unlink(path)

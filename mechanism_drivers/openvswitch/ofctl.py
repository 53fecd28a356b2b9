"""``ovs-ofctl``: dump a bridge's flows, replace them all in one bundle."""
import logging
import os
import tempfile

from netweave.core.agent import commands

LOG = logging.getLogger(__name__)

OFCTL = "ovs-ofctl"

# What a failed ovs-ofctl command raises.
OfctlError = commands.CommandError


class Ofctl:
    """Runs ovs-ofctl. ``writes`` counts the commands that changed a switch."""

    def __init__(self, executable=OFCTL, timeout=60):
        self.executable = executable
        self.timeout = timeout
        self.writes = 0
        self.dumps = 0

    def _run(self, args):
        argv = [self.executable, "--timeout=%d" % self.timeout] + list(args)
        return commands.run(argv, timeout=self.timeout + 5).stdout

    def dump_flows(self, bridge):
        """Lines of ``ovs-ofctl dump-flows --names`` (OpenFlow 1.0 notation, as in the book)."""
        self.dumps += 1
        out = self._run(["dump-flows", "--names", bridge])
        return [line for line in out.splitlines() if " actions=" in line]

    def replace_flows(self, bridge, text):
        """Make ``text`` (a flow file) the bridge's whole flow table, atomically."""
        self._bundle("replace-flows", bridge, text)

    def add_flows(self, bridge, text):
        """Add ``text`` (a flow file) to the bridge's flows, atomically."""
        self._bundle("add-flows", bridge, text)

    def _bundle(self, verb, bridge, text):
        fd, path = tempfile.mkstemp(prefix="%s-" % bridge, suffix=".flows")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            self._run(["-O", "OpenFlow13", "--bundle", verb, bridge, path])
            self.writes += 1
        finally:
            os.unlink(path)

"""The real `openstack` CLI (from the test virtualenv) pointed at one noauth server."""
import json
import os
import subprocess
import sys

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


class Cli:
    def __init__(self, url):
        self.url = url
        # Only this server: no clouds.yaml or OS_* credentials from the environment.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env["OS_CLIENT_CONFIG_FILE"] = os.devnull

    def run(self, *args, check=True):
        command = [OPENSTACK, "--os-auth-type", "none", "--os-endpoint", self.url] + list(args)
        done = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=120)
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

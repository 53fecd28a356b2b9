"""An agent extension that writes each call it gets to the file named by
$NETWEAVE_RECORDER_EXTENSION_LOG, one JSON object a line."""
import json
import os

LOG_ENV = "NETWEAVE_RECORDER_EXTENSION_LOG"


class RecorderExtension:
    def __init__(self):
        self.path = os.environ[LOG_ENV]
        self._passes = 0

    def _record(self, **entry):
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

    def initialize(self, agent_api, driver_type):
        self._record(call="initialize", driver_type=driver_type, host=agent_api.host, netns=agent_api.netns,
                     bridges=dict(agent_api.bridges))

    def before_pass(self, context):
        # Every pass calls it: only the first is written, to keep the log short.
        self._passes += 1
        if self._passes == 1:
            self._record(call="before_pass")

    def handle_port(self, context, details):
        self._record(call="handle_port", details=details)

    def delete_port(self, context, details):
        self._record(call="delete_port", details=details)

"""Port filters: what runs beside an L2 agent's wiring to filter the ports it wires.

Every installed entry point of ``netweave.agent.port_filters`` is one (in tree:
a service plugin's firewall); a filter is turned off by its own options (a noop
firewall driver), as in Neutron, not by being left out. The entry point names a
factory called as

    factory(conf, transport, context, netns) -> filter

and the filter offers:

    wrap(agent) -> agent
        The agent the ReconcileLoop drives instead of ``agent``: its passes
        program the filter before the ports are wired (scan_devices, plan and
        apply as core/agent/loop.py defines them).
    attach(loop)
        The loop, to mark devices dirty when the filter's inputs change.
    create_consumers(transport, host) -> servers with start() and stop()
        The RPC consumers of the server's notifications to the filter.
"""
import logging

from netweave.core import entry_points

LOG = logging.getLogger(__name__)

NAMESPACE = "netweave.agent.port_filters"


def load(conf, transport, context, netns=None):
    """The installed port filters, built for this agent; an entry point that cannot load stops the agent."""
    filters = []
    for entry_point in entry_points.installed(NAMESPACE):
        try:
            factory = entry_point.load()
        except Exception as error:  # noqa: BLE001 - reported with the entry point's name
            raise RuntimeError("cannot load port filter %s: %s" % (entry_points.describe(entry_point), error))
        LOG.info("Port filter: %s", entry_point.name)
        filters.append(factory(conf, transport, context, netns))
    return filters

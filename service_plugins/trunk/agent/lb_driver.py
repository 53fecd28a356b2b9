"""The Linux bridge agent's side of trunks (book chapter 14, B.8).

Each subport is a VLAN sub-interface of the parent's tap, ``tap<subport>``, with the
segmentation id, in the subport network's bridge (lb_plan says which, lb_apply makes
them). When the agent has wired an instance's port (``handle_port``) the driver asks
the server whether it is a trunk's parent (get_trunk_by_port); for a parent it binds
the subports it has not bound yet to this host (update_subport_bindings, which
answers their networks), plans the VLAN children of the tap against ``ip -d link``
and applies the difference. The server sends no trunk notifications, so at the start
of every pass (``before_pass``) it asks again about the parents it knows: subports
added or removed while the instance runs follow. The new tap<subport> devices are
then found by the agent's next scan and reported like any port.

A kernel without VLAN devices (no 8021q, found at start) cannot do any of it: the
agent reports so and the server does not bind trunk parents there; a parent bound
all the same (before the agent said so) makes its trunk ERROR.

Statuses as upstream: ACTIVE (every subport wired), DEGRADED (some could not be:
the next pass retries), ERROR (no VLAN devices here), DOWN (the parent's tap left).
"""
import logging

from netweave.service_plugins.trunk import constants as const
from netweave.service_plugins.trunk.agent import lb_apply, lb_plan

LOG = logging.getLogger(__name__)

INSTANCE_OWNER_PREFIX = "compute:"


def _open_iproute(netns):
    from pyroute2 import IPRoute
    return IPRoute(netns=netns, flags=0) if netns else IPRoute()


class LinuxbridgeTrunkDriver:
    """``trunk_api``: agent.rpc.TrunkApi-shaped; ``netns``: where the agent's devices are;
    ``vlan_devices``: whether the kernel makes VLAN devices."""

    def __init__(self, trunk_api, netns, vlan_devices, open_iproute=_open_iproute, read_children=None,
                 sysctl=None):
        self.api = trunk_api
        self.netns = netns
        self.vlan_devices = vlan_devices
        self.open_iproute = open_iproute
        self.read_children = read_children or (lambda parent: lb_apply.read_children(parent, netns))
        self.sysctl = sysctl or lb_apply.sysctl_in(netns)
        self.parents = {}      # parent port id -> (tap, trunk id)
        self.networks = {}     # trunk id -> {subport id: network id} of the subports this agent bound

    def handle_port(self, context, details):
        if not (details.get("device_owner") or "").startswith(INSTANCE_OWNER_PREFIX):
            return   # trunk parents are instances' ports; subports' devices are ours
        self._sync_parent(context, details["port_id"], details["device"])

    def before_pass(self, context):
        for port_id, (tap, _trunk_id) in sorted(self.parents.items()):
            self._sync_parent(context, port_id, tap)

    def delete_port(self, context, details):
        known = self.parents.pop(details.get("port_id"), None)
        if known is not None:
            # The kernel removed the tap's VLAN children with it.
            self._report(context, {"id": known[1], "status": None}, const.STATUS_DOWN)

    def _sync_parent(self, context, port_id, tap):
        try:
            trunk = self.api.get_trunk_by_port(context, port_id)
        except Exception:  # noqa: BLE001 - asked again at the next pass
            LOG.exception("Could not get the trunk of port %s", port_id)
            return
        if trunk is None:
            self.parents.pop(port_id, None)
            return
        self.parents[port_id] = (tap, trunk["id"])
        if not self.vlan_devices:
            LOG.error("Trunk %s: this kernel has no VLAN devices (8021q), its subports cannot be wired on %s",
                      trunk["id"], tap)
            self._report(context, trunk, const.STATUS_ERROR)
            return
        status = self._bind(context, trunk)
        try:
            self._wire(trunk, tap)
        except Exception:  # noqa: BLE001 - DEGRADED, retried at the next pass
            LOG.exception("Could not wire the subports of trunk %s on %s", trunk["id"], tap)
            status = const.STATUS_DEGRADED
        self._report(context, trunk, status)

    def _bind(self, context, trunk):
        """Bind the subports not bound yet; ACTIVE when all are, else DEGRADED."""
        live = {s["port_id"] for s in trunk[const.SUB_PORTS]}
        # A subport removed from the trunk is forgotten: bound again if it comes back.
        networks = {p: n for p, n in self.networks.get(trunk["id"], {}).items() if p in live}
        new = sorted(live - set(networks))
        if new:
            try:
                answer = self.api.update_subport_bindings(context, [{"port_id": p} for p in new])
            except Exception:  # noqa: BLE001 - asked again at the next pass
                LOG.exception("Could not bind the subports of trunk %s", trunk["id"])
                answer = {}
            for sub in (answer or {}).get(trunk["id"], []):
                if sub["port_id"] in new and sub.get("network_id"):
                    networks[sub["port_id"]] = sub["network_id"]
            trunk["status"] = const.STATUS_BUILD   # what the server set meanwhile
        self.networks[trunk["id"]] = networks
        return const.STATUS_ACTIVE if live <= set(networks) else const.STATUS_DEGRADED

    def _wire(self, trunk, tap):
        wanted = lb_plan.wanted_children(trunk, self.networks.get(trunk["id"], {}))
        ops = lb_plan.plan(tap, wanted, self.read_children(tap))
        if not ops:
            return
        ipr = self.open_iproute(self.netns)
        try:
            # A subport network's bridge the agent has not made yet: it enslaves the device when it wires it.
            ops = [op for op in ops if not (isinstance(op, lb_plan.Enslave) and not ipr.link_lookup(ifname=op.bridge))]
            lb_apply.run(lb_apply.requests(ops), ipr, self.sysctl)
        finally:
            ipr.close()
        LOG.info("Trunk %s on %s: %s", trunk["id"], tap, ", ".join(type(op).__name__ for op in ops))

    def _report(self, context, trunk, status):
        if trunk.get("status") == status:
            return
        try:
            self.api.update_trunk_status(context, trunk["id"], status)
            LOG.info("Trunk %s is %s", trunk["id"], status)
        except Exception:  # noqa: BLE001 - the next pass finds the old status and reports again
            LOG.exception("Could not report trunk %s %s", trunk["id"], status)


"""The Open vSwitch agent's side of trunks, run at the start of every agent pass.

Nova plugs an instance whose port is a trunk's parent into ``tbr-<trunk>``
(its vNIC's external_ids iface-id = the parent port id, see ovs_plan). Each
pass (``sync``):

1. reads the trunk bridges and their vNICs (ovs_apply.read_trunk_bridges);
2. asks the server for the trunk of each vNIC's port (get_trunk_by_port): the
   server sends no trunk notifications, so the agent asks each pass, one call
   per trunk bridge on the host; subports added or removed while the instance
   runs show up at the next pass;
3. binds the subports it has not bound yet to this host
   (update_subport_bindings, which answers their MACs), so the L2 agent gets
   their details when their spi- ports appear;
4. plans (ovs_plan) and applies (ovs_apply, one OVSDB transaction on the
   agent's ovsdb_connection) the patch ports of every trunk, removing the
   ones of trunks and subports that went, and deleting the trunk bridges
   whose vNIC went (the instance was deleted);
5. reports each trunk's status when it changed, as upstream defines them:
   ACTIVE (every subport wired), DEGRADED (some subport could not be bound;
   the next pass retries), ERROR (the switch refused the transaction), DOWN
   (the instance left the trunk bridge).

The same pass of the L2 agent then scans br-int, finds tpi-/spi- by their
iface-id and wires them like any port: the networks' local VLANs.
"""
import logging

from netweave.core import naming
from netweave.service_plugins.trunk import constants as const
from netweave.service_plugins.trunk.agent import ovs_apply, ovs_plan

LOG = logging.getLogger(__name__)


class OvsTrunkDriver:
    """``trunk_api``: agent.rpc.TrunkApi-shaped; ``integration_bridge``: br-int's name;
    ``ovsdb_connection``: the agent's OVSDB (None: ovs-vsctl's default)."""

    def __init__(self, trunk_api, integration_bridge, ovsdb_connection=None, switch=ovs_apply):
        self.api = trunk_api
        self.integration_bridge = integration_bridge
        self.db = ovsdb_connection
        self.switch = switch
        self.macs = {}       # subport id -> MAC, for the subports this agent bound
        self.trunks = {}     # trunk bridge -> trunk id, as the last pass wired them
        self.empty = set()   # trunk bridges the last pass found without a vNIC and kept

    def before_pass(self, context):
        self.sync(context)

    def sync(self, context):
        found = self.switch.read_trunk_bridges(self.db)
        wired, unknown, statuses = {}, set(), {}
        for bridge, vnic in sorted(found.items()):
            if vnic is None:
                continue
            try:
                trunk = self.api.get_trunk_by_port(context, vnic.port_id)
            except Exception:  # noqa: BLE001 - no answer: leave the bridge as it is until the next pass
                LOG.exception("Could not get the trunk of port %s (bridge %s)", vnic.port_id, bridge)
                unknown.add(bridge)
                continue
            if trunk is None or naming.trunk_bridge(trunk["id"]) != bridge:
                continue   # not (or no more) a trunk's parent: its patch ports go
            statuses[trunk["id"]] = self._bind(context, trunk)
            wired[bridge] = (trunk, vnic)
        # Nova (os-vif) adds the trunk bridge and then, in a second transaction, the vNIC:
        # an empty bridge goes once a vNIC we wired left it, or after a whole pass empty.
        empty = {b for b, vnic in found.items() if vnic is None}
        gone = sorted(b for b in empty if b in self.trunks or b in self.empty)
        self.empty = empty - set(gone)
        vanished = {b: t for b, t in self.trunks.items() if b not in wired and b not in unknown}
        desired = {}
        for trunk, vnic in wired.values():
            bound = dict(trunk, sub_ports=[s for s in trunk[const.SUB_PORTS] if s["port_id"] in self.macs])
            desired.update(ovs_plan.desired_ports(bound, vnic.mac, self.macs, self.integration_bridge))
        bridges = {self.integration_bridge} | (set(found) - set(gone))
        current = self.switch.read(bridges, self.db)
        desired = ovs_plan.keep_unknown(desired, current, unknown)
        ops = ovs_plan.plan(desired, current, bridges)
        if ops or gone:
            try:
                self.switch.apply(ops, delete_bridges=gone, db=self.db)
                LOG.info("Trunk ports: %d changes, trunk bridges removed: %s", len(ops), gone or "none")
            except Exception:  # noqa: BLE001 - reported as ERROR, tried again next pass
                LOG.exception("Could not change the trunk ports")
                statuses = dict.fromkeys(statuses, const.STATUS_ERROR)
        self._prune_macs(wired.values(), unknown)
        for trunk, _vnic in wired.values():
            self._report(context, trunk, statuses[trunk["id"]])
        for trunk_id in vanished.values():
            self._report(context, {"id": trunk_id, "status": None}, const.STATUS_DOWN)
        self.trunks = {b: t for b, t in self.trunks.items() if b in unknown}
        self.trunks.update({b: t["id"] for b, (t, _v) in wired.items()})

    def handle_port(self, context, details):
        """Nothing: trunk ports are found on the switch (``sync``), not through ports' details."""

    def delete_port(self, context, details):
        """Nothing: a trunk bridge losing its vNIC is what ``sync`` acts on."""

    def _bind(self, context, trunk):
        """Bind the trunk's subports this agent has not bound yet; ACTIVE when all are, else DEGRADED."""
        new = [s for s in trunk[const.SUB_PORTS] if s["port_id"] not in self.macs]
        if new:
            wanted = {s["port_id"] for s in new}
            try:
                answer = self.api.update_subport_bindings(context, [{"port_id": p} for p in sorted(wanted)])
            except Exception:  # noqa: BLE001 - the next pass asks again
                LOG.exception("Could not bind the subports of trunk %s", trunk["id"])
                answer = {}
            for sub in (answer or {}).get(trunk["id"], []):
                if sub["port_id"] in wanted and sub.get("mac_address"):
                    self.macs[sub["port_id"]] = sub["mac_address"]
            trunk["status"] = const.STATUS_BUILD   # what the server set meanwhile
        missing = [s["port_id"] for s in trunk[const.SUB_PORTS] if s["port_id"] not in self.macs]
        if missing:
            LOG.warning("Trunk %s: subports %s not bound to this host yet", trunk["id"], ", ".join(missing))
            return const.STATUS_DEGRADED
        return const.STATUS_ACTIVE

    def _prune_macs(self, wired, unknown):
        if unknown:
            return   # a trunk the server did not describe may still own some
        live = {s["port_id"] for trunk, _vnic in wired for s in trunk[const.SUB_PORTS]}
        # A subport removed and added again must be bound again.
        self.macs = {p: mac for p, mac in self.macs.items() if p in live}

    def _report(self, context, trunk, status):
        """Tell the server ``status`` unless the trunk, as fetched this pass, has it already."""
        if trunk.get("status") == status:
            return
        try:
            self.api.update_trunk_status(context, trunk["id"], status)
            LOG.info("Trunk %s is %s", trunk["id"], status)
        except Exception:  # noqa: BLE001 - the next pass finds the old status and reports again
            LOG.exception("Could not report trunk %s %s", trunk["id"], status)

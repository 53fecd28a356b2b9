"""The Linux bridge agent: taps on this host -> plan -> kernel -> which ports are up.

The agent is driven by the reconciler loop of netweave.core.agent.loop, which
owns the conversation with the server (device details, up/down reports) and
calls, once per pass:

  scan_devices()          one netlink snapshot of the host (raw rtnetlink dumps,
                          core.agent.rtnetlink); returns its taps
  plan(desired, actual)   pure with respect to the kernel: the desired layout
                          from the server's details, diffed against the
                          snapshot -> operations (none when all is right)
  apply(plan)             runs them over one netlink socket, then brings the
                          ARP/MAC anti-spoofing of the wired taps in line
                          (``arp_protect``, whatever the firewall driver),
                          and returns a core.agent.loop.Outcome: devices up,
                          down, failed

l2population messages (``fdb_add``, ``fdb_remove``, ``fdb_update``) and
``network_delete`` only record what the server said; the next pass plans and
applies it, so every kernel change goes through the same plan/apply path.
"""
import dataclasses
import logging
import os
import threading

from netweave.core.agent import loop as agent_loop
from netweave.core.agent import netns as netns_mod
from netweave.core.agent import rtnetlink
from netweave.mechanism_drivers.linuxbridge import applier as applier_mod
from netweave.mechanism_drivers.linuxbridge import arp_protect, constants, desired, fdb, kernel_state, planner
from netweave.mechanism_drivers.linuxbridge import capabilities as caps_mod
from netweave.mechanism_drivers.linuxbridge import operations as ops

LOG = logging.getLogger(__name__)

FDB_ADD, FDB_REMOVE, FDB_UPDATE = "add", "remove", "update"


@dataclasses.dataclass(frozen=True)
class AgentPlan:
    state: kernel_state.KernelState
    layout: desired.Layout
    plan: planner.Plan
    fdb_operations: tuple
    fdb_messages: int           # queued l2population messages this plan covers
    changed: frozenset          # devices whose details the server just sent
    protected: dict             # wired tap -> its details, for arp_protect

    @property
    def operations(self):
        return tuple(self.plan.operations) + tuple(self.fdb_operations)

    @property
    def errors(self):
        return self.plan.errors

    def __len__(self):
        return len(self.operations)


@dataclasses.dataclass
class PassResult:
    """What the last apply() did, for logs, tests and measurements."""

    applied: applier_mod.ApplyResult
    outcome: agent_loop.Outcome
    errors: dict

    @property
    def ok(self):
        return self.applied.ok


class LinuxbridgeAgent:
    """Wires this host's taps into per-network bridges.

    ``settings``: config.AgentSettings. ``capabilities``: what the kernel can do
    (capabilities.detect(), as start-up does; everything by default). ``ipr``: a
    pyroute2 IPRoute to write with, or ``netns`` to open one in that network
    namespace; an IPRoute the agent opened, it closes. The kernel is read through
    a raw rtnetlink socket the agent opens in ``netns`` (the process's own
    namespace when None) and closes. ``arp_protection``: an
    arp_protect.ArpProtection (by default one for ``netns``).
    """

    def __init__(self, settings, capabilities=None, ipr=None, netns=None, arp_protection=None):
        self.settings = settings
        self.arp_protection = arp_protection or arp_protect.ArpProtection(netns)
        self.capabilities = capabilities or caps_mod.ALL
        self._owns_ipr = ipr is None
        if ipr is None:
            from pyroute2 import IPRoute
            ipr = IPRoute(netns=netns, flags=0) if netns else IPRoute()
        self.ipr = ipr
        with netns_mod.entered(netns):
            self.reader = rtnetlink.Reader()
        self._lock = threading.RLock()
        self._scanned = None
        self._segments = {}         # network_id -> {"network_type", "segment_id"} of wired networks
        self._not_up = set()        # devices last reported down (admin down, cannot be wired)
        self._doomed = set()        # networks deleted on the server
        self._fdb_queue = []        # (FDB_ADD/REMOVE/UPDATE, payload) not applied yet
        self.fdb_table = fdb.FdbTable()
        self.last_plan = None
        self.last_pass = None

    # --- the reconciler's three calls ------------------------------------------------

    def scan_devices(self):
        """{tap name: kernel_state.Link} of the taps on the host; the whole snapshot is kept for plan()."""
        with self._lock:
            state = kernel_state.read(self.reader)
            self._scanned = state
            return {name: state.link(name) for name in state.taps()}

    def plan(self, desired_state, actual=None):
        """An AgentPlan for ``desired_state`` (core.agent.loop.DesiredState) on the scanned host."""
        with self._lock:
            state = self._scanned if self._scanned is not None else kernel_state.read(self.reader)
            present = set(actual) if actual is not None else set(state.taps())
            details = [d for device, d in sorted(desired_state.devices.items())
                       if device in present and d.get("port_id")]
            vtep = state.device_with_address(self.settings.local_ip) if self.settings.local_ip else None
            layout = desired.compute(details, self.settings, self.capabilities, vtep)
            link_plan = planner.plan(layout, state, self._doomed)
            segments = self._segments_of(layout)
            queued = list(self._fdb_queue)
            fdb_operations = self._plan_fdb(state, queued, segments)
            wired = layout.taps()
            protected = {device: desired_state.devices[device] for device in wired
                         if device in desired_state.devices}
            self.last_plan = AgentPlan(state=state, layout=layout, plan=link_plan,
                                       fdb_operations=fdb_operations, fdb_messages=len(queued),
                                       changed=frozenset(desired_state.changed), protected=protected)
            return self.last_plan

    def apply(self, agent_plan):
        """Carry ``agent_plan`` out; returns the Outcome the loop reports to the server."""
        with self._lock:
            runner = applier_mod.Applier(self.ipr)
            state = agent_plan.state
            result = runner.apply(agent_plan.plan.operations,
                                  known_indexes={link.name: link.index for link in state.links.values()})
            segments = self._segments_of(agent_plan.layout)
            queued = self._fdb_queue[:agent_plan.fdb_messages]
            fdb_wanted = self.settings.l2_population and (queued or len(self.fdb_table))
            if fdb_wanted and any(op.action in (ops.CREATE_VXLAN, ops.DELETE_LINK) for op in result.done):
                # Devices came or went: plan the FDB against the kernel as it is now.
                fresh = kernel_state.read(self.reader)
                fdb_operations = self._plan_fdb(fresh, queued, segments)
                indexes = {link.name: link.index for link in fresh.links.values()}
            else:
                fdb_operations, indexes = agent_plan.fdb_operations, None
            if fdb_operations:
                result = result + runner.apply(fdb_operations, known_indexes=indexes)
            del self._fdb_queue[:agent_plan.fdb_messages]
            self._segments = segments
            # Before any port is reported up; a failure raises and the loop tries again.
            self.arp_protection.apply(agent_plan.protected)
            for op, message in result.failed:
                LOG.error("Could not %s: %s", op, message)
            for device, message in sorted(agent_plan.errors.items()):
                LOG.error("Port %s cannot be wired: %s", device, message)
            if result.ok:
                self._doomed.clear()
            outcome = self._outcome(agent_plan, result)
            self.last_pass = PassResult(applied=result, outcome=outcome, errors=dict(agent_plan.errors))
            return outcome

    def _outcome(self, agent_plan, result):
        layout = agent_plan.layout
        failed_networks = result.failed_networks()
        wired = layout.taps()
        failed = sorted(device for device, net in wired.items() if net.network_id in failed_networks)
        not_up = (set(layout.released) | set(agent_plan.errors)) & set(agent_plan.state.taps())
        changed = agent_plan.changed
        up = sorted(device for device in wired
                    if device not in failed and (device in changed or device in self._not_up))
        down = sorted(device for device in not_up if device in changed or device not in self._not_up)
        self._not_up = not_up
        return agent_loop.Outcome(devices_up=up, devices_down=down, failed=failed)

    def close(self):
        self.reader.close()
        if self._owns_ipr:
            self.ipr.close()

    # --- l2population -----------------------------------------------------------------

    def _segments_of(self, layout):
        segments = dict(self._segments)
        for net in layout.networks.values():
            segments[net.network_id] = {"network_type": net.network_type, "segment_id": net.segmentation_id}
        return segments

    def _plan_fdb(self, state, queued, segments):
        """Operations for the queued messages, then whatever of the table the kernel lacks."""
        if not self.settings.l2_population:
            return ()
        local_ip, arp = self.settings.local_ip, self.settings.arp_responder
        planned = []
        for kind, payload in queued:
            projected = fdb.project(state, planned)
            if kind == FDB_REMOVE:
                planned.extend(fdb.plan_remove(payload, local_ip, projected, segments))
            elif kind == FDB_UPDATE:
                planned.extend(fdb.plan_update(payload, local_ip, arp, projected, segments))
        planned.extend(fdb.plan_add(self.fdb_table.payload(), local_ip, arp, fdb.project(state, planned),
                                    segments))
        return tuple(planned)

    def fdb_add(self, fdb_entries):
        with self._lock:
            self.fdb_table.add(fdb_entries)
            self._fdb_queue.append((FDB_ADD, fdb_entries))

    def fdb_remove(self, fdb_entries):
        with self._lock:
            self.fdb_table.remove(fdb_entries)
            self._fdb_queue.append((FDB_REMOVE, fdb_entries))

    def fdb_update(self, fdb_entries):
        with self._lock:
            self.fdb_table.update(fdb_entries)
            self._fdb_queue.append((FDB_UPDATE, fdb_entries))

    # --- other notifications -------------------------------------------------------------

    def network_delete(self, network_id):
        """The network is gone: its bridge is deleted on the next pass even if taps remain."""
        with self._lock:
            self._doomed.add(network_id)
            self.fdb_table.drop_network(network_id)

    # --- what the state reporter sends ---------------------------------------------------

    def configurations(self):
        vxlan = self.settings.vxlan_enabled and self.capabilities.vxlan
        devices = len(self.last_plan.layout.taps()) if self.last_plan else 0
        return {
            "interface_mappings": self.settings.interfaces,
            "bridge_mappings": self.settings.bridges,
            "tunnel_types": list(constants.TUNNEL_TYPES) if vxlan else [],
            "tunneling_ip": self.settings.local_ip if vxlan else None,
            "l2_population": bool(self.settings.l2_population),
            "arp_responder_enabled": bool(self.settings.l2_population and self.settings.arp_responder),
            # Trunks need VLAN sub-interfaces of the parent's tap (the server binds no trunk parent here without).
            constants.TRUNK_VLAN_DEVICES: bool(self.capabilities.vlan),
            "devices": devices,
        }

    def agent_state(self, host, topic):
        """The agent_state of a heartbeat (core.agent.state_reporter asks for it every time)."""
        return {"agent_type": constants.AGENT_TYPE, "binary": constants.AGENT_BINARY, "host": host,
                "topic": topic, "configurations": self.configurations()}

    def agent_id(self):
        """'lb' + the MAC (without colons) of the first mapped NIC, else of the VTEP's device."""
        with self._lock:
            state = kernel_state.read(self.reader)
            candidates = [nic for _physnet, nic in self.settings.interface_mappings]
            if self.settings.local_ip:
                candidates.append(state.device_with_address(self.settings.local_ip))
            for name in candidates:
                if name and state.link(name):
                    mac = _mac_of(self.ipr, name)
                    if mac:
                        return "lb" + mac.replace(":", "")
            return "lb" + os.uname().nodename


def _mac_of(ipr, name):
    try:
        return ipr.link("get", ifname=name)[0].get_attr("IFLA_ADDRESS")
    except Exception:  # noqa: BLE001
        return None

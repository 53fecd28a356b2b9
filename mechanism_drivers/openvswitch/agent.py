"""The Open vSwitch L2 agent: ports on br-int -> plan -> switch -> which ports are up.

The agent is driven by the reconciler loop of netweave.core.agent.loop, which
owns the conversation with the server (device details, up/down reports); the
devices are the port ids the hypervisor writes into external_ids:iface-id of
the integration bridge's ports (tap<id[:11]> or qvo<id[:11]>). Once per pass
the loop calls:

  scan_devices()          one OVSDB snapshot; returns {port id: OVS port name}
                          of the ports ovs-vswitchd has opened
  plan(desired, actual)   the host's desired state (``desired``) from the
                          server's details, the l2population entries and the
                          tunnel endpoints, diffed (``planner``) against the
                          snapshot and the bridges' flows -> an AgentPlan.
                          Reads only: tunnel_sync with the server on a full
                          pass, flow dumps
  apply(plan)             one OVSDB transaction and one flow bundle per
                          changed bridge, holding only the flow mods of the
                          difference (``applier``); returns a
                          core.agent.loop.Outcome: ports up, down, failed

The agent's flows carry its cookie for each bridge (``flows.agent_cookie``,
derived from the host and bridge names, so the same after a restart); the
planner modifies and deletes only flows with that cookie, so learned flows and
other programs' flows survive every pass and every restart.

A pass over a host that already matches writes nothing. Between full passes
a bridge's flows are dumped only when the desired table changed since the
last pass. Server notifications (rpc.OVSNotifications) only record what
changed here (``fdb_add``, ``tunnel_update``, ...) or in the loop
(``mark_dirty``) and wake the loop.

Restart with l2_population: the first pass reads the l2population entries
back from the tunnel bridge (``recovery``) and plans with them, on top of
what the server sends, for ``fdb_recovery_grace`` seconds: long enough for
the server to resend its entries after the ports are reported up, so
tunnels that carry traffic are never torn down and rebuilt.
"""
import copy
import dataclasses
import logging
import socket
import threading
import time

from netweave.core.agent import loop as agent_loop
from netweave.core.rpc import topics
from netweave.mechanism_drivers.openvswitch import applier as applier_mod
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import desired as desired_mod
from netweave.mechanism_drivers.openvswitch import flows as flows_mod
from netweave.mechanism_drivers.openvswitch import ofctl as ofctl_mod
from netweave.mechanism_drivers.openvswitch import ovsdb_state, planner, recovery

LOG = logging.getLogger(__name__)

UP, DOWN = "up", "down"


@dataclasses.dataclass
class SyncResult:
    """What the last apply() did, for logs, tests and measurements."""
    full: bool
    devices: int
    plan: dict
    ovsdb_ops: int
    ovsdb_transactions: int
    flow_bridges: tuple
    flow_mods: int
    flow_dumps: int
    reported_up: tuple
    reported_down: tuple
    seconds: dict

    @property
    def changed(self):
        return bool(self.ovsdb_ops or self.flow_bridges)


@dataclasses.dataclass(frozen=True)
class AgentPlan:
    """One pass's plan: the switch operations plus what apply() needs to report them."""
    full: bool
    devices: dict             # port id -> OVS port name, as scanned
    desired: desired_mod.DesiredState
    operations: planner.Plan
    canonical_flows: dict     # bridge -> canonical desired table with the agent's cookie (to skip the next dump)
    changed: frozenset        # ports whose details the server just sent
    removed: frozenset        # ports gone from the switch since the last pass
    flow_dumps: int
    started: float
    planned: float
    seconds: dict


def _merge_fdb(target, entries, add):
    """Add (or remove) l2population entries {net: {"ports": {ip: [[mac, ip], ...]}}} in ``target``."""
    for network_id, value in (entries or {}).items():
        ports = (value or {}).get("ports") or {}
        net = target.setdefault(network_id, {"ports": {}})
        for key in ("network_type", "segment_id"):
            if key in (value or {}):
                net[key] = value[key]
        for remote_ip, pairs in ports.items():
            current = [tuple(p) for p in net["ports"].get(remote_ip, [])]
            for pair in pairs or []:
                pair = tuple(pair) if not isinstance(pair, dict) else (
                    pair.get("mac_address"), pair.get("ip_address"))
                if add and pair not in current:
                    current.append(pair)
                elif not add and pair in current:
                    current.remove(pair)
            if current:
                net["ports"][remote_ip] = [list(p) for p in current]
            else:
                net["ports"].pop(remote_ip, None)
        if not net["ports"]:
            target.pop(network_id, None)


class OVSAgent:
    """Wires the ports on this host's integration bridge.

    ``config``: config.AgentConfig. ``client``: a core.agent.plugin_client.PluginClient
    (the agent asks it only for tunnel endpoints; the loop makes the other calls).
    ``api``: an ovsdb_state connection (made here when None); ``own_api``: whether
    ``close`` disconnects it (default: only when made here).
    """

    def __init__(self, config, client, api=None, ofctl=None, host=None, own_api=None):
        self.config = config
        self.client = client
        self._own_api = (api is None) if own_api is None else own_api
        self.api = api if api is not None else ovsdb_state.connect(
            config.ovsdb_connection, config.ovsdb_timeout)
        self.ofctl = ofctl or ofctl_mod.Ofctl(rundir=config.of_rundir)
        self.applier = applier_mod.Applier(self.api, self.ofctl)
        self.host = host or socket.gethostname()
        self._cookies = {}           # bridge -> the agent's cookie there
        self._lock = threading.RLock()       # state the notifications change
        self._snapshot = None
        self._scanned = None         # (start, end) of the last scan, monotonic
        self.fdb = {}                # l2population entries
        self.tunnel_endpoints = {}   # tunnel type -> {remote ip}
        self.local_vlans = {}        # network id -> local VLAN of the last pass
        self.reported = {}           # port id -> UP / DOWN as last told to the server
        self._applied_flows = {}     # bridge -> canonical flows installed by the last pass
        self._tunnels_synced = not config.tunnelling
        self.fdb_recovery_grace = config.fdb_recovery_grace
        self.recovered_fdb = None    # entries read back on the first pass (None: not read yet)
        self._recovery_ends = None   # monotonic time after which they are dropped
        self.last_plan = None
        self.last_result = None

    # -- state for the server ------------------------------------------------

    def state_report(self):
        """Body of the periodic report_state heartbeat."""
        configurations = self.config.agent_configurations()
        configurations["devices"] = sum(1 for s in self.reported.values() if s == UP)
        return {"binary": c.AGENT_BINARY, "host": self.host, "topic": topics.AGENT,
                "agent_type": c.AGENT_TYPE, "configurations": configurations}

    def cookie(self, bridge):
        """The cookie of this agent's flows on ``bridge``."""
        if bridge not in self._cookies:
            self._cookies[bridge] = flows_mod.agent_cookie(self.host, bridge)
        return self._cookies[bridge]

    def bridges(self):
        """The switch bridges this agent manages, by role (for agent extensions)."""
        bridges = {"integration": self.config.integration_bridge}
        if self.config.tunnelling:
            bridges["tunnel"] = self.config.tunnel_bridge
        return bridges

    # -- what notifications record (the loop is woken by the caller) ----------

    def network_delete(self, network_id):
        with self._lock:
            self.fdb.pop(network_id, None)

    def tunnel_update(self, tunnel_ip, tunnel_type):
        """True when the endpoint is new to this agent."""
        if tunnel_ip == self.config.local_ip or tunnel_type not in self.config.tunnel_types:
            return False
        with self._lock:
            known = self.tunnel_endpoints.setdefault(tunnel_type, set())
            new = tunnel_ip not in known
            known.add(tunnel_ip)
            return new

    def tunnel_delete(self, tunnel_ip, tunnel_type):
        with self._lock:
            self.tunnel_endpoints.get(tunnel_type, set()).discard(tunnel_ip)

    def fdb_add(self, fdb_entries):
        with self._lock:
            _merge_fdb(self.fdb, fdb_entries, add=True)

    def fdb_remove(self, fdb_entries):
        with self._lock:
            _merge_fdb(self.fdb, fdb_entries, add=False)
            if self.recovered_fdb:
                _merge_fdb(self.recovered_fdb, fdb_entries, add=False)

    def fdb_update(self, fdb_entries):
        """l2population's ``chg_ip``: {"chg_ip": {net: {remote_ip: {"before": [...], "after": [...]}}}}."""
        changes = (fdb_entries or {}).get("chg_ip") or {}
        with self._lock:
            for network_id, by_ip in changes.items():
                for remote_ip, change in (by_ip or {}).items():
                    _merge_fdb(self.fdb, {network_id: {"ports": {remote_ip: change.get("before") or []}}},
                               add=False)
                    _merge_fdb(self.fdb, {network_id: {"ports": {remote_ip: change.get("after") or []}}},
                               add=True)

    # -- the reconciler's three calls -------------------------------------------

    def scan_devices(self):
        """{port id: OVS port name} of the ports on the integration bridge ovs-vswitchd has opened."""
        started = time.monotonic()
        snapshot = ovsdb_state.read_snapshot(self.api)
        self._snapshot = snapshot
        self._scanned = (started, time.monotonic())
        found = {}
        for name, iface_id, iface in snapshot.iface_ports(self.config.integration_bridge):
            if not iface.ofport or iface.ofport < 0:
                continue  # ovs-vswitchd has not opened it (yet)
            found.setdefault(iface_id, name)
        return found

    def plan(self, desired_state, actual):
        """An AgentPlan for ``desired_state`` (core.agent.loop.DesiredState) on the scanned switch."""
        started = time.monotonic()
        if self._snapshot is None:
            self.scan_devices()
        snapshot = self._snapshot
        scan_started, scan_ended = self._scanned
        full = desired_state.full
        if not self._tunnels_synced or (full and self.config.tunnelling):
            self._sync_tunnels()
        with self._lock:
            fdb = copy.deepcopy(self.fdb)
            endpoints = {k: sorted(v) for k, v in self.tunnel_endpoints.items()}
        t_rpc = time.monotonic()
        local_ports = []
        for device, name in actual.items():
            details = desired_state.devices.get(device)
            if details is not None and not details.get("network_id"):
                details = None
            local_ports.append(desired_mod.LocalPort(name=name, device=device, details=details))
        existing_vlans = self._existing_vlans(snapshot)
        dumped, dumps = {}, 0
        if self.recovered_fdb is None:
            dumps += self._recover_fdb(snapshot, existing_vlans, dumped)
        fdb = self._planning_fdb(fdb)
        want = desired_mod.build(self.config, local_ports, existing_vlans, fdb, endpoints)

        cookies = {bridge: self.cookie(bridge) for bridge in want.flows}
        canonical = {bridge: flows_mod.owned_table(wanted, cookies[bridge]) for bridge, wanted in want.flows.items()}
        for bridge in want.flows:
            if bridge not in snapshot.bridges or bridge in dumped:
                continue
            if not full and self._applied_flows.get(bridge) == canonical[bridge]:
                dumped[bridge] = canonical[bridge]  # unchanged since we installed it
                continue
            try:
                dumped[bridge] = self.ofctl.dump_flows(bridge)
                dumps += 1
            except ofctl_mod.OfctlError as exc:
                LOG.warning("Could not dump flows of %s, replacing those with cookie %#x: %s",
                            bridge, cookies[bridge], exc)
        operations = planner.plan(self.config, want, snapshot, dumped, cookies)
        planned = time.monotonic()
        self.last_plan = AgentPlan(
            full=full, devices=dict(actual), desired=want, operations=operations, canonical_flows=canonical,
            changed=frozenset(desired_state.changed), removed=frozenset(desired_state.removed),
            flow_dumps=dumps, started=scan_started, planned=planned,
            seconds={"read": scan_ended - scan_started, "details": started - scan_ended,
                     "tunnels": t_rpc - started, "plan": planned - t_rpc})
        return self.last_plan

    def apply(self, agent_plan):
        """Carry ``agent_plan`` out; returns the Outcome the loop reports to the server."""
        started = time.monotonic()
        try:
            result = self.applier.apply(agent_plan.operations)
        except Exception:
            self._applied_flows.clear()
            raise
        self._applied_flows.update(agent_plan.canonical_flows)
        self.local_vlans = dict(agent_plan.desired.local_vlans)
        outcome, went_down = self._outcome(agent_plan)
        ended = time.monotonic()
        if self._recovery_ends is None:
            self._recovery_ends = ended + self.fdb_recovery_grace
        seconds = dict(agent_plan.seconds, apply=ended - started, total=ended - agent_plan.started)
        self.last_result = SyncResult(
            full=agent_plan.full, devices=len(agent_plan.devices), plan=agent_plan.operations.summary(),
            ovsdb_ops=result.ovsdb_ops, ovsdb_transactions=result.ovsdb_transactions,
            flow_bridges=result.flow_bridges, flow_mods=result.flow_mods, flow_dumps=agent_plan.flow_dumps,
            reported_up=tuple(outcome.devices_up), reported_down=tuple(sorted(outcome.devices_down + went_down)),
            seconds=seconds)
        if result.ovsdb_ops or result.flow_bridges:
            LOG.info("Wired %d ports: %s", len(agent_plan.devices), agent_plan.operations.summary())
        if agent_plan.full:
            LOG.info("Full pass over %d ports in %.3fs: %d OVSDB operations, %d flow mods on %s (%s)",
                     len(agent_plan.devices), seconds["total"], result.ovsdb_ops, result.flow_mods,
                     list(result.flow_bridges) or "no bridge",
                     ", ".join("%s %.3fs" % kv for kv in seconds.items() if kv[0] != "total"))
        return outcome

    def _outcome(self, agent_plan):
        """Ports to report: those whose state changed, and every port whose details were
        just asked for (asking marks a port BUILD on the server, so it is confirmed
        again). Also returns the ports that left the switch while up (the loop reports them)."""
        up, down = [], []
        for spec in agent_plan.desired.vm_ports.values():
            if spec.status == "dead":
                continue
            state = UP if spec.status == "up" else DOWN
            if self.reported.get(spec.device) != state or spec.device in agent_plan.changed:
                (up if state == UP else down).append(spec.device)
                self.reported[spec.device] = state
        went_down = [d for d in agent_plan.removed if self.reported.get(d) == UP]
        for device in [d for d in self.reported if d not in agent_plan.devices]:
            del self.reported[device]
        return agent_loop.Outcome(devices_up=sorted(up), devices_down=sorted(down)), went_down

    # -- helpers of a pass ----------------------------------------------------

    def _sync_tunnels(self):
        endpoints = {kind: self.client.tunnel_sync(self.config.local_ip, kind) for kind in self.config.tunnel_types}
        with self._lock:
            for kind, ips in endpoints.items():
                self.tunnel_endpoints.setdefault(kind, set()).update(ips)
        self._tunnels_synced = True

    def _existing_vlans(self, snapshot):
        vlans = desired_mod.recover_local_vlans(snapshot.vlan_rows(self.config.integration_bridge))
        taken = set(vlans.values())
        for net, vlan in self.local_vlans.items():
            if net not in vlans and vlan not in taken:
                vlans[net] = vlan
                taken.add(vlan)
        return vlans

    def _recover_fdb(self, snapshot, existing_vlans, dumped):
        """Read l2population entries back from the tunnel bridge (first pass only); returns the dumps made."""
        self.recovered_fdb = {}
        tun = self.config.tunnel_bridge
        if not (self.config.l2_population and self.config.tunnelling and tun in snapshot.bridges):
            return 0
        try:
            dumped[tun] = self.ofctl.dump_flows(tun)
        except ofctl_mod.OfctlError as exc:
            LOG.warning("Could not read %s back, its l2population entries come from the server only: %s",
                        tun, exc)
            return 0
        remotes = {}
        for name in snapshot.bridges[tun].ports:
            iface = snapshot.interface_of(name)
            if iface is not None and iface.type in c.TUNNEL_TYPES and iface.options.get("remote_ip"):
                remotes[name] = iface.options["remote_ip"]
        recovered = recovery.recover_fdb(dumped[tun], remotes, existing_vlans)
        with self._lock:
            self.recovered_fdb = recovered
        if recovered:
            LOG.info("Kept the l2population entries of %d networks found on %s until the server resends them",
                     len(recovered), tun)
        return 1

    def _planning_fdb(self, fdb):
        """The server's entries, plus the recovered ones while they are still kept."""
        with self._lock:
            if not self.recovered_fdb:
                return fdb
            if self._recovery_ends is not None and time.monotonic() >= self._recovery_ends:
                LOG.info("Dropping the l2population entries recovered at start; the server's remain")
                self.recovered_fdb = {}
                return fdb
            return recovery.merge(fdb, self.recovered_fdb)

    def close(self):
        if self._own_api:
            ovsdb_state.disconnect(self.api)

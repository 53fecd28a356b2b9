"""The Open vSwitch L2 agent: find ports on br-int, wire them, report them.

One pass (``sync``):
  1. read OVSDB (``ovsdb_state``) and find the integration bridge's ports whose
     external_ids:iface-id names a port (the hypervisor plugs them: tap<id[:11]>
     or qvo<id[:11]>, internal or veth, with iface-id, attached-mac, iface-status);
  2. ask the server for the details of ports it has not described yet;
  3. compute the host's desired state (``desired``), diff it (``planner``),
     apply the difference (``applier``);
  4. report ports up or down.

A pass over a host that already matches writes nothing. Between full passes
(the first, after an error, on request, and every resync_interval) a bridge's
flows are dumped only when the desired table changed since the last pass.
Server notifications (``port_update``, ``fdb_add``, ...) only record what
changed and wake the loop.

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

from netweave.core.rpc import topics
from netweave.mechanism_drivers.openvswitch import applier as applier_mod
from netweave.mechanism_drivers.openvswitch import constants as c
from netweave.mechanism_drivers.openvswitch import desired as desired_mod
from netweave.mechanism_drivers.openvswitch import flows as flows_mod
from netweave.mechanism_drivers.openvswitch import ofctl as ofctl_mod
from netweave.mechanism_drivers.openvswitch import ovsdb_state, planner, recovery

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class SyncResult:
    full: bool
    devices: int
    plan: dict
    ovsdb_ops: int
    ovsdb_transactions: int
    flow_bridges: tuple
    flow_dumps: int
    reported_up: tuple
    reported_down: tuple
    seconds: dict

    @property
    def changed(self):
        return bool(self.ovsdb_ops or self.flow_bridges)


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
    def __init__(self, config, client, api=None, ofctl=None, host=None, own_api=None):
        """``api``: an ovsdb_state connection (made here when None); ``own_api``: whether
        ``close`` disconnects it (default: only when made here)."""
        self.config = config
        self.client = client
        self._own_api = (api is None) if own_api is None else own_api
        self.api = api if api is not None else ovsdb_state.connect(
            config.ovsdb_connection, config.ovsdb_timeout)
        self.ofctl = ofctl or ofctl_mod.Ofctl()
        self.applier = applier_mod.Applier(self.api, self.ofctl)
        self.host = host or socket.gethostname()
        self._lock = threading.RLock()       # state the notifications change
        self._pass_lock = threading.Lock()   # one pass at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.details = {}            # port id -> details from the server
        self.fdb = {}                # l2population entries
        self.tunnel_endpoints = {}   # tunnel type -> {remote ip}
        self.local_vlans = {}        # network id -> local VLAN of the last pass
        self.reported = {}           # port id -> "up" / "down" as last told to the server
        self._applied_flows = {}     # bridge -> canonical flows installed by the last pass
        self._updated = set()
        self._resync = True
        self._tunnels_synced = not config.tunnelling
        self.fdb_recovery_grace = config.fdb_recovery_grace
        self.recovered_fdb = None    # entries read back on the first pass (None: not read yet)
        self._recovery_ends = None   # monotonic time after which they are dropped
        self.last_result = None
        self.firewall = None         # port_security agent_rpc.SecurityGroupAgent (iptables_hybrid)

    # -- state for the server ------------------------------------------------

    def state_report(self):
        """Body of the periodic report_state heartbeat."""
        configurations = self.config.agent_configurations()
        configurations["devices"] = sum(1 for s in self.reported.values() if s == "up")
        return {"binary": c.AGENT_BINARY, "host": self.host, "topic": topics.AGENT,
                "agent_type": c.AGENT_TYPE, "configurations": configurations}

    # -- notifications from the server ---------------------------------------

    def port_update(self, port_id, **_kwargs):
        with self._lock:
            self._updated.add(port_id)
        self._wake.set()

    def port_delete(self, port_id, **_kwargs):
        with self._lock:
            self.details.pop(port_id, None)
            self._updated.add(port_id)
        self._wake.set()

    def network_update(self, network_id, **_kwargs):
        with self._lock:
            for port_id, details in self.details.items():
                if details.get("network_id") == network_id:
                    self._updated.add(port_id)
        self._wake.set()

    def network_delete(self, network_id, **_kwargs):
        with self._lock:
            for port_id, details in list(self.details.items()):
                if details.get("network_id") == network_id:
                    self._updated.add(port_id)
            self.fdb.pop(network_id, None)
        self._wake.set()

    def tunnel_update(self, tunnel_ip, tunnel_type, **_kwargs):
        if tunnel_ip == self.config.local_ip or tunnel_type not in self.config.tunnel_types:
            return
        with self._lock:
            self.tunnel_endpoints.setdefault(tunnel_type, set()).add(tunnel_ip)
        self._wake.set()

    def tunnel_delete(self, tunnel_ip, tunnel_type, **_kwargs):
        with self._lock:
            self.tunnel_endpoints.get(tunnel_type, set()).discard(tunnel_ip)
        self._wake.set()

    def fdb_add(self, fdb_entries, **_kwargs):
        with self._lock:
            _merge_fdb(self.fdb, fdb_entries, add=True)
        self._wake.set()

    def fdb_remove(self, fdb_entries, **_kwargs):
        with self._lock:
            _merge_fdb(self.fdb, fdb_entries, add=False)
            if self.recovered_fdb:
                _merge_fdb(self.recovered_fdb, fdb_entries, add=False)
        self._wake.set()

    def fdb_update(self, fdb_entries, **_kwargs):
        """l2population's ``chg_ip``: {"chg_ip": {net: {remote_ip: {"before": [...], "after": [...]}}}}."""
        changes = (fdb_entries or {}).get("chg_ip") or {}
        with self._lock:
            for network_id, by_ip in changes.items():
                for remote_ip, change in (by_ip or {}).items():
                    _merge_fdb(self.fdb, {network_id: {"ports": {remote_ip: change.get("before") or []}}},
                               add=False)
                    _merge_fdb(self.fdb, {network_id: {"ports": {remote_ip: change.get("after") or []}}},
                               add=True)
        self._wake.set()

    def request_resync(self):
        with self._lock:
            self._resync = True
        self._wake.set()

    # -- one pass ------------------------------------------------------------

    def _sync_tunnels(self):
        endpoints = {}
        for kind in self.config.tunnel_types:
            reply = self.client.tunnel_sync(self.config.local_ip, kind) or {}
            endpoints[kind] = {t["ip_address"] for t in reply.get("tunnels", [])
                               if t.get("ip_address") and t["ip_address"] != self.config.local_ip}
        for kind, ips in endpoints.items():
            self.tunnel_endpoints.setdefault(kind, set()).update(ips)
        self._tunnels_synced = True

    def _scan(self, snapshot):
        """{port id: OVS port name} of wired-up-able ports on the integration bridge."""
        found = {}
        for name, iface_id, iface in snapshot.iface_ports(self.config.integration_bridge):
            if not iface.ofport or iface.ofport < 0:
                continue  # ovs-vswitchd has not opened it (yet)
            found.setdefault(iface_id, name)
        return found

    def _existing_vlans(self, snapshot):
        vlans = desired_mod.recover_local_vlans(snapshot.vlan_rows(self.config.integration_bridge))
        taken = set(vlans.values())
        for net, vlan in self.local_vlans.items():
            if net not in vlans and vlan not in taken:
                vlans[net] = vlan
                taken.add(vlan)
        return vlans

    def sync(self, full=False):
        """One pass; passes never overlap. Notifications may arrive meanwhile: they
        only touch the notification state, which the pass copies at its start."""
        with self._pass_lock:
            with self._lock:
                full = full or self._resync
                self._resync = False
                updated, self._updated = self._updated, set()
                fdb = copy.deepcopy(self.fdb)
            try:
                return self._sync(full, updated, fdb)
            except Exception:
                with self._lock:
                    self._resync = True
                    self._updated |= updated
                raise

    def _sync(self, full, updated, fdb):
        t0 = time.monotonic()
        if not self._tunnels_synced or (full and self.config.tunnelling):
            self._sync_tunnels()
        snapshot = ovsdb_state.read_snapshot(self.api)
        devices = self._scan(snapshot)
        t_read = time.monotonic()

        with self._lock:
            ask = sorted(d for d in devices if full or d not in self.details or d in updated)
        fetched = self.client.get_devices_details_list(ask) if ask else []
        with self._lock:
            for details in fetched or []:
                if details.get("device"):
                    self.details[details["device"]] = details
            for gone in set(self.details) - set(devices):
                del self.details[gone]
            known = dict(self.details)
            endpoints = {k: sorted(v) for k, v in self.tunnel_endpoints.items()}
        if self.firewall is not None:   # the ports' filters first (iptables_hybrid), then the wiring
            self.firewall.sync(present={d for d, v in known.items() if v.get("network_id")},
                               changed={v["device"] for v in fetched or [] if v.get("device")}, full=full)
        t_rpc = time.monotonic()

        local_ports = []
        for device, name in devices.items():
            details = known.get(device)
            if details is not None and not details.get("network_id"):
                details = None
            local_ports.append(desired_mod.LocalPort(name=name, device=device, details=details))
        existing_vlans = self._existing_vlans(snapshot)
        dumped, dumps = {}, 0
        if self.recovered_fdb is None:
            dumps += self._recover_fdb(snapshot, existing_vlans, dumped)
        fdb = self._planning_fdb(fdb)
        want = desired_mod.build(self.config, local_ports, existing_vlans, fdb, endpoints)

        canonical = {bridge: flows_mod.canonical_table(wanted) for bridge, wanted in want.flows.items()}
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
                LOG.warning("Could not dump flows of %s, replacing them: %s", bridge, exc)
        plan = planner.plan(self.config, want, snapshot, dumped)
        t_plan = time.monotonic()

        try:
            result = self.applier.apply(plan)
        except Exception:
            self._applied_flows.clear()
            raise
        self._applied_flows.update(canonical)
        self.local_vlans = dict(want.local_vlans)
        t_apply = time.monotonic()

        up, down = self._report(want, devices, refreshed={d.get("device") for d in fetched or []})
        t_end = time.monotonic()
        if self._recovery_ends is None:
            self._recovery_ends = t_end + self.fdb_recovery_grace
        self.last_result = SyncResult(
            full=full, devices=len(devices), plan=plan.summary(), ovsdb_ops=result.ovsdb_ops,
            ovsdb_transactions=result.ovsdb_transactions, flow_bridges=result.flow_bridges,
            flow_dumps=dumps, reported_up=tuple(up), reported_down=tuple(down),
            seconds={"read": t_read - t0, "details": t_rpc - t_read, "plan": t_plan - t_rpc,
                     "apply": t_apply - t_plan, "report": t_end - t_apply, "total": t_end - t0})
        if result.ovsdb_ops or result.flow_bridges:
            LOG.info("Wired %d ports: %s", len(devices), plan.summary())
        return self.last_result

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

    def _report(self, want, devices, refreshed=()):
        """Tell the server which ports changed state. Asking for a port's details marks it BUILD
        on the server, so every port in ``refreshed`` is reported again, changed or not."""
        up, down = [], []
        for spec in want.vm_ports.values():
            if spec.status == "dead":
                continue
            state = "up" if spec.status == "up" else "down"
            if self.reported.get(spec.device) != state or spec.device in refreshed:
                (up if state == "up" else down).append(spec.device)
        for device, state in list(self.reported.items()):
            if device not in devices and state == "up":
                down.append(device)
        up, down = sorted(up), sorted(down)
        failed = set()
        batch = getattr(self.client, "update_device_list", None)
        if batch is not None and (up or down):
            failed = set(batch(up, down) or ())  # one call for all; returns the failed devices
        else:
            for device in up:
                self.client.update_device_up(device)
            for device in down:
                self.client.update_device_down(device)
        for device in up:
            if device not in failed:
                self.reported[device] = "up"
        for device in down:
            if device not in failed:
                self.reported[device] = "down"
        for device in [d for d in self.reported if d not in devices]:
            del self.reported[device]
        return [d for d in up if d not in failed], [d for d in down if d not in failed]

    # -- the loop ------------------------------------------------------------

    def run(self, polling_interval=2, resync_interval=300):
        """Pass after pass until ``stop``; a failed pass makes the next one full."""
        last_full = None
        while not self._stop.is_set():
            now = time.monotonic()
            periodic = last_full is None or (resync_interval and now - last_full >= resync_interval)
            self._wake.clear()  # what arrives during the pass wakes the next one at once
            try:
                result = self.sync(full=bool(periodic))
                if result.full:
                    last_full = now
                    LOG.info("Full pass over %d ports in %.3fs: %d OVSDB operations, flows replaced on %s (%s)",
                             result.devices, result.seconds["total"], result.ovsdb_ops,
                             list(result.flow_bridges) or "no bridge",
                             ", ".join("%s %.3fs" % kv for kv in result.seconds.items() if kv[0] != "total"))
            except Exception:  # noqa: BLE001 - keep the agent alive; sync made the next pass full
                LOG.exception("Pass over the switch failed; the next one is a full resync")
                self._stop.wait(polling_interval)
                continue
            self._wake.wait(polling_interval)

    def stop(self):
        self._stop.set()
        self._wake.set()

    def close(self):
        self.stop()
        if self._own_api:
            ovsdb_state.disconnect(self.api)

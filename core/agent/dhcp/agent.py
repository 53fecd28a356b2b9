"""The DHCP agent's reconciler: the networks scheduled here, served by dnsmasq.

One thread runs passes; everything else only queues work for it:

* a *full* pass asks the server for every network of this host
  (get_active_networks_info), serves each (``num_sync_threads`` at a time),
  and tears down whatever is served here but no longer scheduled (dnsmasq,
  port, namespace). It runs when core.agent.resync says: at start, every
  [agent] resync_interval seconds, after a failed pass, and when the state
  reporter says notifications may have been lost;
* between them, the server's casts (``DhcpNotifications``) are applied: a
  port event edits the cached network and rewrites only its files (dnsmasq
  gets SIGHUP); subnet and network events fetch that network again
  (get_network_info); network_delete_end tears it down.

After each pass the ports dnsmasq now serves are reported in one
dhcp_ready_on_ports call (the server then lifts their "DHCP" provisioning
block); a port is reported again when its addresses change.
"""
import collections
import concurrent.futures
import logging
import threading
import time

from netweave.core.agent import resync
from netweave.core.agent.dhcp import dnsmasq
from netweave.core.agent.dhcp import rpc as dhcp_rpc
from netweave.core.rpc import topics

LOG = logging.getLogger(__name__)

BINARY = "netweave-dhcp-agent"

PORT_UPSERT, PORT_DELETE, REFETCH, NETWORK_DELETE = "port", "port_delete", "refetch", "network_delete"


class DhcpAgent:
    def __init__(self, settings, host, plugin_api, context, driver, num_sync_threads=4, resync_interval=300,
                 error_resync_delay=5, availability_zone="nova", clock=time.monotonic):
        self.settings = settings
        self.host = host
        self.plugin_api = plugin_api
        self.context = context
        self.driver = driver
        self.num_sync_threads = max(1, num_sync_threads)
        self.schedule = resync.ResyncSchedule(resync_interval, error_resync_delay, clock=clock)
        self.availability_zone = availability_zone
        self.networks = {}          # network id -> network info as served
        self.reported = {}          # port id -> addresses when reported ready
        self.pending_ready = set()
        self.passes = 0
        self.last_error = None
        self._events = collections.deque()
        self._lock = threading.Lock()

    # --- from other threads -----------------------------------------------------------

    def queue(self, kind, network_id, data=None):
        if not network_id:
            return
        with self._lock:
            self._events.append((kind, network_id, data))
        self.schedule.wake()

    def request_resync(self, reason="requested"):
        self.schedule.request_resync(reason)

    def stop(self):
        self.schedule.stop()

    def agent_state(self):
        """The heartbeat's agent_state, as the contract gives it."""
        networks = list(self.networks.values())
        return {
            "agent_type": topics.AGENT_TYPE_DHCP,
            "binary": BINARY,
            "host": self.host,
            "topic": topics.DHCP_AGENT,
            "availability_zone": self.availability_zone,
            "configurations": {
                "dhcp_driver": "dnsmasq",
                "dhcp_lease_duration": self.settings.dhcp_lease_duration,
                "networks": len(networks),
                "subnets": sum(len(dnsmasq.dhcp_subnets(n)) for n in networks),
                "ports": sum(len(n.get("ports") or ()) for n in networks),
                "log_agent_heartbeats": False,
            },
        }

    # --- passes -----------------------------------------------------------------------------

    def _take_events(self):
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def run_once(self):
        """One pass; True when it completed. A failed pass makes the next one full."""
        reason = self.schedule.take_full_reason()
        events = self._take_events()  # a full pass serves what they say too
        clock = self.schedule.clock
        started = clock()
        try:
            if reason is not None:
                self.sync_all()
                self.schedule.full_done(started)
                LOG.info("Full sync (%s) of %d networks done in %.2fs", reason, len(self.networks),
                         clock() - started)
            else:
                self._apply_events(events)
            self._report_ready()
        except Exception as error:  # noqa: BLE001 - whatever failed, a full sync repairs it
            LOG.exception("DHCP agent pass failed; resyncing fully")
            self.last_error = error
            self.schedule.failed()
            return False
        self.last_error = None
        self.passes += 1
        return True

    def sync_all(self):
        infos = self.plugin_api.get_active_networks_info(self.context, self.host) or []
        wanted = {info["id"]: info for info in infos if dnsmasq.needs_dhcp(info)}
        stale = (set(self.networks) | set(self.driver.known_networks())) - set(wanted)
        for network_id in sorted(stale):
            self.disable_network(network_id)
        failures = []
        with concurrent.futures.ThreadPoolExecutor(self.num_sync_threads, thread_name_prefix="dhcp-sync") as pool:
            futures = {pool.submit(self.enable_network, info, True): network_id
                       for network_id, info in wanted.items()}
            for future in concurrent.futures.as_completed(futures):
                try:
                    future.result()
                except Exception as error:  # noqa: BLE001 - serve the others, then fail the pass
                    LOG.exception("Serving network %s failed", futures[future])
                    failures.append((futures[future], error))
        if failures:
            raise RuntimeError("%d networks could not be served: %s" % (
                len(failures), ", ".join(network_id for network_id, _ in failures)))

    def _apply_events(self, events):
        refetch, local = [], []
        for kind, network_id, data in events:
            if kind == NETWORK_DELETE:
                self.disable_network(network_id)
                refetch = [n for n in refetch if n != network_id]
                local = [n for n in local if n != network_id]
            elif kind == REFETCH:
                if network_id not in refetch:
                    refetch.append(network_id)
            elif network_id in self.networks:
                ports = [p for p in self.networks[network_id].get("ports") or () if p["id"] != data["id"]]
                if kind == PORT_UPSERT:
                    ports.append(data)
                else:
                    self.reported.pop(data["id"], None)
                self.networks[network_id] = dict(self.networks[network_id], ports=ports)
                if network_id not in local:
                    local.append(network_id)
        for network_id in refetch:
            info = self.plugin_api.get_network_info(self.context, network_id, self.host)
            if info is None:
                self.disable_network(network_id)
            else:
                self.enable_network(info, False)
        for network_id in local:
            if network_id not in refetch and network_id in self.networks:
                self.enable_network(self.networks[network_id], False)

    # --- one network ---------------------------------------------------------------------------

    def device_id(self, network_id):
        return dhcp_rpc.dhcp_device_id(self.host, network_id)

    def enable_network(self, info, check_devices):
        network_id = info["id"]
        if not dnsmasq.needs_dhcp(info):
            if network_id in self.networks or network_id in self.driver.known_networks():
                self.disable_network(network_id)
            return None
        dhcp_port = self._ensure_dhcp_port(info)
        if dhcp_port is None:
            LOG.info("Network %s is gone from the server", network_id)
            self.disable_network(network_id)
            return None
        ports = [p for p in info.get("ports") or () if p["id"] != dhcp_port["id"]] + [dhcp_port]
        info = dict(info, ports=ports)
        result = self.driver.serve(info, dhcp_port, check_devices=check_devices)
        self.networks[network_id] = info
        self._queue_ready(info)
        return result

    def _ensure_dhcp_port(self, info):
        """This agent's port on the network, created or given the missing subnets through RPC."""
        network_id = info["id"]
        device_id = self.device_id(network_id)
        wanted = [s["id"] for s in dnsmasq.dhcp_subnets(info)]
        existing = next((p for p in info.get("ports") or ()
                         if p.get("device_id") == device_id and p.get("device_owner") == dhcp_rpc.DHCP_DEVICE_OWNER),
                        None)
        if existing is not None:
            have = [f for f in existing.get("fixed_ips") or () if f["subnet_id"] in wanted]
            missing = [s for s in wanted if s not in {f["subnet_id"] for f in have}]
            if not missing and len(have) == len(existing.get("fixed_ips") or ()):
                return existing
            fixed_ips = [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in have]
            fixed_ips += [{"subnet_id": s} for s in missing]
            LOG.info("DHCP port %s of network %s gets addresses on %s", existing["id"], network_id,
                     ", ".join(missing) or "its DHCP subnets only")
            return self.plugin_api.update_dhcp_port(self.context, existing["id"],
                                                    {"port": {"fixed_ips": fixed_ips}}, self.host)
        port = {"port": {"network_id": network_id, "device_id": device_id,
                         "device_owner": dhcp_rpc.DHCP_DEVICE_OWNER, "name": "", "admin_state_up": True,
                         "project_id": info.get("project_id"), "tenant_id": info.get("project_id"),
                         "fixed_ips": [{"subnet_id": s} for s in wanted]}}
        LOG.info("Creating the DHCP port of network %s", network_id)
        return self.plugin_api.create_dhcp_port(self.context, port, self.host)

    def disable_network(self, network_id):
        self.driver.teardown(network_id)
        info = self.networks.pop(network_id, None)
        for port in (info or {}).get("ports") or ():
            self.reported.pop(port["id"], None)
        try:
            self.plugin_api.release_dhcp_port(self.context, network_id, self.device_id(network_id), self.host)
        except Exception:  # noqa: BLE001 - the port is released again at the next sync if need be
            LOG.warning("Could not release the DHCP port of network %s", network_id, exc_info=True)

    # --- provisioning --------------------------------------------------------------------------

    def _queue_ready(self, info):
        enabled = {s["id"] for s in dnsmasq.dhcp_subnets(info)}
        served = set(dnsmasq.served_ports(info))
        for port in info.get("ports") or ():
            if port["id"] not in served:
                continue
            addresses = frozenset((f["subnet_id"], f["ip_address"]) for f in port.get("fixed_ips") or ()
                                  if f["subnet_id"] in enabled)
            if self.reported.get(port["id"]) != addresses:
                self.reported[port["id"]] = addresses
                self.pending_ready.add(port["id"])

    def _report_ready(self):
        if not self.pending_ready:
            return
        batch = sorted(self.pending_ready)
        self.plugin_api.dhcp_ready_on_ports(self.context, batch)
        self.pending_ready.difference_update(batch)
        LOG.debug("DHCP ready on %d ports", len(batch))

    # --- running -----------------------------------------------------------------------------------

    def run(self):
        self.schedule.run(self.run_once)


class DhcpNotifications:
    """The server's casts on Target(topic="dhcp_agent", server=host): queue work and return."""

    def __init__(self, agent):
        self.agent = agent

    def network_create_end(self, context, payload=None, **_kwargs):
        self.agent.queue(REFETCH, ((payload or {}).get("network") or {}).get("id"))

    def network_update_end(self, context, payload=None, **_kwargs):
        self.agent.queue(REFETCH, ((payload or {}).get("network") or {}).get("id"))

    def network_delete_end(self, context, payload=None, **_kwargs):
        self.agent.queue(NETWORK_DELETE, (payload or {}).get("network_id"))

    def subnet_create_end(self, context, payload=None, **_kwargs):
        self.agent.queue(REFETCH, ((payload or {}).get("subnet") or {}).get("network_id"))

    subnet_update_end = subnet_create_end

    def subnet_delete_end(self, context, payload=None, **_kwargs):
        self.agent.queue(REFETCH, (payload or {}).get("network_id"))

    def port_create_end(self, context, payload=None, **_kwargs):
        port = (payload or {}).get("port") or {}
        self.agent.queue(PORT_UPSERT, port.get("network_id"), port)

    port_update_end = port_create_end

    def port_delete_end(self, context, payload=None, **_kwargs):
        payload = payload or {}
        self.agent.queue(PORT_DELETE, payload.get("network_id"), {"id": payload.get("port_id")})

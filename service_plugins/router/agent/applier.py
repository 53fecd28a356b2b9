"""Turns router descriptions into qrouter- namespaces: read, plan, apply in batches.

One ``apply(router)`` pass:

1. read the namespace: links, addresses and routes over one raw rtnetlink socket,
   the sysctls from /proc/sys and the tables with one ``iptables-save`` (the
   socket, the files and the process all opened by the applying thread from
   inside the namespace: core.agent.netns);
2. plan devices (namespace_plan.plan); create the namespace, unplug devices no
   longer described, plug missing ones and plug again those whose MAC, MTU or
   state drifted, all through the interface driver; when that changed
   anything, read the namespace again and plan once more;
3. apply the netlink changes (addresses, routes) over one pyroute2 socket, and
   the changed sysctls through /proc/sys;
4. diff the nat/mangle/filter tables (iptables_rules.render against what
   iptables-save showed) and run one ``iptables-restore --noflush`` per changed
   table;
5. cut the conntrack flows of floating IPs whose mapping changed or went;
6. send gratuitous ARP for IPv4 addresses newly on qg-;
7. with enable_metadata_proxy and a metadata proxy given, make sure its haproxy
   runs in the namespace on metadata_port (the REDIRECT target);
8. with radvd processes given, plan the router's radvd (radvd.render, radvd.plan:
   start, reload, stop or leave it) and carry that out.

Equal inputs give a pass that writes nothing: no plug, no netlink request, no
sysctl write, no iptables-restore, no radvd signal (the ``ApplyReport`` counts
each). A failure of one step is recorded in the report and the rest still run;
the next pass plans it again from the kernel's state.

``remove(router_id)`` stops the metadata proxy and radvd, unplugs the router's devices
(their host sides go too) and deletes the namespace. ``sync(descriptions)`` applies every described,
admin-up router and removes the namespaces of routers served before that are
no longer described.
"""
import collections
import concurrent.futures
import dataclasses
import ipaddress
import logging
import os
import socket
import threading

# Imported with the agent, not by the first pass with a change to make: importing pyroute2 takes
# a good part of a second, which a floating IP association would otherwise wait for.
import pyroute2

from netweave.core import naming
from netweave.core.agent import interface, iptables_restore, netns, rtnetlink
from netweave.core.agent.metadata import proxy as metadata_proxy_mod
from netweave.service_plugins.router.agent import commands as commands_mod
from netweave.service_plugins.router.agent import (
    conntrack,
    garp,
    iptables_rules,
    kernel_state,
    namespace_plan,
    radvd,
    router_info,
)

LOG = logging.getLogger(__name__)

NETNS_DIR = "/run/netns"
# Routers a full sync applies side by side.
SYNC_WORKERS = 4
FIP_ACTIVE, FIP_DOWN, FIP_ERROR = "ACTIVE", "DOWN", "ERROR"


@dataclasses.dataclass
class ApplyReport:
    router_id: str
    namespace_created: bool = False
    namespace_removed: bool = False
    plugged: list = dataclasses.field(default_factory=list)
    repaired: list = dataclasses.field(default_factory=list)       # plugged again: MAC, MTU or state
    unplugged: list = dataclasses.field(default_factory=list)
    netlink_writes: int = 0
    sysctl_writes: int = 0
    restored_tables: list = dataclasses.field(default_factory=list)
    conntrack_cut: list = dataclasses.field(default_factory=list)      # floating IPs
    announced: list = dataclasses.field(default_factory=list)          # [(device, ip)] gratuitous ARP
    radvd: str = radvd.NONE                                            # what was done to the router's radvd
    errors: list = dataclasses.field(default_factory=list)
    floating_ip_statuses: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self):
        return not self.errors

    @property
    def changed(self):
        return bool(self.namespace_created or self.namespace_removed or self.plugged or self.repaired
                    or self.unplugged
                    or self.netlink_writes or self.sysctl_writes or self.restored_tables or self.conntrack_cut
                    or self.radvd != radvd.NONE)


def namespace_exists(namespace):
    return os.path.exists(os.path.join(NETNS_DIR, namespace))


def _open_netlink(namespace):
    """A pyroute2 socket opened by this thread inside ``namespace`` (no helper process forked)."""
    with netns.entered(namespace):
        return pyroute2.IPRoute()


def _open_reader(namespace):
    """A raw rtnetlink socket for the dumps, opened by this thread inside ``namespace``."""
    with netns.entered(namespace):
        return rtnetlink.Reader()


class RouterApplier:
    """Applies routers on this host.

    ``plugging``: interfaces.RouterPlugging; ``settings``: settings.DataplaneSettings;
    ``commands``: commands.NamespaceCommands (a fresh one by default);
    ``open_netlink(namespace)``: a pyroute2 IPRoute in that namespace;
    ``metadata_proxy``: a core.agent.metadata.proxy.NamespaceProxy, or None to run none;
    ``radvd_processes``: a radvd_process.RadvdProcesses, or None to run no radvd;
    ``sync_workers``: how many routers a full sync applies side by side. Any method may be
    called from several threads: a router is applied by one thread at a time.
    """

    def __init__(self, plugging, settings, commands=None, open_netlink=_open_netlink, garp_count=None,
                 metadata_proxy=None, sync_workers=SYNC_WORKERS, radvd_processes=None):
        self.plugging = plugging
        self.settings = settings
        self.metadata_proxy = metadata_proxy
        self.radvd_processes = radvd_processes
        self.commands = commands or commands_mod.NamespaceCommands()
        self.open_netlink = open_netlink
        self.garp_count = settings.send_arp_for_ha if garp_count is None else garp_count
        self.served = set()             # router ids whose namespace this applier made or kept
        self._helpers = []              # running GARP senders
        self._helpers_lock = threading.Lock()
        # One lock per router: routers are applied side by side (a full sync's workers), one
        # router never by two threads at once.
        self._router_locks = collections.defaultdict(threading.RLock)
        self._router_locks_lock = threading.Lock()
        self.sync_workers = max(1, sync_workers)

    def _router_lock(self, router_id):
        with self._router_locks_lock:
            return self._router_locks[router_id]

    # --- reading ----------------------------------------------------------------------------

    def read_state(self, namespace, sysctl_keys, netlink):
        """The NamespaceState of ``namespace``; ``netlink``: the pass's NetlinkSession."""
        if not namespace_exists(namespace):
            return kernel_state.ABSENT
        links, addresses, routes = kernel_state.read_netlink(netlink.reader())
        sysctls = netns.read_sysctls(namespace, sorted(sysctl_keys))
        return kernel_state.NamespaceState(exists=True, links=links, addresses=addresses, routes=routes,
                                           sysctls=sysctls)

    def read_tables(self, namespace):
        """{table: TableState} of the L3 agent's chains in ``namespace``."""
        result = self.commands.run(namespace, "iptables-save")
        targets = set(iptables_rules.chain(name) for table in iptables_rules.TABLES
                      for name in iptables_rules.WRAPPED_CHAINS[table])
        targets |= {iptables_rules.POSTROUTING_BOTTOM, iptables_rules.FILTER_TOP}
        return {table: iptables_restore.parse_save(result.stdout, table, iptables_rules.owns, targets)
                for table in iptables_rules.TABLES}

    # --- applying ---------------------------------------------------------------------------

    def apply(self, router):
        """Bring ``router``'s namespace (a router_info.Router) to its description."""
        with self._router_lock(router.id):
            self._reap_helpers()
            report = ApplyReport(router_id=router.id)
            spec = namespace_plan.desired(router, self.settings)
            namespace = spec.namespace
            netlink = NetlinkSession(self.open_netlink, namespace)
            try:
                state = self.read_state(namespace, spec.sysctls, netlink)
                plan = namespace_plan.plan(spec, state)
                if plan.devices_change:
                    self._apply_devices(plan, namespace, report)
                    state = self.read_state(namespace, spec.sysctls, netlink)
                    plan = namespace_plan.plan(spec, state)
                self.served.add(router.id)
                self._apply_netlink(plan, state, netlink, report)
            finally:
                netlink.close()
            self._apply_sysctls(plan, namespace, report)
            applied_fips = self._apply_tables(router, namespace, report)
            gateway_device = naming.router_gateway_device(router.gateway.id) if router.gateway else None
            self._announce(garp.announcements(plan.address_additions, gateway_device), namespace, report)
            self._floating_ip_statuses(router, plan, applied_fips, report)
            self._metadata(router.id, namespace, report)
            self._radvd(router, report)
            if report.errors:
                LOG.warning("Router %s applied with errors: %s", router.id, "; ".join(report.errors))
            return report

    def _apply_devices(self, plan, namespace, report):
        if plan.create_namespace:
            interface.ensure_namespace(namespace)
            report.namespace_created = True
        for name in plan.unplug:
            try:
                self.plugging.unplug_device(name, namespace)
                report.unplugged.append(name)
            except Exception as error:  # noqa: BLE001 - recorded; planned again next pass
                report.errors.append("unplug %s: %s" % (name, error))
        for devices, done in ((plan.plug, report.plugged), (plan.repair, report.repaired)):
            for device in devices:
                try:
                    self.plugging.plug(device, namespace)
                    done.append(device.name)
                except Exception as error:  # noqa: BLE001 - recorded; planned again next pass
                    report.errors.append("plug %s: %s" % (device.name, error))

    @staticmethod
    def _apply_netlink(plan, state, netlink, report):
        """The address and route changes, one request each over the pass's socket; devices by
        the index the read found."""
        if not plan.netlink_writes:
            return
        ipr = netlink.socket()

        def index(name):
            link = state.links.get(name)
            if link is None:
                raise LookupError("device %s does not exist" % name)
            return link.index

        requests = [("addr del %s dev %s" % (cidr, device), _address_request(ipr, "del", device, cidr, index))
                    for device, cidr in plan.address_removals]
        requests += [("addr add %s dev %s" % (cidr, device), _address_request(ipr, "add", device, cidr, index))
                     for device, cidr in plan.address_additions]
        requests += [("route del %s" % route.destination, _route_request(ipr, "del", route, index))
                     for route in plan.route_removals]
        requests += [("route replace %s via %s" % (route.destination, route.gateway),
                      _route_request(ipr, "replace", route, index)) for route in plan.route_additions]
        for what, request in requests:
            try:
                request()
                report.netlink_writes += 1
            except Exception as error:  # noqa: BLE001 - recorded; planned again next pass
                report.errors.append("%s: %s" % (what, error))

    def _apply_sysctls(self, plan, namespace, report):
        if not plan.sysctls:
            return
        failed = netns.write_sysctls(namespace, dict(sorted(plan.sysctls.items())))
        report.sysctl_writes += len(plan.sysctls) - len(failed)
        for key, error in failed:
            report.errors.append("sysctl %s: %s" % (key, error))

    def _apply_tables(self, router, namespace, report):
        """Restore the changed tables; returns the floating IP map now in force ({fip: fixed}),
        or None when the nat table could not be written."""
        tables = iptables_rules.render(router, self.settings)
        try:
            current = self.read_tables(namespace)
        except commands_mod.CommandError as error:
            report.errors.append(str(error))
            return None
        previous_fips = iptables_rules.floating_ip_map(current[iptables_rules.NAT].chains)
        nat_ok = True
        for table in iptables_rules.TABLES:
            lines = iptables_restore.table_restore(table, current[table], tables.chains[table], tables.hooks[table])
            if not lines:
                continue
            try:
                self.commands.run(namespace, "iptables-restore", "--noflush", stdin="\n".join(lines) + "\n")
                report.restored_tables.append(table)
            except commands_mod.CommandError as error:
                report.errors.append(str(error))
                nat_ok = nat_ok and table != iptables_rules.NAT
        if not nat_ok:
            return None
        in_force = iptables_rules.floating_ip_map(tables.chains[iptables_rules.NAT])
        self._cut_flows(conntrack.flows_to_cut(previous_fips, in_force), namespace, report)
        return in_force

    def _cut_flows(self, floating_ips, namespace, report):
        """All deletions through one shell in the namespace; conntrack exits 1 when nothing matched."""
        if not floating_ips:
            return
        script = "; ".join(" ".join(argv) + " >/dev/null 2>&1" for argv in conntrack.delete_commands(floating_ips))
        self.commands.run(namespace, "sh", "-c", script + "; exit 0", check=False)
        report.conntrack_cut += floating_ips

    def _announce(self, announcements, namespace, report):
        if not self.garp_count:
            return
        by_device = {}
        for device, address in announcements:
            by_device.setdefault(device, []).append(address)
        for device, addresses in sorted(by_device.items()):
            try:
                helper = garp.Sender(namespace, device, addresses, self.garp_count)
                helper.start()
                with self._helpers_lock:
                    self._helpers.append(helper)
                report.announced += [(device, address) for address in addresses]
            except RuntimeError as error:    # no thread could be started
                report.errors.append("gratuitous ARP for %s: %s" % (", ".join(addresses), error))

    def _metadata(self, router_id, namespace, report):
        if self.metadata_proxy is None:
            return
        try:
            if self.settings.enable_metadata_proxy:
                self.metadata_proxy.spawn(namespace, router_id, kind=metadata_proxy_mod.KIND_ROUTER,
                                          port=self.settings.metadata_port)
            elif self.metadata_proxy.active(router_id):
                self.metadata_proxy.stop(router_id)
        except Exception as error:  # noqa: BLE001 - recorded; tried again next pass
            report.errors.append("metadata proxy: %s" % error)

    def _radvd(self, router, report):
        if self.radvd_processes is None:
            return
        desired = radvd.render(router, self.settings)
        try:
            action = radvd.plan(desired, self.radvd_processes.state(router.id))
            report.radvd = self.radvd_processes.carry_out(router.id, action, desired)
        except Exception as error:  # noqa: BLE001 - recorded; planned again next pass
            report.errors.append("radvd: %s" % error)

    @staticmethod
    def _floating_ip_statuses(router, plan, applied_fips, report):
        """ACTIVE when qg- exists, the /32 went onto it and the nat table maps it; ERROR
        otherwise; DOWN for described floating IPs that are not associated."""
        unplugged = {device.name for device in plan.plug}
        gateway_device = naming.router_gateway_device(router.gateway.id) if router.gateway else None
        for fip in router.associated_floating_ips():
            cidr = "%s/32" % fip.floating_ip_address
            addressed = gateway_device is not None and gateway_device not in unplugged \
                and not any(cidr in error for error in report.errors)
            natted = applied_fips is not None and applied_fips.get(fip.floating_ip_address) == fip.fixed_ip_address
            report.floating_ip_statuses[fip.id] = FIP_ACTIVE if addressed and natted else FIP_ERROR
        for fip in router.floating_ips:
            report.floating_ip_statuses.setdefault(fip.id, FIP_DOWN)

    def _reap_helpers(self):
        with self._helpers_lock:
            self._helpers = [helper for helper in self._helpers if helper.poll() is None]

    def wait_for_helpers(self, timeout=30):
        """Wait for the gratuitous ARP senders (tests, shutdown)."""
        with self._helpers_lock:
            helpers, self._helpers = self._helpers, []
        for helper in helpers:
            try:
                helper.wait(timeout)
            except Exception:  # noqa: BLE001 - a stuck sender is killed
                helper.kill()
                helper.wait()

    # --- removing ---------------------------------------------------------------------------

    def remove(self, router_id):
        """Unplug ``router_id``'s devices and delete its namespace."""
        with self._router_lock(router_id):
            report = ApplyReport(router_id=router_id)
            namespace = naming.router_namespace(router_id)
            if self.metadata_proxy is not None:
                try:
                    self.metadata_proxy.stop(router_id)
                except Exception as error:  # noqa: BLE001 - the namespace goes anyway
                    report.errors.append("metadata proxy: %s" % error)
            if self.radvd_processes is not None:
                try:
                    self.radvd_processes.stop(router_id)
                except Exception as error:  # noqa: BLE001 - the namespace goes anyway
                    report.errors.append("radvd: %s" % error)
            if namespace_exists(namespace):
                reader = _open_reader(namespace)
                try:
                    links, _addresses, _routes = kernel_state.read_netlink(reader)
                finally:
                    reader.close()
                for name in sorted(links):
                    if name.startswith(namespace_plan.ROUTER_DEVICE_PREFIXES):
                        try:
                            self.plugging.unplug_device(name, namespace)
                            report.unplugged.append(name)
                        except Exception as error:  # noqa: BLE001 - the namespace goes anyway
                            report.errors.append("unplug %s: %s" % (name, error))
                self._stop_helpers_in(namespace)
                interface.delete_namespace(namespace)
                report.namespace_removed = not namespace_exists(namespace)
                if not report.namespace_removed:
                    report.errors.append("namespace %s could not be deleted" % namespace)
            self.served.discard(router_id)
            return report

    def _stop_helpers_in(self, namespace):
        with self._helpers_lock:
            helpers = list(self._helpers)
        for helper in helpers:
            if namespace in helper.args and helper.poll() is None:
                helper.kill()
                helper.wait()
        self._reap_helpers()

    def serve(self, data):
        """Apply one sync_routers entry, or remove its router when it is admin down. An invalid
        description is refused whole: reported, and its namespace left as it is. Returns the
        ApplyReport, or None for an entry without a usable id."""
        try:
            router = router_info.parse_router(data)
        except router_info.InvalidRouter as error:
            LOG.error("Router description refused: %s", error)
            router_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(router_id, str):
                return None
            return ApplyReport(router_id=router_id, errors=[str(error)])
        if not router.admin_state_up:
            return self.remove(router.id)
        return self.apply(router)

    def serve_many(self, descriptions):
        """``serve`` each description, ``sync_workers`` side by side -> {router id: ApplyReport}."""
        descriptions = list(descriptions)
        if len(descriptions) <= 1 or self.sync_workers == 1:
            reports = map(self.serve, descriptions)
        else:
            # Most of a router's pass is waiting for processes in its namespace: routers go side by side.
            with concurrent.futures.ThreadPoolExecutor(self.sync_workers, thread_name_prefix="l3-serve") as pool:
                reports = list(pool.map(self.serve, descriptions))
        return {report.router_id: report for report in reports if report is not None}

    def sync(self, descriptions, scan=False):
        """Serve every description (sync_routers entries); remove routers served before (and,
        with ``scan``, any qrouter- namespace on the host) that are not described.
        Returns {router id: ApplyReport}."""
        reports = self.serve_many(descriptions)
        stale = set(self.served)
        if scan:
            stale |= set(self.hosted_router_ids())
        for router_id in sorted(stale - set(reports)):
            reports[router_id] = self.remove(router_id)
        return reports

    @staticmethod
    def hosted_router_ids():
        """Router ids of the qrouter- namespaces on this host."""
        try:
            names = os.listdir(NETNS_DIR)
        except FileNotFoundError:
            return []
        return sorted(filter(None, (naming.router_id_of_namespace(name) for name in names)))


class NetlinkSession:
    """The netlink sockets of a pass in a namespace, each opened when first needed (the
    namespace may only exist once the pass made it): a raw rtnetlink reader for the dumps,
    a pyroute2 socket for the changes (a pass that changes nothing opens none)."""

    def __init__(self, open_netlink, namespace):
        self._open, self.namespace, self._ipr, self._reader = open_netlink, namespace, None, None

    def reader(self):
        if self._reader is None:
            self._reader = _open_reader(self.namespace)
        return self._reader

    def socket(self):
        if self._ipr is None:
            self._ipr = self._open(self.namespace)
        return self._ipr

    def close(self):
        for opened in (self._ipr, self._reader):
            if opened is not None:
                opened.close()
        self._ipr = self._reader = None


def _address_request(ipr, command, device, cidr, index):
    """One addr request, run later: a missing device is then an error of that request alone."""
    fields = _address_fields(cidr)
    if command == "del":
        fields.pop("broadcast", None)
    return lambda: ipr.addr(command, index=index(device), **fields)


def _route_request(ipr, command, route, index):
    return lambda: ipr.route(command, **_route_fields(route, index))


def _address_fields(cidr):
    ip = ipaddress.ip_interface(cidr)
    fields = {"address": str(ip.ip), "prefixlen": ip.network.prefixlen}
    if ip.version == 4:
        # As "brd +": the subnet's broadcast; a /32 floating IP's is itself (book 4.4.2).
        fields["broadcast"] = str(ip.network.broadcast_address)
    return fields


def _route_fields(route, lookup):
    fields = {"dst": route.destination, "proto": kernel_state.RTPROT_STATIC}
    if route.gateway:
        fields["gateway"] = route.gateway
    if route.device:
        fields["oif"] = lookup(route.device)
    if ipaddress.ip_network(route.destination).version == 6:
        fields["family"] = socket.AF_INET6
    return fields

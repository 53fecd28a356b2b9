"""The iptables firewall drivers: ``iptables`` (Linux bridge) and ``iptables_hybrid`` (Open vSwitch).

A driver holds the desired state (ports, their groups' rules, remote group
members) and, on ``apply()``, renders the whole host (render.py), compares it
with what it applied last (read back from the kernel the first time) and
changes only what differs, in this order:

1. ``ipset restore``: new sets filled through a swap twin, member deltas;
2. one ``iptables-restore --noflush`` and one ``ip6tables-restore --noflush``,
   each covering the raw and filter tables (atomic per family);
3. ``ebtables-restore --noflush`` for ARP/MAC protection (Linux bridge);
4. ``ipset restore`` destroying sets nothing references any more;
5. ``conntrack -D`` for flows a removed allowance had let through.

A change of group membership alone (with ipset) skips rendering: it is one
``ipset restore`` of add/del lines. When a step fails, the cached view of the
kernel is dropped and the next apply reads it again and converges.
"""
import dataclasses
import logging
import re
import shlex

from netweave.core.agent import commands
from netweave.service_plugins.port_security.firewall import conntrack, model, names, render, restore
from netweave.service_plugins.port_security.firewall import runner as runner_mod
from netweave.service_plugins.port_security.firewall import zones as zones_mod

LOG = logging.getLogger(__name__)

_ZONE_RULE = re.compile(r'--comment "Set zone for (\S+)" -j CT --zone (\d+)')


@dataclasses.dataclass
class ApplyReport:
    """What one apply() ran (for logs, tests and the benchmark)."""
    restored: list = dataclasses.field(default_factory=list)     # ethertypes whose tables were restored
    restore_lines: int = 0
    ipset_added: int = 0
    ipset_removed: int = 0
    ebtables: bool = False
    conntrack_deletions: int = 0
    read_kernel: bool = False
    members_only: bool = False

    @property
    def changed(self):
        return bool(self.restored or self.ipset_added or self.ipset_removed or self.ebtables
                    or self.conntrack_deletions)


@dataclasses.dataclass
class _Applied:
    """What the kernel holds, as far as we know."""
    tables: dict            # ethertype -> {table: TableState}
    ipsets: dict            # name -> (ethertype, members) or None
    ebtables: dict          # chain -> bodies
    state: model.FirewallState = None
    zones: dict = dataclasses.field(default_factory=dict)


class IptablesFirewallDriver:
    """Linux bridge: physdev matches on tap<port[:11]>, ARP/MAC protection with ebtables."""
    layout = render.LINUXBRIDGE
    filters_ports = True

    def __init__(self, netns=None, enable_ipset=True, runner=None):
        self.runner = runner or runner_mod.Runner(netns)
        self.use_ipset = enable_ipset
        self.ports, self.rules, self.members = {}, {}, {}
        self.zone_map = zones_mod.ZoneMap()
        self._applied = None
        self._last = None           # (state, zones) of the last successful apply
        self._structure_dirty = True
        self._members_dirty = False
        self.last_report = None

    # --- desired state --------------------------------------------------------------------

    def update_ports(self, ports):
        """Add or replace ports (the contract's device dicts)."""
        for port in ports:
            value = model.Port.from_dict(port)
            if self.ports.get(value.id) != value:
                self.ports[value.id] = value
                self._structure_dirty = True

    def remove_ports(self, port_ids):
        for port_id in port_ids:
            if self.ports.pop(port_id, None) is not None:
                self._structure_dirty = True

    def update_security_group_rules(self, group_id, rules):
        # Sorted by rule id when the server gives one: the rendering then does not
        # depend on the order rows came out of the database.
        ordered = sorted(rules, key=lambda rule: rule.get("id") or "") if all(
            rule.get("id") for rule in rules) else list(rules)
        parsed = []
        for rule in ordered:
            try:
                parsed.append(model.Rule.from_dict(rule))
            except (ValueError, TypeError) as error:
                # The API validates rules; one that still does not make sense here is
                # left out (allowing less) rather than stopping the whole host.
                LOG.error("Security group %s: ignoring rule %s: %s", group_id, rule.get("id"), error)
        value = tuple(parsed)
        if self.rules.get(group_id) != value:
            self.rules[group_id] = value
            self._structure_dirty = True

    def remove_security_groups(self, group_ids):
        for group_id in group_ids:
            if self.rules.pop(group_id, None) is not None:
                self._structure_dirty = True
            if self.members.pop(group_id, None) is not None:
                self._members_dirty = True

    def update_security_group_members(self, group_id, ips_by_ethertype):
        value = model.members_from_dict(ips_by_ethertype)
        if self.members.get(group_id) != value:
            self.members[group_id] = value
            self._members_dirty = True
            if not self.use_ipset:
                self._structure_dirty = True      # members are spelled out in the chains

    def update_info(self, info):
        """Everything of one security_group_info_for_devices answer."""
        self.update_ports(info.get("devices", {}).values())
        for group_id, rules in (info.get("security_groups") or {}).items():
            self.update_security_group_rules(group_id, rules)
        for group_id, ips in (info.get("sg_member_ips") or {}).items():
            self.update_security_group_members(group_id, ips)

    def replace_info(self, info):
        """Make the desired state exactly ``info`` (a full resync): ports, groups and
        members not in it are dropped."""
        devices = info.get("devices") or {}
        self.remove_ports([port_id for port_id in list(self.ports) if port_id not in devices])
        groups = info.get("security_groups") or {}
        self.remove_security_groups([group for group in list(self.rules) if group not in groups])
        for group in [group for group in self.members if group not in (info.get("sg_member_ips") or {})]:
            del self.members[group]
            self._members_dirty = True
        self.update_info(info)

    def state(self):
        return model.FirewallState(ports=dict(self.ports), rules=dict(self.rules), members=dict(self.members))

    @property
    def has_applied(self):
        return self._last is not None

    def forget_kernel(self):
        """The next apply reads the kernel again (full resync)."""
        self._applied = None

    # --- applying --------------------------------------------------------------------------

    def apply(self):
        report = ApplyReport()
        try:
            if self._applied is None:
                self._applied = self._read_kernel()
                if self._last is not None:
                    # What we applied last still tells which flows a change cuts.
                    self._applied.state, self._applied.zones = self._last
                report.read_kernel = True
                self._structure_dirty = True
            if self._structure_dirty:
                self._apply_all(report)
            elif self._members_dirty:
                self._apply_members(report)
            # else: nothing changed since the last apply, nothing to run
        except Exception:
            self._applied = None
            raise
        self._structure_dirty = self._members_dirty = False
        self._last = (self._applied.state, self._applied.zones)
        self.last_report = report
        return report

    def _apply_all(self, report):
        applied, state = self._applied, self.state()
        owners = {self.layout.zone_key(port) for port in state.filtered_ports()}
        zones = self.zone_map.assign(owners, preferred=applied.zones if applied.state is None else None)
        ruleset = render.render(state, self.layout, zones, self.use_ipset)

        ipsets = restore.ipset_plan(applied.ipsets, ruleset.ipsets)
        if ipsets.before:
            self.runner.run("ipset", "restore", stdin=ipsets.before)
        applied.ipsets.update(ruleset.ipsets)
        report.ipset_added, report.ipset_removed = ipsets.added, ipsets.removed

        ebtables_text = None
        if self.layout.arp_protection:
            ebtables_text = restore.ebtables_restore(applied.ebtables, ruleset.ebtables,
                                                     self.layout.chain("PREROUTING"))
        self._restore_tables(ruleset, report, ebtables_text)

        if ipsets.after:
            self.runner.run("ipset", "restore", stdin=ipsets.after)
        applied.ipsets = {name: value for name, value in applied.ipsets.items() if name in ruleset.ipsets}

        if applied.state is not None:
            report.conntrack_deletions = self._delete_flows(conntrack.plan(applied.state, state, applied.zones,
                                                                         self.layout.zone_key))
        applied.state, applied.zones = state, zones

    def _restore_tables(self, ruleset, report, ebtables_text=None):
        """iptables-restore, ip6tables-restore and ebtables-restore side by side; all must succeed."""
        applied = self._applied
        texts = [(ethertype, binary, restore.iptables_restore(applied.tables[ethertype],
                                                              ruleset.tables[ethertype], ruleset.hooks))
                 for ethertype, binary in ((model.IPV4, "iptables-restore"), (model.IPV6, "ip6tables-restore"))]
        texts.append((None, "ebtables-restore", ebtables_text))
        jobs = {ethertype: (binary, text) for ethertype, binary, text in texts if text}
        if not jobs:
            return
        results = self.runner.run_all({key: [binary, "--noflush"] for key, (binary, _text) in jobs.items()},
                                      stdins={key: text for key, (_binary, text) in jobs.items()}, check=False)
        failures = []
        for ethertype, (_binary, text) in jobs.items():
            result = results[ethertype]
            if not result.ok:
                failures.append(commands.error_of(result))
                continue
            if ethertype is None:
                report.ebtables = True
                applied.ebtables = dict(ruleset.ebtables)
                continue
            report.restored.append(ethertype)
            report.restore_lines += text.count("\n")
            applied.tables[ethertype] = {
                table: restore.TableState(chains=dict(chains), hooks=ruleset.hooks.get(table, ()))
                for table, chains in ruleset.tables[ethertype].items()}
        if failures:
            raise failures[0]

    def _apply_members(self, report):
        """Only remote-group members changed: set deltas, no table is rewritten."""
        applied, state = self._applied, self.state()
        desired = {}
        for name, (ethertype, members) in applied.ipsets.items():
            group = _group_of_set(name, state)
            if group is not None:
                members = (state.members.get(group) or {}).get(ethertype, ())
            desired[name] = (ethertype, tuple(members))
        plan = restore.ipset_plan(applied.ipsets, desired)
        if plan.before:
            self.runner.run("ipset", "restore", stdin=plan.before)
        applied.ipsets = desired
        report.members_only = True
        report.ipset_added, report.ipset_removed = plan.added, plan.removed
        if applied.state is not None:
            report.conntrack_deletions = self._delete_flows(
                conntrack.plan_departures(applied.state, state, applied.zones, self.layout.zone_key))
        applied.state = state

    def _delete_flows(self, deletions):
        """All deletions through one shell (one namespace entry): conntrack has no batch
        mode here. Exit status 1 means "no entry matched", which is fine."""
        if deletions:
            script = "; ".join(shlex.join([conntrack.BINARY] + args) + " 2>/dev/null" for args in deletions)
            self.runner.run("sh", "-c", script + "; exit 0", check=False)
        return len(deletions)

    # --- reading the kernel ---------------------------------------------------------------

    def _enable_bridge_netfilter(self):
        """Bridged traffic must cross iptables (br_netfilter; per namespace on current kernels),
        as Neutron's driver makes sure at start."""
        result = self.runner.run("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1",
                                 "net.bridge.bridge-nf-call-ip6tables=1", check=False)
        if result.returncode != 0:
            LOG.warning("Could not enable br_netfilter for iptables (is the module loaded?): %s",
                        result.stderr.strip())

    def _read_kernel(self):
        """What the kernel holds now: all the *-save commands run side by side."""
        self._enable_bridge_netfilter()
        prefix = self.layout.prefix
        targets = {self.layout.chain(name) for _builtin, name in render.FILTER_HOOKS + render.RAW_HOOKS if name}
        targets.add(names.FILTER_TOP)
        saves = {model.IPV4: ["iptables-save"], model.IPV6: ["ip6tables-save"], "ipset": ["ipset", "save"]}
        if self.layout.arp_protection:
            saves["ebtables"] = ["ebtables-save"]
        outputs = {key: (result.returncode, result.stdout, result.stderr)
                   for key, result in self.runner.run_all(saves, check=False).items()}
        tables, zone_by_device = {}, {}
        for ethertype in model.ETHERTYPES:
            returncode, text, error = outputs[ethertype]
            if returncode != 0:
                raise commands.CommandError(saves[ethertype], returncode, text, error)
            tables[ethertype] = {table: restore.parse_save(text, table, prefix, targets)
                                 for table in (render.FILTER, render.RAW)}
            for body in tables[ethertype][render.RAW].chains.get(self.layout.chain("PREROUTING"), ()):
                match = _ZONE_RULE.search(body)
                if match:
                    zone_by_device[match.group(1)] = int(match.group(2))
        # Sets are read even with ipset off: leftovers of an earlier run get destroyed.
        returncode, text, _error = outputs["ipset"]
        ipsets = restore.parse_ipset_save(text) if returncode == 0 else {}
        ebtables = {}
        if "ebtables" in outputs and outputs["ebtables"][0] == 0:
            ebtables, hooked = restore.parse_ebtables_save(outputs["ebtables"][1], self.layout.chain("PREROUTING"))
            if not hooked:
                ebtables.pop(self.layout.chain("PREROUTING"), None)
        return _Applied(tables=tables, ipsets=ipsets, ebtables=ebtables,
                        zones=self._zones_in_use(zone_by_device))

    def _zones_in_use(self, zone_by_device):
        """{zone key: zone} the kernel already uses for our ports (kept across restarts)."""
        preferred = {}
        for port in self.ports.values():
            key = names.zone_comment(port.id)[len("Set zone for "):]
            if key in zone_by_device:
                preferred.setdefault(self.layout.zone_key(port), zone_by_device[key])
        return preferred


def _group_of_set(name, state):
    for group in state.members:
        for ethertype in model.ETHERTYPES:
            if names.ipset_name(ethertype, group) == name:
                return group
    for group in state.rules:
        for ethertype in model.ETHERTYPES:
            if names.ipset_name(ethertype, group) == name:
                return group
    return None


class OVSHybridIptablesFirewallDriver(IptablesFirewallDriver):
    """Open vSwitch with hybrid plugging (tap -> qbr<port> -> qvb/qvo -> br-int): the same
    chains with the neutron-openvswi prefix, physdev on the tap as Neutron's hybrid driver
    does, a conntrack zone per port (set on qvb and the tap). ARP protection is the OVS
    agent's (table 24 flows)."""
    layout = render.HYBRID

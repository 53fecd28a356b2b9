"""The ``noop`` firewall driver: ports are not filtered at all.

It keeps the same interface as the iptables drivers so the agents treat every
driver alike; apply() changes nothing on the host.
"""
from netweave.service_plugins.port_security.firewall import iptables


class NoopFirewallDriver:
    filters_ports = False
    has_applied = False

    def __init__(self, netns=None, enable_ipset=True, runner=None):
        self.ports = {}
        self.last_report = iptables.ApplyReport()

    def update_ports(self, ports):
        for port in ports:
            self.ports[port.get("id") or port["device"]] = port

    def remove_ports(self, port_ids):
        for port_id in port_ids:
            self.ports.pop(port_id, None)

    def update_security_group_rules(self, group_id, rules):
        pass

    def remove_security_groups(self, group_ids):
        pass

    def update_security_group_members(self, group_id, ips_by_ethertype):
        pass

    def update_info(self, info):
        self.update_ports(info.get("devices", {}).values())

    def replace_info(self, info):
        self.ports = {}
        self.update_info(info)

    def forget_kernel(self):
        pass

    def apply(self):
        return self.last_report

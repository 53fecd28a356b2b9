"""Security groups over RPC, server side: what the agents ask.

Asked (topic "q-plugin", no namespace):
  security_group_info_for_devices(devices=[port_id, ...]) -> {
      "devices": {port_id: {"id", "device", "network_id", "mac_address", "fixed_ips": [ip, ...],
                            "allowed_address_pairs": [{"ip_address", "mac_address"}],
                            "port_security_enabled", "security_groups": [sg_id, ...], "device_owner"}},
      "security_groups": {sg_id: [rule, ...]},     # every group of the listed devices
      "sg_member_ips": {sg_id: {"IPv4": [...], "IPv6": [...]}}}  # groups used as remote_group_id
  A rule is {"id", "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
  "port_range_max", "remote_ip_prefix", "remote_group_id"}; its protocol is None (any), "tcp",
  "udp", "icmp", "ipv6-icmp" (ICMP over IPv6, however it was written) or else the protocol's
  number as a string; its remote_ip_prefix is the network without host bits. Unknown ports
  are absent.

What agents are told is in notifier.py.
"""
import oslo_messaging


class SecurityGroupServerRpcEndpoint:
    """Served beside the device endpoint on "q-plugin"; versions up to the same 1.5."""

    target = oslo_messaging.Target(version="1.5")

    def __init__(self, group_service):
        self.groups = group_service

    def security_group_info_for_devices(self, context, devices=None, **_kwargs):
        return self.groups.info_for_devices(devices or [])

"""Options of the server process: [DEFAULT], [database], [quotas]."""
from oslo_config import cfg

core_opts = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="The host IP to bind to."),
    cfg.PortOpt("bind_port", default=9696, help="The port to bind to."),
    cfg.IntOpt("api_workers", min=0, help="Number of API worker processes; defaults to the number of CPUs."),
    cfg.StrOpt("state_path", default="/var/lib/netweave", help="Where netweave keeps its state files."),
    cfg.StrOpt("core_plugin", default="ml2", help="The core plugin netweave will use."),
    cfg.ListOpt("service_plugins", default=[], help="The service plugins netweave will use."),
    cfg.StrOpt("auth_strategy", default="keystone", choices=["keystone", "noauth"],
               help="The type of authentication to use."),
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00",
               help="The base MAC address netweave uses for VIFs; the first 3 octets stay, "
                    "a 4th octet other than 00 is kept too, the rest is generated."),
    cfg.BoolOpt("allow_bulk", default=True, help="Allow the usage of the bulk API."),
    cfg.BoolOpt("allow_pagination", default=True, help="Allow the usage of pagination."),
    cfg.BoolOpt("allow_sorting", default=True, help="Allow the usage of sorting."),
    cfg.IntOpt("pagination_max_limit", default=-1, help="Maximum number of items returned per "
               "request, -1 for no limit."),
    cfg.IntOpt("max_dns_nameservers", default=5, help="Maximum number of DNS nameservers per subnet."),
    cfg.IntOpt("max_subnet_host_routes", default=20, help="Maximum number of host routes per subnet."),
    cfg.IntOpt("max_fixed_ips_per_port", default=5, help="Maximum number of fixed IPs per port."),
    cfg.BoolOpt("allow_overlapping_ips", default=True,
                help="Allow overlapping IP support in netweave across projects."),
    cfg.IntOpt("global_physnet_mtu", default=1500,
               help="MTU of the underlying physical network; overlay MTUs are derived from it."),
    cfg.StrOpt("dns_domain", default="openstacklocal", help="Domain to use for building hostnames."),
    cfg.IntOpt("dhcp_lease_duration", default=86400, help="DHCP lease duration (in seconds)."),
    cfg.IntOpt("max_request_body_size", default=114688,
               help="Largest request body the API accepts, in bytes."),
    cfg.StrOpt("api_paste_config", default=None, help="Unused; kept for neutron.conf compatibility."),
    cfg.IntOpt("agent_down_time", default=75,
               help="Seconds after the last heartbeat before an agent is regarded as down."),
    cfg.BoolOpt("enable_new_agents", default=True,
                help="Whether an agent reporting for the first time starts with admin_state_up "
                     "true; when false, an administrator enables it before ports bind to it."),
    cfg.StrOpt("host", default=__import__("socket").gethostname(), sample_default="example.domain",
               help="Hostname to be used by the server and agents on this machine."),
]

# Where networks get their DHCP servers (Neutron's names and defaults).
dhcp_scheduler_opts = [
    cfg.IntOpt("dhcp_agents_per_network", default=1, min=1,
               help="Number of DHCP agents scheduled to host a project network. If this number is "
                    "greater than 1, the scheduler assigns multiple DHCP agents to a network, "
                    "providing high availability for the DHCP service."),
    cfg.BoolOpt("network_auto_schedule", default=True,
                help="Allow auto scheduling networks to DHCP agents: an agent reporting in takes "
                     "the networks with DHCP-enabled subnets that lack agents."),
    cfg.BoolOpt("allow_automatic_dhcp_failover", default=True,
                help="Automatically remove networks from offline DHCP agents and schedule them to "
                     "alive ones."),
    cfg.StrOpt("dhcp_load_type", default="networks", choices=["networks", "subnets", "ports"],
               help="Representing the resource type whose load is being reported by the agent: "
                    "the scheduler picks the least loaded DHCP agents first."),
    cfg.BoolOpt("dhcp_agent_notification", default=True,
                help="Allow sending resource operation notification to DHCP agent."),
    cfg.BoolOpt("enable_services_on_agents_with_admin_state_down", default=False,
                help="Let DHCP agents whose admin_state_up is false keep and be given networks "
                     "(manually); they are never chosen by automatic scheduling."),
]
core_opts.extend(dhcp_scheduler_opts)

database_opts = [
    cfg.StrOpt("connection", secret=True, default=None,
               help="SQLAlchemy URL of the database; defaults to a SQLite file under state_path."),
    cfg.IntOpt("max_pool_size", default=10, help="Maximum number of pooled connections."),
    cfg.IntOpt("max_overflow", default=20, help="Connections allowed above max_pool_size."),
]

QUOTA_RESOURCES = ("network", "subnet", "port", "subnetpool", "rbac_policy",
                   "router", "floatingip")

# The core's resources; a plugin registers the quota_<resource> options of its own.
quota_opts = [
    cfg.IntOpt("default_quota", default=-1, help="Default number of resources allowed per project; "
               "negative means unlimited."),
    cfg.IntOpt("quota_network", default=100, help="Number of networks allowed per project."),
    cfg.IntOpt("quota_subnet", default=100, help="Number of subnets allowed per project."),
    cfg.IntOpt("quota_port", default=500, help="Number of ports allowed per project."),
    cfg.IntOpt("quota_subnetpool", default=-1, help="Number of subnet pools allowed per project."),
    cfg.IntOpt("quota_rbac_policy", default=10, help="Number of RBAC policies allowed per project."),
    cfg.IntOpt("quota_router", default=10, help="Number of routers allowed per project."),
    cfg.IntOpt("quota_floatingip", default=50, help="Number of floating IPs allowed per project."),
]


def register(conf):
    conf.register_opts(core_opts)
    conf.register_opts(database_opts, "database")
    conf.register_opts(quota_opts, "quotas")


register(cfg.CONF)

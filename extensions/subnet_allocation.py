"""subnet_allocation, default-subnetpools, subnet-service-types, network-ip-availability."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs

NETWORK_IP_AVAILABILITIES = Resource(
    collection="network_ip_availabilities", member="network_ip_availability", allow_bulk=False,
    plugin_name="network_ip_availability", id_attribute="network_id", read_only=True,
    attributes=attrs(
        A("network_id", is_filter=True, is_sort_key=True),
        A("network_name", is_filter=True, is_sort_key=True),
        A("tenant_id", is_filter=True),
        A("project_id", is_filter=True),
        A("total_ips"),
        A("used_ips"),
        A("subnet_ip_availability"),
        A("ip_version", is_filter=True, filter_convert=v.integer()),
    ))

SUBNET_ALLOCATION = Extension(
    alias="subnet_allocation", name="Subnet Allocation",
    description="Enables allocation of subnets from a subnet pool",
    updated="2015-03-30T10:00:00-00:00",
)
DEFAULT_SUBNETPOOLS = Extension(
    alias="default-subnetpools", name="Default Subnetpools",
    description="Provides ability to mark and use a subnetpool as the default.",
    updated="2016-02-18T18:00:00-00:00",
)
SUBNET_SERVICE_TYPES = Extension(
    alias="subnet-service-types", name="Subnet service types",
    description="Provides ability to set the subnet service_types field",
    updated="2016-03-15T18:00:00-00:00",
    extended_attributes={"subnets": attrs(
        A("service_types", allow_post=True, allow_put=True, default=[],
          convert=v.list_of(v.string(255), unique=True)))},
)
NETWORK_IP_AVAILABILITY = Extension(
    alias="network-ip-availability", name="Network IP Availability",
    description="Provides IP availability data for each network and subnet.",
    updated="2015-09-24T00:00:00-00:00",
    resources=(NETWORK_IP_AVAILABILITIES,),
)

"""radvd.conf for the three IPv6 RA modes (golden files) and Neutron's rules around them."""
import pytest

from harness import l3
from netweave.service_plugins.router.agent import radvd, router_info
from netweave.service_plugins.router.agent.settings import DataplaneSettings

PORT_ID = "1eace53f-6900-4ba8-8fd4-2f0d1f2a7c11"


def router_with_v6(mode, dns=(), mtu=1500, extra_subnets=()):
    subnets = [l3.subnet("v6", "2001:db8:200::/64", "2001:db8:200::1", 6, ipv6_ra_mode=mode,
                         ipv6_address_mode=mode, dns_nameservers=list(dns))]
    fixed = [("v6", "2001:db8:200::1")]
    for index, (cidr, sub_mode) in enumerate(extra_subnets):
        subnets.append(l3.subnet("x%d" % index, cidr, cidr.split("/")[0] + "1", 6, ipv6_ra_mode=sub_mode))
        fixed.append(("x%d" % index, cidr.split("/")[0] + "1"))
    subnets.append(l3.subnet(l3.PROJECT_SUBNET, "192.168.200.0/24", "192.168.200.1"))
    fixed.append((l3.PROJECT_SUBNET, "192.168.200.1"))
    port = l3.port(PORT_ID, "fa:16:3e:11:22:33", l3.PROJECT_NET, fixed, subnets, mtu=mtu)
    return router_info.parse_router(l3.router(interfaces=[port]))


SLAAC = """\
interface qr-1eace53f-69
{
    AdvSendAdvert on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 100;
    AdvLinkMTU 1500;
    prefix 2001:db8:200::/64
    {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
"""

STATELESS = """\
interface qr-1eace53f-69
{
    AdvSendAdvert on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 100;
    AdvLinkMTU 1450;
    AdvOtherConfigFlag on;
    prefix 2001:db8:200::/64
    {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
"""

STATEFUL = """\
interface qr-1eace53f-69
{
    AdvSendAdvert on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 100;
    AdvLinkMTU 1500;
    AdvManagedFlag on;
    prefix 2001:db8:200::/64
    {
        AdvOnLink on;
        AdvAutonomous off;
    };
};
"""


@pytest.mark.parametrize("mode, kwargs, golden", [
    ("slaac", {}, SLAAC),
    ("dhcpv6-stateless", {"dns": ["2001:db8::53", "2001:db8::54"], "mtu": 1450}, STATELESS),
    ("dhcpv6-stateful", {}, STATEFUL),
])
def test_each_ra_mode(mode, kwargs, golden):
    assert radvd.render(router_with_v6(mode, **kwargs), DataplaneSettings()) == golden


def test_mixed_modes_on_one_interface_and_small_mtu():
    router = router_with_v6("dhcpv6-stateful", mtu=1200, extra_subnets=[("2001:db8:201::/64", "slaac")])
    text = radvd.render(router, DataplaneSettings(min_rtr_adv_interval=10, max_rtr_adv_interval=20))
    assert "AdvLinkMTU" not in text                       # below IPv6's minimum MTU
    assert "MinRtrAdvInterval 10;" in text and "MaxRtrAdvInterval 20;" in text
    assert "AdvManagedFlag on;" in text and "AdvOtherConfigFlag" not in text
    # Autonomous prefixes come first, whatever the order of the fixed IPs.
    assert text.index("prefix 2001:db8:201::/64") < text.index("AdvAutonomous on;") < text.index(
        "prefix 2001:db8:200::/64") < text.index("AdvAutonomous off;")
    assert text.count("interface ") == 1


def test_rdnss_from_slaac_subnets_only_ipv6_and_at_most_three():
    router = router_with_v6("slaac", dns=["2001:db8::53", "192.0.2.53", "2001:db8::54"],
                            extra_subnets=[("2001:db8:201::/64", "dhcpv6-stateless")])
    text = radvd.render(router, DataplaneSettings())
    assert "    RDNSS 2001:db8::53 2001:db8::54 {};\n" in text
    many = router_with_v6("slaac", dns=["2001:db8::%d" % n for n in range(1, 6)])
    assert "RDNSS 2001:db8::1 2001:db8::2 2001:db8::3 {};" in radvd.render(many, DataplaneSettings())
    stateless = router_with_v6("dhcpv6-stateless", dns=["2001:db8::53"])
    assert "RDNSS" not in radvd.render(stateless, DataplaneSettings())   # DHCPv6 tells those hosts


NO_PREFIX = """\
interface qr-1eace53f-69
{
    AdvSendAdvert on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 100;
    AdvLinkMTU 1500;
};
"""


def test_ipv6_subnet_without_ra_mode_advertises_the_router_but_no_prefix():
    assert radvd.render(router_with_v6(None), DataplaneSettings()) == NO_PREFIX


def test_no_ipv6_interface_or_no_ipv6_no_config():
    assert radvd.render(router_info.parse_router(l3.book_router()), DataplaneSettings()) is None
    assert radvd.render(router_with_v6("slaac"), DataplaneSettings(use_ipv6=False)) is None


def test_one_block_per_ipv6_interface_gateway_port_left_out():
    v6 = l3.subnet("v6b", "2001:db8:300::/64", "2001:db8:300::1", 6, ipv6_ra_mode="slaac",
                   ipv6_address_mode="slaac")
    second = l3.port("2bbbbbbb-6900-4ba8-8fd4-2f0d1f2a7c11", "fa:16:3e:11:22:44", l3.PROJECT_NET,
                     [("v6b", "2001:db8:300::1")], [v6])
    gateway = l3.port(l3.GATEWAY_PORT, l3.GATEWAY_MAC, l3.GATEWAY_NET, [("g6", "2001:db8:30::6")],
                      [l3.subnet("g6", "2001:db8:30::/64", "2001:db8:30::1", 6)], device_owner="network:router_gateway")
    description = l3.router(gateway=gateway, interfaces=[second, l3.book_interface()])
    text = radvd.render(router_info.parse_router(description), DataplaneSettings())
    assert text.count("interface ") == 1 and "interface qr-2bbbbbbb-69\n" in text
    assert "2001:db8:30::" not in text

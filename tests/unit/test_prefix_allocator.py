"""Subnet pool checks and lowest-free-block carving."""
import netaddr
import pytest

from netweave.core import exceptions as exc
from netweave.core.db.models import subnetpool as models
from netweave.core.ipam import prefix_allocator as pa


def pool(prefixes, ip_version=4, min_prefixlen=8, max_prefixlen=32, default_prefixlen=None):
    return pa.PoolSpec(ip_version, tuple(prefixes), min_prefixlen, max_prefixlen,
                       min_prefixlen if default_prefixlen is None else default_prefixlen)


# --- pool requests ---------------------------------------------------------------

def test_book_pool_defaults():
    result = pa.validate_pool_request(["172.31.0.0/16"])
    assert result == {"ip_version": 4, "prefixes": ["172.31.0.0/16"], "min_prefixlen": 8,
                      "max_prefixlen": 32, "default_prefixlen": 8}


def test_ipv6_pool_defaults():
    result = pa.validate_pool_request(["2001:db8::/32"])
    assert result["ip_version"] == 6
    assert (result["min_prefixlen"], result["max_prefixlen"], result["default_prefixlen"]) == (64, 128, 64)


def test_default_prefixlen_follows_min():
    assert pa.validate_pool_request(["10.0.0.0/8"], min_prefixlen=16)["default_prefixlen"] == 16


def test_prefixes_are_compacted():
    result = pa.validate_pool_request(["10.0.0.0/25", "10.0.0.128/25", "10.0.0.64/26", "192.168.0.0/24"])
    assert result["prefixes"] == ["10.0.0.0/24", "192.168.0.0/24"]


def test_prefix_with_host_bits_is_normalised():
    assert pa.validate_pool_request(["10.0.0.1/24"])["prefixes"] == ["10.0.0.0/24"]


def test_mixed_versions():
    with pytest.raises(exc.PrefixVersionMismatch) as err:
        pa.validate_pool_request(["10.0.0.0/8", "2001:db8::/32"])
    assert err.value.msg == "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."
    assert err.value.status == 400


def test_empty_prefixes():
    with pytest.raises(exc.EmptySubnetPoolPrefixList, match="Empty subnet pool prefix list."):
        pa.validate_pool_request([])


@pytest.mark.parametrize("prefix", ["not-a-cidr", "10.0.0.0/33", "10.0.0.1"])
def test_invalid_prefix(prefix):
    with pytest.raises(exc.InvalidAttribute) as err:
        pa.validate_pool_request([prefix])
    assert err.value.msg.startswith("Invalid input for prefixes. Reason: ")


@pytest.mark.parametrize("kwargs, text", [
    ({"min_prefixlen": 24, "max_prefixlen": 16},
     "Illegal prefix bounds: min_prefixlen=24, max_prefixlen=16."),
    ({"max_prefixlen": 33}, "Illegal prefix bounds: max_prefixlen=33, ip_version_max=32."),
    ({"min_prefixlen": 16, "default_prefixlen": 8},
     "Illegal prefix bounds: default_prefixlen=8, min_prefixlen=16."),
    ({"max_prefixlen": 24, "default_prefixlen": 28},
     "Illegal prefix bounds: default_prefixlen=28, max_prefixlen=24."),
])
def test_illegal_bounds(kwargs, text):
    with pytest.raises(exc.IllegalSubnetPoolPrefixBounds) as err:
        pa.validate_pool_request(["10.0.0.0/8"], **kwargs)
    assert err.value.msg == text


def test_negative_min_prefixlen():
    with pytest.raises(exc.UnsupportedMinSubnetPoolPrefix, match="Prefix '-1' not supported in IPv4 pool."):
        pa.validate_pool_request(["10.0.0.0/8"], min_prefixlen=-1)


# --- pool updates ---------------------------------------------------------------------

def test_prefixes_may_grow():
    assert pa.validate_prefix_update(["172.31.0.0/16"], ["172.31.0.0/16", "172.30.0.0/16"]) == ["172.30.0.0/15"]


def test_prefixes_may_not_shrink():
    with pytest.raises(exc.IllegalSubnetPoolPrefixUpdate) as err:
        pa.validate_prefix_update(["172.31.0.0/16"], ["172.31.0.0/17"])
    assert err.value.msg == "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes."


def test_pool_update_checks_bounds_against_stored_values():
    stored = pool(["10.0.0.0/8"], min_prefixlen=8, max_prefixlen=32, default_prefixlen=8)
    assert pa.validate_pool_update(stored, {"default_prefixlen": 28}) == {"default_prefixlen": 28}
    with pytest.raises(exc.IllegalSubnetPoolPrefixBounds):
        pa.validate_pool_update(stored, {"min_prefixlen": 24})
    with pytest.raises(exc.PrefixVersionMismatch):
        pa.validate_pool_update(stored, {"prefixes": ["10.0.0.0/8", "2001:db8::/32"]})


# --- carving ----------------------------------------------------------------------

def test_book_pool_carves_lowest_blocks_in_order():
    spec = pool(["172.31.0.0/16"], default_prefixlen=28)
    used = []
    for expected in ["172.31.0.0/28", "172.31.0.16/28", "172.31.0.32/28", "172.31.0.48/28"]:
        cidr = pa.allocate_prefix(spec, used, prefixlen=28)
        assert cidr == expected
        used.append(cidr)
    assert pa.allocate_prefix(spec, used) == "172.31.0.64/28"


def test_book_pool_with_its_default_prefixlen_of_8_has_no_room():
    # Why the book had to lower default_prefixlen before using the pool as default.
    with pytest.raises(exc.SubnetAllocationError, match="subnet size /8"):
        pa.allocate_prefix(pool(["172.31.0.0/16"]), [])


def test_carving_fills_holes_first():
    spec = pool(["10.0.0.0/24"])
    assert pa.allocate_prefix(spec, ["10.0.0.16/28", "10.0.0.32/28"], prefixlen=28) == "10.0.0.0/28"
    assert pa.allocate_prefix(spec, ["10.0.0.0/28", "10.0.0.32/28"], prefixlen=28) == "10.0.0.16/28"


def test_carving_keeps_alignment():
    spec = pool(["10.0.0.0/24"])
    # .16/28 is free but a /27 must start on a multiple of 32.
    assert pa.allocate_prefix(spec, ["10.0.0.0/28"], prefixlen=27) == "10.0.0.32/27"


def test_carving_across_several_prefixes():
    spec = pool(["10.0.0.0/28", "10.0.1.0/24"])
    assert pa.allocate_prefix(spec, ["10.0.0.0/28"], prefixlen=28) == "10.0.1.0/28"
    assert pa.allocate_prefix(spec, [], prefixlen=26) == "10.0.1.0/26"


def test_carved_blocks_never_overlap():
    spec = pool(["10.10.0.0/20"])
    used = []
    for prefixlen in [24, 28, 26, 28, 25, 27, 24, 28, 22]:
        cidr = pa.allocate_prefix(spec, used, prefixlen=prefixlen)
        net = netaddr.IPNetwork(cidr)
        assert net.prefixlen == prefixlen and net.first % net.size == 0
        assert netaddr.IPSet([cidr]).issubset(netaddr.IPSet(spec.prefixes))
        assert not netaddr.IPSet(used) & netaddr.IPSet([cidr])
        used.append(cidr)


def test_exhausted_pool():
    spec = pool(["10.0.0.0/27"])
    with pytest.raises(exc.SubnetAllocationError) as err:
        pa.allocate_prefix(spec, ["10.0.0.0/28", "10.0.0.16/28"], prefixlen=28)
    assert err.value.status == 409
    assert err.value.msg == "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /28."


def test_fragmented_pool_cannot_fit_a_large_block():
    with pytest.raises(exc.SubnetAllocationError):
        pa.allocate_prefix(pool(["10.0.0.0/24"]), ["10.0.0.64/28", "10.0.0.192/28"], prefixlen=25)


@pytest.mark.parametrize("prefixlen, error, text", [
    (30, exc.MaxPrefixSubnetAllocationError,
     "Unable to allocate subnet with prefix length 30, maximum allowed prefix is 28."),
    (20, exc.MinPrefixSubnetAllocationError,
     "Unable to allocate subnet with prefix length 20, minimum allowed prefix is 24."),
])
def test_prefixlen_outside_bounds(prefixlen, error, text):
    spec = pool(["10.0.0.0/16"], min_prefixlen=24, max_prefixlen=28)
    with pytest.raises(error) as err:
        pa.allocate_prefix(spec, [], prefixlen=prefixlen)
    assert err.value.msg == text and err.value.status == 400


def test_specific_cidr_free():
    assert pa.allocate_prefix(pool(["172.31.0.0/16"]), ["172.31.0.0/28"], cidr="172.31.5.0/24") == "172.31.5.0/24"


@pytest.mark.parametrize("cidr", ["172.31.0.0/24", "172.32.0.0/24", "172.31.0.8/29"])
def test_specific_cidr_taken_or_outside(cidr):
    with pytest.raises(exc.SubnetAllocationError) as err:
        pa.allocate_prefix(pool(["172.31.0.0/16"]), ["172.31.0.0/28"], cidr=cidr)
    assert err.value.msg == ("Failed to allocate subnet: Cannot allocate requested subnet from the available "
                             "set of prefixes.")


def test_specific_cidr_outside_bounds():
    with pytest.raises(exc.MaxPrefixSubnetAllocationError):
        pa.allocate_prefix(pool(["10.0.0.0/8"], max_prefixlen=24), [], cidr="10.1.0.0/28")


def test_ipv6_pool_carves_slash64():
    spec = pool(["2001:db8::/48"], ip_version=6, min_prefixlen=64, max_prefixlen=128)
    assert pa.allocate_prefix(spec, []) == "2001:db8::/64"
    assert pa.allocate_prefix(spec, ["2001:db8::/64"]) == "2001:db8:0:1::/64"


def test_pool_spec_of_a_stored_pool():
    row = models.SubnetPool(ip_version=4, min_prefixlen=8, max_prefixlen=32, default_prefixlen=24,
                            prefixes=[models.SubnetPoolPrefix(cidr="10.0.0.0/8"),
                                      models.SubnetPoolPrefix(cidr="192.168.0.0/16")])
    spec = pa.PoolSpec.of_row(row)
    assert spec == pa.PoolSpec(4, ("10.0.0.0/8", "192.168.0.0/16"), 8, 32, 24)
    assert pa.allocate_prefix(spec, []) == "10.0.0.0/24"

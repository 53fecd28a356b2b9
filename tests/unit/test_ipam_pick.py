"""pick_free_address draws from the same candidates as free_addresses + choose_address."""
import random

import netaddr
import pytest

from netweave.core.ipam import ip_allocator


class IndexRng:
    """An rng whose draws are fixed: randrange(n) and choice(seq) both take index ``value``."""

    def __init__(self, value):
        self.value = value

    def randrange(self, n):
        return self.value % n

    def choice(self, seq):
        return seq[self.value % len(seq)]


def _random_case(rng):
    ranges, cursor = [], rng.randint(0, 50)
    for _ in range(rng.randint(1, 3)):
        first = cursor + rng.randint(0, 10)
        last = first + rng.randint(0, 30)
        ranges.append((first, last))
        cursor = last + 1
    allocated = sorted({rng.randint(0, cursor + 10) for _ in range(rng.randint(0, 60))})
    skip = {rng.randint(0, cursor) for _ in range(rng.randint(0, 2))}
    return ranges, allocated, rng.randint(1, 60), skip


@pytest.mark.parametrize("seed", range(5))
def test_every_candidate_is_reachable_and_nothing_else(seed):
    rng = random.Random(seed)
    for _ in range(2000):
        ranges, allocated, limit, skip = _random_case(rng)
        candidates = ip_allocator.free_addresses(ranges, allocated, limit, skip)
        lowest = ip_allocator.pick_free_address(ranges, allocated, limit, skip, prefer_lowest=True)
        if not candidates:
            assert lowest is None
            assert ip_allocator.pick_free_address(ranges, allocated, limit, skip) is None
            continue
        assert lowest == ip_allocator.choose_address(candidates, prefer_lowest=True)
        picked = [ip_allocator.pick_free_address(ranges, allocated, limit, skip, rng=IndexRng(i))
                  for i in range(len(candidates))]
        assert picked == [ip_allocator.choose_address(candidates, rng=IndexRng(i)) for i in range(len(candidates))]


def test_window_and_gateway_on_a_dense_slash24():
    first, last = 2, 254
    allocated = list(range(2, 200))
    assert ip_allocator.pick_free_address([(first, last)], allocated, 1000, skip={1}, prefer_lowest=True) == 200
    draws = {ip_allocator.pick_free_address([(first, last)], allocated, 3, skip={201}, rng=IndexRng(i))
             for i in range(3)}
    assert draws == {200, 202, 203}
    full = list(range(2, 255))
    assert ip_allocator.pick_free_address([(first, last)], full, 1000) is None


def test_allocated_ints_reads_canonical_addresses():
    assert ip_allocator._address_int("10.0.0.1") == 0x0A000001
    assert ip_allocator._address_int("2001:db8::1") == 0x20010DB8000000000000000000000001
    # Anything inet_pton refuses goes through netaddr, which judges it as before.
    with pytest.raises(netaddr.AddrFormatError):
        ip_allocator._address_int("10.0.0.01")

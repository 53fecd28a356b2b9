"""Candidate sampling for automatic addresses (pure functions, no database)."""
import random

import pytest

from netweave.core.ipam import ip_allocator

SLASH20 = [(0x0A600001, 0x0A600FFE)]  # 10.96.0.1 - 10.96.15.254, 4094 addresses


def _positions(pool_ranges):
    """address -> its place in the pools, counted in pool order."""
    places = {}
    offset = 0
    for first, last in pool_ranges:
        for address in range(first, last + 1):
            places[address] = offset
            offset += 1
    return places


def test_small_pools_are_not_sampled():
    assert ip_allocator.sample_tiers([(10, 10 + ip_allocator.DENSE_POOL - 1)]) is None
    assert ip_allocator.sample_tiers([(10, 20), (30, 40)]) is None
    assert ip_allocator.sample_tiers([(10, 10 + ip_allocator.DENSE_POOL)]) is not None


@pytest.mark.parametrize("seed", range(20))
def test_tiers_widen_from_the_low_end_of_the_pools(seed):
    pools = [(1000, 1599), (5000, 7999), (20000, 29999)]
    places = _positions(pools)
    avoid = {1000, 1001, 5000}
    tiers = ip_allocator.sample_tiers(pools, avoid, random.Random(seed))
    total = len(places)
    spans = [ip_allocator.FREE_WINDOW * ip_allocator.TIER_GROWTH ** k for k in range(len(tiers) - 1)] + [total]
    assert [t.span for t in tiers] == spans
    assert spans == sorted(spans) and spans[-1] == total and len(tiers) <= ip_allocator.MAX_TIERS
    seen = set()
    for (_, tier), span in zip(tiers, spans):
        assert len(tier) == ip_allocator.SAMPLE_PER_TIER
        for address in tier:
            assert address in places and places[address] < span
            assert address not in avoid and address not in seen
            seen.add(address)


def test_the_last_tier_reaches_the_end_of_a_huge_pool():
    # An IPv6 /64 pool: 2**64 - 1 addresses, more than a Python range can count.
    pools = [(2 ** 64 + 1, 2 ** 65 - 1)]
    tiers = ip_allocator.sample_tiers(pools, rng=random.Random(7))
    assert len(tiers) == ip_allocator.MAX_TIERS
    assert all(pools[0][0] <= a <= pools[0][1] for tier in tiers for a in tier.candidates)
    # Drawn over the whole pool, the last tier lands far beyond the first windows.
    assert tiers[-1].span == 2 ** 64 - 1
    assert max(tiers[-1].candidates) - pools[0][0] > 2 ** 40


def test_a_tier_crowded_with_avoided_addresses_stays_short_but_finishes():
    pools = [(0, 99)]
    avoid = set(range(0, 99))  # only 99 is free
    tiers = ip_allocator.sample_tiers(pools, avoid, random.Random(3))
    assert all(a == 99 for tier in tiers for a in tier.candidates)
    assert sum(len(t.candidates) for t in tiers) <= 1


def test_first_free_candidate_prefers_the_lowest_roomy_tier():
    Tier = ip_allocator.Tier
    tiers = [Tier(1000, [5, 6, 7, 8]), Tier(4000, [900, 1500, 2500, 3500]), Tier(9000, [4000, 8000])]
    pick = ip_allocator.first_free_candidate
    assert pick(tiers, set()) == 5
    # Half of tier 0 free: about 500 free addresses there, roomy enough.
    assert pick(tiers, {5, 6}) == 7
    # One in four free: about 250 in the first 1,000, so the wider tier is used instead.
    assert pick(tiers, {5, 6, 7}) == 900
    assert pick(tiers, {5, 6, 7, 8, 900}) == 1500
    # One in four of 4,000 is still 1,000 free.
    assert pick(tiers, {5, 6, 7, 8, 900, 1500, 2500}) == 3500
    # The last tier takes whatever is free.
    assert pick(tiers, {5, 6, 7, 8, 900, 1500, 2500, 3500, 4000}) == 8000
    assert pick(tiers, {5, 6, 7, 8, 900, 1500, 2500, 3500, 4000, 8000}) is None
    # A crowded low tier next to a full last tier: no guess, the caller reads the subnet.
    assert pick([Tier(1000, [5, 6, 7, 8]), Tier(1200, [1100])], {5, 6, 7, 1100}) is None


def test_concurrent_picks_do_not_crowd_onto_the_last_addresses_of_a_tier():
    # The first 1,000 addresses hold 20 free ones: picks move to the wider window.
    rng = random.Random(5)
    first = SLASH20[0][0]
    free_low = set(range(first, first + 1000, 50))
    taken = set(range(first, first + 1000)) - free_low
    picks = []
    for _ in range(200):
        tiers = ip_allocator.sample_tiers(SLASH20, rng=rng)
        picks.append(ip_allocator.first_free_candidate(tiers, taken))
    low = [p for p in picks if p in free_low]
    assert None not in picks and len(low) < 20
    assert len(set(picks)) > 150


def test_sampling_spreads_over_the_first_window_of_a_slash20():
    rng = random.Random(11)
    firsts = [ip_allocator.sample_tiers(SLASH20, rng=rng)[0].candidates[0] - SLASH20[0][0]
              for _ in range(400)]
    assert max(firsts) < ip_allocator.FREE_WINDOW
    # Concurrent creates rarely draw the same first choice.
    assert len(set(firsts)) > 300


def test_address_text_matches_the_stored_form():
    assert ip_allocator._address_text(0x0A600001, 4) == "10.96.0.1"
    assert ip_allocator._address_text(0x20010DB8000000000000000000000010, 6) == "2001:db8::10"


def test_a_candidate_stock_picks_from_the_tier_first_free_candidate_would_use():
    Tier = ip_allocator.Tier
    tiers = [Tier(1000, [5, 6, 7, 8]), Tier(4000, [900, 1500, 2500, 3500]), Tier(9000, [4000, 8000])]

    def tier_of(address):
        return next(i for i, tier in enumerate(tiers) if address in tier.candidates)

    stock = ip_allocator.CandidateStock(tiers, taken={6})
    taken = {6}
    picks = []
    while True:
        expected = ip_allocator.first_free_candidate(tiers, taken)
        chosen = stock.pick()
        if expected is None:
            assert chosen is None
            break
        # The earlier picks count as taken: the same tier as a fresh check would choose.
        assert chosen not in taken and tier_of(chosen) == tier_of(expected)
        taken.add(chosen)
        picks.append(chosen)
    # Two picks in tier 0 (roomy while half its candidates are free), then the wider tiers.
    assert [tier_of(p) for p in picks[:2]] == [0, 0] and tier_of(picks[2]) == 1
    assert {4000, 8000} <= set(picks) and len(picks) == len(set(picks))


def test_a_candidate_stock_skips_what_the_request_took_meanwhile():
    Tier = ip_allocator.Tier
    stock = ip_allocator.CandidateStock([Tier(100000, [11, 12, 13])], taken=set())
    assert stock.pick(avoid={13}) == 12
    assert stock.pick(avoid={13, 11}) is None

"""Fixed IP allocation for ports, inside the caller's transaction.

One path for every allocation: ``plan_ips`` reads and chooses (before the
writing transaction on SQLite, inside it elsewhere) and ``insert_planned``
stores the choice in one statement; a port update plans and inserts its new
addresses the same way. No locks are taken. The ipallocations primary key
(ip_address, subnet_id) is what keeps two ports off one address: a duplicate
key at the insert means a concurrent request won the address, so
``RetryRequest`` is raised and the caller's ``retry_db_errors`` runs the whole
request again. Addresses a user asks for are checked while planning, so a
real clash is a 409 rather than a retry.

Automatic addresses are drawn at random from the low end of the allocation
pools (Neutron's strategy: concurrent requests rarely pick the same one). A
few random candidates are checked in one indexed query instead of reading
every allocation of the subnet; only small or nearly full pools, where the
candidates would miss, are read whole. DHCP ports take the lowest free address.
The ports of one bulk create share a ``RequestPicks``: their automatic picks on
a subnet come from candidates drawn and checked once for the whole request.
"""
import bisect
import collections
import random
import socket

import netaddr
from oslo_config import cfg
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy import exc as sa_exc

from netweave.core import exceptions as exc
from netweave.core.config import common  # noqa: F401 - registers max_fixed_ips_per_port
from netweave.core.db import api as db_api
from netweave.core.db.models import port as port_models
from netweave.core.db.models import subnet as subnet_models
from netweave.core.ipam import addresses

# Neutron's window size: wide enough that concurrent picks seldom collide,
# small enough that the walk over a huge pool stays cheap.
FREE_WINDOW = 1000
DEVICE_OWNER_DHCP = "network:dhcp"

# Candidate sampling: pools up to DENSE_POOL addresses are read whole (the read
# is small and random draws would often miss). Larger ones draw SAMPLE_PER_TIER
# candidates from each tier: the first FREE_WINDOW addresses of the pools, then
# windows TIER_GROWTH times wider, up to the whole pool (at most MAX_TIERS).
# The pick comes from the lowest tier whose candidates suggest at least
# FREE_WINDOW / 2 free addresses in it, so allocations fill the pools from the
# low end as Neutron's window does, yet concurrent requests still choose among
# hundreds of addresses rather than crowd onto the last few of a tier.
DENSE_POOL = 64
SAMPLE_PER_TIER = 8
TIER_GROWTH = 4
MAX_TIERS = 4

PortIpChanges = collections.namedtuple("PortIpChanges", ["fixed_ips", "added", "removed"])

# One address to allocate: from the first subnet of ``subnets`` with room, or
# exactly ``ip_address`` when it is set (then ``subnets`` has one entry).
_Wanted = collections.namedtuple("_Wanted", ["subnets", "ip_address"])


# --- pure helpers -----------------------------------------------------------------

def free_addresses(pool_ranges, allocated, limit, skip=()):
    """The first ``limit`` free addresses of the pools, as ints.

    ``pool_ranges``: (first, last) int pairs, walked in order; ``allocated``:
    sorted ints. The walk jumps over allocated addresses and stops at
    ``limit``, so its cost is bounded by limit + allocations, never the pool size.
    """
    found = []
    for first, last in pool_ranges:
        index = bisect.bisect_left(allocated, first)
        start = first
        # Whole runs of free addresses between two allocated ones at a time.
        while start <= last and len(found) < limit:
            if index < len(allocated) and allocated[index] <= last:
                end = allocated[index]
                index += 1
            else:
                end = last + 1
            if end > start:
                need = limit - len(found)
                run = range(start, end)
                if skip:
                    run = [a for a in run[:need + len(skip)] if a not in skip]
                found.extend(run[:need])
            start = max(start, end + 1)
        if len(found) >= limit:
            break
    return found


def choose_address(candidates, prefer_lowest=False, rng=random):
    return min(candidates) if prefer_lowest else rng.choice(candidates)


def pick_free_address(pool_ranges, allocated, limit, skip=(), prefer_lowest=False, rng=random):
    """``choose_address(free_addresses(pool_ranges, allocated, limit, skip), prefer_lowest)``
    without listing the candidates: the lowest free address, or one drawn
    uniformly from the first ``limit`` free ones; None when the pools are full.

    Counting the free addresses of each range and finding the n-th one are
    binary searches over ``allocated`` (sorted ints), instead of a walk over
    the window and the allocations in it.
    """
    if skip:
        allocated = list(allocated)
        for address in skip:
            index = bisect.bisect_left(allocated, address)
            if index == len(allocated) or allocated[index] != address:
                allocated.insert(index, address)
    spans = []
    total = 0
    for first, last in pool_ranges:
        if total >= limit:
            break
        lo = bisect.bisect_left(allocated, first)
        hi = bisect.bisect_right(allocated, last)
        free = (last - first + 1) - (hi - lo)
        if free > 0:
            spans.append((first, lo, hi, free))
            total += free
    count = min(total, limit)
    if count <= 0:
        return None
    n = 0 if prefer_lowest else rng.randrange(count)
    for first, lo, hi, free in spans:
        if n < free:
            return _nth_free(first, allocated, lo, hi, n)
        n -= free
    raise AssertionError("unreachable")


def _nth_free(first, allocated, lo, hi, n):
    """The n-th (from 0) free address from ``first`` on; allocated[lo:hi] are the
    allocated addresses of that range. Before allocated[j] lie
    allocated[j] - first - (j - lo) free addresses, which never decreases with j."""
    start, end = lo, hi
    # The first allocated address with more than n free ones before it.
    while start < end:
        mid = (start + end) // 2
        if allocated[mid] - first - (mid - lo) > n:
            end = mid
        else:
            start = mid + 1
    # The answer lies after the (start - lo) allocated addresses before that one.
    return first + n + (start - lo)


Tier = collections.namedtuple("Tier", ["span", "candidates"])


def sample_tiers(pool_ranges, avoid=(), rng=random, per_tier=SAMPLE_PER_TIER, window=FREE_WINDOW):
    """Random candidate addresses (ints) for an automatic pick, as a list of Tier.

    Tier k holds up to ``per_tier`` distinct addresses drawn from the first
    ``span = window * TIER_GROWTH**k`` addresses of the pools (in pool order);
    the last tier spans every pool. No candidate is in ``avoid`` or repeats an
    earlier one. Returns None when the pools hold at most DENSE_POOL
    addresses: reading their allocations is cheaper than guessing.
    """
    total = sum(last - first + 1 for first, last in pool_ranges)
    if total <= DENSE_POOL:
        return None
    spans = []
    while len(spans) < MAX_TIERS - 1 and window < total:
        spans.append(window)
        window *= TIER_GROWTH
    spans.append(total)
    chosen = set()
    tiers = []
    for span in spans:
        tier = []
        # Bounded draws: a tier crowded with avoided addresses just stays short.
        for _ in range(per_tier * 4):
            if len(tier) == per_tier:
                break
            address = _address_at(pool_ranges, rng.randrange(span))
            if address not in chosen and address not in avoid:
                chosen.add(address)
                tier.append(address)
        tiers.append(Tier(span, tier))
    return tiers


def _address_at(pool_ranges, offset):
    """The address ``offset`` places from the start of the pools, counted in pool order."""
    for first, last in pool_ranges:
        size = last - first + 1
        if offset < size:
            return first + offset
        offset -= size
    raise IndexError("offset beyond the pools")


def first_free_candidate(tiers, taken, window=FREE_WINDOW):
    """A free candidate (not in ``taken``) of the lowest tier that looks roomy, or None.

    A tier looks roomy when its share of free candidates, times its span,
    reaches ``window / 2`` addresses; the last tier takes any free candidate.
    Candidates are in random order, so the first free one is a random pick.
    """
    for index, tier in enumerate(tiers):
        free = [address for address in tier.candidates if address not in taken]
        if not free:
            continue
        last = index == len(tiers) - 1
        if last or len(free) * tier.span >= len(tier.candidates) * window / 2:
            return free[0]
    return None


class CandidateStock:
    """Checked candidates of one subnet, handed out one automatic pick at a time (pure).

    Built from ``sample_tiers`` tiers and the candidates found taken; each pick
    is what ``first_free_candidate`` would choose with the earlier picks counted
    as taken: a free candidate of the lowest tier that still looks roomy.
    """

    def __init__(self, tiers, taken, window=FREE_WINDOW):
        self.window = window
        # [span, candidates drawn, free candidates left (popped from the end: random order)]
        self.tiers = [[tier.span, len(tier.candidates), [a for a in tier.candidates if a not in taken]]
                      for tier in tiers]

    def pick(self, avoid=()):
        """A free candidate not in ``avoid`` (taken meanwhile by this request), or None
        when no tier looks roomy any more (then the caller reads the allocations)."""
        for index, (span, drawn, free) in enumerate(self.tiers):
            while free and free[-1] in avoid:
                free.pop()
            if not free:
                continue
            last = index == len(self.tiers) - 1
            if last or len(free) * span >= drawn * self.window / 2:
                return free.pop()
        return None


def _auto_address(subnet):
    return subnet.ip_version == 6 and addresses.is_auto_address_subnet(subnet.ipv6_ra_mode,
                                                                       subnet.ipv6_address_mode)


def _needs_auto_address(subnet, device_owner):
    """SLAAC/stateless subnets give every port except router interfaces an EUI-64 address."""
    return _auto_address(subnet) and device_owner not in addresses.ROUTER_INTERFACE_OWNERS_SNAT


def plan_ip_changes(original, requested, keep_subnet_ids=()):
    """Neutron's diff of a port's fixed IPs on update (pure).

    ``original``: [{"subnet_id", "ip_address"}] held now; ``requested``: the new
    fixed_ips body. A requested address already held is kept; a subnet-only
    request reuses an unclaimed address of that subnet; the rest is added.
    Unclaimed originals are removed, except on ``keep_subnet_ids`` (automatic
    IPv6 addresses stay until the subnet goes). Returns (keep, add, remove).
    """
    by_ip = {ip["ip_address"]: ip for ip in original}
    keep, add = [], []
    for wanted in requested:
        if wanted.get("ip_address") is None:
            continue
        held = by_ip.pop(wanted["ip_address"], None)
        (keep if held else add).append(held or wanted)
    by_subnet = collections.defaultdict(list)
    for ip in by_ip.values():
        by_subnet[ip["subnet_id"]].append(ip)
    for wanted in requested:
        if wanted.get("ip_address") is not None:
            continue
        held = by_subnet.get(wanted.get("subnet_id"))
        if held:
            keep.append(held.pop(0))
        else:
            add.append(wanted)
    remove = []
    for ips in by_subnet.values():
        for ip in ips:
            (keep if ip["subnet_id"] in keep_subnet_ids else remove).append(ip)
    return keep, add, remove


# --- subnet service types ----------------------------------------------------------

def service_subnets(subnets, device_owner):
    """The subnets a port of ``device_owner`` may take addresses from (pure).

    Neutron's subnet service types: a subnet without service types serves every
    port; one with service types only ports whose device_owner is one of them,
    except that DHCP ports may use any subnet with DHCP enabled. Subnets with
    service types come first (an owner they serve gets its address there, the
    others being the fallback); otherwise the order is kept.
    """
    chosen = []
    for subnet in subnets:
        types = {t.service_type for t in subnet.service_types}
        if (not types or device_owner in types
                or (device_owner == DEVICE_OWNER_DHCP and subnet.enable_dhcp)):
            chosen.append(subnet)
    return sorted(chosen, key=lambda subnet: not subnet.service_types)


def _service_subnets_or_raise(network_id, subnets, device_owner, requested_fixed_ips):
    """service_subnets, or IpAddressGenerationFailureNoMatchingSubnet (409) when the
    network has subnets, the port wants addresses and none of them serves it."""
    chosen = service_subnets(subnets, device_owner)
    if subnets and not chosen and (requested_fixed_ips is None or requested_fixed_ips):
        raise exc.IpAddressGenerationFailureNoMatchingSubnet(network_id=network_id, service_type=device_owner)
    return chosen


# --- request resolution --------------------------------------------------------------

def _check_count(fixed_ips):
    if len(fixed_ips) > cfg.CONF.max_fixed_ips_per_port:
        raise exc.InvalidInput(error_message="Exceeded maximum amount of fixed ips per port.")
    seen = set()
    for fixed in fixed_ips:
        ip = fixed.get("ip_address")
        if ip is None:
            continue
        if ip in seen:
            raise exc.InvalidAttribute(attr="fixed_ips", reason="Duplicate IP address '%s'" % ip)
        seen.add(ip)


def _subnet_for_fixed_ip(session, fixed, subnets, device_owner):
    """Which subnet of the network a fixed_ips entry points at (Neutron's rules)."""
    if not subnets:
        raise exc.InvalidInput(error_message="IP allocation requires subnets for network")
    ip = fixed.get("ip_address")
    subnet_id = fixed.get("subnet_id")
    if subnet_id is not None:
        subnet = next((s for s in subnets if s.id == subnet_id), None)
        if subnet is None:
            other = session.get(subnet_models.Subnet, subnet_id)
            if other is None:
                raise exc.SubnetNotFound(subnet_id=subnet_id)
            raise exc.InvalidInput(error_message="Failed to create port on network %s, because fixed_ips "
                                                 "included invalid subnet %s" % (other.network_id, subnet_id))
        if ip is not None and not addresses.is_valid_ip_for_subnet(subnet.cidr, ip, device_owner):
            raise exc.InvalidIpForSubnet(ip_address=ip)
        return subnet
    if ip is None:
        raise exc.InvalidInput(error_message="IP allocation requires subnet_id or ip_address")
    for subnet in subnets:
        if addresses.is_valid_ip_for_subnet(subnet.cidr, ip, device_owner):
            return subnet
    raise exc.InvalidIpForNetwork(ip_address=ip)


def _wanted_from_request(session, fixed_ips, subnets, device_owner):
    wanted = []
    for fixed in fixed_ips:
        subnet = _subnet_for_fixed_ip(session, fixed, subnets, device_owner)
        ip = fixed.get("ip_address")
        if ip is not None:
            if _auto_address(subnet) and device_owner not in addresses.ROUTER_INTERFACE_OWNERS:
                raise exc.AllocationOnAutoAddressSubnet(ip=ip, subnet_id=subnet.id)
            wanted.append(_Wanted([subnet], str(netaddr.IPAddress(ip))))
        elif not _needs_auto_address(subnet, device_owner):
            wanted.append(_Wanted([subnet], None))
        # A subnet-only entry on an automatic subnet is covered by the EUI-64 pass.
    return wanted


def _wanted_by_default(subnets, device_owner):
    """No fixed_ips given: one IPv4 address (first subnet with room), one stateful
    IPv6 address likewise; automatic subnets are added separately."""
    v4 = [s for s in subnets if s.ip_version == 4]
    v6_stateful = [s for s in subnets if s.ip_version == 6 and not _auto_address(s)]
    if device_owner in addresses.ROUTER_INTERFACE_OWNERS_SNAT:
        v6_stateful += [s for s in subnets if _auto_address(s)]
    return [_Wanted(group, None) for group in (v4, v6_stateful) if group]


def _wanted_auto_addresses(subnets, device_owner, mac_address, exclude_subnet_ids=()):
    wanted = []
    for subnet in subnets:
        if _needs_auto_address(subnet, device_owner) and subnet.id not in exclude_subnet_ids:
            if not mac_address:
                raise ValueError("a MAC address is needed for the EUI-64 address on subnet %s" % subnet.id)
            wanted.append(_Wanted([subnet], addresses.eui64_address(subnet.cidr, mac_address)))
    return wanted


# --- database work ------------------------------------------------------------------

def _is_allocated(session, subnet_id, ip_address):
    query = select(port_models.IPAllocation.port_id).where(
        port_models.IPAllocation.subnet_id == subnet_id,
        port_models.IPAllocation.ip_address == ip_address)
    return session.execute(query).first() is not None


def _address_int(text):
    """An address as an int; stored addresses are canonical, so inet_pton reads
    them (much faster than netaddr); anything else still goes through netaddr."""
    try:
        if ":" in text:
            return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        return int(netaddr.IPAddress(text))


def _allocated_ints(session, subnet_id):
    query = select(port_models.IPAllocation.ip_address).where(port_models.IPAllocation.subnet_id == subnet_id)
    # Straight to the connection (the ORM's result handling costs more than the
    # query for thousands of rows); flush first, as the ORM's autoflush would.
    session.flush()
    return sorted(map(_address_int, session.connection().execute(query).scalars().all()))


# Which of a few addresses of a subnet are taken: the primary key (ip_address,
# subnet_id) answers it without touching the subnet's other allocations.
_TAKEN_AMONG = (select(port_models.IPAllocation.__table__.c.ip_address)
                .where(port_models.IPAllocation.__table__.c.subnet_id == bindparam("subnet_id"),
                       port_models.IPAllocation.__table__.c.ip_address.in_(bindparam("addresses",
                                                                                     expanding=True))))


def _address_text(value, ip_version):
    if ip_version == 4:
        return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
    return str(netaddr.IPAddress(value, 6))


def _sampled_free_ip(session, subnet, pool_ranges, avoid, rng=random):
    """A free address found by checking random candidates in one query; None when the
    pools are small or every candidate was taken (then the caller reads them all)."""
    tiers = sample_tiers(pool_ranges, avoid, rng)
    if not tiers:
        return None
    texts = {address: _address_text(address, subnet.ip_version) for tier in tiers for address in tier.candidates}
    if not texts:
        return None
    # Pending ORM rows of this transaction must be visible to the query.
    session.flush()
    rows = session.connection().execute(_TAKEN_AMONG, {"subnet_id": subnet.id, "addresses": list(texts.values())})
    taken_texts = set(rows.scalars().all())
    taken = {address for address, text in texts.items() if text in taken_texts}
    chosen = first_free_candidate(tiers, taken)
    return None if chosen is None else texts[chosen]


# Candidates drawn per tier and expected pick of a bulk create: enough to hand
# out every pick of the request and still judge each tier's room.
BULK_SAMPLES_PER_PICK = 2
BULK_MAX_PICKS = 1000
_CHECK_CHUNK = 2000  # candidates per query: within every database's parameter limit


class RequestPicks:
    """The addresses one create request planned so far, and its candidate stocks.

    ``addresses``: {subnet_id: set of address texts} planned but not stored yet;
    later ports avoid them. ``ports``: how many ports the request creates; with
    more than one, the first automatic pick on a subnet draws candidates for all
    of them and checks them in one query (``CandidateStock``), instead of a query
    per port.
    """

    def __init__(self, ports=1):
        self.ports = ports
        self.addresses = {}
        self._ints = {}
        self._stocks = {}

    def add(self, subnet_id, ip_address):
        self.addresses.setdefault(subnet_id, set()).add(ip_address)
        self._ints.setdefault(subnet_id, set()).add(_address_int(ip_address))

    def ints(self, subnet_id):
        return self._ints.get(subnet_id, set())

    def sampled(self, session, subnet, pool_ranges, skip, rng=random):
        """A free address by sampling, or None (the caller then reads the allocations)."""
        if self.ports <= 1:
            return _sampled_free_ip(session, subnet, pool_ranges, skip | self.ints(subnet.id), rng)
        if subnet.id not in self._stocks:
            per_tier = SAMPLE_PER_TIER + BULK_SAMPLES_PER_PICK * min(self.ports, BULK_MAX_PICKS)
            tiers = sample_tiers(pool_ranges, skip | self.ints(subnet.id), rng, per_tier=per_tier)
            self._stocks[subnet.id] = None if tiers is None else _checked_stock(session, subnet, tiers)
        stock = self._stocks[subnet.id]
        # The candidates avoid the gateway and what was taken before they were drawn;
        # what this request took since (specific addresses of later ports) is skipped here.
        chosen = None if stock is None else stock.pick(self.ints(subnet.id))
        return None if chosen is None else _address_text(chosen, subnet.ip_version)


def _checked_stock(session, subnet, tiers):
    texts = {address: _address_text(address, subnet.ip_version) for tier in tiers for address in tier.candidates}
    session.flush()
    values = list(texts.values())
    taken_texts = set()
    for start in range(0, len(values), _CHECK_CHUNK):
        rows = session.connection().execute(_TAKEN_AMONG, {"subnet_id": subnet.id,
                                                           "addresses": values[start:start + _CHECK_CHUNK]})
        taken_texts.update(rows.scalars().all())
    return CandidateStock(tiers, {address for address, text in texts.items() if text in taken_texts})


def _gateway_int(subnet):
    return {int(netaddr.IPAddress(subnet.gateway_ip))} if subnet.gateway_ip else set()


def _pool_ranges(subnet):
    ranges = [(int(netaddr.IPAddress(p.first_ip)), int(netaddr.IPAddress(p.last_ip)))
              for p in subnet.allocation_pools]
    return sorted(ranges)


def _plan_wanted(session, network_id, wanted, device_owner, picks):
    """Addresses for ``wanted`` (a list of _Wanted), read but not inserted, in its order.

    ``picks``: the RequestPicks of this request (earlier ports of a bulk create
    planned addresses not stored yet); the plan avoids them and adds its own.
    """
    taken = picks.addresses
    prefer_lowest = device_owner == DEVICE_OWNER_DHCP
    # Sorted stored allocations per subnet, with ``taken`` merged in, once read.
    allocated = {}

    def allocated_on(subnet_id):
        if subnet_id not in allocated:
            stored = _allocated_ints(session, subnet_id)
            for ip_address in taken.get(subnet_id, ()):
                bisect.insort(stored, _address_int(ip_address))
            allocated[subnet_id] = stored
        return allocated[subnet_id]

    def take(subnet, ip_address):
        picks.add(subnet.id, ip_address)
        if subnet.id in allocated:
            bisect.insort(allocated[subnet.id], _address_int(ip_address))
        return {"subnet_id": subnet.id, "ip_address": ip_address}

    def plan_one(item):
        if item.ip_address is not None:
            subnet = item.subnets[0]
            if item.ip_address in taken.get(subnet.id, ()) or _is_allocated(session, subnet.id, item.ip_address):
                raise exc.IpAddressAlreadyAllocated(ip=item.ip_address, subnet_id=subnet.id)
            return take(subnet, item.ip_address)
        for subnet in item.subnets:
            skip = _gateway_int(subnet)
            ranges = _pool_ranges(subnet)
            if not prefer_lowest and subnet.id not in allocated:
                sampled = picks.sampled(session, subnet, ranges, skip)
                if sampled is not None:
                    return take(subnet, sampled)
            chosen = pick_free_address(ranges, allocated_on(subnet.id),
                                       1 if prefer_lowest else FREE_WINDOW, skip, prefer_lowest)
            if chosen is not None:
                return take(subnet, str(netaddr.IPAddress(chosen, subnet.ip_version)))
        raise exc.IpAddressGenerationFailure(net_id=network_id)

    # Specific addresses go first so an automatic pick cannot take one of them.
    order = sorted(range(len(wanted)), key=lambda i: wanted[i].ip_address is None)
    results = [None] * len(wanted)
    for i in order:
        results[i] = plan_one(wanted[i])
    return results


# --- public API ---------------------------------------------------------------------

def plan_ips(session, network_id, subnets, requested_fixed_ips, mac_address=None, device_owner="", picks=None):
    """The fixed IPs of a new port, read but not inserted: [{"subnet_id", "ip_address"}].

    ``subnets``: the network's subnets (with their allocation_pools), in creation
    order. ``requested_fixed_ips``: the port's fixed_ips ([{subnet_id?, ip_address?}])
    or None for Neutron's default: one address from the first IPv4 subnet with
    room, one from the first stateful IPv6 subnet with room, plus the EUI-64
    address (from ``mac_address``) on every SLAAC/DHCPv6-stateless subnet.
    ``picks``: the RequestPicks shared by the ports of one request (a bulk
    create); the plan avoids what earlier ports took and records its own there.

    Only reads: it may run before the writing transaction (SQLite) or inside
    it; ``insert_planned`` then stores the result, and an address taken in
    between shows up there as a duplicate key and a retry of the request.
    Automatic addresses are drawn at random from the low end of the pools
    (DHCP ports take the lowest free one).

    Raises InvalidInput, InvalidAttribute, SubnetNotFound, InvalidIpForSubnet,
    InvalidIpForNetwork, AllocationOnAutoAddressSubnet (400/404),
    IpAddressAlreadyAllocated and IpAddressGenerationFailure (409).
    """
    subnets = _service_subnets_or_raise(network_id, subnets, device_owner, requested_fixed_ips)
    if requested_fixed_ips is None:
        wanted = _wanted_by_default(subnets, device_owner)
    else:
        _check_count(requested_fixed_ips)
        wanted = _wanted_from_request(session, requested_fixed_ips, subnets, device_owner)
    wanted += _wanted_auto_addresses(subnets, device_owner, mac_address)
    return _plan_wanted(session, network_id, wanted, device_owner, RequestPicks() if picks is None else picks)


def insert_planned(session, network_id, port_id, fixed_ips, first_position=0):
    """Store what ``plan_ips`` chose for the port, in one statement.

    ``first_position``: the position in the port's fixed_ips of the first one.
    A duplicate key means a concurrent request won an address since the plan
    was read: RetryRequest, and the request runs again.
    """
    if fixed_ips:
        _insert_allocations(session, [
            {"ip_address": ip["ip_address"], "subnet_id": ip["subnet_id"], "network_id": network_id,
             "port_id": port_id, "position": position}
            for position, ip in enumerate(fixed_ips, start=first_position)])


def insert_planned_ports(session, planned):
    """``insert_planned`` for several new ports in one statement: ``planned`` holds
    (network_id, port_id, fixed_ips) per port."""
    rows = [{"ip_address": ip["ip_address"], "subnet_id": ip["subnet_id"], "network_id": network_id,
             "port_id": port_id, "position": position}
            for network_id, port_id, fixed_ips in planned for position, ip in enumerate(fixed_ips)]
    if rows:
        _insert_allocations(session, rows)


def _insert_allocations(session, rows):
    try:
        session.execute(insert(port_models.IPAllocation.__table__), rows)
    except sa_exc.IntegrityError as error:
        if db_api.is_duplicate(error):
            raise db_api.RetryRequest() from error
        raise


def release_ips(session, port_id, fixed_ips=None):
    """Free the port's addresses (all, or those listed); returns what was freed."""
    rows = session.scalars(select(port_models.IPAllocation).where(port_models.IPAllocation.port_id == port_id))
    chosen = None if fixed_ips is None else {(ip["subnet_id"], ip["ip_address"]) for ip in fixed_ips}
    released = []
    for row in rows:
        if chosen is None or (row.subnet_id, row.ip_address) in chosen:
            released.append({"subnet_id": row.subnet_id, "ip_address": row.ip_address})
            session.delete(row)
    session.flush()
    return released


# What update_port_ips needs of the port: its id, network, device owner (as it is after
# the update) and current fixed_ips ({"subnet_id", "ip_address"} dicts, in order).
PortAddresses = collections.namedtuple("PortAddresses", ["id", "network_id", "device_owner", "fixed_ips"])


def update_port_ips(session, port, new_fixed_ips, subnets):
    """Apply a fixed_ips update to ``port`` (a PortAddresses), Neutron style.

    Addresses still requested stay, a subnet-only entry keeps the port's
    current address on that subnet, new entries are allocated, and the rest is
    released (first, so an address can move between entries). Automatic IPv6
    addresses stay. Returns PortIpChanges(fixed_ips, added, removed) with
    {"subnet_id", "ip_address"} dicts; raises as plan_ips, and RetryRequest
    as insert_planned. A Port row loaded in ``session`` does not see the change
    until its ``fixed_ips`` are expired.
    """
    _check_count(new_fixed_ips)
    device_owner = port.device_owner or ""
    subnets = _service_subnets_or_raise(port.network_id, subnets, device_owner, new_fixed_ips)
    original = [{"subnet_id": a["subnet_id"], "ip_address": a["ip_address"]} for a in port.fixed_ips]
    keep_ids = {s.id for s in subnets if _needs_auto_address(s, device_owner)}
    keep, add, remove = plan_ip_changes(original, new_fixed_ips, keep_ids)

    wanted = _wanted_from_request(session, add, subnets, device_owner) if add else []
    if remove:
        release_ips(session, port.id, remove)
    # The kept addresses are stored already: the plan reads them like any other.
    added = _plan_wanted(session, port.network_id, wanted, device_owner, RequestPicks())
    insert_planned(session, port.network_id, port.id, added, first_position=len(keep))
    _renumber(session, port.id, keep)
    return PortIpChanges(keep + added, added, remove)


def _renumber(session, port_id, kept):
    """Kept addresses come first in the port's fixed_ips order."""
    positions = {(ip["subnet_id"], ip["ip_address"]): i for i, ip in enumerate(kept)}
    rows = session.scalars(select(port_models.IPAllocation).where(port_models.IPAllocation.port_id == port_id))
    for row in rows:
        position = positions.get((row.subnet_id, row.ip_address))
        if position is not None and row.position != position:
            row.position = position
    session.flush()


def subnet_ip_availability(session, subnet):
    """(total, used) for network-ip-availability: pool sizes and allocations on the subnet."""
    total = sum(last - first + 1 for first, last in _pool_ranges(subnet))
    used = session.scalar(select(func.count()).select_from(port_models.IPAllocation)
                          .where(port_models.IPAllocation.subnet_id == subnet.id))
    return total, used

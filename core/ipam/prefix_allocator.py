"""Subnet pools: request checks and carving subnet CIDRs out of pool prefixes.

Carving is lowest-address-first: with a prefix length, the result is the
lowest aligned block of that size inside the pool's prefixes that overlaps
no subnet already allocated from the pool.
"""
import dataclasses

import netaddr
from sqlalchemy import orm, select

from netweave.core import exceptions as exc
from netweave.core.db import model_base
from netweave.core.db.models import subnet as subnet_models

ADDRESS_BITS = {4: 32, 6: 128}
DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}


@dataclasses.dataclass(frozen=True)
class PoolSpec:
    """What carving needs to know about a subnet pool."""

    ip_version: int
    prefixes: tuple
    min_prefixlen: int
    max_prefixlen: int
    default_prefixlen: int

    @classmethod
    def of_row(cls, row):
        """The spec of a stored pool: a SubnetPool row, with its prefixes loaded."""
        return cls(row.ip_version, tuple(p.cidr for p in row.prefixes), row.min_prefixlen,
                   row.max_prefixlen, row.default_prefixlen)


# --- pool create / update -----------------------------------------------------

def _parse_prefix(prefix):
    try:
        net = netaddr.IPNetwork(prefix)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise exc.InvalidAttribute(attr="prefixes", reason="'%s' is not a valid IP subnet" % (prefix,))
    if "/" not in str(prefix):
        raise exc.InvalidAttribute(attr="prefixes", reason="'%s' isn't a recognized IP subnet cidr, "
                                                          "'%s' is recommended" % (prefix, net.cidr))
    return net


def compact_prefixes(prefixes):
    """Merge overlapping and adjacent prefixes into the fewest CIDRs, as strings."""
    return [str(net) for net in netaddr.cidr_merge([netaddr.IPNetwork(p).cidr for p in prefixes])]


def _check_bounds(ip_version, min_prefixlen, max_prefixlen, default_prefixlen):
    if min_prefixlen < 0:
        raise exc.UnsupportedMinSubnetPoolPrefix(prefix=min_prefixlen, version=ip_version)
    if min_prefixlen > max_prefixlen:
        raise exc.IllegalSubnetPoolPrefixBounds(prefix_type="min_prefixlen", prefixlen=min_prefixlen,
                                                base_prefix_type="max_prefixlen",
                                                base_prefixlen=max_prefixlen)
    if max_prefixlen > ADDRESS_BITS[ip_version]:
        raise exc.IllegalSubnetPoolPrefixBounds(prefix_type="max_prefixlen", prefixlen=max_prefixlen,
                                                base_prefix_type="ip_version_max",
                                                base_prefixlen=ADDRESS_BITS[ip_version])
    if default_prefixlen < min_prefixlen:
        raise exc.IllegalSubnetPoolPrefixBounds(prefix_type="default_prefixlen", prefixlen=default_prefixlen,
                                                base_prefix_type="min_prefixlen",
                                                base_prefixlen=min_prefixlen)
    if default_prefixlen > max_prefixlen:
        raise exc.IllegalSubnetPoolPrefixBounds(prefix_type="default_prefixlen", prefixlen=default_prefixlen,
                                                base_prefix_type="max_prefixlen",
                                                base_prefixlen=max_prefixlen)


def validate_pool_request(prefixes, min_prefixlen=None, max_prefixlen=None, default_prefixlen=None):
    """Check a subnet pool create body and fill in Neutron's defaults.

    The IP version comes from the prefixes (which may not mix versions).
    min_prefixlen defaults to 8 (IPv4) or 64 (IPv6), max_prefixlen to 32/128
    and default_prefixlen to min_prefixlen. Returns a dict with ip_version,
    prefixes (compacted CIDR strings), min_prefixlen, max_prefixlen and
    default_prefixlen.
    """
    if not prefixes:
        raise exc.EmptySubnetPoolPrefixList()
    nets = [_parse_prefix(p) for p in prefixes]
    versions = {net.version for net in nets}
    if len(versions) > 1:
        raise exc.PrefixVersionMismatch()
    ip_version = versions.pop()

    min_len = DEFAULT_MIN_PREFIXLEN[ip_version] if min_prefixlen is None else int(min_prefixlen)
    max_len = ADDRESS_BITS[ip_version] if max_prefixlen is None else int(max_prefixlen)
    default_len = min_len if default_prefixlen is None else int(default_prefixlen)
    _check_bounds(ip_version, min_len, max_len, default_len)
    return {"ip_version": ip_version, "prefixes": compact_prefixes(nets), "min_prefixlen": min_len,
            "max_prefixlen": max_len, "default_prefixlen": default_len}


def validate_prefix_update(current_prefixes, new_prefixes, used_cidrs=()):
    """Prefixes of a pool may only grow: the old ones must stay covered.

    That also keeps every subnet already carved (``used_cidrs``) inside the
    pool. Returns the compacted new prefix list.
    """
    if not new_prefixes:
        raise exc.EmptySubnetPoolPrefixList()
    nets = [_parse_prefix(p) for p in new_prefixes]
    new_set = netaddr.IPSet(net.cidr for net in nets)
    if not netaddr.IPSet(current_prefixes).issubset(new_set):
        raise exc.IllegalSubnetPoolPrefixUpdate(msg="Existing prefixes must be a subset of the new prefixes")
    if not netaddr.IPSet(used_cidrs).issubset(new_set):
        raise exc.IllegalSubnetPoolPrefixUpdate(msg="Existing subnets must stay inside the new prefixes")
    return compact_prefixes(nets)


def validate_pool_update(spec, changes, used_cidrs=()):
    """Check a subnet pool update against the stored pool; return the normalised changes.

    ``spec``: the stored pool's PoolSpec; ``changes``: the body, with any
    of prefixes, min_prefixlen, max_prefixlen, default_prefixlen.
    """
    result = {}
    if "prefixes" in changes:
        new_prefixes = validate_prefix_update(spec.prefixes, changes["prefixes"], used_cidrs)
        if {netaddr.IPNetwork(p).version for p in new_prefixes} != {spec.ip_version}:
            raise exc.PrefixVersionMismatch()
        result["prefixes"] = new_prefixes
    bounds = {}
    for key in ("min_prefixlen", "max_prefixlen", "default_prefixlen"):
        value = changes.get(key)
        bounds[key] = getattr(spec, key) if value is None else int(value)
        if value is not None:
            result[key] = bounds[key]
    _check_bounds(spec.ip_version, bounds["min_prefixlen"], bounds["max_prefixlen"],
                  bounds["default_prefixlen"])
    return result


# --- carving ----------------------------------------------------------------------

def _check_prefixlen(spec, prefixlen):
    if prefixlen > spec.max_prefixlen:
        raise exc.MaxPrefixSubnetAllocationError(prefixlen=prefixlen, max_prefixlen=spec.max_prefixlen)
    if prefixlen < spec.min_prefixlen:
        raise exc.MinPrefixSubnetAllocationError(prefixlen=prefixlen, min_prefixlen=spec.min_prefixlen)


def free_space(spec, used_cidrs):
    """The pool's addresses not yet given to a subnet, as an IPSet."""
    return netaddr.IPSet(spec.prefixes) - netaddr.IPSet(used_cidrs)


def allocate_prefix(spec, used_cidrs, prefixlen=None, cidr=None):
    """Pick the CIDR of a new subnet from the pool ``spec`` (a PoolSpec; pure).

    ``used_cidrs``: CIDRs of the
    subnets already allocated from the pool. With ``cidr`` the request is for
    that block exactly; otherwise for the lowest free aligned block of
    ``prefixlen`` (default: the pool's default_prefixlen). Returns a CIDR string.
    """
    available = free_space(spec, used_cidrs)
    if cidr is not None:
        wanted = netaddr.IPNetwork(cidr).cidr
        _check_prefixlen(spec, wanted.prefixlen)
        if wanted.version != spec.ip_version or not netaddr.IPSet([wanted]).issubset(available):
            raise exc.SubnetAllocationError(reason="Cannot allocate requested subnet from the "
                                                   "available set of prefixes")
        return str(wanted)

    prefixlen = spec.default_prefixlen if prefixlen is None else int(prefixlen)
    _check_prefixlen(spec, prefixlen)
    # iter_cidrs yields maximal aligned blocks in address order, so the first
    # one large enough starts at the lowest aligned free block of this size.
    for block in available.iter_cidrs():
        if block.prefixlen <= prefixlen:
            return str(netaddr.IPNetwork((block.first, prefixlen), version=block.version).cidr)
    raise exc.SubnetAllocationError(reason="Insufficient prefix space to allocate subnet size /%s" % prefixlen)


def used_cidrs_of_pool(session, pool_id):
    """CIDRs of the subnets carved from a pool."""
    query = select(subnet_models.Subnet.cidr).where(subnet_models.Subnet.subnetpool_id == pool_id)
    return list(session.scalars(query))


def allocate_from_pool(session, pool_row, used_cidrs=None, prefixlen=None, cidr=None):
    """Carve a CIDR from ``pool_row`` inside the caller's transaction.

    The pool row is rewritten first: its revision_number is the optimistic lock,
    so of two transactions carving from one pool only one can commit; the other
    gets StaleDataError at flush and ``retry_db_errors`` runs it again, where it
    sees the first one's subnet. ``used_cidrs`` defaults to the pool's subnets,
    read after the bump so they are at least as new as the lock.

    Before the bump the row is re-read FOR UPDATE (a no-op on SQLite, whose
    writers are serialised anyway): under contention on PostgreSQL/MySQL the
    carvings then queue on the row instead of mostly failing and retrying.
    The re-read drops unflushed changes to ``pool_row``; flush them first.
    """
    session.refresh(pool_row, with_for_update=True)
    pool_row.updated_at = model_base.utcnow()
    orm.attributes.flag_modified(pool_row, "updated_at")
    session.flush()
    if used_cidrs is None:
        used_cidrs = used_cidrs_of_pool(session, pool_row.id)
    return allocate_prefix(PoolSpec.of_row(pool_row), used_cidrs, prefixlen=prefixlen, cidr=cidr)

"""Parsing and arithmetic of the segmentation id ranges written in ml2_conf.ini.

A range is an inclusive ``(low, high)`` tuple. Errors are ValueError whose text
names the option and repeats Neutron's wording, so an operator sees what to fix.
"""
VLAN_ID_MIN = 1
VLAN_ID_MAX = 4094


def parse_vlan_ranges(entries, option="[ml2_type_vlan] network_vlan_ranges"):
    """``physnet[:low:high]`` entries -> ``{physnet: [(low, high), ...]}`` in entry order.

    A physnet given without a range maps to ``[]``: provider networks may use it,
    project networks get nothing from it.
    """
    ranges = {}
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        if ":" not in entry:
            ranges.setdefault(entry, [])
            continue
        parts = entry.split(":")
        if len(parts) != 3:
            raise _vlan_error(option, entry, "Need exactly two values for VLAN range")
        physnet, low, high = (part.strip() for part in parts)
        if not physnet:
            raise ValueError("%s: Empty physical network name in '%s'." % (option, entry))
        bounds = tuple(_vlan_tag(value, option, entry) for value in (low, high))
        if bounds[1] < bounds[0]:
            raise _vlan_error(option, entry, "End of VLAN range is less than start of VLAN range")
        ranges.setdefault(physnet, []).append(bounds)
    return ranges


def _vlan_tag(text, option, entry):
    try:
        tag = int(text)
    except ValueError:
        tag = None
    if tag is None or not VLAN_ID_MIN <= tag <= VLAN_ID_MAX:
        raise _vlan_error(option, entry, "%s is not a valid VLAN tag" % text)
    return tag


def _vlan_error(option, entry, reason):
    return ValueError("%s: Invalid network VLAN range: '%s' - '%s'." % (option, entry, reason))


def parse_id_ranges(entries, network_type, lowest, highest, option):
    """``low:high`` entries of tunnel ids -> ``[(low, high), ...]``, each bound within lowest..highest."""
    ranges = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) != 2:
            raise _tunnel_error(option, entry, "expected <min>:<max>")
        try:
            low, high = (int(part.strip()) for part in parts)
        except ValueError as error:
            raise _tunnel_error(option, entry, error) from None
        for bound in (low, high):
            if not lowest <= bound <= highest:
                raise _tunnel_error(option, entry, "%s is not a valid %s identifier" % (bound, network_type))
        if high < low:
            raise _tunnel_error(option, entry, "End of tunnel range is less than start of tunnel range")
        ranges.append((low, high))
    return ranges


def _tunnel_error(option, entry, reason):
    return ValueError("%s: Invalid network tunnel range: '%s' - %s." % (option, entry, reason))


def merge_ranges(ranges):
    """Sorted ranges with overlapping or touching ones joined, so no id is counted twice."""
    merged = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def in_ranges(value, ranges):
    return any(low <= value <= high for low, high in ranges)

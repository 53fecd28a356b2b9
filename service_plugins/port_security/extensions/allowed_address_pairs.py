"""allowed-address-pairs: more addresses (IPs, CIDRs, MACs) a port may send from."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, attrs
from netweave.core.api.resource import Attribute as A

# Neutron's [DEFAULT] max_allowed_address_pair.
MAX_PAIRS = 10


def _pair(value):
    if not isinstance(value, dict):
        raise v.AttributeInvalid("Allowed address pairs must be a list of dictionaries.")
    unknown = sorted(set(value) - {"ip_address", "mac_address"})
    if unknown:
        raise v.AttributeInvalid("Unrecognized attribute(s) '%s'" % ", ".join(unknown))
    if "ip_address" not in value:
        raise v.AttributeInvalid("AllowedAddressPair must contain ip_address")
    pair = {"ip_address": v.ip_or_cidr(value["ip_address"])}
    if value.get("mac_address") is not None:
        pair["mac_address"] = v.mac_address(value["mac_address"])
    return pair


def address_pairs(value):
    """A list of {"ip_address": IP or CIDR, "mac_address"?}; None means none."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise v.AttributeInvalid("Allowed address pairs must be a list.")
    return [_pair(item) for item in value]


EXTENSION = Extension(
    alias="allowed-address-pairs", name="Allowed Address Pairs", description="Provides allowed address pairs.",
    updated="2013-07-23T10:00:00-00:00",
    extended_attributes={"ports": attrs(
        A("allowed_address_pairs", allow_post=True, allow_put=True, default=MISSING, convert=address_pairs,
          enforce_policy=True))},
)

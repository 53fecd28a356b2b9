"""Port MAC addresses derived from the configured base_mac.

Uniqueness per network is enforced by the ports table's unique constraint;
a caller that loses that race retries with a freshly generated address.
"""
import random
import re

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$")
# Neutron refuses these two even though they are well formed.
_RESERVED_MACS = ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")


def is_valid_mac(value):
    """Six hex octets split by ':' or '-', neither all zeros nor broadcast."""
    if not isinstance(value, str) or not _MAC_RE.match(value):
        return False
    return value.lower().replace("-", ":") not in _RESERVED_MACS


def generate_mac(base_mac, rng=random):
    """A random MAC under ``base_mac``, as Neutron builds one.

    The first three octets (the OUI) are kept; the fourth is kept too when it
    is not 00, which lets deployments split one OUI between them. The rest is
    random. ``rng`` is any object with ``getrandbits`` (for tests).
    """
    if not is_valid_mac(base_mac):
        raise ValueError("'%s' is not a valid base MAC address" % (base_mac,))
    base = [int(octet, 16) for octet in re.split("[:-]", base_mac)]
    octets = base[:3] + [rng.getrandbits(8) for _ in range(3)]
    if base[3] != 0:
        octets[3] = base[3]
    return ":".join("%02x" % octet for octet in octets)

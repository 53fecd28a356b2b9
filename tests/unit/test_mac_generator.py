"""MAC generation under base_mac and MAC validity."""
import random

import pytest

from netweave.core.ipam import mac_generator


class FixedBits:
    """Hands out the given bytes in order instead of random ones."""

    def __init__(self, values):
        self.values = list(values)

    def getrandbits(self, bits):
        assert bits == 8
        return self.values.pop(0)


def test_default_base_keeps_the_oui():
    assert mac_generator.generate_mac("fa:16:3e:00:00:00", FixedBits([0xd0, 0x95, 0x55])) == "fa:16:3e:d0:95:55"


def test_non_zero_fourth_octet_is_kept():
    assert mac_generator.generate_mac("fa:16:3e:4f:00:00", FixedBits([0x01, 0x02, 0x03])) == "fa:16:3e:4f:02:03"


def test_fifth_and_sixth_base_octets_are_ignored():
    assert mac_generator.generate_mac("fa:16:3e:00:aa:bb", FixedBits([0, 0, 1])) == "fa:16:3e:00:00:01"


def test_upper_case_and_dash_base():
    assert mac_generator.generate_mac("FA-16-3E-00-00-00", FixedBits([0xab, 0xcd, 0xef])) == "fa:16:3e:ab:cd:ef"


def test_many_generated_macs_are_valid_and_share_the_prefix():
    rng = random.Random(7)
    macs = {mac_generator.generate_mac("fa:16:3e:00:00:00", rng) for _ in range(500)}
    assert len(macs) > 490
    for mac in macs:
        assert mac.startswith("fa:16:3e:")
        assert mac_generator.is_valid_mac(mac)
        assert mac == mac.lower()


@pytest.mark.parametrize("base", ["", "fa:16:3e", "zz:16:3e:00:00:00", "00:00:00:00:00:00", None])
def test_invalid_base_is_refused(base):
    with pytest.raises(ValueError):
        mac_generator.generate_mac(base)


@pytest.mark.parametrize("mac", ["fa:16:3e:d0:95:55", "FA:16:3E:0C:D2:AB", "fa-16-3e-00-00-01",
                                 "01:00:5e:00:00:01"])
def test_valid_macs(mac):
    assert mac_generator.is_valid_mac(mac)


@pytest.mark.parametrize("mac", ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF",
                                 "fa:16:3e:00:00", "fa:16:3e:00:00:00:00", "fa16.3e00.0000",
                                 "fa:16-3e:00:00:00", "gg:16:3e:00:00:00", "", None, 42])
def test_invalid_macs(mac):
    assert not mac_generator.is_valid_mac(mac)

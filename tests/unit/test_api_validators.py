"""Attribute converters: what they accept, how they normalise and what they refuse."""
import pytest

from netweave.core.api import validators as v


@pytest.mark.parametrize("raw,expected", [
    (True, True), ("true", True), ("False", False), ("0", False), (1, True), (0, False)])
def test_boolean_accepts_neutron_spellings(raw, expected):
    assert v.boolean(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, None, [], {}])
def test_boolean_refuses_others(raw):
    with pytest.raises(v.AttributeInvalid, match="cannot be converted to boolean"):
        v.boolean(raw)


@pytest.mark.parametrize("raw,expected", [
    ("192.168.1.5", "192.168.1.5"), ("2001:DB8::1", "2001:db8::1")])
def test_ip_address_normalises(raw, expected):
    assert v.ip_address(raw) == expected


@pytest.mark.parametrize("raw", ["10.1", "010.0.0.1", "300.1.1.1", "abc", 12, None, "1.2.3.4/24"])
def test_ip_address_is_strict(raw):
    with pytest.raises(v.AttributeInvalid, match="not a valid IP address"):
        v.ip_address(raw)


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "10.0.0.0", "10.0.0.0/x", "::/129", "1.2.3/24", 5])
def test_cidr_refuses_bad_subnets(raw):
    with pytest.raises(v.AttributeInvalid):
        v.cidr(raw)


def test_cidr_keeps_host_bits_for_ipam_to_normalise():
    assert v.cidr("192.168.1.5/24") == "192.168.1.5/24"


@pytest.mark.parametrize("raw", ["00:00:00:00:00:00", "01:00:5e:00:00:01", "fa:16:3e:00:00", "zz:16:3e:00:00:01"])
def test_mac_refuses_zero_multicast_and_malformed(raw):
    with pytest.raises(v.AttributeInvalid, match="not a valid MAC address"):
        v.mac_address(raw)


def test_mac_is_lowercased_with_colons():
    assert v.mac_address("FA-16-3E-0C-D2-AB") == "fa:16:3e:0c:d2:ab"


def test_uuid_accepts_hyphenless_and_normalises():
    assert v.uuid_value("D51943EF80614BDBB6847A8D2B7CE73B") == "d51943ef-8061-4bdb-b684-7a8d2b7ce73b"
    with pytest.raises(v.AttributeInvalid, match="not a valid UUID"):
        v.uuid_value("not-a-uuid")


def test_integer_bounds_and_types():
    check = v.integer(1, 10)
    assert check("7") == 7
    for bad, reason in ((0, "too small"), (11, "too large"), (True, "not an integer"), ("x", "not an integer")):
        with pytest.raises(v.AttributeInvalid, match=reason):
            check(bad)


def test_string_length_limit():
    with pytest.raises(v.AttributeInvalid, match="exceeds maximum length of 3"):
        v.string(3)("abcd")
    with pytest.raises(v.AttributeInvalid, match="not a valid string"):
        v.string(3)(5)


def test_dict_of_checks_keys_and_values():
    check = v.dict_of({"start": v.ip_address, "end": v.ip_address}, required=("start", "end"))
    assert check({"start": "10.0.0.2", "end": "10.0.0.9"}) == {"start": "10.0.0.2", "end": "10.0.0.9"}
    with pytest.raises(v.AttributeInvalid, match="Expected keys"):
        check({"start": "10.0.0.2"})
    with pytest.raises(v.AttributeInvalid, match="Unexpected keys"):
        check({"start": "10.0.0.2", "end": "10.0.0.9", "size": 3})


def test_list_of_unique():
    with pytest.raises(v.AttributeInvalid, match="Duplicate"):
        v.list_of(v.string(10), unique=True)(["a", "a"])

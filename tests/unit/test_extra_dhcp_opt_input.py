"""The extra_dhcp_opts input check: Neutron's accepted forms, and 400s for the rest."""
import pytest

from netweave.core.api import validators as v
from netweave.extensions import extra_dhcp_opt

check = extra_dhcp_opt.extra_dhcp_opts


def test_ip_version_defaults_to_4_and_accepts_the_clis_strings():
    assert check([{"opt_name": "tftp-server", "opt_value": "10.0.0.9"},
                  {"opt_name": "tftp-server", "opt_value": "fd00::9", "ip_version": "6"}]) == [
        {"opt_name": "tftp-server", "opt_value": "10.0.0.9", "ip_version": 4},
        {"opt_name": "tftp-server", "opt_value": "fd00::9", "ip_version": 6}]


def test_missing_or_null_value_means_remove_and_null_list_means_none():
    assert check([{"opt_name": "mtu"}]) == [{"opt_name": "mtu", "opt_value": None, "ip_version": 4}]
    assert check([{"opt_name": "mtu", "opt_value": None}])[0]["opt_value"] is None
    assert check(None) == []


@pytest.mark.parametrize("bad", [
    "tftp-server", {"opt_name": "x"}, [{"opt_value": "1"}], [{"opt_name": "", "opt_value": "1"}],
    [{"opt_name": "  ", "opt_value": "1"}], [{"opt_name": "x", "opt_value": ""}],
    [{"opt_name": "x", "opt_value": "1", "ip_version": 5}], [{"opt_name": "x", "opt_value": "1", "ip_version": True}],
    [{"opt_name": "x", "opt_value": 1}], [{"opt_name": "x" * 65, "opt_value": "1"}],
    [{"opt_name": "x", "opt_value": "1" * 256}], [{"opt_name": "x", "opt_value": "1", "extra": 1}],
    [{"opt_name": "x", "opt_value": "1"}, {"opt_name": "x", "opt_value": "2", "ip_version": 4}],
])
def test_bad_input_is_refused(bad):
    with pytest.raises(v.AttributeInvalid):
        check(bad)

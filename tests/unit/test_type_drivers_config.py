"""Type drivers without a database: range parsing, MTU arithmetic, provider validation."""
import pytest
from oslo_config import cfg

from netweave.core import exceptions as exc
from netweave.core.api.resource import MISSING
from netweave.core.plugins.ml2 import loading
from netweave.core.plugins.ml2 import type_manager as type_manager_mod
from netweave.type_drivers import flat, geneve, gre, local, mtu, ranges, vlan, vxlan

VXLAN_MAX = 2 ** 24 - 1
GRE_MAX = 2 ** 32 - 1


@pytest.fixture
def config():
    """``config(group, name, value)`` overrides an option until the test ends ("DEFAULT": no group)."""
    overridden = []

    def override(group, name, value):
        group = None if group == "DEFAULT" else group
        cfg.CONF.set_override(name, value, group=group)
        overridden.append((group, name))

    yield override
    for group, name in reversed(overridden):
        cfg.CONF.clear_override(name, group=group)


def initialized(driver_class):
    driver = driver_class()
    driver.initialize()
    return driver


def invalid_input(call, *args):
    with pytest.raises(exc.InvalidInput) as caught:
        call(*args)
    assert caught.value.status == 400
    return str(caught.value)


def segment(network_type, physical_network=None, segmentation_id=None):
    return {"network_type": network_type, "physical_network": physical_network,
            "segmentation_id": segmentation_id}


# --- range parsing ----------------------------------------------------------------


def test_vlan_ranges_may_be_split_and_repeat_a_physnet():
    parsed = ranges.parse_vlan_ranges(["physnet1:40:43", "physnet1:51:55", " physnet2 : 1 : 4094 "])
    assert parsed == {"physnet1": [(40, 43), (51, 55)], "physnet2": [(1, 4094)]}


def test_vlan_physnet_without_range_serves_provider_networks_only():
    assert ranges.parse_vlan_ranges(["physnet2", "physnet1:1:2"]) == {"physnet2": [], "physnet1": [(1, 2)]}


@pytest.mark.parametrize("entry, reason", [
    ("physnet1:10", "Need exactly two values for VLAN range"),
    ("physnet1:1:2:3", "Need exactly two values for VLAN range"),
    ("physnet1:0:10", "0 is not a valid VLAN tag"),
    ("physnet1:1:4095", "4095 is not a valid VLAN tag"),
    ("physnet1:a:3", "a is not a valid VLAN tag"),
    ("physnet1:20:10", "End of VLAN range is less than start of VLAN range"),
    (":1:2", "Empty physical network name"),
])
def test_bad_vlan_range_names_option_and_entry(entry, reason):
    with pytest.raises(ValueError) as caught:
        ranges.parse_vlan_ranges([entry])
    assert str(caught.value).startswith("[ml2_type_vlan] network_vlan_ranges: ")
    assert reason in str(caught.value)
    assert entry in str(caught.value)


def test_tunnel_ranges_parse_like_the_book():
    assert ranges.parse_id_ranges(["1:1000", "2000:2500"], "vxlan", 1, VXLAN_MAX, "[x] y") == [
        (1, 1000), (2000, 2500)]
    assert ranges.parse_id_ranges(["1:%d" % GRE_MAX], "gre", 1, GRE_MAX, "[x] y") == [(1, GRE_MAX)]


@pytest.mark.parametrize("entry, reason", [
    ("0:10", "0 is not a valid vxlan identifier"),
    ("1:%d" % (VXLAN_MAX + 1), "%d is not a valid vxlan identifier" % (VXLAN_MAX + 1)),
    ("10:5", "End of tunnel range is less than start of tunnel range"),
    ("100", "expected <min>:<max>"),
    ("1:x", "invalid literal"),
])
def test_bad_tunnel_range(entry, reason):
    with pytest.raises(ValueError) as caught:
        ranges.parse_id_ranges([entry], "vxlan", 1, VXLAN_MAX, "[ml2_type_vxlan] vni_ranges")
    assert str(caught.value).startswith("[ml2_type_vxlan] vni_ranges: Invalid network tunnel range: '%s'" % entry)
    assert reason in str(caught.value)


def test_merge_ranges_joins_overlapping_and_adjacent():
    assert ranges.merge_ranges([(20, 30), (1, 5), (4, 10), (11, 12), (40, 40)]) == [(1, 12), (20, 30), (40, 40)]


def test_in_ranges():
    assert ranges.in_ranges(41, [(40, 43), (51, 55)])
    assert not ranges.in_ranges(44, [(40, 43), (51, 55)])
    assert not ranges.in_ranges(1, [])


@pytest.mark.parametrize("driver_class, group, option, value", [
    (vxlan.VxlanTypeDriver, "ml2_type_vxlan", "vni_ranges", ["5:1"]),
    (gre.GreTypeDriver, "ml2_type_gre", "tunnel_id_ranges", ["0:10"]),
    (geneve.GeneveTypeDriver, "ml2_type_geneve", "vni_ranges", ["1:16777216"]),
    (vlan.VlanTypeDriver, "ml2_type_vlan", "network_vlan_ranges", ["physnet1:1"]),
    (vlan.VlanTypeDriver, "ml2", "physical_network_mtus", ["physnet1"]),
])
def test_driver_initialize_rejects_bad_option(config, driver_class, group, option, value):
    config(group, option, value)
    with pytest.raises(ValueError, match=r"^\[%s\] %s: " % (group, option)):
        initialized(driver_class)


# --- MTU ------------------------------------------------------------------------


@pytest.mark.parametrize("global_mtu, path_mtu, ip_version, overhead, expected", [
    (1500, 0, 4, mtu.VXLAN_ENCAP_OVERHEAD, 1450),
    (1500, 0, 4, mtu.GRE_ENCAP_OVERHEAD, 1458),
    (1500, 0, 6, mtu.VXLAN_ENCAP_OVERHEAD, 1430),
    (1500, 1400, 4, mtu.VXLAN_ENCAP_OVERHEAD, 1350),   # path_mtu lower than the physnet: it wins
    (1500, 9000, 4, mtu.VXLAN_ENCAP_OVERHEAD, 1450),   # ... higher: the physnet wins
    (9000, 0, 4, mtu.VXLAN_ENCAP_OVERHEAD, 8950),
    (0, 1500, 4, mtu.GRE_ENCAP_OVERHEAD, 1458),
    (0, 0, 4, mtu.VXLAN_ENCAP_OVERHEAD, 0),
])
def test_overlay_mtu(global_mtu, path_mtu, ip_version, overhead, expected):
    assert mtu.overlay_mtu(global_mtu, path_mtu, ip_version, overhead) == expected


@pytest.mark.parametrize("global_mtu, physnet_mtus, expected", [
    (1500, {}, 1500),
    (1500, {"physnet1": 1400}, 1400),
    (1500, {"physnet1": 9000}, 1500),   # Neutron takes the smaller of the two
    (0, {"physnet1": 9000}, 9000),
    (1500, {"physnet2": 1400}, 1500),
    (0, {}, 0),
])
def test_physnet_mtu(global_mtu, physnet_mtus, expected):
    assert mtu.physnet_mtu(global_mtu, physnet_mtus, "physnet1") == expected


def test_parse_physnet_mtus():
    assert mtu.parse_physnet_mtus(["physnet1:9000", " physnet2 : 1400 "]) == {"physnet1": 9000, "physnet2": 1400}


@pytest.mark.parametrize("entries, reason", [
    (["physnet1"], "Invalid mapping: 'physnet1'"),
    ([":1500"], "Invalid mapping: ':1500'"),
    (["physnet1:big"], "MTU 'big' of physical network physnet1 is not an integer"),
    (["physnet1:1500", "physnet1:9000"], "Key physnet1 in mapping: 'physnet1:9000' not unique"),
])
def test_bad_physnet_mtus(entries, reason):
    with pytest.raises(ValueError, match=r"^\[ml2\] physical_network_mtus: ") as caught:
        mtu.parse_physnet_mtus(entries)
    assert reason in str(caught.value)


def test_default_mtus_on_a_1500_underlay():
    assert initialized(vxlan.VxlanTypeDriver).get_mtu() == 1450
    assert initialized(gre.GreTypeDriver).get_mtu() == 1458
    assert initialized(geneve.GeneveTypeDriver).get_mtu() == 1450
    assert initialized(flat.FlatTypeDriver).get_mtu("physnet1") == 1500
    assert initialized(vlan.VlanTypeDriver).get_mtu("physnet1") == 1500
    assert initialized(local.LocalTypeDriver).get_mtu() == 0


def test_path_mtu_caps_tunnels_only(config):
    config("ml2", "path_mtu", 1400)
    assert initialized(vxlan.VxlanTypeDriver).get_mtu() == 1350
    assert initialized(vlan.VlanTypeDriver).get_mtu("physnet1") == 1500
    assert initialized(flat.FlatTypeDriver).get_mtu("physnet1") == 1500


def test_ipv6_overlay_and_geneve_header_size(config):
    config("ml2", "overlay_ip_version", 6)
    config("ml2_type_geneve", "max_header_size", 38)
    assert initialized(vxlan.VxlanTypeDriver).get_mtu() == 1430
    assert initialized(gre.GreTypeDriver).get_mtu() == 1438
    assert initialized(geneve.GeneveTypeDriver).get_mtu() == 1422


def test_physical_network_mtus_apply_per_physnet(config):
    config("ml2", "physical_network_mtus", ["physnet1:1400"])
    driver = initialized(vlan.VlanTypeDriver)
    assert driver.get_mtu("physnet1") == 1400
    assert driver.get_mtu("physnet2") == 1500


def test_jumbo_underlay(config):
    config("DEFAULT", "global_physnet_mtu", 9000)
    assert initialized(vxlan.VxlanTypeDriver).get_mtu() == 8950
    assert initialized(flat.FlatTypeDriver).get_mtu("physnet1") == 9000


# --- provider validation -----------------------------------------------------------


@pytest.mark.parametrize("physnet, segmentation_id, message", [
    ("physnet1", None, "physical_network prohibited for local provider network"),
    (None, 5, "segmentation_id prohibited for local provider network"),
])
def test_local_takes_no_physnet_or_id(physnet, segmentation_id, message):
    driver = initialized(local.LocalTypeDriver)
    text = invalid_input(driver.validate_provider_segment, segment("local", physnet, segmentation_id))
    assert text == "Invalid input for operation: %s." % message
    driver.validate_provider_segment(segment("local"))


def test_flat_rules(config):
    driver = initialized(flat.FlatTypeDriver)
    assert invalid_input(driver.validate_provider_segment, segment("flat")) == (
        "Invalid input for operation: physical_network required for flat provider network.")
    assert "segmentation_id prohibited for flat provider network" in invalid_input(
        driver.validate_provider_segment, segment("flat", "physnet1", 10))
    driver.validate_provider_segment(segment("flat", "anything"))    # default '*': any physnet

    config("ml2_type_flat", "flat_networks", ["physnet1"])
    driver = initialized(flat.FlatTypeDriver)
    driver.validate_provider_segment(segment("flat", "physnet1"))
    assert "physical_network 'physnet2' unknown for flat provider network" in invalid_input(
        driver.validate_provider_segment, segment("flat", "physnet2"))

    config("ml2_type_flat", "flat_networks", [])
    driver = initialized(flat.FlatTypeDriver)
    assert "Flat provider networks are disabled" in invalid_input(
        driver.validate_provider_segment, segment("flat", "physnet1"))


@pytest.mark.parametrize("vlan_id", [0, 4095, -1])
def test_vlan_id_out_of_range(config, vlan_id):
    config("ml2_type_vlan", "network_vlan_ranges", ["physnet1:40:43"])
    driver = initialized(vlan.VlanTypeDriver)
    assert invalid_input(driver.validate_provider_segment, segment("vlan", "physnet1", vlan_id)) == (
        "Invalid input for operation: segmentation_id out of range (1 through 4094).")


def test_vlan_rules(config):
    config("ml2_type_vlan", "network_vlan_ranges", ["physnet1:40:43", "physnet2"])
    driver = initialized(vlan.VlanTypeDriver)
    for accepted in (segment("vlan", "physnet1", 1), segment("vlan", "physnet1", 4094),
                     segment("vlan", "physnet2", 300), segment("vlan", "physnet1"), segment("vlan")):
        driver.validate_provider_segment(accepted)
    assert "physical_network 'physnet9' unknown for VLAN provider network" in invalid_input(
        driver.validate_provider_segment, segment("vlan", "physnet9", 10))
    assert "segmentation_id requires physical_network for VLAN provider network" in invalid_input(
        driver.validate_provider_segment, segment("vlan", None, 10))


def test_vlan_partial_segments():
    driver = initialized(vlan.VlanTypeDriver)
    assert driver.is_partial_segment(segment("vlan", "physnet1"))
    assert not driver.is_partial_segment(segment("vlan", "physnet1", 5))


@pytest.mark.parametrize("driver_class, highest", [
    (vxlan.VxlanTypeDriver, VXLAN_MAX), (geneve.GeneveTypeDriver, VXLAN_MAX), (gre.GreTypeDriver, GRE_MAX)])
def test_tunnel_ids(driver_class, highest):
    driver = initialized(driver_class)
    network_type = driver.get_type()
    driver.validate_provider_segment(segment(network_type, None, 1))
    driver.validate_provider_segment(segment(network_type, None, highest))
    driver.validate_provider_segment(segment(network_type))
    for bad in (0, highest + 1):
        assert invalid_input(driver.validate_provider_segment, segment(network_type, None, bad)) == (
            "Invalid input for operation: segmentation_id out of range (1 through %d)." % highest)
    assert invalid_input(driver.validate_provider_segment, segment(network_type, "physnet1", 5)) == (
        "Invalid input for operation: provider:physical_network specified for %s network." % network_type)


# --- type manager ---------------------------------------------------------------------


@pytest.fixture
def manager(config):
    config("ml2", "type_drivers", ["local", "flat", "vlan", "vxlan"])
    config("ml2", "tenant_network_types", ["vlan", "vxlan"])
    config("ml2_type_vlan", "network_vlan_ranges", ["physnet1:40:43"])
    config("ml2_type_vxlan", "vni_ranges", ["1:1000"])
    type_manager = type_manager_mod.TypeManager()
    type_manager.initialize()
    return type_manager


def test_manager_loads_named_drivers(manager):
    assert sorted(manager.drivers) == ["flat", "local", "vlan", "vxlan"]
    assert isinstance(manager.get_driver("vxlan"), vxlan.VxlanTypeDriver)
    assert manager.tenant_network_types == ["vlan", "vxlan"]


def test_unknown_type_driver_name_stops_start_up(config):
    config("ml2", "type_drivers", ["vlan", "nosuch"])
    config("ml2", "tenant_network_types", ["vlan"])
    with pytest.raises(loading.UnknownDriver) as caught:
        type_manager_mod.TypeManager()
    assert "'nosuch'" in str(caught.value)
    assert "flat, geneve, gre, local, vlan, vxlan" in str(caught.value)


def test_tenant_type_without_driver_stops_start_up(config):
    config("ml2", "type_drivers", ["vlan"])
    config("ml2", "tenant_network_types", ["vxlan"])
    with pytest.raises(loading.UnknownDriver, match="tenant_network_types lists 'vxlan'"):
        type_manager_mod.TypeManager()


def test_unsupported_network_type(manager):
    assert invalid_input(manager.validate_provider_segment, segment("gre", None, 5)) == (
        "Invalid input for operation: network_type value 'gre' not supported.")


def test_provider_segment_from_request(manager):
    assert manager.provider_segment({}) is None
    assert manager.provider_segment({"provider:network_type": MISSING, "provider:physical_network": None,
                                     "provider:segmentation_id": MISSING}) is None
    assert manager.provider_segment({"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                                     "provider:segmentation_id": 300}) == segment("vlan", "physnet1", 300)
    assert manager.provider_segment({"provider:network_type": "vxlan",
                                     "provider:segmentation_id": MISSING}) == segment("vxlan")
    assert invalid_input(manager.provider_segment, {"provider:segmentation_id": 5}) == (
        "Invalid input for operation: network_type required.")


def test_network_mtu_is_smallest_segment_mtu(manager, config):
    assert manager.get_network_mtu([segment("vxlan", None, 5)]) == 1450
    assert manager.get_network_mtu([segment("vlan", "physnet1", 40), segment("vxlan", None, 5)]) == 1450
    # local networks state no MTU: the network gets global_physnet_mtu, as in Neutron.
    assert manager.get_network_mtu([segment("local")]) == 1500
    assert manager.get_network_mtu([]) == 1500
    assert manager.get_network_mtu([segment("geneve", None, 5)]) == 1500   # type not loaded
    config("DEFAULT", "global_physnet_mtu", 9000)
    assert manager.get_network_mtu([segment("local")]) == 9000


def test_extend_network_dict_provider(manager):
    result = {"id": "net"}
    manager.extend_network_dict_provider(result, [segment("vlan", "physnet1", 40), segment("vxlan", None, 7)])
    assert result == {"id": "net", "provider:network_type": "vlan", "provider:physical_network": "physnet1",
                      "provider:segmentation_id": 40}
    manager.extend_network_dict_provider(result, [])
    assert result["provider:network_type"] is None
    assert result["provider:segmentation_id"] is None

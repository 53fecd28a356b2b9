"""The datapath check the Open vSwitch agent makes at start-up (pure: fake /sys and module trees)."""
import os

import pytest

from netweave.mechanism_drivers.openvswitch import datapath


def test_netdev_needs_nothing_from_the_kernel():
    datapath.check("netdev", module_available=False)


def test_system_without_the_module_is_refused_with_the_way_out():
    with pytest.raises(datapath.DatapathUnavailable) as error:
        datapath.check("system", module_available=False)
    message = str(error.value)
    assert "openvswitch kernel module" in message
    assert "datapath_type = netdev" in message


def test_system_with_the_module_passes():
    datapath.check("system", module_available=True)


def test_a_loaded_module_is_found_in_sys(tmp_path):
    (tmp_path / "sys" / "openvswitch").mkdir(parents=True)
    assert datapath.kernel_module_available(sys_root=str(tmp_path / "sys"), module_roots=())


def test_a_loadable_module_file_is_found(tmp_path):
    folder = tmp_path / "modules" / os.uname().release / "kernel" / "net" / "openvswitch"
    folder.mkdir(parents=True)
    (folder / "openvswitch.ko.zst").write_bytes(b"")
    assert datapath.kernel_module_available(sys_root=str(tmp_path / "sys"),
                                            module_roots=(str(tmp_path / "modules"),))


def test_neither_loaded_nor_loadable(tmp_path):
    folder = tmp_path / "modules" / os.uname().release / "kernel" / "net" / "openvswitch"
    folder.mkdir(parents=True)
    (folder / "README").write_text("no module here")
    assert not datapath.kernel_module_available(sys_root=str(tmp_path / "sys"),
                                                module_roots=(str(tmp_path / "modules"),))

"""harness.tempest.parse_results: subunit2csv's table as the tempest suite test counts it."""
from harness import tempest

TABLE = """test,status,start_time,stop_time
"tempest.api.network.test_ports.PortsTestJSON.test_create_port[id-1,smoke]",success,t0,t1
tempest.api.network.test_ports.PortsTestJSON.test_list_ports[id-2],failure,t0,t1
tempest.api.network.test_ports.PortsTestJSON.test_show_port[id-3],fail,t0,t1
tempest.api.network.admin.test_ports.PortsAdminTestJSON.test_binding[id-4],skip,t0,t1
setUpClass (tempest.api.network.test_tags.TagsExtTest),fail,t0,t1
tempest.api.network.test_x.X.test_expected[id-5],xfail,t0,t1
tempest.api.network.test_x.X.test_odd[id-6],uxsuccess,t0,t1
"""


def test_statuses_are_success_skip_or_fail_and_ids_lose_their_tags():
    assert tempest.parse_results(TABLE) == {
        "tempest.api.network.test_ports.PortsTestJSON.test_create_port": "success",
        "tempest.api.network.test_ports.PortsTestJSON.test_list_ports": "fail",
        "tempest.api.network.test_ports.PortsTestJSON.test_show_port": "fail",
        "tempest.api.network.admin.test_ports.PortsAdminTestJSON.test_binding": "skip",
        "setUpClass (tempest.api.network.test_tags.TagsExtTest)": "fail",
        "tempest.api.network.test_x.X.test_expected": "success",
        "tempest.api.network.test_x.X.test_odd": "fail",
    }

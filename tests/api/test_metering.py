"""The metering extension against a live netweave-server with service_plugins = router,metering
(SQLite and PostgreSQL): the real `openstack network meter` / `meter rule` commands, and with plain
HTTP Neutron's shapes, checks, error texts and admin-only policies."""
import uuid

import pytest
import requests

from harness import ml2_plugin, server
from harness.cli import Cli

ML2 = {"type_drivers": "local,flat,vlan,vxlan", "tenant_network_types": "vxlan"}
MEMBER = {"X-Project-Id": "meter-member", "X-Roles": "member"}
LABEL_KEYS = {"id", "name", "description", "tenant_id", "project_id", "shared"}
RULE_KEYS = {"id", "metering_label_id", "direction", "excluded", "remote_ip_prefix", "source_ip_prefix",
             "destination_ip_prefix"}


@pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
def metering_server(request, tmp_path_factory):
    url = database = postgres = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        database = postgres.create_database()
        url = postgres.url_for(database)
    running = server.start_server(str(tmp_path_factory.mktemp("metering")), database_url=url, ml2=ML2,
                                  extra="\n[DEFAULT]\nservice_plugins = router,metering\n")
    try:
        yield running
    finally:
        running.stop()
        if database is not None:
            postgres.drop_database(database)


class Api:
    def __init__(self, url):
        self.base = url + "/v2.0"

    def call(self, method, path, body=None, headers=None):
        return requests.request(method, self.base + path, json=body, headers=headers, timeout=60)

    def make(self, path, body, key):
        response = self.call("POST", path, body)
        assert response.status_code == 201, response.text
        return response.json()[key]

    def error(self, method, path, body=None, status=400, headers=None):
        response = self.call(method, path, body, headers)
        assert response.status_code == status, (response.status_code, response.text)
        return response.json()["NeutronError"]


@pytest.fixture(scope="module")
def api(metering_server):
    return Api(metering_server.url)


@pytest.fixture
def label(api):
    made = api.make("/metering/metering-labels", {"metering_label": {"name": "lbl-%s" % uuid.uuid4().hex[:6]}},
                    "metering_label")
    yield made
    api.call("DELETE", "/metering/metering-labels/" + made["id"])


def rule(api, label_id, **fields):
    return api.call("POST", "/metering/metering-label-rules",
                    {"metering_label_rule": dict({"metering_label_id": label_id, "direction": "ingress"}, **fields)})


def test_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.call("GET", "/extensions").json()["extensions"]}
    assert {"metering", "metering_source_and_destination_fields"} <= aliases
    # The collections live under /metering only.
    assert api.call("GET", "/metering-labels").status_code == 404


def test_the_cli_meter_commands(metering_server):
    cli = Cli(metering_server.url)
    meter = cli.json("network", "meter", "create", "--description", "the book's traffic", "--share", "MyMeter")
    assert (meter["name"], meter["description"], meter["shared"]) == ("MyMeter", "the book's traffic", True)
    assert [m["Name"] for m in cli.json("network", "meter", "list")] == ["MyMeter"]
    assert cli.json("network", "meter", "show", "MyMeter")["id"] == meter["id"]

    legacy = cli.json("network", "meter", "rule", "create", "--remote-ip-prefix", "203.0.113.0/24", "MyMeter")
    assert (legacy["direction"], legacy["is_excluded"], legacy["remote_ip_prefix"], legacy["metering_label_id"]) == (
        "ingress", False, "203.0.113.0/24", meter["id"])
    excluded = cli.json("network", "meter", "rule", "create", "--egress", "--exclude", "--remote-ip-prefix",
                        "203.0.113.7/32", "MyMeter")
    assert (excluded["direction"], excluded["is_excluded"]) == ("egress", True)
    split = cli.json("network", "meter", "rule", "create", "--egress", "--source-ip-prefix", "10.0.0.0/24",
                     "--destination-ip-prefix", "198.51.100.0/24", "MyMeter")
    assert (split["source_ip_prefix"], split["destination_ip_prefix"], split["remote_ip_prefix"]) == (
        "10.0.0.0/24", "198.51.100.0/24", None)
    rows = cli.json("network", "meter", "rule", "list")
    assert sorted(r["ID"] for r in rows) == sorted([legacy["id"], excluded["id"], split["id"]])
    assert cli.json("network", "meter", "rule", "show", split["id"])["destination_ip_prefix"] == "198.51.100.0/24"
    # An overlapping remote prefix (same label, direction and excluded) is refused.
    error = cli.fails("network", "meter", "rule", "create", "--remote-ip-prefix", "203.0.113.128/25", "MyMeter")
    assert "Metering label rule with remote_ip_prefix '203.0.113.128/25' overlaps another." in error
    cli.run("network", "meter", "rule", "delete", legacy["id"])
    assert len(cli.json("network", "meter", "rule", "list")) == 2
    # Deleting the meter takes its rules with it.
    cli.run("network", "meter", "delete", "MyMeter")
    assert cli.json("network", "meter", "list") == []
    assert cli.json("network", "meter", "rule", "list") == []


def test_label_shape_and_defaults(api, label):
    assert set(label) == LABEL_KEYS
    assert (label["description"], label["shared"], label["project_id"]) == ("", False, label["tenant_id"])
    shown = api.call("GET", "/metering/metering-labels/" + label["id"]).json()["metering_label"]
    assert shown == label
    listed = api.call("GET", "/metering/metering-labels?shared=false&fields=id&fields=name").json()
    assert {"id": label["id"], "name": label["name"]} in listed["metering_labels"]


@pytest.mark.parametrize("path", ["/metering/metering-labels", "/metering/metering-label-rules", "/networks",
                                  "/ports?network_id=33"])
def test_id_filters_of_any_form_match_nothing(api, label, path):
    # Neutron does not check the form of id filter values: tempest lists labels with ?id=33.
    response = api.call("GET", path + ("&" if "?" in path else "?") + "id=33")
    assert response.status_code == 200, response.text
    assert list(response.json().values())[0] == []
    # A UUID in capitals is still the id it spells.
    response = api.call("GET", "/metering/metering-labels?id=" + label["id"].upper())
    assert [item["id"] for item in response.json()["metering_labels"]] == [label["id"]]


def test_rule_shape_and_defaults(api, label):
    response = rule(api, label["id"], remote_ip_prefix="10.1.0.0/16")
    assert response.status_code == 201, response.text
    created = response.json()["metering_label_rule"]
    assert set(created) == RULE_KEYS
    assert (created["excluded"], created["source_ip_prefix"], created["destination_ip_prefix"]) == (
        False, None, None)
    filtered = api.call("GET", "/metering/metering-label-rules?metering_label_id=%s&direction=ingress"
                        % label["id"]).json()["metering_label_rules"]
    assert [r["id"] for r in filtered] == [created["id"]]


@pytest.mark.parametrize("fields, message", [
    ({}, "You must define at least one of the following parameters 'remote_ip_prefix', or 'source_ip_prefix' "
         "or 'destination_ip_prefix'."),
    ({"remote_ip_prefix": "10.0.0.0/8", "source_ip_prefix": "10.0.0.0/8"},
     "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'."),
    ({"remote_ip_prefix": "10.0.0.0/33"}, "remote_ip_prefix: 10.0.0.0/33 is invalid ["),
    ({"destination_ip_prefix": "not-a-prefix"}, "destination_ip_prefix: not-a-prefix is invalid ["),
])
def test_rule_prefix_checks(api, label, fields, message):
    response = rule(api, label["id"], **fields)
    assert response.status_code == 400, response.text
    assert message in response.json()["NeutronError"]["message"]
    assert api.call("GET", "/metering/metering-label-rules?metering_label_id=" + label["id"]).json()[
        "metering_label_rules"] == []


def test_rule_attribute_checks(api, label):
    base = "/metering/metering-label-rules"
    error = api.error("POST", base, {"metering_label_rule": {"metering_label_id": label["id"], "direction": "up",
                                                             "remote_ip_prefix": "10.0.0.0/8"}})
    assert error["message"] == "Invalid input for direction. Reason: 'up' is not in ['ingress', 'egress']."
    error = api.error("POST", base, {"metering_label_rule": {"metering_label_id": label["id"],
                                                             "remote_ip_prefix": "10.0.0.0/8"}})
    assert "Required attribute 'direction' not specified" in error["message"]
    error = api.error("POST", base, {"metering_label_rule": {"metering_label_id": label["id"], "direction": "egress",
                                                             "remote_ip_prefix": "10.0.0.0/8", "excluded": "maybe"}})
    assert error["message"].startswith("Invalid input for excluded.")
    error = api.error("POST", base, {"metering_label_rule": {"metering_label_id": "nope", "direction": "egress",
                                                             "remote_ip_prefix": "10.0.0.0/8"}})
    assert error["message"].startswith("Invalid input for metering_label_id.")
    missing = str(uuid.uuid4())
    error = api.error("POST", base, {"metering_label_rule": {"metering_label_id": missing, "direction": "egress",
                                                             "remote_ip_prefix": "10.0.0.0/8"}}, status=404)
    assert (error["type"], error["message"]) == ("MeteringLabelNotFound",
                                                 "Metering label '%s' does not exist." % missing)
    error = api.error("GET", base + "/" + missing, status=404)
    assert (error["type"], error["message"]) == ("MeteringLabelRuleNotFound",
                                                 "Metering label rule '%s' does not exist." % missing)
    error = api.error("DELETE", "/metering/metering-labels/" + missing, status=404)
    assert error["type"] == "MeteringLabelNotFound"
    # Nothing is updatable, so neither collection serves PUT (as the OpenAPI description says).
    for path, member in (("/metering/metering-labels/" + label["id"], "metering_label"),
                         ("/metering/metering-label-rules/" + missing, "metering_label_rule")):
        error = api.error("PUT", path, {member: {"name": "x"}}, status=405)
        assert error["message"] == "The method PUT is not allowed for this resource."


def test_overlaps_are_judged_per_direction_and_excluded(api, label):
    assert rule(api, label["id"], remote_ip_prefix="192.0.2.0/24").status_code == 201
    response = rule(api, label["id"], remote_ip_prefix="192.0.2.64/26")
    assert response.status_code == 409
    assert response.json()["NeutronError"] == {
        "type": "MeteringLabelRuleOverlaps", "detail": "",
        "message": "Metering label rule with remote_ip_prefix '192.0.2.64/26' overlaps another."}
    # The same prefix is fine excluded, or the other way, or in source/destination form.
    assert rule(api, label["id"], remote_ip_prefix="192.0.2.64/26", excluded=True).status_code == 201
    assert rule(api, label["id"], remote_ip_prefix="192.0.2.0/24", direction="egress").status_code == 201
    assert rule(api, label["id"], source_ip_prefix="192.0.2.0/24").status_code == 201


def test_concurrent_overlapping_rules_on_one_label_leave_one(api, label):
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda i: rule(api, label["id"], remote_ip_prefix="10.%d.0.0/16" % 7).status_code,
                                 range(6)))
    assert sorted(statuses) == [201] + [409] * 5
    assert len(api.call("GET", "/metering/metering-label-rules?metering_label_id=" + label["id"]).json()[
        "metering_label_rules"]) == 1


def test_admin_only(api, label):
    error = api.error("POST", "/metering/metering-labels", {"metering_label": {"name": "mine"}}, status=403,
                      headers=MEMBER)
    assert error["type"] == "PolicyNotAuthorized"
    assert api.call("GET", "/metering/metering-labels", headers=MEMBER).json()["metering_labels"] == []
    api.error("GET", "/metering/metering-labels/" + label["id"], status=404, headers=MEMBER)
    api.error("POST", "/metering/metering-label-rules", {"metering_label_rule": {
        "metering_label_id": label["id"], "direction": "ingress", "remote_ip_prefix": "10.0.0.0/8"}},
        status=403, headers=MEMBER)
    api.error("DELETE", "/metering/metering-labels/" + label["id"], status=404, headers=MEMBER)

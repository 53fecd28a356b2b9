"""Tag changes bump the revision of service plugins' resources as they do the core's."""
import pytest
import requests


def _call(server, method, path, **kwargs):
    return requests.request(method, server.url + path, timeout=30, **kwargs)


@pytest.mark.parametrize("collection,member,body", [
    ("routers", "router", {"name": "tagged-router"}),
    ("security-groups", "security_group", {"name": "tagged-group"}),
    ("networks", "network", {"name": "tagged-network"}),
])
def test_setting_and_removing_tags_bumps_the_revision(aio_server, collection, member, body):
    created = _call(aio_server, "POST", "/v2.0/%s" % collection, json={member: body})
    assert created.status_code == 201, created.text
    item = created.json()[member]
    path = "/v2.0/%s/%s" % (collection, item["id"])
    before = item["revision_number"]
    assert _call(aio_server, "PUT", path + "/tags", json={"tags": ["blue", "red"]}).status_code == 200
    tagged = _call(aio_server, "GET", path).json()[member]
    assert sorted(tagged["tags"]) == ["blue", "red"]
    assert tagged["revision_number"] > before
    assert _call(aio_server, "DELETE", path + "/tags/blue").status_code == 204
    untagged = _call(aio_server, "GET", path).json()[member]
    assert untagged["tags"] == ["red"] and untagged["revision_number"] > tagged["revision_number"]

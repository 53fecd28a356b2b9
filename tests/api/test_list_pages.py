"""Paging through lists with plain HTTP: the links' markers lead through every item once."""
import requests


def _pages(server, path, key):
    """Follow the "next" links from ``path``; returns the pages' items."""
    pages = []
    url = server.url + path
    while url:
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body[key])
        url = next((link["href"] for link in body.get(key + "_links", []) if link["rel"] == "next"), None)
        assert len(pages) < 50, "paging does not end"
    return pages


def test_paging_with_fields_that_leave_the_id_out(aio_server):
    prefix = "paged-fields-"
    for i in range(3):
        response = requests.post(aio_server.url + "/v2.0/networks", json={"network": {"name": prefix + str(i)}},
                                 timeout=30)
        assert response.status_code == 201, response.text
    pages = _pages(aio_server, "/v2.0/networks?fields=name&limit=1&sort_key=name", "networks")
    names = [item["name"] for page in pages for item in page]
    assert sorted(n for n in names if n.startswith(prefix)) == [prefix + str(i) for i in range(3)]
    assert len(names) == len(set(names))
    assert all(list(item) == ["name"] for page in pages for item in page)


def test_ip_availabilities_page_by_network(aio_server):
    ids = []
    for i in range(3):
        response = requests.post(aio_server.url + "/v2.0/networks", json={"network": {"name": "avail-%d" % i}},
                                 timeout=30)
        ids.append(response.json()["network"]["id"])
    everything = requests.get(aio_server.url + "/v2.0/network-ip-availabilities", timeout=30).json()
    total = len(everything["network_ip_availabilities"])
    pages = _pages(aio_server, "/v2.0/network-ip-availabilities?limit=2", "network_ip_availabilities")
    seen = [item["network_id"] for page in pages for item in page]
    assert all(len(page) <= 2 for page in pages)
    assert len(seen) == total == len(set(seen))
    assert set(ids) <= set(seen)
    # Sorted by the network's name, newest names last.
    named = _pages(aio_server, "/v2.0/network-ip-availabilities?limit=1&sort_key=network_name&sort_dir=desc"
                               "&fields=network_name", "network_ip_availabilities")
    names = [item["network_name"] for page in named for item in page]
    assert names == sorted(names, reverse=True)


def _rels(body, key):
    return {link["rel"]: link["href"] for link in body.get(key + "_links", [])}


def test_links_follow_neutrons_rule_both_ways(aio_server):
    made = []
    for i in range(3):
        response = requests.post(aio_server.url + "/v2.0/subnetpools",
                                 json={"subnetpool": {"name": "links-%d" % i, "prefixes": ["10.%d.0.0/16" % (90 + i)],
                                                      "min_prefixlen": 24}}, timeout=30)
        assert response.status_code == 201, response.text
        made.append(response.json()["subnetpool"]["id"])
    path = aio_server.url + "/v2.0/subnetpools?name=links-0&name=links-1&name=links-2&sort_key=name&limit=2"
    first = requests.get(path, timeout=30).json()
    # A full first page links both ways, as Neutron's does.
    assert [p["name"] for p in first["subnetpools"]] == ["links-0", "links-1"]
    assert set(_rels(first, "subnetpools")) == {"next", "previous"}
    last = requests.get(_rels(first, "subnetpools")["next"], timeout=30).json()
    assert [p["name"] for p in last["subnetpools"]] == ["links-2"]
    # A short page read forwards has no next link, only a previous one.
    assert set(_rels(last, "subnetpools")) == {"previous"}
    back = requests.get(_rels(last, "subnetpools")["previous"], timeout=30).json()
    assert [p["name"] for p in back["subnetpools"]] == ["links-0", "links-1"]
    assert set(_rels(back, "subnetpools")) == {"next", "previous"}
    # Reading backwards past the start: a short reversed page has no previous link.
    before = requests.get(_rels(back, "subnetpools")["previous"], timeout=30).json()
    assert before["subnetpools"] == []
    assert set(_rels(before, "subnetpools")) == {"next"}
    assert "marker" not in _rels(before, "subnetpools")["next"]

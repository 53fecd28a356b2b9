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

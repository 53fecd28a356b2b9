"""A load balancer reached from outside through a floating IP on its VIP port.

harness/lbaas.py RoutedLbaasCloud: netweave-server (router, lbaasv2), the RPC server,
Linux bridge agents on h1 and h2, netweave-l3-agent on h2 (the network node, on the flat
external network) and netweave-lbaas-agent on h1. Three member namespaces behind a router
on a VXLAN project network run HTTP servers; the "internet" namespace (203.0.113.1) asks
for the floating IP, which the router DNATs to the VIP where haproxy spreads the requests
over the members.
"""

import pytest

from harness import lbaas_server, system
from harness.lbaas import RoutedLbaasCloud, curl, eventually

pytestmark = [pytest.mark.system("ip", "bridge", "iptables", "conntrack", "haproxy", "curl"), pytest.mark.slow]


@pytest.fixture(scope="module")
def cloud(rabbitmq_server, tmp_path_factory):
    system.require_root()
    created = RoutedLbaasCloud(str(tmp_path_factory.mktemp("lbfip")), rabbitmq_server.transport_url)
    try:
        created.start()
        yield created
    finally:
        created.close()




def test_the_outside_reaches_the_members_through_a_floating_ip_on_the_vip(cloud):
    external, _external_subnet = cloud.external_network()
    net, subnet = cloud.project_network("LB_NET", "192.168.220.0/24")
    router = cloud.router("LB_ROUTER", external=external, subnets=[subnet])
    webs = {}
    for name in ("web1", "web2", "web3"):
        port, instance = cloud.instance("h1", net, subnet)
        cloud.web(name, instance.namespace)
        webs[name] = (port, instance)
    cloud.wait_active(*[port for port, _instance in webs.values()], timeout=60)
    cloud.wait_router_active(router["id"])

    lb_api = lbaas_server.connect(cloud.server.url, prefix="/v2").load_balancer
    lb = lb_api.create_load_balancer(name="LB_WEB", vip_subnet_id=subnet["id"])

    def settle():
        eventually(lambda: lb_api.get_load_balancer(lb.id).provisioning_status == "ACTIVE", "the change applied",
                   timeout=60)

    settle()
    pool = lb_api.create_pool(lb_algorithm="ROUND_ROBIN", protocol="HTTP", loadbalancer_id=lb.id, name="POOL_WEB")
    settle()
    for name, (_port, instance) in webs.items():
        lb_api.create_member(pool, name=name, subnet_id=subnet["id"], address=instance.ip, protocol_port=80)
        settle()
    lb_api.create_listener(name="LISTENER_WEB", loadbalancer_id=lb.id, protocol="HTTP", protocol_port=80,
                           default_pool_id=pool.id)
    settle()
    vip = lb_api.get_load_balancer(lb.id)
    # Without a floating IP the outside has no way to the VIP.
    assert curl(cloud.internet, "http://%s/" % vip.vip_address) is None

    fip = cloud.floating_ip(external, {"id": vip.vip_port_id})
    assert fip["fixed_ip_address"] == vip.vip_address and fip["router_id"] == router["id"]
    cloud.wait(lambda: cloud.fip_status(fip) == "ACTIVE", "the floating IP is ACTIVE", timeout=30)
    url = "http://%s/" % fip["floating_ip_address"]
    eventually(lambda: curl(cloud.internet, url), "the floating IP answers", timeout=30)
    answers = [curl(cloud.internet, url) for _ in range(6)]
    # Round robin over the three members, in a strict rotation.
    assert sorted(answers[:3]) == ["This is web1", "This is web2", "This is web3"], answers
    assert answers[3:] == answers[:3], answers

    # Without the floating IP the outside is cut off again.
    cloud.api("PUT", "/floatingips/" + fip["id"], {"floatingip": {"port_id": None}})
    eventually(lambda: curl(cloud.internet, url) is None, "the floating IP stops answering")
    cloud.api("DELETE", "/floatingips/" + fip["id"])
    lb_api.delete_load_balancer(lb.id, cascade=True)
    eventually(lambda: not lb_api.find_load_balancer(lb.id), "the load balancer is gone")

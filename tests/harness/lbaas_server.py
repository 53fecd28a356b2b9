"""A netweave-server with the lbaasv2 service plugin, and openstacksdk connections to its
``load_balancer`` proxy.

``serve`` runs the server on SQLite or the session's PostgreSQL with the given
provisioning driver ("noop": every change is ACTIVE at once; "haproxy_agent":
changes wait for a Loadbalancerv2 agent).
"""
import openstack
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session

from harness import server

ML2 = {"type_drivers": "local,flat,vlan,vxlan", "tenant_network_types": "vxlan"}


def plugin_config(driver):
    return "\n[DEFAULT]\nservice_plugins = router,lbaasv2\n\n[lbaasv2]\ndriver = %s\n" % driver


def serve(request, tmp_path_factory, driver="noop", extra=""):
    """Run the server for ``request.param`` ("sqlite" or "postgresql") until the generator is closed."""
    url = database = postgres = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        database = postgres.create_database()
        url = postgres.url_for(database)
    running = server.start_server(str(tmp_path_factory.mktemp("lbaas")), database_url=url, ml2=ML2,
                                  extra=plugin_config(driver) + extra)
    try:
        yield running
    finally:
        running.stop()
        if database is not None:
            postgres.drop_database(database)


def connect(url, project=None, roles=None, prefix="/v2.0"):
    """A Connection whose network and load-balancer requests carry the noauth identity headers.

    The load_balancer proxy appends /lbaas/... to its endpoint: ``prefix`` "/v2"
    is Octavia's path, "/v2.0" LBaaS v2's.
    """
    headers = {}
    if project is not None:
        headers["X-Project-Id"] = project
    if roles is not None:
        headers["X-Roles"] = roles
    sess = ks_session.Session(auth=noauth.NoAuth(), additional_headers=headers)
    return openstack.connection.Connection(session=sess, network_endpoint_override=url + "/",
                                           load_balancer_endpoint_override=url + prefix)

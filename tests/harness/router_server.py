"""A netweave-server with the router service plugin, on SQLite or the session's PostgreSQL.

A test module makes its module-scoped fixture from ``serve``::

    @pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
    def router_server(request, tmp_path_factory):
        yield from router_server.serve(request, tmp_path_factory)
"""
from harness import server

ROUTER_PLUGIN = "\n[DEFAULT]\nservice_plugins = router\n"
ML2 = {"type_drivers": "local,flat,vlan,vxlan", "tenant_network_types": "vxlan"}


def serve(request, tmp_path_factory):
    """Run the server for ``request.param`` ("sqlite" or "postgresql") until the generator is closed."""
    url = database = postgres = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        database = postgres.create_database()
        url = postgres.url_for(database)
    running = server.start_server(str(tmp_path_factory.mktemp("router")), database_url=url, ml2=ML2,
                                  extra=ROUTER_PLUGIN)
    try:
        yield running
    finally:
        running.stop()
        if database is not None:
            postgres.drop_database(database)

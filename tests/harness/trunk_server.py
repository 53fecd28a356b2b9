"""A netweave-server with the trunk service plugin and its ML2 extension driver, on SQLite or
the session's PostgreSQL (quota_trunk = 3, for the quota test).

A test module makes its module-scoped fixture from ``serve``::

    @pytest.fixture(scope="module", params=ml2_plugin.BACKENDS)
    def trunk_server(request, tmp_path_factory):
        yield from trunk_server.serve(request, tmp_path_factory)
"""
from harness import server

TRUNK_PLUGIN = "\n[DEFAULT]\nservice_plugins = trunk\n\n[quotas]\nquota_trunk = 3\n"
ML2 = {"type_drivers": "local,flat,vlan,vxlan", "tenant_network_types": "vxlan", "extension_drivers": "trunk"}


def serve(request, tmp_path_factory):
    """Run the server for ``request.param`` ("sqlite" or "postgresql") until the generator is closed."""
    url = database = postgres = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        database = postgres.create_database()
        url = postgres.url_for(database)
    running = server.start_server(str(tmp_path_factory.mktemp("trunk")), database_url=url, ml2=ML2,
                                  extra=TRUNK_PLUGIN)
    try:
        yield running
    finally:
        running.stop()
        if database is not None:
            postgres.drop_database(database)

"""Root of the test tree (tests/ is deliberately not a package).

Loads the shared fixtures in tests/harness/ and applies the marker rules:
  system("exe", ...)  needs root and those executables; skips without them,
                      fails instead when NETWEAVE_REQUIRE_SYSTEM=1 (CI)
  postgres            added to every test using the private PostgreSQL server
  mariadb             added to every test using the private MariaDB server
  slow                informational, for -m "not slow"
Markers are declared in pytest.ini.
"""
import pytest

# Helper modules import one another; register the package before any import
# so pytest still rewrites their asserts into readable failures.
pytest.register_assert_rewrite("harness")

from harness.system import check_system_marker  # noqa: E402

pytest_plugins = ["harness.system", "harness.processes", "harness.postgres", "harness.mariadb", "harness.server",
                  "harness.keystone", "harness.rabbitmq"]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Runs before -m filtering, so -m "not postgres" sees the added marker.
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"postgres_server", "postgres_url"} & fixtures:
            item.add_marker(pytest.mark.postgres)
        if {"mariadb_server", "mariadb_url"} & fixtures:
            item.add_marker(pytest.mark.mariadb)


def pytest_runtest_setup(item):
    check_system_marker(item)

"""Root of the test tree (tests/ is deliberately not a package).

Loads the shared fixtures in tests/fixtures/ and applies the marker rules:
  system("exe", ...)  needs root and those executables; skips without them,
                      fails instead when NETWEAVE_REQUIRE_SYSTEM=1 (CI)
  postgres            added to every test using the private PostgreSQL server
  slow                informational, for -m "not slow"
Markers are declared in pytest.ini.
"""
import importlib.metadata

import pytest

# Helper modules import one another; register the package before any import
# so pytest still rewrites their asserts into readable failures.
pytest.register_assert_rewrite("fixtures")

from fixtures.system import check_system_marker  # noqa: E402

pytest_plugins = ["fixtures.system", "fixtures.processes", "fixtures.postgres", "fixtures.server", "fixtures.keystone"]


def pytest_configure(config):
    # tests/fixtures hides any installed distribution also called "fixtures"
    # (testing-cabal's, used by oslotest); say so instead of failing oddly.
    try:
        importlib.metadata.distribution("fixtures")
    except importlib.metadata.PackageNotFoundError:
        return
    config.issue_config_time_warning(pytest.PytestConfigWarning(
        "an installed 'fixtures' distribution is shadowed by tests/fixtures; "
        "code importing it gets the test helpers instead"), stacklevel=2)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Runs before -m filtering, so -m "not postgres" sees the added marker.
    for item in items:
        if {"postgres_server", "postgres_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_setup(item):
    check_system_marker(item)

"""db_api.skips_locked_rows: which servers take FOR UPDATE SKIP LOCKED, by dialect and version."""
import types

import pytest

from netweave.core.db import api as db_api


def _dialect(name, version=None, mariadb=False):
    return types.SimpleNamespace(name=name, server_version_info=version, is_mariadb=mariadb)


@pytest.mark.parametrize("dialect, expected", [
    (_dialect("postgresql", (9, 6)), True),
    (_dialect("mysql", (10, 11, 19), mariadb=True), True),
    (_dialect("mariadb", (10, 6, 0), mariadb=True), True),
    (_dialect("mysql", (10, 5, 22), mariadb=True), False),
    (_dialect("mysql", (8, 0, 1)), True),
    (_dialect("mysql", (8, 0, 0)), False),
    (_dialect("mysql", (5, 7, 44)), False),
    (_dialect("mysql", None), False),
    (_dialect("sqlite", (3, 40, 1)), False),
], ids=["postgresql", "mariadb-10.11", "mariadb-10.6", "mariadb-10.5", "mysql-8.0.1", "mysql-8.0.0",
        "mysql-5.7", "mysql-unknown", "sqlite"])
def test_skips_locked_rows(dialect, expected):
    assert db_api.skips_locked_rows(dialect) is expected

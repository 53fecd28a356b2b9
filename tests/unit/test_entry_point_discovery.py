"""API extensions, models and migration branches are found through entry points only.

A broken entry point must stop start-up with a message naming it. The broken
ones here are declared by a real (tiny) distribution: a ``*.dist-info`` folder
put on sys.path, read by importlib.metadata like any installed package.
"""
import importlib
import importlib.metadata
import pkgutil

import pytest

from netweave.core.api import extension
from netweave.core.db import plugin_schema

PORT_SECURITY_ALIASES = {"security-group", "security-groups-normalized-cidr", "allowed-address-pairs",
                         "port-security"}


def _install_distribution(tmp_path, monkeypatch, entry_points, modules=None):
    """A distribution named broken-plugin declaring ``entry_points`` ({group: [line]})."""
    info = tmp_path / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("".join(
        "[%s]\n%s\n" % (group, "\n".join(lines)) for group, lines in entry_points.items()))
    for name, text in (modules or {}).items():
        (tmp_path / (name + ".py")).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()


def test_every_builtin_extension_module_is_declared():
    """Each Extension object of extensions/ has an entry point; none is found by scanning."""
    declared = {(ep.value.split(":")[0], ep.value.split(":")[1])
                for ep in importlib.metadata.entry_points(group=extension.ENTRY_POINT_GROUP)}
    import netweave.extensions
    modules = [info.name for info in pkgutil.iter_modules(netweave.extensions.__path__)]
    assert "provider" in modules
    for module_name in modules:
        module = importlib.import_module("netweave.extensions." + module_name)
        for attribute, value in vars(module).items():
            if isinstance(value, extension.Extension):
                assert (module.__name__, attribute) in declared, (module.__name__, attribute)


def test_discover_serves_core_and_port_security_aliases():
    found = extension.discover()
    assert {"provider", "binding", "quotas", "tag", "agent"} <= set(found)
    assert PORT_SECURITY_ALIASES <= set(found)
    assert [r.collection for r in found["security-group"].resources] == ["security_groups",
                                                                         "security_group_rules"]


def test_port_security_extensions_live_in_the_plugin():
    by_alias = {}
    for ep in importlib.metadata.entry_points(group=extension.ENTRY_POINT_GROUP):
        by_alias.setdefault(ep.load().alias, ep.value)
    for alias in PORT_SECURITY_ALIASES:
        assert by_alias[alias].startswith("netweave.service_plugins.port_security."), by_alias[alias]


def test_unimportable_extension_names_its_entry_point(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, {extension.ENTRY_POINT_GROUP: [
        "broken-ext = no_such_module_anywhere:EXTENSION"]})
    with pytest.raises(extension.ExtensionLoadError) as raised:
        extension.discover()
    message = str(raised.value)
    assert "'broken-ext = no_such_module_anywhere:EXTENSION'" in message
    assert "netweave.api_extensions" in message and "ModuleNotFoundError" in message


def test_extension_that_is_not_an_extension_is_refused(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, {extension.ENTRY_POINT_GROUP: [
        "not-an-ext = broken_plugin_api:EXTENSION"]}, {"broken_plugin_api": "EXTENSION = {'alias': 'x'}\n"})
    with pytest.raises(extension.ExtensionLoadError, match="'not-an-ext = broken_plugin_api:EXTENSION'.*dict"):
        extension.discover()


def test_alias_declared_twice_is_refused(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, {extension.ENTRY_POINT_GROUP: [
        "my-provider = broken_plugin_dup:EXTENSION"]}, {"broken_plugin_dup": (
            "from netweave.core.api.extension import Extension\n"
            "EXTENSION = Extension(alias='provider', name='again', description='again')\n")})
    with pytest.raises(extension.ExtensionLoadError, match="'provider' is declared twice"):
        extension.discover()


def test_api_definition_only_serves_supported_aliases():
    definition = extension.ApiDefinition(["provider"])
    assert set(definition.extensions) == {"provider"}
    assert "security_groups" not in definition.resources
    definition = extension.ApiDefinition(["provider", "security-group"])
    assert "security_groups" in definition.resources
    assert "security_groups" in definition.resources["ports"].attributes


def test_broken_models_entry_point_names_it(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, {plugin_schema.MODELS_GROUP: [
        "broken = broken_plugin_models"]}, {"broken_plugin_models": "raise ImportError('no tables here')\n"})
    with pytest.raises(plugin_schema.SchemaEntryPointError) as raised:
        plugin_schema.import_models()
    assert "'broken = broken_plugin_models' (entry point group netweave.db.models)" in str(raised.value)
    assert "no tables here" in str(raised.value)


def test_migrations_entry_point_must_be_a_package(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, {plugin_schema.MIGRATIONS_GROUP: [
        "broken = broken_plugin_versions"]}, {"broken_plugin_versions": "\n"})
    with pytest.raises(plugin_schema.SchemaEntryPointError,
                       match="'broken = broken_plugin_versions'.*must name a package"):
        plugin_schema.migration_branches()


def test_migration_branch_declared_twice_is_refused(tmp_path, monkeypatch):
    _install_distribution(tmp_path, monkeypatch, {plugin_schema.MIGRATIONS_GROUP: [
        "core = netweave.service_plugins.port_security.migrations"]})
    with pytest.raises(plugin_schema.SchemaEntryPointError, match="branch 'core' is declared twice"):
        plugin_schema.migration_branches()


def test_alias_without_an_entry_point_is_not_served_and_is_logged(caplog):
    with caplog.at_level("WARNING", logger="netweave.core.api.extension"):
        definition = extension.ApiDefinition(["provider", "no-such-alias"])
    assert set(definition.extensions) == {"provider"}
    assert "'no-such-alias'" in caplog.text and extension.ENTRY_POINT_GROUP in caplog.text

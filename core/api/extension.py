"""API extensions: what an extension adds and how the loaded ones are assembled.

An extension is declarative: its alias, descriptive texts, the attributes it
adds to existing resources and the new resources it defines. Each one is
declared by an entry point of the ``netweave.api_extensions`` group
(``<name> = <module>:<ATTRIBUTE>``), in netweave's metadata or in a plugin
package's own. Only the extensions some loaded plugin supports are served and
listed.
"""
import dataclasses
import logging

from netweave.core import entry_points
from netweave.core.api.definitions import core as core_definitions

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "netweave.api_extensions"


class ExtensionLoadError(RuntimeError):
    """An entry point of netweave.api_extensions that does not give a usable Extension."""


@dataclasses.dataclass(frozen=True)
class Extension:
    alias: str
    name: str
    description: str
    updated: str = "2017-08-30T10:00:00-00:00"
    # {"networks": {"provider:network_type": Attribute, ...}}
    extended_attributes: dict = dataclasses.field(default_factory=dict)
    resources: tuple = ()
    # Aliases that must be loaded for this one to make sense.
    requires: tuple = ()

    def to_dict(self):
        return {"name": self.name, "alias": self.alias, "description": self.description,
                "updated": self.updated, "links": []}


def _load(entry_point):
    try:
        extension = entry_point.load()
    except Exception as error:  # an import error, a missing attribute: anything a broken package raises
        raise ExtensionLoadError("API extension %s cannot be loaded: %s: %s"
                                 % (entry_points.describe(entry_point), type(error).__name__, error)) from error
    if not isinstance(extension, Extension):
        raise ExtensionLoadError("API extension %s is a %s, not a netweave.core.api.extension.Extension"
                                 % (entry_points.describe(entry_point), type(extension).__name__))
    return extension


def discover():
    """Every installed Extension by alias; ExtensionLoadError names a broken entry point."""
    found = {}
    origin = {}
    for entry_point in entry_points.installed(ENTRY_POINT_GROUP):
        extension = _load(entry_point)
        if extension.alias in found and found[extension.alias] is not extension:
            raise ExtensionLoadError("API extension alias '%s' is declared twice: by %s and by %s"
                                     % (extension.alias, origin[extension.alias], entry_points.describe(entry_point)))
        found[extension.alias] = extension
        origin[extension.alias] = entry_points.describe(entry_point)
    return found


class ApiDefinition:
    """The resources and extensions served, given the aliases the plugins support."""

    def __init__(self, supported_aliases, available=None):
        available = dict(available if available is not None else discover())
        self.extensions = {}
        for alias in supported_aliases:
            ext = available.get(alias)
            if ext is None:
                LOG.warning("API extension alias %r is supported by a loaded plugin but no %s entry point "
                            "declares it; it is not served", alias, ENTRY_POINT_GROUP)
                continue
            self.extensions[alias] = ext
        self.resources = {r.collection: r for r in core_definitions.CORE_RESOURCES}
        for ext in self.extensions.values():
            for resource in ext.resources:
                self.resources[resource.collection] = resource
        for ext in self.extensions.values():
            for collection, extra in ext.extended_attributes.items():
                if collection in self.resources:
                    self.resources[collection] = self.resources[collection].extended(extra)

    def extension_list(self):
        return [ext.to_dict() for ext in sorted(self.extensions.values(), key=lambda e: e.alias)]

"""API extensions: what an extension adds and how the loaded ones are assembled.

An extension is declarative: its alias, descriptive texts, the attributes it
adds to existing resources and the new resources it defines. Only the
extensions some loaded plugin supports are served and listed.
"""
import dataclasses
import importlib
import pkgutil

from netweave.core.api.definitions import core as core_definitions


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


def discover_builtin():
    """Every Extension declared as EXTENSION in a module of netweave.extensions."""
    import netweave.extensions as package
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module("%s.%s" % (package.__name__, info.name))
        for ext in getattr(module, "EXTENSIONS", ()) or ((module.EXTENSION,) if hasattr(module, "EXTENSION") else ()):
            found[ext.alias] = ext
    return found


class ApiDefinition:
    """The resources and extensions served, given the aliases the plugins support."""

    def __init__(self, supported_aliases, available=None):
        available = dict(available if available is not None else discover_builtin())
        self.extensions = {}
        for alias in supported_aliases:
            ext = available.get(alias)
            if ext is not None:
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

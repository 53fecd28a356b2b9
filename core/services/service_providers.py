"""The service providers of the loaded plugins, served by the service-type extension."""
from netweave.core import exceptions as exc
from netweave.core.services import query

ALIAS = "service-type"


class ServiceProviderNotFound(exc.NotFound):
    message = "Service provider %(name)s could not be found."


class ServiceProviderCatalog:
    """Offers ``get_service_providers`` (the generic read-only controller's call) over
    what every plugin's ``service_providers()`` returned when the API was built."""

    supported_extension_aliases = (ALIAS,)

    def __init__(self, plugins):
        self.providers = [provider.to_dict() for plugin in plugins for provider in plugin.service_providers()]

    def get_service_providers(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
                              page_reverse=False):
        items = [p for p in self.providers
                 if all(p.get(name) in values for name, values in (filters or {}).items())]
        for key, ascending in reversed(sorts or [("service_type", True), ("name", True)]):
            items.sort(key=lambda p: (p[key] is None, p[key]), reverse=not ascending)
        if page_reverse:
            items.reverse()
        if marker is not None:
            names = [p["name"] for p in items]
            items = items[names.index(marker) + 1:] if marker in names else []
        if limit:
            items = items[:limit]
        return query.finish_page(items, {}, page_reverse, fields)

    def get_service_provider(self, context, name, fields=None):
        for provider in self.providers:
            if provider["name"] == name:
                return query.select_fields(dict(provider), fields)
        raise ServiceProviderNotFound(name=name)

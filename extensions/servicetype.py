"""service-type: the providers of the loaded service plugins, read-only.

Each entry is a ServiceProvider a plugin declares (core/plugins/service_base.py);
the list is empty when no plugin has providers.
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs

SERVICE_PROVIDERS = Resource(
    collection="service_providers", member="service_provider", allow_bulk=False, read_only=True,
    # Providers have no id; their name is what pagination markers carry.
    id_attribute="name",
    attributes=attrs(
        A("service_type", is_filter=True, is_sort_key=True),
        A("name", is_filter=True, is_sort_key=True),
        A("default", is_filter=True, is_sort_key=True, filter_convert=v.boolean),
    ))

EXTENSION = Extension(
    alias="service-type", name="Neutron Service Type Management",
    description="API for retrieving service providers for Neutron advanced services",
    updated="2013-01-20T00:00:00-00:00",
    resources=(SERVICE_PROVIDERS,),
)

"""The dns-integration and dns-domain-ports API extensions (Neutron's attribute maps).

Values are lowercased first (a non-string is refused as Neutron's converter
refuses it), then checked with names.py. Whether a port's dns_name fits the
configured [DEFAULT] dns_domain is checked by the extension driver, which
knows the configuration.
"""
from netweave.core import exceptions as exc
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import attrs
from netweave.service_plugins.dns import names

DNS_NAME = "dns_name"
DNS_DOMAIN = "dns_domain"
DNS_ASSIGNMENT = "dns_assignment"


def _lowercase(value):
    if not isinstance(value, str):
        raise exc.InvalidInput(error_message="Input value %s must be string type" % (value,))
    return value.lower()


def dns_name(value):
    """A port's dns_name: '' or a PQDN/FQDN, lowercased."""
    text = _lowercase(value)
    reason = names.format_problem(text)
    if reason:
        raise v.AttributeInvalid(reason)
    return text


def dns_domain(value):
    """A network's or port's dns_domain: '' or a FQDN ending with a dot, lowercased."""
    text = _lowercase(value)
    reason = names.domain_problem(text)
    if reason:
        raise v.AttributeInvalid(reason)
    return text


DNS_INTEGRATION = Extension(
    alias="dns-integration", name="DNS Integration", description="Provides integration with DNS.",
    updated="2015-08-15T18:00:00-00:00",
    extended_attributes={
        "ports": attrs(
            A(DNS_NAME, allow_post=True, allow_put=True, default="", convert=dns_name),
            A(DNS_ASSIGNMENT),
        ),
        "networks": attrs(
            A(DNS_DOMAIN, allow_post=True, allow_put=True, default="", convert=dns_domain),
        ),
    },
)

DNS_DOMAIN_PORTS = Extension(
    alias="dns-domain-ports", name="dns_domain for ports",
    description="Allows the DNS domain to be specified for a network port.",
    updated="2017-04-24T10:00:00-00:00",
    extended_attributes={"ports": attrs(
        A(DNS_DOMAIN, allow_post=True, allow_put=True, default="", convert=dns_domain),
    )},
    requires=("dns-integration",),
)

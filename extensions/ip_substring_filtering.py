"""ip-substring-filtering: ``?fixed_ips=ip_address_substr=10.0.0`` on port lists.

The filter itself is the ports service's (core/services/ports.py); the extension
only announces it, as Neutron's does.
"""
from netweave.core.api.extension import Extension

EXTENSION = Extension(
    alias="ip-substring-filtering", name="IP address substring filtering",
    description="Provides IP address substring filtering when listing ports",
    updated="2017-11-28T09:00:00-00:00",
)

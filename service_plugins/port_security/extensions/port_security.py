"""port-security: whether a network's or a port's traffic is filtered at all."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, attrs
from netweave.core.api.resource import Attribute as A

EXTENSION = Extension(
    alias="port-security", name="Port Security", description="Provides port security.",
    updated="2012-07-23T10:00:00-00:00",
    extended_attributes={
        "networks": attrs(A("port_security_enabled", allow_post=True, allow_put=True, default=True,
                            convert=v.boolean, enforce_policy=True, is_filter=True,
                            filter_convert=v.boolean)),
        # Not sent: the port takes its network's value when it is created.
        "ports": attrs(A("port_security_enabled", allow_post=True, allow_put=True, default=MISSING,
                         convert=v.boolean, enforce_policy=True, is_filter=True, filter_convert=v.boolean)),
    },
)

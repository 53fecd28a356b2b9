"""port-trusted-vif: whether a port's VIF is trusted, set by administrators only.

The value lives in the port's binding:profile under ``trusted`` (where Nova's
SR-IOV code reads it); null unsets it.
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, attrs
from netweave.core.api.resource import Attribute as A

EXTENSION = Extension(
    alias="port-trusted-vif", name="Port trusted vif",
    description="Expose port 'trusted' attribute",
    updated="2023-11-20T00:00:00-00:00", requires=("binding",),
    extended_attributes={"ports": attrs(
        A("trusted", allow_post=True, allow_put=True, default=MISSING, convert=v.boolean_or_none,
          enforce_policy=True))},
)

"""quotas and quota_details: per-project limits, their defaults and usage."""
from netweave.core.api.extension import Extension

QUOTAS = Extension(
    alias="quotas", name="Quota management support",
    description="Expose functions for quotas management per tenant",
    updated="2012-07-29T10:00:00-00:00",
)
QUOTA_DETAILS = Extension(
    alias="quota_details", name="Quota details management support",
    description="Expose functions for quotas usage statistics per project",
    updated="2017-02-10T10:00:00-00:00",
)

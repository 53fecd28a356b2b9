"""quotas, quota_details and quota-check-limit: per-project limits, their defaults and usage."""
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
QUOTA_CHECK_LIMIT = Extension(
    alias="quota-check-limit", name="Quota engine limit check",
    description="Support for checking the resource usage before applying a new quota limit",
    updated="2023-01-10T10:00:00-00:00", requires=("quotas",),
)
# The check applies unless the request says ``force``.
QUOTA_CHECK_LIMIT_DEFAULT = Extension(
    alias="quota-check-limit-default", name="Quota engine limit check by default",
    description="The resource usage is checked before applying a new quota limit unless forced",
    updated="2024-05-10T10:00:00-00:00", requires=("quota-check-limit",),
)

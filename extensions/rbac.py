"""rbac-policies: share objects (networks, and the types plugins register) with chosen projects.

``object_type`` and ``action`` are checked by the RBAC service against the registered types.
"""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import Resource, attrs

RBAC_POLICIES = Resource(
    collection="rbac_policies", member="rbac_policy", quota_name="rbac_policy", allow_bulk=False,
    attributes=attrs(
        A("id", is_filter=True, is_sort_key=True, filter_convert=v.id_filter),
        A("object_type", allow_post=True, required=True, convert=v.string(255),
          is_filter=True, is_sort_key=True),
        A("object_id", allow_post=True, required=True, convert=v.uuid_value, is_filter=True,
          is_sort_key=True, filter_convert=v.id_filter),
        A("action", allow_post=True, required=True,
          convert=v.string(255), is_filter=True, is_sort_key=True),
        A("target_tenant", allow_post=True, allow_put=True, required=True, convert=v.project_id,
          is_filter=True, is_sort_key=True, enforce_policy=True),
        A("tenant_id", allow_post=True, convert=v.project_id, is_filter=True, is_sort_key=True),
        A("project_id", allow_post=True, convert=v.project_id, is_filter=True, is_sort_key=True),
    ))

EXTENSION = Extension(
    alias="rbac-policies", name="RBAC Policies",
    description="Allows creation and modification of policies that control tenant access to resources.",
    updated="2015-06-17T12:15:12-00:00",
    resources=(RBAC_POLICIES,),
)

"""tag, standard-attr-tag, tag-ext: tags on standard resources through /{id}/tags;
tag-creation and tag-ports-during-bulk-creation: ``tags`` in the create body of
networks, subnets, subnet pools and ports (bulk creates included), stored in the
create's transaction."""
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import attrs

_TAGS = attrs(A("tags", allow_post=True, default=[]))

TAG = Extension(
    alias="tag", name="Tag support", description="Enables to set tag on resources.",
    updated="2016-01-01T00:00:00-00:00",
    extended_attributes={"networks": _TAGS},
)
STANDARD_ATTR_TAG = Extension(
    alias="standard-attr-tag", name="Tag support for resources with standard attribute: "
    "subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, "
    "security_group, floatingip",
    description="Enables to set tag on resources with standard attribute.",
    updated="2017-01-01T00:00:00-00:00",
    extended_attributes={"subnets": _TAGS, "ports": _TAGS, "subnetpools": _TAGS},
)
TAG_EXT = Extension(
    alias="tag-ext", name="Tag support for resources: subnet, subnetpool, port, router",
    description="Extends tag support to more L2 and L3 resources.",
    updated="2017-01-01T00:00:00-00:00",
)
TAG_CREATION = Extension(
    alias="tag-creation", name="Tag support for resources during creation",
    description="Enables to set tags on resources during their creation.",
    updated="2019-06-20T00:00:00-00:00", requires=("standard-attr-tag",),
)
TAG_PORTS_DURING_BULK_CREATION = Extension(
    alias="tag-ports-during-bulk-creation", name="Tag Ports During Bulk Creation",
    description="Allow to tag ports during bulk creation",
    updated="2019-04-19T00:00:00-00:00", requires=("standard-attr-tag",),
)

"""net-mtu and net-mtu-writable: the network MTU, readable and settable."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import MISSING, attrs
from netweave.core.api.resource import Attribute as A

NET_MTU = Extension(
    alias="net-mtu", name="Network MTU", description="Provides MTU attribute for a network resource.",
    updated="2015-03-25T10:00:00-00:00",
    extended_attributes={"networks": attrs(A("mtu", is_filter=True, is_sort_key=True))},
)
NET_MTU_WRITABLE = Extension(
    alias="net-mtu-writable", name="Network MTU (writable)",
    description="Provides a writable MTU attribute for a network resource.",
    updated="2017-07-12T00:00:00-00:00", requires=("net-mtu",),
    extended_attributes={"networks": attrs(
        A("mtu", allow_post=True, allow_put=True, default=MISSING, convert=v.integer(68),
          is_filter=True, is_sort_key=True, filter_convert=v.integer()))},
)

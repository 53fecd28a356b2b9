"""binding: where and how a port is bound (host, VIF type and details, vNIC type)."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import attrs

VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder",
              "smart-nic", "remote-managed")

EXTENSION = Extension(
    alias="binding", name="Port Binding",
    description="Expose port bindings of a virtual port to external systems",
    updated="2014-02-03T10:00:00-00:00",
    extended_attributes={"ports": attrs(
        A("binding:host_id", allow_post=True, allow_put=True, default="", convert=v.string(255),
          enforce_policy=True, is_filter=True, is_sort_key=True),
        A("binding:vif_type", enforce_policy=True, is_filter=True),
        A("binding:vif_details", enforce_policy=True),
        A("binding:vnic_type", allow_post=True, allow_put=True, default="normal",
          convert=v.one_of(*VNIC_TYPES), enforce_policy=True, is_filter=True, is_sort_key=True),
        A("binding:profile", allow_post=True, allow_put=True, default={}, convert=v.any_dict,
          enforce_policy=True),
    )},
)

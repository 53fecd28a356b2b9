"""What travels with every RPC message: the caller's context as a dict."""
import oslo_messaging
from oslo_serialization import jsonutils

from netweave.core import context as context_mod

# An agent never needs the API caller's token; it is not put on the bus.
_PRIVATE_KEYS = ("auth_token",)


class ContextSerializer(oslo_messaging.Serializer):
    """netweave Context <-> dict; payloads go as JSON primitives."""

    def serialize_entity(self, ctxt, entity):
        return jsonutils.to_primitive(entity, convert_instances=True)

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        if ctxt is None:
            return {}
        values = ctxt.to_dict()
        for key in _PRIVATE_KEYS:
            values.pop(key, None)
        return values

    def deserialize_context(self, ctxt):
        return context_mod.Context.from_dict(ctxt or {})

"""One kernel change, as the planners produce it and the applier executes it."""
import dataclasses

CREATE_BRIDGE = "create_bridge"            # device; stp off, forward delay 0
SET_BRIDGE_OPTIONS = "set_bridge_options"  # device; stp off, forward delay 0
CREATE_VLAN = "create_vlan"                # device; parent, vlan_id, [mtu]
CREATE_VXLAN = "create_vxlan"              # device; vni, local, dev, port, ttl, tos, learning, proxy, group, ...
DELETE_LINK = "delete_link"                # device
SET_MTU = "set_mtu"                        # device; mtu
MOVE_ADDRESSES = "move_addresses"          # device (source); target, addresses
ENSLAVE = "enslave"                        # device; bridge
RELEASE = "release"                        # device
SET_UP = "set_up"                          # device

FDB_APPEND = "fdb_append"                  # device; mac, dst  (bridge fdb append)
FDB_REPLACE = "fdb_replace"                # device; mac, dst  (bridge fdb replace)
FDB_DELETE = "fdb_delete"                  # device; mac, dst
NEIGH_REPLACE = "neigh_replace"            # device; ip, mac   (ip neigh replace ... nud permanent)
NEIGH_DELETE = "neigh_delete"              # device; ip

LINK_ACTIONS = (CREATE_BRIDGE, SET_BRIDGE_OPTIONS, CREATE_VLAN, CREATE_VXLAN, DELETE_LINK, SET_MTU,
                MOVE_ADDRESSES, ENSLAVE, RELEASE, SET_UP)
FDB_ACTIONS = (FDB_APPEND, FDB_REPLACE, FDB_DELETE, NEIGH_REPLACE, NEIGH_DELETE)


@dataclasses.dataclass(frozen=True)
class Operation:
    """``action`` on ``device`` with ``params``; ``network_id`` says which network it serves."""

    action: str
    device: str
    params: tuple = ()          # ((name, value), ...) sorted by name
    network_id: str = None

    @classmethod
    def make(cls, action, device, network_id=None, **params):
        return cls(action, device, tuple(sorted(params.items())), network_id)

    def get(self, name, default=None):
        for key, value in self.params:
            if key == name:
                return value
        return default

    @property
    def args(self):
        return dict(self.params)

    def __str__(self):
        text = " ".join("%s=%s" % item for item in self.params if item[1] is not None)
        return ("%s %s %s" % (self.action, self.device, text)).rstrip()

"""Executes planned operations through one pyroute2 IPRoute socket.

Every operation is one netlink request (a create also looks the new index
up). A failed operation is recorded and the rest still run: what depended on
it fails too and is planned again on the next pass, while unrelated networks
are not held back.
"""
import dataclasses
import errno
import logging
import socket
import time

from netweave.mechanism_drivers.linuxbridge import capabilities
from netweave.mechanism_drivers.linuxbridge import fdb as fdb_mod
from netweave.mechanism_drivers.linuxbridge import operations as ops

LOG = logging.getLogger(__name__)

RT_TABLE_MAIN = 254


@dataclasses.dataclass
class ApplyResult:
    done: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)     # [(Operation, message)]
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.failed

    def failed_networks(self):
        """Networks with a link operation that failed (FDB entries do not hold a port back)."""
        return {op.network_id for op, _message in self.failed
                if op.network_id and op.action in ops.LINK_ACTIONS}

    def __add__(self, other):
        return ApplyResult(self.done + other.done, self.failed + other.failed, self.seconds + other.seconds)


def _error_code(error):
    return getattr(error, "code", None) or getattr(error, "errno", None)


class Applier:
    """Runs Operations against the namespace of ``ipr`` (a pyroute2 IPRoute)."""

    def __init__(self, ipr):
        self.ipr = ipr
        self._index = {}

    # --- helpers -------------------------------------------------------------

    def index(self, name):
        index = self._index.get(name)
        if index is None:
            found = self.ipr.link_lookup(ifname=name)
            if not found:
                raise LookupError("device %s does not exist" % name)
            index = self._index[name] = found[0]
        return index

    def forget(self, name):
        self._index.pop(name, None)

    def _set(self, name, **fields):
        self.ipr.link("set", index=self.index(name), **fields)

    # --- operations ------------------------------------------------------------

    def _create_bridge(self, op):
        self.ipr.link("add", ifname=op.device, kind="bridge", br_stp_state=0, br_forward_delay=0)

    def _set_bridge_options(self, op):
        self.ipr.link("set", index=self.index(op.device), kind="bridge", br_stp_state=0,
                      br_forward_delay=0)

    def _create_vlan(self, op):
        fields = dict(ifname=op.device, kind="vlan", link=self.index(op.get("parent")),
                      vlan_id=op.get("vlan_id"))
        if op.get("mtu"):
            fields["mtu"] = op.get("mtu")
        try:
            self.ipr.link("add", **fields)
        except Exception as error:
            if _error_code(error) == errno.EOPNOTSUPP:
                raise capabilities.VlanUnsupported() from error
            raise

    def _create_vxlan(self, op):
        args = op.args
        fields = dict(ifname=op.device, kind="vxlan", vxlan_id=args["vni"],
                      vxlan_learning=1 if args.get("learning") else 0,
                      vxlan_proxy=1 if args.get("proxy") else 0)
        local = args.get("local")
        if local:
            fields["vxlan_local6" if ":" in local else "vxlan_local"] = local
        if args.get("dev"):
            fields["vxlan_link"] = self.index(args["dev"])
        if args.get("port"):
            fields["vxlan_port"] = args["port"]
        if args.get("ttl") is not None:
            fields["vxlan_ttl"] = args["ttl"]
        if args.get("tos") is not None:
            fields["vxlan_tos"] = args["tos"]
        group = args.get("group")
        if group:
            fields["vxlan_group6" if ":" in group else "vxlan_group"] = group
        if args.get("srcport_min") or args.get("srcport_max"):
            fields["vxlan_port_range"] = {"low": args["srcport_min"], "high": args["srcport_max"]}
        if args.get("mtu"):
            fields["mtu"] = args["mtu"]
        self.ipr.link("add", **fields)

    def _delete_link(self, op):
        try:
            self.ipr.link("del", index=self.index(op.device))
        finally:
            self.forget(op.device)

    def _set_mtu(self, op):
        self._set(op.device, mtu=op.get("mtu"))

    def _enslave(self, op):
        self._set(op.device, master=self.index(op.get("bridge")))

    def _release(self, op):
        self._set(op.device, master=0)

    def _set_up(self, op):
        self._set(op.device, state="up")

    def _move_addresses(self, op):
        """Addresses of op.device go to op.target, and so do its routes through a gateway."""
        source, target = self.index(op.device), self.index(op.get("target"))
        routes = []
        for family in (socket.AF_INET, socket.AF_INET6):
            for route in self.ipr.get_routes(family=family, table=RT_TABLE_MAIN):
                if route.get_attr("RTA_OIF") == source and route.get_attr("RTA_GATEWAY"):
                    routes.append(route)
        for address, prefixlen in op.get("addresses"):
            self.ipr.addr("del", index=source, address=address, prefixlen=prefixlen)
            self.ipr.addr("add", index=target, address=address, prefixlen=prefixlen)
        self.ipr.link("set", index=target, state="up")
        for route in routes:
            fields = dict(dst=route.get_attr("RTA_DST"), dst_len=route["dst_len"],
                          gateway=route.get_attr("RTA_GATEWAY"), family=route["family"])
            if route.get_attr("RTA_PRIORITY") is not None:
                fields["priority"] = route.get_attr("RTA_PRIORITY")
            if not fields["dst"]:
                fields.pop("dst")
            try:
                self.ipr.route("replace", oif=target, **fields)
            except Exception as error:  # noqa: BLE001 - an address moved is still progress
                LOG.warning("Could not move route %s to %s: %s", fields, op.get("target"), error)

    def _fdb(self, op):
        fdb_mod.execute(self.ipr, self.index(op.device), op)

    # --- driver ------------------------------------------------------------------

    _DISPATCH = {
        ops.CREATE_BRIDGE: _create_bridge,
        ops.SET_BRIDGE_OPTIONS: _set_bridge_options,
        ops.CREATE_VLAN: _create_vlan,
        ops.CREATE_VXLAN: _create_vxlan,
        ops.DELETE_LINK: _delete_link,
        ops.SET_MTU: _set_mtu,
        ops.ENSLAVE: _enslave,
        ops.RELEASE: _release,
        ops.SET_UP: _set_up,
        ops.MOVE_ADDRESSES: _move_addresses,
        ops.FDB_APPEND: _fdb,
        ops.FDB_REPLACE: _fdb,
        ops.FDB_DELETE: _fdb,
        ops.NEIGH_REPLACE: _fdb,
        ops.NEIGH_DELETE: _fdb,
    }

    def apply(self, operations, known_indexes=None):
        """Run ``operations`` in order; ``known_indexes``: {name: ifindex} from the last read."""
        if known_indexes:
            self._index = dict(known_indexes)
        result = ApplyResult()
        started = time.monotonic()
        for op in operations:
            try:
                self._DISPATCH[op.action](self, op)
            except Exception as error:  # noqa: BLE001 - record and go on with the rest
                if op.action == ops.DELETE_LINK and _error_code(error) == errno.ENODEV:
                    result.done.append(op)      # already gone is what we wanted
                    continue
                message = str(error)
                if isinstance(error, LookupError):
                    message = error.args[0]
                LOG.warning("Operation failed: %s: %s", op, message)
                result.failed.append((op, message))
                if op.action in (ops.CREATE_BRIDGE, ops.CREATE_VLAN, ops.CREATE_VXLAN):
                    self.forget(op.device)
            else:
                result.done.append(op)
        result.seconds = time.monotonic() - started
        return result

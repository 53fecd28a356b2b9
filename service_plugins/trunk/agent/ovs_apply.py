"""Read and change a host's trunk patch ports (ovs_plan.py says what), through ovs-vsctl.

``read(bridges)`` returns the trunk-prefixed ports found on those bridges as
ovs_plan.PatchPort values; ``apply(ops, ensure_bridges)`` runs every operation in
one ovs-vsctl invocation, which is one OVSDB transaction: a trunk bridge, its
patch pairs and their peers on br-int appear (or go) together.
"""
import json

from netweave.core import naming
from netweave.core.agent import commands
from netweave.service_plugins.trunk.agent import ovs_plan

VSCTL = "ovs-vsctl"


def _vsctl(db, *args):
    argv = [VSCTL, "--timeout=10"] + (["--db=%s" % db] if db else []) + list(args)
    return commands.run(argv).stdout


def _rows(db, table, columns):
    out = json.loads(_vsctl(db, "--format=json", "--data=json", "--columns=%s" % ",".join(columns), "list", table))
    return [dict(zip(out["headings"], row)) for row in out["data"]]


def _map(value):
    # OVSDB JSON: ["map", [[k, v], ...]]
    return dict(value[1]) if isinstance(value, list) and value and value[0] == "map" else {}


def _scalar(value):
    # An empty optional column is ["set", []].
    return None if isinstance(value, list) else value


def existing_bridges(db=None):
    return set(_vsctl(db, "list-br").split())


def read(bridges, db=None):
    """{(bridge, name): PatchPort} of the trunk ports on ``bridges`` (those that exist)."""
    present = existing_bridges(db) & set(bridges)
    ifaces = {r["name"]: r for r in _rows(db, "Interface", ("name", "options", "external_ids"))}
    ports = {r["name"]: r for r in _rows(db, "Port", ("name", "tag"))}
    result = {}
    for bridge in sorted(present):
        for name in _vsctl(db, "list-ports", bridge).split():
            if not ovs_plan.is_trunk_port(name):
                continue
            iface = ifaces.get(name, {})
            result[(bridge, name)] = ovs_plan.PatchPort(
                bridge, name, _map(iface.get("options")).get("peer", ""), _scalar(ports.get(name, {}).get("tag")),
                tuple(sorted(_map(iface.get("external_ids")).items())))
    return result


def vsctl_args(ops, ensure_bridges=(), datapath_type=None, delete_bridges=()):
    """The ovs-vsctl arguments of one transaction doing ``ops`` (pure, for the tests)."""
    args = []
    for bridge in ensure_bridges:
        args += ["--", "--may-exist", "add-br", bridge]
        if datapath_type:
            args += ["--", "set", "bridge", bridge, "datapath_type=%s" % datapath_type]
    for op in ops:
        if isinstance(op, ovs_plan.DelPort):
            args += ["--", "--if-exists", "del-port", op.bridge, op.name]
        elif isinstance(op, ovs_plan.AddPatchPort):
            port = op.port
            args += ["--", "add-port", port.bridge, port.name, "--", "set", "interface", port.name, "type=patch",
                     "options:peer=%s" % port.peer]
            args += ["external_ids:%s=%s" % item for item in port.external_ids]
            if port.tag is not None:
                args += ["--", "set", "port", port.name, "tag=%d" % port.tag]
        else:
            raise TypeError("unknown operation %r" % (op,))
    for bridge in delete_bridges:
        args += ["--", "--if-exists", "del-br", bridge]
    return args


def apply(ops, ensure_bridges=(), datapath_type=None, delete_bridges=(), db=None):
    args = vsctl_args(ops, ensure_bridges, datapath_type, delete_bridges)
    if args:
        _vsctl(db, *args)


def read_trunk_bridges(db=None):
    """{tbr- bridge: ovs_plan.Vnic or None} of this switch's trunk bridges: the instance's
    vNIC Nova plugged there (the first port not of the trunk prefixes whose interface
    carries an iface-id), None when the bridge holds none (the instance went away)."""
    bridges = sorted(b for b in existing_bridges(db) if b.startswith(naming.TRUNK_BRIDGE_PREFIX))
    if not bridges:
        return {}
    ifaces = {r["name"]: _map(r["external_ids"]) for r in _rows(db, "Interface", ("name", "external_ids"))}
    result = {}
    for bridge in bridges:
        result[bridge] = None
        for name in sorted(_vsctl(db, "list-ports", bridge).split()):
            ids = ifaces.get(name, {})
            if not ovs_plan.is_trunk_port(name) and ids.get("iface-id"):
                result[bridge] = ovs_plan.Vnic(name, ids["iface-id"], ids.get("attached-mac", ""))
                break
    return result

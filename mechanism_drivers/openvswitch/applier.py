"""Carry out a Plan: one OVSDB transaction, then one flow bundle per changed bridge
(holding only the flow mods of the difference).

The transaction is an ovsdbapp Open_vSwitch transaction: it bumps next_cfg
and waits until ovs-vswitchd has applied it, so new ports have OpenFlow port
numbers before the flows that name them are installed.
"""
import dataclasses
import logging

from ovsdbapp.backend.ovs_idl import command as ovs_command

from netweave.mechanism_drivers.openvswitch import planner

LOG = logging.getLogger(__name__)


class _ApplyOpsCommand(ovs_command.BaseCommand):
    """Every planned OVSDB operation, run inside a single transaction."""

    def __init__(self, api, ops):
        super().__init__(api)
        self.ops = list(ops)

    def run_idl(self, txn):
        tables = self.api.tables
        bridges = {row.name: row for row in tables["Bridge"].rows.values()}
        ports = {row.name: row for row in tables["Port"].rows.values()}
        ifaces = {row.name: row for row in tables["Interface"].rows.values()}
        # ovsdbapp's Open vSwitch transactions wait for these interfaces' ofport after commit.
        expected = txn.expected_ifaces

        def new_port(name, iface_type, options):
            port = txn.insert(tables["Port"])
            port.name = name
            iface = txn.insert(tables["Interface"])
            iface.name = name
            iface.type = iface_type
            if options:
                iface.options = dict(options)
            port.interfaces = [iface]
            expected.add(iface.uuid)
            ports[name], ifaces[name] = port, iface
            return port

        for op in self.ops:
            if isinstance(op, planner.AddBridge):
                br = txn.insert(tables["Bridge"])
                br.name = op.name
                br.datapath_type = op.datapath_type
                br.fail_mode = op.fail_mode
                br.protocols = list(op.protocols)
                br.ports = [new_port(op.name, "internal", ())]
                self.api._ovs.addvalue("bridges", br)
                bridges[op.name] = br
            elif isinstance(op, planner.SetBridge):
                br = bridges[op.name]
                for column, value in op.columns:
                    setattr(br, column, list(value) if isinstance(value, tuple) else value)
            elif isinstance(op, planner.DelPort):
                port = ports.pop(op.name, None)
                br = bridges.get(op.bridge)
                if port is not None and br is not None:
                    br.delvalue("ports", port)
            elif isinstance(op, planner.AddPort):
                bridges[op.bridge].addvalue("ports", new_port(op.name, op.type, op.options))
            elif isinstance(op, planner.SetInterface):
                iface = ifaces[op.name]
                if iface.type != op.type:
                    iface.type = op.type
                iface.options = dict(op.options)
            elif isinstance(op, planner.SetPort):
                port = ports.get(op.name)
                if port is None:
                    continue
                port.tag = op.tag
                port.other_config = dict(op.other_config)
            else:
                raise TypeError("unknown operation %r" % (op,))
        self.result = len(self.ops)


@dataclasses.dataclass
class ApplyResult:
    ovsdb_ops: int = 0
    ovsdb_transactions: int = 0
    flow_bridges: tuple = ()
    flow_mods: int = 0


class Applier:
    def __init__(self, api, ofctl):
        self.api = api
        self.ofctl = ofctl

    def apply(self, plan):
        result = ApplyResult()
        if plan.ovsdb_ops:
            _ApplyOpsCommand(self.api, plan.ovsdb_ops).execute(check_error=True)
            result.ovsdb_ops = len(plan.ovsdb_ops)
            result.ovsdb_transactions = 1
        done = []
        for op in plan.flows:
            self.ofctl.apply_flow_mods(op.bridge, op.text)
            done.append(op.bridge)
            result.flow_mods += len(op.mods)
        result.flow_bridges = tuple(done)
        return result

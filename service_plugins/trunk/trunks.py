"""Trunks and their subports: rows, the validation rules of Neutron's trunk plugin, reads.

A subport's port is stamped with device_owner ``trunk:subport`` and the trunk's id as
device_id once its row is committed, and cleared when it leaves the trunk. The
constraints of models.py settle races the checks below cannot see.
"""
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.services import common, query
from netweave.service_plugins.trunk import api_definitions, models
from netweave.service_plugins.trunk import constants as const
from netweave.service_plugins.trunk import exceptions as texc

Trunk = models.Trunk
SubPort = models.SubPort
Port = port_models.Port

COLUMNS = {
    "id": Trunk.id, "name": Trunk.name, "tenant_id": Trunk.project_id, "project_id": Trunk.project_id,
    "description": Trunk.description, "admin_state_up": Trunk.admin_state_up, "status": Trunk.status,
    "port_id": Trunk.port_id, "created_at": Trunk.created_at, "updated_at": Trunk.updated_at,
    "revision_number": Trunk.revision_number,
}
ROW_ATTRIBUTES = ("name", "description", "admin_state_up")


def subport_dict(sub):
    return {"port_id": sub.port_id, "segmentation_type": sub.segmentation_type,
            "segmentation_id": sub.segmentation_id}


def make_dict(row, tags):
    result = common.standard_dict(row, tags)
    result.update({"admin_state_up": row.admin_state_up, "status": row.status, "port_id": row.port_id,
                   const.SUB_PORTS: [subport_dict(s) for s in row.sub_ports]})
    return result


def trunk_of_parent(session, port_id):
    return session.scalar(sa.select(Trunk.id).where(Trunk.port_id == port_id))


def trunk_of_subport(session, port_id):
    return session.scalar(sa.select(SubPort.trunk_id).where(SubPort.port_id == port_id))


def _network_mtu(session, port_id):
    return session.scalar(sa.select(net_models.Network.mtu).join(Port, Port.network_id == net_models.Network.id)
                          .where(Port.id == port_id))


def _request_subports(body, need_segmentation):
    """The sub_ports of a member action's body, validated as on create."""
    if not isinstance(body, dict) or const.SUB_PORTS not in body:
        raise exc.BadRequest(resource=const.TRUNK, msg="Body must contain '%s'" % const.SUB_PORTS)
    try:
        return api_definitions.subports(body[const.SUB_PORTS], need_segmentation)
    except ValueError as error:
        raise exc.InvalidInput(error_message=str(error)) from None


class TrunkService:
    def __init__(self, quotas, ports):
        self.quotas = quotas
        self.ports = ports

    # --- reads -----------------------------------------------------------

    @staticmethod
    def _visible(context, stmt):
        if context.is_admin:
            return stmt
        return stmt.where(Trunk.project_id == context.project_id)

    def get_row(self, session, context, trunk_id):
        row = session.scalar(self._visible(context, sa.select(Trunk).where(Trunk.id == trunk_id)))
        if row is None:
            raise texc.TrunkNotFound(trunk_id=trunk_id)
        return row

    @staticmethod
    def _dicts(session, rows):
        tags = common.load_tags(session, [r.id for r in rows])
        return [make_dict(r, tags[r.id]) for r in rows]

    def get(self, context, trunk_id, fields=None):
        with db_api.reader_scope() as session:
            row = self.get_row(session, context, trunk_id)
            return query.select_fields(self._dicts(session, [row])[0], fields)

    def list(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
             page_reverse=False, tag_filters=None):
        with db_api.reader_scope() as session:
            stmt = self._visible(context, sa.select(Trunk))
            rows, leftover = query.fetch_page(session, stmt, Trunk, COLUMNS, dict(filters or {}), sorts, limit,
                                              marker, page_reverse, tag_filters)
            items = self._dicts(session, rows)
        return query.finish_page(items, leftover, page_reverse, fields)

    def get_subports(self, context, trunk_id):
        return {const.SUB_PORTS: self.get(context, trunk_id)[const.SUB_PORTS]}

    # --- validation --------------------------------------------------------

    def _port(self, context, port_id):
        try:
            return self.ports.get(context, port_id)
        except exc.NotFound:
            raise texc.PortNotFound(port_id=port_id) from None

    def _check_parent(self, session, context, port_id):
        self._port(context, port_id)
        if trunk_of_parent(session, port_id) or trunk_of_subport(session, port_id):
            raise texc.ParentPortInUse(port_id=port_id)

    def _check_subports(self, session, context, trunk_id, parent_id, subports, existing):
        """Neutron's SubPortsValidator: each port free, no VLAN twice, MTU within the parent's."""
        taken = {(s["segmentation_type"], s["segmentation_id"]) for s in existing}
        parent_mtu = _network_mtu(session, parent_id)
        for sub in subports:
            port = self._port(context, sub["port_id"])
            if sub["port_id"] == parent_id or trunk_of_parent(session, sub["port_id"]) \
                    or trunk_of_subport(session, sub["port_id"]):
                raise texc.TrunkPortInUse(port_id=sub["port_id"])
            if port["device_id"]:
                raise texc.PortInUse(port_id=sub["port_id"], net_id=port["network_id"],
                                     device_id=port["device_id"])
            key = (sub["segmentation_type"], sub["segmentation_id"])
            if key in taken:
                raise texc.DuplicateSubPort(segmentation_type=key[0], segmentation_id=key[1], trunk_id=trunk_id)
            taken.add(key)
            port_mtu = _network_mtu(session, sub["port_id"])
            if parent_mtu is not None and port_mtu is not None and port_mtu > parent_mtu:
                raise texc.SubPortMtuGreaterThanTrunkPortMtu(port_mtu=port_mtu, port_id=sub["port_id"],
                                                             trunk_mtu=parent_mtu, trunk_id=trunk_id)

    @staticmethod
    def _check_enabled(row):
        if not row.admin_state_up:
            raise texc.TrunkDisabled(trunk_id=row.id)

    # --- writes ----------------------------------------------------------

    def _stamp(self, context, port_ids, trunk_id):
        """Mark the ports as this trunk's subports (or unmark them, trunk_id None)."""
        values = ({"device_owner": const.DEVICE_OWNER_SUBPORT, "device_id": trunk_id} if trunk_id
                  else {"device_owner": "", "device_id": ""})
        for port_id in port_ids:
            try:
                self.ports.update(context.elevated(), port_id, values)
            except exc.NotFound:
                pass  # deleted meanwhile: its subport row went with it

    def create(self, context, data):
        trunk_id = self._insert(context, data)
        self._stamp(context, [s["port_id"] for s in data.get(const.SUB_PORTS) or []], trunk_id)
        return self.get(context.elevated(), trunk_id)

    @db_api.retry_db_errors
    def _insert(self, context, data):
        subports = data.get(const.SUB_PORTS) or []
        try:
            with db_api.session_scope() as session:
                self.quotas.check(session, data["project_id"], const.TRUNK)
                self._check_parent(session, context, data["port_id"])
                row = Trunk(project_id=data["project_id"], name=data.get("name") or "",
                            description=data.get("description") or "", port_id=data["port_id"],
                            admin_state_up=data.get("admin_state_up", True), status=const.STATUS_DOWN)
                session.add(row)
                session.flush()
                self._check_subports(session, context, row.id, data["port_id"], subports, [])
                for sub in subports:
                    session.add(SubPort(trunk_id=row.id, **sub))
                session.flush()
                return row.id
        except sa_exc.IntegrityError:
            # A concurrent request took the parent or a subport first.
            raise texc.ParentPortInUse(port_id=data["port_id"]) from None

    @db_api.retry_db_errors
    def update(self, context, trunk_id, data):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, trunk_id)
            for key in ROW_ATTRIBUTES:
                if key in data:
                    setattr(row, key, data[key])
            common.bump_revision(row)
            session.flush()
            return self._dicts(session, [row])[0]

    def delete(self, context, trunk_id):
        port_ids = self._delete_row(context, trunk_id)
        self._stamp(context, port_ids, None)

    @db_api.retry_db_errors
    def _delete_row(self, context, trunk_id):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, trunk_id)
            binding_host = session.scalar(sa.select(port_models.PortBinding.host)
                                          .where(port_models.PortBinding.port_id == row.port_id))
            if binding_host:
                # The parent is bound to an instance: the trunk goes when the instance lets go.
                raise texc.TrunkInUse(trunk_id=trunk_id)
            port_ids = [s.port_id for s in row.sub_ports]
            common.delete_tags(session, trunk_id)
            session.delete(row)
            return port_ids

    def add_subports(self, context, trunk_id, body):
        subports = _request_subports(body, need_segmentation=True)
        self._add(context, trunk_id, subports)
        self._stamp(context, [s["port_id"] for s in subports], trunk_id)
        return self.get(context, trunk_id)

    @db_api.retry_db_errors
    def _add(self, context, trunk_id, subports):
        try:
            with db_api.session_scope() as session:
                row = self.get_row(session, context, trunk_id)
                self._check_enabled(row)
                if row.status == const.STATUS_ERROR:
                    raise texc.TrunkInErrorState(trunk_id=trunk_id)
                existing = [subport_dict(s) for s in row.sub_ports]
                self._check_subports(session, context, trunk_id, row.port_id, subports, existing)
                for sub in subports:
                    row.sub_ports.append(SubPort(trunk_id=trunk_id, **sub))
                self._changed(row)
                session.flush()
        except sa_exc.IntegrityError:
            raise texc.TrunkPortInUse(port_id=", ".join(s["port_id"] for s in subports)) from None

    def remove_subports(self, context, trunk_id, body):
        subports = _request_subports(body, need_segmentation=False)
        self._remove(context, trunk_id, subports)
        self._stamp(context, [s["port_id"] for s in subports], None)
        return self.get(context, trunk_id)

    @db_api.retry_db_errors
    def _remove(self, context, trunk_id, subports):
        with db_api.session_scope() as session:
            row = self.get_row(session, context, trunk_id)
            self._check_enabled(row)
            current = {s.port_id: s for s in row.sub_ports}
            for sub in subports:
                if sub["port_id"] not in current:
                    raise texc.SubPortNotFound(trunk_id=trunk_id, port_id=sub["port_id"])
            for sub in subports:
                row.sub_ports.remove(current[sub["port_id"]])
            self._changed(row)
            session.flush()

    @staticmethod
    def _changed(row):
        # As Neutron: a change of subports sends the trunk back to DOWN until the agent has
        # wired it again (BUILD, then ACTIVE or DEGRADED).
        row.status = const.STATUS_DOWN
        common.bump_revision(row)

    # --- from the agents ----------------------------------------------------

    @db_api.retry_db_errors
    def set_status(self, context, trunk_id, status):
        if status not in const.STATUSES:
            raise exc.InvalidInput(error_message="Unknown trunk status '%s'" % status)
        with db_api.session_scope() as session:
            row = self.get_row(session, context.elevated(), trunk_id)
            if row.status != status:
                row.status = status
                common.bump_revision(row)

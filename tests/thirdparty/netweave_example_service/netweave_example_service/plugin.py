"""Service plugin ``example_service``: widgets, each owning one port.

Creating a widget creates its port (device_owner ``example:widget``) on the
given network; deleting the widget deletes that port. The port cannot be
deleted through the port API while its widget exists: a BEFORE_DELETE
subscriber on ports refuses API deletes (payload.via_api) of this owner's
ports with a 409, and lets the plugin's own deletes through.
"""
import sqlalchemy as sa
from oslo_config import cfg

from netweave.core import events
from netweave.core import exceptions as exc
from netweave.core.db import api as db_api
from netweave.core.db import model_base
from netweave.core.plugins import service_base
from netweave_example_service import api, config, models

DEVICE_OWNER = "example:widget"


class WidgetNotFound(exc.NotFound):
    message = "Widget %(widget_id)s could not be found."


class WidgetPortInUse(exc.InUse):
    message = ("Port %(port_id)s belongs to widget %(widget_id)s and cannot be deleted directly: "
               "delete the widget instead.")


def _widget_dict(row, fields=None):
    widget = {"id": row.id, "name": row.name, "tenant_id": row.project_id, "project_id": row.project_id,
              "network_id": row.network_id, "port_id": row.port_id}
    return {k: widget[k] for k in fields if k in widget} if fields else widget


class ExampleServicePlugin(service_base.ServicePlugin):
    supported_extension_aliases = (api.WIDGETS_EXTENSION.alias,)

    def __init__(self):
        self._ports = None
        self._conf = cfg.CONF

    def initialize(self, core):
        config.register_opts(self._conf)
        self._ports = core.ports
        core.events.subscribe(self._refuse_api_delete_of_widget_port, events.PORT, events.Event.BEFORE_DELETE)

    def service_providers(self):
        return (service_base.ServiceProvider("EXAMPLE_WIDGET", "gizmo", default=True),
                service_base.ServiceProvider("EXAMPLE_WIDGET", "sprocket"))

    # --- the port veto ---------------------------------------------------------

    @staticmethod
    def _refuse_api_delete_of_widget_port(_resource, _event, payload):
        port = payload.original
        if payload.via_api and port is not None and port.get("device_owner") == DEVICE_OWNER:
            raise WidgetPortInUse(port_id=port["id"], widget_id=port.get("device_id"))

    # --- widgets ---------------------------------------------------------------

    def create_widget(self, context, body):
        data = body["widget"]
        widget_id = model_base.new_uuid()
        port = self._ports.create(context, {
            "project_id": data["project_id"], "network_id": data["network_id"],
            "name": self._conf.example_service.port_name_prefix + data["name"],
            "device_owner": DEVICE_OWNER, "device_id": widget_id})
        try:
            with db_api.session_scope() as session:
                row = models.Widget(id=widget_id, project_id=data["project_id"], name=data["name"],
                                    network_id=data["network_id"], port_id=port["id"])
                session.add(row)
                session.flush()
                return _widget_dict(row)
        except Exception:
            # Nothing half-made: the port goes if the widget cannot be stored.
            self._ports.delete(context, port["id"])
            raise

    def update_widget(self, context, widget_id, body):
        with db_api.session_scope() as session:
            row = self._row(session, widget_id)
            if "name" in body["widget"]:
                row.name = body["widget"]["name"]
            session.flush()
            return _widget_dict(row)

    def delete_widget(self, context, widget_id):
        with db_api.reader_scope() as session:
            port_id = self._row(session, widget_id).port_id
        if port_id is not None:
            try:
                self._ports.delete(context, port_id)  # the plugin's own delete: not vetoed
            except exc.NotFound:
                pass
        with db_api.session_scope() as session:
            session.execute(sa.delete(models.Widget).where(models.Widget.id == widget_id))

    def get_widget(self, context, widget_id, fields=None):
        with db_api.reader_scope() as session:
            return _widget_dict(self._row(session, widget_id), fields)

    def get_widgets(self, context, filters=None, fields=None, sorts=None, limit=None, marker=None,
                    page_reverse=False, tag_filters=None):
        """Every widget matching ``filters``; the API keeps those the caller's policy lets it see."""
        stmt = sa.select(models.Widget).order_by(models.Widget.id)
        columns = {"id": models.Widget.id, "name": models.Widget.name, "network_id": models.Widget.network_id,
                   "port_id": models.Widget.port_id, "tenant_id": models.Widget.project_id,
                   "project_id": models.Widget.project_id}
        for name, values in (filters or {}).items():
            if name in columns:
                stmt = stmt.where(columns[name].in_(values))
        if marker:
            stmt = stmt.where(models.Widget.id > marker)
        if limit:
            stmt = stmt.limit(limit)
        with db_api.reader_scope() as session:
            return [_widget_dict(row, fields) for row in session.scalars(stmt)]

    @staticmethod
    def _row(session, widget_id):
        row = session.get(models.Widget, widget_id)
        if row is None:
            raise WidgetNotFound(widget_id=widget_id)
        return row

"""Mechanism and extension driver managers: ordered stevedore plug-ins named in ml2_conf.ini."""
import logging

import sqlalchemy as sa

from netweave.core.db.models import port as port_models
from netweave.core.plugins.ml2 import driver_api, loading

LOG = logging.getLogger(__name__)

MECHANISM_NAMESPACE = "netweave.ml2.mechanism_drivers"
EXTENSION_NAMESPACE = "netweave.ml2.extension_drivers"


def _hook(runner, method):
    """A manager method that runs ``method`` of every driver through ``runner``."""
    def call(self, context):
        getattr(self, runner)(method, context)
    call.__name__ = method
    return call


class MechanismManager:
    """Calls every mechanism driver, in configured order, for each resource event."""

    def __init__(self, names):
        self.drivers = loading.load_named(MECHANISM_NAMESPACE, names, "mechanism driver")

    def initialize(self):
        for name, driver in self.drivers:
            LOG.info("Initializing mechanism driver '%s'", name)
            driver.initialize()

    def _precommit(self, method, context):
        # Errors propagate: the transaction rolls back and the API answers with them.
        for _name, driver in self.drivers:
            getattr(driver, method)(context)

    def _postcommit(self, method, context):
        for name, driver in self.drivers:
            try:
                getattr(driver, method)(context)
            except Exception:  # noqa: BLE001 - the change is committed; report and go on
                LOG.exception("Mechanism driver '%s' failed in %s", name, method)

    for _event in ("create_network", "update_network", "delete_network", "create_subnet", "update_subnet",
                   "delete_subnet", "create_port", "update_port", "delete_port"):
        locals()[_event + "_precommit"] = _hook("_precommit", _event + "_precommit")
        locals()[_event + "_postcommit"] = _hook("_postcommit", _event + "_postcommit")
    del _event

    def bind_port(self, context):
        """Ask drivers in order until one binds; returns the driver's name or None."""
        for name, driver in self.drivers:
            try:
                driver.bind_port(context)
            except Exception:  # noqa: BLE001 - one broken driver must not stop the others
                LOG.exception("Mechanism driver '%s' failed in bind_port", name)
                continue
            if context.vif_type is not None:
                return name
        return None


class ExtensionManager:
    """Extension drivers add attributes (and their storage) to networks, subnets and ports."""

    def __init__(self, names):
        self.drivers = loading.load_named(EXTENSION_NAMESPACE, names, "extension driver")

    def initialize(self):
        for _name, driver in self.drivers:
            driver.initialize()

    def extension_aliases(self):
        return [driver.extension_alias for _name, driver in self.drivers]

    def _each(self, method, *args):
        for _name, driver in self.drivers:
            getattr(driver, method)(*args)

    # The process_* hooks run inside the transaction writing the resource: the
    # service names its session, and drivers find it as ``plugin_context.session``
    # (as in Neutron), so their rows commit or roll back with the resource.

    def _process(self, method, context, session, data, result):
        if self.drivers:
            self._each(method, driver_api.PluginContext(context, session), data, result)

    def process_create_network(self, context, session, data, result):
        self._process("process_create_network", context, session, data, result)

    def process_update_network(self, context, session, data, result):
        self._process("process_update_network", context, session, data, result)

    def process_create_subnet(self, context, session, data, result):
        self._process("process_create_subnet", context, session, data, result)

    def process_update_subnet(self, context, session, data, result):
        self._process("process_update_subnet", context, session, data, result)

    def process_create_port(self, context, session, data, result):
        self._process("process_create_port", context, session, data, result)

    def process_update_port(self, context, session, data, result):
        self._process("process_update_port", context, session, data, result)

    def extend_network_dict(self, session, row, result):
        self._each("extend_network_dict", session, row, result)

    def extend_subnet_dict(self, session, row, result):
        self._each("extend_subnet_dict", session, row, result)

    def extend_port_dict(self, session, row, result):
        self._each("extend_port_dict", session, row, result)

    def wiring_attributes(self):
        """Port attributes of the drivers whose change the agents wiring the port must hear about."""
        return frozenset().union(*(driver.wiring_attributes for _name, driver in self.drivers))

    def extend_device_details(self, port, details):
        self._each("extend_device_details", port, details)

    def extend_port_dicts(self, session, results, page=None):
        """extend_port_dict for a page of ports: ``results`` is {port_id: port dict}.

        Drivers with a batch hook (``extend_port_dicts``) read the page in a few
        queries; the others get each Port object, loaded once for all of them.
        ``page``, when given, is the statement that selected the ports.
        """
        if not results:
            return
        objects = None
        for _name, driver in self.drivers:
            batch = _batch_hook(driver, "extend_port_dicts")
            if batch is not None:
                batch(session, results, page=page)
                continue
            if objects is None:
                objects = _ports_by_id(session, list(results))
            for port_id, result in results.items():
                driver.extend_port_dict(session, objects[port_id], result)


def _batch_hook(driver, name):
    """The driver's own ``name`` method, or None when it has only the base class's."""
    method = getattr(driver, name, None)
    if method is None or getattr(method, "__func__", None) is getattr(driver_api.ExtensionDriver, name):
        return None
    return method


def _ports_by_id(session, port_ids, chunk=500):
    # Chunked so a long page stays within every database's parameter limit.
    port = port_models.Port
    found = {}
    for start in range(0, len(port_ids), chunk):
        found.update((row.id, row) for row in session.scalars(
            sa.select(port).where(port.id.in_(port_ids[start:start + chunk]))))
    return found

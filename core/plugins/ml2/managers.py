"""Mechanism and extension driver managers: ordered stevedore plug-ins named in ml2_conf.ini."""
import logging

import sqlalchemy as sa
from sqlalchemy import orm

from netweave.core.db.models import network as net_models
from netweave.core.db.models import port as port_models
from netweave.core.plugins.ml2 import driver_api, loading

LOG = logging.getLogger(__name__)

MECHANISM_NAMESPACE = "netweave.ml2.mechanism_drivers"
EXTENSION_NAMESPACE = "netweave.ml2.extension_drivers"


class MechanismManager:
    """Calls every mechanism driver, in configured order, for each resource event."""

    def __init__(self, names):
        self.drivers = loading.load_named(MECHANISM_NAMESPACE, names, "mechanism driver")

    def initialize(self):
        for name, driver in self.drivers:
            LOG.info("Initializing mechanism driver '%s'", name)
            driver.initialize()

    # Each hook of the MechanismDriver contract, written out: precommits run inside
    # the transaction and their errors propagate (it rolls back, the API answers with
    # them); postcommits run after commit, where a failing driver is logged and skipped.

    def _precommit(self, call):
        for _name, driver in self.drivers:
            call(driver)

    def _postcommit(self, hook, call):
        for name, driver in self.drivers:
            try:
                call(driver)
            except Exception:  # noqa: BLE001 - the change is committed; report and go on
                LOG.exception("Mechanism driver '%s' failed in %s", name, hook)

    def create_network_precommit(self, context):
        self._precommit(lambda driver: driver.create_network_precommit(context))

    def create_network_postcommit(self, context):
        self._postcommit("create_network_postcommit", lambda driver: driver.create_network_postcommit(context))

    def update_network_precommit(self, context):
        self._precommit(lambda driver: driver.update_network_precommit(context))

    def update_network_postcommit(self, context):
        self._postcommit("update_network_postcommit", lambda driver: driver.update_network_postcommit(context))

    def delete_network_precommit(self, context):
        self._precommit(lambda driver: driver.delete_network_precommit(context))

    def delete_network_postcommit(self, context):
        self._postcommit("delete_network_postcommit", lambda driver: driver.delete_network_postcommit(context))

    def create_subnet_precommit(self, context):
        self._precommit(lambda driver: driver.create_subnet_precommit(context))

    def create_subnet_postcommit(self, context):
        self._postcommit("create_subnet_postcommit", lambda driver: driver.create_subnet_postcommit(context))

    def update_subnet_precommit(self, context):
        self._precommit(lambda driver: driver.update_subnet_precommit(context))

    def update_subnet_postcommit(self, context):
        self._postcommit("update_subnet_postcommit", lambda driver: driver.update_subnet_postcommit(context))

    def delete_subnet_precommit(self, context):
        self._precommit(lambda driver: driver.delete_subnet_precommit(context))

    def delete_subnet_postcommit(self, context):
        self._postcommit("delete_subnet_postcommit", lambda driver: driver.delete_subnet_postcommit(context))

    def create_port_precommit(self, context):
        self._precommit(lambda driver: driver.create_port_precommit(context))

    def create_port_postcommit(self, context):
        self._postcommit("create_port_postcommit", lambda driver: driver.create_port_postcommit(context))

    def update_port_precommit(self, context):
        self._precommit(lambda driver: driver.update_port_precommit(context))

    def update_port_postcommit(self, context):
        self._postcommit("update_port_postcommit", lambda driver: driver.update_port_postcommit(context))

    def delete_port_precommit(self, context):
        self._precommit(lambda driver: driver.delete_port_precommit(context))

    def delete_port_postcommit(self, context):
        self._postcommit("delete_port_postcommit", lambda driver: driver.delete_port_postcommit(context))

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
        self.drivers = _without_redundant(loading.load_named(EXTENSION_NAMESPACE, names, "extension driver"))

    def initialize(self):
        for _name, driver in self.drivers:
            driver.initialize()

    def extension_aliases(self):
        return list(dict.fromkeys(alias for _name, driver in self.drivers for alias in driver.extension_aliases))

    @property
    def port_page_sides(self):
        """The side tables the batch drivers read of a page of ports (see ExtensionDriver)."""
        return [side for _name, driver in self.drivers if driver.extends_port_pages
                for side in driver.port_page_sides]

    @property
    def network_page_sides(self):
        """The side tables the batch drivers read of a page of networks."""
        return [side for _name, driver in self.drivers if driver.extends_network_pages
                for side in driver.network_page_sides]

    # The process_* hooks run inside the transaction writing the resource: the
    # service names its session, and drivers find it as ``plugin_context.session``
    # (as in Neutron), so their rows commit or roll back with the resource.

    def _process(self, context, session, call):
        if not self.drivers:
            return
        plugin_context = driver_api.PluginContext(context, session)
        for _name, driver in self.drivers:
            call(driver, plugin_context)

    def process_create_network(self, context, session, data, result):
        self._process(context, session, lambda driver, pc: driver.process_create_network(pc, data, result))

    def process_update_network(self, context, session, data, result):
        self._process(context, session, lambda driver, pc: driver.process_update_network(pc, data, result))

    def process_create_subnet(self, context, session, data, result):
        self._process(context, session, lambda driver, pc: driver.process_create_subnet(pc, data, result))

    def process_update_subnet(self, context, session, data, result):
        self._process(context, session, lambda driver, pc: driver.process_update_subnet(pc, data, result))

    def process_create_port(self, context, session, data, result):
        self._process(context, session, lambda driver, pc: driver.process_create_port(pc, data, result))

    def process_update_port(self, context, session, data, result):
        self._process(context, session, lambda driver, pc: driver.process_update_port(pc, data, result))

    def extend_network_dict(self, session, row, result):
        for _name, driver in self.drivers:
            driver.extend_network_dict(session, row, result)

    def extend_network_dicts(self, connection, results, page):
        """extend_network_dict for a page of networks (``results``: {network_id: dict},
        read on ``connection``, a Core Connection); drivers without the batch form get
        each Network object, loaded once for all in a session made on the connection."""
        if not results:
            return
        session = None
        try:
            for _name, driver in self.drivers:
                if driver.extends_network_pages:
                    driver.extend_network_dicts(connection, results, page)
                    continue
                if type(driver).extend_network_dict is driver_api.ExtensionDriver.extend_network_dict:
                    continue  # adds nothing to networks
                if session is None:
                    session = orm.Session(bind=connection)
                    network = net_models.Network
                    objects = {row.id: row for row in session.scalars(
                        sa.select(network).where(network.id.in_(list(results))))}
                for network_id, result in results.items():
                    driver.extend_network_dict(session, objects[network_id], result)
        finally:
            if session is not None:
                session.close()

    def extend_subnet_dict(self, session, row, result):
        for _name, driver in self.drivers:
            driver.extend_subnet_dict(session, row, result)

    def extend_port_dict(self, session, row, result):
        for _name, driver in self.drivers:
            driver.extend_port_dict(session, row, result)

    def wiring_attributes(self):
        """Port attributes of the drivers whose change the agents wiring the port must hear about."""
        return frozenset().union(*(driver.wiring_attributes for _name, driver in self.drivers))

    def extend_device_details(self, port, details):
        for _name, driver in self.drivers:
            driver.extend_device_details(port, details)

    def dhcp_attributes(self):
        """Port attributes of the drivers that the DHCP agents serve."""
        return frozenset().union(*(driver.dhcp_attributes for _name, driver in self.drivers))

    def extend_dhcp_ports(self, connection, results):
        """Add the DHCP-served attributes to the port dicts of a DHCP network info
        ({port_id: dict with at least id, network_id and fixed_ips}): only the drivers
        declaring ``dhcp_attributes`` are asked."""
        self.extend_port_dicts(connection, results, drivers=[(n, d) for n, d in self.drivers if d.dhcp_attributes])

    def extend_port_dicts(self, connection, results, page=None, drivers=None):
        """extend_port_dict for a page of ports: ``results`` is {port_id: port dict},
        read on ``connection`` (a Core Connection).

        Drivers declaring ``extends_port_pages`` get the page at once and read it in
        a few queries; the others get each Port object, loaded once for all of them
        in a session made on the connection. ``page``, when given, is the
        core.services.page.Page of the ports; ``drivers`` the drivers to ask (all by
        default).
        """
        if not results:
            return
        session = None
        try:
            for _name, driver in self.drivers if drivers is None else drivers:
                if driver.extends_port_pages:
                    driver.extend_port_dicts(connection, results, page=page)
                    continue
                if session is None:
                    session = orm.Session(bind=connection)
                    objects = _ports_by_id(session, list(results))
                for port_id, result in results.items():
                    driver.extend_port_dict(session, objects[port_id], result)
        finally:
            if session is not None:
                session.close()


def _without_redundant(drivers):
    """The loaded drivers but those serving only extensions another loaded driver serves too.

    Two drivers serving one extension would both store its attributes; the one
    serving more extensions stays (``dns_domain_ports`` over ``dns``, say), so an
    all-in-one loading every installed driver works as with the larger one alone.
    """
    kept = []
    for name, driver in drivers:
        aliases = set(driver.extension_aliases)
        wider = next((other_name for other_name, other in drivers if other is not driver
                      and (aliases < set(other.extension_aliases)
                           or (aliases == set(other.extension_aliases) and (other_name, other) in kept))), None)
        if wider is not None:
            LOG.info("Extension driver '%s' is not used: '%s' serves every extension it serves", name, wider)
            continue
        kept.append((name, driver))
    return kept


def _ports_by_id(session, port_ids, chunk=500):
    # Chunked so a long page stays within every database's parameter limit.
    port = port_models.Port
    found = {}
    for start in range(0, len(port_ids), chunk):
        found.update((row.id, row) for row in session.scalars(
            sa.select(port).where(port.id.in_(port_ids[start:start + chunk]))))
    return found

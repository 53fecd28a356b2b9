"""Contracts between the ML2 core plugin and its type, mechanism and extension drivers.

A *segment* is a plain dict with the keys below; drivers never see ORM rows.
"""
import abc

NETWORK_TYPE = "network_type"
PHYSICAL_NETWORK = "physical_network"
SEGMENTATION_ID = "segmentation_id"
MTU = "mtu"
ID = "id"

BOUND_DRIVER = "bound_driver"
BOUND_SEGMENT = "bound_segment"


class TypeDriver(abc.ABC):
    """Validates and allocates the segments of one network type.

    Methods that touch allocations receive the caller's SQLAlchemy session, so
    allocation and the network row commit or roll back together.

    ``endpoint_model``: for tunnel types, the model of the tunnel endpoints the
    agents report (core/services/tunnels.py); None for every other type.
    """

    endpoint_model = None

    @abc.abstractmethod
    def get_type(self):
        """The network_type this driver handles ("vlan", "vxlan", ...)."""

    @abc.abstractmethod
    def initialize(self):
        """Parse configuration; raise ValueError naming the bad option if it is invalid."""

    def sync_allocations(self, session):
        """Bring the allocation table in step with the configured ranges (start-up)."""

    @abc.abstractmethod
    def is_partial_segment(self, segment):
        """True when the segment still needs a segmentation id (or physnet) to be chosen."""

    @abc.abstractmethod
    def validate_provider_segment(self, segment):
        """Raise InvalidInput when a provider segment is not acceptable."""

    @abc.abstractmethod
    def reserve_provider_segment(self, session, segment, filters=None):
        """Reserve the given (possibly partial) segment; return the full segment dict."""

    @abc.abstractmethod
    def allocate_tenant_segment(self, session, filters=None):
        """Allocate a project segment; return it, or None when the pool is exhausted."""

    @abc.abstractmethod
    def release_segment(self, session, segment):
        """Give the segment back to the pool (or forget it when outside the ranges)."""

    @abc.abstractmethod
    def get_mtu(self, physical_network=None):
        """MTU of networks of this type (0 when unknown)."""


class MechanismDriver(abc.ABC):
    """Hooks called around every network, subnet and port change, plus port binding.

    *_precommit runs inside the database transaction (raise to roll it back);
    *_postcommit runs after commit (errors are logged, the change stays).
    """

    def initialize(self):
        pass

    def create_network_precommit(self, context):
        pass

    def create_network_postcommit(self, context):
        pass

    def update_network_precommit(self, context):
        pass

    def update_network_postcommit(self, context):
        pass

    def delete_network_precommit(self, context):
        pass

    def delete_network_postcommit(self, context):
        pass

    def create_subnet_precommit(self, context):
        pass

    def create_subnet_postcommit(self, context):
        pass

    def update_subnet_precommit(self, context):
        pass

    def update_subnet_postcommit(self, context):
        pass

    def delete_subnet_precommit(self, context):
        pass

    def delete_subnet_postcommit(self, context):
        pass

    def create_port_precommit(self, context):
        pass

    def create_port_postcommit(self, context):
        pass

    def update_port_precommit(self, context):
        pass

    def update_port_postcommit(self, context):
        pass

    def delete_port_precommit(self, context):
        pass

    def delete_port_postcommit(self, context):
        pass

    def bind_port(self, context):
        """Try to bind ``context`` (a PortContext) by calling ``context.set_binding``."""


class PluginContext:
    """The request context of a write, with the session of its transaction.

    Extension drivers' process_* hooks receive one as ``plugin_context``:
    ``session`` is the open transaction writing the network, subnet or port,
    where the driver writes its own rows; ``project_id`` and ``is_admin`` are
    the caller's identity (what the drivers check visibility with), and
    ``request_context`` is the whole request context for anything else.
    """

    def __init__(self, request_context, session):
        self._request_context = request_context
        self.session = session

    @property
    def request_context(self):
        return self._request_context

    @property
    def project_id(self):
        return self._request_context.project_id

    @property
    def is_admin(self):
        return self._request_context.is_admin


class ExtensionDriver(abc.ABC):
    """Adds attributes (and the rows storing them) to networks, subnets and ports.

    process_create_*/process_update_* run inside the transaction writing the
    resource, after its own rows are flushed: ``plugin_context`` is a
    PluginContext whose ``session`` is that transaction (write there, raise to
    roll everything back), ``data`` the request body and ``result`` the dict
    the API will answer with. Add all the driver's attributes to it there: a
    port created on its own is written as plain rows and its dict is not
    extended again (no ORM object is loaded for extend_port_dict).

    extend_*_dict(session, db_obj, result) add the driver's attributes to a
    resource read back; ``db_obj`` is the ORM object (for networks it may also be
    a plain row, without relationships). ``session`` may be None for networks.

    Port reads (a list, and a single port, which is read as a page of one) call
    extend_port_dicts(connection, results, page) once per page when the driver
    declares ``extends_port_pages = True`` (and implements it), so a page costs a
    fixed number of queries: ``connection`` is the read's Core Connection (run Core
    statements on it: no ORM session comes with a read), ``results`` is {port_id:
    port dict}, ``page`` a ``core.services.page.Page`` (``page.rows(connection,
    side)`` reads a side table
    joined to the page, ``side`` a ``core.services.page.Side`` built once, at
    import, so its joined form is built once too) or None. Other drivers get
    extend_port_dict once per port instead. The sides a driver lists in
    ``port_page_sides`` are read before extend_port_dicts is called, together
    with the port read's own side tables in one statement, so ``page.rows``
    then costs no query.
    """

    #: Whether the driver implements extend_port_dicts (the batch form of
    #: extend_port_dict) and wants it called for port lists.
    extends_port_pages = False

    #: The core.services.page.Side objects extend_port_dicts reads through page.rows.
    port_page_sides = ()

    #: Networks likewise: whether the driver implements extend_network_dicts (read
    #: lists and single networks as pages), and the sides it reads through page.rows
    #: (keyed by network id, read with the network read's own side tables).
    extends_network_pages = False
    network_page_sides = ()

    @property
    @abc.abstractmethod
    def extension_alias(self):
        """Alias of the API extension whose attributes this driver serves."""

    @property
    def extension_aliases(self):
        """Aliases of every API extension this driver serves (Neutron's plural form);
        a driver serving several overrides it."""
        return (self.extension_alias,)

    def initialize(self):
        pass

    def process_create_network(self, plugin_context, data, result):
        pass

    def process_update_network(self, plugin_context, data, result):
        pass

    def process_create_subnet(self, plugin_context, data, result):
        pass

    def process_update_subnet(self, plugin_context, data, result):
        pass

    def process_create_port(self, plugin_context, data, result):
        pass

    def process_update_port(self, plugin_context, data, result):
        pass

    def extend_network_dict(self, session, db_obj, result):
        pass

    def extend_subnet_dict(self, session, db_obj, result):
        pass

    def extend_port_dict(self, session, db_obj, result):
        pass

    def extend_port_dicts(self, connection, results, page=None):
        """Batch form of extend_port_dict, called only when ``extends_port_pages`` is true
        (``connection``: a Core Connection)."""
        raise NotImplementedError

    def extend_network_dicts(self, connection, results, page):
        """Batch form of extend_network_dict, called only when ``extends_network_pages`` is
        true: ``results`` is {network_id: network dict}, ``page`` the networks' page,
        ``connection`` the read's Core Connection."""
        raise NotImplementedError

    # Port attributes of this driver whose change the L2 agents wiring the port must hear about.
    wiring_attributes = frozenset()

    # Port attributes of this driver the DHCP agents serve: the ports of their network
    # info carry them (set by extend_port_dicts or extend_port_dict), and a change of
    # them is sent to the agents hosting the port's network.
    dhcp_attributes = frozenset()

    def extend_device_details(self, port, details):
        """Add to an L2 agent's device details what it needs of this driver's port attributes.

        ``port`` is the port dict (extended by every driver), ``details`` the answer
        of get_device_details being built.
        """

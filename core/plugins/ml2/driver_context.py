"""Contexts handed to mechanism drivers: the resource as the API shows it, plus binding tools."""


class _ResourceContext:
    """``driver_notes``: what a mechanism driver keeps from its precommit for its
    postcommit of the same change, under a key of its own."""

    def __init__(self, plugin_context, session, current, original=None):
        self._plugin_context = plugin_context
        self._session = session
        self.current = current
        self.original = original
        self.driver_notes = {}

    @property
    def plugin_context(self):
        return self._plugin_context

    @property
    def session(self):
        return self._session


class NetworkContext(_ResourceContext):
    """A network being created, updated or deleted, or the network of a port.

    ``dhcp_enabled_subnet_ids``: ids of the network's subnets with DHCP on, as
    read with the network by whoever built the context (a frozenset), or None
    when it was not read; then a driver needing it queries the subnets itself.
    The port service fills it with the network it read for the port.
    """

    def __init__(self, plugin_context, session, network, original=None, segments=None,
                 dhcp_enabled_subnet_ids=None):
        super().__init__(plugin_context, session, network, original)
        self.network_segments = list(segments or [])
        self.dhcp_enabled_subnet_ids = dhcp_enabled_subnet_ids


class DeferredNetworkContext(NetworkContext):
    """The network of a port being updated or deleted, read on first use.

    ``load(session)`` returns (network dict, segments, dhcp_enabled_subnet_ids).
    Most port changes concern no driver that looks at the network: then it
    costs no query. Read in the change's transaction while it is open (a
    precommit), else in a transaction of its own (a postcommit).
    """

    def __init__(self, plugin_context, session, load):
        # Not NetworkContext.__init__: its attributes are the properties below.
        self._plugin_context = plugin_context
        self._session = session
        self.original = None
        self._load = load
        self._loaded = None
        self.driver_notes = {}

    def _values(self):
        if self._loaded is None:
            if self._session is not None and self._session.in_transaction():
                self._loaded = self._load(self._session)
            else:
                # Here, not at the top: the contexts themselves need no database layer.
                from netweave.core.db import api as db_api

                with db_api.reader_scope() as session:
                    self._loaded = self._load(session)
        return self._loaded

    @property
    def current(self):
        return self._values()[0]

    @property
    def network_segments(self):
        return self._values()[1]

    @property
    def dhcp_enabled_subnet_ids(self):
        return self._values()[2]


class SubnetContext(_ResourceContext):
    def __init__(self, plugin_context, session, subnet, network, original=None):
        super().__init__(plugin_context, session, subnet, original)
        self.network = network


class PortContext(_ResourceContext):
    """A port being created, updated, deleted or bound.

    For binding, drivers look at ``segments_to_bind`` and ``host`` and call
    ``set_binding`` once they can wire the port on that host.

    ``status_batch``: set when the port's status changed as one of a batch of
    devices an agent reported together (a ``devices.StatusBatch``), so a
    postcommit can collect its notifications and send one per batch; None for
    a change of this port alone.
    """

    def __init__(self, plugin_context, session, port, network, original=None, host=None,
                 agents_lookup=None):
        super().__init__(plugin_context, session, port, original)
        self.network = network
        self.host = host if host is not None else port.get("binding:host_id", "")
        self.vnic_type = port.get("binding:vnic_type", "normal")
        self._segments_to_bind = None
        self._agents_lookup = agents_lookup
        self.bound_segment = None
        self.vif_type = None
        self.vif_details = None
        self.status = None
        self.status_batch = None

    @property
    def segments_to_bind(self):
        # Taken from the network on first use (a DeferredNetworkContext reads it then).
        if self._segments_to_bind is None:
            self._segments_to_bind = list(self.network.network_segments)
        return self._segments_to_bind

    @property
    def original_host(self):
        return (self.original or {}).get("binding:host_id", "")

    def set_binding(self, segment_id, vif_type, vif_details, status=None):
        self.bound_segment = next((s for s in self.segments_to_bind if s.get("id") == segment_id), None)
        self.vif_type = vif_type
        self.vif_details = dict(vif_details or {})
        self.status = status

    def host_agents(self, agent_type):
        """Agents of ``agent_type`` reported by this port's host (empty until agents exist)."""
        if self._agents_lookup is None:
            return []
        return self._agents_lookup(agent_type, self.host)

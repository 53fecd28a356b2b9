"""The ``example_recorder`` mechanism driver.

Every call netweave makes is appended as one JSON line to the file named by
the NETWEAVE_EXAMPLE_DRIVER_LOG environment variable (nothing is written when
it is unset): ``event``, the resource ``id`` and, for ``bind_port``, the
``host``, the ``segments`` offered and the ``bound_segment`` chosen.

Binding: a port whose host name starts with ``example-host`` is bound to its
network's first segment of type vxlan, flat, vlan or local, with vif_type
``example`` and vif_details ``{"port_filter": true}``. Ports on other hosts,
or on networks without such a segment, are left for other drivers.
"""
import json
import os

from netweave.core.plugins.ml2 import driver_api

LOG_ENV = "NETWEAVE_EXAMPLE_DRIVER_LOG"
HOST_PREFIX = "example-host"
BINDABLE_TYPES = ("vxlan", "flat", "vlan", "local")
VIF_TYPE = "example"
VIF_DETAILS = {"port_filter": True}


def record(event, **fields):
    """Append one JSON line; a single O_APPEND write keeps lines whole across workers."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    entry = dict(fields, event=event, pid=os.getpid())
    line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _recorder(event):
    def method(self, context):
        record(event, id=(context.current or {}).get("id"))
    method.__name__ = event
    method.__doc__ = "Record a %s call." % event
    return method


def _segment_summary(segment):
    return {key: segment.get(key) for key in
            (driver_api.ID, driver_api.NETWORK_TYPE, driver_api.PHYSICAL_NETWORK, driver_api.SEGMENTATION_ID)}


class ExampleRecorderDriver(driver_api.MechanismDriver):
    """Records every call; binds ports on example-host* hosts."""

    def initialize(self):
        record("initialize")

    create_network_precommit = _recorder("create_network_precommit")
    create_network_postcommit = _recorder("create_network_postcommit")
    update_network_precommit = _recorder("update_network_precommit")
    update_network_postcommit = _recorder("update_network_postcommit")
    delete_network_precommit = _recorder("delete_network_precommit")
    delete_network_postcommit = _recorder("delete_network_postcommit")

    create_subnet_precommit = _recorder("create_subnet_precommit")
    create_subnet_postcommit = _recorder("create_subnet_postcommit")
    update_subnet_precommit = _recorder("update_subnet_precommit")
    update_subnet_postcommit = _recorder("update_subnet_postcommit")
    delete_subnet_precommit = _recorder("delete_subnet_precommit")
    delete_subnet_postcommit = _recorder("delete_subnet_postcommit")

    create_port_precommit = _recorder("create_port_precommit")
    create_port_postcommit = _recorder("create_port_postcommit")
    update_port_precommit = _recorder("update_port_precommit")
    update_port_postcommit = _recorder("update_port_postcommit")
    delete_port_precommit = _recorder("delete_port_precommit")
    delete_port_postcommit = _recorder("delete_port_postcommit")

    def bind_port(self, context):
        host = context.host or ""
        segments = list(context.segments_to_bind)
        chosen = None
        if host.startswith(HOST_PREFIX):
            chosen = next((s for s in segments if s.get(driver_api.NETWORK_TYPE) in BINDABLE_TYPES), None)
        if chosen is not None:
            context.set_binding(chosen[driver_api.ID], VIF_TYPE, dict(VIF_DETAILS))
        record("bind_port", id=(context.current or {}).get("id"), host=host,
               segments=[_segment_summary(s) for s in segments],
               bound_segment=chosen[driver_api.ID] if chosen is not None else None)

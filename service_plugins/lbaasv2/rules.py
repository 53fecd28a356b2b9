"""Cross-field rules of the LBaaS v2 API (pure functions)."""
import ipaddress

from netweave.core import exceptions as exc
from netweave.service_plugins.lbaasv2 import exceptions as lexc

# (listener protocol, pool protocol) pairs that can work together.
_COMPATIBLE = {("TCP", "TCP"), ("HTTP", "HTTP"), ("HTTPS", "HTTPS")}


def check_protocols(listener_protocol, pool_protocol):
    if (listener_protocol, pool_protocol) not in _COMPATIBLE:
        raise lexc.ProtocolMismatch(listener_proto=listener_protocol, pool_proto=pool_protocol)


def check_monitor(data):
    if data["delay"] < data["timeout"]:
        raise exc.BadRequest(resource="healthmonitor", msg="Delay must be greater than or equal to timeout")


def check_project(project, parent):
    """A child belongs to its parent's project (Neutron LBaaS: tenant_id should match)."""
    if project and parent.project_id and project != parent.project_id:
        raise lexc.ValidationFailure(detail="project_id %s does not match the project of %s." % (project, parent.id))


def address_in_cidr(address, cidr):
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def expand_codes(expected_codes):
    """'200' / '200, 202' / '200-204' -> the codes haproxy's rstatus matches, joined with '|'."""
    text = expected_codes.replace(" ", "")
    if "-" in text:
        low, high = (int(part) for part in text.split("-"))
        return "|".join(str(code) for code in range(low, high + 1))
    return "|".join(text.split(","))

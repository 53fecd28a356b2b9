"""extra_dhcp_opt: DHCP options a port's host gets on top of its subnet's (lease time, PXE, ...)."""
from netweave.core.api import validators as v
from netweave.core.api.extension import Extension
from netweave.core.api.resource import Attribute as A
from netweave.core.api.resource import attrs

OPT_NAME_MAX = 64
OPT_VALUE_MAX = 255
IP_VERSIONS = (4, 6)


def _ip_version(value):
    if value is None:
        return 4
    try:
        version = int(value)
    except (TypeError, ValueError):
        version = None
    if isinstance(value, bool) or version not in IP_VERSIONS:
        raise v.AttributeInvalid("'%s' is not in %s" % (value, list(IP_VERSIONS)))
    return version


def _opt_name(value):
    name = v.string(OPT_NAME_MAX)(value)
    if not name.strip():
        raise v.AttributeInvalid("'%s' Blank strings are not permitted" % value)
    return name


def _opt_value(value):
    # None means "remove this option" on update (and "nothing" on create).
    if value is None:
        return None
    text = v.string(OPT_VALUE_MAX)(value)
    if not text.strip():
        raise v.AttributeInvalid("'%s' Blank strings are not permitted" % value)
    return text


_check_option = v.dict_of({"opt_name": _opt_name, "opt_value": _opt_value, "ip_version": _ip_version},
                          required=("opt_name",))


def extra_dhcp_opts(value):
    """A list of {opt_name, opt_value, ip_version}: at most one per name and IP version."""
    if value is None:
        return []
    options = []
    seen = set()
    for item in v.list_of(_check_option)(value):
        option = {"opt_name": item["opt_name"], "opt_value": item.get("opt_value"),
                  "ip_version": item.get("ip_version", 4)}
        key = (option["opt_name"], option["ip_version"])
        if key in seen:
            raise v.AttributeInvalid("Duplicate DHCP option %s for IP version %s" % key)
        seen.add(key)
        options.append(option)
    return options


EXTENSION = Extension(
    alias="extra_dhcp_opt", name="Neutron Extra DHCP options",
    description="Extra options configuration for DHCP. For example PXE boot options to DHCP clients can "
                "be specified (e.g. tftp-server, server-ip-address, bootfile-name)",
    updated="2013-03-17T12:00:00-00:00",
    extended_attributes={"ports": attrs(
        A("extra_dhcp_opts", allow_post=True, allow_put=True, default=[], convert=extra_dhcp_opts),
    )},
)

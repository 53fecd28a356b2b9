"""What each LBaaS v2 resource accepts on POST and PUT: converters, defaults, required fields.

``parse(schema, body, key, creating)`` returns the normalised attributes or
raises a 400 in Neutron's error shape; cross-field rules live in rules.py.
"""
import re

from netweave.core.api import faults
from netweave.core.api import validators as v
from netweave.service_plugins.lbaasv2 import constants as const
from netweave.service_plugins.lbaasv2 import exceptions as lexc

_CODES_RE = re.compile(r"^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$")
_URL_PATH_RE = re.compile(r"^/[^\s]*$")


_NO_RESET = object()


class Field:
    """``unset``: what a null sets the attribute to (Octavia resets these to their defaults:
    the CLI's ``unset`` commands send null); without it a null goes to ``convert``."""

    def __init__(self, convert, default=None, required=False, post=True, put=False, unset=_NO_RESET):
        self.convert = convert
        self.default = default
        self.required = required
        self.post = post
        self.put = put
        self.unset = unset


def _protocol(value):
    if value == const.TERMINATED_HTTPS:
        raise lexc.TerminatedHttpsNotSupported()
    return v.one_of(*const.PROTOCOLS)(value)


def _expected_codes(value):
    value = v.string(64)(value)
    if not _CODES_RE.match(value):
        raise v.AttributeInvalid("'%s' is not a valid set of HTTP codes" % value)
    return value


def _url_path(value):
    value = v.string(255)(value)
    if not _URL_PATH_RE.match(value):
        raise v.AttributeInvalid("'%s' is not a valid URL path" % value)
    return value


def _persistence(value):
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise v.AttributeInvalid("'%s' is not a dictionary" % (value,))
    unknown = set(value) - {"type", "cookie_name", "persistence_timeout", "persistence_granularity"}
    if unknown:
        raise v.AttributeInvalid("Unrecognized attribute(s) '%s'" % ", ".join(sorted(unknown)))
    kind = value.get("type")
    if kind not in const.PERSISTENCE_TYPES:
        raise lexc.InvalidOption(value=kind, option="session_persistence type")
    cookie = value.get("cookie_name")
    if kind == "APP_COOKIE":
        if not cookie:
            raise lexc.SessionPersistenceInvalid(msg="'cookie_name' should be specified for APP_COOKIE "
                                                     "session persistence.")
        cookie = v.string(255)(cookie)
        if not re.match(r"^[\x21-\x7e]+$", cookie) or any(c in cookie for c in '()<>@,;:\\"/[]?={}'):
            raise lexc.SessionPersistenceInvalid(msg="'%s' is not a valid cookie name" % cookie)
    elif cookie is not None:
        raise lexc.SessionPersistenceInvalid(msg="Cookie names are not supported for %s persistence." % kind)
    return {"type": kind, "cookie_name": cookie if kind == "APP_COOKIE" else None}


def _served_only(*values):
    """An Octavia attribute this provider has no choice in: null and the values it serves are
    taken on POST and PUT (the CLI's unset sends null), anything else is a 400."""
    return Field(v.one_of_or_none(*values), put=True)


_NAME = Field(v.string(255), default="", put=True, unset="")
_DESCRIPTION = Field(v.string(255), default="", put=True, unset="")
_ADMIN = Field(v.boolean, default=True, put=True)
_PROJECT = Field(v.project_id)
_TAGS = Field(v.list_of(v.string(255)), default=[], put=True)

LOADBALANCER = {
    "name": _NAME, "description": _DESCRIPTION, "admin_state_up": _ADMIN,
    "project_id": _PROJECT, "tenant_id": _PROJECT, "tags": _TAGS,
    "vip_subnet_id": Field(v.uuid_or_none), "vip_network_id": Field(v.uuid_or_none),
    "vip_port_id": Field(v.uuid_or_none), "vip_address": Field(v.ip_address_or_none),
    "provider": Field(v.one_of_or_none(const.PROVIDER)),
    # No flavors, availability zones or VIP QoS here: only their "none" is taken.
    "flavor_id": Field(v.one_of_or_none(None, "")),
    "availability_zone": Field(v.one_of_or_none(None, "")),
    "vip_qos_policy_id": Field(v.one_of_or_none(None, ""), put=True),
}

LISTENER = {
    "name": _NAME, "description": _DESCRIPTION, "admin_state_up": _ADMIN,
    "project_id": _PROJECT, "tenant_id": _PROJECT, "tags": _TAGS,
    "loadbalancer_id": Field(v.uuid_value, required=True),
    "protocol": Field(_protocol, required=True),
    "protocol_port": Field(v.integer(1, 65535), required=True),
    "connection_limit": Field(v.integer(-1), default=-1, put=True, unset=-1),
    "default_pool_id": Field(v.uuid_or_none, put=True),
    # No TLS termination, header insertion or source filtering; haproxy's timeouts are fixed
    # (views.listener shows them).
    "default_tls_container_ref": _served_only(None, ""),
    "sni_container_refs": Field(v.list_of(v.string(255), max_items=0), default=[], put=True, unset=[]),
    "client_ca_tls_container_ref": _served_only(None, ""),
    "client_crl_container_ref": _served_only(None, ""),
    "client_authentication": _served_only("NONE"),
    "tls_ciphers": _served_only(None),
    "tls_versions": _served_only(None),
    "alpn_protocols": _served_only(None),
    "insert_headers": _served_only({}),
    "allowed_cidrs": _served_only([]),
    "timeout_client_data": _served_only(50000),
    "timeout_member_connect": _served_only(5000),
    "timeout_member_data": _served_only(50000),
    "timeout_tcp_inspect": _served_only(0),
}

POOL = {
    "name": _NAME, "description": _DESCRIPTION, "admin_state_up": _ADMIN,
    "project_id": _PROJECT, "tenant_id": _PROJECT, "tags": _TAGS,
    "loadbalancer_id": Field(v.uuid_or_none), "listener_id": Field(v.uuid_or_none),
    "protocol": Field(_protocol, required=True),
    "lb_algorithm": Field(lambda value: _choice(value, const.ALGORITHMS, "lb_algorithm"), required=True, put=True),
    "session_persistence": Field(_persistence, put=True),
    # No TLS towards members: only its off values are taken.
    "tls_enabled": Field(v.one_of(False), default=False, put=True, unset=False),
    "tls_container_ref": _served_only(None, ""),
    "ca_tls_container_ref": _served_only(None, ""),
    "crl_container_ref": _served_only(None, ""),
    "tls_ciphers": _served_only(None),
    "tls_versions": _served_only(None),
    "alpn_protocols": _served_only(None),
}

MEMBER = {
    "name": _NAME, "admin_state_up": _ADMIN,
    "project_id": _PROJECT, "tenant_id": _PROJECT, "tags": _TAGS,
    "address": Field(v.ip_address, required=True),
    "protocol_port": Field(v.integer(1, 65535), required=True),
    "subnet_id": Field(v.uuid_or_none),
    "weight": Field(v.integer(0, 256), default=1, put=True, unset=1),
    # No backup members or separate monitor addresses here: only their off values are taken.
    "backup": Field(v.one_of(False), default=False, put=True, unset=False),
    "monitor_address": _served_only(None),
    "monitor_port": _served_only(None),
}

HEALTHMONITOR = {
    "name": _NAME, "admin_state_up": _ADMIN,
    "project_id": _PROJECT, "tenant_id": _PROJECT, "tags": _TAGS,
    "pool_id": Field(v.uuid_value, required=True),
    "type": Field(lambda value: _choice(value, const.MONITOR_TYPES, "type"), required=True),
    "delay": Field(v.integer(0), required=True, put=True),
    "timeout": Field(v.integer(0), required=True, put=True),
    "max_retries": Field(v.integer(1, 10), required=True, put=True),
    "max_retries_down": Field(v.integer(1, 10), default=3, put=True, unset=3),
    "http_method": Field(lambda value: _choice(value, const.HTTP_METHODS, "http_method"), put=True, unset="GET"),
    "url_path": Field(_url_path, put=True, unset="/"),
    "expected_codes": Field(_expected_codes, put=True, unset="200"),
    # Checks are HTTP/1.0 without a Host header.
    "http_version": _served_only(None),
    "domain_name": _served_only(None),
}


def _choice(value, choices, option):
    if value not in choices:
        raise lexc.InvalidOption(value=value, option=option)
    return value


def parse(schema, body, key, creating):
    """The attributes of ``body[key]``, converted; defaults filled in on create."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise faults.bad_request("Resource body required: %s" % key)
    data = body[key]
    unknown = sorted(name for name in data if name not in schema)
    if unknown:
        raise faults.bad_request("Unrecognized attribute(s) '%s'" % ", ".join(unknown))
    result = {}
    for name, value in data.items():
        field = schema[name]
        if not (field.post if creating else field.put):
            raise faults.bad_request("Attribute '%s' cannot be %s" % (name, "set" if creating else "updated"))
        if value is None and field.unset is not _NO_RESET:
            result[name] = field.unset
            continue
        try:
            result[name] = field.convert(value)
        except v.AttributeInvalid as error:
            raise faults.bad_request("Invalid input for %s. Reason: %s." % (name, error))
    if creating:
        for name, field in schema.items():
            if name in result:
                continue
            if field.required:
                raise faults.bad_request("Failed to parse request. Required attribute '%s' not specified" % name)
            result[name] = field.default
    return result

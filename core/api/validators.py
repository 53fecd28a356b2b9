"""Converters and validators for API attributes.

Each function takes the raw JSON value and returns the normalised value, or
raises ``AttributeInvalid`` with the reason Neutron would give; the controller
turns that into "Invalid input for <attr>. Reason: <reason>." (HTTP 400).
"""
import datetime
import re
import uuid
import weakref

import netaddr

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_MAC_RE = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")
_HOSTNAME_SAFE_RE = re.compile(r"^[\x20-\x7e]*$")


class AttributeInvalid(ValueError):
    """The value of one attribute is not acceptable; the message is the reason."""


def _fail(reason):
    raise AttributeInvalid(reason)


# --- what each check accepts, as JSON Schema -----------------------------
# The OpenAPI description (core/api/openapi.py) reads these; a check nobody
# described accepts anything there.

_SCHEMAS = weakref.WeakKeyDictionary()


def described(schema):
    """Decorator recording ``schema``, the JSON Schema of the values a check accepts."""
    def record(check):
        _SCHEMAS[check] = schema
        return check
    return record


def schema_of(check):
    """The JSON Schema recorded for ``check``, or None when it has none."""
    return _SCHEMAS.get(check)


def _nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]} if schema else {}


_UUID_SCHEMA = {"type": "string", "format": "uuid"}
_IP_SCHEMA = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
_CIDR_SCHEMA = {"type": "string", "format": "cidr"}


# --- scalars -----------------------------------------------------------

def string(max_len=255):
    def check(value):
        if not isinstance(value, str):
            _fail("'%s' is not a valid string" % (value,))
        if max_len is not None and len(value) > max_len:
            _fail("'%s' exceeds maximum length of %s" % (value, max_len))
        if "\x00" in value:
            # No database stores NUL in text the same way; refuse it everywhere.
            _fail("'%s' contains a NUL character" % value.replace("\x00", "\\x00"))
        return value
    schema = {"type": "string"}
    if max_len is not None:
        schema["maxLength"] = max_len
    return described(schema)(check)


def text(value):
    """Any string a database can store and compare: no NUL, no lone surrogate.

    The check of every query value that has no more specific converter; a value
    longer than a column just matches nothing.
    """
    if not isinstance(value, str):
        _fail("'%s' is not a valid string" % (value,))
    if "\x00" in value:
        _fail("'%s' contains a NUL character" % value.replace("\x00", "\\x00"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _fail("'%s' is not valid UTF-8" % value.encode("utf-8", "backslashreplace").decode("ascii"))
    return value


def path_segment(value, max_len=255):
    """A URL segment that can name a row: text a database compares, of a column's length."""
    text(value)
    if len(value) > max_len:
        _fail("'%s' exceeds maximum length of %s" % (value, max_len))
    return value


def datetime_value(value):
    """An ISO 8601 time ("2024-01-31T12:00:00Z", offsets too) as a naive UTC datetime."""
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return parsed
    _fail("'%s' is not a valid ISO 8601 date and time" % (value,))


def string_or_none(max_len=255):
    inner = string(max_len)

    def check(value):
        return None if value is None else inner(value)
    return described(_nullable(schema_of(inner)))(check)


@described({"type": "boolean"})
def boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on", "t", "y"):
            return True
        if lowered in ("false", "0", "no", "off", "f", "n"):
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    _fail("'%s' cannot be converted to boolean" % (value,))


@described(_nullable({"type": "boolean"}))
def boolean_or_none(value):
    return None if value is None else boolean(value)


# Bounds of an integer attribute that names none: a SQL INTEGER column's, so that no
# value passes here that a database refuses (PostgreSQL) or stores unlike others.
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1


def integer(min_value=None, max_value=None):
    min_value = INT_MIN if min_value is None else min_value
    max_value = INT_MAX if max_value is None else max_value

    def check(value):
        if isinstance(value, bool):
            _fail("'%s' is not an integer" % (value,))
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                _fail("'%s' is not an integer" % (value,))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            _fail("'%s' is not an integer" % (value,))
        # Nothing outside a signed 64-bit integer fits any column or query parameter.
        if not -2 ** 63 <= value < 2 ** 63:
            _fail("'%s' is out of the range of a 64-bit integer" % (value,))
        if value < min_value:
            _fail("'%s' is too small - must be at least '%s'" % (value, min_value))
        if value > max_value:
            _fail("'%s' is too large - must be no larger than '%s'" % (value, max_value))
        return value
    schema = {"type": "integer", "minimum": -2 ** 63 if min_value is None else min_value,
              "maximum": 2 ** 63 - 1 if max_value is None else max_value}
    return described(schema)(check)


def integer_or_none(min_value=None, max_value=None):
    inner = integer(min_value, max_value)

    def check(value):
        return None if value is None else inner(value)
    return described(_nullable(schema_of(inner)))(check)


def one_of(*choices):
    def check(value):
        if value not in choices:
            _fail("'%s' is not in %s" % (value, list(choices)))
        return value
    return described({"enum": list(choices)})(check)


def one_of_or_none(*choices):
    inner = one_of(*choices)

    def check(value):
        return None if value is None else inner(value)
    return described({"enum": list(choices) + [None]})(check)


@described(_UUID_SCHEMA)
def uuid_value(value):
    if not isinstance(value, str) or not _UUID_RE.match(value):
        _fail("'%s' is not a valid UUID" % (value,))
    return str(uuid.UUID(value))


def id_filter(value):
    """An id-like filter value: a UUID in its canonical form, any other text as it is.

    Neutron does not check the form of filter values, so ``?id=33`` is an empty
    list rather than a 400 (tempest lists metering labels so).
    """
    try:
        return uuid_value(value)
    except AttributeInvalid:
        return text(value)


@described(_nullable(_UUID_SCHEMA))
def uuid_or_none(value):
    return None if value is None else uuid_value(value)


@described({"type": "string", "minLength": 1, "maxLength": 255})
def project_id(value):
    if not isinstance(value, str) or not value or len(value) > 255 or "\x00" in value:
        _fail("'%s' is not a valid project ID" % (value if not isinstance(value, str)
                                                 else value.replace("\x00", "\\x00"),))
    return value


@described({"type": "string", "pattern": "^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$"})
def mac_address(value):
    if not isinstance(value, str) or not _MAC_RE.match(value):
        _fail("'%s' is not a valid MAC address" % (value,))
    mac = netaddr.EUI(value, dialect=netaddr.mac_unix_expanded)
    if mac.value == 0 or mac.words[0] & 1:
        _fail("'%s' is not a valid MAC address" % (value,))
    return str(mac).lower()


@described(_IP_SCHEMA)
def ip_address(value):
    if not isinstance(value, str):
        _fail("'%s' is not a valid IP address" % (value,))
    try:
        # Strict parsing: no shorthand like "10.1" and no leading zeros.
        if ":" in value:
            return str(netaddr.IPAddress(value, 6))
        parts = value.split(".")
        if len(parts) != 4 or any(not p.isdigit() or (len(p) > 1 and p[0] == "0") for p in parts):
            raise ValueError
        return str(netaddr.IPAddress(value, 4, flags=netaddr.INET_PTON))
    except (ValueError, netaddr.AddrFormatError, TypeError):
        _fail("'%s' is not a valid IP address" % (value,))


@described(_nullable(_IP_SCHEMA))
def ip_address_or_none(value):
    return None if value is None else ip_address(value)


@described(_CIDR_SCHEMA)
def cidr(value):
    """A subnet in CIDR form; host bits are kept for the IPAM to normalise."""
    if not isinstance(value, str) or "/" not in value:
        _fail("'%s' is not a valid IP subnet" % (value,))
    address, _, length = value.partition("/")
    ip_address(address)
    try:
        net = netaddr.IPNetwork(value)
        if not length.isdigit() or int(length) > (32 if net.version == 4 else 128):
            raise ValueError
    except (ValueError, netaddr.AddrFormatError):
        _fail("'%s' is not a valid IP subnet" % (value,))
    return str(net)


@described(_nullable(_CIDR_SCHEMA))
def cidr_or_none(value):
    return None if value is None else cidr(value)


@described({"anyOf": [_IP_SCHEMA, _CIDR_SCHEMA]})
def ip_or_cidr(value):
    if isinstance(value, str) and "/" in value:
        return cidr(value)
    return ip_address(value)


# --- lists and dicts ---------------------------------------------------

def list_of(item_check, max_items=None, unique=False):
    def check(value):
        if not isinstance(value, list):
            _fail("'%s' is not a list" % (value,))
        if max_items is not None and len(value) > max_items:
            _fail("'%s' exceeds the maximum of %s items" % (value, max_items))
        result = [item_check(v) for v in value]
        if unique:
            seen = set()
            for item in result:
                key = repr(item)
                if key in seen:
                    _fail("Duplicate items in the list: '%s'" % (item,))
                seen.add(key)
        return result
    schema = {"type": "array", "items": schema_of(item_check) or {}}
    if max_items is not None:
        schema["maxItems"] = max_items
    if unique:
        schema["uniqueItems"] = True
    return described(schema)(check)


def dict_of(spec, required=(), allow_extra=False):
    """A dict whose known keys are checked by ``spec`` (key -> check)."""
    def check(value):
        if not isinstance(value, dict):
            _fail("'%s' is not a dictionary" % (value,))
        missing = [k for k in required if k not in value]
        if missing:
            _fail("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s"
                  % (set(required), set(value)))
        extra = set(value) - set(spec)
        if extra and not allow_extra:
            _fail("Unexpected keys supplied: %s" % ", ".join(sorted(extra)))
        result = dict(value)
        for key, key_check in spec.items():
            if key in value:
                result[key] = key_check(value[key])
        return result
    schema = {"type": "object", "properties": {key: schema_of(key_check) or {} for key, key_check in spec.items()}}
    if required:
        schema["required"] = list(required)
    if not allow_extra:
        schema["additionalProperties"] = False
    return described(schema)(check)


@described({"type": ["object", "null"]})
def any_dict(value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail("'%s' is not a dictionary" % (value,))
    return value


@described(_nullable(_IP_SCHEMA))
def subnet_gateway(value):
    """gateway_ip: null, an IP address, or absent (auto)."""
    return None if value is None else ip_address(value)


@described(_nullable({"type": "integer", "minimum": 0, "maximum": 65535}))
def port_range_or_none(value):
    return integer_or_none(0, 65535)(value)

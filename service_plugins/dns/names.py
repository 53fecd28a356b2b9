"""DNS names and domains: Neutron's checks and the host names a port's addresses get.

Pure functions. The messages are Neutron's (neutron-lib's DNS validators), so a
client sees the same reasons. One deliberate difference: the ``<project_id>``-style
label keywords of the dns-domain-keywords extension are refused, since that
extension is not served here.
"""
import re

# Neutron's limits: a FQDN of 255 characters, labels of 1 to 63.
FQDN_MAX_LEN = 255
LABEL_MAX_LEN = 63
# With the default [DEFAULT] dns_domain Neutron ignores the dns_name of ports.
DEFAULT_DOMAIN = "openstacklocal."

_LABEL = re.compile(r"[a-z0-9-]{1,%d}" % LABEL_MAX_LEN)
_ALL_DIGITS = re.compile(r"[0-9]+")


def absolute(domain):
    """``domain`` ending with a dot ('' for none): how Neutron appends it to host names."""
    if not domain:
        return ""
    return domain if domain.endswith(".") else domain + "."


def names_honoured(conf_domain):
    """Whether ports' dns_name count: only with a [DEFAULT] dns_domain other than the default."""
    domain = absolute(conf_domain)
    return bool(domain) and domain != DEFAULT_DOMAIN


def format_problem(data, max_len=FQDN_MAX_LEN):
    """Why ``data`` is no valid PQDN or FQDN (RFC 1123 and RFC 952), or None when it is."""
    if not data:
        return None
    reason = _label_problem(data, max_len)
    if reason is None:
        return None
    return "'%s' not a valid PQDN or FQDN. Reason: %s" % (data, reason)


def _label_problem(data, max_len):
    # A trailing dot marks a name as fully qualified (RFC 1034).
    trimmed = data[:-1] if data.endswith(".") else data
    if len(trimmed) > max_len:
        return "'%s' exceeds the %s character FQDN limit" % (trimmed, max_len)
    labels = trimmed.split(".")
    for label in labels:
        if not label:
            return "Encountered an empty component"
        if label.startswith("-") or label.endswith("-"):
            return "Name '%s' must not start or end with a hyphen" % label
        if not _LABEL.fullmatch(label):
            return ("Name '%s' must be 1-63 characters long, each of which can only be alphanumeric "
                    "or a hyphen" % label)
    # A top-level domain is never all digits (RFC 1123).
    if len(labels) > 1 and _ALL_DIGITS.fullmatch(labels[-1]):
        return "TLD '%s' must not be all numeric" % labels[-1]
    return None


def name_domain_problem(dns_name, conf_domain):
    """Why ``dns_name`` does not fit [DEFAULT] dns_domain (``conf_domain`` as configured), or None.

    A PQDN must leave room for the domain; a FQDN must end with it and have a
    label of its own in front of it.
    """
    domain = absolute(conf_domain)
    higher_labels = "." + domain if domain else ""
    if not dns_name.endswith("."):
        if len(dns_name) + len(higher_labels) > FQDN_MAX_LEN:
            return ("The dns_name passed is a PQDN and its size is '%s'. The dns_domain option in "
                    "neutron.conf is set to %s, with a length of '%s'. When the two are concatenated to "
                    "form a FQDN (with a '.' at the end), the resulting length exceeds the maximum size "
                    "of '%s'" % (len(dns_name), conf_domain, len(higher_labels), FQDN_MAX_LEN))
        return None
    if len(dns_name) <= len(higher_labels) or not dns_name.endswith(higher_labels):
        return ("The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain "
                "option in neutron.conf, that has been set to '%s'. It must also include one or more valid "
                "DNS labels to the left of '%s'" % (conf_domain, conf_domain))
    return None


def domain_problem(data, max_len=FQDN_MAX_LEN):
    """Why ``data`` is no valid dns_domain (a FQDN, with room for a sub-domain), or None."""
    if not data:
        return None
    if not data.endswith("."):
        return "'%s' is not a FQDN" % data
    reason = format_problem(data, max_len)
    if reason:
        return reason
    if len(data) > max_len - 2:
        return ("'%s' contains %s characters. Adding a sub-domain will cause it to exceed the maximum "
                "length of a FQDN of '%s'" % (data, len(data), max_len))
    return None


def generated_hostname(ip_address):
    """The host name of an address without a dns_name: host-10-0-0-5, host-2001-db8--5."""
    return "host-" + ip_address.replace(".", "-").replace(":", "-")


def assignment(fixed_ips, dns_name, conf_domain):
    """A port's dns_assignment: [{hostname, ip_address, fqdn}], one per fixed IP.

    ``dns_name`` is the port's stored name ('' for none); it counts only when
    names_honoured(conf_domain). The FQDNs end with a dot, as Neutron's do.
    """
    domain = absolute(conf_domain)
    name = dns_name if names_honoured(conf_domain) else ""
    result = []
    for fixed in fixed_ips or ():
        address = fixed["ip_address"]
        if name:
            hostname = name
            fqdn = name if name.endswith(".") else "%s.%s" % (name, domain)
        else:
            hostname = generated_hostname(address)
            fqdn = "%s.%s" % (hostname, domain) if domain else hostname
        result.append({"hostname": hostname, "ip_address": address, "fqdn": fqdn})
    return result

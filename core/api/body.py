"""Checking request bodies against a resource's attribute map."""
from netweave.core.api import faults
from netweave.core.api import validators as v
from netweave.core.api.resource import MISSING


def members_of(resource, body, allow_bulk):
    """The list of member dicts in a POST body (one for a single create)."""
    if not isinstance(body, dict) or not body:
        raise faults.bad_request("Resource body required")
    if resource.collection in body and allow_bulk and resource.allow_bulk:
        items = body[resource.collection]
        if not isinstance(items, list) or not items:
            raise faults.bad_request("Resources required")
        # Neutron's bulk form: {"ports": [{...attributes...}, ...]}.
        for item in items:
            if not isinstance(item, dict):
                raise faults.bad_request("Invalid format: %s" % (item,))
        return list(items), True
    if resource.member not in body:
        raise faults.bad_request("Unable to find '%s' in request body" % resource.member)
    return [_member(resource, body)], False


def update_member(resource, body):
    if not isinstance(body, dict) or not body:
        raise faults.bad_request("Resource body required")
    if resource.member not in body:
        raise faults.bad_request("Unable to find '%s' in request body" % resource.member)
    return _member(resource, body)


def _member(resource, body):
    data = body[resource.member]
    if not isinstance(data, dict):
        raise faults.bad_request("Invalid format: %s" % (data,))
    return data


def _convert(name, attr, value):
    if attr.convert is None:
        return value
    try:
        return attr.convert(value)
    except v.AttributeInvalid as error:
        raise faults.bad_request("Invalid input for %s. Reason: %s." % (name, error))


def _check_known(resource, data):
    unknown = sorted(k for k in data if k not in resource.attributes)
    if unknown:
        raise faults.bad_request("Unrecognized attribute(s) '%s'" % ", ".join(unknown))


def prepare_create(resource, data, context):
    """Validate a create body; returns (full body with defaults, names the client sent)."""
    _check_known(resource, data)
    sent = set(data)
    result = {}
    for name, value in data.items():
        attr = resource.attributes[name]
        if not attr.allow_post:
            raise faults.bad_request("Attribute '%s' not allowed in POST" % name)
        result[name] = _convert(name, attr, value)
    _fill_project(resource, result, context)
    for name, attr in resource.attributes.items():
        if name in result or not attr.allow_post:
            continue
        if attr.required:
            raise faults.bad_request("Failed to parse request. Required attribute '%s' not specified" % name)
        if attr.default is not MISSING:
            default = attr.default
            result[name] = list(default) if isinstance(default, list) else (
                dict(default) if isinstance(default, dict) else default)
    return result, sent


def _fill_project(resource, result, context):
    if "tenant_id" not in resource.attributes and "project_id" not in resource.attributes:
        return
    tenant, project = result.get("tenant_id"), result.get("project_id")
    if tenant and project and tenant != project:
        raise faults.bad_request("'project_id' and 'tenant_id' do not match")
    owner = project or tenant or context.project_id
    if not owner:
        raise faults.bad_request("Failed to parse request. Required attribute 'project_id' not specified")
    if owner != context.project_id and not context.is_admin:
        raise faults.bad_request("Specifying 'project_id' or 'tenant_id' other than the authenticated "
                                 "project in request requires admin privileges")
    result["tenant_id"] = result["project_id"] = owner


def prepare_update(resource, data):
    _check_known(resource, data)
    result = {}
    for name, value in data.items():
        attr = resource.attributes[name]
        if not attr.allow_put:
            raise faults.bad_request("Cannot update read-only attribute %s" % name)
        result[name] = _convert(name, attr, value)
    return result

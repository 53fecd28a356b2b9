"""Parsing of list query strings: fields, filters, sorting and pagination."""
from netweave.core.api import faults
from netweave.core.api import validators as v

_RESERVED = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse",
             "tags", "tags-any", "not-tags", "not-tags-any", "verbose", "shared_only"}
TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")
MAX_LIMIT = 2 ** 31 - 1


class ListQuery:
    def __init__(self, fields, filters, sorts, limit, marker, page_reverse, tag_filters):
        self.fields = fields
        self.filters = filters
        self.sorts = sorts
        self.limit = limit
        self.marker = marker
        self.page_reverse = page_reverse
        self.tag_filters = tag_filters


def parse_fields(params):
    fields = [f for f in params.getall("fields") if f]
    return fields or None


def _checked(key, convert, value):
    try:
        return convert(value)
    except v.AttributeInvalid as error:
        raise faults.bad_request("Invalid input for %s. Reason: %s." % (key, error))


def _filter_values(key, attr, values):
    """The values of one filter as the attribute's type: its filter converter (an empty
    value there means "unset"), or at least a string the database can compare."""
    if attr.filter_convert is None:
        return [_checked(key, v.text, value) for value in values]
    return [None if value == "" else _checked(key, attr.filter_convert, value) for value in values]


def parse(params, resource, conf):
    """Build a ListQuery from a WebOb MultiDict, rejecting what the resource cannot filter on."""
    filters = {}
    # Like Neutron's filter-validation: only attributes marked as filters may be used.
    invalid = sorted(key for key in set(params.keys()) - _RESERVED
                     if key not in resource.attributes or not resource.attributes[key].is_filter)
    if invalid:
        raise faults.bad_request("%s is invalid attribute for filtering" % invalid)
    for key in set(params.keys()) - _RESERVED:
        filters[key] = _filter_values(key, resource.attributes[key], params.getall(key))

    tag_filters = {}
    for key in TAG_FILTERS:
        vals = []
        for raw in params.getall(key):
            vals.extend(t for t in raw.split(",") if t)
        if vals:
            tag_filters[key] = [_checked(key, v.text, tag) for tag in vals]

    sorts = []
    keys, dirs = params.getall("sort_key"), params.getall("sort_dir")
    if keys or dirs:
        if not conf.allow_sorting:
            raise faults.bad_request("Sorting is not enabled")
        if dirs and len(dirs) != len(keys):
            raise faults.bad_request("The number of sort_keys and sort_dirs must be same")
        seen = set()
        for i, key in enumerate(keys):
            attr = resource.attributes.get(key)
            if attr is None or not attr.is_sort_key:
                raise faults.bad_request("%s is invalid attribute for sort_keys" % key)
            direction = dirs[i] if dirs else "asc"
            if direction not in ("asc", "desc"):
                raise faults.bad_request("%s is invalid value for sort_dirs, valid value is 'asc' and 'desc'"
                                         % direction)
            if key in seen:
                # A key repeated orders nothing more: the first occurrence decides, and a
                # query string of thousands of them stays a query of a few terms.
                continue
            seen.add(key)
            sorts.append((key, direction == "asc"))

    limit = None
    raw_limit = params.get("limit")
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise faults.bad_request("Limit must be an integer 0 or greater and not '%s'" % raw_limit)
        if limit == 0:
            limit = None
        # A limit past what databases accept in LIMIT means "everything" anyway.
        limit = min(limit, MAX_LIMIT) if limit else limit
    if conf.pagination_max_limit and conf.pagination_max_limit > 0:
        limit = min(limit or conf.pagination_max_limit, conf.pagination_max_limit)
    marker = params.get("marker")
    if marker is not None:
        try:
            marker = v.uuid_value(marker)
        except v.AttributeInvalid as error:
            raise faults.bad_request("Invalid input for marker. Reason: %s." % error)
    page_reverse = params.get("page_reverse", "false").lower() == "true"
    return ListQuery(parse_fields(params), filters, sorts, limit, marker, page_reverse, tag_filters)

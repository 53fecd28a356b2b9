"""The query filters of the list calls, as Octavia reads them (pure functions).

An attribute of the shown entity compares as text (booleans whatever their case);
``loadbalancer_id``, ``listener_id`` and ``pool_id`` match the entities whose id
lists (a listener's ``loadbalancers``, a health monitor's ``pools`` ...) hold one
of the values; the tag filters take comma-separated tags: ``tags`` (has all of
them), ``tags-any`` (has one), ``not-tags`` (lacks one), ``not-tags-any`` (has
none). Names the entity does not show filter nothing.
"""
_RELATIONS = {"loadbalancer_id": "loadbalancers", "listener_id": "listeners", "pool_id": "pools"}
TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")


def _wanted_tags(values):
    return {tag for value in values for tag in value.split(",") if tag}


def _tags_match(name, have, wanted):
    if name == "tags":
        return wanted <= have
    if name == "tags-any":
        return bool(wanted & have)
    if name == "not-tags":
        return not wanted <= have
    return not wanted & have


def _value_matches(value, values):
    if isinstance(value, bool):
        return str(value).lower() in {v.lower() for v in values}
    return str(value) in values


def matches(item, filters):
    """Whether the shown entity ``item`` passes ``filters`` ({name: [value, ...]})."""
    for name, values in (filters or {}).items():
        if name in TAG_FILTERS:
            passed = _tags_match(name, set(item.get("tags") or []), _wanted_tags(values))
        elif name in item and not isinstance(item[name], (list, dict)):
            passed = _value_matches(item[name], values)
        elif name in _RELATIONS and isinstance(item.get(_RELATIONS[name]), list):
            passed = bool({entry["id"] for entry in item[_RELATIONS[name]]} & set(values))
        else:
            continue
        if not passed:
            return False
    return True

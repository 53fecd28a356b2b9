"""Reading the entry points of one group, the way every plugin seam of the core does.

A distribution found twice on sys.path (an editable install and its in-tree
metadata) repeats its entry points; each is returned once, sorted by name so
that loading order does not depend on the order of sys.path.
"""
import importlib.metadata


def installed(group):
    unique = {}
    for entry_point in importlib.metadata.entry_points(group=group):
        unique.setdefault((entry_point.name, entry_point.value), entry_point)
    return sorted(unique.values(), key=lambda ep: (ep.name, ep.value))


def describe(entry_point):
    """How an error names an entry point: ``'<name> = <value>' (entry point group <group>)``."""
    return "'%s = %s' (entry point group %s)" % (entry_point.name, entry_point.value, entry_point.group)

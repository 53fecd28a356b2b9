"""Loading named plug-ins with stevedore, failing clearly on unknown names."""
from stevedore import extension, named


class UnknownDriver(RuntimeError):
    pass


def installed_names(namespace):
    return sorted(ext.name for ext in extension.ExtensionManager(namespace=namespace, invoke_on_load=False))


def load_named(namespace, names, kind):
    """Instantiate the plug-ins ``names`` of ``namespace`` in that order: [(name, object)]."""
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        return []
    available = installed_names(namespace)
    missing = [n for n in names if n not in available]
    if missing:
        raise UnknownDriver("Unknown %s %s; installed: %s (entry point group %s)" % (
            kind, ", ".join(repr(m) for m in missing), ", ".join(available) or "none", namespace))
    manager = named.NamedExtensionManager(namespace=namespace, names=names, invoke_on_load=True,
                                          name_order=True, on_load_failure_callback=_reraise)
    return [(ext.name, ext.obj) for ext in manager]


def _reraise(_manager, entrypoint, error):
    if isinstance(error, UnknownDriver):
        # A nested plug-in (a driver of the core plugin) is the one to name.
        raise error
    raise UnknownDriver("Could not load %s: %s" % (entrypoint.name, error)) from error

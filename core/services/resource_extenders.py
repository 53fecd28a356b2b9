"""Attributes a plugin adds to resources another one owns, on every read.

Neutron's ``resource_extend``: the service building a resource's dicts (the
core's networks, the router plugin's routers) passes each page of them, with
its session, to the extenders registered for that resource; a plugin
registers one in its ``initialize`` (the ``az`` plugin adds
``availability_zones`` to networks and routers). An extender reads a page in
a fixed number of queries and sets its attributes on every dict.
"""
class ResourceExtenders:
    def __init__(self):
        self._by_resource = {}

    def register(self, resource, extender):
        """``extender(session, items)`` sets its attributes on each dict of ``items``;
        ``session`` is a Session, or the Core Connection of a read: run Core statements
        (``execute``) on it."""
        self._by_resource.setdefault(resource, []).append(extender)

    def extend(self, resource, session, items):
        """Run the extenders of ``resource`` over ``items`` (a list of dicts); returns them."""
        if items:
            for extender in self._by_resource.get(resource, ()):
                extender(session, items)
        return items

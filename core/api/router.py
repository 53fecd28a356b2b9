"""URL dispatch for /v2.0: collections, members, tags, member actions and custom routes.

A plugin may also own a URL prefix outside /v2.0 (``add_prefix``); paths under it
are matched against the custom routes only.

Whether a handler receives the parsed JSON request body (as its ``body`` keyword) is
part of what is registered: a collection's POST and a member's PUT do, a custom route
names its methods that do (``add_route(..., body_methods=...)``), a member action says
so when added.
"""
import re
from typing import Callable, NamedTuple

from netweave.core.api import faults
from netweave.core.api import validators as v

_SEGMENT = r"[^/]+"


class Route:
    def __init__(self, pattern, handlers, body_methods=()):
        self.regex = re.compile("^" + pattern + "$")
        self.handlers = handlers  # {"GET": callable(request, context, **match)}
        self.body_methods = frozenset(body_methods)  # the methods whose handler gets ``body``


class Dispatch(NamedTuple):
    """What serves a request: call ``handler(request, context, **kwargs)``, adding
    ``body=<the parsed JSON body>`` when ``takes_body``."""

    handler: Callable
    kwargs: dict
    takes_body: bool


class Router:
    """Matches a path to a handler; plain collections are resolved without regexes."""

    def __init__(self):
        self.collections = {}   # url name -> ResourceController
        self.custom = []        # Route, tried before the collection rules
        self.tags = None        # TagController
        self.member_actions = {}  # (collection url name, action) -> (method, handler, takes_body)
        self.prefixes = set()   # URL prefixes outside /v2.0 that plugins serve

    def add_prefix(self, prefix):
        """Serve paths under ``prefix`` (e.g. "/v2/lbaas") through the custom routes."""
        self.prefixes.add(prefix.rstrip("/"))

    def owns(self, path):
        """Whether ``path`` falls under a prefix a plugin registered."""
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)

    def add_collection(self, controller):
        self.collections[controller.resource.url_name] = controller

    def add_route(self, pattern, handlers, body_methods=()):
        """Serve ``pattern`` with ``handlers`` ({method: handler}); the handlers of
        ``body_methods`` (e.g. {"POST"}) receive the request body as ``body``."""
        self.custom.append(Route(pattern, handlers, body_methods))

    def add_member_action(self, url_name, action, verb, handler, takes_body):
        """Serve ``verb`` /v2.0/<url_name>/<id>/<action> with ``handler(request, context, item_id[, body])``."""
        self.member_actions[(url_name, action)] = (verb, handler, takes_body)

    def dispatch(self, method, path):
        """Return a Dispatch, or raise an HTTP 404/405."""
        if path.endswith(".json"):
            path = path[:-5]
        path = path.rstrip("/")
        for route in self.custom:
            match = route.regex.match(path)
            if match:
                return Dispatch(_pick(route.handlers, method), _segments(match.groupdict()),
                                method in route.body_methods)
        parts = path.split("/")
        if parts[1:2] != ["v2.0"]:
            raise _not_found()  # a plugin prefix: only its custom routes serve it
        # parts[0] == "" and parts[1] == "v2.0" here.
        rest = parts[2:]
        if not rest:
            raise _not_found()
        controller = self.collections.get(rest[0])
        if controller is None and len(rest) > 1 and rest[0] + "/" + rest[1] in self.collections:
            # A collection under a path prefix (/v2.0/metering/metering-labels).
            rest = [rest[0] + "/" + rest[1]] + rest[2:]
            controller = self.collections[rest[0]]
        if controller is None:
            raise _not_found()
        read_only = controller.resource.read_only
        if len(rest) == 1:
            handlers = {"GET": controller.index} if read_only else {"GET": controller.index, "POST": controller.create}
            return Dispatch(_pick(handlers, method), {}, method == "POST")
        item_id = controller.member_id(rest[1])
        if len(rest) == 2:
            handlers = {"GET": controller.show}
            if not read_only:
                handlers["DELETE"] = controller.delete
            if controller.resource.updatable:
                handlers["PUT"] = controller.update
            return Dispatch(_pick(handlers, method), {"item_id": item_id}, method == "PUT")
        if rest[2] == "tags" and controller.resource.taggable and self.tags is not None and len(rest) <= 4:
            handlers, body_methods = self.tags.handlers(controller.resource, tag=rest[3] if len(rest) == 4 else None)
            return Dispatch(_pick(handlers, method), {"item_id": item_id}, method in body_methods)
        if len(rest) == 3:
            action = self.member_actions.get((rest[0], rest[2]))
            if action is not None:
                verb, handler, takes_body = action
                return Dispatch(_pick({verb: handler}, method), {"item_id": item_id}, takes_body)
        raise _not_found()


def _segments(values):
    """The values a custom route captured, refused (404) when they cannot name anything."""
    try:
        return {name: value if value is None else v.path_segment(value)
                for name, value in values.items()}
    except v.AttributeInvalid:
        raise _not_found()


def _pick(handlers, method):
    handler = handlers.get(method)
    if handler is None:
        raise faults.HTTPError(405, "The method %s is not allowed for this resource." % method)
    return handler


def _not_found():
    return faults.HTTPError(404, "The resource could not be found.")

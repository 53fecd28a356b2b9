"""The metadata agent's answer to one proxied request (a WSGI application).

The namespace proxy has set X-Forwarded-For (the client's address) and
X-Neutron-Network-ID or X-Neutron-Router-ID. The port holding that address on
that network (or on one of the router's networks) names the instance
(device_id) and project; the request goes to the backend signed for that
instance. Statuses, as Neutron answers them:

* no such port, or several: 404;
* backend 200: its body and content type; 400, 403, 404, 409, 502, 503, 504:
  the same status; 500: 500;
* backend unreachable: 503; too slow: 504; any other backend status: 502;
* the server cannot be asked (RPC timeout or error): 503.
"""
import ipaddress
import logging

import webob
import webob.exc

from netweave.core.agent.metadata import backend as backend_mod

LOG = logging.getLogger(__name__)

PASSED_THROUGH = (400, 403, 404, 409, 502, 503, 504)


def client_address(value):
    """The address the proxy saw: the last X-Forwarded-For entry (the one it added); None if invalid."""
    if not value:
        return None
    candidate = value.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class MetadataProxyHandler:
    def __init__(self, lookup, backend):
        self.lookup = lookup
        self.backend = backend

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        try:
            response = self.handle(request)
        except Exception:  # noqa: BLE001 - a request must get an answer, whatever broke
            LOG.exception("Unexpected error answering %s %s", request.method, request.path)
            response = webob.exc.HTTPServiceUnavailable(
                explanation="An unknown error has occurred. Please try your request again.")
        return response(environ, start_response)

    def handle(self, request):
        address = client_address(request.headers.get("X-Forwarded-For"))
        network_id = request.headers.get("X-Neutron-Network-ID")
        router_id = request.headers.get("X-Neutron-Router-ID")
        if address is None or not (network_id or router_id):
            return webob.exc.HTTPBadRequest(
                explanation="X-Forwarded-For and X-Neutron-Network-ID or X-Neutron-Router-ID are needed.")
        try:
            owner = self.lookup.instance_of(address, network_id=network_id, router_id=router_id)
        except Exception as error:  # noqa: BLE001 - RPC timeouts and remote errors alike
            LOG.warning("Cannot look up the port of %s: %s", address, error)
            return webob.exc.HTTPServiceUnavailable(explanation="The network service cannot be reached.")
        if owner is None:
            return webob.exc.HTTPNotFound()
        response = self._forward(request, address, owner)
        if response.status_code == 404:
            # The cached port may be gone and the address reused: ask again.
            fresh = self.lookup.instance_of(address, network_id=network_id, router_id=router_id,
                                            skip_cache=True)
            if fresh is not None and fresh != owner:
                LOG.info("Instance %s is gone; %s now belongs to %s", owner[0], address, fresh[0])
                response = self._forward(request, address, fresh)
        return response

    def _forward(self, request, address, owner):
        instance_id, project_id = owner
        try:
            answer = self.backend.forward(request.method, request.path_info, request.query_string, request.body,
                                          address, instance_id, project_id,
                                          content_type=request.headers.get("Content-Type"))
        except backend_mod.BackendTimeout as error:
            LOG.warning("The metadata backend did not answer in time: %s", error)
            return webob.exc.HTTPGatewayTimeout()
        except backend_mod.BackendUnavailable as error:
            LOG.warning("The metadata backend cannot be reached: %s", error)
            return webob.exc.HTTPServiceUnavailable(explanation="The metadata service cannot be reached.")
        if answer.status == 200:
            return webob.Response(body=answer.body, content_type=None,
                                  headerlist=[("Content-Type", answer.content_type)])
        if answer.status == 403:
            LOG.warning("The metadata backend answered Forbidden: the shared secrets probably differ")
            return webob.exc.HTTPForbidden()
        if answer.status == 500:
            return webob.exc.HTTPInternalServerError(
                explanation="Remote metadata server experienced an internal server error.")
        if answer.status in PASSED_THROUGH:
            return webob.exc.status_map[answer.status]()
        LOG.warning("Unexpected status %d from the metadata backend", answer.status)
        return webob.exc.HTTPBadGateway()

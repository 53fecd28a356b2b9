"""Turning exceptions into Neutron's JSON error responses."""
import json
import logging

import webob
import webob.exc

from netweave.core import exceptions as exc
from netweave.core.db import errors as db_errors

LOG = logging.getLogger(__name__)

_HTTP_TYPES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden", 404: "HTTPNotFound",
               405: "HTTPMethodNotAllowed", 406: "HTTPNotAcceptable", 409: "HTTPConflict",
               412: "HTTPPreconditionFailed", 413: "HTTPRequestEntityTooLarge",
               415: "HTTPUnsupportedMediaType", 500: "HTTPInternalServerError",
               501: "HTTPNotImplemented", 503: "HTTPServiceUnavailable"}


class HTTPError(Exception):
    """An error that is not a domain exception: a bare HTTP status with a message."""

    def __init__(self, status, message, type_name=None):
        super().__init__(message)
        self.status = status
        self.msg = message
        self.type = type_name or _HTTP_TYPES.get(status, "HTTPError")


def bad_request(message):
    return HTTPError(400, message)


def error_body(type_name, message, detail=""):
    return {"NeutronError": {"type": type_name, "message": message, "detail": detail}}


def to_response(error):
    # What the database refuses because of the input (or a concurrent request) is a 4xx too.
    client_error = db_errors.as_client_error(error)
    if client_error is not None:
        LOG.info("The database refused a request: %s", error)
        error = client_error
    if isinstance(error, (exc.NeutronException, HTTPError)):
        status, type_name, message = error.status, error.type, error.msg
    else:
        LOG.exception("Unexpected error while serving a request")
        status, type_name = 500, "HTTPInternalServerError"
        message = "Request Failed: internal server error while processing your request."
    response = webob.Response(status=status, content_type="application/json", charset="utf-8")
    response.text = json.dumps(error_body(type_name, message))
    return response

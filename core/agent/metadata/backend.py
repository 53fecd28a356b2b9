"""Forwarding a request to the metadata backend (Nova's metadata API), signed for one instance.

The backend trusts X-Instance-ID only with X-Instance-ID-Signature =
hex(HMAC-SHA256(metadata_proxy_shared_secret, instance id)), so only a holder
of the shared secret can speak for an instance.
"""
import dataclasses
import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import ssl

LOG = logging.getLogger(__name__)


def sign_instance_id(shared_secret, instance_id):
    return hmac.new((shared_secret or "").encode("utf-8"), instance_id.encode("utf-8"),
                    hashlib.sha256).hexdigest()


@dataclasses.dataclass(frozen=True)
class BackendSettings:
    host: str = "127.0.0.1"
    port: int = 8775
    protocol: str = "http"
    insecure: bool = False
    ca_cert: str = None
    client_cert: str = ""
    client_key: str = ""
    shared_secret: str = ""
    timeout: float = 30.0

    @classmethod
    def from_conf(cls, conf):
        return cls(host=conf.nova_metadata_host, port=conf.nova_metadata_port,
                   protocol=conf.nova_metadata_protocol, insecure=conf.nova_metadata_insecure,
                   ca_cert=conf.auth_ca_cert, client_cert=conf.nova_client_cert,
                   client_key=conf.nova_client_priv_key, shared_secret=conf.metadata_proxy_shared_secret,
                   timeout=conf.nova_metadata_timeout)


@dataclasses.dataclass(frozen=True)
class BackendResponse:
    status: int
    content_type: str
    body: bytes


class BackendUnavailable(Exception):
    """No answer from the backend: refused, unreachable, or it hung up."""


class BackendTimeout(BackendUnavailable):
    """The backend took longer than the timeout."""


def signed_headers(settings, client_address, instance_id, project_id):
    return {
        "X-Forwarded-For": client_address,
        "X-Instance-ID": instance_id,
        "X-Tenant-ID": project_id,
        "X-Instance-ID-Signature": sign_instance_id(settings.shared_secret, instance_id),
    }


def _ssl_context(settings):
    if settings.insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=settings.ca_cert or None)
    if settings.client_cert and settings.client_key:
        context.load_cert_chain(settings.client_cert, settings.client_key)
    return context


def _host(host):
    # http.client wants a bare IPv6 address, without brackets.
    text = host.strip("[]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return host


class MetadataBackend:
    def __init__(self, settings):
        self.settings = settings
        self._ssl = _ssl_context(settings) if settings.protocol == "https" else None

    def _connection(self):
        if self._ssl is not None:
            return http.client.HTTPSConnection(_host(self.settings.host), self.settings.port,
                                               timeout=self.settings.timeout, context=self._ssl)
        return http.client.HTTPConnection(_host(self.settings.host), self.settings.port,
                                          timeout=self.settings.timeout)

    def forward(self, method, path, query, body, client_address, instance_id, project_id, content_type=None):
        """Send the request on the instance's behalf; returns a BackendResponse."""
        headers = signed_headers(self.settings, client_address, instance_id, project_id)
        if content_type:
            headers["Content-Type"] = content_type
        target = path + ("?" + query if query else "")
        connection = self._connection()
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return BackendResponse(response.status, response.getheader("Content-Type") or "text/plain",
                                   payload)
        except socket.timeout as error:
            raise BackendTimeout(str(error)) from error
        except (OSError, http.client.HTTPException) as error:
            raise BackendUnavailable(str(error)) from error
        finally:
            connection.close()

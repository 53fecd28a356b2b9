"""The pure parts of core/api/http_server.py: the WSGI environ and the error bytes."""
import json

import h11

from netweave.core.api import http_server


def _request(target, headers, method=b"GET"):
    return h11.Request(method=method, target=target, headers=[(b"Host", b"api")] + headers)


def test_environ_splits_path_and_query_and_unquotes_the_path():
    environ = http_server.build_environ(_request(b"/v2.0/net%20works?id=a&id=b", []), b"",
                                        ("127.0.0.1", 9696), ("127.0.0.2", 40000))
    assert environ["PATH_INFO"] == "/v2.0/net works"
    assert environ["QUERY_STRING"] == "id=a&id=b"
    assert environ["SERVER_PORT"] == "9696" and environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["HTTP_HOST"] == "api"


def test_environ_takes_the_path_of_an_absolute_target():
    environ = http_server.build_environ(_request(b"http://api:9696/v2.0/ports?x=1", []), b"",
                                        ("127.0.0.1", 9696), None)
    assert environ["PATH_INFO"] == "/v2.0/ports" and environ["QUERY_STRING"] == "x=1"


def test_environ_joins_repeated_headers_and_drops_underscored_names():
    headers = [(b"X-Roles", b"admin"), (b"X-Roles", b"member"), (b"X_Project_Id", b"spoofed"),
               (b"X-Project-Id", b"p1"), (b"Content-Type", b"application/json"), (b"Content-Length", b"2")]
    environ = http_server.build_environ(_request(b"/", headers, b"POST"), b"{}", ("127.0.0.1", 1), None)
    assert environ["HTTP_X_ROLES"] == "admin,member"
    assert environ["HTTP_X_PROJECT_ID"] == "p1"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2" and environ["wsgi.input"].read() == b"{}"


def test_error_response_is_a_neutron_error_that_closes():
    data = http_server.error_response(414, "Request line is longer than 16384 bytes.", "req-1")
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 414 Request-URI Too Long"
    assert "Connection: close" in lines and "X-Openstack-Request-Id: req-1" in lines
    assert "Content-Length: %d" % len(body) in lines
    assert json.loads(body) == {"NeutronError": {"type": "HTTPRequestURITooLong", "detail": "",
                                                 "message": "Request line is longer than 16384 bytes."}}


def test_an_application_that_raises_answers_500_in_neutron_shape():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    status, _reason, headers, body = http_server.call_app(broken, {"REQUEST_METHOD": "GET", "PATH_INFO": "/"})
    assert status == 500 and dict(headers)["Content-Type"] == "application/json"
    assert json.loads(body)["NeutronError"]["type"] == "HTTPInternalServerError"

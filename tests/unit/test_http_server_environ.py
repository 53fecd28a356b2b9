"""The pure parts of core/api/http_server.py: the WSGI environ, response framing and the error bytes."""
import json

from netweave.core.api import http_server


def _request(target, headers, method=b"GET", body=b""):
    return http_server.Request(method=method, target=target, http_version="1.1",
                               headers=[(b"host", b"api")] + headers, body=body)


def test_environ_splits_path_and_query_and_unquotes_the_path():
    environ = http_server.build_environ(_request(b"/v2.0/net%20works?id=a&id=b", []),
                                        ("127.0.0.1", 9696), ("127.0.0.2", 40000))
    assert environ["PATH_INFO"] == "/v2.0/net works"
    assert environ["QUERY_STRING"] == "id=a&id=b"
    assert environ["SERVER_PORT"] == "9696" and environ["REMOTE_ADDR"] == "127.0.0.2"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["HTTP_HOST"] == "api"


def test_environ_takes_the_path_of_an_absolute_target():
    environ = http_server.build_environ(_request(b"http://api:9696/v2.0/ports?x=1", []),
                                        ("127.0.0.1", 9696), None)
    assert environ["PATH_INFO"] == "/v2.0/ports" and environ["QUERY_STRING"] == "x=1"


def test_environ_joins_repeated_headers_and_drops_underscored_names():
    headers = [(b"x-roles", b"admin"), (b"x-roles", b"member"), (b"x_project_id", b"spoofed"),
               (b"x-project-id", b"p1"), (b"content-type", b"application/json"), (b"content-length", b"2")]
    environ = http_server.build_environ(_request(b"/", headers, b"POST", b"{}"), ("127.0.0.1", 1), None)
    assert environ["HTTP_X_ROLES"] == "admin,member"
    assert environ["HTTP_X_PROJECT_ID"] == "p1"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2" and environ["wsgi.input"].read() == b"{}"


def _split(data):
    head, _sep, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n"), body


def test_a_response_drops_hop_by_hop_headers_and_frames_its_body():
    app_headers = [("Content-Type", "application/json"), ("Connection", "keep-alive"),
                   ("Content-Length", "999"), ("X-Openstack-Request-Id", "req-1")]
    lines, body = _split(http_server.response_bytes(b"GET", 200, "OK", app_headers, b"{}", False,
                                                    "Sat, 05 Dec 2026 18:00:00 GMT"))
    assert lines[0] == "HTTP/1.1 200 OK"
    assert lines[1:] == ["Content-Type: application/json", "X-Openstack-Request-Id: req-1",
                         "Content-Length: 2", "Date: Sat, 05 Dec 2026 18:00:00 GMT"]
    assert body == b"{}"


def test_head_and_204_answers_carry_no_body_and_closing_says_so():
    lines, body = _split(http_server.response_bytes(b"HEAD", 200, "OK", [("Content-Length", "7")], b"",
                                                    True, "d"))
    assert lines[1:] == ["Content-Length: 7", "Date: d", "Connection: close"] and body == b""
    lines, body = _split(http_server.response_bytes(b"DELETE", 204, "No Content", [], b"", False, "d"))
    assert lines == ["HTTP/1.1 204 No Content", "Date: d"] and body == b""


def test_the_date_is_formatted_once_per_second():
    now = [1796493600.2]
    date = http_server.HttpDate(clock=lambda: now[0])
    first = date()
    now[0] += 0.5
    assert date() is first
    now[0] += 1.0
    assert date() != first and date().endswith(" GMT")


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

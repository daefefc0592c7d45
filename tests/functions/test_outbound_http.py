"""The durable HTTP call's guard: only http(s), only public addresses unless allowed, bounded
answers, a deadline on the whole request. Servers here are real sockets on loopback."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from functions.activities import run_activity
from functions.outbound_http import AllowList, OutboundHttpError, RefusedRequestError, refusal_of, request
from orchestrations.engine.http import HTTP_ACTIVITY_NAME


class Server:
    """An HTTP server on 127.0.0.1 answering every request with ``respond``; it records the
    paths it was asked for, so a test can show a refused request never reached it."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                respond(self)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def allowed(self) -> AllowList:
        return AllowList.parse([f"127.0.0.1:{self.port}"])

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None):
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@pytest.fixture
def servers() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(respond=None) -> Server:
        server = Server(respond or answer(200, b"secret"))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


NOTHING_ALLOWED = AllowList()


def get(url: str, allowed: AllowList = NOTHING_ALLOWED, **options):
    return request(
        "GET",
        url,
        body=None,
        headers={},
        allowed=allowed,
        timeout=options.get("timeout", 5.0),
        max_bytes=options.get("max_bytes", 1024 * 1024),
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "file:///proc/self/cwd/var/secret_key", "ftp://example.com/x", "gopher://x/"]
)
def test_only_http_and_https_urls_may_be_called(url):
    with pytest.raises(RefusedRequestError, match="only http and https"):
        get(url)


def test_a_loopback_server_is_refused_and_never_reached(servers):
    server = servers()

    with pytest.raises(RefusedRequestError, match="loopback") as refused:
        get(f"{server.url}/internal")

    assert server.url in str(refused.value)
    assert "PERDURA_HTTP_ALLOWED_HOSTS" in str(refused.value)
    assert server.hits == []


def test_a_host_listed_with_its_port_may_be_called(servers):
    server = servers()

    answered = get(f"{server.url}/report", server.allowed)

    assert (answered.status, answered.body) == (200, b"secret")
    assert server.hits == ["/report"]


def test_listing_a_host_with_one_port_does_not_open_its_other_ports(servers):
    allowed, other = servers(), servers()

    with pytest.raises(RefusedRequestError):
        get(other.url, allowed.allowed)

    assert other.hits == []


def test_a_network_in_the_allow_list_lets_its_addresses_through(servers):
    server = servers()

    assert get(server.url, AllowList.parse(["127.0.0.0/8"])).status == 200


def test_the_address_is_checked_after_dns_resolution(servers, monkeypatch):
    """A public-looking name that resolves to loopback is refused: the check is on the address."""
    server = servers()
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real("127.0.0.1" if host == "reports.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    with pytest.raises(RefusedRequestError, match=r"reports\.example is a loopback address \(127\.0\.0\.1\)"):
        get(f"http://reports.example:{server.port}/")
    assert server.hits == []


def test_a_redirect_to_a_refused_address_is_refused_on_the_way(servers):
    inside = servers()
    outside = servers(answer(302, headers={"Location": f"{inside.url}/admin"}))

    with pytest.raises(RefusedRequestError, match="loopback"):
        get(f"{outside.url}/go", outside.allowed)

    assert outside.hits == ["/go"]
    assert inside.hits == []


def test_a_redirect_to_a_file_url_is_refused(servers):
    server = servers(answer(301, headers={"Location": "file:///etc/passwd"}))

    with pytest.raises(RefusedRequestError, match="only http and https"):
        get(server.url, server.allowed)


def test_redirects_within_allowed_hosts_are_followed(servers):
    target = servers(answer(200, b"moved here"))
    start = servers(answer(307, headers={"Location": f"{target.url}/new"}))
    both = AllowList.parse([f"127.0.0.1:{start.port}", f"127.0.0.1:{target.port}"])

    answered = get(start.url, both)

    assert (answered.status, answered.body) == (200, b"moved here")


def test_a_redirect_loop_stops(servers):
    def loop(handler: BaseHTTPRequestHandler) -> None:
        answer(302, headers={"Location": handler.path + "x"})(handler)

    server = servers(loop)

    with pytest.raises(RefusedRequestError, match="more than 5 redirects"):
        get(f"{server.url}/", server.allowed)
    assert len(server.hits) == 6


def test_a_body_over_the_limit_fails_the_call_without_keeping_it(servers):
    server = servers(answer(200, b"x" * 5000))

    with pytest.raises(RefusedRequestError, match="larger than 4,096 bytes"):
        get(server.url, server.allowed, max_bytes=4096)


def test_a_body_at_the_limit_is_read_whole(servers):
    server = servers(answer(200, b"x" * 4096))

    assert len(get(server.url, server.allowed, max_bytes=4096).body) == 4096


def test_a_server_that_drips_its_answer_is_cut_off_at_the_deadline(servers):
    """Each byte comes within any per-read timeout; the whole answer never comes in time."""

    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # The client gave up, as it should.

    server = servers(drip)

    with pytest.raises(OutboundHttpError, match="time"):
        get(server.url, server.allowed, timeout=0.5)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "private"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_addresses_that_are_not_public_are_refused_by_default(address, why):
    assert why in refusal_of(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert refusal_of(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "host:notaport", "host:70000", "[::1]:0"])
def test_a_malformed_allow_list_entry_is_an_error(entry):
    with pytest.raises(ValueError):
        AllowList.parse([entry])


def test_the_http_activity_fails_naming_the_refused_url_and_reads_nothing(settings):
    settings.PERDURA_HTTP_ALLOWED_HOSTS = []
    request_json = json.dumps({"method": "GET", "uri": "file:///proc/self/cwd/var/secret_key", "headers": {}})

    outcome = run_activity(HTTP_ACTIVITY_NAME, request_json)

    assert outcome.result is None
    assert outcome.failure.error_type == "functions.outbound_http.RefusedRequestError"
    assert "file:///proc/self/cwd/var/secret_key" in outcome.failure.message


def test_the_http_activity_follows_the_allowed_hosts_setting(settings, servers):
    server = servers(answer(200, b'{"ok": true}', {"Content-Type": "application/json"}))
    request_json = json.dumps({"method": "GET", "uri": f"{server.url}/status", "headers": {}})

    settings.PERDURA_HTTP_ALLOWED_HOSTS = []
    refused = run_activity(HTTP_ACTIVITY_NAME, request_json)
    settings.PERDURA_HTTP_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    allowed = run_activity(HTTP_ACTIVITY_NAME, request_json)

    assert "loopback" in refused.failure.message
    assert json.loads(allowed.result)["content"] == '{"ok": true}'
    assert server.hits == ["/status"]

"""Outbound HTTP made on a user's behalf (the durable ``call_http``), limited to what it may reach.

An orchestrator chooses the URL, and its result is shown to everyone who may read the
instance, so a request must not become a way to read the worker's files or the services of
its private network. Every request here:

- goes over ``http`` or ``https`` only, redirects included;
- connects to an address checked after DNS resolution: loopback, private, link-local (cloud
  metadata services live there), shared, reserved, multicast and unspecified addresses are
  refused unless ``PERDURA_HTTP_ALLOWED_HOSTS`` lists the host or the address. The socket is
  opened to the very address that was checked, so a second DNS answer cannot swap it;
- reads at most ``max_bytes`` of a response body and fails past it;
- ends within ``timeout`` seconds in all, however slowly the server drips its answer.

Proxies named in the environment are not used: they would be the only address checked.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

#: The most redirects followed for one request (urllib's own default is 10).
MAX_REDIRECTS = 5
#: How much of a body is read at a time, between deadline checks.
READ_CHUNK = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundHttpError(Exception):
    """The request failed or its answer could not be taken; the message names the URL and why."""


class RefusedRequestError(OutboundHttpError):
    """The request may not be made, or its answer may not be taken."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class AllowList:
    """Hosts and addresses a request may reach although they are not public: from
    ``PERDURA_HTTP_ALLOWED_HOSTS``, whose entries are a host name or address (any port),
    ``host:port``, ``[v6 address]:port``, or a network in CIDR notation."""

    hosts: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[tuple[str, int | None]] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(f"{raw!r} is not a network in CIDR notation (such as 10.0.0.0/8)") from None
                continue
            hosts.add(_split_host_port(raw, entry))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str, port: int) -> bool:
        host = host.lower()
        return (host, None) in self.hosts or (host, port) in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks) or (str(address), None) in self.hosts


def _split_host_port(raw: str, entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
    else:
        host, port_text = entry, None  # A host name, or a bare IPv6 address.
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{raw!r} has no valid port after the colon")
    return host, int(port_text)


def refusal_of(address: IPAddress) -> str | None:
    """Why a request may not go to ``address`` by default, or None for a public address."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or not address.is_global:
        return "a private or reserved address"
    return None


def request(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: Mapping[str, str],
    allowed: AllowList,
    timeout: float,
    max_bytes: int,
) -> HttpAnswer:
    """Make one request, following redirects as browsers do (301-303 turn a POST into a GET;
    a GET or HEAD follows them all), and return the final answer whatever its status."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        answer = _request_once(method, url, body, headers, allowed, deadline, max_bytes)
        location = next((value for key, value in answer.headers.items() if key.lower() == "location"), None)
        if location is None or not _follows(method, answer.status):
            return answer
        if method not in ("GET", "HEAD"):
            method, body = "GET", None
            headers = {key: value for key, value in headers.items() if key.lower() != "content-type"}
        url = urljoin(url, location)
    raise RefusedRequestError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _follows(method: str, status: int) -> bool:
    if method in ("GET", "HEAD"):
        return status in (301, 302, 303, 307, 308)
    return status in (301, 302, 303)


def _request_once(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    allowed: AllowList,
    deadline: float,
    max_bytes: int,
) -> HttpAnswer:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedRequestError(f"{url}: only http and https URLs may be called, not {scheme or 'a relative URL'}")
    if parts.username is not None or parts.password is not None:
        raise RefusedRequestError(f"{_without_credentials(url)}: credentials in the URL are not sent; use a header")
    host = parts.hostname
    if not host:
        raise RefusedRequestError(f"{url}: the URL names no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise RefusedRequestError(f"{url}: the URL's port is not a number from 1 to 65535") from None
    connection_class = _GuardedHTTPSConnection if scheme == "https" else _GuardedHTTPConnection
    connection = connection_class(host, port, timeout=_remaining(deadline, url))
    connection.guard = _Guard(url, host, port, allowed)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    try:
        connection.request(method, path, body=body, headers=dict(headers))
        response = connection.getresponse()
        content = _read(response, connection.guard, deadline, max_bytes)
        return HttpAnswer(response.status, dict(response.headers.items()), content)
    except (OSError, http.client.HTTPException) as error:
        raise OutboundHttpError(f"{url}: {error or type(error).__name__}") from error
    finally:
        connection.close()


def _read(response: http.client.HTTPResponse, guard: _Guard, deadline: float, max_bytes: int) -> bytes:
    """The body, read a chunk at a time, each read given only the time left of the whole."""
    url = guard.url
    chunks: list[bytes] = []
    size = 0
    while not response.isclosed():  # It closes itself once the whole body is read.
        if guard.sock is not None:
            guard.sock.settimeout(_remaining(deadline, url))
        chunk = response.read1(min(READ_CHUNK, max_bytes + 1 - size))  # What has come, not a full chunk.
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise RefusedRequestError(
                f"{url}: the response body is larger than {max_bytes:,} bytes (PERDURA_MAX_PAYLOAD_BYTES); "
                "nothing of it was kept"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _remaining(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise OutboundHttpError(f"{url}: no complete answer within the time allowed (PERDURA_HTTP_TIMEOUT_SECONDS)")
    return left


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.hostname or "").geturl()


@dataclass
class _Guard:
    url: str
    host: str
    port: int
    allowed: AllowList
    #: The connected socket (wrapped in TLS for https), whose timeout each read sets.
    sock: socket.socket | None = None

    def connect(self, timeout: float | None) -> socket.socket:
        """A socket to an address of the host that the request may reach, checked after
        resolving it; every address the name resolves to must be allowed."""
        try:
            found = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise OutboundHttpError(f"{self.url}: cannot resolve {self.host!r}: {error.strerror}") from error
        addresses = [(family, sockaddr) for family, _, _, _, sockaddr in found]
        if not self.allowed.allows_host(self.host, self.port):
            for _, sockaddr in addresses:
                address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
                why = refusal_of(address)
                if why is not None and not self.allowed.allows_address(address):
                    raise RefusedRequestError(
                        f"{self.url}: refused, {self.host} is {why} ({address}); "
                        "list it in PERDURA_HTTP_ALLOWED_HOSTS to allow it"
                    )
        last_error: OSError | None = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as error:
                sock.close()
                last_error = error
        raise OutboundHttpError(f"{self.url}: cannot connect to {self.host}: {last_error}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    guard: _Guard

    def connect(self) -> None:
        self.sock = self.guard.sock = self.guard.connect(self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    guard: _Guard

    def connect(self) -> None:
        # The TLS handshake still names and verifies the host (SNI and the certificate).
        sock = self.guard.connect(self.timeout)
        self.sock = self.guard.sock = self._context.wrap_socket(sock, server_hostname=self.host)

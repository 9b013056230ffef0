"""Safe HTTP fetching: every request of every connector goes through :class:`SafeFetcher`.

Rules (docs/fetching.md has the reasoning):

* honest ``User-Agent`` (``settings.http.user_agent``); no proxies from the environment;
* the body is streamed and the fetch aborts once it exceeds ``max_bytes`` (``too_large``), after
  content decoding, so a gzip bomb is caught too; a declared ``Content-Length`` above the limit is
  refused before reading;
* redirects are followed here, one hop at a time, at most ``max_redirects`` (``too_many_redirects``;
  a URL seen twice is a ``redirect_loop``); only ``http`` and ``https`` are fetched;
* **address policy, pinned**: the connection is opened by :class:`GuardedBackend`, a network backend
  under httpx/httpcore. For every new connection (so for every redirect hop too) it resolves the
  host once, refuses the whole answer if *any* address is private, loopback, link-local, multicast,
  reserved, unspecified, shared (CGNAT), documentation, or an IPv4-mapped / 6to4 / Teredo / NAT64
  IPv6 wrapper of one (:class:`~yuqing.errors.BlockedAddress`), and then connects to exactly the
  address it checked — there is no second DNS lookup, so DNS rebinding between check and connect
  is impossible. After connecting it verifies the peer address of the real socket. TLS still uses
  the host name for SNI and certificate checks, since httpcore takes those from the URL;
* a request must finish (headers and body) within ``max_duration`` seconds; each socket operation
  within ``timeout`` (``timeout``);
* conditional GET: ``If-None-Match`` / ``If-Modified-Since``; a 304 gives ``not_modified``;
* robots.txt (:mod:`yuqing.sources.robots`) is consulted before every hop when
  ``settings.http.respect_robots`` is on.

Errors are :class:`~yuqing.errors.FetchError` with a stable ``code``; when a body was received its
bytes travel in ``error.detail["payload"]`` (a :class:`RawPayload`) so the caller can keep them.
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from yuqing.errors import BlockedAddress, FetchError
from yuqing.sources.base import RawPayload
from yuqing.sources.settings import HttpSettings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
AddressPolicy = Callable[[IPAddress], bool]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


_USERINFO = re.compile(r"(?<=://)[^/?#]*@")


def redact_url(url: str) -> str:
    """``url`` without credentials (``https://user:secret@host/`` -> ``https://***@host/``), for messages."""
    return _USERINFO.sub("***@", url)


def is_blocked_ip(ip: IPAddress) -> bool:
    """True for every address a source may not reach unless it is explicitly allowed to."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(is_blocked_ip(v4) for v4 in embedded):
            return True
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to (IP literals resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"域名解析失败 / cannot resolve host {host}: {exc}", code="dns_error") from exc
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        if addr not in seen:
            seen.append(addr)
    return seen


class GuardedBackend(httpcore.SyncBackend):
    """Resolve once, check every address, connect to the checked one, verify the socket's peer."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        blocked: AddressPolicy = is_blocked_ip,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.blocked = blocked
        # (host, ip) of the latest new connections, for audits and tests (bounded)
        self.connected: collections.deque[tuple[str, str]] = collections.deque(maxlen=200)

    def check(self, host: str, port: int) -> list[str]:
        host = host.strip("[]")
        addresses = self.resolver(host, port)
        if not addresses:
            raise FetchError(f"域名无地址 / host {host} has no address", code="dns_error")
        parsed: list[IPAddress] = []
        for addr in addresses:
            try:
                parsed.append(ipaddress.ip_address(addr))
            except ValueError as exc:
                raise FetchError(f"解析结果无效 / bad address {addr!r} for {host}", code="dns_error") from exc
        if not self.allow_private:
            bad = [str(ip) for ip in parsed if self.blocked(ip)]
            if bad:
                raise BlockedAddress(
                    f"拒绝访问内网或保留地址 / refused: {host} resolves to non-public "
                    f"address {', '.join(bad)}",
                    host=host,
                    addresses=bad,
                )
        return [str(ip) for ip in parsed]

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.check(host, port)
        last_exc: Exception | None = None
        for ip in addresses:
            try:
                stream = super().connect_tcp(ip, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_exc = exc
                continue
            sock = stream.get_extra_info("socket")
            peer = sock.getpeername()[0] if sock is not None else ip
            if ipaddress.ip_address(str(peer).split("%", 1)[0]) != ipaddress.ip_address(ip):
                stream.close()
                raise BlockedAddress(f"连接地址不符 / connected to {peer}, expected {ip}", host=host)
            self.connected.append((host, ip))
            return stream
        assert last_exc is not None
        raise last_exc


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool opened through a :class:`GuardedBackend`."""

    def __init__(
        self, backend: GuardedBackend, *, max_connections: int = 10, verify: ssl.SSLContext | bool = True
    ) -> None:
        super().__init__(trust_env=False, retries=0)
        context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify, trust_env=False)
        )
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=backend,
        )


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    redirects: list[str] = field(default_factory=list)
    not_modified: bool = False

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def to_payload(self, encoding: str | None = None) -> RawPayload:
        return RawPayload(
            body=self.body,
            url=self.url,
            content_type=self.content_type,
            encoding=encoding,
            http_status=self.status,
            headers=dict(self.headers),
            not_modified=self.not_modified,
        )


def _error(
    message: str,
    code: str,
    *,
    url: str,
    status: int | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    **detail: Any,
) -> FetchError:
    payload = None
    if body:
        payload = RawPayload(
            body=body,
            url=url,
            content_type=(headers or {}).get("content-type"),
            http_status=status,
            headers=dict(headers or {}),
        )
    return FetchError(message, code=code, url=url, status=status, payload=payload, **detail)


class SafeFetcher:
    """One per process (see :func:`get_fetcher`); thread-safe like the httpx clients it holds."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        resolver: Resolver = system_resolver,
        blocked: AddressPolicy = is_blocked_ip,
        robots: Any = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.settings = settings
        self.verify = verify  # certificate checks (an SSLContext for a private CA); keep True
        self.resolver = resolver
        self.blocked = blocked
        self.robots = robots  # a RobotsCache, or None for no robots checks
        self._clients: dict[bool, httpx.Client] = {}
        self.backends: dict[bool, GuardedBackend] = {}

    def client(self, allow_private: bool) -> httpx.Client:
        if allow_private not in self._clients:
            backend = GuardedBackend(
                allow_private=allow_private, resolver=self.resolver, blocked=self.blocked
            )
            self.backends[allow_private] = backend
            self._clients[allow_private] = httpx.Client(
                transport=_GuardedTransport(backend, verify=self.verify),
                timeout=httpx.Timeout(self.settings.timeout),
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            )
        return self._clients[allow_private]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def fetch(
        self,
        url: str,
        *,
        allow_private: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        check_robots: bool = True,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET ``url`` under every rule above; raises :class:`FetchError` with a code."""
        limit = max_bytes or self.settings.max_bytes
        deadline = time.monotonic() + self.settings.max_duration
        seen: list[str] = []
        current = url
        conditional = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        while True:
            try:
                parts = urlsplit(current)
                _ = parts.port  # raises ValueError for a port that is not a number
                valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            except ValueError:  # e.g. "http://[::1"
                valid = False
            if not valid:
                raise FetchError(
                    f"不支持的地址 / unsupported URL (http/https only): {redact_url(current)[:200]}",
                    code="bad_url",
                    url=current,
                )
            if current in seen:
                raise FetchError(
                    f"重定向循环 / redirect loop at {redact_url(current)}",
                    code="redirect_loop",
                    url=current,
                    chain=seen,
                )
            if len(seen) > self.settings.max_redirects:
                raise FetchError(
                    f"重定向次数过多 / more than {self.settings.max_redirects} redirects",
                    code="too_many_redirects",
                    url=current,
                    chain=seen,
                )
            seen.append(current)
            if check_robots and self.robots is not None and self.settings.respect_robots:
                self.robots.check(self, current, allow_private=allow_private)
            headers = {"Accept": accept} if accept else {}
            if len(seen) == 1:
                headers.update({k: v for k, v in conditional.items() if v})
            status, resp_headers, body, location = self._one(
                current, headers, allow_private=allow_private, limit=limit, deadline=deadline
            )
            if status in REDIRECT_STATUSES and location:
                current = urljoin(current, location.strip())
                continue
            if status in REDIRECT_STATUSES:
                raise _error(
                    f"重定向缺少目标 / redirect {status} without Location",
                    "bad_redirect",
                    url=current,
                    status=status,
                    body=body,
                    headers=resp_headers,
                )
            result = FetchResult(
                url=current, status=status, headers=resp_headers, body=body, redirects=seen[:-1]
            )
            if status == 304:
                result.not_modified = True
                return result
            if status >= 400:
                raise _error(
                    f"HTTP 错误 / HTTP {status} from {redact_url(current)}",
                    "http_error",
                    url=current,
                    status=status,
                    body=body,
                    headers=resp_headers,
                )
            return result

    def _one(
        self, url: str, headers: dict[str, str], *, allow_private: bool, limit: int, deadline: float
    ) -> tuple[int, dict[str, str], bytes, str | None]:
        client = self.client(allow_private)
        status = 0
        resp_headers: dict[str, str] = {}
        chunks: list[bytes] = []
        try:
            with client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                resp_headers = {k.lower(): v for k, v in response.headers.items()}
                if status in REDIRECT_STATUSES:
                    return status, resp_headers, b"", response.headers.get("location")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(
                        f"响应过大 / response of {declared} bytes exceeds the limit of {limit}",
                        code="too_large",
                        url=url,
                        status=status,
                        size=int(declared),
                    )
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        chunks.append(chunk)
                        kept = b"".join(chunks)[:limit]
                        raise _error(
                            f"响应过大 / response exceeds the limit of {limit} bytes",
                            "too_large",
                            url=url,
                            status=status,
                            body=kept,
                            headers=resp_headers,
                            truncated=True,
                        )
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _error(
                            f"下载超时 / download took longer than {self.settings.max_duration}s",
                            "timeout",
                            url=url,
                            status=status,
                            body=b"".join(chunks),
                            headers=resp_headers,
                        )
        except FetchError:
            raise
        except httpx.TimeoutException as exc:
            raise _error(
                f"请求超时 / timed out after {self.settings.timeout}s: {redact_url(url)}",
                "timeout",
                url=url,
                status=status or None,
                body=b"".join(chunks),
                headers=resp_headers,
            ) from exc
        except httpx.TooManyRedirects as exc:  # pragma: no cover - redirects are followed by hand
            raise FetchError(str(exc), code="too_many_redirects", url=url) from exc
        except (httpx.DecodingError, httpx.RemoteProtocolError) as exc:
            raise _error(
                f"响应不完整或损坏 / broken response from {redact_url(url)}: {exc}",
                "bad_response",
                url=url,
                status=status or None,
                body=b"".join(chunks),
                headers=resp_headers,
            ) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError, ValueError) as exc:
            raise FetchError(
                f"地址无效 / invalid URL {redact_url(url)[:200]}: {exc}", code="bad_url", url=url
            ) from exc
        except httpx.HTTPError as exc:
            raise FetchError(
                f"连接失败 / cannot connect to {redact_url(url)}: {exc}", code="connect_error", url=url
            ) from exc
        return status, resp_headers, b"".join(chunks), None


def get_fetcher(ctx: Any) -> SafeFetcher:
    """The context's fetcher (created on first use, shared by every connector of the process)."""
    fetcher = ctx.extras.get("safe_fetcher")
    if fetcher is None:
        from yuqing.sources.robots import RobotsCache

        fetcher = SafeFetcher(ctx.settings.http, robots=RobotsCache(ctx.clock, ctx.settings.http))
        ctx.extras["safe_fetcher"] = fetcher
    return fetcher


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value, if any."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None

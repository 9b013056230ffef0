"""SafeFetcher against a real local server: limits, redirects, timeouts, address policy, robots, 304."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fetch_support import Server, serve

from yuqing.core.clock import ManualClock
from yuqing.errors import BlockedAddress, FetchError
from yuqing.sources.base import RawPayload
from yuqing.sources.fetch import SafeFetcher, is_blocked_ip, redact_url, system_resolver
from yuqing.sources.robots import RobotsCache
from yuqing.sources.settings import HttpSettings


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve() as srv:
        yield srv


def make_fetcher(**overrides: object) -> SafeFetcher:
    values: dict[str, object] = {"timeout": 2.0, "max_bytes": 1_000_000, "max_redirects": 5}
    values.update(overrides)
    settings = HttpSettings(**values)  # type: ignore[arg-type]
    return SafeFetcher(settings, robots=RobotsCache(ManualClock(), settings))


def fetch_error(fetcher: SafeFetcher, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_plain_fetch_sends_an_honest_user_agent(server: Server) -> None:
    fetcher = make_fetcher()
    result = fetcher.fetch(server.url("/feed.xml"), allow_private=True)
    assert result.status == 200 and b"<rss" in result.body
    assert result.etag == '"feed-v1"'
    headers = dict(server.hits)["/feed.xml"]
    assert headers["user-agent"].startswith("yuqing/")


def test_conditional_get_returns_not_modified(server: Server) -> None:
    fetcher = make_fetcher()
    result = fetcher.fetch(
        server.url("/feed.xml"),
        allow_private=True,
        etag='"feed-v1"',
        last_modified="Mon, 02 Mar 2026 02:00:00 GMT",
    )
    assert result.not_modified and result.status == 304 and result.body == b""
    sent = [h for p, h in server.hits if p == "/feed.xml"][-1]
    assert sent["if-none-match"] == '"feed-v1"'
    assert sent["if-modified-since"] == "Mon, 02 Mar 2026 02:00:00 GMT"


@pytest.mark.parametrize(
    ("path", "code", "body_kept"),
    [
        ("/huge", "too_large", True),  # 10 MB streamed without Content-Length
        ("/huge-declared", "too_large", False),  # refused from Content-Length, nothing read
        ("/loop", "redirect_loop", False),
        ("/chain/9", "too_many_redirects", False),
        ("/stall", "timeout", False),
        ("/server-error", "http_error", True),
        ("/does-not-exist", "http_error", True),
        ("/private/secret", "robots_disallowed", False),
        ("/no-yuqing/page", "robots_disallowed", False),
    ],
)
def test_bad_responses_give_clear_codes(server: Server, path: str, code: str, body_kept: bool) -> None:
    fetcher = make_fetcher(timeout=0.5)
    error = fetch_error(fetcher, server.url(path), allow_private=True)
    assert error.code == code
    payload = error.detail.get("payload")
    assert isinstance(payload, RawPayload) == body_kept
    if isinstance(payload, RawPayload):
        assert payload.body and len(payload.body) <= 1_000_000


def test_robots_group_for_our_product_token_wins_over_the_wildcard(server: Server) -> None:
    # robots.txt disallows everything for "*", but the "yuqing" group only /private/ and /no-yuqing/.
    assert make_fetcher().fetch(server.url("/feed.xml"), allow_private=True).status == 200


def test_redirects_within_the_limit_are_followed(server: Server) -> None:
    fetcher = make_fetcher(max_redirects=5)
    result = fetcher.fetch(server.url("/chain/5"), allow_private=True)
    assert result.body == b"end of chain"
    assert len(result.redirects) == 5
    assert result.url.endswith("/chain/0")


def test_unsupported_scheme_is_refused() -> None:
    fetcher = make_fetcher()
    assert fetch_error(fetcher, "file:///etc/passwd", allow_private=True).code == "bad_url"
    assert fetch_error(fetcher, "ftp://example.com/x", allow_private=True).code == "bad_url"


def test_loopback_is_refused_without_allow_private(server: Server) -> None:
    fetcher = make_fetcher()
    hits_before = len(server.hits)
    for url in (
        server.url("/feed.xml"),
        f"http://localhost:{server.port}/feed.xml",
        f"http://[::ffff:127.0.0.1]:{server.port}/feed.xml",
    ):
        with pytest.raises(BlockedAddress):
            fetcher.fetch(url)
    assert len(server.hits) == hits_before  # nothing ever reached the server


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.9", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("0.0.0.0", True),
        ("100.64.0.1", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("2002:7f00:1::", True),
        ("64:ff9b::a00:1", True),
        ("192.0.2.1", True),
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", True),  # every IPv4-mapped answer is refused (::/8 is reserved)
    ],
)
def test_address_policy(address: str, blocked: bool) -> None:
    assert is_blocked_ip(ipaddress.ip_address(address)) is blocked


PUBLIC = "127.0.0.2"  # plays "a public address on the internet" in these tests


def _public_test_policy(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Test policy: 127.0.0.2 counts as public; every other rule stays (127.0.0.1 is blocked)."""
    return ip != ipaddress.ip_address(PUBLIC) and is_blocked_ip(ip)


def test_redirect_from_public_name_to_127_0_0_1_is_refused() -> None:
    with serve(PUBLIC) as public, serve("127.0.0.1") as internal:
        names = {"news.example.com": [PUBLIC]}

        def resolver(host: str, port: int) -> list[str]:
            return names.get(host) or system_resolver(host, port)

        public.routes["/story"] = lambda h: (
            h.send_response(302),
            h.send_header("Location", f"http://127.0.0.1:{internal.port}/feed.xml"),
            h.send_header("Content-Length", "0"),
            h.end_headers(),
        )
        settings = HttpSettings(timeout=2.0)
        fetcher = SafeFetcher(
            settings,
            resolver=resolver,
            blocked=_public_test_policy,
            robots=RobotsCache(ManualClock(), settings),
        )
        assert (
            b"<rss" in fetcher.fetch(f"http://news.example.com:{public.port}/feed.xml").body
        )  # public: fine
        with pytest.raises(BlockedAddress) as info:
            fetcher.fetch(f"http://news.example.com:{public.port}/story")
        assert "127.0.0.1" in info.value.message
        assert internal.hits == []  # the internal server was never contacted
        # The same hop is fine for a source explicitly allowed to use private addresses.
        result = fetcher.fetch(f"http://news.example.com:{public.port}/story", allow_private=True)
        assert b"<rss" in result.body and internal.paths()[-1] == "/feed.xml"


def test_connection_is_pinned_to_the_checked_address() -> None:
    """DNS rebinding: the name answers "public" once, then 127.0.0.1. The fetcher resolves once per
    connection and connects to the address it checked, so the second answer is never used."""
    with serve(PUBLIC) as public, serve("127.0.0.1") as internal:
        answers = iter([[PUBLIC]] + [["127.0.0.1"]] * 20)
        calls: list[str] = []

        def rebinding(host: str, port: int) -> list[str]:
            calls.append(host)
            return next(answers)

        settings = HttpSettings(timeout=2.0, respect_robots=False)
        fetcher = SafeFetcher(settings, resolver=rebinding, blocked=_public_test_policy)
        result = fetcher.fetch(f"http://rebind.example.com:{public.port}/feed.xml")
        assert b"<rss" in result.body
        assert calls == ["rebind.example.com"]
        assert list(fetcher.backends[False].connected) == [("rebind.example.com", PUBLIC)]
        assert internal.hits == []


def test_mixed_dns_answer_is_refused_as_a_whole() -> None:
    settings = HttpSettings(timeout=2.0, respect_robots=False)
    fetcher = SafeFetcher(settings, resolver=lambda h, p: ["8.8.8.8", "10.0.0.5"])
    with pytest.raises(BlockedAddress):
        fetcher.fetch("http://mixed.example.com/feed.xml")


def test_robots_is_fetched_once_per_host_and_cached_with_a_ttl(server: Server) -> None:
    clock = ManualClock()
    settings = HttpSettings(timeout=2.0, robots_ttl_s=600)
    robots = RobotsCache(clock, settings)
    fetcher = SafeFetcher(settings, robots=robots)
    for _ in range(3):
        fetcher.fetch(server.url("/feed.xml"), allow_private=True)
    assert robots.fetches == 1
    clock.advance(601)
    fetcher.fetch(server.url("/feed.xml"), allow_private=True)
    assert robots.fetches == 2


def test_missing_robots_allows_and_robots_can_be_switched_off() -> None:
    with serve() as srv:
        del srv.routes["/robots.txt"]
        fetcher = make_fetcher()
        assert fetcher.fetch(srv.url("/private/secret"), allow_private=True).body == b"secret"
    with serve() as srv:
        fetcher = make_fetcher(respect_robots=False)
        assert fetcher.fetch(srv.url("/private/secret"), allow_private=True).body == b"secret"


def test_robots_server_error_means_come_back_later() -> None:
    with serve() as srv:
        srv.routes["/robots.txt"] = srv.routes["/server-error"]
        error = fetch_error(make_fetcher(), srv.url("/feed.xml"), allow_private=True)
        assert error.code == "robots_unavailable"


def test_tls_still_verifies_the_host_name_on_a_pinned_connection(
    make_certificate: Callable[[str, str], tuple[Path, Path]],
) -> None:
    """The connection goes to the checked IP, yet SNI and the certificate check use the host name."""
    cert, key = make_certificate("secure.example.test", "DNS:secure.example.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    names = {"secure.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]}
    settings = HttpSettings(timeout=2.0, respect_robots=False)
    fetcher = SafeFetcher(settings, resolver=lambda h, p: names[h], verify=client_tls)
    with serve(tls=server_tls) as srv:
        result = fetcher.fetch(f"https://secure.example.test:{srv.port}/feed.xml", allow_private=True)
        assert b"<rss" in result.body
        # Same server and IP, but a name the certificate does not cover: refused by TLS.
        error = fetch_error(fetcher, f"https://other.example.test:{srv.port}/feed.xml", allow_private=True)
        assert error.code == "connect_error" and "certificate" in error.message.lower()


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(lambda rest: "http://" + rest, st.text(max_size=40)),
        st.builds(lambda rest: "https://[" + rest, st.text(max_size=20)),
    )
)
def test_any_url_string_gives_a_fetch_error_and_never_touches_the_network(url: str) -> None:
    """Whatever a feed or page hands us as a URL: a FetchError with a code, nothing else.
    (The resolver answers a private address, so nothing can leave the machine.)"""
    fetcher = SafeFetcher(HttpSettings(timeout=0.5, respect_robots=False), resolver=lambda h, p: ["10.9.8.7"])
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url)
    assert info.value.code in ("bad_url", "blocked_address", "dns_error")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:secret@host.example/feed", "https://***@host.example/feed"),
        ("https://user:p@ss@host.example/", "https://***@host.example/"),
        ("http://host.example/path@x?a=b@c", "http://host.example/path@x?a=b@c"),
        ("http://host.example", "http://host.example"),
    ],
)
def test_credentials_never_appear_in_messages(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_fetch_error_message_hides_credentials(server: Server) -> None:
    error = fetch_error(
        make_fetcher(), f"http://bob:hunter2@127.0.0.1:{server.port}/does-not-exist", allow_private=True
    )
    assert "hunter2" not in error.message and "***@" in error.message

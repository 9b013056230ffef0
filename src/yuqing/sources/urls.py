"""URL canonicalisation: one spelling per page, so the same article from two links dedups exactly.

Rules: lowercase scheme and host, IDNA-encode the host, drop default ports (80/443), drop the
fragment and user info, drop tracking parameters (:data:`TRACKING_PARAMS` and every ``utm_*``),
sort the remaining query parameters, drop an empty query, and normalise an empty path to ``/``.
Idempotent: ``canonicalise(canonicalise(u)) == canonicalise(u)``. Non-http(s) or unparseable
input returns ``None``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Exact names (lowercase) of tracking / share parameters dropped from every URL.
TRACKING_PARAMS = frozenset(
    {
        "spm",
        "from",
        "share_token",
        "wfr",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "share_from",
        "share_source",
        "share_medium",
        "share_plat",
        "share_tag",
        "sharer_uid",
        "sharesource",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "sessionid",
        "vd_source",
        "timestamp",
        "tt_from",
        "ref",
        "ref_src",
        "refer",
        "weibo_id",
        "sudaref",
        "retcode",
        "from_source",
        "_wv",
        "xhsshare",
        "appuid",
        "apptime",
        "shareredid",
        "is_from_webapp",
        "sender_device",
        "s_trans",
        "s_channel",
        "u_code",
        "u_atoken",
        "utm",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_OK = re.compile(r"^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[?[0-9a-f:.]+\]?)$")
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _idna_host(host: str) -> str | None:
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    if host.startswith("[") or host.isascii():  # IPv6 literal, or nothing to encode
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        try:
            return ".".join(
                label.encode("idna").decode("ascii") if label else label for label in host.split(".")
            )
        except UnicodeError:
            return None


def _requote(part: str, safe: str) -> str:
    # unquote then quote gives one spelling for "%7e" / "~" / raw unicode.
    return quote(unquote(part), safe=safe)


# The common case: lowercase http(s) scheme and host, no port, user info or fragment, and only
# unreserved characters in path and query — nothing to decode, re-encode or IDNA-encode.
_SIMPLE = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[A-Za-z0-9._~/-]*)?(?:\?([A-Za-z0-9._~=&-]*))?"
)


def _simple(url: str) -> str | None:
    """:func:`canonicalise` of a URL matching :data:`_SIMPLE` (``None``: take the general path)."""
    m = _SIMPLE.fullmatch(url)
    if m is None:
        return None
    scheme, host, path, query = m.groups()
    pairs: list[tuple[str, str]] = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        if "=" in value:
            return None  # re-encoded as %3D
        if name and not _is_tracking(name):
            pairs.append((name, value))
    pairs.sort()
    canonical = f"{scheme}://{host}{path or '/'}"
    return f"{canonical}?{'&'.join(f'{k}={v}' for k, v in pairs)}" if pairs else canonical


def canonicalise(url: str | None) -> str | None:
    """The canonical form of an http(s) URL, or ``None`` when it is not one."""
    if not url:
        return None
    url = url.strip()
    simple = _simple(url)
    return simple if simple is not None else _general(url)


def _general(url: str) -> str | None:
    """:func:`canonicalise` of a stripped URL, any spelling."""
    if any(c in url for c in "\x00\r\n\t"):
        return None
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return None
        host = _idna_host(parts.hostname or "")
        port = parts.port
    except ValueError:
        return None
    if not host or not _HOST_OK.match(host):
        return None
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _requote(parts.path or "/", _SAFE_PATH) or "/"
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k and not _is_tracking(k)
    ]
    query_pairs.sort()
    query = urlencode(query_pairs, quote_via=quote, safe="-._~")
    return urlunsplit((scheme, netloc, path, query, ""))

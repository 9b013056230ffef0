"""One exception hierarchy so the CLI prints one clear line and the API answers problem+json.

Every error carries a stable machine-readable ``code`` and the HTTP status the API maps it to.
"""

from __future__ import annotations

from typing import Any


class YuqingError(Exception):
    code = "yuqing_error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class ConfigError(YuqingError):
    code = "config_error"
    http_status = 500


class ValidationError(YuqingError):
    code = "validation_error"
    http_status = 422


class NotFound(YuqingError):
    code = "not_found"
    http_status = 404


class Conflict(YuqingError):
    code = "conflict"
    http_status = 409


class PermissionDenied(YuqingError):
    code = "permission_denied"
    http_status = 403


class AuthenticationRequired(YuqingError):
    code = "authentication_required"
    http_status = 401


class FetchError(YuqingError):
    """A source could not be fetched (network, size, redirect, policy)."""

    code = "fetch_error"
    http_status = 502


class BlockedAddress(FetchError):
    """The URL resolves to a private, loopback or link-local address the source may not use."""

    code = "blocked_address"
    http_status = 403


class ParseError(YuqingError):
    """Input that arrived but could not be understood; it goes to quarantine."""

    code = "parse_error"
    http_status = 422


class Overloaded(YuqingError):
    """Back-pressure: the caller should retry after ``retry_after`` seconds."""

    code = "overloaded"
    http_status = 503

    def __init__(self, message: str, *, retry_after: int = 5, **detail: Any) -> None:
        super().__init__(message, **detail)
        self.retry_after = retry_after

"""An ASGI guard in front of the app: bounded request bodies and no NUL characters in input.

NUL cannot be stored in PostgreSQL text and has no business in any field here, so it is refused
with ``422 invalid_characters`` before it reaches a query (path, query string, JSON or form body).
Bodies larger than ``MAX_BODY`` are refused with 413. The ingest webhook keeps its own limits.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yuqing.web.problems import problem

MAX_BODY = 1024 * 1024
EXEMPT_PATHS = frozenset({"/api/v1/ingest"})
_NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope["path"] or any(m in query for m in (b"\x00", b"%00")):
            await self._refuse(scope, receive, send, 422)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > MAX_BODY:
                await self._refuse(scope, receive, send, 413)
                return
        if any(m in body for m in _NUL_MARKERS):
            await self._refuse(scope, receive, send, 422)
            return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay_receive() -> Message:
            if replay:
                return replay.pop()
            return await receive()

        await self.app(scope, replay_receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int) -> None:
        if status == 413:
            response: Any = problem(413, "payload_too_large", "请求体过大 / request body too large")
        else:
            response = problem(
                422, "invalid_characters", "输入含非法字符 (NUL) / input contains NUL characters"
            )
        await response(scope, receive, send)

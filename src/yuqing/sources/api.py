"""``POST /api/v1/ingest``: vendors push batches of posts (mounted by the web app).

Auth: ``Authorization: Bearer <token>``; the token is the source's ``config["webhook_token"]``
when set, else ``settings.ingest.webhook_token`` (constant-time comparison). No token configured
at all means the endpoint is closed (401). Responses:

- ``200`` every item accepted; ``207`` mixed; ``422`` every item rejected (or duplicates and
  rejections only); duplicates alone answer ``200`` (idempotent resend);
- ``400`` malformed JSON / wrong shape, ``401`` missing token, ``403`` wrong token,
  ``404`` unknown source, ``413`` more than ``settings.ingest.max_batch`` items or a body over
  the size limit — as ``application/problem+json`` with ``type``, ``title``, ``status``,
  ``detail`` and ``code``.

Once the token is accepted the raw body is stored as a ``RawItem`` before anything else is
checked (even when it is malformed), and a malformed body is quarantined with its reason.
Unauthenticated requests store nothing.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from yuqing.core.bus import MENTIONS_INGESTED
from yuqing.core.context import AppContext
from yuqing.core.redis_bus import admit
from yuqing.errors import Overloaded, ParseError
from yuqing.sources.base import ItemDraft, ItemError, RawPayload
from yuqing.sources.connectors.webhook import decode_body, item_to_draft
from yuqing.sources.models import Source
from yuqing.sources.service import error_reason, get_source, ingest_drafts, quarantine, store_raw

router = APIRouter()
PROBLEM = "application/problem+json"
MAX_BODY = 50_000_000


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://yuqing.invalid/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body["code"] = code
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _token_ok(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@router.post("/api/v1/ingest")
async def ingest_webhook(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or not auth[7:].strip():
        return problem(401, "authentication_required", "未认证 / unauthorised", "Bearer token required")
    token = auth[7:].strip()
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_BODY:
        return problem(
            413, "payload_too_large", "请求过大 / payload too large", f"body over {MAX_BODY} bytes"
        )
    body = await request.body()
    if len(body) > MAX_BODY:
        return problem(
            413, "payload_too_large", "请求过大 / payload too large", f"body over {MAX_BODY} bytes"
        )
    # Parse only enough to find the source; tokens are checked before anything is stored.
    doc: dict[str, Any] | None
    parse_error: ParseError | None = None
    try:
        doc = decode_body(body)
    except ParseError as exc:
        doc, parse_error = None, exc
    source_name = doc.get("source") if doc is not None else request.query_params.get("source")
    source: Source | None = None
    if isinstance(source_name, str) and source_name:
        try:
            source = get_source(ctx, source_name)
        except Exception:
            source = None
    expected = ""
    if source is not None and (source.config or {}).get("webhook_token"):
        expected = str(source.config["webhook_token"])
    else:
        expected = ctx.settings.ingest.webhook_token.get_secret_value()
    if not expected:
        return problem(401, "authentication_required", "未认证 / unauthorised", "no webhook token configured")
    if not _token_ok(token, expected):
        return problem(403, "permission_denied", "令牌错误 / forbidden", "wrong token")
    # Back-pressure before anything is stored: a busy pipeline answers 503 + Retry-After, never drops.
    try:
        items = doc.get("items") if isinstance(doc, dict) else None
        admit(ctx.bus, MENTIONS_INGESTED, max(1, len(items) if isinstance(items, list) else 1))
    except Overloaded as exc:
        response = problem(503, exc.code, "系统繁忙 / overloaded", exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    raw_id = store_raw(
        ctx,
        source,
        RawPayload(
            body=body,
            url=str(request.url),
            content_type=request.headers.get("content-type"),
            encoding="utf-8",
            headers={"user-agent": request.headers.get("user-agent", "")[:300]},
        ),
    )
    if parse_error is not None:
        quarantine(
            ctx,
            stage="parse",
            reason=parse_error.code,
            error=str(parse_error),
            source_id=source.id if source is not None else None,
            raw_item_id=raw_id,
        )
        return problem(
            400, parse_error.code, "请求格式错误 / bad request", str(parse_error), raw_item_id=raw_id
        )
    assert doc is not None
    if source is None:
        return problem(404, "not_found", "信源不存在 / unknown source", f"no source named {source_name!r}")
    items = doc["items"]
    if len(items) > ctx.settings.ingest.max_batch:
        return problem(
            413,
            "batch_too_large",
            "批次过大 / batch too large",
            f"{len(items)} items > max_batch {ctx.settings.ingest.max_batch}",
        )
    results: list[dict[str, Any]] = [{"index": i, "status": "rejected"} for i in range(len(items))]
    drafts: list[tuple[int | None, ItemDraft]] = []
    positions: list[int] = []
    qrows: list[tuple[int, ItemError]] = []
    mapping_ref = (source.config or {}).get("mapping")
    for index, item in enumerate(items):
        try:
            drafts.append((raw_id, item_to_draft(item, index, mapping_ref)))
            positions.append(index)
        except ItemError as exc:
            results[index]["error"] = {"code": exc.reason, "message": str(exc)}
            qrows.append((index, exc))
    for index, item_error in qrows:
        quarantine(
            ctx,
            stage="parse",
            reason=item_error.reason,
            error=str(item_error),
            source_id=source.id,
            raw_item_id=raw_id,
            payload={"index": index, "item": items[index]},
        )
    _, outcomes = ingest_drafts(ctx, source, drafts)
    for index, outcome in zip(positions, outcomes, strict=True):
        entry: dict[str, Any] = {"index": index, "status": outcome.status}
        if outcome.mention_id is not None:
            entry["mention_id"] = outcome.mention_id
        if outcome.duplicate_of_id is not None:
            entry["duplicate_of_id"] = outcome.duplicate_of_id
        if outcome.status != "accepted":
            entry["error"] = {
                "code": outcome.code or error_reason(Exception()),
                "message": outcome.message or "",
            }
        results[index] = entry
    summary = {s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "duplicate", "rejected")}
    if summary["rejected"] == 0:
        status = 200
    elif summary["accepted"] == 0 and summary["rejected"] == len(results):
        status = 422
    else:
        status = 207
    return JSONResponse(
        {"source": source.name, "raw_item_id": raw_id, "summary": summary, "results": results},
        status_code=status,
    )

"""Webhook connector: vendors push batches of posts to ``POST /api/v1/ingest``.

The body is ``{"source": "<name>", "items": [{...}, ...]}``. Each item uses the field names of
:class:`~yuqing.sources.base.ItemDraft` (``id`` is accepted for ``external_id``; ``content`` for
``text``; ``published_at`` / ``created_at`` for ``published``; ``author`` may be an object
``{"name", "followers"}``), or, when the source has ``config["mapping"]``, that mapping's columns.
Unknown keys go to ``extra``. ``parse`` is pure; the HTTP side is in :mod:`yuqing.sources.api`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from yuqing.errors import ParseError
from yuqing.sources.base import DRAFT_FIELDS, ItemDraft, ItemError, ParseResult, RawPayload
from yuqing.sources.mapping import apply_mapping, load_mapping

_ALIASES = {
    "id": "external_id",
    "item_id": "external_id",
    "content": "text",
    "body": "text",
    "link": "url",
    "published_at": "published",
    "created_at": "published",
    "time": "published",
    "followers": "author_followers",
    "shares": "reposts",
    "reposts_count": "reposts",
    "comments_count": "comments",
    "attitudes_count": "likes",
}
_FIELDS = set(DRAFT_FIELDS)
_STR_FIELDS = {"title", "text", "url", "author", "platform", "lang"}
MAX_ITEM_CHARS = 1_000_000


def decode_body(body: bytes) -> dict[str, Any]:
    """The request document; :class:`ParseError` (code ``malformed_json``) when it is not one."""
    if not body or not body.strip():
        raise ParseError("请求体为空 / empty body", code="empty_body")
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"JSON 格式错误 / malformed JSON: {exc}", code="malformed_json") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError(
            '须为 {"source", "items": [...]} / body must be {"source", "items": [...]}', code="bad_body"
        )
    return doc


def item_to_draft(item: Any, index: int, mapping_ref: Any = None) -> ItemDraft:
    if not isinstance(item, dict):
        raise ItemError(
            "not_an_object", f"第 {index} 条不是对象 / item {index} is not an object", {"item": item}
        )
    if len(json.dumps(item, ensure_ascii=False, default=str)) > MAX_ITEM_CHARS:
        raise ItemError(
            "item_too_large", f"第 {index} 条过大 / item {index} is larger than {MAX_ITEM_CHARS} chars"
        )
    if mapping_ref:
        return apply_mapping(load_mapping(mapping_ref), item, index=None)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in item.items():
        name = _ALIASES.get(key, key)
        if name == "author" and isinstance(value, dict):
            fields["author"] = value.get("name") or value.get("screen_name")
            if "followers" in value or "followers_count" in value:
                fields["author_followers"] = value.get("followers", value.get("followers_count"))
        elif name == "extra" and isinstance(value, dict):
            extra.update(value)
        elif name in _FIELDS:
            if name not in fields or fields[name] in (None, ""):
                fields[name] = value
        else:
            extra[key] = value
    for name in _STR_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            raise ItemError(
                "bad_field", f"第 {index} 条字段 {name} 须为字符串 / item {index}: '{name}' must be a string"
            )
    ext = fields.get("external_id")
    if ext is not None and not isinstance(ext, str | int):
        raise ItemError(
            "bad_field", f"第 {index} 条 id 须为字符串或整数 / item {index}: 'id' must be a string or int"
        )
    if not (fields.get("title") or fields.get("text")):
        raise ItemError(
            "empty_item", f"第 {index} 条缺少 title/text / item {index} has neither title nor text"
        )
    return ItemDraft(
        title=fields.get("title") or "",
        text=fields.get("text") or "",
        url=fields.get("url"),
        external_id=str(ext) if ext is not None and str(ext).strip() else None,
        author=fields.get("author"),
        author_followers=fields.get("author_followers"),
        published=fields.get("published"),
        reposts=fields.get("reposts"),
        comments=fields.get("comments"),
        likes=fields.get("likes"),
        views=fields.get("views"),
        platform=fields.get("platform"),
        lang=fields.get("lang"),
        extra=extra,
    )


class WebhookConnector:
    """``webhook``: nothing to fetch (vendors push); parses pushed batches."""

    name: ClassVar[str] = "webhook"

    def fetch(self, source: Any, ctx: Any) -> list[RawPayload]:
        return []

    def parse(self, source: Any, raw: RawPayload) -> ParseResult:
        doc = decode_body(raw.body)
        mapping_ref = (getattr(source, "config", None) or {}).get("mapping")
        result = ParseResult()
        for index, item in enumerate(doc["items"]):
            try:
                result.items.append(item_to_draft(item, index, mapping_ref))
            except ItemError as err:
                err.payload = {"index": index, "item": item}
                result.errors.append(err)
        return result

    def parse_item(self, source: Any, payload: dict[str, Any]) -> ItemDraft:
        mapping_ref = (getattr(source, "config", None) or {}).get("mapping")
        return item_to_draft(payload.get("item"), int(payload.get("index") or 0), mapping_ref)

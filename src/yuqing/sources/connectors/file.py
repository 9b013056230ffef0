"""File import connector: JSONL, CSV/TSV and Excel exports through a declarative mapping.

``iter_payloads`` streams a file as raw payloads of ``chunk_rows`` records each (CSV chunks
repeat the header so each is self-contained), so a large file is never held in memory at once
and every chunk is stored as received before it is parsed. Excel workbooks are one payload
(the zip cannot be split). ``parse`` decodes each record on its own: a bad JSON line, a row
with the wrong number of columns or undecodable bytes become per-row :class:`ItemError`\\ s;
the other rows go through.

The mapping comes from ``source.config["mapping"]`` (a shipped name, a path, or an inline
mapping), see :mod:`yuqing.sources.mapping`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from yuqing.errors import FetchError, ParseError
from yuqing.sources.base import ItemDraft, ItemError, ParseResult, RawPayload
from yuqing.sources.mapping import Mapping, apply_mapping, load_mapping

CONTENT_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT_OF_TYPE = {v: k for k, v in CONTENT_TYPES.items()}
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_SAMPLE = 256 * 1024
MAX_FIELD = 1_000_000


def detect_format(path: Path, declared: str | None = None, head: bytes = b"") -> str:
    if declared:
        if declared not in CONTENT_TYPES:
            raise ParseError(f"未知格式 / unknown format '{declared}' (jsonl, csv, xlsx)", code="bad_format")
        return declared
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt:
        return fmt
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"PK\x03\x04"):
        return "xlsx"
    if stripped.startswith((b"{", b"[")):
        return "jsonl"
    return "csv"


def guess_encoding(sample: bytes) -> str:
    """UTF-8 when (nearly) every line of the sample is UTF-8; else the charset module's guess."""
    lines = [ln for ln in sample.split(b"\n")[:-1] if ln.strip()] or [sample]
    good = 0
    for ln in lines:
        try:
            ln.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            pass
    if good >= max(1, int(len(lines) * 0.9)):
        return "utf-8"
    try:
        from yuqing.sources.charset import decode_bytes

        return decode_bytes(sample)[1]
    except ImportError:  # pragma: no cover - the charset module ships with the package
        return "gb18030"


def _records(stream: io.BufferedReader) -> Iterator[bytes]:
    """CSV records as bytes: a newline inside quotes does not end a record (RFC 4180 quoting)."""
    parts: list[bytes] = []
    quotes = 0
    for line in stream:
        parts.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            yield b"".join(parts)
            parts = []
            quotes = 0
    if parts:
        yield b"".join(parts)  # truncated: an unterminated quote at the end of the file


def _split_records(body: bytes) -> list[bytes]:
    return list(_records(io.BufferedReader(io.BytesIO(body))))


def iter_payloads(
    path: str | Path, fmt: str | None = None, *, chunk_rows: int = 1000, max_bytes: int | None = None
) -> Iterator[RawPayload]:
    """Stream a file as raw payloads of ``chunk_rows`` records each."""
    path = Path(path)
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as exc:
        raise FetchError(
            f"无法读取文件 / cannot read {path}: {exc.strerror}", code="file_unreadable"
        ) from exc
    if max_bytes is not None and size > max_bytes:
        handle.close()
        raise FetchError(f"文件过大 / file too large: {size} > {max_bytes} bytes", code="file_too_large")
    with handle:
        head = handle.peek(_SAMPLE)[:_SAMPLE] if hasattr(handle, "peek") else b""
        fmt = detect_format(path, fmt, head)
        name = str(path.resolve())
        if fmt == "xlsx":
            body = handle.read()
            yield RawPayload(
                body=body,
                url=f"file://{name}",
                content_type=CONTENT_TYPES["xlsx"],
                headers={"x-yuqing-file": path.name},
            )
            return
        encoding = guess_encoding(head)
        if fmt == "jsonl":
            yield from _chunks(iter(handle), name, path.name, "jsonl", encoding, chunk_rows, b"", 1)
            return
        records = _records(handle)
        header = next(records, b"")
        if not header.strip():
            yield RawPayload(
                body=header,
                url=f"file://{name}",
                content_type=CONTENT_TYPES["csv"],
                encoding=encoding,
                headers={"x-yuqing-file": path.name, "x-yuqing-first-row": "1"},
            )
            return
        yield from _chunks(records, name, path.name, "csv", encoding, chunk_rows, header, 2)


def _chunks(
    records: Iterator[bytes],
    name: str,
    short: str,
    fmt: str,
    encoding: str,
    chunk_rows: int,
    header: bytes,
    first: int,
) -> Iterator[RawPayload]:
    batch: list[bytes] = []
    row = first
    start = first
    for rec in records:
        batch.append(rec)
        row += 1
        if len(batch) >= chunk_rows:
            yield _payload(header, batch, name, short, fmt, encoding, start, row - 1)
            batch = []
            start = row
    if batch or start == first:
        yield _payload(header, batch, name, short, fmt, encoding, start, row - 1)


def _payload(
    header: bytes, batch: list[bytes], name: str, short: str, fmt: str, encoding: str, start: int, end: int
) -> RawPayload:
    if header and not header.endswith(b"\n"):
        header += b"\n"
    return RawPayload(
        body=header + b"".join(batch),
        url=f"file://{name}#rows={start}-{end}",
        content_type=CONTENT_TYPES[fmt],
        encoding=encoding,
        headers={"x-yuqing-file": short, "x-yuqing-first-row": str(start)},
    )


def _decode(raw: bytes, encoding: str, row: int) -> str:
    try:
        return raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ItemError(
            "undecodable",
            f"第 {row} 行无法按 {encoding} 解码 / row {row} is not valid {encoding}",
            {"row": row, "raw": raw[:20_000].decode("utf-8", "backslashreplace")},
        ) from exc


class FileConnector:
    """``file``: imports exports from platforms, vendors and complaint systems."""

    name: ClassVar[str] = "file"

    def fetch(self, source: Any, ctx: Any) -> list[RawPayload]:
        location = str(source.url or "")
        path = location[7:] if location.startswith("file://") else location
        if not path:
            raise FetchError("文件信源缺少路径 / file source has no path (url)", code="bad_url")
        cfg = source.config or {}
        return list(
            iter_payloads(
                path,
                cfg.get("format"),
                chunk_rows=ctx.settings.ingest.file_chunk_rows,
                max_bytes=ctx.settings.ingest.max_file_bytes,
            )
        )

    def mapping(self, source: Any) -> Mapping:
        return load_mapping((source.config or {}).get("mapping"))

    def parse(self, source: Any, raw: RawPayload) -> ParseResult:
        mapping = self.mapping(source)
        fmt = FORMAT_OF_TYPE.get((raw.content_type or "").split(";")[0].strip())
        if fmt is None:
            fmt = (
                (source.config or {}).get("format")
                or mapping.format
                or detect_format(Path(raw.url or ""), None, raw.body[:64])
            )
        first = int(raw.headers.get("x-yuqing-first-row", "1") or 1)
        if fmt == "xlsx":
            return self._parse_xlsx(mapping, raw.body)
        encoding = raw.encoding or guess_encoding(raw.body[:_SAMPLE])
        if fmt == "jsonl":
            return self._parse_jsonl(mapping, raw.body, encoding, first)
        return self._parse_csv(mapping, raw.body, encoding, first)

    def parse_item(self, source: Any, payload: dict[str, Any]) -> ItemDraft:
        """Re-read one quarantined row (replay) with the source's current mapping."""
        mapping = self.mapping(source)
        row = payload.get("row")
        if isinstance(payload.get("fields"), dict):
            return apply_mapping(mapping, payload["fields"], index=row)
        raw = payload.get("raw")
        if not isinstance(raw, str):
            raise ItemError("no_payload", "无可重放内容 / nothing to replay", payload)
        if payload.get("format") == "csv" and isinstance(payload.get("header"), list):
            values = next(csv.reader(io.StringIO(raw)), [])
            header = payload["header"]
            if len(values) != len(header):
                raise ItemError("wrong_column_count", f"列数 {len(values)} ≠ {len(header)}", payload)
            return apply_mapping(mapping, dict(zip(header, values, strict=True)), index=row)
        return apply_mapping(mapping, _json_row(raw, row), index=row)

    # --- formats --------------------------------------------------------------------------------

    def _parse_jsonl(self, mapping: Mapping, body: bytes, encoding: str, first: int) -> ParseResult:
        result = ParseResult()
        row = first - 1
        for line in body.split(b"\n"):
            row += 1
            if not line.strip():
                continue
            try:
                text = _decode(line, encoding, row)
                result.items.append(apply_mapping(mapping, _json_row(text, row), index=row))
            except ItemError as err:
                if err.payload is None or "raw" not in (err.payload or {}):
                    err.payload = {
                        "row": row,
                        "raw": line[:20_000].decode(encoding, "replace"),
                        "format": "jsonl",
                    }
                result.errors.append(err)
        return result

    def _parse_csv(self, mapping: Mapping, body: bytes, encoding: str, first: int) -> ParseResult:
        result = ParseResult()
        records = _split_records(body)
        if not records or not records[0].strip():
            raise ParseError("空文件 / empty CSV (no header)", code="empty_body")
        try:
            header_text = records[0].decode(encoding).lstrip("\ufeff")
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(
                f"表头无法解码 / CSV header is not valid {encoding}", code="undecodable"
            ) from exc
        delimiter = "\t" if header_text.count("\t") > header_text.count(",") else ","
        try:
            header = [h.strip() for h in next(csv.reader(io.StringIO(header_text), delimiter=delimiter))]
        except (csv.Error, StopIteration) as exc:
            raise ParseError(f"CSV 表头错误 / malformed CSV header: {exc}", code="malformed_csv") from exc
        if len(set(header)) != len(header) or not any(header):
            raise ParseError("CSV 表头重复或为空 / duplicate or empty CSV header", code="malformed_csv")
        row = first - 1
        for rec in records[1:]:
            row += 1
            if not rec.strip():
                continue
            try:
                text = _decode(rec, encoding, row)
                try:
                    values = next(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
                except (csv.Error, StopIteration) as exc:
                    raise ItemError("malformed_csv", f"第 {row} 行 CSV 格式错误 / row {row}: {exc}") from exc
                if len(values) != len(header):
                    raise ItemError(
                        "wrong_column_count",
                        f"第 {row} 行有 {len(values)} 列，表头 {len(header)} 列 / row {row} has "
                        f"{len(values)} columns, header has {len(header)}",
                    )
                result.items.append(apply_mapping(mapping, dict(zip(header, values, strict=True)), index=row))
            except ItemError as err:
                if err.payload is None or "raw" not in (err.payload or {}):
                    err.payload = {
                        "row": row,
                        "raw": rec[:20_000].decode(encoding, "replace"),
                        "format": "csv",
                        "header": header,
                    }
                result.errors.append(err)
        return result

    def _parse_xlsx(self, mapping: Mapping, body: bytes) -> ParseResult:
        import zipfile

        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            raise ParseError(
                f"不是有效的 Excel 文件 / not a valid .xlsx workbook: {exc}", code="malformed_xlsx"
            ) from exc
        result = ParseResult()
        try:
            ws = wb.worksheets[0]
            rows = ws.iter_rows(values_only=True)
            header_row = next(rows, None)
            if header_row is None:
                raise ParseError("工作表为空 / the first worksheet is empty", code="empty_body")
            header = [str(h).strip() if h is not None else "" for h in header_row]
            for n, values in enumerate(rows, start=2):
                if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                data = {h: v for h, v in zip(header, values, strict=False) if h}
                try:
                    result.items.append(apply_mapping(mapping, data, index=n))
                except ItemError as err:
                    err.payload = {"row": n, "fields": _json_ready(data), "format": "xlsx"}
                    result.errors.append(err)
        finally:
            wb.close()
        return result


def _json_row(text: str, row: int | None) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ItemError(
            "malformed_json", f"第 {row} 行不是合法 JSON / row {row} is not valid JSON: {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise ItemError("not_an_object", f"第 {row} 行不是 JSON 对象 / row {row} is not a JSON object")
    return value


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    from datetime import date, datetime

    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in data.items()}

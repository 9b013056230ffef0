"""POST /api/v1/ingest on a real uvicorn server on 127.0.0.1 (router mounted in a tiny app)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.sources.api import router
from yuqing.sources.models import Quarantine, RawItem
from yuqing.sources.service import ensure_source

TOKEN = "s3cret-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(ctx: AppContext) -> Iterator[str]:
    ctx.settings.ingest.webhook_token = type(ctx.settings.ingest.webhook_token)(TOKEN)
    ctx.settings.ingest.max_batch = 50
    ensure_source(ctx, "vendor", "webhook", platform="weibo")
    ensure_source(ctx, "own-token", "webhook", config={"webhook_token": "per-source"})
    app = FastAPI()
    app.state.ctx = ctx
    app.include_router(router)
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def post(base: str, body: object, token: str | None = TOKEN, raw: bytes | None = None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = token if token.startswith("Basic ") else f"Bearer {token}"
    content = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    return httpx.post(f"{base}/api/v1/ingest", content=content, headers=headers, timeout=30)


def test_accepts_then_resend_is_duplicate(server: str, ctx: AppContext) -> None:
    items = [
        {"id": "v1", "text": "华信银行分期手续费争议"},
        {"id": "v2", "text": "Huaxin Bank fees", "url": "https://x.com/1"},
    ]
    r = post(server, {"source": "vendor", "items": items})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["summary"] == {"accepted": 2, "duplicate": 0, "rejected": 0}
    assert [x["status"] for x in data["results"]] == ["accepted", "accepted"]
    assert all("mention_id" in x for x in data["results"])
    r = post(server, {"source": "vendor", "items": items})
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
    with ctx.db.session() as s:
        assert len(s.scalars(select(RawItem)).all()) == 2  # every push kept as received


def test_mixed_batch_is_207_with_per_item_errors(server: str) -> None:
    items = [
        {"id": "a", "text": "ok"},
        {"id": "b", "title": "", "text": ""},
        "not an object",
        {"id": "c", "text": 5},
    ]
    r = post(server, {"source": "vendor", "items": items})
    assert r.status_code == 207
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted", "rejected", "rejected", "rejected"]
    assert [x["index"] for x in results] == [0, 1, 2, 3]
    assert results[1]["error"]["code"] == "empty_item"
    assert results[2]["error"]["code"] == "not_an_object"
    assert results[3]["error"]["code"] == "bad_field"


def test_all_rejected_is_422(server: str, ctx: AppContext) -> None:
    r = post(server, {"source": "vendor", "items": [{"text": ""}, 7]})
    assert r.status_code == 422
    assert r.json()["summary"]["rejected"] == 2
    with ctx.db.session() as s:
        assert len(s.scalars(select(Quarantine)).all()) == 2


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("Basic dXNlcjpwdw==", 401), ("wrong", 403), (TOKEN + "x", 403)],
)
def test_auth(server: str, token: str | None, status: int) -> None:
    r = post(server, {"source": "vendor", "items": [{"text": "x"}]}, token=token)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status and r.json()["code"]


def test_per_source_token(server: str) -> None:
    assert post(server, {"source": "own-token", "items": [{"text": "x"}]}).status_code == 403
    assert (
        post(server, {"source": "own-token", "items": [{"text": "x"}]}, token="per-source").status_code == 200
    )


def test_malformed_json_is_400_problem_and_kept(server: str, ctx: AppContext) -> None:
    raw = b'{"source": "vendor", "items": [{"id": 1, "text": "trunc'
    r = post(server, None, raw=raw)
    assert r.status_code == 400
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        set(problem) >= {"type", "title", "status", "detail", "code"} and problem["code"] == "malformed_json"
    )
    with ctx.db.session() as s:
        stored = s.get(RawItem, problem["raw_item_id"])
        assert stored is not None and stored.body == raw
        assert s.scalars(select(Quarantine)).one().reason == "malformed_json"


def test_batch_too_large_and_unknown_source(server: str) -> None:
    r = post(server, {"source": "vendor", "items": [{"id": str(i), "text": "x"} for i in range(51)]})
    assert r.status_code == 413 and r.json()["code"] == "batch_too_large"
    r = post(server, {"source": "nobody", "items": [{"text": "x"}]})
    assert r.status_code == 404

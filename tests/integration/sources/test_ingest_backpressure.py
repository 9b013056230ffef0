"""Back-pressure at the door: a full Redis stream makes the webhook answer 503 + Retry-After,
storing nothing, and the same push is accepted once the pipeline has caught up."""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import func, select

from yuqing.core.bus import MENTIONS_INGESTED
from yuqing.core.context import AppContext
from yuqing.core.redis_bus import RedisStreamsBus
from yuqing.sources.api import router
from yuqing.sources.models import Mention, RawItem
from yuqing.sources.service import ensure_source

TOKEN = "bp-token"


@pytest.fixture
def redis_ctx(ctx: AppContext, redis_url: str):
    client = redis.Redis.from_url(redis_url)
    prefix = f"yqtest-{uuid.uuid4().hex[:8]}"
    bus = RedisStreamsBus(client, prefix=prefix, stream_maxlen=1000, retry_after=7)
    bus.subscribe(MENTIONS_INGESTED, lambda batch: None, name="test.consumer")
    ctx.bus = bus
    ctx.settings.ingest.webhook_token = type(ctx.settings.ingest.webhook_token)(TOKEN)
    ensure_source(ctx, "vendor", "webhook", platform="weibo")
    yield ctx, bus, client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def _post(app: FastAPI, body: dict) -> httpx.Response:
    import asyncio

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/api/v1/ingest", json=body, headers={"authorization": f"Bearer {TOKEN}"}
            )

    return asyncio.run(go())


def test_full_stream_answers_503_with_retry_after_and_stores_nothing(redis_ctx) -> None:
    ctx, bus, client = redis_ctx
    app = FastAPI()
    app.state.ctx = ctx
    app.include_router(router)
    key = bus.stream_key(MENTIONS_INGESTED)
    pipe = client.pipeline()
    for i in range(1000):  # the stage has not read any of these yet
        pipe.xadd(key, {"data": f'{{"mention_id": {i}}}'})
    pipe.execute()

    body = {"source": "vendor", "items": [{"id": "a1", "text": "华信银行收费争议"}]}
    r = _post(app, body)
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "7"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "overloaded"
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(RawItem)) == 0
        assert s.scalar(select(func.count()).select_from(Mention)) == 0

    client.delete(key)  # the pipeline caught up
    r = _post(app, body)
    assert r.status_code == 200, r.text
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Mention)) == 1

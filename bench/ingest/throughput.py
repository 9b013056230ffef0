"""Ingest throughput: a 50,000-mention JSONL import (normalise + dedup + store) into SQLite and PostgreSQL.

    python -m bench.ingest.throughput [--n 50000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

PostgreSQL: ``--pg`` (or ``YUQING_DATABASE_URL`` when it is a PostgreSQL URL) names an admin URL;
a scratch database is created and dropped. Prints one JSON object per backend.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.ingest.gen import write_jsonl
from yuqing.config import load_settings
from yuqing.core.clock import ManualClock
from yuqing.core.context import create_context
from yuqing.core.db import make_engine
from yuqing.sources.connectors.file import FileConnector, iter_payloads
from yuqing.sources.service import ensure_source, ingest_payloads


def run(url: str, path: Path, n: int) -> dict:
    ctx = create_context(
        load_settings(database_url=url, secret_key="bench-secret"),
        clock=ManualClock(datetime(2026, 3, 5, 12, tzinfo=UTC)),
    )
    src = ensure_source(ctx, "bench", "file", platform="weibo", config={})
    t0 = time.perf_counter()
    c0 = time.process_time()
    report = ingest_payloads(ctx, src, iter_payloads(path, chunk_rows=1000), FileConnector())
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    ctx.db.dispose()
    return {
        "backend": url.split(":", 1)[0].split("+")[0],
        "mentions": n,
        "seconds": round(elapsed, 2),
        "mentions_per_s": round(n / elapsed),
        "cpu_seconds": round(cpu, 2),
        "mentions_per_cpu_s": round(n / cpu),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        **report.counts(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    env = os.environ.get("YUQING_DATABASE_URL", "")
    parser.add_argument(
        "--pg",
        default=env
        if env.startswith("postgresql")
        else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(Path(tmp) / "mentions.jsonl", args.n)
        print(json.dumps({"file_mb": round(path.stat().st_size / 1e6, 1)}))
        if not args.skip_sqlite:
            print(json.dumps(run(f"sqlite:///{Path(tmp) / 'bench.db'}", path, args.n)))
        if not args.skip_pg:
            name = f"ingestbench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                from sqlalchemy.engine import make_url

                url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                print(json.dumps(run(url, path, args.n)))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()

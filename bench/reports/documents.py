"""Time to build each document from the demo scenario (SQLite): facts, then each format.

    python -m bench.reports.documents [--repeat 3]

Prints JSON: seconds per step (median of the repeats) and the output sizes.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from yuqing.config import load_settings
from yuqing.core.bus import InProcessBus
from yuqing.core.clock import ManualClock
from yuqing.core.context import AppContext
from yuqing.core.db import Database
from yuqing.core.pipeline import register_stages

STEPS = ("sources", "analysis", "events", "incidents")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from yuqing.reports import render_docx, render_html, render_pdf
    from yuqing.reports.briefs import brief_document
    from yuqing.reports.event_report import make_event_report
    from yuqing.reports.review_report import make_review_report
    from yuqing.reports.service import gather_brief

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.upgrade()
        settings = load_settings(database_url=db.url)
        ctx = AppContext(settings, db, ManualClock(datetime(2026, 3, 5, 2, tzinfo=UTC)), InProcessBus())
        register_stages(ctx, STEPS)
        quiet = Console(file=io.StringIO())
        t0 = time.perf_counter()
        for step in STEPS:
            importlib.import_module(f"yuqing.{step}.demo").run(ctx, quiet)
        replay = time.perf_counter() - t0
        day = (ctx.clock.now().astimezone(ZoneInfo(settings.timezone)) - timedelta(days=1)).date()
        timings: dict[str, list[float]] = {}
        sizes: dict[str, int] = {}

        def timed(name: str, fn, *a, **kw):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            out = fn(*a, **kw)
            timings.setdefault(name, []).append(time.perf_counter() - start)
            return out

        fonts = tuple(settings.reports.fonts)
        for _ in range(args.repeat):
            facts = timed("daily.facts", gather_brief, ctx, "daily", day)
            doc = timed("daily.charts+document", brief_document, ctx, facts)
            html = timed("daily.html", render_html.render, doc)
            docx = timed("daily.docx", render_docx.build, doc)
            pdf = timed("daily.pdf", render_pdf.build, doc, fonts=fonts)
            weekly = timed("weekly.facts+document", brief_document, ctx, gather_brief(ctx, "weekly", day))
            timed("event.facts+document", make_event_report, ctx, 1)
            timed("review.facts+document", make_review_report, ctx, 1)
            buf = io.BytesIO()
            docx.save(buf)
            sizes = {
                "daily.html": len(html.encode()),
                "daily.docx": len(buf.getvalue()),
                "daily.pdf": len(pdf),
            }
            sizes["weekly.charts"] = sum(
                1 for s in weekly.sections for b in s.blocks if type(b).__name__ == "Chart"
            )
        result = {
            "scenario_replay_s": round(replay, 2),
            "mentions_in_daily_brief": facts.total,
            "median_s": {k: round(statistics.median(v), 3) for k, v in timings.items()},
            "bytes": sizes,
            "repeat": args.repeat,
        }
        print(json.dumps(result, ensure_ascii=False, indent=1))
        db.dispose()


if __name__ == "__main__":
    main()

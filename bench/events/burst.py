"""Early-sign detector on replayed history: false alarms and detection delay.

    python -m bench.events.burst [--series 20] [--days 60]

Each series is a synthetic hourly mention count with hour-of-day and weekday seasonality and
over-dispersion (gamma-Poisson), 60 days long; after a 14-day warm-up, bursts lasting 8 hours are
injected at random times (extra mentions ramping up to ``--lift`` x the expected level). The detector
(``yuqing.events.burst.detect``, the service's default parameters, a 6-hour cooldown) judges every
hour as the service does. Reported: false alarms per 30 days (firings outside bursts), detection
rate and delay (hours from burst start to the first firing; 0 = in its first hour). A firing
within ``window_hours`` after a burst still sees it and is not counted as false.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np

from yuqing.events.burst import BurstParams, detect
from yuqing.events.settings import EventSettings

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def profile(t: datetime) -> float:
    """Relative activity: low at night, peaks mid-morning and evening; weekends at 60 %."""
    hod = (
        0.25 + 0.75 * math.exp(-(((t.hour - 10) / 3.5) ** 2)) + 0.6 * math.exp(-(((t.hour - 21) / 2.5) ** 2))
    )
    return hod * (0.6 if t.weekday() >= 5 else 1.0)


def simulate(
    rng: np.random.Generator, days: int, base: float, lift: float, n_bursts: int
) -> tuple[list[int], set[int], list[int]]:
    hours = days * 24
    expected = np.array([base * profile(T0 + timedelta(hours=h)) for h in range(hours)])
    dispersion = 5.0  # gamma shape: variance = mu + mu^2 / 5
    rates = rng.gamma(dispersion, expected / dispersion)
    starts = sorted(
        int(s) for s in rng.choice(np.arange(15 * 24, hours - 10, 24 * 3), size=n_bursts, replace=False)
    )
    in_burst: set[int] = set()
    for s in starts:
        for k in range(8):
            ramp = min(1.0, (k + 1) / 4)  # reaches full lift after 4 hours
            rates[s + k] += lift * ramp * max(expected[s + k], 1.0)
            in_burst.add(s + k)
    counts = rng.poisson(rates).tolist()
    return counts, in_burst, starts


def run(
    series: int, days: int, base: float, lift: float, bursts: int, params: BurstParams, cooldown: int
) -> dict[str, object]:
    rng = np.random.default_rng(7)
    false_alarms = 0
    baseline_hours = 0
    delays: list[int] = []
    missed = 0
    for _ in range(series):
        counts, in_burst, starts = simulate(rng, days, base, lift, bursts)
        fired_at: list[int] = []
        last_fire = -(10**9)
        for h in range(14 * 24, days * 24):
            window = {T0 + timedelta(hours=i): counts[i] for i in range(h - params.days * 24, h + 1)}
            res = detect(window, T0 + timedelta(hours=h), params)
            if res.fired and h - last_fire >= cooldown:
                fired_at.append(h)
                last_fire = h
        # a firing in a burst or in the window_hours after it (the window still holds it) is not false
        grace = {s + k for s in starts for k in range(8 + params.window_hours)}
        for h in fired_at:
            if h not in grace:
                false_alarms += 1
        baseline_hours += (days - 14) * 24 - len(in_burst)
        for s in starts:
            hits = [h for h in fired_at if s <= h < s + 8]
            if hits:
                delays.append(hits[0] - s)
            else:
                missed += 1
    total = len(delays) + missed
    return {
        "series": series,
        "days": days,
        "mean_rate_per_hour": round(base * 0.55, 2),
        "lift": lift,
        "bursts": total,
        "detection_rate": round(len(delays) / total, 3) if total else None,
        "median_delay_hours": statistics.median(delays) if delays else None,
        "mean_delay_hours": round(statistics.mean(delays), 2) if delays else None,
        "false_alarms_per_30_days": round(false_alarms / (baseline_hours / 24) * 30, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=10)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--threshold", type=float, default=None, help="override settings.events.burst_threshold")
    args = ap.parse_args()
    s = EventSettings()
    threshold = args.threshold if args.threshold is not None else s.burst_threshold
    params = BurstParams(days=s.burst_baseline_days, min_count=s.burst_min_count, threshold=threshold)
    cooldown = int(s.burst_cooldown_hours)
    out = {
        "params": {"min_count": params.min_count, "threshold": params.threshold, "baseline_days": params.days}
    }
    runs = []
    for base, lift in ((2.0, 3.0), (2.0, 6.0), (10.0, 1.5), (10.0, 3.0)):
        runs.append(run(args.series, args.days, base, lift, 5, params, cooldown))
    out["runs"] = runs
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

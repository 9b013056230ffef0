"""Early signs (苗头): bursts of hourly volume against a seasonal baseline (pure functions).

Method. For a series of hourly counts (a watch target's mentions, or an event's, or their
negative-only counterparts) and the hour ``h`` being judged:

1. level = mean hourly count over the baseline (the ``days`` before ``h``; hours with no row count 0);
2. hour-of-day factor = (mean count at ``h``'s hour of day) / level, and weekday factor likewise,
   both shrunk towards 1 by ``hod_prior`` / ``dow_prior`` pseudo-observations so that thin history
   stays neutral;
3. expected = max(level x hod x dow, ``floor``);
4. over-dispersion is estimated from the baseline hours by the method of moments
   (variance = mu + mu^2 / size); when the series is over-dispersed the tail is negative binomial,
   otherwise Poisson;
5. a burst fires when the hour's count >= ``min_count`` and the upper tail P(X >= observed) <
   ``threshold``, for the hour itself or for the sum of the last ``window_hours`` hours against the
   sum of their expectations (a sustained rise no single hour shows).

A Poisson tail on a seasonal expectation is the classic count-surveillance test (it is what the
EARS / Farrington family do with more care for over-dispersion); the minimum count stops 2-vs-0.1
"bursts" on quiet series, the floor stops a brand-new series from firing on its first mentions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from scipy.special import betainc, gammainc

HOUR = timedelta(hours=1)


def floor_hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class BurstParams:
    days: int = 14
    min_count: int = 5
    threshold: float = 1e-4
    floor: float = 0.5  # expected mentions/hour never assumed below this
    hod_prior: float = 3.0  # pseudo-observations shrinking the hour-of-day factor towards 1
    dow_prior: float = 24.0  # pseudo-observations shrinking the weekday factor towards 1
    window_hours: int = 3  # also test the sum of the last few hours (sustained rises)


@dataclass(frozen=True)
class BurstResult:
    fired: bool
    observed: int
    expected: float
    p_value: float
    hours: int = 1  # the window the figures are for (1 = the hour itself)


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    return float(gammainc(observed, expected))


def negbin_tail(observed: int, expected: float, size: float | None) -> float:
    """P(X >= observed) for a negative binomial with mean ``expected`` and dispersion ``size``
    (variance = mean + mean^2 / size); Poisson when ``size`` is None."""
    if size is None:
        return poisson_tail(observed, expected)
    if observed <= 0:
        return 1.0
    p = size / (size + expected)
    # P(X >= x) = I_{1-p}(x, size) (regularised incomplete beta)
    return float(betainc(observed, size, 1.0 - p))


@dataclass(frozen=True)
class Baseline:
    expected: float
    size: float | None  # negative-binomial dispersion; None = Poisson is adequate


def _seasonal(
    history: Mapping[datetime, int], hour: datetime, params: BurstParams
) -> tuple[datetime, dict[datetime, int], float, list[float], list[float]]:
    """The baseline window's start, its non-zero counts, its level and the summed counts per hour
    of day and per weekday."""
    start = hour - timedelta(days=params.days)
    counts: dict[datetime, int] = {t: c for t, c in history.items() if start <= t < hour and c}
    total = float(sum(counts.values()))
    level = total / (params.days * 24)
    hod_sum = [0.0] * 24
    dow_sum = [0.0] * 7
    if level > 0:
        for t, c in counts.items():
            hod_sum[t.hour] += c
            dow_sum[t.weekday()] += c
    return start, counts, level, hod_sum, dow_sum


def _hod_factor(x: float, level: float, params: BurstParams) -> float:
    hod_n = params.days  # hours in the baseline at one hour of day
    return (x + params.hod_prior * level) / ((hod_n + params.hod_prior) * level)


def _dow_factor(x: float, level: float, params: BurstParams) -> float:
    dow_n = 24 * (params.days // 7 or 1)  # hours in the baseline on one weekday
    return (x + params.dow_prior * level) / ((dow_n + params.dow_prior) * level)


def baseline(history: Mapping[datetime, int], hour: datetime, params: BurstParams) -> Baseline:
    """Seasonal expectation for ``hour`` and the over-dispersion of the ``params.days`` days before it."""
    hour = floor_hour(hour)
    start, counts, level, hod_sum, dow_sum = _seasonal(history, hour, params)
    if level <= 0:
        return Baseline(params.floor, None)
    n_hours = params.days * 24
    hod = [_hod_factor(x, level, params) for x in hod_sum]
    dow = [_dow_factor(x, level, params) for x in dow_sum]
    # Method-of-moments dispersion: var = mu + mu^2 / size over the baseline hours.
    # mu depends only on the hour of the week (weekday x 24 + hour of day): 168 values computed once,
    # laid out in the order of the baseline hours; the terms are then summed in that order (the same
    # values in the same order as stepping through the datetimes). Hours without mentions contribute
    # (0 - mu)^2 - mu, also computed once per hour of the week.
    mus = [level * hod[j % 24] * dow[j // 24] for j in range(168)]
    j0 = start.weekday() * 24 + start.hour
    mus = mus[j0:] + mus[:j0]
    reps = -(-n_hours // 168)
    week_terms = [(0 - mu) ** 2 - mu for mu in mus]
    terms = (week_terms * reps)[:n_hours]
    for t, c in counts.items():
        offset = t - start
        if not offset % HOUR:
            i = offset // HOUR
            mu = mus[i % 168]
            # winsorised so that earlier bursts in the baseline do not pass for noise
            x = min(c, mu + 3.0 * math.sqrt(mu) + 3.0)
            terms[i] = (x - mu) ** 2 - mu
    excess = 0.0
    for v in terms:
        excess += v
    mu2 = 0.0
    for mu in (mus * reps)[:n_hours]:
        mu2 += mu * mu
    size = mu2 / excess if excess > 0 else None
    if size is not None and size > 1000:
        size = None
    expected = max(level * hod[hour.hour] * dow[hour.weekday()], params.floor)
    return Baseline(expected, size)


def expected_count(history: Mapping[datetime, int], hour: datetime, params: BurstParams) -> float:
    """Seasonal expectation for ``hour`` from the ``params.days`` days before it (``baseline``'s
    ``expected``, without the dispersion)."""
    hour = floor_hour(hour)
    _start, _counts, level, hod_sum, dow_sum = _seasonal(history, hour, params)
    if level <= 0:
        return params.floor
    hod = _hod_factor(hod_sum[hour.hour], level, params)
    dow = _dow_factor(dow_sum[hour.weekday()], level, params)
    return max(level * hod * dow, params.floor)


def detect(history: Mapping[datetime, int], hour: datetime, params: BurstParams) -> BurstResult:
    """Judge the count at ``hour`` (taken from ``history``) against its seasonal baseline.

    Two windows are tested: the hour itself, and the ``params.window_hours`` hours ending with it
    (a sustained rise that no single hour shows); the smaller tail probability is reported.
    """
    hour = floor_hour(hour)
    observed = int(history.get(hour, 0))
    base = baseline(history, hour, params)
    p = negbin_tail(observed, base.expected, base.size)
    best = (p, observed, base.expected, 1)
    if params.window_hours > 1 and observed > 0:
        obs_w = observed
        exp_w = base.expected
        for k in range(1, params.window_hours):
            t = hour - k * HOUR
            obs_w += int(history.get(t, 0))
            exp_w += expected_count(history, t, params)
        size_w = None if base.size is None else base.size * params.window_hours
        p_w = negbin_tail(obs_w, exp_w, size_w)
        if p_w < best[0]:
            best = (p_w, obs_w, exp_w, params.window_hours)
    p, obs, exp, hours = best
    return BurstResult(observed >= params.min_count and p < params.threshold, obs, exp, p, hours)

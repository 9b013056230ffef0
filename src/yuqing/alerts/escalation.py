"""Escalation chains (pure): when an unacknowledged alert escalates, and to whom.

A chain (per level, in ``rules.yaml`` under ``escalation``) has an ack deadline, steps and a final
catch-all. Step ``i`` fires ``after`` seconds past the deadline and then ``repeat`` more times
``every`` seconds apart; ``final`` fires once. Each firing is identified by ``(step, repeat)`` so
the service records every step exactly once (the final step has index ``len(steps)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from yuqing.alerts.routing import EscalationChain, EscalationStep, RuleSet


@dataclass(frozen=True)
class Firing:
    step: int
    repeat: int
    due_at: datetime
    final: bool
    spec: EscalationStep


def chain_for(ruleset: RuleSet, level: str | None) -> EscalationChain | None:
    """The chain of a level; unlevelled alerts use the IV chain."""
    return ruleset.escalation.get(level or "IV")  # type: ignore[call-overload]


def ack_deadline(chain: EscalationChain, raised_at: datetime) -> datetime:
    return raised_at + timedelta(seconds=chain.ack_within)


def schedule(chain: EscalationChain, raised_at: datetime) -> list[Firing]:
    """Every firing of the chain in time order."""
    deadline = ack_deadline(chain, raised_at)
    out: list[Firing] = []
    for i, step in enumerate(chain.steps):
        for r in range(step.repeat + 1):
            at = deadline + timedelta(seconds=step.after + r * step.every)
            out.append(Firing(step=i, repeat=r, due_at=at, final=False, spec=step))
    if chain.final is not None:
        at = deadline + timedelta(seconds=chain.final.after)
        out.append(Firing(step=len(chain.steps), repeat=0, due_at=at, final=True, spec=chain.final))
    out.sort(key=lambda f: (f.due_at, f.step, f.repeat))
    return out


def due_firings(
    chain: EscalationChain, raised_at: datetime, now: datetime, done: set[tuple[int, int]]
) -> list[Firing]:
    """Firings due at ``now`` that have not been recorded yet (an acked alert never asks)."""
    return [f for f in schedule(chain, raised_at) if f.due_at <= now and (f.step, f.repeat) not in done]


def next_due(chain: EscalationChain, raised_at: datetime, done: set[tuple[int, int]]) -> datetime | None:
    for f in schedule(chain, raised_at):
        if (f.step, f.repeat) not in done:
            return f.due_at
    return None

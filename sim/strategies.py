"""City strategies: how a city revises its reward between months.

Each strategy looks at the city's record over its last two review windows
and edits the city's column of the policy arrays. Cities are few, so this
runs per city; firms are never looped over here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import StrategyKind, StrategyParams
from sim.subsidy import PolicyArrays


@dataclass
class StrategyContext:
    """What strategies may look at: histories are (steps so far, cities)."""

    share: np.ndarray  # monthly production share
    objective: np.ndarray  # jobs x job_value + tax + tourism - outlay, per month
    budget_left: np.ndarray  # per city, now
    policy: PolicyArrays
    direction: np.ndarray  # per city, +1 / -1: the objective strategy's current search direction


def is_review_month(steps_done: int, s: StrategyParams) -> bool:
    """A city reviews every `review_months`, once it has two full windows of record."""
    return steps_done >= 2 * s.review_months and steps_done % s.review_months == 0


def _windows(history: np.ndarray, j: int, months: int) -> tuple[float, float]:
    """Mean of column j over the last window and the one before it."""
    recent = history[-months:, j].mean()
    before = history[-2 * months : -months, j].mean()
    return float(recent), float(before)


def revise_fixed(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Keep the announced policy."""


def revise_reactive(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Raise the reward by one step when the share fell, if there is budget left to pay it.

    Two reactive cities ratchet each other up: one's loss is the other's
    gain, so whichever fell answers, and the other answers back (a subsidy war).
    """
    recent, before = _windows(ctx.share, j, s.review_months)
    if recent < before - s.share_tolerance and ctx.budget_left[j] > 0.0:
        rate = ctx.policy.reward_rate
        rate[j] = max(rate[j], min(s.max_reward_rate, rate[j] + s.rate_step))  # never cuts a higher start


def revise_imitate(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Close part of the gap to the leader's (highest recent share) reward rate and cap."""
    recent = ctx.share[-s.review_months :].mean(axis=0)
    leader = int(np.argmax(recent))
    if leader == j:
        return
    p = ctx.policy
    p.reward_rate[j] += s.imitation_speed * (min(p.reward_rate[leader], s.max_reward_rate) - p.reward_rate[j])
    p.reward_cap[j] += s.imitation_speed * (p.reward_cap[leader] - p.reward_cap[j])


def revise_objective(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Hill-climb the reward rate on the city's own objective.

    Keep moving in the current direction while the objective improves;
    turn around when it worsens.
    """
    recent, before = _windows(ctx.objective, j, s.review_months)
    if recent < before:
        ctx.direction[j] = -ctx.direction[j]
    rate = ctx.policy.reward_rate
    rate[j] = float(np.clip(rate[j] + ctx.direction[j] * s.rate_step, 0.0, s.max_reward_rate))


REVISERS = {
    StrategyKind.fixed: revise_fixed,
    StrategyKind.reactive: revise_reactive,
    StrategyKind.imitate: revise_imitate,
    StrategyKind.objective: revise_objective,
}

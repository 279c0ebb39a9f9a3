"""City strategies: how a city revises its policy between months.

Each strategy looks at the city's record over its last two review windows
and edits the city's column of the run-time policy arrays, within the
bounds its `StrategyParams` declare. Cities are few, so this runs per city;
firms are never looped over here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sim.params import STRATEGY_LEVERS, PolicyParams, StrategyKind, StrategyParams, levers_with
from sim.policy import PolicyArrays

RATE_LEVERS = levers_with(strategy="rate")  # shares of cost: moved in absolute steps
AIGC_MAX = next(f.metadata["hi"] for f in dataclasses.fields(PolicyParams) if f.name == "aigc_support")  # its own bound
BINDING = 0.95  # a fund paying less than this share of its claims is oversubscribed


@dataclass
class StrategyContext:
    """What strategies may look at: histories are (months so far, places)."""

    share: np.ndarray  # monthly share of national productions
    objective: np.ndarray  # jobs x job_value + tax + tourism - outlay, per month
    claims: np.ndarray  # claims made, per month
    paid: np.ndarray  # rewards paid, per month
    policy: PolicyArrays  # run-time policy (edited)
    announced: PolicyArrays  # the policy each city started with (the base of its bounds)
    direction: np.ndarray  # (places, levers): the objective strategy's search direction, +1 / -1
    turn: np.ndarray  # (places,): reviews done by the objective strategy (which lever is next)
    n_cities: int | None = None  # places before this index are cities (the rest of the country follows, never a model)


def is_review_month(steps_done: int, s: StrategyParams) -> bool:
    """A city reviews every `review_months`, once it has two full windows of record."""
    return steps_done >= 2 * s.review_months and steps_done % s.review_months == 0


def _windows(history: np.ndarray, j: int, months: int) -> tuple[float, float]:
    """Mean of column j over the last window and the one before it."""
    recent = history[-months:, j].mean()
    before = history[-2 * months : -months, j].mean()
    return float(recent), float(before)


def fund_binds(j: int, s: StrategyParams, ctx: StrategyContext) -> bool:
    """Whether the city paid clearly less than was claimed over its last window."""
    claims = ctx.claims[-s.review_months :, j].sum()
    return bool(claims > 0 and ctx.paid[-s.review_months :, j].sum() < BINDING * claims)


def budget_bounds(j: int, s: StrategyParams, ctx: StrategyContext) -> tuple[float, float]:
    """The annual budget a city keeps to: from its announced budget up to `max_budget_multiple` times it."""
    announced = float(ctx.announced.annual_budget[j])
    return announced, announced * s.max_budget_multiple


def revise_fixed(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Keep the announced policy."""


def revise_reactive(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Escalate when the share falls, de-escalate when it recovers or the treasury is overdrawn.

    Escalating raises the reward rate one step, or, when the fund already
    pays less than it is claimed, the budget (a higher rate would only
    spread the same money thinner). De-escalating lowers the rate one step,
    never below the announced rate; a fund that binds at its largest budget
    lowers the rate too (the city promises more than it can pay), and a
    fund that stays well under-claimed shrinks back toward the announced
    budget. Two reactive cities answer each other's gains: a subsidy war.
    """
    p, a = ctx.policy, ctx.announced
    recent, before = _windows(ctx.share, j, s.review_months)
    binds = fund_binds(j, s, ctx)
    lo_budget, hi_budget = budget_bounds(j, s, ctx)
    floor = float(a.reward_rate[j])
    if recent < before - s.share_tolerance:
        if binds and p.annual_budget[j] < hi_budget:
            p.annual_budget[j] = min(hi_budget, p.annual_budget[j] * (1.0 + s.budget_step))
        elif not binds:
            p.reward_rate[j] = max(p.reward_rate[j], min(s.max_reward_rate, p.reward_rate[j] + s.rate_step))
        else:  # overdrawn at its largest budget: the treasury suffers
            p.reward_rate[j] = max(floor, p.reward_rate[j] - s.rate_step)
    elif recent > before + s.share_tolerance:
        p.reward_rate[j] = max(floor, p.reward_rate[j] - s.rate_step)
        if not binds:
            p.annual_budget[j] = max(lo_budget, p.annual_budget[j] / (1.0 + s.budget_step))


def revise_imitate(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Close part of the gap to the leader's (highest recent share) reward rate, cap and budget."""
    recent = ctx.share[-s.review_months :, : ctx.n_cities].mean(axis=0)
    leader = int(np.argmax(recent))  # among the cities: the rest of the country has no policy to copy
    if leader == j:
        return
    p = ctx.policy
    k = s.imitation_speed
    p.reward_rate[j] += k * (min(p.reward_rate[leader], s.max_reward_rate) - p.reward_rate[j])
    p.reward_cap[j] += k * (p.reward_cap[leader] - p.reward_cap[j])
    _, hi_budget = budget_bounds(j, s, ctx)
    p.annual_budget[j] += k * (min(p.annual_budget[leader], hi_budget) - p.annual_budget[j])


def lever_bounds(lever: str, j: int, s: StrategyParams, ctx: StrategyContext) -> tuple[float, float]:
    """The range an objective city keeps a lever in: rates in [0, max_reward_rate] (AIGC to 0.9), money up to its multiple."""
    if lever == "aigc_support":
        return 0.0, AIGC_MAX
    if lever == "reward_rate":
        return s.min_reward_rate, s.max_reward_rate
    if lever in RATE_LEVERS:
        return 0.0, s.max_reward_rate
    return 0.0, float(getattr(ctx.announced, lever)[j]) * s.max_budget_multiple


def revise_objective(j: int, s: StrategyParams, ctx: StrategyContext) -> None:
    """Hill-climb the city's own objective over the levers it declares, one lever per review.

    The lever moved at the last review keeps its direction while the
    objective improves and turns around when it worsens; then the next lever
    in turn is moved one step. Rates move by `rate_step`, money levers by the
    share `budget_step` of their announced level.
    """
    levers = s.lever_names
    turn = int(ctx.turn[j])
    recent, before = _windows(ctx.objective, j, s.review_months)
    if turn > 0 and recent < before:
        last = STRATEGY_LEVERS.index(levers[(turn - 1) % len(levers)])
        ctx.direction[j, last] = -ctx.direction[j, last]
    lever = levers[turn % len(levers)]
    k = STRATEGY_LEVERS.index(lever)
    values = getattr(ctx.policy, lever)
    step = s.rate_step if lever in RATE_LEVERS else s.budget_step * float(getattr(ctx.announced, lever)[j])
    lo, hi = lever_bounds(lever, j, s, ctx)
    values[j] = float(np.clip(values[j] + ctx.direction[j, k] * step, lo, hi))
    ctx.turn[j] = turn + 1


REVISERS = {
    StrategyKind.fixed: revise_fixed,
    StrategyKind.reactive: revise_reactive,
    StrategyKind.imitate: revise_imitate,
    StrategyKind.objective: revise_objective,
}

"""Each city strategy alone, on hand-made histories (no model run)."""

import numpy as np
import pytest

from sim.params import STRATEGY_LEVERS, PolicyParams, StrategyParams
from sim.policy import PolicyArrays
from sim.strategies import StrategyContext, is_review_month, revise_imitate, revise_objective, revise_reactive


def context(share, objective=None, claims=None, paid=None, rates=(0.1, 0.2), budgets=(50e6, 50e6)) -> StrategyContext:
    share = np.asarray(share, dtype=float)
    policy = PolicyArrays.from_params([PolicyParams(reward_rate=r, annual_budget=b, reward_cap=2e6 + 1e6 * i)
                                       for i, (r, b) in enumerate(zip(rates, budgets))])
    zeros = np.zeros_like(share)
    return StrategyContext(share=share, objective=zeros if objective is None else np.asarray(objective, float),
                           claims=zeros if claims is None else np.asarray(claims, float),
                           paid=zeros if paid is None else np.asarray(paid, float),
                           policy=policy, announced=policy.copy(), direction=np.ones((2, len(STRATEGY_LEVERS))),
                           turn=np.zeros(2, dtype=int))


S = StrategyParams(review_months=2, rate_step=0.05, max_reward_rate=0.3)
FALLING = [[0.6, 0.4], [0.6, 0.4], [0.5, 0.5], [0.5, 0.5]]
RISING = [[0.5, 0.5], [0.5, 0.5], [0.6, 0.4], [0.6, 0.4]]


def test_review_months():
    assert [m for m in range(1, 9) if is_review_month(m, S)] == [4, 6, 8]


def test_reactive_raises_its_rate_when_its_share_falls_and_the_fund_has_room():
    ctx = context(FALLING)
    revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate == pytest.approx([0.15, 0.2])
    assert ctx.policy.annual_budget[0] == 50e6


def test_reactive_raises_its_budget_instead_when_the_fund_binds():
    claims = [[10.0, 0.0]] * 4
    paid = [[5.0, 0.0]] * 4  # pays half of what is claimed
    ctx = context(FALLING, claims=claims, paid=paid)
    revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.1)
    assert ctx.policy.annual_budget[0] == pytest.approx(50e6 * 1.25)


def test_reactive_budget_stops_at_its_multiple_and_then_the_treasury_cuts_the_rate():
    claims, paid = [[10.0, 0.0]] * 4, [[5.0, 0.0]] * 4
    ctx = context(FALLING, claims=claims, paid=paid, rates=(0.2, 0.2))
    for _ in range(20):
        revise_reactive(0, S, ctx)
    assert ctx.policy.annual_budget[0] == pytest.approx(50e6 * S.max_budget_multiple)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.2)  # never below the announced rate


def test_reactive_de_escalates_when_its_share_recovers_but_not_below_its_announcement():
    ctx = context(FALLING)
    for _ in range(3):
        revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.25)
    ctx.share = np.asarray(RISING, float)
    revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.2)
    for _ in range(5):
        revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.1)


def test_reactive_never_passes_its_ceiling_and_never_cuts_a_higher_start():
    ctx = context(FALLING)
    for _ in range(10):
        revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.3)
    high = context(FALLING, rates=(0.45, 0.2))
    revise_reactive(0, S, high)
    assert high.policy.reward_rate[0] == pytest.approx(0.45)


def test_imitator_closes_part_of_the_gap_to_the_leader():
    ctx = context([[0.3, 0.7]] * 4, budgets=(50e6, 150e6))
    revise_imitate(0, StrategyParams(review_months=2, imitation_speed=0.5), ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.15)
    assert ctx.policy.reward_cap[0] == pytest.approx(2.5e6)
    assert ctx.policy.annual_budget[0] == pytest.approx(100e6)
    revise_imitate(1, StrategyParams(review_months=2, imitation_speed=0.5), ctx)  # the leader keeps its policy
    assert ctx.policy.reward_rate[1] == pytest.approx(0.2)


def test_objective_moves_each_declared_lever_in_turn_and_turns_back_when_worse():
    s = StrategyParams(review_months=2, rate_step=0.05, budget_step=0.2, levers="reward_rate,annual_budget")
    improving = context([[0.5, 0.5]] * 4, objective=[[1.0, 0], [1.0, 0], [2.0, 0], [2.0, 0]])
    revise_objective(0, s, improving)
    assert improving.policy.reward_rate[0] == pytest.approx(0.15)
    revise_objective(0, s, improving)
    assert improving.policy.annual_budget[0] == pytest.approx(60e6)
    worse = context([[0.5, 0.5]] * 4, objective=[[2.0, 0], [2.0, 0], [1.0, 0], [1.0, 0]])
    worse.turn[0] = 1  # the last review moved reward_rate; it made things worse
    revise_objective(0, s, worse)
    assert worse.direction[0, STRATEGY_LEVERS.index("reward_rate")] == -1
    assert worse.policy.annual_budget[0] == pytest.approx(60e6)


def test_strategy_levers_must_be_known_instruments():
    from sim.params import ParamError

    with pytest.raises(ParamError, match="levers"):
        StrategyParams(levers="reward_rate,bribes")


@pytest.mark.parametrize("levers", ["reward_rate,culture_rate", "culture_rate,annual_budget"])
def test_the_bounds_a_city_must_start_in_are_those_its_objective_strategy_keeps(levers):
    from sim.params import strategy_rate_bounds
    from sim.strategies import lever_bounds

    s = StrategyParams(kind="objective", min_reward_rate=0.05, max_reward_rate=0.35, levers=levers)
    ctx = context([[0.5, 0.5]] * 4)
    for lever in s.lever_names:
        if lever in ("reward_rate", "culture_rate"):
            assert strategy_rate_bounds(s, lever) == lever_bounds(lever, 0, s, ctx)


def test_a_reactive_city_starting_at_its_maximum_stays_within_its_bounds():
    """The highest start the params allow (the strategy's maximum): escalation holds it, recovery cuts to no lower."""
    from sim.params import strategy_rate_bounds

    s = StrategyParams(kind="reactive", review_months=2, rate_step=0.05, max_reward_rate=0.3)
    lo, hi = strategy_rate_bounds(s, "reward_rate")
    ctx = context(FALLING, rates=(hi, 0.2))
    for _ in range(5):
        revise_reactive(0, s, ctx)
    assert lo <= ctx.policy.reward_rate[0] == pytest.approx(hi)
    ctx.share = np.asarray(RISING, float)
    revise_reactive(0, s, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(hi)

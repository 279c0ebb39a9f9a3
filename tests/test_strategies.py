"""City strategies, each alone on hand-made histories."""

import numpy as np
import pytest

from sim.params import PolicyParams, StrategyParams
from sim.strategies import StrategyContext, is_review_month, revise_imitate, revise_objective, revise_reactive
from sim.subsidy import PolicyArrays


def context(share, objective=None, budget=(1e6, 1e6), rates=(0.1, 0.1), caps=(3e6, 3e6)):
    share = np.array(share, dtype=float)
    policy = PolicyArrays.from_params([PolicyParams(reward_rate=r, reward_cap=c) for r, c in zip(rates, caps)])
    return StrategyContext(share=share, objective=np.array(objective if objective is not None else share, dtype=float),
                           budget_left=np.array(budget, dtype=float), policy=policy, direction=np.ones(2))


S = StrategyParams(review_months=2, rate_step=0.05, max_reward_rate=0.3)
FALLING = [[0.6, 0.4], [0.6, 0.4], [0.5, 0.5], [0.5, 0.5]]  # city 0 lost share


def test_review_months():
    assert [m for m in range(1, 9) if is_review_month(m, S)] == [4, 6, 8]


def test_reactive_raises_when_its_share_falls_and_only_then():
    ctx = context(FALLING)
    revise_reactive(0, S, ctx)
    revise_reactive(1, S, ctx)
    assert ctx.policy.reward_rate == pytest.approx([0.15, 0.1])


def test_reactive_stops_without_budget_and_at_its_ceiling_and_never_cuts():
    ctx = context(FALLING, budget=(0.0, 1e6))
    revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.1)
    ctx = context(FALLING, rates=(0.28, 0.1))
    revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.3)
    ctx = context(FALLING, rates=(0.45, 0.1))
    revise_reactive(0, S, ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.45)


def test_imitate_closes_part_of_the_gap_to_the_leader():
    ctx = context([[0.3, 0.7]] * 4, rates=(0.0, 0.2), caps=(1e6, 3e6))
    revise_imitate(0, StrategyParams(review_months=2, imitation_speed=0.5), ctx)
    assert ctx.policy.reward_rate[0] == pytest.approx(0.1)
    assert ctx.policy.reward_cap[0] == pytest.approx(2e6)
    revise_imitate(1, StrategyParams(review_months=2, imitation_speed=0.5), ctx)  # the leader keeps its policy
    assert ctx.policy.reward_rate[1] == pytest.approx(0.2)


def test_objective_keeps_direction_while_improving_and_turns_when_worse():
    improving = context([[0.5, 0.5]] * 4, objective=[[1, 0], [1, 0], [2, 0], [2, 0]])
    revise_objective(0, S, improving)
    assert improving.policy.reward_rate[0] == pytest.approx(0.15) and improving.direction[0] == 1
    worse = context([[0.5, 0.5]] * 4, objective=[[2, 0], [2, 0], [1, 0], [1, 0]])
    revise_objective(0, S, worse)
    assert worse.policy.reward_rate[0] == pytest.approx(0.05) and worse.direction[0] == -1

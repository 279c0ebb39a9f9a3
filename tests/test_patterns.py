"""Patterns the brief names, over many seeds (statistical, with margins set well outside the noise)."""

import numpy as np
import pytest

from conftest import make_params, run, shares_by_seed

pytestmark = pytest.mark.slow

SEEDS = range(16)
EVEN = {"east": {}, "west": {}}


def test_identical_cities_split_evenly_on_average():
    shares = shares_by_seed(EVEN, SEEDS)
    assert abs(shares.mean() - 0.5) < 0.05


def test_strong_agglomeration_tips_to_one_winner_weak_agglomeration_shares():
    strong = shares_by_seed(EVEN, SEEDS, steps=48, behaviour={"agglomeration": 1.0})
    weak = shares_by_seed(EVEN, SEEDS, steps=48, behaviour={"agglomeration": 0.0})
    tipped = lambda s: np.maximum(s, 1 - s) >= 0.8  # noqa: E731
    assert tipped(strong).mean() >= 0.7, f"strong agglomeration tipped only {tipped(strong).mean():.0%}"
    assert tipped(weak).mean() <= 0.1, f"weak agglomeration tipped {tipped(weak).mean():.0%}"
    # and which city wins is chance, not built in
    assert 0 < (strong > 0.5).sum() < len(strong)


def test_raising_a_citys_own_reward_raises_its_share():
    budgets = {"policy": {"annual_budget": 1e9}}
    low = shares_by_seed({"east": budgets, "west": budgets}, SEEDS)
    high = shares_by_seed({"east": {"policy": {"annual_budget": 1e9, "reward_rate": 0.3}}, "west": budgets}, SEEDS)
    assert (high - low).mean() > 0.03


def test_reactive_cities_fall_into_a_subsidy_war():
    reactive = {"strategy": {"kind": "reactive"}}
    rates = [run(make_params({"east": reactive, "west": reactive}, seed=s, steps=48)).summary()["final_reward_rate"]
             for s in range(6)]
    escalated = [min(r.values()) >= 0.14 for r in rates]  # both at least two steps above the 10 % start
    assert np.mean(escalated) >= 0.8, rates
    fixed = run(make_params(EVEN, seed=0, steps=48)).summary()["final_reward_rate"]
    assert fixed == {"east": 0.1, "west": 0.1}


def test_imitating_city_moves_toward_the_leaders_policy():
    params = make_params({"east": {"policy": {"reward_rate": 0.4, "annual_budget": 1e9}},
                          "west": {"policy": {"reward_rate": 0.0}, "strategy": {"kind": "imitate"}}},
                         seed=2, steps=36)
    final = run(params).summary()["final_reward_rate"]
    assert 0.2 < final["west"] <= 0.4

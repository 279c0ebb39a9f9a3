"""Invariants checked after every step, on fixed and on random valid configurations."""

import gc

import numpy as np
import weakref

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ContestModel, Firm
from sim.params import from_dict, RunParams

from conftest import make_params

COUNT_COLUMNS = ["firms", "productions", "entered", "exited", "moved_in", "moved_out"]


def check_invariants(model: ContestModel) -> None:
    """Everything that must hold after any step."""
    table = model.city_table()
    now = table[table.step == model.steps]
    # Undefined by design: cost per job below one job; talent and studios of the rest of the country.
    numeric = now.drop(columns=["date", "city", "is_capital", "cost_per_job", "cost_per_job_created"])
    cities = numeric[now.city != "rest"]
    assert not cities.isna().any().any(), "NaN in the city table"
    assert not numeric.drop(columns=["talent", "capacity"]).isna().any().any(), "NaN in the city table"
    assert np.isfinite(numeric.drop(columns=["talent", "capacity"]).to_numpy(dtype=float)).all(), "inf in the city table"
    assert (now[COUNT_COLUMNS] >= 0).all().all(), "negative count"
    assert (now.budget_left >= 0).all(), "budget below zero"
    assert (cities[["employment", "talent", "capacity", "wage", "rent", "subsidy_paid"]] >= 0).all().all()
    assert (model.funds.paid <= model.funds.released * (1 + 1e-12) + 1e-6).all(), "paid more than the fund released"
    if now.productions.sum() > 0:
        assert abs(now.share.sum() - 1.0) < 1e-9, "shares do not sum to 1"
    else:
        assert (now.share == 0).all()
    # firms conserved: start + entered - exited = now, in the totals, the table and the Mesa agents
    assert model.firms_at_start + model.entered_total - model.exited_total == model.n_firms
    assert table.entered.sum() - table.exited.sum() == model.n_firms - model.firms_at_start
    assert now.firms.sum() == model.n_firms == len(model.agents_by_type.get(Firm, []))
    assert now.moved_in.sum() == now.moved_out.sum()
    # a city never pays more in a budget period than that period's fund
    start_year = int(model.params.start[:4])
    for c in model.scenario_params.cities:
        if c.strategy.kind.value != "fixed":
            continue  # strategies may grow the budget; the release check above still holds
        rows = table[table.city == c.id]
        period = (rows.date.dt.year - start_year) // c.policy.budget_period_years
        fund = c.policy.annual_budget * c.policy.budget_period_years
        paid = rows.subsidy_paid + rows.aigc_spent  # the fund pays rewards and AIGC support alike
        assert (paid.groupby(period).sum() <= fund * (1 + 1e-9) + 1e-6).all(), c.id


def test_invariants_every_step_default_cities():
    model = ContestModel(make_params(steps=30))
    for _ in range(30):
        model.step()
        check_invariants(model)


city_strategy = st.fixed_dictionaries({
    "firms": st.integers(0, 60),
    "wage": st.floats(3000, 20000),
    "rent": st.floats(0, 200_000),
    "studio_capacity": st.floats(0, 150),
    "talent": st.floats(0, 5000),
    "culture": st.floats(0, 1), "ecommerce": st.floats(0, 1), "approval": st.floats(0, 1),
    "policy": st.fixed_dictionaries({
        "reward_rate": st.floats(0, 1),
        "reward_cap": st.floats(0, 5e6),
        "stacking": st.sampled_from(["stack", "largest"]),
        "min_investment": st.floats(0, 2e6),
        "award_bonus": st.floats(0, 1),
        "eligible_share": st.floats(0, 1),
        "culture_rate": st.floats(0, 1),
        "culture_cap": st.floats(0, 5e5),
        "aigc_support": st.floats(0, 0.5),
        "annual_budget": st.floats(0, 2e8),
        "budget_period_years": st.integers(1, 3),
        "talent_programme": st.floats(0, 2e7),
        "studio_investment": st.floats(0, 2e7),
        "studio_lag_months": st.integers(1, 12),
    }),
    "strategy": st.fixed_dictionaries({
        "kind": st.sampled_from(["fixed", "reactive", "imitate", "objective"]),
        "review_months": st.integers(1, 6),
        "levers": st.sampled_from(["reward_rate", "reward_rate,annual_budget", "aigc_support,talent_programme,culture_rate"]),
    }),
})


def within_strategy_bounds(city: dict) -> dict:
    """A drawn city made valid: a city with a strategy announces rates its strategy can hold
    (sim.params.strategy_rate_bounds), as every scenario must."""
    from sim.params import StrategyParams, from_dict as params_from_dict, strategy_rate_bounds

    strategy = params_from_dict(StrategyParams, city["strategy"])
    policy = dict(city["policy"])
    for lever in ("reward_rate", "culture_rate"):
        bounds = strategy_rate_bounds(strategy, lever)
        if bounds is not None:
            policy[lever] = min(max(policy[lever], bounds[0]), bounds[1])
    return {**city, "policy": policy}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cities=st.lists(city_strategy, min_size=1, max_size=4),
    agglomeration=st.floats(0, 1.5),
    reconsider=st.floats(0, 1),
    coverage=st.floats(0, 1),
    outside=st.integers(0, 80),
    seed=st.integers(0, 2**32),
)
def test_invariants_hold_for_random_valid_configs(cities, agglomeration, reconsider, coverage, outside, seed):
    data = {
        "scenario": {
            "name": "random",
            "cities": {f"c{i}": within_strategy_bounds(c) for i, c in enumerate(cities)},
            "market": {"coverage": coverage},
            "outside": {"enabled": outside > 0, "firms": outside},
            "behaviour": {"agglomeration": agglomeration, "reconsider_rate": reconsider},
        },
        "steps": 14, "seed": seed,
    }
    model = ContestModel(from_dict(RunParams, data))
    for _ in range(14):
        model.step()
        check_invariants(model)


def test_model_is_garbage_collected():
    model = ContestModel(make_params(steps=3)).run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None

"""Each mechanism alone: subsidies, budgets, choice, congestion, investment, market."""

import numpy as np
import pytest

from sim import economics, market
from sim.choice import logit_choice, logit_probabilities
from sim.params import BehaviourParams, MarketParams, PolicyParams, Stacking
from sim.subsidy import PolicyArrays, claim_per_production, ration

from conftest import make_params, run

PLAIN, AWARD, CULTURE, BOTH = range(4)


def policy(**kw) -> PolicyArrays:
    return PolicyArrays.from_params([PolicyParams(**kw)])


def claims(cost, **kw):
    cost = np.atleast_1d(np.asarray(cost, dtype=float))
    return claim_per_production(cost, np.zeros(len(cost), dtype=int), policy(**kw))


# ----------------------------------------------------------------- subsidy rules

def test_reward_is_rate_times_cost_until_the_cap_binds():
    c = claims([1e6, 5e6, 50e6], reward_rate=0.2, reward_cap=3e6)
    assert c[:, PLAIN] == pytest.approx([0.2e6, 1.0e6, 3e6])  # 0.2 x 50 M = 10 M, capped at 3 M


def test_stacking_adds_instruments_and_largest_pays_only_the_biggest():
    kw = dict(reward_rate=0.1, reward_cap=10e6, culture_bonus=300e3, award_bonus=0.2)
    stacked = claims([1e6], stacking=Stacking.stack, **kw)[0]
    largest = claims([1e6], stacking=Stacking.largest, **kw)[0]
    # reward 100 k (120 k with the award), culture 300 k
    assert stacked[PLAIN] == pytest.approx(100e3)
    assert stacked[AWARD] == pytest.approx(120e3)
    assert stacked[BOTH] == pytest.approx(120e3 + 300e3)
    assert largest[PLAIN] == pytest.approx(100e3)
    assert largest[AWARD] == pytest.approx(120e3)
    assert largest[BOTH] == pytest.approx(300e3)
    assert np.all(stacked >= largest)


def test_aigc_support_lowers_firm_costs_and_the_city_pays_the_difference():
    wage, rent, crew = np.array([9e3]), np.array([60e3]), np.array([30.0])
    full = economics.monthly_cost(wage, rent, crew, 1.0, 50e3)
    supported = economics.monthly_cost(wage, rent, crew, 1.0, 50e3, 0.2)
    assert full - supported == pytest.approx(0.2 * (9e3 * 30 + 60e3))
    params = make_params({"east": {"policy": {"aigc_support": 0.2}}, "west": {}}, steps=6)
    table = run(params).city_table()
    east, west = (table[table.city == c] for c in ("east", "west"))
    assert (east.aigc_spent > 0).all() and (west.aigc_spent == 0).all()
    assert east.outlay_total.iloc[-1] == pytest.approx(east.subsidy_paid.sum() + east.aigc_spent.sum())


def test_cap_applies_to_stacked_total():
    c = claims([1e6], reward_rate=0.5, reward_cap=600e3, culture_bonus=300e3)[0]
    assert c[CULTURE] == pytest.approx(600e3)  # 500 k + 300 k capped


def test_investment_threshold_gates_the_reward_only():
    c = claims([4.9e6, 5.0e6, 6e6], reward_rate=0.04, reward_cap=200e3, min_investment=5e6, culture_bonus=10e3)
    assert c[:, PLAIN] == pytest.approx([0.0, 200e3, 200e3])
    assert c[0, CULTURE] == pytest.approx(10e3)  # the culture bonus does not need the threshold


def test_ration_pays_pro_rata_and_never_more_than_the_budget():
    ratio = ration(np.array([100.0, 100.0, 0.0, 50.0]), np.array([50.0, 500.0, 10.0, 0.0]))
    assert ratio == pytest.approx([0.5, 1.0, 1.0, 0.0])


# ----------------------------------------------------------------- budgets in the model

def test_payouts_stop_when_the_budget_is_spent_and_resume_next_year():
    params = make_params({"east": {"policy": {"annual_budget": 20e6}}, "west": {}}, steps=15)
    table = run(params).city_table()
    east = table[table.city == "east"].set_index("step")
    assert (east.budget_left >= 0).all()
    spent_out = east.index[east.budget_left == 0]
    assert len(spent_out) and spent_out.min() < 12, "a 20 M budget should run out within the year"
    assert (east.loc[spent_out.min() + 1 : 12, "subsidy_paid"] == 0).all()
    assert east.loc[13, "subsidy_paid"] > 0  # January 2025 refills the budget
    assert east.loc[1:12, "subsidy_paid"].sum() == pytest.approx(20e6)


def test_multi_year_fund_refills_only_at_the_period_start():
    params = make_params({"east": {"policy": {"annual_budget": 5e6, "budget_period_years": 3}}, "west": {}},
                         steps=40)
    east = run(params).city_table().query("city == 'east'").set_index("step")
    assert east.loc[1:36, "subsidy_paid"].sum() == pytest.approx(15e6)  # one 3-year fund of 3 x 5 M
    assert east.loc[37, "subsidy_paid"] > 0


def test_zero_budget_pays_nothing():
    params = make_params({"east": {"policy": {"annual_budget": 0.0}}, "west": {}}, steps=24)
    table = run(params).city_table()
    assert table.loc[table.city == "east", "subsidy_paid"].sum() == 0.0
    assert table.loc[table.city == "west", "subsidy_paid"].sum() > 0.0


# ----------------------------------------------------------------- choice

def test_logit_choice_frequencies_match_logit_probabilities():
    rng = np.random.default_rng(0)
    utility = np.tile(np.array([[0.0, 1.0, -0.5]]), (200_000, 1))
    chosen = logit_choice(utility, 0.7, rng)
    freq = np.bincount(chosen, minlength=3) / len(chosen)
    assert freq == pytest.approx(logit_probabilities(utility[:1], 0.7)[0], abs=0.005)


def test_higher_moving_cost_means_fewer_moves():
    def moves(cost):
        return sum(run(make_params(seed=s, steps=24, behaviour={"moving_cost": cost})).moved_total
                   for s in range(3))
    assert moves(5e6) < moves(5e4) * 0.5


# ----------------------------------------------------------------- congestion and agglomeration

def test_full_studio_raises_rent():
    b = BehaviourParams()
    rent = economics.rent_level(np.array([60e3, 60e3]), np.array([40.0, 100.0]), np.array([100.0, 100.0]), b)
    assert rent[1] > rent[0]
    crowded = make_params({"east": {"studio_capacity": 40.0}, "west": {}}, steps=3,
                          behaviour={"studio_supply_rate": 0.0})
    last = run(crowded).city_table().query("step == 3").set_index("city")
    assert last.loc["east", "rent"] > last.loc["west", "rent"]


def test_short_talent_pool_raises_wages():
    b = BehaviourParams()
    wage = economics.wage_level(np.array([9e3, 9e3]), np.array([3000.0, 3000.0]), np.array([6000.0, 1500.0]), b)
    assert wage[0] == pytest.approx(9e3) and wage[1] > 9e3
    short = make_params({"east": {"talent": 600.0}, "west": {}}, steps=3, behaviour={"talent_migration": 0.0})
    last = run(short).city_table().query("step == 3").set_index("city")
    assert last.loc["east", "wage"] > last.loc["west", "wage"] == pytest.approx(9000.0)


def test_rationing_shares_studios_and_crews():
    util = economics.utilisation(np.array([10.0, 10.0, 10.0]), np.array([300.0, 300.0, 300.0]),
                                 np.array([20.0, 5.0, 10.0]), np.array([1e6, 1e6, 150.0]))
    assert util == pytest.approx([1.0, 0.5, 0.5])


def test_agglomeration_raises_productivity_with_cluster_size():
    b = BehaviourParams(agglomeration=0.3, cluster_ref=100.0)
    prod = economics.productivity(np.array([10.0, 100.0, 1000.0]), np.zeros(3), b)
    assert prod[0] < prod[1] < prod[2]
    assert prod[1] == pytest.approx(1.0)
    flat = economics.productivity(np.array([10.0, 1000.0]), np.zeros(2), BehaviourParams(agglomeration=0.0))
    assert flat[0] == flat[1]


def test_studio_investment_adds_capacity_only_after_its_lag():
    lag = 6
    params = make_params({"east": {"policy": {"studio_investment": 24e6, "studio_cost_per_team": 2e6,
                                              "studio_lag_months": lag}}, "west": {}},
                         steps=lag + 3, behaviour={"studio_supply_rate": 0.0})
    east = run(params).city_table().query("city == 'east'").set_index("step")
    assert (east.loc[1:lag, "capacity"] == 90.0).all()  # nothing usable before the lag
    assert east.loc[lag + 1, "capacity"] == pytest.approx(91.0)  # 2 M a month / 2 M a team
    assert east.loc[lag + 3, "capacity"] == pytest.approx(93.0)
    assert east.loc[lag + 3, "outlay_total"] == pytest.approx((lag + 3) * 2e6 + east.subsidy_paid.sum())


def test_talent_programme_grows_the_pool():
    params = make_params({"east": {"policy": {"talent_programme": 12e6}}, "west": {}}, steps=6,
                         behaviour={"talent_attrition": 0.0, "talent_migration": 0.0})
    last = run(params).city_table().query("step == 6").set_index("city")
    assert last.loc["east", "talent"] == pytest.approx(2400.0 + 6 * 1e6 / 20e3)
    assert last.loc["west", "talent"] == pytest.approx(2400.0)


# ----------------------------------------------------------------- market

def test_market_follows_the_published_figures_then_grows():
    m = MarketParams()
    assert market.annual_revenue(m, 2024) == 50.4e9
    assert market.annual_revenue(m, 2025) == 63.43e9
    assert market.annual_revenue(m, 2027) == pytest.approx(63.43e9 * 1.256**2)
    assert market.annual_revenue(m, 2027) == pytest.approx(100e9, rel=0.01)  # seed 000: 千亿 by 2027


def test_revenue_paid_equals_the_producer_pool_when_anything_is_produced():
    params = make_params(steps=14)
    table = run(params).city_table()
    pool_2024 = market.producer_pool(params.scenario.market, 2024)
    pool_2025 = market.producer_pool(params.scenario.market, 2025)
    by_step = table.groupby("step").revenue.sum()
    assert by_step.loc[1:12].to_numpy() == pytest.approx(np.full(12, pool_2024))
    assert by_step.loc[13:14].to_numpy() == pytest.approx(np.full(2, pool_2025))


def test_capital_needs_a_full_window_then_holds_the_threshold():
    from sim.metrics import CapitalTracker

    tracker = CapitalTracker(["a", "b"], threshold=0.6, window=3)
    tracker.update(1, [10, 0])
    tracker.update(2, [10, 0])
    assert tracker.current is None  # two months of record are not a 3-month window
    tracker.update(3, [10, 0])
    assert (tracker.current, tracker.since) == ("a", 3)
    tracker.update(4, [0, 10])
    tracker.update(5, [0, 10])  # b holds 2/3 of the window from month 5
    assert (tracker.current, tracker.since) == ("b", 5)
    trailing = tracker.update(6, [5, 5])
    assert trailing == pytest.approx([5 / 30, 25 / 30]) and tracker.current == "b" and tracker.since == 5

"""Each mechanism alone: claims, funds, payout outlook, choice, congestion, investment, market, capital test."""

import numpy as np
import pytest

from sim import economics, market
from sim.choice import logit_choice, logit_probabilities
from sim.metrics import CapitalTracker
from sim.params import BehaviourParams, MarketParams, PolicyParams, Stacking
from sim.policy import (Funds, PolicyArrays, category_claims, expected_claim, payout_outlook, ration,
                        review_productions)

from conftest import make_params, run

PLAIN, AWARD, CULTURE, BOTH = range(4)


def policy(**kw) -> PolicyArrays:
    return PolicyArrays.from_params([PolicyParams(**kw)])


def claims(cost, **kw):
    cost = np.atleast_1d(np.asarray(cost, dtype=float))
    return np.stack(category_claims(cost, np.zeros(len(cost), dtype=int), policy(**kw)), axis=1)


# ----------------------------------------------------------------- what a production may claim

def test_reward_is_rate_times_cost_until_the_cap_binds():
    c = claims([1e6, 5e6, 50e6], reward_rate=0.2, reward_cap=3e6)
    assert c[:, PLAIN] == pytest.approx([0.2e6, 1.0e6, 3e6])  # 0.2 x 50 M = 10 M, capped at 3 M


def test_culture_bonus_is_a_share_of_cost_up_to_its_cap():
    c = claims([1e6, 5e6], reward_rate=0.0, culture_rate=0.1, culture_cap=300e3, reward_cap=3e6)
    assert c[:, CULTURE] == pytest.approx([100e3, 300e3])  # "up to 300,000 yuan", not a flat 300 k
    assert c[:, PLAIN] == pytest.approx([0.0, 0.0])


def test_stacking_adds_instruments_and_largest_pays_only_the_biggest():
    kw = dict(reward_rate=0.1, reward_cap=10e6, culture_rate=0.3, culture_cap=300e3, award_bonus=0.2)
    stacked = claims([1e6], stacking=Stacking.stack, **kw)[0]
    largest = claims([1e6], stacking=Stacking.largest, **kw)[0]
    # reward 100 k (120 k with the award), culture 300 k (30 % of 1 M, at its cap)
    assert stacked == pytest.approx([100e3, 120e3, 400e3, 420e3])
    assert largest == pytest.approx([100e3, 120e3, 300e3, 300e3])


def test_cap_applies_to_all_rewards_together():
    c = claims([1e6], reward_rate=0.5, reward_cap=600e3, culture_rate=0.3, culture_cap=1e6)[0]
    assert c[CULTURE] == pytest.approx(600e3)  # 500 k + 300 k capped


def test_investment_threshold_gates_every_reward():
    c = claims([4.9e6, 5.0e6, 6e6], reward_rate=0.04, reward_cap=200e3, min_investment=5e6,
               culture_rate=0.1, culture_cap=10e3)
    assert c[:, PLAIN] == pytest.approx([0.0, 200e3, 200e3])  # S7: up to 200 k over 5 M
    assert c[0, CULTURE] == 0.0


def test_expected_claim_counts_the_review_pass_rate_and_the_category_mix():
    pol = policy(reward_rate=0.1, reward_cap=3e6, eligible_share=0.25, award_bonus=1.0)
    got = expected_claim(np.array([1e6]), np.array([0]), np.array([0.5]), np.array([0.0]), pol)
    assert got == pytest.approx([0.25 * (0.5 * 100e3 + 0.5 * 200e3)])


def test_places_that_stack_and_places_that_do_not_price_claims_side_by_side():
    kw = dict(reward_rate=0.1, reward_cap=10e6, culture_rate=0.3, culture_cap=300e3, award_bonus=0.2)
    pol = PolicyArrays.from_params([PolicyParams(stacking=Stacking.stack, **kw),
                                    PolicyParams(stacking=Stacking.largest, **kw)])
    both = np.stack(category_claims(np.array([[1e6, 1e6]]), slice(None), pol), axis=-1)[0]  # (places, categories)
    assert both[0] == pytest.approx([100e3, 120e3, 400e3, 420e3])
    assert both[1] == pytest.approx([100e3, 120e3, 300e3, 300e3])


def test_reviewed_productions_claim_what_the_expected_claim_promises_on_average():
    pol = policy(reward_rate=0.1, reward_cap=3e6, eligible_share=0.3, award_bonus=1.0, culture_rate=0.2,
                 culture_cap=150e3)
    n = 20_000
    productions = np.random.default_rng(0).poisson(1.5, n)
    cost, place = np.full(n, 1e6), np.zeros(n, dtype=int)
    p_award, p_culture = np.full(n, 0.2), np.full(n, 0.4)
    claims, culture = review_productions(productions, cost, place, p_award, p_culture, pol, np.random.default_rng(1))
    promised = expected_claim(cost, place, p_award, p_culture, pol) * productions
    assert claims.sum() == pytest.approx(promised.sum(), rel=0.03)
    assert culture.sum() == pytest.approx(0.4 * productions.sum(), rel=0.03)
    assert np.all(culture <= productions) and np.all(claims[productions == 0] == 0.0)


def test_ration_pays_pro_rata_and_never_more_than_the_money_on_hand():
    ratio = ration(np.array([100.0, 100.0, 0.0, 50.0]), np.array([50.0, 500.0, 10.0, 0.0]))
    assert ratio == pytest.approx([0.5, 1.0, 1.0, 0.0])


# ----------------------------------------------------------------- funds

def _funds_run(budget, years, claims_per_month, months, start_month=1):
    pol = policy(annual_budget=budget, budget_period_years=years)
    funds, paid = Funds.empty(1), []
    for m in range(months):
        month = (start_month - 1 + m) % 12 + 1
        year_offset = (start_month - 1 + m) // 12
        funds.open_and_release(pol, m, year_offset, month)
        ratio = funds.pay(np.array([claims_per_month]))
        paid.append(float(claims_per_month * ratio[0]))
    return np.array(paid), funds, pol


def test_a_fund_is_released_by_month_and_never_spent_in_its_first_month():
    paid, _, _ = _funds_run(12e6, 1, 5e6, 24)
    assert paid[0] == pytest.approx(1e6)  # one month's release, however large the claims
    assert paid[:12].sum() == pytest.approx(12e6) and paid[12:].sum() == pytest.approx(12e6)
    assert (np.cumsum(paid[:12]) <= np.arange(1, 13) * 1e6 + 1e-6).all()


def test_unclaimed_money_carries_over_within_the_period_and_lapses_at_its_end():
    pol = policy(annual_budget=12e6)
    funds = Funds.empty(1)
    for m in range(6):  # six quiet months: 6 M on hand
        funds.open_and_release(pol, m, 0, m + 1)
        funds.pay(np.array([0.0]))
    assert funds.on_hand == pytest.approx([6e6]) and funds.budget_left(pol) == pytest.approx([12e6])
    funds.open_and_release(pol, 12, 1, 1)  # January: a new period opens with one month's release only
    assert funds.on_hand == pytest.approx([1e6])  # the 6 M left over lapsed


def test_multi_year_fund_opens_only_at_its_period_start():
    paid, _, _ = _funds_run(5e6, 3, 1e6, 40)
    assert paid[:36].sum() == pytest.approx(15e6)  # one 3-year fund of 3 x 5 M
    assert paid[36] > 0


def test_payout_outlook_is_the_funds_monthly_means_over_the_claims_its_rules_draw():
    pol = PolicyArrays.from_params([PolicyParams(annual_budget=12e6), PolicyParams(annual_budget=12e6),
                                    PolicyParams(annual_budget=0.0)])
    funds = Funds.empty(3)
    funds.open_and_release(pol, 0, 0, 1)
    expected = np.array([0.5e6, 4e6, 1e6])
    funds.pay(expected)  # the model forms the outlook after the month's claims are paid
    outlook = payout_outlook(funds, pol, expected)
    assert outlook == pytest.approx([1.0, 0.25, 0.0])


def test_zero_budget_or_zero_cap_pays_nothing():
    for city in ({"policy": {"annual_budget": 0.0}}, {"policy": {"reward_cap": 0.0}}):
        table = run(make_params({"east": city, "west": {}}, steps=24)).city_table()
        assert table.loc[table.city == "east", "subsidy_paid"].sum() == 0.0
        assert table.loc[table.city == "west", "subsidy_paid"].sum() > 0.0


def test_yearly_payouts_never_exceed_the_fund_in_the_model():
    params = make_params({"east": {"policy": {"annual_budget": 5e6, "reward_rate": 0.5}}, "west": {}}, steps=36)
    east = run(params).city_table().query("city == 'east'")
    yearly = east.groupby(east.date.dt.year).subsidy_paid.sum()
    assert (yearly <= 5e6 + 1e-3).all() and yearly.iloc[0] > 0
    assert east.subsidy_paid.iloc[0] <= 5e6 / 12 + 1e-6


# ----------------------------------------------------------------- choice and moves

def test_logit_choice_frequencies_match_logit_probabilities():
    rng = np.random.default_rng(0)
    utility = np.tile(np.array([[0.0, 1.0, -0.5]]), (200_000, 1))
    chosen = logit_choice(utility, 0.7, rng)
    freq = np.bincount(chosen, minlength=3) / len(chosen)
    assert freq == pytest.approx(logit_probabilities(utility[:1], 0.7)[0], abs=0.005)


def test_moving_costs_grow_with_distance():
    lon, lat = np.array([108.94, 113.63, 121.47]), np.array([34.34, 34.75, 31.23])  # Xi'an, Zhengzhou, Shanghai
    d = economics.distances_km(lon, lat)
    assert d[0, 1] == pytest.approx(430, rel=0.1) and d[0, 2] > d[0, 1]
    cost = economics.moving_costs(d, BehaviourParams(moving_cost=1e6, moving_cost_per_km=1000.0))
    assert cost[0, 0] == 0.0 and cost[0, 2] > cost[0, 1] > 1e6


def test_higher_moving_cost_means_fewer_moves():
    def moves(cost):
        return sum(run(make_params(seed=s, steps=24, behaviour={"moving_cost": cost})).moved_total for s in range(3))
    assert moves(5e6) < moves(5e4) * 0.5


# ----------------------------------------------------------------- congestion and agglomeration

def test_full_studios_raise_rent():
    b = BehaviourParams()
    rent = economics.rent_level(np.array([60e3, 60e3]), np.array([40.0, 100.0]), np.array([100.0, 100.0]), b)
    assert rent[1] > rent[0]
    crowded = make_params({"east": {"studio_capacity": 40.0}, "west": {}}, steps=3)
    last = run(crowded).city_table().query("step == 3").set_index("city")
    assert last.loc["east", "rent"] > last.loc["west", "rent"]


def test_demand_beyond_the_endowed_pool_raises_wages():
    b = BehaviourParams()
    wage = economics.wage_level(np.array([9e3, 9e3]), np.array([3000.0, 3000.0]), np.array([3000.0, 1500.0]), b)
    assert wage[0] == pytest.approx(9e3) and wage[1] == pytest.approx(9e3 * 2**b.wage_elasticity)
    low = economics.wage_level(np.array([9e3]), np.array([100.0]), np.array([3000.0]), b)
    assert low == pytest.approx(9e3 * economics.WAGE_FLOOR**b.wage_elasticity)  # a shrinking city cannot cut pay far


def test_rationing_shares_studios_and_crews():
    util = economics.utilisation(np.array([10.0, 10.0, 10.0]), np.array([300.0, 300.0, 300.0]),
                                 np.array([20.0, 5.0, 10.0]), np.array([1e6, 1e6, 150.0]))
    assert util == pytest.approx([1.0, 0.5, 0.5])


def test_agglomeration_raises_productivity_with_cluster_size_from_a_local_base():
    b = BehaviourParams(agglomeration=0.3, cluster_ref=100.0)
    prod = economics.productivity(np.array([0.0, 100.0, 1000.0]), np.zeros(3), b)
    assert prod[0] < prod[1] < prod[2]
    assert prod[1] == pytest.approx(1.0) and prod[0] == pytest.approx(0.5**0.3)
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


def test_founders_are_born_where_the_industry_s_people_are():
    """Would-be entrants are founded in proportion to crews at work plus idle trained crews; the rest of the country,
    which has no pool of its own, counts outside_idle idle crew members per crew member at work."""
    crew = np.array([900.0, 300.0, 600.0])
    talent = np.array([1000.0, 200.0, np.inf])  # the second city has more work than people: no idle crews
    outside = np.array([False, False, True])
    w = economics.founders_weights(crew, talent, outside, outside_idle=0.5)
    people = np.array([900.0 + 100.0, 300.0, 600.0 * 1.5])
    np.testing.assert_allclose(w, people / people.sum())
    assert economics.founders_weights(np.zeros(2), np.zeros(2), np.array([False, True]), 0.1).tolist() == [0.5, 0.5]


def test_home_pull_adds_to_the_home_place_only():
    profit = np.zeros((2, 3))
    u = economics.location_utility(profit, 36.0, 0.0, np.zeros(3), home=np.array([2, 0]), home_pull=3.0)
    assert u.tolist() == [[0.0, 0.0, 3.0], [3.0, 0.0, 0.0]]


def test_entry_compares_money_with_the_outside_option():
    """Even odds at a profit that just repays the hurdle over the horizon; more profit, more entry."""
    p = economics.entry_probability(np.array([0.0, 1e5, 2e5, 1e9]), 10.0, 1e6, 0.5)
    assert p[1] == pytest.approx(0.5)
    assert p[0] < p[1] < p[2] < p[3] == pytest.approx(1.0)


# ----------------------------------------------------------------- market

def test_market_follows_the_published_figures_then_grows_toward_a_ceiling():
    m = MarketParams()
    assert market.annual_revenue(m, 2024) == 50.4e9
    assert market.annual_revenue(m, 2025) == 63.43e9
    assert market.annual_revenue(m, 2026) == pytest.approx(63.43e9 * 1.256)
    assert market.annual_revenue(m, 2027) == pytest.approx(100e9, rel=0.05)  # S1: 千亿 by 2027
    growth = [market.annual_revenue(m, y + 1) / market.annual_revenue(m, y) - 1 for y in range(2025, 2040)]
    assert all(a > b for a, b in zip(growth, growth[1:]))  # growth slows every year
    assert market.annual_revenue(m, 2124) <= m.saturation


def test_hit_factors_average_one_and_vary_less_with_more_productions():
    rng = np.random.default_rng(1)
    one = market.hit_factors(np.ones(200_000, dtype=int), 0.6, rng)
    many = market.hit_factors(np.full(200_000, 8), 0.6, rng)
    assert one.mean() == pytest.approx(1.0, abs=0.01) and many.mean() == pytest.approx(1.0, abs=0.01)
    assert many.std() < one.std() / 2


def test_revenue_paid_equals_the_producer_pool_when_anything_is_produced():
    params = make_params(steps=14)
    table = run(params).city_table()
    m = params.scenario.market
    pools = [market.producer_pool(m, 2024, month) for month in range(1, 13)] + \
            [market.producer_pool(m, 2025, month) for month in (1, 2)]
    by_step = table.groupby("step").revenue.sum()
    assert by_step.to_numpy() == pytest.approx(np.array(pools))
    # The months grow smoothly and sum to the year's published total.
    assert sum(pools[:12]) == pytest.approx(m.revenue_2024 * m.producer_share * m.coverage)
    assert all(a < b for a, b in zip(pools, pools[1:]))
    assert pools[12] / pools[11] == pytest.approx((m.revenue_2025 / m.revenue_2024) ** (1 / 12), rel=0.02)


# ----------------------------------------------------------------- capital

def test_capital_needs_a_full_window_then_holds_the_threshold():
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


def test_the_rest_of_the_country_counts_in_shares_but_is_never_the_capital():
    tracker = CapitalTracker(["a", "rest"], threshold=0.5, window=1, eligible=np.array([True, False]))
    trailing = tracker.update(1, [30, 70])
    assert trailing == pytest.approx([0.3, 0.7]) and tracker.current is None
    tracker.update(2, [60, 40])
    assert tracker.current == "a"

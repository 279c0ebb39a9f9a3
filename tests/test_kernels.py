"""Each compiled kernel of the fast path (sim/ensemble/kernels.py) against the reference's formulas, on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim import economics
from sim.economics import FirmKinds, Places
from sim.choice import choose_with
from sim.ensemble import kernels
from sim.market import hit_factors
from sim.policy import PolicyArrays, expected_claim, review_with

R, L, N = 3, 4, 400


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(7)
    P = R * L
    pol = PolicyArrays(
        reward_rate=rng.uniform(0, 0.4, P), reward_cap=rng.uniform(1e5, 3e6, P), stack=rng.random(P) < 0.5,
        min_investment=rng.choice([0.0, 5e5], P), eligible_share=rng.uniform(0, 0.5, P),
        award_bonus=rng.uniform(0, 0.5, P), culture_rate=rng.uniform(0, 0.2, P), culture_cap=rng.uniform(0, 3e5, P),
        aigc_support=rng.uniform(0, 0.3, P), annual_budget=np.full(P, 5e7), budget_period_years=np.ones(P),
        talent_programme=np.zeros(P), studio_investment=np.zeros(P), studio_cost_per_team=np.full(P, 2e6),
        studio_lag_months=np.full(P, 12.0))
    pol.reward_rate[L - 1::L] = 0.0  # a place without rewards in every run
    pol.eligible_share[L - 1::L] = 0.0
    places = Places(wage=rng.uniform(6e3, 1.2e4, P), rent=rng.uniform(3e4, 9e4, P), util=rng.uniform(0.3, 1, P),
                    productivity=rng.uniform(0.8, 1.3, P), revenue_uplift=rng.uniform(1, 1.2, P),
                    outlook=rng.uniform(0, 1, P), pull=rng.normal(0, 0.3, P), p_culture=rng.uniform(0, 0.3, P))
    run = np.sort(rng.integers(0, R, N))
    c = run * L + rng.integers(0, L, N)
    kinds = FirmKinds(crew=rng.uniform(5, 60, N), rate=rng.choice([0.4, 0.83], N), spend=rng.uniform(1e5, 4e6, N),
                      weight=rng.uniform(1, 8, N), p_award=rng.uniform(0, 0.1, N))
    return dict(rng=rng, pol=pol, places=places, run=run, c=c, kinds=kinds, overhead=rng.uniform(3e4, 6e4, R),
                rpw=rng.uniform(0.5e6, 2e6, R), pool=rng.uniform(1e9, 3e9, R))


def _policy(pol):
    return (pol.eligible_share, pol.min_investment, pol.reward_rate, pol.award_bonus, pol.reward_cap, pol.culture_rate,
            pol.culture_cap, pol.stack)


@pytest.mark.parametrize("options", [1, 2])
def test_choose_places_is_the_reference_profit_utility_and_logit_choice(world, options):
    """One option (a company reconsidering, its own tier) or two (a would-be entrant weighing both tiers): the
    kernel's place, profit there and option are those of expected_profit -> the better option -> location_utility
    -> choose_with, with the same uniforms."""
    w, pol, v, rng, run = world, world["pol"], world["places"], world["rng"], world["run"]
    k = w["kinds"]
    rate = np.stack([k.rate, rng.choice([0.4, 0.83], N)], axis=1)[:, :options]
    spend = np.stack([k.spend, rng.uniform(1e5, 4e6, N)], axis=1)[:, :options]
    weight = np.stack([k.weight, rng.uniform(1, 8, N)], axis=1)[:, :options]
    p_award = np.stack([k.p_award, rng.uniform(0, 0.1, N)], axis=1)[:, :options]
    origin, home, u = rng.integers(0, L, N), rng.integers(0, L, N), rng.random(N)
    horizon, home_pull, scale = rng.uniform(6, 24, R), rng.uniform(0, 3, R), rng.uniform(0.2, 1.0, R)
    move = rng.uniform(0, 2e6, (R, L, L))
    at = run[:, None] * L + np.arange(L)
    profits = np.stack([economics.expected_profit(FirmKinds(k.crew, rate[:, t], spend[:, t], weight[:, t], p_award[:, t]),
                                                  v, pol, w["rpw"][run][:, None], w["overhead"][run][:, None], at=at)
                        for t in range(options)])
    option = np.zeros((N, L), dtype=int)
    for t in range(1, options):
        option = np.where(profits[t] > profits[option, np.arange(N)[:, None], np.arange(L)], t, option)
    profit = np.take_along_axis(profits, option[None], axis=0)[0]
    utility = economics.location_utility(profit, horizon[run][:, None], move[run, origin], v.pull[at], home,
                                         home_pull[run])
    place = choose_with(utility, scale[run][:, None], u[:, None])
    chosen, profit_there, option_there = kernels.choose_places(
        run, k.crew, rate, spend, weight, p_award, origin, home, u, L, v.util, v.productivity, v.wage, v.rent,
        v.revenue_uplift, v.outlook, v.p_culture, *_policy(pol), pol.aigc_support, w["rpw"], w["overhead"], horizon,
        move, v.pull, home_pull, scale)
    rows = np.arange(N)
    np.testing.assert_array_equal(chosen, place)
    np.testing.assert_allclose(profit_there, profit[rows, place], rtol=1e-10, atol=1e-6)
    np.testing.assert_array_equal(option_there, option[rows, place])
    if options == 2:
        assert 0 < option_there.mean() < 1  # both tiers are chosen somewhere


def test_expected_claims_at_home_are_the_reference_sum(world):
    w, pol, v, k = world, world["pol"], world["places"], world["kinds"]
    c, run = w["c"], w["run"]
    rate = k.rate * v.productivity[c]
    per_production = economics.cost_per_production(v.wage[c], v.rent[c], k.crew, rate, w["overhead"][run], k.spend)
    claim = expected_claim(per_production, c, k.p_award, v.p_culture[c], pol)
    support = economics.aigc_claim(economics.shooting_cost(v.wage[c], v.rent[c], k.crew, v.util[c]), pol.aigc_support[c])
    reference = np.bincount(c, weights=claim * rate * v.util[c] + support, minlength=R * L)
    fast = kernels.expected_claims_at_home(c, k.rate, k.crew, k.spend, k.p_award, v.util, v.productivity, v.wage, v.rent,
                                           w["overhead"], run, v.p_culture, *_policy(pol), pol.aigc_support, R * L)
    np.testing.assert_allclose(fast, reference, rtol=1e-10)


def test_review_claims_are_the_reference_review(world):
    w, pol, k, rng = world, world["pol"], world["kinds"], world["rng"]
    c = w["c"]
    productions = rng.poisson(1.2, N)
    cost = rng.uniform(2e5, 6e6, N)
    maker = np.repeat(np.arange(N), productions)
    u = rng.random((3, len(maker)))
    reference = review_with(u, maker, cost, c, k.p_award, w["places"].p_culture[c], pol)
    fast = kernels.review(productions, c, cost, k.p_award, w["places"].p_culture, u, *_policy(pol))
    for a, b in zip(fast, reference):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_earn_is_the_reference_month_of_money(world):
    w, pol, v, k, rng = world, world["pol"], world["places"], world["kinds"], world["rng"]
    c, run = w["c"], w["run"]
    productions = rng.poisson(1.0, N)
    effective = k.rate * v.productivity[c]
    hits = rng.lognormal(0, 0.5, N)
    revenue, cost, support, per_production, produced = kernels.earn(
        c, run, productions, effective, k.crew, k.spend, k.weight, hits, v.util, v.revenue_uplift, v.wage, v.rent,
        pol.aigc_support, w["overhead"], w["pool"], R)
    attention = productions * k.weight * v.revenue_uplift[c]
    for r in range(R):
        mine = run == r
        np.testing.assert_allclose(revenue[mine], w["pool"][r] * (attention * hits)[mine] / (attention * hits)[mine].sum())
        np.testing.assert_allclose(produced[r], attention[mine].sum())
    shooting = economics.shooting_cost(v.wage[c], v.rent[c], k.crew, v.util[c])
    np.testing.assert_allclose(cost, economics.monthly_cost(shooting, w["overhead"][run], k.spend, productions))
    np.testing.assert_allclose(support, economics.aigc_claim(shooting, pol.aigc_support[c]))
    np.testing.assert_allclose(per_production, economics.cost_per_production(v.wage[c], v.rent[c], k.crew, effective,
                                                                             w["overhead"][run], k.spend))


def test_settle_is_the_reference_accounts():
    rng = np.random.default_rng(3)
    n = 500
    revenue, paid, cost = rng.uniform(0, 1e6, n), rng.uniform(0, 1e5, n), rng.uniform(0, 1.2e6, n)
    capital, trend = rng.uniform(-1e5, 3e6, n), rng.normal(0, 1e5, n)
    streak, patience, hazard, u = rng.integers(0, 8, n), np.full(n, 6.0), np.full(n, 0.2), rng.random(n)
    expected_profit = revenue + paid - cost
    expected_capital = capital + expected_profit
    expected_trend = trend + (expected_profit - trend) / patience
    expected_streak = np.where(expected_trend < 0, streak + 1, 0)
    expected_leaving = ((expected_streak >= patience) & (expected_profit < 0) & (u < hazard)) | (expected_capital < 0)
    profit, leaving = kernels.settle(revenue, paid, cost, capital, trend, streak, patience, hazard, u)
    np.testing.assert_allclose(profit, expected_profit)
    np.testing.assert_allclose(capital, expected_capital)  # updated in place
    np.testing.assert_allclose(trend, expected_trend)
    np.testing.assert_array_equal(streak, expected_streak)
    np.testing.assert_array_equal(leaving, expected_leaving)


@pytest.mark.parametrize("mean", [0.05, 0.6, 3.0, 25.0])
def test_poisson_by_inversion_has_the_poisson_distribution(mean):
    u = np.random.default_rng(11).random(20_000)
    means = np.full(len(u), mean)
    k = kernels.shoot(means, np.exp(-means), u)
    counts = np.bincount(k)
    expected = stats.poisson.pmf(np.arange(len(counts)), mean) * len(u)
    keep = expected > 5
    rest = len(u) - counts[keep].sum()
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum() + (rest - (len(u) - expected[keep].sum())) ** 2 / max(len(u) - expected[keep].sum(), 1e-9)
    assert stats.chi2.sf(chi2, keep.sum()) > 1e-4
    beyond = np.full(3, kernels.INVERSION_LIMIT + 1.0)
    assert (kernels.shoot(beyond, np.exp(-beyond), np.full(3, 0.5)) == -1).all()  # left to NumPy's sampler


def test_hits_follow_the_reference_hit_factors():
    """The ensemble's hits (a log-normal per company with the Fenton-Wilkinson variance of its k works) have the
    reference's mean and spread."""
    productions = np.full(20_000, 3)
    reference = hit_factors(productions, 0.6, np.random.default_rng(1))
    sigma2 = np.log1p(np.expm1(0.6**2) / 3)
    fast = np.exp(np.sqrt(sigma2) * np.random.default_rng(2).standard_normal(20_000) - 0.5 * sigma2)
    assert stats.ks_2samp(reference, fast).pvalue > 1e-3

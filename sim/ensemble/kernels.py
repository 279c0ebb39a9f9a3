"""The fast path's passes over every company, compiled with numba: one loop each instead of dozens of array passes.

Each kernel is the composition of the reference's formulas (sim/economics.py,
sim/policy.py, sim/market.py) for one company at a time, with the random
numbers drawn beforehand from each run's own stream; tests/test_kernels.py
checks every kernel against those formulas on random inputs. Indices: `c`
is a company's global place, `run` its run.

numba compiles each kernel on first use and caches the machine code beside
this file (`cache=True`), so later processes (a sweep's workers) load it.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - numba is a declared dependency
    raise ImportError(f"the fast path (sim.ensemble) needs numba ({err}); reinstall with `make setup`, "
                      "or run with path=reference") from None

# Above this many expected productions a month, inversion is slow and exp(-mean) near underflow; such draws
# (synthetic giants only) are left to NumPy's Poisson sampler (`shoot` marks them -1).
INVERSION_LIMIT = 60.0


@njit(cache=True)
def poisson_inversion(mean: float, p0: float, u: float) -> int:
    """A Poisson(mean) draw from one uniform u, by inversion (Devroye 1986, X.3; p0 = exp(-mean), computed beforehand
    by NumPy's vectorised exp): exact, and fast for the small means of a company's month."""
    p = p0
    total = p
    k = 0
    while u > total and p > 0.0:
        k += 1
        p *= mean / k
        total += p
    return k


@njit(cache=True)
def claim_categories(cost, p, min_investment, reward_rate, award_bonus, reward_cap, culture_rate, culture_cap,
                     stack):
    """`sim.policy.category_claims` for one production of cost `cost` made in place p: (plain, award, culture, both)."""
    qualifies = 1.0 if cost >= min_investment[p] else 0.0
    reward = reward_rate[p] * cost * qualifies
    award = reward * (1.0 + award_bonus[p])
    cap = reward_cap[p]
    culture = min(culture_rate[p] * cost, culture_cap[p]) * qualifies
    if stack[p]:
        culture_claim, both = reward + culture, award + culture
    else:
        culture_claim, both = max(reward, culture), max(award, culture)
    return min(reward, cap), min(award, cap), min(culture_claim, cap), min(both, cap)


@njit(cache=True)
def expected_claim(cost, p, p_award, p_culture, eligible_share, min_investment, reward_rate, award_bonus, reward_cap,
                   culture_rate, culture_cap, stack):
    """`sim.policy.expected_claim` for one production of cost `cost` in place p: review pass rate x category mix."""
    plain, award, local, both = claim_categories(cost, p, min_investment, reward_rate, award_bonus, reward_cap,
                                                 culture_rate, culture_cap, stack)
    mix = plain + p_award * (award - plain)
    mix = mix + p_culture * (local + p_award * (both - local) - mix)
    return eligible_share[p] * mix


@njit(cache=True)
def profit_at(p, r, crew, rate, spend, weight, p_award, util_p, productivity_p, wage_p, rent_p, uplift_p, outlook_p,
              p_culture_p, eligible_share, min_investment, reward_rate, award_bonus, reward_cap, culture_rate,
              culture_cap, stack, aigc_p, rpw_r, overhead_r):
    """`sim.economics.expected_profit` of one chooser of run r in place p, yuan a month."""
    eff = rate * productivity_p[p]
    util = util_p[p]
    wage, rent, outlook = wage_p[p], rent_p[p], outlook_p[p]
    per_production = (wage * crew + rent + overhead_r[r]) / max(eff, 1e-9) + spend
    claim = expected_claim(per_production, p, p_award, p_culture_p[p], eligible_share, min_investment, reward_rate,
                           award_bonus, reward_cap, culture_rate, culture_cap, stack)
    income = rpw_r[r] * weight * uplift_p[p]
    shooting = util * (wage * crew + rent)
    support = shooting * aigc_p[p] * outlook
    return eff * util * (income - spend + claim * outlook) - shooting - overhead_r[r] + support


@njit(cache=True)
def choose_places(run, crew, rate, spend, weight, p_award, origin, home, u, n_places, util_p, productivity_p, wage_p,
                  rent_p, uplift_p, outlook_p, p_culture_p, eligible_share, min_investment, reward_rate, award_bonus,
                  reward_cap, culture_rate, culture_cap, stack, aigc_p, rpw_r, overhead_r, horizon_r, move_cost,
                  pull_p, home_pull_r, scale_r):
    """Each chooser's place by the reference's logit rule, in one pass (no (n, L) arrays).

    Chooser i (of run run[i]) has options t (columns of rate, spend, weight, p_award: its own tier for a company
    that reconsiders; both tiers for a would-be entrant). In each place of its run its profit is that of its
    better option (`economics.expected_profit`; the later option only when strictly better, as the reference's
    premium_pays), its utility `economics.location_utility` with the move from local place origin[i] and the
    home pull at home[i], and the place is drawn as `sim.choice.choose_with` draws it, from the uniform u[i].
    Returns the local place chosen, the expected profit there and the option that gives it.
    """
    n, options = rate.shape
    chosen = np.empty(n, dtype=np.int64)
    profit_there = np.empty(n)
    option_there = np.empty(n, dtype=np.int64)
    utility = np.empty(n_places)
    best = np.empty(n_places)
    best_option = np.empty(n_places, dtype=np.int64)
    for i in range(n):
        r = run[i]
        top = -np.inf
        for j in range(n_places):
            p = r * n_places + j
            value = -np.inf
            pick = 0
            for t in range(options):
                v = profit_at(p, r, crew[i], rate[i, t], spend[i, t], weight[i, t], p_award[i, t], util_p,
                              productivity_p, wage_p, rent_p, uplift_p, outlook_p, p_culture_p, eligible_share,
                              min_investment, reward_rate, award_bonus, reward_cap, culture_rate, culture_cap, stack,
                              aigc_p, rpw_r, overhead_r)
                if t == 0 or v > value:
                    value, pick = v, t
            best[j], best_option[j] = value, pick
            worth = (horizon_r[r] * value - move_cost[r, origin[i], j]) / 1e6 + pull_p[p]
            if j == home[i]:
                worth += home_pull_r[r]
            utility[j] = worth
            top = max(top, worth)
        total = 0.0
        for j in range(n_places):
            total += math.exp((utility[j] - top) * (1.0 / scale_r[r]))
            utility[j] = total  # running totals
        threshold = u[i] * total
        j = 0
        while j < n_places - 1 and utility[j] <= threshold:
            j += 1
        chosen[i], profit_there[i], option_there[i] = j, best[j], best_option[j]
    return chosen, profit_there, option_there


@njit(cache=True)
def shoot(mean, p0, u):
    """Each company's productions this month: Poisson with its `mean` (effective rate x utilisation; p0 =
    exp(-mean)), by inversion from u; -1 where the mean is above INVERSION_LIMIT (left to NumPy)."""
    n = len(mean)
    productions = np.empty(n, dtype=np.int64)
    for i in range(n):
        productions[i] = poisson_inversion(mean[i], p0[i], u[i]) if mean[i] <= INVERSION_LIMIT else -1
    return productions


@njit(cache=True)
def earn(c, run, productions, effective, crew, spend, weight, hits, util_p, uplift_p, wage_p, rent_p, aigc_p,
         overhead_r, pool_r, n_runs):
    """A month's money for every company: attention times its hits and flops (`market.hit_factors`), revenue shared by attention within each run (`market.share_by_attention`), costs
    (`economics.monthly_cost`), AIGC support claimed and cost per production. Also each run's attention before
    hits, on which the revenue per unit of attention is measured."""
    n = len(c)
    attention = np.empty(n)
    revenue = np.zeros(n)
    cost = np.empty(n)
    support = np.empty(n)
    per_production = np.empty(n)
    total = np.zeros(n_runs)
    produced = np.zeros(n_runs)
    for i in range(n):
        p, r, k = c[i], run[i], productions[i]
        w = k * weight[i] * uplift_p[p]
        attention[i] = w * hits[i]
        total[r] += attention[i]
        produced[r] += w
        wage, rent = wage_p[p], rent_p[p]
        shooting = util_p[p] * (wage * crew[i] + rent)
        cost[i] = shooting + overhead_r[r] + spend[i] * k
        support[i] = shooting * aigc_p[p]
        per_production[i] = (wage * crew[i] + rent + overhead_r[r]) / max(effective[i], 1e-9) + spend[i]
    for i in range(n):
        r = run[i]
        if total[r] > 0.0:
            revenue[i] = pool_r[r] * attention[i] / total[r]
    return revenue, cost, support, per_production, produced


@njit(cache=True)
def review(productions, c, per_production, p_award, p_culture_p, u, eligible_share, min_investment, reward_rate,
           award_bonus, reward_cap, culture_rate, culture_cap, stack):
    """`sim.policy.review_with`: each production passes review, wins an award and has a local theme by its own
    uniforms (u[0], u[1], u[2], productions in company order); returns claims and local-culture works per company."""
    n = len(productions)
    claims = np.zeros(n)
    culture_made = np.zeros(n)
    j = 0
    for i in range(n):
        p = c[i]
        for _ in range(productions[i]):
            themed = u[2, j] < p_culture_p[p]
            if themed:
                culture_made[i] += 1.0
            if u[0, j] < eligible_share[p]:
                plain, award, local, both = claim_categories(per_production[i], p, min_investment, reward_rate,
                                                             award_bonus, reward_cap, culture_rate, culture_cap,
                                                             stack)
                if u[1, j] < p_award[i]:
                    claims[i] += both if themed else award
                else:
                    claims[i] += local if themed else plain
            j += 1
    return claims, culture_made


@njit(cache=True)
def settle(revenue, paid, cost, capital, profit_trend, loss_streak, patience, hazard, u):
    """A month's accounts (`ContestModel.settle_accounts`): profit into capital and its trend; returns the profit
    and which companies close (a loss past their patience, by the hazard, or no capital left)."""
    n = len(revenue)
    profit = np.empty(n)
    leaving = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        pi = revenue[i] + paid[i] - cost[i]
        profit[i] = pi
        capital[i] += pi
        profit_trend[i] += (pi - profit_trend[i]) / patience[i]
        loss_streak[i] = loss_streak[i] + 1 if profit_trend[i] < 0.0 else 0
        tired = loss_streak[i] >= patience[i] and pi < 0.0
        leaving[i] = (tired and u[i] < hazard[i]) or capital[i] < 0.0
    return profit, leaving


@njit(cache=True)
def expected_claims_at_home(c, rate, crew, spend, p_award, util_p, productivity_p, wage_p, rent_p, overhead_r, run,
                            p_culture_p, eligible_share, min_investment, reward_rate, award_bonus, reward_cap,
                            culture_rate, culture_cap, stack, aigc_p, n_places):
    """`ContestModel._expected_claims_at_home`: yuan a month each place's rules draw from its companies, expected."""
    out = np.zeros(n_places)
    for i in range(len(c)):
        p = c[i]
        has_claims = eligible_share[p] > 0.0 and (reward_rate[p] > 0.0 or culture_rate[p] > 0.0)
        if not has_claims and aigc_p[p] == 0.0:
            continue  # nothing to claim here
        wage, rent, util = wage_p[p], rent_p[p], util_p[p]
        eff = rate[i] * productivity_p[p]
        value = util * (wage * crew[i] + rent) * aigc_p[p]
        if has_claims:
            per_production = (wage * crew[i] + rent + overhead_r[run[i]]) / max(eff, 1e-9) + spend[i]
            claim = expected_claim(per_production, p, p_award[i], p_culture_p[p], eligible_share, min_investment,
                                   reward_rate, award_bonus, reward_cap, culture_rate, culture_cap, stack)
            value += claim * eff * util
        out[p] += value
    return out

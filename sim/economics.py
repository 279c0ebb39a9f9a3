"""Firm economics: productivity with agglomeration, congestion prices, costs, expected profit and location utility.

Pure functions over arrays; the model calls them once per phase for all
firms (n) or all places (L: the cities, then the rest of the country when
it is modelled). Money is in yuan, utilities in million yuan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import BehaviourParams
from sim.policy import PolicyArrays, expected_claim

# Floors on the pressure behind prices (assumption): demand counts as no less than 80 % of a city's pool and
# occupancy as no less than half the reference, so a shrinking city's wage falls at most to 0.8^elasticity of
# its base (crews' reservation pay) and its rent to 0.5^elasticity of the listed rent.
WAGE_FLOOR = 0.8
RENT_FLOOR = 0.5
EARTH_RADIUS_KM = 6371.0


def productivity(cluster_size: np.ndarray, approval: np.ndarray, b: BehaviourParams) -> np.ndarray:
    """Output multiplier per place: ((N + N_ref) / (2 N_ref))^elasticity x approval uplift.

    Every city has a local base worth `cluster_ref` firms (crews, equipment
    hire, locations), so a small cluster loses at most a factor 2^elasticity
    against one of reference size, while large clusters gain without bound.
    """
    cluster = ((cluster_size + b.cluster_ref) / (2.0 * b.cluster_ref)) ** b.agglomeration
    return cluster * (1.0 + b.approval_uplift * approval)


def utilisation(firms_in_city: np.ndarray, crew_in_city: np.ndarray, capacity: np.ndarray,
                talent: np.ndarray) -> np.ndarray:
    """Share of its time a firm can shoot, per place, when studios or crews are short.

    Studio slots are shared first (one team per firm); the crews those slots
    need are then rationed by the talent pool.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # results are clipped
        slots = np.where(firms_in_city > 0, np.minimum(1.0, capacity / firms_in_city), 1.0)
        crew_needed = crew_in_city * slots
        crews = np.where(crew_needed > 1e-9, np.minimum(1.0, talent / np.maximum(crew_needed, 1e-9)), 1.0)
    return slots * crews


def rent_level(base_rent: np.ndarray, firms_in_city: np.ndarray, endowed_capacity: np.ndarray,
               b: BehaviourParams) -> np.ndarray:
    """Rent per team-month: rises with occupancy of the city's endowed (and publicly built) studios.

    Private conversions add slots but not at the listed rent: the listed rent
    holds at `reference_occupancy` of the endowed space; occupancy counts as
    no less than RENT_FLOOR of the reference.
    """
    occupancy = firms_in_city / np.maximum(endowed_capacity, 1e-9)
    factor = np.maximum(occupancy / b.reference_occupancy, RENT_FLOOR) ** b.rent_elasticity
    return base_rent * factor


def wage_level(base_wage: np.ndarray, crew_demand: np.ndarray, endowed_talent: np.ndarray,
               b: BehaviourParams) -> np.ndarray:
    """Wage per crew member-month: the city's wage at its endowed pool, bid up as demand outgrows it.

    Crews who move in to fill a shortage must be paid to come, so the wage
    follows demand over the endowed pool (grown by talent programmes), not
    over the crews present; demand counts as no less than WAGE_FLOOR of the pool.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pressure = np.where(endowed_talent > 0, crew_demand / np.maximum(endowed_talent, 1e-9),
                            np.where(crew_demand > 0, 1e6, 1.0))
    return base_wage * np.maximum(pressure, WAGE_FLOOR) ** b.wage_elasticity


def next_talent(talent: np.ndarray, crew_demand: np.ndarray, trained: np.ndarray,
                b: BehaviourParams) -> np.ndarray:
    """Next month's crews present: crews move in to fill part of a shortage, idle crews drift away, programmes train more."""
    gap = crew_demand - talent
    change = np.where(gap > 0, b.talent_migration * gap, b.talent_attrition * gap)
    return np.maximum(talent + change + trained, 0.0)


def next_private_capacity(capacity: np.ndarray, firms_in_city: np.ndarray, b: BehaviourParams) -> np.ndarray:
    """Private studio space grows while occupancy is above the reference (sets are converted from other space)."""
    occupancy = firms_in_city / np.maximum(capacity, 1e-9)
    excess = np.maximum(occupancy / b.reference_occupancy - 1.0, 0.0)
    return capacity * (1.0 + b.studio_supply_rate * np.minimum(excess, 1.0))


def shooting_cost(wage: np.ndarray, rent: np.ndarray, crew: np.ndarray, util: np.ndarray) -> np.ndarray:
    """Crews and studio for the share of the month a firm shoots, before any AIGC support."""
    return util * (wage * crew + rent)


def monthly_cost(shooting: np.ndarray, overhead: float, spend: np.ndarray | float,
                 productions: np.ndarray | float) -> np.ndarray:
    """What a firm pays in a month: shooting (crews and studio), overhead, and each production's own spend.

    Gross of AIGC support, which the city pays back as a claim on its fund (`sim.policy`), so the support is
    bounded by the fund like every other instrument."""
    return shooting + overhead + spend * productions


def cost_per_production(wage: np.ndarray, rent: np.ndarray, crew: np.ndarray, rate: np.ndarray,
                        overhead: float, spend: np.ndarray) -> np.ndarray:
    """A production's cost (its investment): crews, studio and overhead for the time it takes, plus its spend."""
    return (wage * crew + rent + overhead) / np.maximum(rate, 1e-9) + spend


def aigc_claim(shooting: np.ndarray, aigc: np.ndarray | float) -> np.ndarray:
    """Yuan of AIGC support a firm claims for a month's shooting: the city's share of its crew and studio cost."""
    return shooting * aigc


def distances_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances between places, km (haversine)."""
    lon, lat = np.radians(lon), np.radians(lat)
    dlon = lon[:, None] - lon[None, :]
    dlat = lat[:, None] - lat[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def moving_costs(distance: np.ndarray, b: BehaviourParams) -> np.ndarray:
    """Yuan for a move from place i (row) to place j (column): a fixed part plus a part per km; staying is free."""
    cost = b.moving_cost + b.moving_cost_per_km * distance
    np.fill_diagonal(cost, 0.0)
    return cost


@dataclass
class Places:
    """What a firm choosing a place sees of every place this month (arrays of length L)."""

    wage: np.ndarray
    rent: np.ndarray
    util: np.ndarray
    productivity: np.ndarray
    revenue_uplift: np.ndarray  # 1 + ecommerce uplift
    outlook: np.ndarray  # share of claims a place is expected to pay
    pull: np.ndarray  # million yuan: cluster, spare talent and spare studios
    p_culture: np.ndarray  # chance a production made here has a local-culture theme


@dataclass
class FirmKinds:
    """The choosers: one row per firm (or would-be entrant)."""

    crew: np.ndarray
    rate: np.ndarray  # base productions per month
    spend: np.ndarray  # yuan per production
    weight: np.ndarray  # expected revenue weight per production (tier)
    p_award: np.ndarray  # chance one of its productions wins an award


def expected_profit(kinds: FirmKinds, places: Places, pol: PolicyArrays, revenue_per_weight: float,
                    overhead: float, at: np.ndarray | None = None) -> np.ndarray:
    """Expected monthly profit of each chooser, yuan: (n, L) in every place, or (n,) in place `at[i]` when given,
    or (n, L) in places `at[i, :]` when `at` is 2-D.

    Market income by tier at last month's revenue per unit of attention,
    plus the subsidy the place's announced rules promise, discounted by the
    share of claims its fund is expected to pay, less wages, rent, overhead
    and spend, with output raised by the cluster and cut by rationing.
    """
    if at is None:  # choosers in rows, places in columns
        place, firm = slice(None), (lambda x: x[:, None])
    elif at.ndim == 2:  # choosers in rows, each row's own places in columns (the ensemble: each run's places)
        place, firm = at, (lambda x: x[:, None])
    else:
        place, firm = at, (lambda x: x)
    rate = firm(kinds.rate) * places.productivity[place]
    util = places.util[place]
    spend = firm(kinds.spend)
    wage, rent, outlook = places.wage[place], places.rent[place], places.outlook[place]
    per_production = cost_per_production(wage, rent, firm(kinds.crew), rate, overhead, spend)
    claim = expected_claim(per_production, place, firm(kinds.p_award), places.p_culture[place], pol)
    income = revenue_per_weight * firm(kinds.weight) * places.revenue_uplift[place]
    shooting = shooting_cost(wage, rent, firm(kinds.crew), util)
    support = aigc_claim(shooting, pol.aigc_support[place]) * outlook  # paid, like rewards, as far as the fund goes
    # output x (income + paid claim - spend) - shooting - overhead + support: `monthly_cost` in expectation
    return rate * util * (income - spend + claim * outlook) - shooting - overhead + support


def location_utility(profit: np.ndarray, horizon_months: float, move_cost: np.ndarray | float,
                     pull: np.ndarray, home: np.ndarray | None = None, home_pull: float = 0.0) -> np.ndarray:
    """Deterministic utility (n, L), million yuan: profit over the horizon, less the move, plus the place's pull,
    plus `home_pull` in each chooser's home place (`home[i]`), the attachment that stays with a company.
    `pull` is one row for all choosers (L,) or one per chooser (n, L); the money terms may be one per chooser."""
    utility = (horizon_months * profit - move_cost) / 1e6 + (pull if pull.ndim == 2 else pull[None, :])
    if home is not None and np.any(home_pull):
        utility[np.arange(len(home)), home] += home_pull
    return utility


def entry_probability(expected_profit: np.ndarray, horizon_months: float, hurdle: np.ndarray | float,
                      scale: float) -> np.ndarray:
    """Chance a would-be entrant enters rather than stays out, given the profit it expects where it would work.

    A binary logit (scale in million yuan, as for location) of the profit over
    the horizon less the hurdle (entry cost, and the move when it works away
    from home) against the outside option, worth 0: what the founders earn
    otherwise. Only money counts here: a cluster's pull decides where a
    company works, not whether the market has room for it.
    """
    value = (horizon_months * expected_profit - hurdle) / (1e6 * scale)
    return 0.5 * (1.0 + np.tanh(0.5 * value))  # the logistic function, without overflow for large |value|


def expected_attention(kinds: FirmKinds, places: Places, at: np.ndarray) -> np.ndarray:
    """Each chooser's expected attention a month in place `at[i]`: productions times their revenue weight, the
    quantity the market pool is shared by (`expected_profit` is linear in the revenue per unit of it)."""
    return kinds.rate * places.productivity[at] * places.util[at] * kinds.weight * places.revenue_uplift[at]


def entry_expectation(profit: np.ndarray, attention: np.ndarray, revenue_per_weight: float, pool: float,
                      horizon_months: float, hurdle: np.ndarray | float, scale: float) -> tuple[float, np.ndarray]:
    """The revenue per unit of attention would-be entrants expect once those who enter are producing, and each
    one's chance to enter at it: the fixed point of rho = pool / (W + sum_i p_i(rho) a_i).

    `profit` is each would-be entrant's expected profit at last month's `revenue_per_weight` (rho_0, which
    shares `pool` over attention W = pool / rho_0) and `attention` its expected attention a_i, so its profit
    at rho is profit + a_i (rho - rho_0). Every would-be entrant knows the others consider entering too: without
    this, all of them read last month's prices, enter together and overshoot (a cobweb), and a market that grows
    a step each January draws a burst of entrants that closes over the following months. The left side grows
    with rho and the right side falls, so the root is unique; it is found by bisection on [0, rho_0].
    """
    if len(profit) == 0 or revenue_per_weight <= 0.0 or pool <= 0.0:
        return revenue_per_weight, entry_probability(profit, horizon_months, hurdle, scale)
    incumbents = pool / revenue_per_weight

    def chances(rho: float) -> np.ndarray:
        return entry_probability(profit + attention * (rho - revenue_per_weight), horizon_months, hurdle, scale)

    lo, hi = 0.0, revenue_per_weight
    for _ in range(40):  # 2^-40 of rho_0: far below any money that matters
        mid = 0.5 * (lo + hi)
        if mid * (incumbents + chances(mid) @ attention) > pool:
            hi = mid
        else:
            lo = mid
    rho = 0.5 * (lo + hi)
    return rho, chances(rho)


def founders_weights(crew: np.ndarray, talent: np.ndarray, outside: np.ndarray, outside_idle: float) -> np.ndarray:
    """Where would-be entrants are founded, a probability per place: in proportion to the industry's people there.

    New companies are mostly started by people already in the trade, where
    they work (spin-offs: Klepper 2007), so founders come from a place's crews
    at work and its idle trained crews. Talent programmes thus breed local
    companies, and a base keeps its own births while it has people. The rest
    of the country has no talent pool of its own in the model (its crews are
    not limited), so its idle crews are `outside_idle` per crew member at work:
    without them every founder of a place's idle pool would be born in the
    named cities, and a scenario that names fewer cities would grow them faster.
    """
    idle = np.where(outside, outside_idle * crew, np.maximum(talent - crew, 0.0))
    people = crew + idle
    total = people.sum()
    return people / total if total > 0 else np.full(len(people), 1.0 / len(people))

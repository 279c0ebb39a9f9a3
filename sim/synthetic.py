"""A generic national contest at any scale: `synthetic_scenario(firms, cities)`, or `scenario=synthetic`.

For benchmarks and for planners who want to study a contest of many similar
cities. Everything that must grow with the number of companies grows with
it, so the population stays roughly stable: the market, studio capacity and
talent. The market is the seeds' 2024 revenue per 1,000 companies, held flat
(no growth: a growing market would grow the population with it); measured
with seed 1, 10,000 companies over 20 cities stay between 9,500 and 12,000
for 60 months, and 2,000 over 10 between 1,900 and 2,500. The cities differ
only in cost (wage and rent spread over the range of the city files,
shuffled by `seed`) and position (a grid over eastern China); each has the
brief's common policy (`PolicyParams` defaults).

The generated cities and market follow from `ScenarioParams.synthetic`, so a
sweep over `scenario.synthetic.firms` makes a new contest at each size.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.params import CityParams, MarketParams, PolicyParams, ScenarioParams, SyntheticParams

COMPANIES_PER_MARKET = 1_000  # companies the seeds' 2024 market supports (assumption: the calibrated two-city race holds ~1,000-1,300)


def synthetic_scenario(firms: int = 10_000, cities: int = 20, seed: int = 0) -> ScenarioParams:
    """`cities` cities sharing `firms` companies, with the market, studios and talent scaled to them."""
    return ScenarioParams(name="synthetic", description=f"{cities} similar cities sharing {firms:,} companies",
                          synthetic=SyntheticParams(firms=firms, cities=cities, seed=seed))


def synthetic_cities(firms: int, cities: int, seed: int) -> tuple[CityParams, ...]:
    """The generated cities: `firms` companies spread evenly, costs shuffled by `seed`, studios and crews to match."""
    rng = np.random.default_rng(seed)
    per_city = np.full(cities, firms // cities)
    per_city[: firms % cities] += 1
    side = int(np.ceil(np.sqrt(cities)))
    cost = rng.permutation(np.linspace(0.0, 1.0, cities))  # 0: the cheapest city, 1: the dearest
    return tuple(CityParams(
        id=f"c{j:03d}", name=f"City {j + 1}",
        lon=100.0 + 22.0 * (j % side) / max(side - 1, 1), lat=22.0 + 18.0 * (j // side) / max(side - 1, 1),
        firms=int(per_city[j]),
        wage=7_000.0 + 3_000.0 * cost[j],  # the span of the city files (Zhengzhou 8,000, Xi'an 9,000)
        rent=40_000.0 + 30_000.0 * cost[j],
        studio_capacity=1.3 * per_city[j],  # room for the companies and some growth
        talent=40.0 * per_city[j],  # crews of ~30 (seed 002: 24,000 jobs / 800 enterprises) plus spare
        policy=PolicyParams(),  # the brief's common 10 % reward, 3 M cap, 50 M a year
    ) for j in range(cities))


def synthetic_market(firms: int, market: MarketParams) -> MarketParams:
    """`market` with its size set for `firms` companies: the 2024 revenue per COMPANIES_PER_MARKET, flat."""
    flat = MarketParams().revenue_2024 * firms / COMPANIES_PER_MARKET
    return dataclasses.replace(market, revenue_2024=flat, revenue_2025=flat, saturation=flat, growth_after=0.0)

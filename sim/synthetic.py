"""A generic national contest at any scale, built in Python: `synthetic_scenario(firms, cities)`.

For benchmarks and for planners who want to study a contest of many similar
cities. Everything that must grow with the number of companies grows with
it, so the population stays roughly stable: the market (the seeds' 2024 and
2025 revenue and the assumed ceiling, per 1,000 companies, about what the
calibrated two-city scenario supports), studio capacity and talent. The
cities differ only in cost (wage and rent spread over the range of the city
files, shuffled by `seed`) and position (a grid over eastern China).
"""

from __future__ import annotations

import numpy as np

from sim.params import CityParams, MarketParams, ParamError, PolicyParams, ScenarioParams

COMPANIES_PER_MARKET = 1_000  # companies the seeds' national market supports (assumption: the calibrated two-city race holds ~1,000-1,300)
MAX_FIRMS = 600_000  # the scaled market ceiling must stay within MarketParams' bound of 1e14 yuan a year


def synthetic_scenario(firms: int = 10_000, cities: int = 20, seed: int = 0) -> ScenarioParams:
    """`cities` cities sharing `firms` companies, with the market, studios and talent scaled to them."""
    if not 1 <= cities <= 1_000:
        raise ParamError("cities", f"{cities} is out of range; allowed [1, 1000]")
    if not cities <= firms <= MAX_FIRMS:
        raise ParamError("firms", f"{firms} is out of range; allowed [cities, {MAX_FIRMS}]")
    rng = np.random.default_rng(seed)
    per_city = np.full(cities, firms // cities)
    per_city[: firms % cities] += 1
    side = int(np.ceil(np.sqrt(cities)))
    cost = rng.permutation(np.linspace(0.0, 1.0, cities))  # 0: the cheapest city, 1: the dearest
    scale = firms / COMPANIES_PER_MARKET
    base = MarketParams()
    market = MarketParams(revenue_2024=base.revenue_2024 * scale, revenue_2025=base.revenue_2025 * scale,
                          saturation=base.saturation * scale)
    made = []
    for j in range(cities):
        made.append(CityParams(
            id=f"c{j:03d}", name=f"City {j + 1}",
            lon=100.0 + 22.0 * (j % side) / max(side - 1, 1), lat=22.0 + 18.0 * (j // side) / max(side - 1, 1),
            firms=int(per_city[j]),
            wage=7_000.0 + 3_000.0 * cost[j],  # the span of the city files (Zhengzhou 8,000, Xi'an 9,000)
            rent=40_000.0 + 30_000.0 * cost[j],
            studio_capacity=1.3 * per_city[j],  # room for the companies and some growth
            talent=40.0 * per_city[j],  # crews of ~30 (seed 002: 24,000 jobs / 800 enterprises) plus spare
            policy=PolicyParams(),  # the brief's common 10 % reward, 3 M cap, 50 M a year
        ))
    return ScenarioParams(name="synthetic", description=f"{cities} similar cities sharing {firms:,} companies",
                          cities=tuple(made), market=market)

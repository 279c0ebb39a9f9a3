"""The numbers of a generated contest (`scenario=synthetic`): its cities and the size of its market.

Plain numbers, no params: `sim.params` turns them into a scenario's cities
when the `synthetic` keys are set, and `sim.synthetic` offers the scenario
to Python code. Everything that must grow with the number of companies grows
with it, so the population stays roughly stable: the market, studio capacity
and talent. The market is the seeds' 2024 revenue per 1,089 companies (the
national scale), held flat (no growth: a growing market would grow the
population with it); measured with layout seed 1 and run seeds 0 and 1,
10,000 companies over 20 cities stay between 9,132 and 11,284 for 60 months,
and 2,000 over 10 between 1,773 and 2,290. The cities
differ only in cost (wage and rent spread over the range of the city files,
shuffled by `seed`) and position (a grid over eastern China).
"""

from __future__ import annotations

import numpy as np

COMPANIES_PER_MARKET = 1_089  # companies the seeds' 2024 market holds: `national`'s scale in January 2024 (docs/ODD.md 6.1)


def city_numbers(firms: int, cities: int, seed: int) -> list[dict]:
    """Each generated city's keys: `firms` companies spread evenly, costs shuffled by `seed`, studios and crews to match."""
    rng = np.random.default_rng(seed)
    per_city = np.full(cities, firms // cities)
    per_city[: firms % cities] += 1
    side = int(np.ceil(np.sqrt(cities)))
    cost = rng.permutation(np.linspace(0.0, 1.0, cities))  # 0: the cheapest city, 1: the dearest
    return [dict(
        id=f"c{j:03d}", name=f"City {j + 1}",
        lon=100.0 + 22.0 * (j % side) / max(side - 1, 1), lat=22.0 + 18.0 * (j // side) / max(side - 1, 1),
        firms=int(per_city[j]),
        wage=7_000.0 + 3_000.0 * cost[j],  # the span of the city files (Zhengzhou 8,000, Xi'an 9,000)
        rent=40_000.0 + 30_000.0 * cost[j],
        studio_capacity=1.3 * per_city[j],  # room for the companies and some growth
        talent=40.0 * per_city[j],  # crews of ~30 (S5: 24,000 jobs / 800 enterprises) plus spare
    ) for j in range(cities)]


def market_revenue(firms: int, revenue_2024: float) -> float:
    """A generated contest's yearly market, held flat: the 2024 revenue per COMPANIES_PER_MARKET companies."""
    return revenue_2024 * firms / COMPANIES_PER_MARKET

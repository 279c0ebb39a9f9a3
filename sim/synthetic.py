"""A generic national contest at any scale: `synthetic_scenario(firms, cities)`, or `scenario=synthetic`.

For benchmarks and for planners who want to study a contest of many similar
cities. The generated cities and market follow from `ScenarioParams.synthetic`
(their numbers are in `sim.layout`), so a sweep over `scenario.synthetic.firms`
makes a new contest at each size; each city has the brief's common policy
(`PolicyParams` defaults).
"""

from __future__ import annotations

from sim.params import ScenarioParams, SyntheticParams


def synthetic_scenario(firms: int = 10_000, cities: int = 20, seed: int = 0) -> ScenarioParams:
    """`cities` cities sharing `firms` companies, with the market, studios and talent scaled to them."""
    return ScenarioParams(name="synthetic", description=f"{cities} similar cities sharing {firms:,} companies",
                          synthetic=SyntheticParams(firms=firms, cities=cities, seed=seed))

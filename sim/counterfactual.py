"""What a city's policy bought: the same run with that city's own instruments switched off.

For each city, the counterfactual is the run with the same seed (and so
the same random streams month by month and phase by phase: common random
numbers) in which that city pays no reward, gives no AIGC support, runs no
talent or studio programme and keeps that (empty) policy fixed; every
other city keeps its policy and strategy. The difference in the city's
jobs, firms and productions is what its policy added; its outlay over the
jobs added is the marginal cost per job. The difference in the whole
country's jobs is what the policy added nationally: less than the local
gain when it drew companies from other places, more when it brought new
ones into the industry.
"""

from __future__ import annotations

import dataclasses

from typing import TYPE_CHECKING

from sim.metrics import final_mean
from sim.params import SPENDING, CityParams, RunParams, StrategyKind, StrategyParams
from sim.policy import has_policy

if TYPE_CHECKING:
    from sim.model import ContestModel

# Outcomes this module adds to a run's summary (per city).
ADDED_OUTCOMES = ("added_jobs", "added_firms", "added_productions", "marginal_cost_per_job", "added_jobs_national",
                  "marginal_cost_per_national_job")



def without_policy(params: RunParams, city_id: str) -> RunParams:
    """The same run with `city_id`'s instruments switched off, its strategy fixed and its shocks dropped."""
    sc = params.scenario

    def off(c: CityParams) -> CityParams:
        if c.id != city_id:
            return c
        policy = dataclasses.replace(c.policy, **dict.fromkeys(SPENDING, 0.0))
        strategy = StrategyParams(kind=StrategyKind.fixed)
        return dataclasses.replace(c, policy=policy, strategy=strategy)

    sc.city(city_id)  # KeyError naming the known cities
    return dataclasses.replace(params, scenario=dataclasses.replace(sc, cities=tuple(off(c) for c in sc.cities)),
                               shocks=tuple(s for s in params.shocks if s.city != city_id))


def spends(params: RunParams, city_id: str) -> bool:
    """Whether the city's policy can spend anything: as announced, or after one of its shocks."""
    if has_policy(params.scenario.city(city_id).policy):
        return True
    return any(s.city == city_id and s.lever in SPENDING and s.value > 0 for s in params.shocks)


def added_by_policy(model: ContestModel, cities: list[str] | None = None, force: bool = False,
                    tables: list | None = None, counterfactual=None) -> dict[str, dict]:
    """Per city: jobs, firms and productions its policy added against its counterfactual, and the marginal cost per job,
    locally and in the whole country.

    model: a finished run. Jobs and firms are means over the last
    FINAL_MONTHS months, productions are totals over the run. The marginal
    cost per job is the city's outlay over the whole run over the jobs
    added, None when the policy added less than one job. A city with no
    policy to switch off adds exactly nothing; its counterfactual is not
    run unless `force` (it would be the run itself). `counterfactual(city)`,
    when given, returns the finished no-policy run instead of running one
    here (the ensemble, sim.ensemble, advances them beside the run).
    """
    out: dict[str, dict] = {name: {} for name in ADDED_OUTCOMES}
    for city in cities if cities is not None else model.city_ids:
        j = model.city_ids.index(city)
        if not force and not spends(model.params, city):
            jobs = firms = productions = national = 0.0
        else:
            if counterfactual is None:
                from sim.model import ContestModel  # here: the fast path brings its own twins and never loads Mesa

                cf = ContestModel(without_policy(model.params, city)).run(model.steps)
            else:
                cf = counterfactual(city)
            if tables is not None:
                t = cf.city_table()
                t = t.loc[t.city == city, ["step", "date", "city", "firms", "productions", "share", "employment"]]
                tables.append(t)
            run_jobs, cf_jobs = final_mean(model, "employment"), final_mean(cf, "employment")
            jobs = float(run_jobs[j] - cf_jobs[j])
            # Jobs it drew from other places count against it nationally; jobs its entrants brought count for it.
            national = float(run_jobs.sum() - cf_jobs.sum())
            firms = float(final_mean(model, "firms")[j] - final_mean(cf, "firms")[j])
            productions = float(model.recorder.column("productions")[:, j].sum() - cf.recorder.column("productions")[:, j].sum())
        outlay = float(model.city_state.outlay_total[j])
        out["added_jobs"][city] = jobs
        out["added_firms"][city] = firms
        out["added_productions"][city] = productions
        out["marginal_cost_per_job"][city] = outlay / jobs if jobs >= 1.0 else None
        out["added_jobs_national"][city] = national
        out["marginal_cost_per_national_job"][city] = outlay / national if national >= 1.0 else None
    return out


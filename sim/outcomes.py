"""The outcome registry: every outcome a run reports, how it is computed, its type, and whether it is per city.

`summarise` (summary.json), a sweep's `outcomes` and `run_once` (the EMA
Workbench's interface) all read this one table (the experiments add the
calibration's `facts` to it in `experiments.batch.runs.REGISTRY`), so an outcome has one name, one definition and one documented
meaning of "undefined" everywhere.

Per-city outcomes become one column per place in sweep tables
(`final_share.xian`); `facts` becomes one column per published fact
(`fact.xian_share`, defined by experiments/calibration/facts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.metrics import cost_per_job, final_means, share_lead
from sim.policy import outlay

if TYPE_CHECKING:
    from sim.model import ContestModel


@dataclass(frozen=True)
class Outcome:
    """One outcome: `compute(model, added)` gives its value (a dict by place id when `per_city`)."""

    name: str
    doc: str
    compute: Callable[[ContestModel, dict | None], Any]
    kind: str = "number"  # number | label (a city id or null; not a number, so tools such as EMA need its numeric form)
    per_city: bool = True
    undefined: str = ""  # when the value may be null/NaN, and why ("" : always a finite number)
    counterfactual: bool = False  # needs each city's no-policy run (sim.counterfactual.added_by_policy)
    prefix: str = ""  # column prefix of a per-city (per-key) outcome; default its name


def _per_place(values) -> Callable:
    return lambda model, added: {pid: values(model, j) for j, pid in enumerate(model.place_ids)}


def _added(name: str) -> Callable:
    def compute(model: ContestModel, added: dict | None) -> dict:
        if added is None:
            raise ValueError(f"{name} needs the counterfactual runs (sim.counterfactual.added_by_policy)")
        return added[name]
    return compute


def _start_jobs(model: ContestModel, j: int) -> float:
    base = model.employment_at_start if model.employment_at_start is not None else model.city_state.employment
    return base[j]


def payoffs(model: ContestModel) -> dict:
    """Each city's objective over the run, discounted: the sum over months m = 1, 2, ... of (job_value x jobs + tax +
    tourism - outlay) in month m, times (1 + discount_rate) ** (-m / 12), with its strategy's job_value and
    discount_rate; the objective strategy's monthly quantity (jobs are crew members, as there). None for the
    rest of the country, which has no treasury in the model."""
    rec = model.recorder
    spent = outlay(rec.column("subsidy_paid"), rec.column("aigc_spent"), rec.column("talent_spent"),
                   rec.column("studio_spent"))
    months = np.arange(1, len(spent) + 1)
    out: dict = {}
    for j, pid in enumerate(model.place_ids):
        if j >= model.n_cities:
            out[pid] = None
            continue
        s = model.scenario_params.cities[j].strategy
        monthly = (s.job_value * rec.column("employment")[:, j] + rec.column("tax")[:, j]
                   + rec.column("tourism")[:, j] - spent[:, j])
        out[pid] = float(np.sum(monthly * (1.0 + s.discount_rate) ** (-months / 12.0)))
    return out


def month_of_step(model: ContestModel, step: int | None) -> str | None:
    """'YYYY-MM' of the month a step simulated (step 1 is the first month); None for None."""
    if step is None:
        return None
    year, month = model.year_month(step - 1)
    return f"{year}-{month:02d}"


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("capital", "the city holding at least capital_threshold of national output over the trailing window "
            "and leading the runner-up by at least capital_margin, at the end", lambda m, a: m.capital.current,
            kind="label", per_city=False,
            undefined="null when no city holds the threshold with the margin (or before the window is full)"),
    Outcome("capital_step", "the step since which the capital has held the position without a break",
            lambda m, a: m.capital.since, per_city=False, undefined="null when there is no capital"),
    Outcome("capital_month", "the month (YYYY-MM) since which the capital has held the position without a break",
            lambda m, a: month_of_step(m, m.capital.since), kind="label", per_city=False,
            undefined="null when there is no capital"),
    Outcome("crossing_step", "the step in which a challenger's trailing share first overtook that of the leader of "
            "the first full window (the incumbent)", lambda m, a: m.capital.crossing, per_city=False,
            undefined="null when nobody overtook the incumbent"),
    Outcome("crossing_month", "the month (YYYY-MM) of crossing_step", lambda m, a: month_of_step(m, m.capital.crossing),
            kind="label", per_city=False, undefined="null when nobody overtook the incumbent"),
    Outcome("challenger", "the city that overtook the incumbent (crossing_step)", lambda m, a: m.capital.challenger,
            kind="label", per_city=False, undefined="null when nobody overtook the incumbent"),
    Outcome("share_lead", "trailing-window share at the end minus the best other place's: positive for the leader, "
            "negative for every other city", lambda m, a: {pid: (float(v) if np.isfinite(v) else None) for pid, v in zip(
                m.place_ids, share_lead(m.capital.trailing, m.capital.eligible))},
            undefined="null for the rest of the country, which cannot lead"),
    Outcome("is_capital", "1 for the capital at the end, else 0: the numeric form of `capital`",
            lambda m, a: {pid: int(pid == m.capital.current) for pid in m.place_ids}),
    Outcome("final_share", "share of national productions, mean over the last 12 months",
            lambda m, a: final_means(m, "share")),
    Outcome("trailing_share", "share of national productions over the last 12 months, the capital test's (the "
            "window's productions over the nation's; the page's '12-month share')",
            lambda m, a: {pid: float(v) for pid, v in zip(m.place_ids, m.capital.trailing)}),
    Outcome("final_firms", "production companies at the end", _per_place(lambda m, j: int(m.city_state.firms[j]))),
    Outcome("final_employment", "jobs (companies' crews), mean over the last 12 months",
            lambda m, a: final_means(m, "employment")),
    Outcome("subsidy_total", "rewards paid over the run, yuan",
            _per_place(lambda m, j: float(m.city_state.subsidy_total[j]))),
    Outcome("outlay_total", "everything the treasury spent over the run (rewards, AIGC support, talent and studio "
            "programmes), yuan", _per_place(lambda m, j: float(m.city_state.outlay_total[j]))),
    Outcome("cost_per_job", "outlay_total per job at the end, yuan",
            _per_place(lambda m, j: cost_per_job(m.city_state.outlay_total[j], m.city_state.employment[j])),
            undefined="null where a place has fewer than one job"),
    Outcome("cost_per_job_created", "outlay_total per job created since the first month, yuan",
            _per_place(lambda m, j: cost_per_job(m.city_state.outlay_total[j],
                                                 m.city_state.employment[j] - _start_jobs(m, j))),
            undefined="null where fewer than one job was created"),
    Outcome("final_reward_rate", "reward rate at the end (strategies move it)",
            _per_place(lambda m, j: float(m.policy.reward_rate[j]))),
    Outcome("final_annual_budget", "annual budget at the end, yuan (strategies move it)",
            _per_place(lambda m, j: float(m.policy.annual_budget[j]))),
    Outcome("payoff", "the city's own objective over the run, discounted: job_value x jobs + tax + tourism - "
            "outlay each month, at its strategy's discount_rate (yuan of the start); the subsidy game's payoff",
            lambda m, a: payoffs(m), undefined="null for the rest of the country, which has no treasury"),
    Outcome("added_jobs", "jobs the city's own policy added against its no-policy run, mean over the last 12 months",
            _added("added_jobs"), counterfactual=True),
    Outcome("added_firms", "companies the policy added, mean over the last 12 months", _added("added_firms"),
            counterfactual=True),
    Outcome("added_productions", "productions the policy added over the run", _added("added_productions"),
            counterfactual=True),
    Outcome("marginal_cost_per_job", "outlay_total per added job, yuan", _added("marginal_cost_per_job"),
            counterfactual=True, undefined="null when the policy added fewer than one job"),
    Outcome("added_jobs_national", "jobs the city's policy added in the whole country (every place, the city's "
            "own included) against its no-policy run, mean over the last 12 months: below added_jobs when the "
            "policy drew jobs from elsewhere", _added("added_jobs_national"), counterfactual=True),
    Outcome("marginal_cost_per_national_job", "outlay_total per job added in the whole country, yuan",
            _added("marginal_cost_per_national_job"), counterfactual=True,
            undefined="null when the policy added fewer than one job nationally"),
)}


def check_names(names, registry: dict[str, Outcome] = OUTCOMES) -> None:
    """Raise ValueError listing the allowed names when one is unknown."""
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown outcome {unknown[0]!r}; allowed: {', '.join(registry)}")


def columns(model: ContestModel, names, added: dict | None = None,
            registry: dict[str, Outcome] = OUTCOMES) -> dict[str, Any]:
    """The outcomes `names` of a finished run as flat columns: '<name>.<place>' for per-city ones.

    `registry`: the outcomes to choose from, by default this module's; a
    caller with outcomes of its own (the calibration's `facts`) passes a
    registry that adds them, so nothing is registered by importing a module.
    """
    check_names(names, registry)
    row: dict[str, Any] = {}
    for name in names:
        outcome = registry[name]
        value = outcome.compute(model, added)
        if outcome.per_city:
            row.update({f"{outcome.prefix or name}.{k}": v for k, v in value.items()})
        else:
            row[name] = value
    return row


def undefined_columns() -> dict[str, str]:
    """Outcome names whose values may be null or NaN, with the reason (documented in README)."""
    return {o.name: o.undefined for o in OUTCOMES.values() if o.undefined}


def summarise(model: ContestModel, added: dict | None = None) -> dict:
    """summary.json: scenario, seed, steps, capital, final shares, money, firms and, if given, what each policy added.

    Per-city entries cover the cities and, when modelled, the rest of the
    country ("rest"). `added` is `sim.counterfactual.added_by_policy`'s result.
    """
    summary = {
        "scenario": model.scenario_params.name,
        "seed": model.params.seed,
        "steps": model.steps,
        "start": model.params.start,
        "capital_threshold": model.params.capital_threshold,
        "capital_margin": model.params.capital_margin,
        "capital_window": model.params.capital_window,
    }
    summary.update({name: o.compute(model, added) for name, o in OUTCOMES.items()
                    if added is not None or not o.counterfactual})
    summary["firms"] = {"start": model.firms_at_start, "entered": model.entered_total,
                        "exited": model.exited_total, "moved": model.moved_total, "end": model.n_firms}
    return summary

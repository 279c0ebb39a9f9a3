"""Evaluating one run: plain functions, no Hydra, safe to call in any worker process."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.counterfactual import added_by_policy
from sim.model import ContestModel
from experiments.calibration.facts import FACTS_OUTCOME
from sim.outcomes import OUTCOMES, check_names, columns
from sim.params import RunParams, apply_overrides, from_dict, to_dict


@dataclass
class RunTask:
    """One run to evaluate: its id, seed and the values of the varied keys."""

    run_id: int
    seed: int
    values: dict[str, Any]


@dataclass
class RunResult:
    """What a finished run returns: a row for runs.parquet and its city rows (or None)."""

    run_id: int
    row: dict[str, Any]
    cities: pd.DataFrame | None


# What a sweep, run_once and the calibration may ask for: the model's outcomes and the published facts.
REGISTRY = {**OUTCOMES, FACTS_OUTCOME.name: FACTS_OUTCOME}


def outcomes_of(model: ContestModel, outcomes: tuple[str, ...]) -> dict[str, Any]:
    """A run's outcomes as flat columns (sim/outcomes.py): '<name>.<city>' for per-city ones, 'fact.<id>' for facts.

    The counterfactual outcomes (added_jobs, added_firms, added_productions,
    marginal_cost_per_job) run each city's no-policy counterfactual, only
    when one of them is asked for.
    """
    check_names(outcomes, REGISTRY)
    added = added_by_policy(model) if any(REGISTRY[n].counterfactual for n in outcomes) else None
    return columns(model, outcomes, added, REGISTRY)


def evaluate(task: RunTask, base: Mapping, outcomes: tuple[str, ...], keep_every: int) -> RunResult:
    """Run one task; a run that raises is returned as failed with its error, never raised."""
    row: dict[str, Any] = {"run_id": task.run_id, "status": "ok", "error": None}
    try:
        params = from_dict(RunParams, apply_overrides(base, {**task.values, "seed": task.seed}))
        model = ContestModel(params).run()
        row.update(outcomes_of(model, outcomes))
        cities = None
        if keep_every > 0:
            table = model.city_table()
            cities = table[table.step % keep_every == 0].copy()
            cities.insert(0, "run_id", task.run_id)
        return RunResult(task.run_id, row, cities)
    except Exception as err:  # noqa: BLE001 - recorded, and the sweep goes on
        row.update(status="failed", error="".join(traceback.format_exception_only(type(err), err)).strip())
        return RunResult(task.run_id, row, None)


_BASES: dict[str, dict] = {}  # scenario name -> composed base (composing with Hydra costs ~0.1 s a call)

DEFAULT_OUTCOMES = ("capital", "capital_step", "crossing_step", "share_lead", "final_share", "subsidy_total",
                    "cost_per_job")


def run_once(params: Mapping[str, Any], seed: int, base: RunParams | Mapping | str = "xian_vs_zhengzhou",
             steps: int | None = None, outcomes: tuple[str, ...] = DEFAULT_OUTCOMES,
             posterior: str | None = None) -> dict[str, Any]:
    """Evaluate one point: dotted config keys -> values, one seed; returns the outcome columns.

    base: a scenario name (composed with Hydra once per process, then reused),
    RunParams, or a plain RunParams dict. `outcomes` are names of the outcome
    registry (sim/outcomes.py); for tools that need numbers only (the EMA
    Workbench), use `is_capital` (one 0/1 column per city) rather than
    `capital` (a city id or None). Raises on invalid input (unlike the sweep,
    which records): the seed given twice, an unknown outcome, a bad value.
    posterior: a published posterior's name (experiments/calibration/posterior.py): the
    run meets the parameter set its seed draws, as replicate `seed` of a sweep
    with that posterior does; `params` win over the drawn values.
    """
    if "seed" in params:
        raise ValueError("seed: given both in params and as seed=; pass it once, as seed=")
    check_names(outcomes, REGISTRY)
    if isinstance(base, str):
        if base not in _BASES:
            from sim import load_config

            _BASES[base] = to_dict(load_config(base))
        base_dict = _BASES[base]
    else:
        base_dict = to_dict(base) if isinstance(base, RunParams) else dict(base)
    values = dict(params)
    if posterior:
        from experiments.calibration.posterior import load_posterior

        drawn = load_posterior(posterior)
        values = {**drawn.values(drawn.index_for(seed), base_dict), **values}
    if steps is not None:
        values["steps"] = steps
    run = from_dict(RunParams, apply_overrides(base_dict, {**values, "seed": seed}))
    return outcomes_of(ContestModel(run).run(), outcomes)

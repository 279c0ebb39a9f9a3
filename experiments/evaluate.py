"""Evaluating one run: plain functions, no Hydra, safe to call in any worker process."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.counterfactual import ADDED_OUTCOMES, added_by_policy
from sim.metrics import summarise
from sim.model import ContestModel
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


def outcomes_of(model: ContestModel, outcomes: tuple[str, ...]) -> dict[str, Any]:
    """Flatten a run's summary into outcome columns: per-city outcomes become '<name>.<city>', facts 'fact.<id>'.

    The counterfactual outcomes (added_jobs, added_firms, added_productions,
    marginal_cost_per_job) run each city's no-policy counterfactual, only
    when one of them is asked for.
    """
    added = None
    if any(name in ADDED_OUTCOMES for name in outcomes):
        added = added_by_policy(model)
    summary = summarise(model, added)
    row: dict[str, Any] = {}
    for name in outcomes:
        if name == "facts":
            from experiments.facts import measure_facts

            row.update({f"fact.{k}": v for k, v in measure_facts(model.city_table(), model.params).items()})
            continue
        value = summary[name]
        if isinstance(value, dict):
            for city, v in value.items():
                row[f"{name}.{city}"] = v
        else:
            row[name] = value
    return row


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


def run_once(params: Mapping[str, Any], seed: int, base: RunParams | Mapping | str = "xian_vs_zhengzhou",
             steps: int | None = None,
             outcomes: tuple[str, ...] = ("capital", "capital_step", "final_share", "subsidy_total",
                                          "cost_per_job")) -> dict[str, Any]:
    """Evaluate one point: dotted config keys -> values, one seed; returns the outcome columns.

    base: a scenario name (composed with Hydra once), RunParams, or a plain
    RunParams dict. Raises on invalid input (unlike the sweep, which records).
    """
    if isinstance(base, str):
        from sim import load_config

        base = load_config(base)
    base_dict = to_dict(base) if isinstance(base, RunParams) else dict(base)
    values = dict(params)
    if steps is not None:
        values["steps"] = steps
    run = from_dict(RunParams, apply_overrides(base_dict, {**values, "seed": seed}))
    return outcomes_of(ContestModel(run).run(), outcomes)

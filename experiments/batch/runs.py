"""Evaluating one run: plain functions, no Hydra, safe to call in any worker process."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.counterfactual import added_by_policy, spends, without_policy
from sim.ensemble import run_ensemble
from sim.ensemble.model import structure
from experiments.calibration.facts import FACTS_OUTCOME
from sim.outcomes import OUTCOMES, check_names, columns
from sim.params import ParamError, RunParams, apply_overrides, from_dict, to_dict

if TYPE_CHECKING:
    from sim.model import ContestModel


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
    cities: Any  # its city rows: a pandas DataFrame (reference path) or a pyarrow Table (fast path), or None


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
    """Run one task on the reference path (one Mesa model); a run that raises is returned as failed with its
    error, never raised."""
    row: dict[str, Any] = {"run_id": task.run_id, "status": "ok", "error": None}
    try:
        from sim.model import ContestModel  # the reference path only: fast-path workers never load Mesa

        params = from_dict(RunParams, apply_overrides(base, {**task.values, "seed": task.seed}))
        model = ContestModel(params).run()
        row.update(outcomes_of(model, outcomes))
        return RunResult(task.run_id, row, _kept(model, task.run_id, keep_every))
    except Exception as err:  # noqa: BLE001 - recorded, and the sweep goes on
        return _failed(task, err)


# Runs an ensemble advances at once at most (counterfactual twins included): enough to spread Python's overhead
# over many runs, few enough that a batch's records (38 columns x months x places x runs) stay small.
ENSEMBLE_MEMBERS = 48


def evaluate_batch(tasks: Sequence[RunTask], base: Mapping, outcomes: tuple[str, ...],
                   keep_every: int) -> list[RunResult]:
    """Run tasks together on the fast path (sim.ensemble), their counterfactual twins beside them.

    Each run draws from its own streams, so its result is the one it has
    alone or in any other batch. A task whose values are invalid fails
    alone; if an ensemble raises, its tasks are run one by one, so a run
    that breaks the model fails by itself, with its error, never the others.
    """
    check_names(outcomes, REGISTRY)
    results: dict[int, RunResult] = {}
    ready: list[tuple[RunTask, RunParams]] = []
    for task in tasks:
        try:
            ready.append((task, from_dict(RunParams, apply_overrides(base, {**task.values, "seed": task.seed}))))
        except Exception as err:  # noqa: BLE001 - recorded, and the sweep goes on
            results[task.run_id] = _failed(task, err)
    counterfactual = any(REGISTRY[n].counterfactual for n in outcomes)
    groups: dict[tuple, list] = {}
    for task, params in ready:
        groups.setdefault(structure(params), []).append((task, params))
    for group in groups.values():
        for chunk in _chunks(group, counterfactual):
            try:
                results.update(_ensemble_results(chunk, outcomes, keep_every, counterfactual))
            except Exception:  # noqa: BLE001 - find the run that breaks it: each alone
                for task, params in chunk:
                    try:
                        results.update(_ensemble_results([(task, params)], outcomes, keep_every, counterfactual))
                    except Exception as err:  # noqa: BLE001
                        results[task.run_id] = _failed(task, err)
    return [results[t.run_id] for t in tasks]


def _members(params: RunParams, counterfactual: bool) -> list[tuple[str | None, RunParams]]:
    """A run and, when asked for, its no-policy twin per city whose policy spends (sim.counterfactual)."""
    twins = [(c.id, without_policy(params, c.id)) for c in params.scenario.cities
             if counterfactual and spends(params, c.id)]
    return [(None, params), *twins]


def _chunks(group: list, counterfactual: bool) -> Iterator[list]:
    """Tasks in chunks whose runs and twins number at most ENSEMBLE_MEMBERS (one task at least)."""
    chunk, size = [], 0
    for task, params in group:
        n = len(_members(params, counterfactual))
        if chunk and size + n > ENSEMBLE_MEMBERS:
            yield chunk
            chunk, size = [], 0
        chunk.append((task, params))
        size += n
    if chunk:
        yield chunk


def _ensemble_results(chunk: list, outcomes: tuple[str, ...], keep_every: int,
                      counterfactual: bool) -> dict[int, RunResult]:
    members, index = [], []
    for task, params in chunk:
        own = {}
        for city, run in _members(params, counterfactual):
            own[city] = len(members)
            members.append(run)
        index.append(own)
    views = run_ensemble(members)
    out = {}
    for (task, _), own in zip(chunk, index):
        view = views[own[None]]
        added = added_by_policy(view, counterfactual=lambda city, own=own: views[own[city]]) if counterfactual else None
        row: dict[str, Any] = {"run_id": task.run_id, "status": "ok", "error": None}
        row.update(columns(view, outcomes, added, REGISTRY))
        cities = view.recorder.arrow_table(keep_every, task.run_id) if keep_every > 0 else None
        out[task.run_id] = RunResult(task.run_id, row, cities if cities is None or cities.num_rows else None)
    return out


def _kept(model, run_id: int, keep_every: int) -> pd.DataFrame | None:
    """The city rows a sweep keeps: every `keep_every`-th month (none for 0)."""
    if keep_every <= 0:
        return None
    table = model.city_table()
    cities = table[table.step % keep_every == 0].copy()
    cities.insert(0, "run_id", run_id)
    return cities


def _failed(task: RunTask, err: BaseException) -> RunResult:
    error = "".join(traceback.format_exception_only(type(err), err)).strip()
    return RunResult(task.run_id, {"run_id": task.run_id, "status": "failed", "error": error}, None)


def evaluate_each(function: Callable, tasks: Sequence[RunTask], base: Mapping, outcomes: tuple[str, ...],
                  keep_every: int) -> list[RunResult]:
    """A batch run task by task through `function` (the reference path `evaluate`, or a test's own)."""
    return [function(task, base, outcomes, keep_every) for task in tasks]


PATHS = ("fast", "reference")


def batch_function(path: str = "fast") -> Callable:
    """What evaluates a batch of tasks on `path`: 'fast' (the ensemble) or 'reference' (one Mesa model per run)."""
    if path == "fast":
        return evaluate_batch
    if path == "reference":
        return partial(evaluate_each, evaluate)
    raise ParamError("path", f"{path!r} is not allowed; choose fast or reference")


_BASES: dict[str, dict] = {}  # scenario name -> composed base (composing with Hydra costs ~0.1 s a call)

DEFAULT_OUTCOMES = ("capital", "capital_step", "crossing_step", "share_lead", "final_share", "subsidy_total",
                    "cost_per_job")


def run_once(params: Mapping[str, Any], seed: int, base: RunParams | Mapping | str = "xian_vs_zhengzhou",
             steps: int | None = None, outcomes: tuple[str, ...] = DEFAULT_OUTCOMES,
             posterior: str | None = None, path: str = "fast") -> dict[str, Any]:
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
    path: 'fast' (an ensemble of one: what a sweep's replicate `seed` gives) or
    'reference' (the Mesa model).
    """
    batch_function(path)  # refuses an unknown path
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
    if path == "reference":
        from sim.model import ContestModel

        return outcomes_of(ContestModel(run).run(), outcomes)
    counterfactual = any(REGISTRY[n].counterfactual for n in outcomes)
    row = _ensemble_results([(RunTask(0, seed, {}), run)], outcomes, 0, counterfactual)[0].row
    return {k: v for k, v in row.items() if k not in ("run_id", "status", "error")}

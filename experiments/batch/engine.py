"""Running a whole design into a folder: resume, record, merge, report. No Hydra here."""

from __future__ import annotations

import dataclasses

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml
from tqdm.auto import tqdm

from experiments.batch.design import ExperimentParams, fingerprint, run_table
from experiments.batch.runs import RunTask
from experiments.batch.evaluators import default_workers, make_evaluator
from sim.shell.folders import FolderLock
from experiments.batch.capital import FILE as CAPITAL_FILE, capital_probability
from experiments.batch.store import ResultStore, UnreadableDesign
from sim.shell.atomic import atomic, write_json, write_text
from experiments.batch.runs import REGISTRY
from sim.params import ParamError, RunParams, apply_overrides, from_dict, to_dict
from sim.shell.runner import git_revision, package_versions


class SweepInterrupted(RuntimeError):
    """The evaluator stopped before every run finished; the finished ones are kept."""


def check_keys(experiment: ExperimentParams, base: dict) -> None:
    """Every varied key must name an existing config key, and every value the design gives it must be allowed.

    Grid and points designs are checked value by value; a sampler's values
    lie between its low and high, so those two are checked. A bad value found
    here is one line before the sweep starts, instead of a folder of failed
    runs. Each value is checked alone against the base, not in combination.
    """
    for i, p in enumerate(experiment.parameters):
        where = f"experiment.parameters[{i}] ({p.key})"
        seen: set[str] = set()
        for value in p.values if p.values else (p.low, p.high):
            if repr(value) in seen:  # repr: values may be unhashable (a list for a tuple key)
                continue
            seen.add(repr(value))
            try:
                from_dict(RunParams, apply_overrides(base, {p.key: value}))
            except ParamError as err:
                message = err.message if err.key == p.key else f"{value!r} makes {err.key} invalid: {err.message}"
                raise ParamError(where, message) from None


@dataclass
class _Plan:
    """What a call of run_sweep will do in its folder, worked out before any evaluator is opened."""

    store: ResultStore
    design: pd.DataFrame
    tag: str
    done: set[int]
    tasks: list[RunTask]
    was_complete: bool  # the manifest said complete before this call
    repaired: bool  # a merged table was set aside: the tables must be merged again


def run_sweep(experiment: ExperimentParams, base: RunParams, folder: Path, backend: str = "local",
              workers: int = 0, address: str | None = None, progress: bool = True,
              config_text: str | None = None, evaluator=None, path: str = "fast") -> pd.DataFrame:
    """Run every missing run of the design into `folder`; returns the merged runs table.

    A folder that already holds this sweep's design is resumed: finished
    runs are kept and only the missing ones are computed. A folder holding a
    different sweep, one whose design cannot be read, or one held by another
    process, is refused (ParamError, before anything in it changes). Merged
    tables that are lost or damaged are set aside and their runs computed
    again. `evaluator`: an open evaluator to reuse (e.g. one pool for a
    calibration's rounds); by default one is opened for this sweep, only if
    there is a run to compute, and closed after it, computing runs on `path`
    (an evaluator given brings its own).
    """
    folder = Path(folder)
    base_dict = to_dict(base)
    check_keys(experiment, base_dict)
    with FolderLock(folder):  # a second process into the same folder is refused at once
        plan = _plan(experiment, base, base_dict, folder, config_text, getattr(evaluator, "path", path))
        if evaluator is not None:
            return _run_locked(experiment, base, folder, plan, evaluator, progress)
        chosen = make_evaluator(backend, base_dict, workers, address, path)
        if not plan.tasks:  # nothing to compute: starting worker processes would only cost time
            return _run_locked(experiment, base, folder, plan, chosen, progress)
        with chosen as opened:
            return _run_locked(experiment, base, folder, plan, opened, progress)


def _plan(experiment: ExperimentParams, base: RunParams, base_dict: dict, folder: Path,
          config_text: str | None, path: str) -> _Plan:
    store = ResultStore(folder)
    tag = fingerprint(experiment, base_dict, path)
    if store.has_design():  # read before anything is written: a folder that cannot be resumed stays as it was
        try:
            design, old_tag = store.design()
        except UnreadableDesign as err:
            raise ParamError("hydra.run.dir", f"{folder / 'design.parquet'} is unreadable ({err}); this folder "
                                              "cannot be resumed; choose another folder") from None
        if old_tag != tag:
            raise ParamError("hydra.run.dir", f"{folder} holds a different sweep; pick another folder")
    else:
        design = run_table(experiment)
        store.write_design(design, tag)
    if config_text is not None:
        write_text(folder / "config.yaml", config_text)

    was_complete = _manifest_status(folder) == "complete"
    repair = store.check_merged(design, experiment.keep_every, base.steps, was_complete)
    done = store.done() - repair.redo
    todo = design[~design.run_id.isin(done)]
    if repair.problems:
        aside = ", ".join(repair.set_aside) or "nothing (no table was there)"
        print(f"{folder}: {'; '.join(repair.problems)}: set aside {aside}; {len(todo)} of {len(design)} runs "
              "will be computed again")
    keys = [p.key for p in experiment.parameters]
    drawn = posterior_values(experiment, base_dict)
    tasks = [RunTask(int(r["run_id"]), int(r["seed"]), {**drawn(r), **{k: _plain(r[k]) for k in keys}})
             for r in todo.to_dict("records")]
    return _Plan(store, design, tag, done, tasks, was_complete, bool(repair.problems))


def posterior_values(experiment: ExperimentParams, base_dict: dict):
    """A run row's posterior draw as overrides (none without a posterior); the design's own levers win over it."""
    if not experiment.posterior:
        return lambda row: {}
    from experiments.calibration.posterior import load_posterior

    posterior = load_posterior(experiment.posterior)
    return lambda row: posterior.values(int(row["posterior_set"]), base_dict)


def _run_locked(experiment: ExperimentParams, base: RunParams, folder: Path, plan: _Plan, evaluator,
                progress: bool) -> pd.DataFrame:
    store, design, done, tasks = plan.store, plan.design, plan.done, plan.tasks
    started = datetime.now(timezone.utc)
    manifest = _manifest(experiment, base, plan.tag, evaluator.describe(), len(design), started)
    # A finished sweep's manifest stays `complete` when a rerun has nothing to compute: it is still true.
    if tasks or not plan.was_complete:
        write_json(folder / "manifest.json", {**manifest, "status": "running", "resumed_with_done": len(done)})

    if done:
        print(f"resuming {folder}: {len(done)} of {len(design)} runs already done")
    if tasks:
        months = int(design["steps"].max()) if "steps" in design.columns else base.steps  # `steps` may be varied
        print(announcement(experiment, base, len(tasks), len(design), evaluator, months))
    t0 = time.perf_counter()
    finished = 0
    if tasks:
        bar = tqdm(total=len(design), initial=len(design) - len(tasks), unit="run", desc=experiment.name,
                   disable=None if progress else True, smoothing=0.1)
        try:
            for result in evaluator.map(tasks, experiment.outcomes, experiment.keep_every):
                store.add(result)
                finished += 1
                bar.update()
        except BaseException as err:
            bar.close()
            write_json(folder / "manifest.json", {**manifest, "status": "interrupted", "error": repr(err),
                                                   "computed_this_time": finished})
            raise SweepInterrupted(
                f"sweep stopped after {len(done) + finished} of {len(design)} runs ({err!r}); "
                f"rerun the same command with resume=true or hydra.run.dir={folder} to finish") from err
        bar.close()

    if tasks or plan.repaired or store.parts.exists() or not (folder / "runs.parquet").exists():
        runs = store.merge(design)
    else:  # the tables were checked whole and nothing is new: rewriting them would change nothing
        runs = pd.read_parquet(folder / "runs.parquet")
    keys = [p.key for p in experiment.parameters]
    cities = [c.id for c in base.scenario.cities]
    table = capital_probability(runs, keys, cities)  # once, here: the sweep command and the report read it
    atomic(folder / CAPITAL_FILE, lambda p: table.to_csv(p, index=False))
    counts = runs.status.value_counts().to_dict()
    write_json(folder / "manifest.json", {
        **manifest, "status": "complete", "ended": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(time.perf_counter() - t0, 3), "computed_this_time": finished,
        "runs_ok": int(counts.get("ok", 0)), "runs_failed": int(counts.get("failed", 0))})
    return runs


def _manifest_status(folder: Path) -> str | None:
    """The status a folder's manifest records, or None if it has no readable one."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("status") if isinstance(data, dict) else None


# --------------------------------------------------------------------------- announcing the work


def announcement(experiment: ExperimentParams, base: RunParams, n_tasks: int, n_runs: int, evaluator,
                 months: int | None = None) -> str:
    """One line before the first run: runs, months, workers and an estimated wall time from a quick probe.

    Printed whether or not stdout is a terminal: a job of hours should say so
    in its log before it starts, not only on a progress bar.
    """
    months = base.steps if months is None else months
    done = n_runs - n_tasks
    head = (f"{experiment.name}: {n_tasks:,} runs to compute ({done:,} of {n_runs:,} already done), "
            f"{'up to ' if months != base.steps else ''}{months} months each")
    per_run = probe_seconds_per_run(base, experiment.outcomes, months=months, path=getattr(evaluator, "path", "fast"))
    address = getattr(evaluator, "address", None)
    if address:  # a remote cluster: its size is not known here
        where = f"on the Dask cluster at {address}"
        if per_run is None:
            return f"{head}, {where}"
        return (f"{head}, {where}; estimated {_duration(per_run * n_tasks)} of computing in all, divided among "
                f"the cluster's workers (an estimate from a short probe in this process)")
    workers = int(getattr(evaluator, "workers", 0) or default_workers())
    head = f"{head}, {workers} worker{'s' if workers != 1 else ''}"
    if per_run is None:
        return head
    parallel = max(1, min(workers, default_workers()))  # workers beyond the cores share them
    return (f"{head}; estimated wall time {_duration(per_run * n_tasks / parallel)} "
            f"(an estimate from a short probe in this process: {per_run * 1000:,.0f} ms a run on one core)")


PROBE_BATCH = 16  # runs the fast path's probe advances together (a batch, as the workers run them)


def probe_seconds_per_run(base: RunParams, outcomes: tuple[str, ...], months: int | None = None,
                          probe_months: int = 3, budget_s: float = 0.3, path: str = "fast") -> float | None:
    """Seconds a run of `months` (default: the base's steps) takes on one core on `path`, from building the base
    scenario's model (the fast path: an ensemble of PROBE_BATCH seeds, its first month untimed, as it loads the
    compiled kernels) and timing its first few months (at most `probe_months`, for about `budget_s` at most);
    None if the probe itself fails."""
    months = base.steps if months is None else months
    try:
        t0 = time.perf_counter()
        if path == "fast":
            from sim.ensemble import Ensemble

            batch = PROBE_BATCH
            model = Ensemble([dataclasses.replace(base, seed=base.seed + i) for i in range(batch)])
            if base.steps > 1:
                model.step()
        else:
            from sim.model import ContestModel

            batch, model = 1, ContestModel(base)
        built = time.perf_counter()
        stepped, room = 0, base.steps - model.steps
        while stepped < min(probe_months, room) and (stepped == 0 or time.perf_counter() - built < budget_s):
            model.step()
            stepped += 1
        per_month = (time.perf_counter() - built) / max(stepped, 1) / batch
    except Exception:  # noqa: BLE001 - the estimate is a courtesy; the runs report their own errors
        return None
    per_run = (built - t0) / batch + per_month * months
    if any(REGISTRY[name].counterfactual for name in outcomes if name in REGISTRY):
        per_run *= 1 + len(base.scenario.cities)  # each city's no-policy run, as long as the run itself
    return per_run


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _manifest(experiment: ExperimentParams, base: RunParams, tag: str, evaluator: str, n_runs: int,
              started: datetime) -> dict:
    return {
        "experiment": experiment.name,
        "scenario": base.scenario.name,
        "steps": base.steps,
        "design": experiment.design.value,
        "parameters": [{"key": p.key, "values": list(p.values), "low": p.low, "high": p.high}
                       for p in experiment.parameters],
        "replicates": experiment.replicates,
        "root_seed": experiment.root_seed,
        "common_random_numbers": experiment.common_random_numbers,
        "posterior": _posterior_note(experiment),
        "runs": n_runs,
        "fingerprint": tag,
        "evaluator": evaluator,
        "started": started.isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "versions": package_versions(),
    }


def _posterior_note(experiment: ExperimentParams) -> dict | None:
    """The posterior the replicates drew from: its name, file and fingerprint (None: the point fit)."""
    if not experiment.posterior:
        return None
    from experiments.calibration.posterior import load_posterior

    posterior = load_posterior(experiment.posterior)
    return {"name": experiment.posterior, "source": posterior.source, "sets": len(posterior),
            "fingerprint": posterior.fingerprint()}


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def resolved_config_text(data: dict) -> str:
    """YAML text of a resolved config dict."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

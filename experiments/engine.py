"""Running a whole design into a folder: resume, record, merge, report. No Hydra here."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml
from tqdm.auto import tqdm

from experiments.design import ExperimentParams, fingerprint, run_table
from experiments.evaluate import RunTask
from experiments.evaluators import make_evaluator
from experiments.lock import FolderLock
from experiments.report import capital_probability, plot_capital_probability
from experiments.store import ResultStore
from sim.atomic import write_json
from sim.params import ParamError, RunParams, apply_overrides, to_dict
from sim.runner import git_revision, package_versions


class SweepInterrupted(RuntimeError):
    """The evaluator stopped before every run finished; the finished ones are kept."""


def check_keys(experiment: ExperimentParams, base: dict) -> None:
    """Every varied key must name an existing config key (values are checked run by run)."""
    for p in experiment.parameters:
        probe = p.values[0] if p.values else p.low
        try:
            apply_overrides(base, {p.key: probe})
        except ParamError as err:
            raise ParamError(f"experiment.parameters ({p.key})", err.message) from None


def run_sweep(experiment: ExperimentParams, base: RunParams, folder: Path, backend: str = "local",
              workers: int = 0, address: str | None = None, progress: bool = True,
              config_text: str | None = None, evaluator=None) -> pd.DataFrame:
    """Run every missing run of the design into `folder`; returns the merged runs table.

    A folder that already holds this sweep's design is resumed: finished
    runs are kept and only the missing ones are computed. A folder holding a
    different sweep, or held by another process, is refused. `evaluator`: an
    open evaluator to reuse (e.g. one pool for a calibration's rounds); by
    default one is opened for this sweep and closed after it.
    """
    folder = Path(folder)
    base_dict = to_dict(base)
    check_keys(experiment, base_dict)
    with FolderLock(folder):  # a second process into the same folder is refused at once
        if evaluator is not None:
            return _run_locked(experiment, base, base_dict, folder, evaluator, progress, config_text)
        with make_evaluator(backend, base_dict, workers, address) as opened:
            return _run_locked(experiment, base, base_dict, folder, opened, progress, config_text)


def _run_locked(experiment: ExperimentParams, base: RunParams, base_dict: dict, folder: Path, evaluator,
                progress: bool, config_text: str | None) -> pd.DataFrame:
    store = ResultStore(folder)
    tag = fingerprint(experiment, base_dict)
    if store.has_design():
        design, old_tag = store.design()
        if old_tag != tag:
            raise ParamError("hydra.run.dir", f"{folder} holds a different sweep; pick another folder")
    else:
        design = run_table(experiment)
        store.write_design(design, tag)
    if config_text is not None:
        (folder / "config.yaml").write_text(config_text, encoding="utf-8")

    done = store.done()
    todo = design[~design.run_id.isin(done)]
    keys = [p.key for p in experiment.parameters]
    tasks = [RunTask(int(r["run_id"]), int(r["seed"]), {k: _plain(r[k]) for k in keys})
             for r in todo.to_dict("records")]
    started = datetime.now(timezone.utc)
    manifest = _manifest(experiment, base, tag, evaluator.describe(), len(design), started)
    write_json(folder / "manifest.json", {**manifest, "status": "running", "resumed_with_done": len(done)})

    if done:
        print(f"resuming {folder}: {len(done)} of {len(design)} runs already done")
    t0 = time.perf_counter()
    bar = tqdm(total=len(design), initial=len(design) - len(tasks), unit="run", desc=experiment.name,
               disable=None if progress else True, smoothing=0.1)
    finished = 0
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

    runs = store.merge(design)
    cities = [c.id for c in base.scenario.cities]
    table = capital_probability(runs, keys, cities)
    table.to_csv(folder / "capital_probability.csv", index=False)
    plot_capital_probability(table, keys, cities, folder / "capital_probability.png")
    counts = runs.status.value_counts().to_dict()
    write_json(folder / "manifest.json", {
        **manifest, "status": "complete", "ended": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(time.perf_counter() - t0, 3), "computed_this_time": finished,
        "runs_ok": int(counts.get("ok", 0)), "runs_failed": int(counts.get("failed", 0))})
    return runs


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
        "runs": n_runs,
        "fingerprint": tag,
        "evaluator": evaluator,
        "started": started.isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "versions": package_versions(),
    }


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def resolved_config_text(data: dict) -> str:
    """YAML text of a resolved config dict."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

"""Calibration: fit free behavioural parameters to the published facts a scenario covers.

Method: batched Bayesian optimisation with Optuna's TPE sampler (multivariate,
with a constant liar so that one round's candidates spread out). Round 1 is
a Latin hypercube (scipy.stats.qmc) enqueued into the study, so the search
starts space-filling and the spread of the parameters is measured on it too;
each later round asks TPE for `candidates` points. Every round runs its
points `replicates` times through the sweep engine (parallel, locally or on
Dask, resumable) and tells each point's loss back to the study. A resumed
calibration replays the finished rounds from disk, in the same order, so the
sampler asks the same points again. The best point of all rounds is then
validated on `validation_replicates` fresh seeds.

Loss: sum over the scenario's fitted facts of ((simulated mean - target) / tolerance)^2
(see experiments/calibration/facts.py); a fact "holds" when its miss is within its tolerance. The
held-out facts are measured on the validation replicates only and never enter the
search, so they judge the fit.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optuna  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import qmc  # noqa: E402

from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec, code_fingerprint  # noqa: E402
from experiments.batch.engine import run_sweep  # noqa: E402
from experiments.batch.evaluators import make_evaluator  # noqa: E402
from sim.shell.folders import FolderLock  # noqa: E402
from experiments.calibration.facts import facts_for, fitted_for, held_out_for, loss, loss_of_runs  # noqa: E402
from sim.shell.atomic import atomic, save_figure, write_json, write_text  # noqa: E402
from sim.params import ParamError, RunParams, to_dict  # noqa: E402
from sim.shell.runner import git_revision  # noqa: E402


@dataclass(frozen=True)
class CalibrationParams:
    """What to fit and how hard to search."""

    parameters: tuple[ParameterSpec, ...]
    fixed: tuple[tuple[str, str], ...] = ()  # (key, reason): left at the scenario's value, not fitted
    rounds: int = 4
    candidates: int = 48
    replicates: int = 4
    validation_replicates: int = 40
    root_seed: int = 7

    def __post_init__(self) -> None:
        checks = [
            ("calibration.rounds", 1 <= self.rounds <= 50, "must be in [1, 50]"),
            ("calibration.candidates", 2 <= self.candidates <= 100_000, "must be in [2, 100000]"),
            ("calibration.replicates", 1 <= self.replicates <= 10_000, "must be in [1, 10000]"),
            ("calibration.validation_replicates", 1 <= self.validation_replicates <= 100_000,
             "must be in [1, 100000]"),
            # Optuna's and SciPy's samplers take 32-bit seeds; the rounds' sweeps derive theirs as root_seed*1000+r.
            ("calibration.root_seed", 0 <= self.root_seed < 2**32, "must be in [0, 4294967295]"),
        ]
        for key, ok, message in checks:
            if not ok:
                raise ParamError(key, message)
        for i, p in enumerate(self.parameters):
            if not p.key.startswith("scenario."):
                raise ParamError(f"calibration.parameters[{i}]", f"{p.key}: only scenario.* keys can be calibrated")
            if p.low is None or p.high is None or not p.low < p.high:
                raise ParamError(f"calibration.parameters[{i}] ({p.key})", "needs low < high")
            if not (np.isfinite(p.low) and np.isfinite(p.high)):
                raise ParamError(f"calibration.parameters[{i}] ({p.key})", "needs finite low and high")
            if p.log and p.low <= 0:
                raise ParamError(f"calibration.parameters[{i}] ({p.key})", "log: true needs low > 0")


@dataclass
class CalibrationResult:
    """The fitted values, the search history and the validation runs."""

    scenario: str
    fitted: dict[str, float]
    search_loss: float
    validation_loss: float
    history: pd.DataFrame
    validation: pd.DataFrame
    facts: pd.DataFrame  # per fact: role, target, tolerance, mean, sd, 90 % band, min, max, holds
    held_out_loss: float = float("nan")  # the same loss over the held-out facts (never searched on)
    wall_time_s: float = 0.0  # of this invocation (a resumed calibration counts only what it computed)


def calibrate(cal: CalibrationParams, base: RunParams, folder: Path, backend: str = "local", workers: int = 0,
              address: str | None = None, progress: bool = True, path: str = "fast") -> CalibrationResult:
    """Run the search and the validation into `folder` (resuming what is there)."""
    scenario = base.scenario.name
    check_has_facts(scenario)
    folder = Path(folder)
    # One calibration per folder (its rounds lock their own folders too), and one pool or cluster for all rounds.
    with FolderLock(folder), make_evaluator(backend, to_dict(base), workers, address, path) as evaluator:
        return _calibrate_locked(cal, base, folder, scenario, evaluator, progress)


def _calibrate_locked(cal: CalibrationParams, base: RunParams, folder: Path, scenario: str, evaluator,
                      progress: bool) -> CalibrationResult:
    tag = calibration_fingerprint(cal, base, evaluator.path)
    stamp = folder / "fingerprint"
    if stamp.exists() and stamp.read_text().strip() != tag:
        raise ParamError("hydra.run.dir", f"{folder} holds a different calibration; pick another folder")
    write_text(stamp, tag + "\n")
    t0 = time.perf_counter()
    keys = [p.key for p in cal.parameters]
    study, space = _study(cal)
    rounds = []
    # No fitted fact, or every parameter fixed by the scenario: validate the values it inherits.
    search_rounds = cal.rounds if fitted_for(scenario) and cal.parameters else 0
    if not fitted_for(scenario):
        print(f"{scenario} has no fitted fact: validating the values it loads on its held-out facts")
    elif not cal.parameters:
        print(f"{scenario} fixes every parameter the search would move: validating the values it loads on its facts")
    for r in range(1, search_rounds + 1):
        if r == 1:  # a space-filling start: TPE's own start-up is plain random sampling
            for row in _lhs(cal):
                study.enqueue_trial(dict(zip(keys, row)))
        trials = [study.ask(space) for _ in range(cal.candidates)]
        experiment = ExperimentParams(
            name=f"{scenario}_calibration_round_{r}", design=DesignKind.points,
            parameters=tuple(ParameterSpec(k, values=tuple(float(t.params[k]) for t in trials)) for k in keys),
            replicates=cal.replicates, root_seed=cal.root_seed * 1000 + r, outcomes=("facts",), keep_every=0)
        how = "Latin hypercube" if r == 1 else "TPE"
        print(f"round {r} of {cal.rounds} ({how}): {cal.candidates} candidates x {cal.replicates} replicates")
        runs = run_sweep(experiment, base, folder / f"round_{r}", progress=progress, evaluator=evaluator)
        if not (runs.status == "ok").any():
            raise RuntimeError(f"every run of round {r} failed; the first error: {runs.error.iloc[0]}")
        points = runs.groupby("point_id")[keys].first()
        points["loss"] = loss_of_runs(runs, scenario)
        points["round"] = r
        for trial, value in zip(trials, points.loss.to_numpy()):
            if np.isfinite(value):
                study.tell(trial, float(value))
            else:  # every replicate of the point failed: TPE learns to avoid it
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        rounds.append(points.reset_index())
        print(f"  best loss so far {pd.concat(rounds).loss.min():.3f}")
    if rounds:
        history = pd.concat(rounds, ignore_index=True)
        best = history.loc[history.loss.idxmin()]
        fitted = {k: _typed(base, k, best[k]) for k in keys}
        search_loss = float(best.loss)
    else:
        history = pd.DataFrame(columns=["point_id", *keys, "loss", "round"])
        fitted, search_loss = {}, float("nan")
    # The validation point (unfitted: the base, unchanged, named by one of its keys for the sweep's design).
    anchor = keys[0] if keys else (cal.fixed[0][0] if cal.fixed else "scenario.behaviour.logit_scale")
    at = fitted or {anchor: value_of(base, anchor)}

    validation_exp = ExperimentParams(
        name=f"{scenario}_calibration_validation", design=DesignKind.grid,
        parameters=tuple(ParameterSpec(k, values=(v,)) for k, v in at.items()),
        replicates=cal.validation_replicates, root_seed=cal.root_seed * 1000 + 999,
        outcomes=("facts", "capital", "final_share"), keep_every=0)
    print(f"validation: best point x {cal.validation_replicates} fresh seeds")
    validation = run_sweep(validation_exp, base, folder / "validation", progress=progress, evaluator=evaluator)
    table = fact_table(validation, scenario)
    means = {row.id: row.mean for row in table.itertuples()}
    held_out = held_out_for(scenario)
    return CalibrationResult(scenario, fitted, search_loss, loss(means, scenario), history, validation, table,
                             loss(means, scenario, held_out), time.perf_counter() - t0)


def check_has_facts(scenario: str) -> None:
    """Refuse a scenario no published fact covers (there is nothing to fit or validate)."""
    if not facts_for(scenario):
        from experiments.calibration.facts import FACTS

        covered = sorted({s for f in FACTS for s in f.scenarios})
        raise ParamError("scenario", f"no published fact covers {scenario!r}; calibrate one of: {', '.join(covered)}")


def parameter_spread(history: pd.DataFrame, cal: CalibrationParams, n_fitted: int) -> dict[str, dict]:
    """Each fitted parameter's range over the searched points whose loss is within tolerance of the best.

    "Within tolerance": loss <= best + n_fitted, i.e. on average each fitted
    fact missing by at most one tolerance more than at the best point (a
    likelihood-ratio-like band from the search's own samples). A parameter
    whose band covers more than half its search range (in logs for a log-scale
    parameter) is flagged `loose`: the facts do not pin it down.
    """
    if history.empty:  # nothing was searched (a scenario with no fitted fact)
        return {}
    best = float(history.loss.min())
    accepted = history[history.loss <= best + n_fitted]
    out = {}
    for p in cal.parameters:
        lo, hi = float(accepted[p.key].min()), float(accepted[p.key].max())
        f = np.log if p.log else float
        width = (f(hi) - f(lo)) / max(f(float(p.high)) - f(float(p.low)), 1e-12)
        out[p.key] = {"low": lo, "high": hi, "points": int(len(accepted)), "share_of_range": width,
                      "loose": bool(width > 0.5)}
    return out


def calibration_fingerprint(cal: CalibrationParams, base: RunParams, path: str = "fast") -> str:
    """Hash of the search settings, the base run (without its seed), the code and the path (fast or reference):
    what decides the result."""
    settings = json.dumps({"cal": dataclasses.asdict(cal), "base": {k: v for k, v in to_dict(base).items() if k != "seed"},
                           "code": code_fingerprint("calibration/search.py"), "path": path}, sort_keys=True, default=str)
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


def _typed(base: RunParams, key: str, value: float) -> float | int:
    """The value as the run used it: integer keys (e.g. a city's firms) are rounded, as in apply_overrides."""
    node = to_dict(base)
    for part in key.split("."):
        node = node[part]
    return int(round(value)) if isinstance(node, int) and not isinstance(node, bool) else float(value)


def _study(cal: CalibrationParams):
    """An in-memory Optuna study with a seeded multivariate TPE sampler, and the search space."""
    with warnings.catch_warnings():  # multivariate and constant_liar are flagged experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=cal.root_seed, n_startup_trials=cal.candidates,
                                             multivariate=True, constant_liar=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    space = {p.key: optuna.distributions.FloatDistribution(float(p.low), float(p.high), log=p.log)
             for p in cal.parameters}
    return study, space


def _lhs(cal: CalibrationParams) -> np.ndarray:
    """Round 1's points: a seeded Latin hypercube over the search ranges (in logs for a log-scale parameter)."""
    log = np.array([p.log for p in cal.parameters])
    low = np.array([p.low for p in cal.parameters], dtype=float)
    high = np.array([p.high for p in cal.parameters], dtype=float)
    low, high = np.where(log, np.log(low), low), np.where(log, np.log(high), high)
    unit = qmc.LatinHypercube(d=len(cal.parameters), seed=cal.root_seed).random(cal.candidates)
    points = low + unit * (high - low)
    return np.where(log, np.exp(points), points)


def fact_table(runs: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """Role, target and simulated mean, spread, 90 % band and range of every fact the scenario covers."""
    ok = runs[runs.status == "ok"]
    rows = []
    for f in facts_for(scenario):
        values = ok[f"fact.{f.id}"].astype(float)
        mean = float(values.mean())
        rows.append({"id": f.id, "fact": f.text, "role": f.role(scenario), "source": f.source, "unit": f.unit,
                     "target": f.target,
                     "tolerance": f.tolerance, "bound": "below" if f.upper_bound else ("at least" if f.lower_bound else "within"),
                     "mean": mean, "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                     "min": float(values.min()), "max": float(values.max()),
                     "p5": float(values.quantile(0.05)), "p95": float(values.quantile(0.95)),
                     "replicates": int(len(values)),
                     "holds": bool(f.holds(mean)), "how": f.reason})
    return pd.DataFrame(rows)


def plot_fit(result: CalibrationResult, path: Path) -> Path:
    """Normalised miss of each fact over the validation replicates; the shaded band is the tolerance."""
    facts = facts_for(result.scenario)
    ok = result.validation[result.validation.status == "ok"]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(facts) + 1.6), dpi=110)
    ax.axvspan(-1, 1, color="tab:green", alpha=0.15, label="within tolerance")
    for i, f in enumerate(facts):
        misses = np.array([f.error(v) for v in ok[f"fact.{f.id}"].astype(float)])
        jitter = (np.arange(len(misses)) % 7 - 3) * 0.04
        color = "tab:blue" if f.role(result.scenario) == "fitted" else "tab:orange"
        ax.scatter(misses, i + jitter, s=8, color=color, alpha=0.5)
        ax.plot([misses.mean()], [i], marker="D", color="black", ms=6)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(facts)), [f"{f.text} ({f.role(result.scenario)})" for f in facts], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("(simulated - target) / tolerance\n(dots: replicates, blue fitted, orange held-out; diamond: mean)")
    ax.set_title(f"{result.scenario}: fit to the published facts, {len(ok)} replicates", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def plot_spread(record: dict, path: Path) -> Path:
    """Each fitted parameter: its search range (grey), its range within the loss tolerance (bar) and its fit (dot).

    Drawn from the calibration record (`result_json`), on each parameter's
    search range scaled to [0, 1], so loose and pinned parameters read at a glance.
    """
    keys = list(record["fitted"])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(keys) + 1.4), dpi=110)
    for i, key in enumerate(keys):
        lo, hi = record["search"]["bounds"][key]
        sp = record["spread"][key]
        scale = lambda v: (v - lo) / (hi - lo)  # noqa: E731
        ax.plot([0, 1], [i, i], color="0.85", lw=8, solid_capstyle="butt")
        color = "tab:red" if sp["loose"] else "tab:green"
        ax.plot([scale(sp["low"]), scale(sp["high"])], [i, i], color=color, lw=8, solid_capstyle="butt")
        ax.plot([scale(record["fitted"][key])], [i], marker="o", color="black", ms=6)
    ax.axvline(0.5, color="0.6", lw=0.6, ls=":")
    ax.set_yticks(range(len(keys)), [k.removeprefix("scenario.") for k in keys], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("share of the search range (grey: searched; bar: within the loss tolerance,\n"
                  "red when over half of the range, i.e. loose; dot: the fitted value)", fontsize=8)
    ax.set_title(f"{record['scenario']}: how well the facts pin each parameter down", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path


def calibrated_yaml(result: CalibrationResult, command: str, previous: dict | None = None) -> str:
    """The scenario's calibration file: fitted values under their scenario keys, with provenance.

    `previous` is the calibration file the search ran with (it was part of
    the base); its values that were not refitted are kept, so the published
    scenario is exactly the one that was fitted.
    """
    tree: dict = copy.deepcopy(previous or {})
    for key, value in sorted(result.fitted.items()):
        node = tree
        parts = key.split(".")[1:]  # drop "scenario."
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    lines = [
        f"# Calibrated values for scenario {result.scenario}; loaded by configs/scenario/{result.scenario}.yaml",
        "# and overriding the scenario's own values. Do not edit by hand: rerun",
        f"#   {command}",
        f"# Written {datetime.now(timezone.utc).date()} at git {git_revision()}; loss {result.search_loss:.3f} in the",
        f"# search, {result.validation_loss:.3f} over {result.facts.replicates.max()} validation replicates"
        " (docs/calibration.md).",
    ]

    def emit(node: dict, indent: int) -> None:
        for k, v in node.items():
            if isinstance(v, dict):
                lines.append(" " * indent + f"{k}:")
                emit(v, indent + 2)
            else:
                lines.append(" " * indent + f"{k}: {v if isinstance(v, int) else f'{v:.6g}'}  # calibrated")
    emit(tree, 0)
    return "\n".join(lines) + "\n"


def value_of(base: RunParams, key: str):
    """The value of a dotted run key (e.g. 'scenario.behaviour.logit_scale') in `base`."""
    node = to_dict(base)
    for part in key.split("."):
        node = node[part]
    return node


def result_json(result: CalibrationResult, cal: CalibrationParams, command: str, base: RunParams) -> dict:
    """Machine-readable record of a calibration (published beside docs/calibration.md)."""
    return {
        "scenario": result.scenario,
        "command": command,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "method": f"Optuna {optuna.__version__} TPE (multivariate, constant liar) after a Latin-hypercube round",
        "search": {"rounds": cal.rounds, "candidates": cal.candidates, "replicates": cal.replicates,
                   "root_seed": cal.root_seed,
                   "bounds": {p.key: [p.low, p.high] for p in cal.parameters}},
        "wall_time_s": round(result.wall_time_s, 1),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "fitted": result.fitted,
        "inherited": {} if result.fitted else {p.key: value_of(base, p.key) for p in cal.parameters},
        "fixed": {key: {"value": value_of(base, key), "reason": reason} for key, reason in cal.fixed},
        "spread": parameter_spread(result.history, cal, int((result.facts.role == "fitted").sum())),
        "search_loss": result.search_loss,
        "validation_loss": result.validation_loss,
        "held_out_loss": result.held_out_loss,
        "validation_replicates": int(result.facts.replicates.max()),
        "capital_probability": result.validation[result.validation.status == "ok"].capital.fillna("none")
        .value_counts(normalize=True).to_dict(),
        "facts": result.facts.to_dict(orient="records"),
    }


def write_outputs(result: CalibrationResult, cal: CalibrationParams, folder: Path, command: str, base: RunParams,
                  previous: dict | None = None) -> dict:
    """Write calibration.json, fit.png, spread.png, history.csv and the fitted YAML into the run folder."""
    folder = Path(folder)
    record = result_json(result, cal, command, base)
    write_json(folder / "calibration.json", record)
    atomic(folder / "history.csv", lambda tmp: result.history.to_csv(tmp, index=False))
    plot_fit(result, folder / "fit.png")
    if result.fitted:  # a validation-only record has no spread and no calibration file of its own
        plot_spread(record, folder / "spread.png")
        write_text(folder / f"{result.scenario}.yaml", calibrated_yaml(result, command, previous))
    return record

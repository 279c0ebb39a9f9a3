"""The cheapest winning policy: Optuna searches a city's levers for the least outlay that makes it the capital.

Each trial is a policy (values of the city's levers); it is run on the same
`replicates` seeds (common random numbers, spawned from `root_seed`), against
rivals that keep their policy (`fixed`) or answer (`reactive`). Optuna's
multi-objective TPE sampler trades the city's mean outlay over the run
(minimised) against the share of runs in which it ends as the capital
(maximised), so the study maps the whole frontier; the answer is the trial
of least outlay among those reaching `target`. The study lives in a journal
file in the run folder: a stopped optimisation resumes where it was, and a
trial that was under way when it stopped is marked failed, never counted.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from experiments.design import ParameterSpec
from experiments.evaluate import RunTask
from experiments.lock import FolderLock
from sim.params import ParamError, RunParams, apply_overrides, to_dict

RIVALS = ("fixed", "reactive")
JOURNAL = "optuna.journal"


@dataclass(frozen=True)
class OptimizeParams:
    """What to optimise: whose levers, in which ranges, to reach which chance of becoming the capital."""

    city: str
    levers: tuple[ParameterSpec, ...]
    target: float = 0.8
    trials: int = 40
    replicates: int = 10
    rivals: str = "fixed"
    root_seed: int = 11

    def __post_init__(self) -> None:
        checks = [
            ("target", 0.0 < self.target <= 1.0, f"{self.target} is out of range; allowed (0, 1]"),
            ("trials", 1 <= self.trials <= 100_000, f"{self.trials} is out of range; allowed [1, 100000]"),
            ("replicates", 1 <= self.replicates <= 10_000, f"{self.replicates} is out of range; allowed [1, 10000]"),
            ("rivals", self.rivals in RIVALS, f"{self.rivals!r} is not allowed; choose {' or '.join(RIVALS)}"),
            ("levers", len(self.levers) > 0, "name at least one lever to search"),
        ]
        for key, ok, message in checks:
            if not ok:
                raise ParamError(key, message)
        for i, p in enumerate(self.levers):
            if p.low is None or p.high is None or not p.low < p.high:
                raise ParamError(f"levers[{i}] ({p.key})", "needs low < high")


def check(opt: OptimizeParams, base: RunParams) -> dict:
    """The base run as plain data with the rivals' strategies set; refuses an unknown city or lever key."""
    cities = [c.id for c in base.scenario.cities]
    if opt.city not in cities:
        raise ParamError("city", f"{opt.city!r} is not a city of scenario {base.scenario.name!r}; "
                                 f"allowed: {', '.join(cities)}")
    rivals = {f"scenario.cities.{c}.strategy.kind": opt.rivals for c in cities if c != opt.city}
    data = apply_overrides(to_dict(base), rivals)
    for i, p in enumerate(opt.levers):
        try:
            apply_overrides(data, {p.key: p.low})
            apply_overrides(data, {p.key: p.high})
        except ParamError as err:
            raise ParamError(f"levers[{i}] ({p.key})", err.message) from None
    return data


def fingerprint(opt: OptimizeParams, base_data: dict) -> str:
    """What decides the study: the settings but the number of trials (a resume may ask for more), and the base
    run without its seed. A folder holds one study."""
    text = json.dumps({"opt": {k: v for k, v in asdict(opt).items() if k != "trials"}, "base": {k: v for k, v in base_data.items() if k != "seed"}},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seeds(opt: OptimizeParams) -> list[int]:
    """The replicates' seeds, the same for every trial."""
    states = np.random.SeedSequence(opt.root_seed).generate_state(opt.replicates, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in states]


def _study(folder: Path, opt: OptimizeParams):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the journal backend is marked experimental in some Optuna releases
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = JournalStorage(JournalFileBackend(str(folder / JOURNAL)))
        sampler = optuna.samplers.TPESampler(seed=opt.root_seed, multivariate=True,
                                             n_startup_trials=min(10, max(opt.trials // 4, 2)))
        return optuna.create_study(study_name="cheapest_winning_policy", storage=storage, sampler=sampler,
                                   directions=["minimize", "maximize"], load_if_exists=True)


def optimize(opt: OptimizeParams, base: RunParams, folder: Path, evaluator, progress: bool = True) -> dict:
    """Run the trials still missing in `folder` with `evaluator` (an open LocalEvaluator or DaskEvaluator, or any
    object with its `map`), then write optimize.json, trials.csv and pareto.png; returns the record."""
    from optuna.trial import TrialState

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = check(opt, base)
    tag = fingerprint(opt, data)
    with FolderLock(folder):
        stamp = folder / "fingerprint"
        if stamp.exists() and stamp.read_text().strip() != tag:
            raise ParamError("hydra.run.dir", f"{folder} holds a different optimisation; pick another folder")
        stamp.write_text(tag + "\n")
        study = _study(folder, opt)
        for stale in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            study.tell(stale.number, state=TrialState.FAIL)  # under way when the last process stopped
        done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if done:
            print(f"resuming {folder}: {done} of {opt.trials} trials already done")
        replicate_seeds = seeds(opt)
        bar = tqdm(total=opt.trials, initial=done, unit="trial", desc=f"cheapest policy for {opt.city}",
                   disable=None if progress else True)
        try:
            while done < opt.trials:
                trial = study.ask()
                values = {p.key: trial.suggest_float(p.key, p.low, p.high) for p in opt.levers}
                outlay, chance, failed = _evaluate(opt, values, replicate_seeds, trial.number, evaluator)
                if failed:
                    trial.set_user_attr("failed_runs", failed)
                study.tell(trial, [outlay, chance])
                done += 1
                bar.update()
                bar.set_postfix_str(f"{chance:.0%} capital at {outlay / 1e6:,.0f} M¥")
        finally:
            bar.close()
    return write_outputs(study, opt, folder)


def _evaluate(opt: OptimizeParams, values: dict, replicate_seeds: list[int], number: int, evaluator):
    """One policy on every replicate seed: mean outlay of the city (yuan) and share of runs it ends as capital."""
    tasks = [RunTask(number * opt.replicates + r, s, values) for r, s in enumerate(replicate_seeds)]
    rows = [result.row for result in evaluator.map(tasks, ("capital", "outlay_total"), 0)]
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        raise RuntimeError(f"every run of trial {number} failed: {rows[0].get('error')}")
    outlay = float(np.mean([r[f"outlay_total.{opt.city}"] for r in ok]))
    chance = float(np.mean([r["capital"] == opt.city for r in ok]))
    return outlay, chance, len(rows) - len(ok)


def trials_table(study, opt: OptimizeParams) -> pd.DataFrame:
    """Every complete trial: its lever values, the city's mean outlay and its chance of becoming the capital."""
    from optuna.trial import TrialState

    rows = [{"trial": t.number, **t.params, "outlay": t.values[0], "p_capital": t.values[1]}
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return pd.DataFrame(rows, columns=["trial", *[p.key for p in opt.levers], "outlay", "p_capital"])


def cheapest(table: pd.DataFrame, target: float) -> tuple[pd.Series, bool]:
    """The least-outlay trial reaching `target`, or (when none does) the one with the best chance."""
    feasible = table[table.p_capital >= target]
    if len(feasible):
        return feasible.loc[feasible.outlay.idxmin()], True
    best = table[table.p_capital == table.p_capital.max()]
    return best.loc[best.outlay.idxmin()], False


def write_outputs(study, opt: OptimizeParams, folder: Path) -> dict:
    """optimize.json (the answer and the frontier), trials.csv and pareto.png."""
    from sim.atomic import write_json

    table = trials_table(study, opt)
    table.to_csv(folder / "trials.csv", index=False)
    best, reached = cheapest(table, opt.target)
    front = table.sort_values("outlay")
    front = front[front.p_capital > front.p_capital.cummax().shift(fill_value=-1)]  # each step up in chance
    record = {"city": opt.city, "target": opt.target, "rivals": opt.rivals, "reached": reached,
              "policy": {p.key: float(best[p.key]) for p in opt.levers}, "outlay": float(best.outlay),
              "p_capital": float(best.p_capital), "trial": int(best.trial), "trials": len(table),
              "replicates": opt.replicates, "frontier": front.to_dict("records"), "settings": asdict(opt)}
    write_json(folder / "optimize.json", record)
    _plot(table, front, best, opt, folder / "pareto.png")
    return record


def _plot(table: pd.DataFrame, front: pd.DataFrame, best: pd.Series, opt: OptimizeParams, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(table.outlay / 1e6, table.p_capital, s=14, color="0.6", label="trials")
    ax.step(front.outlay / 1e6, front.p_capital, where="post", color="C0", label="frontier")
    ax.axhline(opt.target, color="k", ls="--", lw=0.8)
    ax.annotate(f"target {opt.target:.0%}", (0.01, opt.target), xycoords=("axes fraction", "data"), fontsize=8,
                va="bottom")
    ax.scatter([best.outlay / 1e6], [best.p_capital], s=90, facecolors="none", edgecolors="r", label="cheapest")
    ax.set_xlabel(f"{opt.city}'s outlay over the run, M¥ (mean of {opt.replicates} seeds)")
    ax.set_ylabel("share of runs it ends as capital")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"cheapest policy for {opt.city}, rivals {opt.rivals}", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""The cheapest winning policy: Optuna searches a city's levers for the least outlay that makes it the capital.

Each trial is a policy (values of the city's levers); it is run on the same
`replicates` seeds (common random numbers, spawned from `root_seed`), against
rivals that keep their policy (`fixed`) or answer (`reactive`). Optuna's
multi-objective TPE sampler trades the city's mean outlay over the run
(minimised) against the share of runs in which it ends as the capital
(maximised), with the target as Optuna's constraint (a trial's shortfall
below it, feasible at 0 or less), so the sampler steers toward feasible
policies and `best_trials` gives the Pareto front among them; the answer is
the trial of least outlay among those reaching `target` on the search's seeds. That
answer is then run again on `holdout` fresh seeds the search never saw
(default 200): a policy picked as the cheapest of many noisy 10-seed scores
is biased toward lucky seeds, so it is said to reach the target only when
the 95 % Wilson interval of its out-of-sample chance lies at or above the
target; otherwise the record says what it reaches. The study lives in a journal
file in the run folder: a stopped optimisation resumes where it was, and a
trial that was under way when it stopped is marked failed, never counted.

A resumed study is the study an uninterrupted run would have made: each trial
is asked of a sampler seeded from (`root_seed`, number of complete trials so
far), and TPE is otherwise a function of the complete trials alone, so neither
a restart nor a failed trial shifts what comes next. A journal whose last line
was cut short (a full disk, a kill during a write) is cut back to its last
whole entry, the original kept beside it, before the study is opened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from experiments.batch.design import ParameterSpec
from experiments.batch.runs import RunTask
from experiments.analysis.intervals import CONFIDENCE, wilson
from sim.shell.folders import FolderLock
from sim.shell.atomic import atomic, save_figure, write_csv, write_json, write_text
from sim.params import (ParamError, PolicyParams, RunParams, StrategyParams, _range_text, apply_overrides, from_dict,
                        to_dict)

RIVALS = ("fixed", "reactive")
JOURNAL = "optuna.journal"
SAMPLER_STREAM = 0x5A3D  # keeps the samplers' seeds apart from the replicates' (both are spawned from root_seed)
HOLDOUT_STREAM = 0x0F5E  # the out-of-sample seeds, apart from the search's and the samplers'
HOLDOUT_RUN = 1 << 40  # run ids of the out-of-sample runs, apart from the trials'
HOLDOUT_FILE = "holdout.json"  # the out-of-sample check of the chosen policy, reused while the policy is the same
MAX_CORNER_LEVERS = 8  # up to this many levers every corner of the box is checked as a whole run (2^8 runs' params)


def _numeric_fields(cls: type) -> dict[str, tuple[float, float, bool]]:
    """The fields of `cls` that declare a range: name -> (low, high, whole numbers only)."""
    return {f.name: (f.metadata["lo"], f.metadata["hi"], f.type in (int, "int"))
            for f in dataclasses.fields(cls) if f.metadata.get("lo") is not None and f.metadata.get("hi") is not None}


# What a lever may move: a number of the searched city's own policy or strategy. Seeds, steps, the start month and
# other cities' settings are not policies the city could choose (a lever on `seed` would "find" a lucky seed).
LEVER_FIELDS = {"policy": _numeric_fields(PolicyParams), "strategy": _numeric_fields(StrategyParams)}


def lever_range(key: str, city: str) -> tuple[float, float, bool]:
    """The allowed range of lever `key` for `city`: (low, high, whole numbers only); KeyError if `key` is not one
    of the city's policy or strategy numbers."""
    parts = key.split(".")
    if len(parts) != 5 or parts[:3] != ["scenario", "cities", city] or parts[3] not in LEVER_FIELDS:
        raise KeyError(key)
    return LEVER_FIELDS[parts[3]][parts[4]]


def _lever_help(city: str) -> str:
    return (f"a lever is a number of {city}'s policy or strategy: scenario.cities.{city}.policy.<name> "
            f"({', '.join(LEVER_FIELDS['policy'])}) or scenario.cities.{city}.strategy.<name> "
            f"({', '.join(LEVER_FIELDS['strategy'])})")


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
    holdout: int = 200  # fresh seeds the chosen policy is run on again, never seen by the search
    posterior: str = ""  # a published posterior each seed draws its parameter set from ("": the point fit)

    def __post_init__(self) -> None:
        if self.posterior:
            from experiments.calibration.posterior import load_posterior

            load_posterior(self.posterior)  # one-line error naming the published ones
        checks = [
            ("target", 0.0 < self.target <= 1.0, f"{self.target} is out of range; allowed (0, 1]"),
            ("trials", 1 <= self.trials <= 100_000, f"{self.trials} is out of range; allowed [1, 100000]"),
            ("replicates", 1 <= self.replicates <= 10_000, f"{self.replicates} is out of range; allowed [1, 10000]"),
            ("holdout", 1 <= self.holdout <= 100_000, f"{self.holdout} is out of range; allowed [1, 100000]"),
            ("rivals", self.rivals in RIVALS, f"{self.rivals!r} is not allowed; choose {' or '.join(RIVALS)}"),
            # numpy's RandomState, under Optuna's samplers, takes 32-bit seeds
            ("root_seed", 0 <= self.root_seed < 2**32, f"{self.root_seed} is out of range; allowed [0, {2**32 - 1}]"),
            ("levers", len(self.levers) > 0, "name at least one lever to search"),
        ]
        for key, ok, message in checks:
            if not ok:
                raise ParamError(key, message)
        seen: dict[str, int] = {}
        for i, p in enumerate(self.levers):
            where = f"levers[{i}] ({p.key})"
            if p.key in seen:
                raise ParamError(where, f"listed twice (also levers[{seen[p.key]}]); give each lever once")
            seen[p.key] = i
            try:
                lo, hi, whole = lever_range(p.key, self.city)
            except KeyError:
                raise ParamError(where, f"not a lever; {_lever_help(self.city)}") from None
            allowed = f"allowed {'whole numbers in ' if whole else ''}{_range_text(lo, hi)}"
            if p.values:
                raise ParamError(where, f"a lever is a numeric range, not a list of values; give low and high, "
                                        f"{allowed}")
            for name, value in (("low", p.low), ("high", p.high)):
                if value is None:
                    raise ParamError(where, f"needs {name}; {allowed}")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ParamError(where, f"{name} {value!r} is not a finite number; {allowed}")
                if not lo <= value <= hi:
                    raise ParamError(where, f"{name} {value:g} is out of range; {allowed}")
                if whole and not float(value).is_integer():
                    raise ParamError(where, f"{name} {value:g} is not a whole number; {allowed}")
            if not p.low < p.high:
                raise ParamError(where, f"needs low < high (got {p.low:g} and {p.high:g}); {allowed}")

    def is_whole(self, lever: ParameterSpec) -> bool:
        """Whether `lever` takes whole numbers (searched as integers, so each trial's values are the ones run)."""
        return lever_range(lever.key, self.city)[2]


def check(opt: OptimizeParams, base: RunParams) -> dict:
    """The base run as plain data with the rivals' strategies set; refuses an unknown city, and levers whose box
    holds a run the model would refuse (a check that only set each key would let a range through that fails
    mid-study: every run of a trial failing)."""
    cities = [c.id for c in base.scenario.cities]
    if opt.city not in cities:
        raise ParamError("city", f"{opt.city!r} is not a city of scenario {base.scenario.name!r}; "
                                 f"allowed: {', '.join(cities)}")
    rivals = {f"scenario.cities.{c}.strategy.kind": opt.rivals for c in cities if c != opt.city}
    data = apply_overrides(to_dict(base), rivals)
    for i, p in enumerate(opt.levers):
        for value in (p.low, p.high):
            _check_run(opt, data, {p.key: value}, f"levers[{i}] ({p.key})")
    if len(opt.levers) <= MAX_CORNER_LEVERS:
        # Ranges are boxes and the cross-key rules (min_reward_rate <= max_reward_rate) are linear, so a rule broken
        # anywhere in the box is broken at a corner.
        for corner in itertools.product(*((p.low, p.high) for p in opt.levers)):
            values = {p.key: v for p, v in zip(opt.levers, corner)}
            _check_run(opt, data, values, "levers")
    return data


def _check_run(opt: OptimizeParams, data: dict, values: dict, where: str) -> None:
    try:
        from_dict(RunParams, apply_overrides(data, values))
    except ParamError as err:
        setting = ", ".join(f"{k.rsplit('.', 1)[-1]}={v:g}" for k, v in values.items())
        named = [f"levers[{i}] ({p.key})" for i, p in enumerate(opt.levers) if p.key == err.key]
        raise ParamError(named[0] if named else where, f"the run at {setting} is refused: {err}") from None


def fingerprint(opt: OptimizeParams, base_data: dict, path: str = "fast") -> str:
    """What decides the study: the settings but the number of trials (a resume may ask for more), and the base
    run without its seed. A folder holds one study."""
    payload = {"opt": {k: v for k, v in asdict(opt).items() if k not in ("trials", "holdout")},
               "base": {k: v for k, v in base_data.items() if k != "seed"}, "path": path}
    if opt.posterior:  # the ensemble itself: a republished posterior is another study
        from experiments.calibration.posterior import load_posterior

        payload["posterior"] = load_posterior(opt.posterior).fingerprint()
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seeds(opt: OptimizeParams) -> list[int]:
    """The replicates' seeds, the same for every trial."""
    states = np.random.SeedSequence(opt.root_seed).generate_state(opt.replicates, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in states]


def holdout_seeds(opt: OptimizeParams) -> list[int]:
    """`holdout` fresh seeds for the out-of-sample check, from their own stream (none of the search's)."""
    states = np.random.SeedSequence([opt.root_seed, HOLDOUT_STREAM]).generate_state(opt.holdout, dtype=np.uint64)
    search = set(seeds(opt))
    return [s for s in (int(x >> np.uint64(1)) for x in states) if s not in search]


def sampler_seed(opt: OptimizeParams, done: int) -> int:
    """The seed of the sampler that asks for the trial after `done` complete ones (a 32-bit seed, as numpy's
    RandomState under Optuna's samplers takes)."""
    return int(np.random.SeedSequence([opt.root_seed, SAMPLER_STREAM, done]).generate_state(1)[0])


def _sampler(opt: OptimizeParams, done: int):
    """A fresh TPE sampler for the next trial.

    TPESampler (Optuna 5.1) keeps two random states, its own and that of the
    RandomSampler it uses for the startup trials; everything else it reads
    from the study's COMPLETE (and PRUNED) trials in order of their number,
    never FAIL ones. A sampler seeded once per process would start its
    random states afresh at every resume and repeat the first trials' values;
    one made for each trial from (root_seed, complete trials) makes trial k
    the same whether the study ran in one go or in several, and whether a
    failed trial used up a trial number or not.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `multivariate` is marked experimental
        import optuna

        return optuna.samplers.TPESampler(seed=sampler_seed(opt, done), multivariate=True,
                                          n_startup_trials=min(10, max(opt.trials // 4, 2)),
                                          constraints_func=_shortfall)


SHORTFALL = "shortfall"  # a trial's user attribute: target - its chance of becoming the capital (feasible at <= 0)


def _shortfall(trial) -> list[float]:
    """Optuna's constraint (feasible when <= 0): how far the trial's chance falls short of the target."""
    return [float(trial.user_attrs.get(SHORTFALL, 1.0))]


def _study(folder: Path, opt: OptimizeParams):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the journal backend is marked experimental in some Optuna releases
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = JournalStorage(JournalFileBackend(str(folder / JOURNAL)))
        return optuna.create_study(study_name="cheapest_winning_policy", storage=storage, sampler=_sampler(opt, 0),
                                   directions=["minimize", "maximize"], load_if_exists=True)


def repair_journal(path: Path) -> str | None:
    """Cut a torn last line off the journal at `path`; the one-line notice to print, or None if it is whole.

    Optuna appends each entry as one line and tolerates a partial last line
    when reading, but its next append lands on that partial line, and from
    then on every read fails: a torn tail must go before the study is opened.
    The original bytes are kept beside the journal. A broken line with whole
    entries after it is not a torn write but damage the study cannot be read
    past: ParamError, nothing changed.
    """
    path = Path(path)
    if not path.is_file():
        return None
    data = path.read_bytes()
    start, number, bad = 0, 0, None  # bad: (line number, byte offset) of the first line that is not an entry
    while start < len(data):
        end = data.find(b"\n", start)
        line = data[start:] if end < 0 else data[start:end]
        number += 1
        if bad is None and (end < 0 or not _is_entry(line)):
            bad = (number, start)
        elif bad is not None and line.strip():
            raise ParamError("hydra.run.dir", f"{path}: line {bad[0]} is not a journal entry and whole entries "
                                              f"follow it (damage, not a cut-short last write), so the study cannot "
                                              f"be read; move {path.name} aside to start afresh")
        start = len(data) if end < 0 else end + 1
    if bad is None:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.torn-{stamp}")
    n = 1
    while backup.exists():  # never overwrite an earlier copy
        backup, n = path.with_name(f"{path.name}.torn-{stamp}-{n}"), n + 1
    atomic(backup, lambda p: p.write_bytes(data))
    atomic(path, lambda p: p.write_bytes(data[:bad[1]]))
    return (f"repaired {path}: its last write was cut short at line {bad[0]}; kept the {bad[0] - 1} whole entries "
            f"before it, the original is saved as {backup.name}")


def _is_entry(line: bytes) -> bool:
    try:
        entry = json.loads(line)
    except ValueError:  # JSONDecodeError, and bytes that are not UTF-8
        return False
    return isinstance(entry, dict) and "op_code" in entry


def optimize(opt: OptimizeParams, base: RunParams, folder: Path, evaluator, progress: bool = True) -> dict:
    """Run the trials still missing in `folder` with `evaluator` (an open LocalEvaluator or DaskEvaluator, or any
    object with its `map`), then write optimize.json, trials.csv and pareto.png; returns the record."""
    from optuna.trial import TrialState

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = check(opt, base)
    tag = fingerprint(opt, data, getattr(evaluator, "path", "fast"))
    with FolderLock(folder):
        stamp = folder / "fingerprint"
        if stamp.exists() and stamp.read_text().strip() != tag:
            raise ParamError("hydra.run.dir", f"{folder} holds a different optimisation; pick another folder")
        notice = repair_journal(folder / JOURNAL)
        if notice:
            print(notice)
        # Optuna's own journal lock, left behind by a process killed while appending, would stall the next one for
        # its 30 s grace period; the folder lock held here already keeps every other writer out.
        (folder / (JOURNAL + ".lock")).unlink(missing_ok=True)
        write_text(stamp, tag + "\n")
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
                study.sampler = _sampler(opt, done)
                trial = study.ask()
                values = {p.key: (trial.suggest_int(p.key, int(p.low), int(p.high)) if opt.is_whole(p)
                                  else trial.suggest_float(p.key, p.low, p.high)) for p in opt.levers}
                outlay, chance, failed = _evaluate(opt, values, replicate_seeds, done, evaluator)
                if failed:
                    trial.set_user_attr("failed_runs", failed)
                trial.set_user_attr(SHORTFALL, opt.target - chance)
                study.tell(trial, [outlay, chance])
                done += 1
                bar.update()
                bar.set_postfix_str(f"{chance:.0%} capital at {outlay / 1e6:,.0f} M¥")
        finally:
            bar.close()
        table = trials_table(study, opt)
        best, _ = cheapest(table, opt.target)
        tested = out_of_sample(opt, {p.key: _typed_value(opt, p, best[p.key]) for p in opt.levers}, folder,
                               evaluator)
    return write_outputs(study, opt, folder, tested)


def _typed_value(opt: OptimizeParams, lever: ParameterSpec, value) -> float | int:
    return int(value) if opt.is_whole(lever) else float(value)


def out_of_sample(opt: OptimizeParams, policy: dict, folder: Path, evaluator) -> dict:
    """The chosen policy on the holdout seeds: runs, wins, the chance with its Wilson interval, the mean outlay.
    Reused from holdout.json while the policy and the number of seeds are the same (a resumed study)."""
    path = Path(folder) / HOLDOUT_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("policy") == policy and saved.get("seeds_asked") == opt.holdout:
            return saved
    drawn = drawn_values(opt, evaluator)
    tasks = [RunTask(HOLDOUT_RUN + i, s, {**drawn(s), **policy}) for i, s in enumerate(holdout_seeds(opt))]
    rows = sorted((result.row for result in evaluator.map(tasks, ("capital", "outlay_total"), 0)),
                  key=lambda row: row["run_id"])
    ok = [r for r in rows if r["status"] == "ok"]
    wins = sum(r["capital"] == opt.city for r in ok)
    low, high = wilson(wins, len(ok))
    record = {"policy": policy, "seeds_asked": opt.holdout, "runs": len(ok), "failed": len(rows) - len(ok),
              "capital": int(wins), "p_capital": wins / len(ok) if ok else float("nan"),
              "interval": [low, high], "confidence": CONFIDENCE,
              "outlay": float(np.mean([r[f"outlay_total.{opt.city}"] for r in ok])) if ok else float("nan")}
    write_json(path, record)
    return record


def drawn_values(opt: OptimizeParams, evaluator):
    """Seed -> the posterior's parameter set for it, as overrides (nothing without a posterior)."""
    if not opt.posterior:
        return lambda seed: {}
    from experiments.calibration.posterior import load_posterior

    posterior = load_posterior(opt.posterior)
    return lambda seed: posterior.values(posterior.index_for(seed), evaluator.base)


def _evaluate(opt: OptimizeParams, values: dict, replicate_seeds: list[int], number: int, evaluator):
    """One policy on every replicate seed: mean outlay of the city (yuan) and share of runs it ends as capital.
    `number`: the trial's place among the complete ones."""
    drawn = drawn_values(opt, evaluator)
    tasks = [RunTask(number * opt.replicates + r, s, {**drawn(s), **values}) for r, s in enumerate(replicate_seeds)]
    # Results come in the order runs finish; a float mean depends on the order of its terms.
    rows = sorted((result.row for result in evaluator.map(tasks, ("capital", "outlay_total"), 0)),
                  key=lambda row: row["run_id"])
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        raise RuntimeError(f"every run of trial {number} failed: {rows[0].get('error')}")
    outlay = float(np.mean([r[f"outlay_total.{opt.city}"] for r in ok]))
    chance = float(np.mean([r["capital"] == opt.city for r in ok]))
    return outlay, chance, len(rows) - len(ok)


def trials_table(study, opt: OptimizeParams) -> pd.DataFrame:
    """Every complete trial: its lever values, the city's mean outlay and its chance of becoming the capital.

    `trial` is the trial's place among the complete ones (0, 1, ...), not Optuna's number, which failed trials
    (under way when a process stopped) also use up: a resumed study lists the same trials as an uninterrupted one.
    """
    from optuna.trial import TrialState

    complete = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number)
    rows = [{"trial": i, **t.params, "outlay": t.values[0], "p_capital": t.values[1]} for i, t in enumerate(complete)]
    return pd.DataFrame(rows, columns=["trial", *[p.key for p in opt.levers], "outlay", "p_capital"])


def pareto_front(study, table: pd.DataFrame) -> pd.DataFrame:
    """The trials on Optuna's Pareto front (`best_trials`: least outlay against most chance), among those meeting
    the target when any does (Optuna's constraint handling), by outlay; rows of `table`."""
    numbers = sorted(t.number for t in study.best_trials)
    complete = sorted(t.number for t in study.get_trials(deepcopy=False) if t.values is not None)
    place = {n: i for i, n in enumerate(complete)}  # Optuna's number -> `trial`, the place among complete ones
    return table[table.trial.isin([place[n] for n in numbers if n in place])].sort_values("outlay")


def cheapest(table: pd.DataFrame, target: float) -> tuple[pd.Series, bool]:
    """The least-outlay trial reaching `target`, or (when none does) the one with the best chance."""
    feasible = table[table.p_capital >= target]
    if len(feasible):
        return feasible.loc[feasible.outlay.idxmin()], True
    best = table[table.p_capital == table.p_capital.max()]
    return best.loc[best.outlay.idxmin()], False


def write_outputs(study, opt: OptimizeParams, folder: Path, check: dict) -> dict:
    """optimize.json (the answer, its out-of-sample check and the frontier), trials.csv and pareto.png.

    `reached` is the out-of-sample verdict: the lower end of the check's interval at or above the target.
    `reached_on_search_seeds` and `p_capital_search` are what the search's own seeds said.
    """
    table = trials_table(study, opt)
    write_csv(table, folder / "trials.csv")
    best, reached_search = cheapest(table, opt.target)
    front = pareto_front(study, table)
    record = {"city": opt.city, "target": opt.target, "rivals": opt.rivals,
              "reached": bool(check["runs"] and check["interval"][0] >= opt.target),
              "reached_on_search_seeds": reached_search,
              "policy": {p.key: float(best[p.key]) for p in opt.levers}, "outlay": float(best.outlay),
              "p_capital": check["p_capital"], "p_capital_interval": check["interval"],
              "out_of_sample": check, "p_capital_search": float(best.p_capital), "trial": int(best.trial),
              "trials": len(table), "replicates": opt.replicates, "frontier": front.to_dict("records"),
              "settings": asdict(opt)}
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
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)

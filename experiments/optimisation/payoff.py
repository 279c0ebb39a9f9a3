"""The best policy for one city: Optuna searches its levers for the highest mean payoff, the others held fixed.

This is the optimiser's second goal beside the cheapest winning policy
(experiments/optimisation/search.py), and the best response of the subsidy
game (experiments/game): `maximise` asks Optuna's TPE sampler for policies,
scores each with `score` (a mean over the same seeds for every trial: common
random numbers) and keeps the best. The policy the city holds now is always
the first trial, so a best response is never worse than staying put on the
search's own seeds.

Each search lives in its own journal file: a stopped search resumes where it
was, a trial under way when it stopped is marked failed and never counted,
and a resumed search is the search an uninterrupted one would have made (the
sampler of each trial is seeded from (seed, complete trials so far), as in
search.py).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.optimisation.search import repair_journal
from sim.params import ParamError

SAMPLER_STREAM = 0x9A7F  # the samplers' seeds, apart from everything else spawned from the same root


@dataclass(frozen=True)
class Lever:
    """One instrument a player may set: a config key and its range (whole numbers when `whole`)."""

    key: str
    low: float
    high: float
    whole: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ParamError(self.key, f"needs finite low < high (got {self.low:g} and {self.high:g})")

    def clip(self, value: float) -> float | int:
        """`value` inside the range, rounded when the lever takes whole numbers."""
        value = min(max(float(value), self.low), self.high)
        return int(round(value)) if self.whole else value


@dataclass(frozen=True)
class Response:
    """The best policy found: its lever values, its mean payoff on the search's seeds and the trials run."""

    policy: dict[str, float]
    payoff: float
    trials: int
    table: list[dict]  # every complete trial: its values and mean payoff, in order


def sampler_seed(seed: int, done: int) -> int:
    """The seed of the sampler that asks for the trial after `done` complete ones (32 bits, as Optuna takes)."""
    return int(np.random.SeedSequence([seed, SAMPLER_STREAM, done]).generate_state(1)[0])


def _sampler(seed: int, done: int, trials: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `multivariate` is marked experimental
        import optuna

        return optuna.samplers.TPESampler(seed=sampler_seed(seed, done), multivariate=True,
                                          n_startup_trials=min(8, max(trials // 3, 2)))


def _open(journal: Path, name: str, seed: int, trials: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the journal backend is marked experimental in some Optuna releases
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = JournalStorage(JournalFileBackend(str(journal)))
        return optuna.create_study(study_name=name, storage=storage, sampler=_sampler(seed, 0, trials),
                                   direction="maximize", load_if_exists=True)


def maximise(levers: tuple[Lever, ...], score: Callable[[dict], float], journal: Path, trials: int, seed: int,
             start: Mapping[str, float] | None = None, name: str = "best_policy",
             on_trial: Callable[[int, float], None] | None = None) -> Response:
    """The levers' values of highest `score`, from `trials` Optuna trials recorded in `journal` (resumed if it
    holds some). `start`, when given, is the first trial (the policy held now). The caller holds the folder's
    lock: one writer per journal."""
    from optuna.trial import TrialState

    if trials < 1:
        raise ParamError("trials", f"{trials} is out of range; allowed [1, 100000]")
    journal = Path(journal)
    journal.parent.mkdir(parents=True, exist_ok=True)
    notice = repair_journal(journal)
    if notice:
        print(notice)
    Path(str(journal) + ".lock").unlink(missing_ok=True)  # Optuna's own lock, left by a killed process
    study = _open(journal, name, seed, trials)
    for stale in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(stale.number, state=TrialState.FAIL)
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    while done < trials:
        study.sampler = _sampler(seed, done, trials)
        # The held policy first; once only (a process killed after queueing it left it waiting).
        if done == 0 and start is not None and not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            study.enqueue_trial({lever.key: lever.clip(start[lever.key]) for lever in levers})
        trial = study.ask()
        values = {lever.key: (trial.suggest_int(lever.key, int(lever.low), int(lever.high)) if lever.whole
                              else trial.suggest_float(lever.key, lever.low, lever.high)) for lever in levers}
        value = float(score(values))
        if not math.isfinite(value):
            raise RuntimeError(f"trial {done} of {name}: the payoff is {value} at {json.dumps(values)}")
        study.tell(trial, value)
        done += 1
        if on_trial is not None:
            on_trial(done, value)
    complete = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number)
    table = [{**t.params, "payoff": float(t.value)} for t in complete[:trials]]
    # The first trial of highest payoff: ties go to the earlier one, so the held policy wins a tie.
    best = max(range(len(table)), key=lambda i: (table[i]["payoff"], -i))
    policy = {lever.key: (int(table[best][lever.key]) if lever.whole else float(table[best][lever.key]))
              for lever in levers}
    return Response(policy=policy, payoff=table[best]["payoff"], trials=len(table), table=table)

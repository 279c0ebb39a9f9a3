"""Iterated best response, with damping, on common seeds: where a subsidy game settles.

The players move in turn (Gauss-Seidel). In each round every player asks
the optimiser (experiments/optimisation/payoff.py) for its best policy
against the others' current ones, scored as its mean payoff over the
search's seeds, which every trial of every round shares (common random
numbers). Whether the best response is worth moving to is judged on fresh
seeds drawn for the round, never on the seeds it was found on (the best of
many noisy trials looks better on its own seeds than it is): the paired
gain, best response minus current policy on the same fresh seeds, must
exceed its own standard error. A player that gains moves a `damping` share
of the way to its best response (whole-number levers move all the way).

- **Equilibrium:** a round in which no player moves.
- **Cycle:** the policies return to within `tolerance` (a share of each
  lever's range) of those at the end of an earlier round, after leaving
  them; the record lists the policies moved through since.
- **Unsettled:** neither within `rounds`; the record gives the last round.

The payoffs come from an `Oracle`: the model through the sweep's evaluators
(experiments/game/model_game.py), or an analytic function in the tests.
Every best response is a journal and every evaluation a saved file in the
game's folder, so a game stopped at any point resumes to the answer an
uninterrupted one gives.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from experiments.optimisation.payoff import Lever, maximise
from sim.params import ParamError
from sim.shell.atomic import write_json

Profile = dict[str, dict[str, float]]  # player -> lever key -> value

SEARCH_STREAM = 0x6A31  # the common seeds every best response is scored on
CHECK_STREAM = 0x6A32  # each round's fresh seeds for judging a move
FRESH_STREAM = 0x6A33  # the fresh seeds of the final re-evaluation
SAMPLER_STREAM = 0x6A34


@dataclass(frozen=True)
class Player:
    """A city in the game and the levers it sets."""

    id: str
    levers: tuple[Lever, ...]


@dataclass(frozen=True)
class GameSettings:
    """How the game is played and judged."""

    replicates: int = 10  # common seeds each best response is scored on
    checks: int = 20  # fresh seeds per round on which each move's gain is judged
    trials: int = 20  # optimiser trials per best response
    rounds: int = 10  # at most this many rounds of best responses
    damping: float = 0.5  # share of the way a player moves to its best response (continuous levers)
    tolerance: float = 0.02  # policies this close (share of each lever's range) are the same, for cycles
    fresh: int = 40  # fresh seeds of the final re-evaluation (intervals)
    root_seed: int = 11

    def __post_init__(self) -> None:
        checks = [("replicates", 1 <= self.replicates <= 10_000, "[1, 10000]"),
                  ("checks", 2 <= self.checks <= 10_000, "[2, 10000]"),
                  ("trials", 1 <= self.trials <= 10_000, "[1, 10000]"),
                  ("rounds", 1 <= self.rounds <= 1_000, "[1, 1000]"),
                  ("damping", 0.0 < self.damping <= 1.0, "(0, 1]"),
                  ("tolerance", 0.0 < self.tolerance < 1.0, "(0, 1)"),
                  ("fresh", 2 <= self.fresh <= 100_000, "[2, 100000]"),
                  ("root_seed", 0 <= self.root_seed < 2**32, f"[0, {2**32 - 1}]")]
        for key, ok, allowed in checks:
            if not ok:
                raise ParamError(key, f"{getattr(self, key)} is out of range; allowed {allowed}")


class Oracle(Protocol):
    """What the solver asks of a game."""

    def measure(self, profile: Profile, seeds: list[int]) -> dict[str, dict[str, np.ndarray]]:
        """Per quantity (always 'payoff'), per player: its value on each seed, in the order of `seeds`."""
        ...


def seeds(root: int, stream: int, count: int, *key: int) -> list[int]:
    """`count` seeds of one stream, spawned from the game's root seed."""
    states = np.random.SeedSequence([root, stream, *key]).generate_state(count, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in states]


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> dict:
    """Mean, standard error and Student-t interval of per-seed values."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * se) if n > 1 else float("nan")
    return {"mean": mean, "se": se, "low": mean - half, "high": mean + half, "seeds": n}


class Cache:
    """Evaluations saved in the game's folder, by what was evaluated: a resumed game reads them back."""

    def __init__(self, folder: Path, oracle: Oracle):
        self.folder, self.oracle = Path(folder), oracle
        self.folder.mkdir(parents=True, exist_ok=True)

    def measure(self, profile: Profile, seed_list: list[int]) -> dict[str, dict[str, np.ndarray]]:
        text = json.dumps({"profile": profile, "seeds": seed_list}, sort_keys=True)
        path = self.folder / f"{hashlib.sha256(text.encode()).hexdigest()[:20]}.json"
        if path.exists():
            saved = json.loads(path.read_text())
            return {q: {p: np.asarray(v, dtype=float) for p, v in per.items()} for q, per in saved.items()}
        values = self.oracle.measure(profile, seed_list)
        write_json(path, {q: {p: [float(x) for x in v] for p, v in per.items()} for q, per in values.items()})
        return values


def _with(profile: Profile, player: str, policy: Mapping[str, float]) -> Profile:
    return {p: (dict(policy) if p == player else dict(v)) for p, v in profile.items()}


def _damped(player: Player, now: Mapping[str, float], target: Mapping[str, float], damping: float) -> dict:
    return {lever.key: (target[lever.key] if lever.whole
                        else lever.clip(now[lever.key] + damping * (target[lever.key] - now[lever.key])))
            for lever in player.levers}


def distance(players: tuple[Player, ...], a: Profile, b: Profile) -> float:
    """The largest difference of any lever between two profiles, as a share of the lever's range."""
    return max(abs(a[p.id][lever.key] - b[p.id][lever.key]) / (lever.high - lever.low)
               for p in players for lever in p.levers)


@dataclass
class Solution:
    """Where the game settled (or how it did not), and the path there."""

    status: str  # equilibrium | cycle | unsettled
    profile: Profile  # the equilibrium, or the last profile
    cycle: list[Profile] = field(default_factory=list)  # the policies a cycle moves through, in order
    trace: list[dict] = field(default_factory=list)  # one row per best response: round, player, gain, ...
    rounds: int = 0


def solve(players: tuple[Player, ...], start: Profile, oracle: Oracle, settings: GameSettings, folder: Path,
          on_step: Callable[[str], None] | None = None) -> Solution:
    """Iterated best response from `start` (each player's announced policy on its levers)."""
    folder = Path(folder)
    cache = Cache(folder / "evaluations", oracle)
    search = seeds(settings.root_seed, SEARCH_STREAM, settings.replicates)
    profile = {p.id: {lever.key: lever.clip(start[p.id][lever.key]) for lever in p.levers} for p in players}
    ends: list[tuple[int, Profile]] = [(0, profile)]  # (index into `moves`, profile) at the end of each round
    moves: list[Profile] = [profile]  # every profile the game passed through, move by move
    trace: list[dict] = []
    for round_number in range(1, settings.rounds + 1):
        check = seeds(settings.root_seed, CHECK_STREAM, settings.checks, round_number)
        moved = False
        for k, player in enumerate(players):
            def score(values: dict, player=player, held=profile) -> float:
                return float(np.mean(cache.measure(_with(held, player.id, values), search)["payoff"][player.id]))

            response = maximise(player.levers, score, folder / "responses" / f"round{round_number}-{player.id}.journal",
                                settings.trials, seed=seeds(settings.root_seed, SAMPLER_STREAM, 1, round_number, k)[0],
                                start=profile[player.id], name=f"round{round_number}-{player.id}")
            now = cache.measure(profile, check)["payoff"][player.id]
            then = cache.measure(_with(profile, player.id, response.policy), check)["payoff"][player.id]
            gain = mean_interval(then - now)
            improves = gain["mean"] > 0 and not gain["mean"] <= gain["se"]  # an se of 0 (no noise): any gain counts
            before = dict(profile[player.id])
            if improves:
                profile = _with(profile, player.id, _damped(player, before, response.policy, settings.damping))
                moves.append(profile)
                moved = True
            trace.append({"round": round_number, "player": player.id, "before": before,
                          "best_response": response.policy, "after": dict(profile[player.id]),
                          "payoff_search": response.payoff, "gain": gain["mean"], "gain_se": gain["se"],
                          "moved": improves})
            if on_step is not None:
                on_step(f"round {round_number}, {player.id}: {'moves' if improves else 'stays'}")
        if not moved:
            return Solution("equilibrium", profile, trace=trace, rounds=round_number)
        # A cycle: back within tolerance of an earlier round's end, having left it on the way.
        for index, earlier in ends:
            path = moves[index:]
            if (distance(players, earlier, profile) <= settings.tolerance
                    and max(distance(players, earlier, q) for q in path) > 2 * settings.tolerance):
                return Solution("cycle", profile, cycle=path[1:], trace=trace, rounds=round_number)
        ends.append((len(moves) - 1, profile))
    return Solution("unsettled", profile, trace=trace, rounds=settings.rounds)


def compare(players: tuple[Player, ...], profiles: Mapping[str, Profile], oracle: Oracle, settings: GameSettings,
            folder: Path, baseline: str = "disarmament") -> dict:
    """Each profile's quantities on the same fresh seeds (never the search's or the checks'), with intervals, and
    under "vs_<baseline>" each quantity's paired difference to the baseline profile on those seeds."""
    cache = Cache(Path(folder) / "evaluations", oracle)
    fresh = seeds(settings.root_seed, FRESH_STREAM, settings.fresh)
    measured = {name: cache.measure(profile, fresh) for name, profile in profiles.items()}
    out: dict = {}
    for name, values in measured.items():
        out[name] = {q: {k: mean_interval(v) for k, v in per.items()} for q, per in values.items()}
        if name != baseline and baseline in measured:
            base = measured[baseline]
            out[name]["vs_" + baseline] = {q: {k: mean_interval(v - base[q][k]) for k, v in per.items()}
                                           for q, per in values.items()}
    return out


def holds_on_fresh_seeds(players: tuple[Player, ...], solution: Solution, oracle: Oracle, settings: GameSettings,
                         folder: Path) -> dict:
    """Per player: what deviating from the settled profile to its last best response gains on the fresh seeds, with
    its interval. An equilibrium holds there when no player's gain is clearly above zero."""
    cache = Cache(Path(folder) / "evaluations", oracle)
    fresh = seeds(settings.root_seed, FRESH_STREAM, settings.fresh)
    here = cache.measure(solution.profile, fresh)["payoff"]
    out = {}
    for player in players:
        last = [row for row in solution.trace if row["player"] == player.id][-1]["best_response"]
        there = cache.measure(_with(solution.profile, player.id, last), fresh)["payoff"][player.id]
        out[player.id] = {"deviation": last, **mean_interval(there - here[player.id])}
    return out


def verdict(players: tuple[Player, ...], against: Mapping[str, dict]) -> dict:
    """Whether the war is a prisoner's dilemma: every player worse off at the equilibrium than under disarmament,
    each difference's interval wholly below zero. `against`: per player, the interval of payoff at the equilibrium
    minus payoff under disarmament."""
    worse = [p.id for p in players if against[p.id]["high"] < 0]
    better = [p.id for p in players if against[p.id]["low"] > 0]
    if len(worse) == len(players):
        kind, text = "prisoners_dilemma", "a prisoner's dilemma: every player is worse off than if none paid"
    elif better:
        kind, text = "not_a_dilemma", (f"not a prisoner's dilemma: {_names(better)} "
                                       f"{'gains' if len(better) == 1 else 'gain'} from the war")
        if worse:
            text += f", while {_names(worse)} {'is' if len(worse) == 1 else 'are'} worse off"
    else:
        kind = "undecided"
        text = ("not distinguishable: " + (f"{', '.join(worse)} is worse off, " if worse else "")
                + "no player's difference is clear of zero for the rest")
    return {"kind": kind, "text": text, "worse_off": worse, "better_off": better}


def _names(ids: list[str]) -> str:
    return " and ".join([", ".join(ids[:-1]), ids[-1]]) if len(ids) > 1 else ids[0]


def settings_record(settings: GameSettings) -> dict:
    return asdict(settings)

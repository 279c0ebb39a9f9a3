"""The subsidy game on the model: players, their levers and payoffs, and the runs that score them.

Each player is a city of the scenario; its levers are numbers of its own
policy (reward rate, annual fund, ...) within bounds; its payoff is an outcome
of the registry for that city, by default `payoff` (its objective strategy's
jobs, tax and tourism minus its outlay, discounted: sim/outcomes.py). The
players hold their policies fixed through a run (their strategies are set to
`fixed`: the game is over announced policies); the other cities keep theirs.

Every evaluation is a batch of runs through the sweep's evaluators (local
processes or Dask, fast or reference path), one per seed, with the posterior's
parameter set for that seed when a posterior is named: the same seeds and
draws for every policy compared (common random numbers).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from experiments.batch.runs import REGISTRY, RunTask
from experiments.game.solver import GameSettings, Player, Profile
from experiments.optimisation.payoff import Lever
from experiments.optimisation.search import LEVER_FIELDS
from sim.params import SPENDING, ParamError, RunParams, _range_text, apply_overrides, from_dict, to_dict

# What every evaluation reports besides the payoff: per player, and the whole country's jobs.
QUANTITIES = {"share": "final_share", "jobs": "final_employment", "outlay": "outlay_total"}
NATIONAL = "national"  # the key of the whole country's jobs among the quantities


@dataclass(frozen=True)
class LeverSpec:
    """A lever of one player (`city`) or of every player (`city` empty): a policy number and its bounds."""

    name: str = "reward_rate"
    low: float = 0.0
    high: float = 0.5
    city: str = ""


@dataclass(frozen=True)
class GameParams:
    """What game to play: the players, their levers and payoffs, and how it is solved."""

    players: tuple[str, ...] = ("xian", "zhengzhou")
    # Assumptions, as the optimiser's ranges: from no reward to five times the brief's 10 %, and from no fund to
    # eight times the 50 M a year of S6's cities.
    levers: tuple[LeverSpec, ...] = (LeverSpec("reward_rate", 0.0, 0.5), LeverSpec("annual_budget", 0.0, 400.0e6))
    payoff: str = "payoff"  # every player's payoff, a per-city outcome of the registry (maximised)
    payoffs: tuple[str, ...] = ()  # a player's own payoff instead: "zhengzhou=final_share"
    posterior: str = ""  # a published posterior each seed draws its parameter set from ("": the point fit)
    settings: GameSettings = field(default_factory=GameSettings)

    def payoff_of(self, city: str) -> str:
        own = dict(item.split("=", 1) for item in self.payoffs)
        return own.get(city, self.payoff)

    def player_levers(self, city: str) -> tuple[Lever, ...]:
        """The player's levers: its own specs, or else those for every player (an own spec of a name replaces the
        common one)."""
        common = {s.name: s for s in self.levers if not s.city}
        own = {s.name: s for s in self.levers if s.city == city}
        specs = {**common, **own}
        return tuple(Lever(f"scenario.cities.{city}.policy.{s.name}", float(s.low), float(s.high),
                           whole=LEVER_FIELDS["policy"][s.name][2]) for s in specs.values())


def check(game: GameParams, base: RunParams) -> dict:
    """The base run as plain data, with the players' strategies fixed; a ParamError naming the key for a player
    that is not a city, a lever that is not a policy number or out of its range, or a payoff that is not a
    per-city number of the registry. Each player's box is checked at its corners as whole runs."""
    cities = [c.id for c in base.scenario.cities]
    if len(game.players) < 2:
        raise ParamError("players", f"{list(game.players)}: name two or more cities; allowed: {', '.join(cities)}")
    for i, p in enumerate(game.players):
        if p not in cities:
            raise ParamError(f"players[{i}]", f"{p!r} is not a city of scenario {base.scenario.name!r}; "
                                              f"allowed: {', '.join(cities)}")
    if len(set(game.players)) != len(game.players):
        raise ParamError("players", f"{list(game.players)}: a city is named twice")
    for i, s in enumerate(game.levers):
        where = f"levers[{i}] ({s.name})"
        if s.city and s.city not in game.players:
            raise ParamError(where, f"city {s.city!r} is not a player; allowed: {', '.join(game.players)} or empty "
                                    "for every player")
        if s.name not in LEVER_FIELDS["policy"]:
            raise ParamError(where, f"not a policy lever; allowed: {', '.join(LEVER_FIELDS['policy'])}")
        lo, hi, whole = LEVER_FIELDS["policy"][s.name]
        allowed = f"allowed {'whole numbers in ' if whole else ''}{_range_text(lo, hi)}"
        for name, value in (("low", s.low), ("high", s.high)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParamError(where, f"{name} {value!r} is not a finite number; {allowed}")
            if not lo <= value <= hi:
                raise ParamError(where, f"{name} {value:g} is out of range; {allowed}")
        if not s.low < s.high:
            raise ParamError(where, f"needs low < high (got {s.low:g} and {s.high:g}); {allowed}")
    if not game.levers or not all(game.player_levers(p) for p in game.players):
        raise ParamError("levers", "give every player at least one lever (a spec with an empty city is every "
                                   "player's)")
    for i, item in enumerate(game.payoffs):
        city, _, name = item.partition("=")
        if city not in game.players or not name:
            raise ParamError(f"payoffs[{i}]", f"{item!r}: write <player>=<outcome>, a player of "
                                              f"{', '.join(game.players)}")
    numeric = [n for n, o in REGISTRY.items() if o.per_city and o.kind == "number" and n != "facts"]
    for p in game.players:
        name = game.payoff_of(p)
        if name not in numeric:
            raise ParamError("payoff" if name == game.payoff else "payoffs",
                             f"{name!r} is not a per-city number of the outcome registry; allowed: "
                             f"{', '.join(numeric)}")
    if game.posterior:
        from experiments.calibration.posterior import load_posterior

        load_posterior(game.posterior)  # a one-line error naming the published ones
    data = apply_overrides(to_dict(base), fixed_strategies(game))
    for p in game.players:
        levers = game.player_levers(p)
        corners = np.array(np.meshgrid(*[[lv.low, lv.high] for lv in levers])).reshape(len(levers), -1).T
        for corner in corners:
            values = {lv.key: lv.clip(v) for lv, v in zip(levers, corner)}
            try:
                from_dict(RunParams, apply_overrides(data, values))
            except ParamError as err:
                setting = ", ".join(f"{k.rsplit('.', 1)[-1]}={v:g}" for k, v in values.items())
                raise ParamError("levers", f"{p}'s run at {setting} is refused: {err}") from None
    return data


def fixed_strategies(game: GameParams) -> dict:
    """The players hold their policies through a run: the game compares announced policies."""
    return {f"scenario.cities.{p}.strategy.kind": "fixed" for p in game.players}


def players_of(game: GameParams) -> tuple[Player, ...]:
    return tuple(Player(p, game.player_levers(p)) for p in game.players)


def announced(game: GameParams, data: Mapping) -> Profile:
    """Each player's levers as its scenario announces them (clipped into the game's bounds)."""
    cities = data["scenario"]["cities"]  # id -> the city's settings
    return {p.id: {lv.key: lv.clip(cities[p.id]["policy"][lv.key.rsplit(".", 1)[-1]]) for lv in p.levers}
            for p in players_of(game)}


def disarmament(game: GameParams) -> dict[str, dict]:
    """Every player's instruments off: no reward, no fund, no AIGC support, no talent or studio programme."""
    return {p: {f"scenario.cities.{p}.policy.{k}": 0.0 for k in SPENDING} for p in game.players}


def fingerprint(game: GameParams, data: Mapping, path: str) -> str:
    """What decides the game's answer: everything but the number of rounds (a resume may allow more) and the
    final re-evaluation's seeds, and the base run without its seed."""
    settings = {k: v for k, v in asdict(game.settings).items() if k not in ("rounds", "fresh")}
    payload = {"game": {**asdict(game), "settings": settings}, "path": path,
               "base": {k: v for k, v in data.items() if k != "seed"}}
    if game.posterior:
        from experiments.calibration.posterior import load_posterior

        payload["posterior"] = load_posterior(game.posterior).fingerprint()
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


class ModelGame:
    """The solver's oracle: a profile's payoffs and quantities on given seeds, from runs of the model."""

    def __init__(self, game: GameParams, evaluator):
        self.game, self.evaluator = game, evaluator
        self._posterior = None
        if game.posterior:
            from experiments.calibration.posterior import load_posterior

            self._posterior = load_posterior(game.posterior)
        self.outcomes = tuple(dict.fromkeys([*(game.payoff_of(p) for p in game.players), *QUANTITIES.values()]))

    def _drawn(self, seed: int) -> dict:
        if self._posterior is None:
            return {}
        return self._posterior.values(self._posterior.index_for(seed), self.evaluator.base)

    def measure(self, profile: Mapping[str, Mapping[str, float]], seeds: list[int]) -> dict[str, dict[str, np.ndarray]]:
        values = {k: v for policy in profile.values() for k, v in policy.items()}
        tasks = [RunTask(i, s, {**self._drawn(s), **values}) for i, s in enumerate(seeds)]
        rows = sorted((r.row for r in self.evaluator.map(tasks, self.outcomes, 0)), key=lambda row: row["run_id"])
        failed = [r for r in rows if r["status"] != "ok"]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(rows)} runs failed at {json.dumps(values)}: "
                               f"{failed[0].get('error')}")
        out: dict[str, dict[str, np.ndarray]] = {
            "payoff": {p: np.array([r[f"{self.game.payoff_of(p)}.{p}"] for r in rows], dtype=float)
                       for p in self.game.players}}
        for quantity, outcome in QUANTITIES.items():
            out[quantity] = {p: np.array([r[f"{outcome}.{p}"] for r in rows], dtype=float) for p in self.game.players}
        places = [k.split(".", 1)[1] for k in rows[0] if k.startswith("final_employment.")]
        out["jobs"][NATIONAL] = np.array([sum(r[f"final_employment.{p}"] for p in places) for r in rows], dtype=float)
        return out

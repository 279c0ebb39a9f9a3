"""The subsidy game's solver on planted games whose answers are known (experiments/game/solver.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

from experiments.game.solver import GameSettings, Player, compare, seeds, solve, verdict, SEARCH_STREAM
from experiments.optimisation.payoff import Lever, maximise


class Analytic:
    """A game given by a payoff function of the players' lever values, with seed noise that depends on the policy
    (so that a move's gain has a standard error, as in the model)."""

    def __init__(self, payoff, noise: float = 0.0):
        self.payoff, self.noise = payoff, noise

    def measure(self, profile, seed_list):
        values = self.payoff(profile)
        out = {}
        for k, (player, value) in enumerate(values.items()):
            own = sum(profile[player].values())
            eps = np.array([np.random.default_rng([s, k]).standard_normal() for s in seed_list])
            out[player] = value + self.noise * eps * (1.0 + own)
        return {"payoff": out}


def _x(profile, player):
    return profile[player][f"{player}.x"]


def _player(name, whole=False):
    return Player(name, (Lever(f"{name}.x", 0.0, 1.0, whole=whole),))


# Best replies x = 0.3 + 0.4 y and y = 0.2 + 0.5 x cross at x = 0.475, y = 0.4375.
def quadratic(profile):
    x, y = _x(profile, "a"), _x(profile, "b")
    return {"a": -10 * (x - (0.3 + 0.4 * y)) ** 2, "b": -10 * (y - (0.2 + 0.5 * x)) ** 2}


def matching_pennies(profile):
    x, y = _x(profile, "a"), _x(profile, "b")
    match = 1.0 if x == y else -1.0
    return {"a": match, "b": -match}


# 0 = disarm, 1 = subsidise; subsidising is each one's best reply whatever the other does, and both lose by it.
PD = {(0, 0): (3.0, 3.0), (1, 0): (5.0, 0.0), (0, 1): (0.0, 5.0), (1, 1): (1.0, 1.0)}


def prisoners_dilemma(profile):
    a, b = PD[(_x(profile, "a"), _x(profile, "b"))]
    return {"a": a, "b": b}


def test_a_planted_pure_equilibrium_is_found_within_tolerance(tmp_path):
    players = (_player("a"), _player("b"))
    start = {"a": {"a.x": 0.9}, "b": {"b.x": 0.9}}
    settings = GameSettings(replicates=6, checks=12, trials=30, rounds=12, damping=0.8)
    found = solve(players, start, Analytic(quadratic, noise=0.01), settings, tmp_path)
    assert found.status == "equilibrium", found.trace
    assert abs(found.profile["a"]["a.x"] - 0.475) < 0.05
    assert abs(found.profile["b"]["b.x"] - 0.4375) < 0.05
    assert found.rounds >= 2  # the start was far from it: somebody moved


def test_matching_pennies_is_a_cycle_never_an_equilibrium(tmp_path):
    players = (_player("a", whole=True), _player("b", whole=True))
    start = {"a": {"a.x": 0}, "b": {"b.x": 0}}
    found = solve(players, start, Analytic(matching_pennies), GameSettings(trials=6, rounds=10, checks=4), tmp_path)
    assert found.status == "cycle"
    visited = {(q["a"]["a.x"], q["b"]["b.x"]) for q in found.cycle}
    assert visited == {(0, 0), (0, 1), (1, 1), (1, 0)}


def test_a_prisoners_dilemma_is_detected(tmp_path):
    players = (_player("a", whole=True), _player("b", whole=True))
    start = {"a": {"a.x": 0}, "b": {"b.x": 0}}
    settings = GameSettings(trials=6, rounds=6, checks=4, fresh=8)
    found = solve(players, start, Analytic(prisoners_dilemma, noise=0.05), settings, tmp_path)
    assert found.status == "equilibrium"
    assert found.profile == {"a": {"a.x": 1}, "b": {"b.x": 1}}
    disarmed = {"a": {"a.x": 0}, "b": {"b.x": 0}}
    table = compare(players, {"equilibrium": found.profile, "disarmament": disarmed},
                    Analytic(prisoners_dilemma, noise=0.05), settings, tmp_path)
    said = verdict(players, table["equilibrium"]["vs_disarmament"]["payoff"])
    assert said["kind"] == "prisoners_dilemma"


def test_a_game_where_the_war_pays_someone_is_not_a_dilemma(tmp_path):
    players = (_player("a", whole=True), _player("b", whole=True))

    def one_sided(profile):  # a gains by subsidising whatever b does; b is indifferent
        return {"a": 1.0 + 2.0 * _x(profile, "a"), "b": 1.0}

    table = compare(players, {"equilibrium": {"a": {"a.x": 1}, "b": {"b.x": 1}},
                              "disarmament": {"a": {"a.x": 0}, "b": {"b.x": 0}}},
                    Analytic(one_sided, noise=0.05), GameSettings(fresh=8), tmp_path)
    said = verdict(players, table["equilibrium"]["vs_disarmament"]["payoff"])
    assert said["kind"] == "not_a_dilemma" and said["better_off"] == ["a"]


def test_a_best_response_to_a_fixed_rival_is_the_optimisers_answer(tmp_path):
    """The game's first best response of b (a holding its start) equals the optimiser run for that rival."""
    players = (_player("a"), _player("b"))
    start = {"a": {"a.x": 0.5}, "b": {"b.x": 0.9}}
    settings = GameSettings(replicates=4, checks=6, trials=12, rounds=1)
    oracle = Analytic(quadratic, noise=0.01)
    found = solve(players, start, oracle, settings, tmp_path / "game")
    first_b = next(row for row in found.trace if row["player"] == "b")
    held = {"a": dict(found.trace[0]["after"]), "b": {"b.x": 0.9}}
    search = seeds(settings.root_seed, SEARCH_STREAM, settings.replicates)
    from experiments.game.solver import SAMPLER_STREAM

    answer = maximise(players[1].levers,
                      lambda v: float(np.mean(oracle.measure({**held, "b": v}, search)["payoff"]["b"])),
                      tmp_path / "alone.journal", settings.trials,
                      seed=seeds(settings.root_seed, SAMPLER_STREAM, 1, 1, 1)[0], start={"b.x": 0.9})
    assert first_b["best_response"] == pytest.approx(answer.policy)
    assert answer.policy["b.x"] == pytest.approx(0.2 + 0.5 * held["a"]["a.x"], abs=0.08)


def test_a_best_response_never_does_worse_than_staying_on_its_own_seeds(tmp_path):
    lever = Lever("x", 0.0, 1.0)
    answer = maximise((lever,), lambda v: -abs(v["x"] - 0.123), tmp_path / "j.journal", trials=3, seed=5,
                      start={"x": 0.123})
    assert answer.policy == {"x": 0.123}


# --------------------------------------------------------------------------- the game on the model


def _game(folder, *extra):
    return [sys.executable, "-m", "experiments.game", "scenario=symmetric", "players=[east,west]", "steps=6",
            "trials=5", "replicates=2", "checks=3", "rounds=3", "fresh=3", "workers=1", "progress=false",
            f"hydra.run.dir={folder}", *extra]


def _complete(journal: Path) -> int:
    from optuna.storages.journal._storage import JournalOperation
    from optuna.trial import TrialState

    try:
        lines = journal.read_bytes().split(b"\n")[:-1]
    except FileNotFoundError:
        return 0
    entries = [json.loads(line) for line in lines]
    return sum(e.get("op_code") == JournalOperation.SET_TRIAL_STATE_VALUES and e.get("state") == TrialState.COMPLETE for e in entries)


@pytest.mark.slow
def test_a_game_killed_mid_round_and_resumed_gives_the_uninterrupted_answer(tmp_path):
    whole = subprocess.run(_game(tmp_path / "whole"), cwd=ROOT, capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr[-2000:]
    a = json.loads((tmp_path / "whole" / "game.json").read_text())
    assert a["rounds"] >= 2, "the game must reach its second round for the kill to land mid-game"

    folder = tmp_path / "killed"
    proc = subprocess.Popen(_game(folder), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    journal = folder / "responses" / "round2-east.journal"
    try:
        while _complete(journal) < 2:  # in the middle of the second round's first best response
            assert proc.poll() is None, f"the game ended before it could be killed: {proc.stderr.read()[-2000:]}"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the game and its worker processes
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (folder / "game.json").exists()

    resumed = subprocess.run(_game(folder), cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stdout
    b = json.loads((folder / "game.json").read_text())
    for key in ("status", "rounds", "cycle", "trace", "profiles", "outcomes", "holds", "verdict"):
        assert b[key] == a[key], key
    for name in ("report.md", "trace.csv", "convergence.png", "config.yaml"):
        assert (folder / name).exists(), name
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    report = (folder / "report.md").read_text()
    assert "Verdict" in report and "| disarmament | east |" in report


def test_a_game_is_refused_in_one_line_naming_the_key(tmp_path):
    for args, key in ((["players=[east]"], "players"), (["players=[east,nowhere]"], "players[1]"),
                      (["levers=[{name:reward_rate,low:0,high:3}]"], "levers[0] (reward_rate)"),
                      (["levers=[{name:wage,low:0,high:1}]"], "levers[0] (wage)"),
                      (["payoff=capital"], "payoff")):
        done = subprocess.run(_game(tmp_path / "refused", *args), cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 2, (args, done.stderr[-1000:])
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {key}:"), (args, lines)
        assert not (tmp_path / "refused").exists()

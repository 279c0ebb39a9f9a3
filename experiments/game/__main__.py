"""`.venv/bin/drama game`: where the subsidy contest settles when every player answers with its best policy.

Examples:
    .venv/bin/drama game                                       # Xi'an against Zhengzhou, rates and funds
    .venv/bin/drama game scenario=national players=[xian,zhengzhou,hengdian]
    .venv/bin/drama game hydra.run.dir=results/games/mine      # rerun = resume
Writes game.json, report.md, trace.csv and convergence.png, with the best responses' Optuna journals and the
saved evaluations, into its run folder (experiments/game/solver.py says how the game is solved).
"""

from __future__ import annotations

import dataclasses
import os
import time
import typing
from dataclasses import field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, SCMode

from experiments.batch.evaluators import make_evaluator
from experiments.game import report
from experiments.game.model_game import (GameParams, LeverSpec, ModelGame, announced, check, disarmament, fingerprint,
                                         players_of)
from experiments.game.solver import GameSettings, compare, holds_on_fresh_seeds, solve, verdict
from experiments.schemas import evaluator_fields, evaluator_settings, schema_from
from sim.params import ParamError, RunParams
from sim.shell.cli import Command, run_command, store_schema
from sim.shell.config import schema_of, to_params
from sim.shell.folders import FolderLock
from sim.shell.atomic import write_text
from sim.shell.record import command_record

OUTPUTS = ("game.json", "report.md", "trace.csv", "convergence.png")


def _settings_fields() -> list[tuple]:
    hints = typing.get_type_hints(GameSettings)
    return [(f.name, hints[f.name], field(default=f.default)) for f in dataclasses.fields(GameSettings)]


GameSchema = schema_from(GameParams, exclude=("settings",), extra=(*_settings_fields(), *evaluator_fields()),
                         bases=(schema_of(RunParams),))


def register() -> None:
    store_schema("game_schema", GameSchema)


def to_game(cfg: DictConfig) -> GameParams:
    """Validated settings from a composed config."""
    plain = OmegaConf.to_container(cfg, resolve=True, structured_config_mode=SCMode.DICT)
    levers = tuple(LeverSpec(**{k: v for k, v in spec.items()}) for spec in plain["levers"])
    settings = GameSettings(**{f.name: plain[f.name] for f in dataclasses.fields(GameSettings)})
    evaluator_settings(cfg)  # workers and address checked as for a sweep
    return GameParams(players=tuple(plain["players"]), levers=levers, payoff=plain["payoff"],
                      payoffs=tuple(plain["payoffs"]), posterior=plain["posterior"] or "", settings=settings)


def validate(cfg: DictConfig) -> None:
    """The checks made before Hydra creates a folder."""
    check(to_game(cfg), to_params(cfg))


def command_line(cfg: DictConfig, out: Path) -> str:
    from hydra.core.hydra_config import HydraConfig

    from experiments.cli import shown

    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("hydra.run.dir")]
    return shown("experiments.game", [*overrides, f"hydra.run.dir={out}"])


def task(cfg: DictConfig, out: Path) -> None:
    """Play (or resume) the game in the run folder and print the answer."""
    game, base, run = to_game(cfg), to_params(cfg), evaluator_settings(cfg)
    data = check(game, base)
    players = players_of(game)
    tag = fingerprint(game, data, run.path)
    with FolderLock(out):
        stamp = out / "fingerprint"
        if stamp.exists() and stamp.read_text().strip() != tag:
            raise ParamError("hydra.run.dir", f"{out} holds a different game; pick another folder")
        if stamp.exists():
            print(f"resuming the game in {out}")
        write_text(stamp, tag + "\n")
        config = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
        clock = time.perf_counter()
        with command_record(out, config, OUTPUTS), \
                make_evaluator(run.backend, data, run.workers, run.address, run.path) as evaluator:
            oracle = ModelGame(game, evaluator)
            start = announced(game, data)
            say = (lambda line: print(line, flush=True)) if run.progress else None
            solution = solve(players, start, oracle, game.settings, out, on_step=say)
            profiles = {"equilibrium": solution.profile, "announced": start, "disarmament": disarmament(game)}
            outcomes = compare(players, profiles, oracle, game.settings, out)
            holds = holds_on_fresh_seeds(players, solution, oracle, game.settings, out)
            record = {"scenario": base.scenario.name, "steps": base.steps, "players": list(game.players),
                      "levers": {p.id: {lv.key: [lv.low, lv.high] for lv in p.levers} for p in players},
                      "payoff": {p: game.payoff_of(p) for p in game.players}, "posterior": game.posterior,
                      "settings": dataclasses.asdict(game.settings), "command": command_line(cfg, out),
                      "status": solution.status, "rounds": solution.rounds, "cycle": solution.cycle,
                      "trace": solution.trace, "profiles": profiles, "outcomes": outcomes, "holds": holds,
                      "verdict": verdict(players, outcomes["equilibrium"]["vs_disarmament"]["payoff"]),
                      # of this invocation: a resumed game counts only what it computed
                      "wall_time_s": round(time.perf_counter() - clock, 1),
                      "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}
            report.write(out, record)
    print(report.render(record).split("## Summary", 1)[1].split("\n## ", 1)[0].strip())
    print(f"outputs: {out}")


def help_page() -> str:
    """`.venv/bin/drama game --help`."""
    from sim.shell.help import Help, scenarios

    return Help(
        "game",
        "Play the subsidy game: each player (a city) answers the others' policies with its own best policy, in "
        "turn, until no player gains by moving more than the noise of the runs (an equilibrium), or the answers "
        "cycle. It compares the result with the announced policies and with disarmament (every player's "
        "instruments off) on fresh seeds, says whether the war is a prisoner's dilemma (every player worse off "
        "than if none paid), and writes game.json, report.md and a convergence figure into a new folder under "
        "results/games/.",
        options=[
            ("players=[<id>,<id>,...]", "two or more cities of the scenario (default [xian,zhengzhou])"),
            ("levers=[{name:<lever>,low:<x>,high:<y>}]", "each player's levers and bounds; add city:<id> for one "
                                                         "player's own (default reward_rate 0 to 0.5 and "
                                                         "annual_budget 0 to 400 M for every player)"),
            ("payoff=<outcome>", "what every player maximises, a per-city outcome (default payoff: its jobs x "
                                 "job_value + tax + tourism - outlay, discounted)"),
            ("payoffs=[<id>=<outcome>]", "a player's own payoff instead"),
            ("trials=<n>", "optimiser trials per best response (default 20)"),
            ("replicates=<n>", "common seeds each trial is scored on (default 10)"),
            ("checks=<n>", "fresh seeds per round on which a move is judged (default 20)"),
            ("rounds=<n>", "rounds of best responses at most (default 10)"),
            ("damping=<share>", "share of the way a player moves to its best response, 0 to 1 (default 0.5)"),
            ("fresh=<n>", "fresh seeds of the final comparison (default 40)"),
            ("posterior=<name>", "each seed draws its parameter set from that published posterior"),
            ("scenario=<name>", "the contest (default xian_vs_zhengzhou)"),
            ("steps=<months>", "months of each run (default 180)"),
            ("hydra.run.dir=<folder>", "a folder of your own; rerunning into it resumes"),
        ],
        lists=[("scenarios", scenarios)],
        examples=["", "scenario=national players=[xian,zhengzhou,hengdian]",
                  "trials=6 replicates=3 checks=4 rounds=2 fresh=4 steps=36"],
        notes=["--hydra-help shows Hydra's own help."],
    ).text()


COMMAND = Command("game", validate=validate, task=task, register=register, help=help_page)


def main() -> None:
    """Entry point of `.venv/bin/drama game`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()

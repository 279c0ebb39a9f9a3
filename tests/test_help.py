"""`.venv/bin/drama` and each command's --help: what it does, what it takes, and examples that are accepted as shown."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT
from experiments import cli

HYDRA_COMMANDS = ("run", "sweep", "calibrate", "optimize", "game")


def drama(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=ROOT, capture_output=True, text=True)


def examples(page: str, command: str) -> list[list[str]]:
    """The example command lines of a help page, as the arguments after `.venv/bin/drama <command>`."""
    block = page.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in block.splitlines()]
    prefix = f"{cli.PROGRAM} {command}"
    assert all(line.startswith(prefix) for line in lines), lines
    return [shlex.split(line[len(prefix):], comments=True) for line in lines]


def test_drama_alone_lists_every_command_with_what_it_does(capsys):
    cli.main(["--help"])
    text = capsys.readouterr().out
    for name, (_, does) in cli.COMMANDS.items():
        assert re.search(rf"^  {name} +{re.escape(does[:40])}", text, flags=re.M), name
    assert f"{cli.PROGRAM} run scenario=national" in text


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_each_commands_help_says_what_it_does_and_shows_three_examples(command, capsys):
    cli.main([command, "--help"])
    page = capsys.readouterr().out
    assert page.startswith(f"usage: {cli.PROGRAM} {command}")
    assert "Hydra" not in page.split("\n\n", 2)[1]  # the planner's words first, not "powered by Hydra"
    assert len(examples(page, command)) >= 3
    for internal in ("base_scenario", "run_keys", "search_space", "MODEL-BRIEF", "seed 00"):
        assert internal not in page, internal
    assert not re.search(r"\(S\d+[,/ )]", page)  # nor docs/sources.md's ids, e.g. '(S5)' or '(S2, S7)'
    if command in HYDRA_COMMANDS:
        assert "--hydra-help" in page  # Hydra's own help stays reachable


@pytest.mark.parametrize("command", HYDRA_COMMANDS)
def test_the_hydra_commands_examples_are_accepted_as_written(command, capsys):
    """Each example composes and validates (Hydra's --cfg job prints the config and runs nothing)."""
    cli.main([command, "--help"])
    for args in examples(capsys.readouterr().out, command):
        done = drama(command, *args, "--cfg", "job")
        assert done.returncode == 0, (args, done.stderr[-800:])


def test_the_other_commands_examples_use_their_own_options(capsys):
    cli.main(["robust", "--help"])
    allowed = {"scenarios", "seeds", "min_share", "max_outlay", "out", "progress", "posterior", "front"}
    for args in examples(capsys.readouterr().out, "robust"):
        assert {a.partition("=")[0] for a in args} <= allowed, args
    for command in ("lockin", "magnitudes"):
        cli.main([command, "--help"])
        assert all(set(args) <= {"publish=true", "publish=false"} for args in examples(capsys.readouterr().out,
                                                                                      command))


def test_the_help_lists_the_scenarios_and_experiments_from_configs(capsys):
    cli.main(["run", "--help"])
    page = capsys.readouterr().out
    for path in (ROOT / "configs" / "scenario").glob("*.yaml"):
        assert re.search(rf"^  {path.stem} +\S", page, flags=re.M), path.stem
    assert "months to run, 1 to 1200" in page  # steps: the range from RunParams' own spec
    cli.main(["sweep", "--help"])
    page = capsys.readouterr().out
    for path in (ROOT / "configs" / "experiment").glob("*.yaml"):
        assert re.search(rf"^  {path.stem} +[A-Z]", page, flags=re.M), path.stem


def test_a_mistyped_flag_or_command_is_refused_in_one_line_with_a_suggestion():
    done = drama("run", "--helpp")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "error: --helpp: not an option (did you mean --help?); the options are --help, --hydra-help, -m (a multirun), "
        "--config-dir DIR and Hydra's --cfg job; everything else is key=value"]
    done = drama("swep", "experiment=smoke")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: {cli.PROGRAM}: no command 'swep' (did you mean 'sweep'?); allowed: "
                                   + ", ".join(cli.COMMANDS))
    assert drama("planner", "many").stderr.strip() == "error: seeds: 'many' is not a whole number; allowed 1 to 1000"


def test_hydras_own_help_stays_reachable():
    done = drama("run", "--hydra-help")
    assert done.returncode == 0 and "Hydra" in done.stdout

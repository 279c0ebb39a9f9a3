"""The optimiser under attack: a torn or damaged journal, a kill -9 mid-study, and input that would crash it late."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from optuna.storages.journal._storage import JournalOperation
from optuna.trial import TrialState

from experiments.batch.design import ParameterSpec
from experiments.optimisation.search import JOURNAL, OptimizeParams, optimize, trials_table, _study
from sim import load_config
from sim.params import ParamError

from conftest import ROOT
from test_optimize import RATE, KnownCase, _settings

DEADLINE = 180.0  # seconds: a safety net for waits on an observed event, never a wait in itself


@pytest.fixture(scope="module")
def base():
    return load_config("xian_vs_zhengzhou", ["steps=6"])


def _table(folder, trials):
    return trials_table(_study(folder, _settings(trials)), _settings(trials))


# --------------------------------------------------------------------------- a torn or damaged journal


def test_a_journal_cut_short_mid_line_is_repaired_and_the_study_finishes_as_if_never_torn(tmp_path, base, capsys):
    whole = tmp_path / "whole"
    optimize(_settings(8), base, whole, KnownCase(), progress=False)
    torn = tmp_path / "torn"
    optimize(_settings(4), base, torn, KnownCase(), progress=False)
    journal = torn / JOURNAL
    original = journal.read_bytes()
    assert original.endswith(b"}\n")
    lines = original.splitlines(keepends=True)
    # The last line is trial 3's COMPLETE entry: cut it in the middle, as a full disk would.
    assert json.loads(lines[-1])["op_code"] == JournalOperation.SET_TRIAL_STATE_VALUES
    cut = b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2]
    journal.write_bytes(cut)
    capsys.readouterr()

    optimize(_settings(8), base, torn, KnownCase(), progress=False)
    notice = [line for line in capsys.readouterr().out.splitlines() if "repaired" in line]
    assert len(notice) == 1 and str(journal) in notice[0]
    backups = list(torn.glob(f"{JOURNAL}.torn-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == cut  # the user's bytes are kept as they were
    after = _table(torn, 8)
    # Trials 0-2 survived; trial 3 lost its result and was run again with the same values: the study is the
    # uninterrupted one.
    pd.testing.assert_frame_equal(after, _table(whole, 8))

    # Every later resume reads the journal (before the fix the second one failed on the line appended to the tear).
    second = KnownCase()
    optimize(_settings(10), base, torn, second, progress=False)
    assert second.calls == 2 * 2 and len(_table(torn, 10)) == 10
    assert "repaired" not in capsys.readouterr().out


def test_a_journal_damaged_in_the_middle_is_refused_naming_the_file_and_line(tmp_path, base):
    optimize(_settings(3), base, tmp_path, KnownCase(), progress=False)
    journal = tmp_path / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    damaged = b"".join(lines[:4]) + b'{"op_code":6,"wor' + b"".join(lines[4:])
    journal.write_bytes(damaged)
    with pytest.raises(ParamError) as caught:
        optimize(_settings(5), base, tmp_path, KnownCase(), progress=False)
    assert caught.value.key == "hydra.run.dir"
    assert str(journal) in caught.value.message and "line 5" in caught.value.message
    assert journal.read_bytes() == damaged and not list(tmp_path.glob(f"{JOURNAL}.torn-*"))


def test_the_command_refuses_a_damaged_journal_with_one_line(tmp_path):
    folder = tmp_path / "opt"
    args = [sys.executable, "-m", "experiments.optimize", "scenario=symmetric", "city=east", "steps=3", "trials=2",
            "replicates=1", "workers=1", "progress=false", f"hydra.run.dir={folder}"]
    first = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    journal = folder / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + b"not json\n" + b"".join(lines[1:]))
    again = subprocess.run([*args[:-2], "trials=3", *args[-2:]], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 2, again.stderr
    assert again.stderr.count("\n") == 1 and again.stderr.startswith("error: hydra.run.dir:")
    assert str(journal) in again.stderr and "line 2" in again.stderr


# --------------------------------------------------------------------------- kill -9 and resume


def _complete_trials(journal) -> int:
    """COMPLETE entries in a journal being written (its last piece may be a write under way)."""
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return 0
    entries = [json.loads(line) for line in data.split(b"\n")[:-1]]
    return sum(e.get("op_code") == JournalOperation.SET_TRIAL_STATE_VALUES and e.get("state") == TrialState.COMPLETE
               for e in entries)


def _command(folder):
    return [sys.executable, "-m", "experiments.optimize", "scenario=symmetric", "city=east", "steps=6", "trials=10",
            "replicates=2", "workers=1", "progress=false", f"hydra.run.dir={folder}"]


@pytest.mark.slow
def test_a_study_killed_and_resumed_gives_the_uninterrupted_answer(tmp_path):
    whole = subprocess.run(_command(tmp_path / "whole"), cwd=ROOT, capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr

    folder = tmp_path / "killed"
    proc = subprocess.Popen(_command(folder), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + DEADLINE
    try:
        # Past the sampler's two startup trials, so the trials after the kill come from TPE.
        while _complete_trials(folder / JOURNAL) < 3:
            assert proc.poll() is None, f"the optimiser ended before it could be killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no third trial recorded"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the optimiser and its worker processes
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (folder / "optimize.json").exists() and _complete_trials(folder / JOURNAL) < 10

    resumed = subprocess.run(_command(folder), cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout

    a = json.loads((tmp_path / "whole" / "optimize.json").read_text())
    b = json.loads((folder / "optimize.json").read_text())
    for key in ("policy", "p_capital", "outlay", "trial", "trials", "frontier"):
        assert b[key] == a[key], key
    table = pd.read_csv(folder / "trials.csv")
    pd.testing.assert_frame_equal(table, pd.read_csv(tmp_path / "whole" / "trials.csv"))
    levers = [c for c in table.columns if c.startswith("scenario.")]
    assert len(table) == 10 and not table.duplicated(subset=levers).any()  # no trial repeated after the restart


# --------------------------------------------------------------------------- refused before any folder

ZZ = "scenario.cities.zhengzhou"


@pytest.mark.parametrize("override, key, allowed", [
    ("root_seed=-1", "root_seed", "[0, 4294967295]"),
    (f"root_seed={2**32}", "root_seed", "[0, 4294967295]"),
    (f"levers=[{{key:{ZZ}.policy.reward_rate,low:0.0,high:5.0}}]", f"levers[0] ({ZZ}.policy.reward_rate)", "[0, 1]"),
    (f"levers=[{{key:{ZZ}.policy.reward_rate,low:0.0,high:inf}}]", f"levers[0] ({ZZ}.policy.reward_rate)", "[0, 1]"),
    (f"levers=[{{key:{ZZ}.policy.reward_rate,low:nan,high:0.5}}]", f"levers[0] ({ZZ}.policy.reward_rate)", "[0, 1]"),
    (f"levers=[{{key:{ZZ}.policy.annual_budget,low:0.0,high:1e8}},{{key:{ZZ}.policy.reward_rate,low:0.0,high:0.5}},"
     f"{{key:{ZZ}.policy.reward_rate,low:0.1,high:0.2}}]", f"levers[2] ({ZZ}.policy.reward_rate)", "levers[1]"),
    (f"levers=[{{key:{ZZ}.policy.reward_rate,values:[0.1,0.2]}}]", f"levers[0] ({ZZ}.policy.reward_rate)", "[0, 1]"),
    (f"levers=[{{key:{ZZ}.strategy.kind,values:[fixed,reactive]}}]", f"levers[0] ({ZZ}.strategy.kind)", "policy"),
    ("levers=[{key:seed,low:0,high:100}]", "levers[0] (seed)", f"{ZZ}.policy.<name>"),
    ("levers=[{key:steps,low:6,high:12}]", "levers[0] (steps)", f"{ZZ}.policy.<name>"),
    ("levers=[{key:start,low:0,high:1}]", "levers[0] (start)", f"{ZZ}.policy.<name>"),
    (f"levers=[{{key:scenario.cities.xian.policy.reward_rate,low:0.0,high:0.5}}]",
     "levers[0] (scenario.cities.xian.policy.reward_rate)", f"{ZZ}.policy.<name>"),
    (f"levers=[{{key:{ZZ}.strategy.min_reward_rate,low:0.0,high:0.9}}]", f"levers[0] ({ZZ}.strategy.min_reward_rate)",
     "max_reward_rate"),
])
def test_bad_settings_are_refused_in_one_line_before_any_folder(tmp_path, override, key, allowed):
    folder = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "experiments.optimize", "city=zhengzhou", "steps=6", override,
                           f"hydra.run.dir={folder}"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {key}:"), done.stderr
    assert allowed in done.stderr
    assert not folder.exists()


def test_a_whole_number_lever_is_searched_as_integers_so_each_trial_lists_the_values_it_ran(tmp_path, base):
    months = "scenario.cities.zhengzhou.strategy.review_months"
    lever = ParameterSpec(months, low=1.0, high=12.0)
    opt = OptimizeParams(city="zhengzhou", levers=(ParameterSpec(RATE, low=0.0, high=1.0), lever), trials=6,
                         replicates=1)
    optimize(opt, base, tmp_path, KnownCase(), progress=False)
    values = trials_table(_study(tmp_path, opt), opt)[months]
    assert all(float(v).is_integer() and 1 <= v <= 12 for v in values) and values.nunique() > 1
    with pytest.raises(ParamError, match=r"levers\[1\].*whole number.*\[1, 60\]"):
        OptimizeParams(city="zhengzhou", levers=(opt.levers[0], ParameterSpec(months, low=1.5, high=12.0)))


def test_a_write_that_fails_leaves_the_previous_trials_table_whole(tmp_path, base, monkeypatch):
    optimize(_settings(3), base, tmp_path, KnownCase(), progress=False)
    before = (tmp_path / "trials.csv").read_bytes()
    real = pd.DataFrame.to_csv

    def disk_full(self, path, **kwargs):
        real(self.iloc[:1], path, **kwargs)  # part of the table reaches the disk, then it is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(OSError) as caught:
        optimize(_settings(4), base, tmp_path, KnownCase(), progress=False)
    assert caught.value.filename == str(tmp_path / "trials.csv")
    assert (tmp_path / "trials.csv").read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))

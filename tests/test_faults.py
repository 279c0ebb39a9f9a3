"""Faults: repeated kill -9 then resume, a worker process that dies, an output folder that cannot be written."""

import json
import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from conftest import PYTHON, ROOT
from experiments.batch.runs import RunTask, evaluate
from experiments.batch.evaluators import WORKER_DIED, LocalEvaluator

pytestmark = pytest.mark.slow

# Enough runs that five kills, each after a batch or two of the fast path's (a sixteenth of a small sweep's runs
# each, experiments/batch/evaluators.py), leave some.
ARGS = ["experiment=smoke", "experiment.replicates=30", "workers=2"]
N_RUNS = 2 * 2 * 30


def sweep(folder, **popen):
    cmd = [PYTHON, "-m", "experiments.sweep", *ARGS, f"hydra.run.dir={folder}"]
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def parts(folder):
    return len(list((folder / "parts").glob("runs-*.parquet"))) if (folder / "parts").exists() else 0


def wait_for(condition, what: str, deadline_s: float = 600.0) -> None:
    """Wait for an observed event; the deadline only keeps a broken run from hanging the suite."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what} after {deadline_s:.0f} s")
        time.sleep(0.02)


def test_five_kills_at_random_moments_then_resume_give_every_run_once_and_the_same_tables(tmp_path):
    folder = tmp_path / "killed"
    rng = random.Random(11)
    progress = []
    for _ in range(5):
        before = parts(folder)
        proc = sweep(folder, start_new_session=True)
        target = before + rng.randint(1, 8)  # kill after a random number of new runs (observed, never a time)
        wait_for(lambda: parts(folder) >= target or proc.poll() is not None, f"{target} finished runs")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        progress.append(parts(folder))
    assert progress[-1] < N_RUNS, f"the sweep finished before the last kill: {progress}"
    resumed = sweep(folder)
    assert resumed.returncode == 0, resumed.stderr
    runs = pd.read_parquet(folder / "runs.parquet")
    assert len(runs) == N_RUNS and runs.run_id.is_unique and (runs.status == "ok").all()
    assert json.loads((folder / "manifest.json").read_text())["computed_this_time"] == N_RUNS - progress[-1]
    assert f"{progress[-1]} of {N_RUNS} runs already done" in resumed.stdout  # finished runs were not recomputed
    whole = sweep(tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    for name in ("runs.parquet", "cities.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(folder / name), pd.read_parquet(tmp_path / "whole" / name))


def crash_on_run_3(task, base, outcomes, keep_every):
    """A run that kills its worker process outright (as a segfault or the OOM killer would)."""
    if task.run_id == 3:
        os._exit(7)
    return evaluate(task, base, outcomes, keep_every)


def test_a_worker_that_dies_is_recorded_failed_and_the_others_complete():
    from sim import load_config
    from sim.params import to_dict

    base = to_dict(load_config("symmetric", ["steps=3", "counterfactual=false"]))
    tasks = [RunTask(i, 100 + i, {}) for i in range(8)]
    with LocalEvaluator(base, workers=2, function=crash_on_run_3) as evaluator:
        results = {r.run_id: r for r in evaluator.map(tasks, ("final_share",), 0)}
        again = list(evaluator.map(tasks[:2], ("final_share",), 0))  # the pool is usable afterwards
    assert sorted(results) == list(range(8))  # every run reported exactly once
    assert results[3].row["status"] == "failed" and results[3].row["error"] == WORKER_DIED
    assert all(results[i].row["status"] == "ok" for i in range(8) if i != 3)
    assert [r.row["status"] for r in again] == ["ok", "ok"]


def test_a_dask_worker_lost_mid_sweep_is_retried_then_recorded_never_dropped():
    import dask

    from experiments.batch.evaluators import DaskEvaluator
    from sim import load_config
    from sim.params import to_dict

    base = to_dict(load_config("symmetric", ["steps=3", "counterfactual=false"]))
    tasks = [RunTask(i, 100 + i, {}) for i in range(6)]
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            DaskEvaluator(base, workers=2, function=crash_on_run_3) as evaluator:
        results = {r.run_id: r for r in evaluator.map(tasks, ("final_share",), 0)}
    assert sorted(results) == list(range(6))
    assert results[3].row["status"] == "failed" and "Dask lost every worker" in results[3].row["error"]
    innocent = {i: results[i].row for i in range(6) if i != 3 and results[i].row["status"] != "ok"}
    assert not innocent, innocent


def test_a_run_folder_under_a_file_is_refused_in_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    run = subprocess.run([PYTHON, "-m", "sim", "steps=2", f"hydra.run.dir={blocker / 'run'}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1 and "is a file" in lines[0], run.stderr


def test_a_full_disk_leaves_no_table_that_looks_complete(tmp_path, monkeypatch, capsys):
    import errno

    import sim.shell.runner
    from sim import load_config
    from sim.shell.cli import one_line_os_errors

    real = sim.shell.runner.write_parquet

    def disk_full(table, path):
        if path.name == "cities.parquet":
            def fill(tmp):
                tmp.write_bytes(b"PAR1 half a table")
                raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
            from sim.shell.atomic import atomic
            atomic(path, fill)
        real(table, path)

    monkeypatch.setattr(sim.shell.runner, "write_parquet", disk_full)
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop, one_line_os_errors():
        sim.shell.runner.run_to_folder(load_config("symmetric", ["steps=2", "counterfactual=false"]), out, progress=False)
    assert stop.value.code == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: cannot write") and "No space left on device" in line and "\n" not in line
    assert not (out / "cities.parquet").exists() and not list(out.glob("*.tmp"))  # nothing half-written
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"


def tagged_processes(tag: str) -> list[int]:
    """Pids of the live processes that inherited DRAMA_TEST_TAG=tag (a command and everything it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"DRAMA_TEST_TAG={tag}".encode() in environ and "State:\tZ" not in status:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("command", ["sweep", "optimize", "calibrate"])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "kill-TERM"])
def test_a_killed_command_leaves_no_process_behind_and_its_output_closes(tmp_path, command, how):
    tag = uuid.uuid4().hex
    folder = tmp_path / "out"
    # Sized to outlast the kill on the fast path, which runs 32 runs at a time in each worker.
    args = {"sweep": ["experiment=smoke", "experiment.replicates=60"],
            "optimize": ["scenario=symmetric", "city=east", "trials=12", "replicates=16"],
            "calibrate": ["scenario=recovery", "calibration.rounds=3", "calibration.candidates=64",
                          "calibration.replicates=4", "calibration.validation_replicates=8"]}[command]
    proc = subprocess.Popen([PYTHON, "-m", f"experiments.{command}", *args, "workers=2", "progress=false",
                             f"hydra.run.dir={folder}"], cwd=ROOT, env={**os.environ, "DRAMA_TEST_TAG": tag},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill once its pool is busy: the command, the resource tracker and both workers are alive (a worker still
    # being spawned would print its own EOFError when its parent goes), and a sweep has finished a run.
    started = (lambda: parts(folder) >= 1) if command == "sweep" else (lambda: True)
    wait_for(lambda: (len(tagged_processes(tag)) >= 4 and started()) or proc.poll() is not None, "the worker pool")
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(how)  # the command only, as a user's kill does: the workers must notice by themselves
    out, err = proc.communicate(timeout=600)  # returns only once every holder of its stdout and stderr is gone
    wait_for(lambda: not tagged_processes(tag), "the workers to end", deadline_s=120)
    if how == signal.SIGTERM:
        assert proc.returncode in (1, 128 + signal.SIGTERM) and "Traceback" not in err, err
        if command == "sweep":
            assert json.loads((folder / "manifest.json").read_text())["status"] == "interrupted"

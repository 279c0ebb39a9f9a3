"""The sweep's data safety and input checks, each a hole an outside attack found.

In-process tests run the engine with a serial evaluator (no worker
processes) on a small two-city scenario; the tests marked slow go through
the command line, as the user does.
"""

import hashlib
import json
import shutil
import subprocess

import pandas as pd
import pytest

from conftest import PYTHON, ROOT, make_params
from experiments.schemas import SweepSettings
from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec, fingerprint, run_table
from experiments.batch.engine import announcement, check_keys, probe_seconds_per_run, run_sweep
from experiments.batch.runs import RunResult, evaluate
from experiments.batch.store import ResultStore
from sim.params import ParamError, to_dict

RATE = "scenario.cities.east.policy.reward_rate"
BUDGET = "scenario.cities.west.policy.annual_budget"


class Serial:
    """An evaluator that runs each task in this process, and counts what it was asked to run."""

    workers = 1

    def __init__(self, base):
        self.base = to_dict(base)
        self.asked: list[int] = []

    def describe(self) -> str:
        return "serial (test)"

    def map(self, tasks, outcomes, keep_every):
        for task in tasks:
            self.asked.append(task.run_id)
            yield evaluate(task, self.base, outcomes, keep_every)


def experiment(**kw):
    spec = dict(name="safety", parameters=(ParameterSpec(RATE, values=(0.1, 0.3)),), replicates=2, root_seed=3)
    return ExperimentParams(**{**spec, **kw})


@pytest.fixture(scope="module")
def base():
    return make_params(steps=4)


@pytest.fixture(scope="module")
def reference(base, tmp_path_factory):
    """A sweep run once, uninterrupted: what every repaired folder must equal."""
    folder = tmp_path_factory.mktemp("reference") / "sweep"
    run_sweep(experiment(), base, folder, evaluator=Serial(base), progress=False)
    return folder


def tables(folder):
    return pd.read_parquet(folder / "runs.parquet"), pd.read_parquet(folder / "cities.parquet")


def assert_same_tables(folder, reference):
    for got, expected in zip(tables(folder), tables(reference)):
        pd.testing.assert_frame_equal(got, expected)


def status_writes(monkeypatch):
    """Every status the engine writes into a manifest, in order."""
    import experiments.batch.engine as engine

    seen = []
    real = engine.write_json

    def spy(path, data):
        if path.name == "manifest.json":
            seen.append(data["status"])
        real(path, data)

    monkeypatch.setattr(engine, "write_json", spy)
    return seen


def truncate(path, size=100):
    path.write_bytes(path.read_bytes()[:size])


def drop_last_run(path):
    table = pd.read_parquet(path)
    table[table.run_id != table.run_id.max()].to_parquet(path, index=False)


# --------------------------------------------------------------------------- 1. lost or damaged merged tables

@pytest.mark.parametrize("damage, table", [
    (lambda p: p.unlink(), "cities.parquet"),
    (truncate, "cities.parquet"),
    (lambda p: p.write_bytes(b"not a parquet file"), "cities.parquet"),
    (drop_last_run, "cities.parquet"),
    (lambda p: p.write_bytes(b"not a parquet file"), "runs.parquet"),
    (truncate, "runs.parquet"),
    (drop_last_run, "runs.parquet"),
    (lambda p: p.unlink(), "runs.parquet"),
], ids=["cities deleted", "cities truncated", "cities garbage", "cities short of a run", "runs garbage",
        "runs truncated", "runs short of a run", "runs deleted"])
def test_a_damaged_table_is_set_aside_and_rebuilt_equal_to_an_uninterrupted_sweep(
        base, reference, tmp_path, capsys, monkeypatch, damage, table):
    folder = tmp_path / "sweep"
    shutil.copytree(reference, folder)
    damage(folder / table)
    before = (folder / table).read_bytes() if (folder / table).exists() else None
    capsys.readouterr()
    statuses = status_writes(monkeypatch)
    evaluator = Serial(base)
    run_sweep(experiment(), base, folder, evaluator=evaluator, progress=False)
    lines = [line for line in capsys.readouterr().out.splitlines() if "set aside" in line]
    assert len(lines) == 1 and "4 of 4 runs will be computed again" in lines[0], lines
    assert sorted(evaluator.asked) == [0, 1, 2, 3]
    assert_same_tables(folder, reference)
    assert statuses[-1] == "complete"
    if before is not None:  # set aside, never deleted: the damaged bytes are still there under a new name
        (kept,) = folder.glob(f"{table}.broken-*")
        assert kept.read_bytes() == before


def test_an_intact_complete_sweep_computes_nothing_and_stays_complete(base, reference, tmp_path, monkeypatch,
                                                                      capsys):
    folder = tmp_path / "sweep"
    shutil.copytree(reference, folder)
    statuses = status_writes(monkeypatch)
    evaluator = Serial(base)
    run_sweep(experiment(), base, folder, evaluator=evaluator, progress=False)
    assert evaluator.asked == [] and statuses == ["complete"]  # never flipped to running
    assert "set aside" not in capsys.readouterr().out and not list(folder.glob("*.broken-*"))
    assert_same_tables(folder, reference)


def test_a_merge_stopped_while_removing_parts_loses_no_city_rows_when_the_tables_are_rebuilt(
        base, reference, tmp_path):
    """A kill during the merge's removal of parts/ leaves a run's row part without its city part; if the merged
    tables are then found broken, that run must be computed again, not trusted from parts/."""
    folder = tmp_path / "sweep"
    shutil.copytree(reference, folder)
    store = ResultStore(folder)
    design, _ = store.design()
    evaluator = Serial(base)
    for task_result in evaluator.map(_tasks(design, [0, 1]), experiment().outcomes, 1):
        store.add(task_result)
    (store.parts / "cities-0000001.parquet").unlink()  # the removal got this far
    (folder / "cities.parquet").unlink()
    evaluator = Serial(base)
    run_sweep(experiment(), base, folder, evaluator=evaluator, progress=False)
    assert sorted(evaluator.asked) == [1, 2, 3]  # run 0 was whole in parts/; run 1 had lost its city rows
    assert_same_tables(folder, reference)


def _tasks(design, ids):
    from experiments.batch.runs import RunTask

    rows = design[design.run_id.isin(ids)].to_dict("records")
    return [RunTask(int(r["run_id"]), int(r["seed"]), {RATE: float(r[RATE])}) for r in rows]


def test_no_city_table_is_expected_when_runs_keep_none(base, tmp_path):
    folder = tmp_path / "sweep"
    run_sweep(experiment(keep_every=0), base, folder, evaluator=Serial(base), progress=False)
    assert not (folder / "cities.parquet").exists()
    evaluator = Serial(base)
    run_sweep(experiment(keep_every=0), base, folder, evaluator=evaluator, progress=False)
    assert evaluator.asked == [] and not list(folder.glob("*.broken-*"))


def test_check_merged_accepts_a_merge_stopped_half_way(tmp_path):
    """runs.parquet written, cities.parquet not yet: the city rows are still in parts/, nothing is broken."""
    design = pd.DataFrame({"run_id": range(2), "point_id": [0, 0], "replicate": [0, 1], "seed": [1, 2]})
    store = ResultStore(tmp_path)
    store.write_design(design, "tag")
    for i in range(2):
        cities = pd.DataFrame({"run_id": i, "step": [1, 2], "city": ["a", "a"], "share": [1.0, 1.0]})
        store.add(RunResult(i, {"run_id": i, "status": "ok", "error": None}, cities))
    pd.DataFrame({"run_id": [0, 1], "status": ["ok", "ok"], "error": [None, None]}).to_parquet(
        tmp_path / "runs.parquet", index=False)
    repair = store.check_merged(design, keep_every=1, steps=2, complete=False)
    assert repair.problems == [] and repair.set_aside == []


# --------------------------------------------------------------------------- 2. a design that cannot be read

@pytest.mark.parametrize("damage", [truncate, lambda p: p.write_bytes(b"garbage")], ids=["truncated", "garbage"])
def test_an_unreadable_design_is_refused_and_the_folder_left_as_it_was(base, reference, tmp_path, damage):
    folder = tmp_path / "sweep"
    shutil.copytree(reference, folder)
    damage(folder / "design.parquet")
    before = _digest(folder)
    with pytest.raises(ParamError) as err:
        run_sweep(experiment(), base, folder, evaluator=Serial(base), progress=False)
    assert err.value.key == "hydra.run.dir"
    assert "design.parquet is unreadable" in err.value.message and "choose another folder" in err.value.message
    assert _digest(folder) == before


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


# --------------------------------------------------------------------------- 3. resume=true past damaged folders

def test_latest_unfinished_skips_folders_it_cannot_read(tmp_path, monkeypatch, base):
    from experiments.sweep import latest_unfinished

    monkeypatch.setenv("DRAMA_RESULTS_DIR", str(tmp_path))
    exp = experiment()
    tag = fingerprint(exp, to_dict(base))
    day = tmp_path / "sweeps" / "2030-01-01"

    def folder(time, manifest):
        f = day / f"{time}_safety"
        ResultStore(f).write_design(run_table(exp), tag)
        if manifest is not None:
            (f / "manifest.json").write_text(manifest)
        return f

    wanted = folder("10-00-00", json.dumps({"status": "interrupted"}))
    folder("11-00-00", "{not json")  # newer, but its manifest cannot be read
    folder("12-00-00", "[1, 2]")  # JSON, but not a manifest
    broken = folder("13-00-00", json.dumps({"status": "running"}))
    (broken / "design.parquet").write_bytes(b"garbage")
    assert latest_unfinished("safety", tag) == wanted


# --------------------------------------------------------------------------- 5. every design value checked

@pytest.mark.parametrize("spec, words", [
    (ParameterSpec(RATE, values=(0.1, 1.5)), ["experiment.parameters[0]", RATE, "1.5", "allowed [0, 1]"]),
    (ParameterSpec(RATE, values=("abc", "def")), ["experiment.parameters[0]", "must be a number", "'abc'"]),
    (ParameterSpec(RATE + "x", values=(0.1,)), ["experiment.parameters[0]", "no such config key"]),
    (ParameterSpec("steps", values=(6, 0)), ["experiment.parameters[0] (steps)", "allowed [1, 1200]"]),
])
def test_every_grid_value_is_checked_against_its_range(base, spec, words):
    with pytest.raises(ParamError) as err:
        check_keys(experiment(parameters=(spec,)), to_dict(base))
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_a_samplers_low_and_high_are_both_checked(base):
    ok = ParameterSpec(RATE, low=0.0, high=0.5)
    check_keys(experiment(design=DesignKind.lhs, parameters=(ok,)), to_dict(base))
    with pytest.raises(ParamError, match=r"experiment.parameters\[0\].*2.0 is out of range"):
        check_keys(experiment(design=DesignKind.lhs, parameters=(ParameterSpec(RATE, low=0.1, high=2.0),)),
                   to_dict(base))


# --------------------------------------------------------------------------- 8. large jobs announce themselves

def test_the_announcement_counts_the_runs_and_estimates_from_a_cheap_probe():
    from experiments.batch.evaluators import LocalEvaluator
    from sim import load_config

    default = load_config("xian_vs_zhengzhou", ["steps=24"])
    for path in ("fast", "reference"):
        per_run = probe_seconds_per_run(default, ("capital",), path=path)
        assert per_run is not None and per_run > 0
    exp = experiment(parameters=(ParameterSpec("scenario.cities.xian.policy.reward_rate", values=(0.1, 0.2)),
                                 ParameterSpec("scenario.cities.zhengzhou.policy.reward_rate", values=(0.1, 0.2))),
                     replicates=100_000)
    line = announcement(exp, default, 399_990, 400_000, LocalEvaluator({}, workers=2))
    assert "\n" not in line
    for w in ("399,990 runs to compute", "10 of 400,000 already done", "24 months each", "2 workers",
              "estimated wall time", "estimate"):
        assert w in line, (w, line)


# --------------------------------------------------------------------------- 9. workers bounded by this machine

def test_local_workers_are_bounded_by_this_machines_cores(monkeypatch):
    import experiments.batch.evaluators

    monkeypatch.setattr(experiments.batch.evaluators, "default_workers", lambda: 2)
    SweepSettings(workers=8)
    SweepSettings(backend="dask", workers=8)
    for settings in ({"workers": 9}, {"workers": 4096}, {"backend": "dask", "workers": 9}):
        with pytest.raises(ParamError, match=r"allowed \[0, 8\] on this machine") as err:
            SweepSettings(**settings)
        assert err.value.key == "workers"
    SweepSettings(backend="dask", workers=4096, address="tcp://head:8786")  # a remote cluster is not this machine
    with pytest.raises(ParamError, match="workers"):
        SweepSettings(backend="dask", workers=4097, address="tcp://head:8786")


# --------------------------------------------------------------------------- the command line

def sweep(*args, folder):
    return subprocess.run([PYTHON, "-m", "experiments.sweep", "experiment=smoke", "experiment.replicates=2",
                           "workers=1", "steps=6", "progress=false", *args, f"hydra.run.dir={folder}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def one_line_refusal(result, *words):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.mark.slow
@pytest.mark.parametrize("overrides, words", [
    (["experiment.parameters.0.values=[0.1,1.5]"], ["experiment.parameters[0]", "allowed [0, 1]"]),
    (["experiment.parameters.0.values=[abc,def]"], ["experiment.parameters[0]", "must be a number"]),
    (["experiment.parameters.0.key=seed"], ["experiment.parameters[0] (seed)", "experiment.root_seed"]),
    (["+experiment.parameters.0.low=0.1", "+experiment.parameters.0.high=0.2"],
     ["experiment.parameters[0]", "not both"]),
    (["experiment.design=sobol", "experiment.samples=1000000", "experiment.replicates=100000",
      "experiment.parameters.0.values=[]", "experiment.parameters.1.values=[]",
      "+experiment.parameters.0.low=0", "+experiment.parameters.0.high=1",
      "+experiment.parameters.1.low=0", "+experiment.parameters.1.high=1"],
     ["error: experiment:", "1,000,000", "experiment.samples", "experiment.replicates"]),
    (["workers=100000"], ["workers", "on this machine"]),
], ids=["out of range", "not numbers", "seed", "values and low/high", "too many runs", "too many workers"])
def test_bad_design_input_is_one_line_before_any_folder(tmp_path, overrides, words):
    folder = tmp_path / "x"
    one_line_refusal(sweep(*overrides, folder=folder), *words)
    assert not folder.exists()


@pytest.mark.slow
def test_a_deleted_city_table_is_rebuilt_by_a_rerun_and_a_garbage_design_refused(tmp_path):
    whole, damaged = tmp_path / "whole", tmp_path / "x"
    first = sweep(folder=whole)
    assert first.returncode == 0, first.stderr
    announced = [line for line in first.stdout.splitlines() if "runs to compute" in line]
    assert len(announced) == 1 and "8 runs to compute" in announced[0] and "estimate" in announced[0]
    shutil.copytree(whole, damaged)
    (damaged / "cities.parquet").unlink()
    rerun = sweep(folder=damaged)
    assert rerun.returncode == 0, rerun.stderr
    assert sum("set aside" in line for line in rerun.stdout.splitlines()) == 1, rerun.stdout
    assert json.loads((damaged / "manifest.json").read_text())["status"] == "complete"
    assert_same_tables(damaged, whole)

    (damaged / "design.parquet").write_bytes(b"garbage")
    before = _digest(damaged)
    refused = sweep(folder=damaged)
    one_line_refusal(refused, "hydra.run.dir", "design.parquet is unreadable", "choose another folder")
    assert _digest(damaged) == before

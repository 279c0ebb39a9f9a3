"""Sweeps end to end: both backends, failures recorded, bad input (kill -9 and resume: tests/test_faults.py)."""

import json
import os
import subprocess

import pandas as pd
import pytest

from conftest import PYTHON, ROOT

pytestmark = pytest.mark.slow

RUN_COLUMNS = {"run_id", "point_id", "replicate", "seed", "status", "error", "capital", "capital_step", "crossing_step",
               "share_lead.xian", "share_lead.zhengzhou",
               "scenario.cities.zhengzhou.policy.reward_rate", "scenario.cities.xian.policy.reward_rate",
               "final_share.xian", "final_share.zhengzhou", "subsidy_total.xian", "subsidy_total.zhengzhou",
               "cost_per_job.xian", "cost_per_job.zhengzhou"}


def sweep(*args, folder=None, **popen):
    cmd = [PYTHON, "-m", "experiments.sweep", *args]
    if folder is not None:
        cmd.append(f"hydra.run.dir={folder}")
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def tables(folder):
    return pd.read_parquet(folder / "runs.parquet"), pd.read_parquet(folder / "cities.parquet")


@pytest.fixture(scope="module")
def smoke_local(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smoke") / "local"
    result = sweep("experiment=smoke", "workers=2", folder=folder)
    assert result.returncode == 0, result.stderr
    return folder, result


def test_smoke_local_writes_tidy_tables(smoke_local):
    folder, result = smoke_local
    runs, cities = tables(folder)
    assert len(runs) == 2 * 2 * 3 and (runs.status == "ok").all()
    assert RUN_COLUMNS <= set(runs.columns)
    assert len(cities) == 12 * 24 * 3 and {"run_id", "step", "city", "share"} <= set(cities.columns)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["root_seed"] == 1 and manifest["design"] == "grid"
    assert manifest["runs_ok"] == 12 and "git_revision" in manifest and manifest["versions"]["mesa"]
    assert (folder / "config.yaml").is_file() and (folder / "capital_probability.png").is_file()
    assert "12 runs: 12 ok, 0 failed" in result.stdout
    probability = pd.read_csv(folder / "capital_probability.csv")
    assert len(probability) == 4 and (probability[["P(capital=xian)", "P(capital=zhengzhou)", "P(capital=none)"]]
                                      .sum(axis=1).round(9) == 1).all()


def test_same_root_seed_same_tables_across_runs_and_backends(smoke_local, tmp_path):
    folder, _ = smoke_local
    again = sweep("experiment=smoke", "workers=1", folder=tmp_path / "again")
    dask = sweep("experiment=smoke", "backend=dask", "workers=2", folder=tmp_path / "dask")
    assert again.returncode == 0, again.stderr
    assert dask.returncode == 0, dask.stderr
    for other in (tmp_path / "again", tmp_path / "dask"):
        for a, b in zip(tables(folder), tables(other)):
            pd.testing.assert_frame_equal(a, b)
    assert "dask LocalCluster" in json.loads((tmp_path / "dask" / "manifest.json").read_text())["evaluator"]
    # A sweep's output is its result (and its progress bar on a terminal), not Dask's own logging.
    assert "INFO" not in dask.stdout + dask.stderr and "distributed." not in dask.stdout + dask.stderr
    # The announcement names the evaluator's workers and a timed estimate, so it differs by design; the rest not.
    def result_lines(run):
        return [line for line in run.stdout.splitlines() if "runs to compute" not in line]

    assert result_lines(dask) == [line.replace(str(tmp_path / "again"), str(tmp_path / "dask"))
                                  for line in result_lines(again)]


def test_failing_design_point_is_recorded_and_the_rest_complete(tmp_path):
    # Each value is allowed alone (checked before the sweep starts); together, 200 months from 2090-01 run past
    # the calendar's end, which only the run itself finds.
    folder = tmp_path / "failing"
    result = sweep("experiment=smoke", "workers=2", "steps=6", "experiment.design=points",
                   "experiment.parameters.0.key=start", "experiment.parameters.0.values=['2024-01','2090-01']",
                   "experiment.parameters.1.key=steps", "experiment.parameters.1.values=[6,200]", folder=folder)
    assert result.returncode == 0, result.stderr
    runs, cities = tables(folder)
    bad = runs["start"] == "2090-01"
    assert (runs.loc[bad, "status"] == "failed").all() and bad.sum() == 3
    assert runs.loc[bad, "error"].str.contains("steps").all()
    assert (runs.loc[~bad, "status"] == "ok").all() and runs.loc[~bad, "final_share.xian"].notna().all()
    assert set(cities.run_id) == set(runs.run_id[~bad])
    assert result.stdout.strip().splitlines()[-1] == "6 runs: 3 ok, 3 failed"


def test_resume_true_finishes_the_latest_unfinished_sweep(tmp_path):
    env = {**os.environ, "DRAMA_RESULTS_DIR": str(tmp_path)}
    first = subprocess.run([PYTHON, "-m", "experiments.sweep", "experiment=smoke", "workers=1"], cwd=ROOT,
                           capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    folder = next((tmp_path / "sweeps").glob("*/*_smoke"))
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
    second = subprocess.run([PYTHON, "-m", "experiments.sweep", "experiment=smoke", "resume=true"], cwd=ROOT,
                            capture_output=True, text=True, env=env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert len(list((tmp_path / "sweeps").glob("*/*_smoke"))) == 1  # no second folder
    assert json.loads((folder / "manifest.json").read_text())["computed_this_time"] == 0


@pytest.mark.parametrize("override, key", [
    ("experiment=nope", "experiment"),
    ("backend=spark", "backend"),
    ("experiment.replicates=0", "experiment.replicates"),
    ("experiment.parameters.0.key=scenario.cities.xian.policy.rewrd", "experiment.parameters"),
    ("workers=-1", "workers"),
    ("experiment.parameters.0.values=[0.1,1.5]", "experiment.parameters[0]"),
])
def test_bad_sweep_input_exits_2_with_one_line(tmp_path, override, key):
    result = sweep("experiment=smoke", override, folder=tmp_path / "bad")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {key}"), result.stderr
    assert not (tmp_path / "bad").exists()


def test_resume_true_skips_a_folder_of_a_different_sweep(tmp_path):
    env = {**os.environ, "DRAMA_RESULTS_DIR": str(tmp_path)}

    def run(*args):
        return subprocess.run([PYTHON, "-m", "experiments.sweep", "experiment=smoke", "workers=1", *args], cwd=ROOT,
                              capture_output=True, text=True, env=env, timeout=600)

    first = run("steps=6")
    assert first.returncode == 0, first.stderr
    folder = next((tmp_path / "sweeps").glob("*/*_smoke"))
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
    other = run("steps=12", "resume=true")  # not the same sweep: a new folder, not an error
    assert other.returncode == 0, other.stderr
    assert len(list((tmp_path / "sweeps").glob("*/*_smoke"))) == 2

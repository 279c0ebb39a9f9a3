"""`.venv/bin/drama run` end to end in a temporary folder, and its error handling."""

import json
import os
import subprocess

import pandas as pd
import pytest

from sim.shell.runner import run_to_folder

from conftest import PYTHON, ROOT, make_params

pytestmark = pytest.mark.slow

TABLE_COLUMNS = {"step", "date", "city", "firms", "productions", "share", "employment", "subsidy_paid",
                 "budget_left", "wage", "rent", "talent"}
SUMMARY_KEYS = {"scenario", "seed", "steps", "capital", "capital_step", "capital_month", "capital_margin",
                "crossing_step", "crossing_month", "challenger", "share_lead", "final_share", "subsidy_total",
                "cost_per_job"}


def sim(*args, cwd=ROOT, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([PYTHON, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=300)


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    result = sim("scenario=symmetric", "steps=24", "seed=1", f"hydra.run.dir={out}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("config.yaml", "manifest.json", "cities.parquet", "summary.json", "shares.png"):
        assert (out / name).is_file(), name
    table = pd.read_parquet(out / "cities.parquet")
    assert TABLE_COLUMNS <= set(table.columns)
    assert len(table) == 24 * 2 and table.step.min() == 1
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["scenario"] == "symmetric" and summary["seed"] == 1 and summary["steps"] == 24
    assert set(summary["final_share"]) == {"east", "west"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 1
    assert manifest["versions"]["mesa"].startswith("3.") and "git_revision" in manifest
    assert "outputs:" in result.stdout and str(out) in result.stdout
    assert "capital" in result.stdout


def test_default_run_dir_is_under_results_not_the_cwd(tmp_path):
    results = tmp_path / "results"
    result = sim("steps=2", cwd=tmp_path,
                 env_extra={"DRAMA_RESULTS_DIR": str(results)})
    assert result.returncode == 0, result.stderr
    runs = list((results / "runs").glob("*/*_xian_vs_zhengzhou_s42"))
    assert len(runs) == 1 and (runs[0] / "summary.json").is_file()
    assert not (tmp_path / "outputs").exists()


def test_same_seed_same_table_through_the_cli(tmp_path):
    for name in ("a", "b"):
        assert sim("scenario=symmetric", "steps=12", "seed=3", f"hydra.run.dir={tmp_path / name}").returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "cities.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "cities.parquet"))


@pytest.mark.parametrize("override, key", [
    ("scenario.cities.xian.policy.annual_budget=-1", "scenario.cities.xian.policy.annual_budget"),
    ("scenario.cities.zhengzhou.policy.reward_rate=1.2", "scenario.cities.zhengzhou.policy.reward_rate"),
    ("scenario.cities.wuhan.policy.reward_rate=0.2", "scenario.cities.wuhan"),
    ("scenario.cities.xian.strategy.kind=generous", "scenario.cities.xian.strategy.kind"),
    ("scenario.cities.xian.polcy.reward_rate=0.2", "scenario.cities.xian.polcy"),
    ("steps=ten", "steps"),
])
def test_bad_input_exits_2_with_one_line_and_no_folder(tmp_path, override, key):
    out = tmp_path / "run"
    result = sim(override, f"hydra.run.dir={out}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {key}:"), result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_multirun_runs_each_job(tmp_path):
    result = sim("-m", "scenario=symmetric", "steps=3", "seed=1,2", f"hydra.sweep.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    summaries = sorted(tmp_path.glob("*/summary.json"))
    assert [json.loads(p.read_text())["seed"] for p in summaries] == [1, 2]


def test_a_failing_run_leaves_a_folder_marked_failed(tmp_path, monkeypatch):
    from sim import model as model_module

    def broken_step(self):
        raise RuntimeError("model broke in month 1")

    monkeypatch.setattr(model_module.ContestModel, "step", broken_step)
    with pytest.raises(RuntimeError):
        run_to_folder(make_params(steps=3), tmp_path, progress=False)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "model broke" in manifest["error"]
    assert not (tmp_path / "summary.json").exists()

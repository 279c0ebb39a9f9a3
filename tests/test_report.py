"""The sweep report: every figure a real PNG, the HTML self-contained, the summary true to the table."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.tables import Sweep, summary_sentences
from experiments.analysis.figures import valid_png

from conftest import ROOT


def _run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep") / "smoke"
    done = _run("-m", "experiments.sweep", "experiment=smoke", "experiment.replicates=2", "steps=13",
                "progress=false", f"hydra.run.dir={folder}")
    assert done.returncode == 0, done.stderr
    made = _run("-m", "experiments.report", str(folder))
    assert made.returncode == 0, made.stderr
    return folder / "report"


@pytest.mark.slow
def test_every_figure_of_the_report_exists_and_is_a_png(report):
    md = (report / "report.md").read_text()
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md)
    assert {"p_capital.png", "outcome_final_share.png", "fiscal.png"} <= set(images)
    assert any(name.startswith("fan_point_") for name in images)
    # Months to capital: a panel for each city that is the capital in some run, none for one that never is (13
    # months leave a single month of record, so usually no city is): the report names those it leaves out.
    runs = pd.read_parquet(report.parent / "runs.parquet")
    winners = set(runs.capital.dropna())
    assert ("months_to_capital.png" in images) == bool(winners)
    never = [name for city, name in (("xian", "Xi'an"), ("zhengzhou", "Zhengzhou")) if city not in winners]
    if never:
        assert f"Never the capital at any point, so not drawn: {', '.join(never)}." in md
    for name in images:
        assert valid_png(report / name), name


@pytest.mark.slow
def test_the_html_report_opens_offline_with_every_figure_inside(report):
    page = (report / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from anywhere
    md_images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", (report / "report.md").read_text())
    assert page.count('src="data:image/png;base64,') == len(md_images)
    assert "Xi&#x27;an" in page or "Xi'an" in page  # city names, not ids


@pytest.mark.slow
def test_the_reports_summary_states_the_tables_numbers(report):
    table = pd.read_csv(report / "capital_probability.csv")
    md = (report / "report.md").read_text()
    summary = md.split("## Summary", 1)[1].split("##", 1)[0]
    best_xian = table["P(capital=xian)"].max()
    if best_xian == 1:
        assert "Xi'an becomes the capital in every run" in summary
    else:
        assert f"{best_xian:.0%}" in summary


def _planted(probabilities: dict[tuple[float, float], float]) -> tuple[Sweep, pd.DataFrame]:
    """A two-lever grid where P(Zhengzhou is capital) is given per (Zhengzhou's rate, Xi'an's rate)."""
    zz, xa = "scenario.cities.zhengzhou.policy.reward_rate", "scenario.cities.xian.policy.reward_rate"
    rows = [{"point_id": i, zz: a, xa: b, "runs_ok": 20, "P(capital=zhengzhou)": p, "P(capital=xian)": 1 - p,
             "P(capital=none)": 0.0}
            for i, ((a, b), p) in enumerate(probabilities.items())]
    table = pd.DataFrame(rows)
    runs = table[["point_id", zz, xa]].assign(status="ok")
    sweep = Sweep(Path("."), {"capital_threshold": 0.5}, runs, None, [zz, xa], ["xian", "zhengzhou"],
                  {"xian": "Xi'an", "zhengzhou": "Zhengzhou"})
    return sweep, table


def test_the_summary_finds_the_planted_region_where_a_city_wins():
    # Zhengzhou wins (>= 80 %) when its rate is at least 0.3 and Xi'an's at most 0.1; nowhere else.
    grid = {(a, b): (0.9 if a >= 0.3 and b <= 0.1 else 0.2) for a in (0.1, 0.2, 0.3, 0.4) for b in (0.0, 0.1, 0.2)}
    sweep, table = _planted(grid)
    text = " ".join(summary_sentences(sweep, table))
    assert ("Zhengzhou becomes the capital in at least 90% of runs once its reward rate reaches 0.3 "
            "while Xi'an's reward rate stays at or below 0.1.") in text


def test_the_summary_says_when_no_point_makes_a_city_the_capital():
    grid = {(a, b): 0.3 for a in (0.1, 0.2) for b in (0.1, 0.2)}
    sweep, table = _planted(grid)
    text = " ".join(summary_sentences(sweep, table))
    # with its 95 % Wilson interval over the point's 20 runs
    assert "Zhengzhou is the capital in at most 30% (95% interval 15-52%, 20 runs) at any design point" in text


def test_a_folder_that_is_not_a_sweep_is_refused_in_one_line(tmp_path):
    done = _run("-m", "experiments.report", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "not a finished sweep folder" in done.stderr


def test_a_sweep_over_a_categorical_lever_reports(tmp_path):
    """A rival's strategy kind is a lever like a rate: the report draws it on a categorical axis, never as a float."""
    folder = tmp_path / "kinds"
    done = _run("-m", "experiments.sweep", "experiment=smoke", "experiment.replicates=2", "steps=13", "progress=false",
                "experiment.parameters=[{key: scenario.cities.xian.strategy.kind, values: [fixed, reactive]}, "
                "{key: scenario.cities.zhengzhou.policy.reward_rate, values: [0.1, 0.3]}]", f"hydra.run.dir={folder}")
    assert done.returncode == 0, done.stderr
    made = _run("-m", "experiments.report", str(folder))
    assert made.returncode == 0, made.stderr
    md = (folder / "report" / "report.md").read_text()
    assert "reactive" in md and "fixed" in md
    assert all(valid_png(p) for p in (folder / "report").glob("*.png")) and (folder / "report" / "fiscal.png").exists()


def test_lever_values_read_as_numbers_a_planner_writes():
    from experiments.analysis.tables import fmt_value

    assert [fmt_value(v) for v in (1.94803e8, 0.25, 3, "reactive", 12_000.0)] == \
        ["194,803,000", "0.25", "3", "reactive", "12,000"]


def test_a_long_table_is_summarised_per_group_and_a_short_one_kept():
    from experiments.analysis.report import LONG_TABLE, summarised

    short = pd.DataFrame({"city": ["a", "b"], "x": [1.0, 2.0]})
    assert summarised(short, "city").equals(short)
    long = pd.DataFrame({"city": ["a", "b"] * LONG_TABLE, "rate": np.tile([0.1, 0.2], LONG_TABLE),
                         "x": np.arange(2 * LONG_TABLE, dtype=float)})
    got = summarised(long, "city").set_index(["city", "over the design points"])
    assert len(got) == 6 and got.loc[("a", "lowest"), "x"] == 0 and got.loc[("b", "highest"), "x"] == 2 * LONG_TABLE - 1


def test_a_sampled_design_is_drawn_over_the_two_levers_that_go_most_with_the_chance(tmp_path):
    from experiments.analysis.figures import valid_png
    from experiments.analysis.report import plot_capital_probability, top_levers

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"point_id": range(40), "a": rng.random(40), "b": rng.random(40), "c": rng.random(40)})
    table["P(capital=east)"] = (0.8 * table.c + 0.2 * table.a).clip(0, 1)
    assert top_levers(table, ["a", "b", "c"], "P(capital=east)") == ["c", "a"]
    path = plot_capital_probability(table, ["a", "b", "c"], ["east"], tmp_path / "p.png", {"east": "East"})
    assert valid_png(path)


def test_bands_of_a_sampled_lever_are_binned_not_one_per_value():
    from experiments.analysis.tables import BINS, Sweep, outcome_bands

    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"point_id": np.repeat(range(100), 2), "status": "ok", "rate": np.repeat(rng.random(100), 2)})
    runs["final_share.east"] = runs.rate + rng.normal(0, 0.01, len(runs))
    sweep = Sweep(Path("."), {}, runs, None, ["rate"], ["east"], {"east": "East"})
    bands = outcome_bands(sweep, "final_share", "rate")
    assert len(bands) == BINS and (bands.runs >= 2 * 100 // BINS - 2).all()
    assert bands.sort_values("value")["median"].is_monotonic_increasing  # a smooth rise, not a zig-zag


def test_crossing_months_get_a_chance_with_its_interval_and_a_distribution():
    from experiments.analysis.tables import Sweep, crossings
    from experiments.analysis.intervals import wilson

    runs = pd.DataFrame({"point_id": [0] * 5 + [1] * 4, "status": "ok",
                         "crossing_step": [10, 20, 30, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]})
    sweep = Sweep(Path("."), {}, runs, None, [], ["east"], {"east": "East"})
    got = crossings(sweep).set_index("point_id")
    assert got.loc[0, "runs_crossed"] == 3 and got.loc[0, "P(crossing)"] == 0.6
    assert (got.loc[0, "P(crossing) low"], got.loc[0, "P(crossing) high"]) == pytest.approx(wilson(3, 5))
    assert got.loc[0, "median_month"] == 20 and got.loc[0, "month_low"] == pytest.approx(11.0)
    assert got.loc[1, "P(crossing)"] == 0 and np.isnan(got.loc[1, "median_month"])

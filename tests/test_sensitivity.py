"""Sensitivity through the sweep's own design and analysis code: textbook answers on known functions."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec, design_points
from experiments.analysis.figures import valid_png
from experiments.analysis.sensitivity import indices

from conftest import ROOT


def _experiment(design, names, low, high, samples):
    return ExperimentParams(name="known", parameters=tuple(ParameterSpec(k, low=low, high=high) for k in names),
                            design=design, samples=samples, replicates=1)


def test_sobol_indices_of_the_ishigami_function_are_the_textbook_ones():
    exp = _experiment(DesignKind.sobol, ("x1", "x2", "x3"), -np.pi, np.pi, 1024)
    points = design_points(exp)
    x = points[["x1", "x2", "x3"]].to_numpy()
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])  # a = 7, b = 0.1
    got = indices(exp, points, y).set_index("key")
    # Ishigami & Homma (1990); Saltelli et al. (2008), table 4.1
    assert got.S1.to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.04)
    assert got.ST.to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.04)
    assert (got.S1_conf > 0).all() and (got.ST_conf > 0).all()
    # the only interaction is x1 with x3: S13 = 0.2437 (Saltelli et al. 2008)
    assert got.loc["x1", "S2_with"] == "x3" and got.loc["x1", "S2_max"] == pytest.approx(0.2437, abs=0.06)
    assert (got.warning == "").all(), got.warning.to_dict()  # well sampled: no convergence warning


def _ishigami(points):
    x = points[["x1", "x2", "x3"]].to_numpy()
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_the_convergence_warning_fires_on_an_undersampled_sobol_design():
    exp = _experiment(DesignKind.sobol, ("x1", "x2", "x3"), -np.pi, np.pi, 8)
    points = design_points(exp)
    got = indices(exp, points, _ishigami(points))
    assert got.warning.str.contains("more samples needed").any(), got[["key", "S1", "S1_conf", "warning"]]


def test_indices_whose_every_interval_covers_zero_are_said_to_carry_no_information():
    from experiments.analysis.sensitivity import _warnings

    exp = _experiment(DesignKind.sobol, ("a", "b"), 0.0, 1.0, 8)
    full = pd.DataFrame({"key": ["a", "b"], "S1": [-0.2, 0.1], "S1_conf": [0.5, 0.3], "ST": [0.9, 0.6],
                         "ST_conf": [0.6, 0.2]})
    notes = _warnings(exp, full, full)  # the half sample agrees: only the intervals speak
    assert all("carry no information" in n for n in notes) and "interval wider than 1" in notes[0]
    informative = full.assign(S1=[0.6, 0.1], S1_conf=[0.1, 0.05], ST_conf=[0.1, 0.05])
    assert _warnings(exp, informative, informative) == ["", ""]
    drifted = informative.assign(S1=[0.2, 0.1])  # the first half says 0.2 where the whole says 0.6
    assert "on its first half" in _warnings(exp, informative, drifted)[0]


def test_morris_ranks_the_levers_of_a_linear_function_by_their_slopes():
    exp = _experiment(DesignKind.morris, ("a", "b", "c"), 0.0, 1.0, 40)
    points = design_points(exp)
    x = points[["a", "b", "c"]].to_numpy()
    got = indices(exp, points, 5 * x[:, 0] + x[:, 1]).set_index("key")
    assert got.mu_star.to_numpy() == pytest.approx([5.0, 1.0, 0.0], abs=1e-9)


def test_a_grid_design_is_refused_for_sensitivity():
    exp = ExperimentParams(name="g", parameters=(ParameterSpec("a", values=(0.0, 1.0)),))
    with pytest.raises(ValueError, match="sobol or morris"):
        indices(exp, design_points(exp), np.zeros(2))


@pytest.mark.slow
def test_a_morris_sweep_reports_which_levers_matter(tmp_path):
    folder = tmp_path / "morris"
    levers = ("[{key: scenario.cities.zhengzhou.policy.reward_rate, low: 0.0, high: 0.4},"
              " {key: scenario.cities.xian.policy.reward_rate, low: 0.0, high: 0.4}]")
    sweep = subprocess.run([sys.executable, "-m", "experiments.sweep", "experiment=smoke", "experiment.design=morris",
                            "experiment.samples=3", "experiment.replicates=1", "steps=13", f"experiment.parameters={levers}",
                            "progress=false", f"hydra.run.dir={folder}"], cwd=ROOT, capture_output=True, text=True)
    assert sweep.returncode == 0, sweep.stderr
    report = subprocess.run([sys.executable, "-m", "experiments.report", str(folder)], cwd=ROOT, capture_output=True,
                            text=True)
    assert report.returncode == 0, report.stderr
    table = pd.read_csv(folder / "report" / "sensitivity.csv")
    assert set(table.key) == {"scenario.cities.zhengzhou.policy.reward_rate", "scenario.cities.xian.policy.reward_rate"}
    assert (table.mu_star >= 0).all() and valid_png(folder / "report" / "sensitivity.png")
    assert "## Which levers matter" in (folder / "report" / "report.md").read_text()


def test_an_outcome_no_lever_moves_is_said_to_be_constant_not_undersampled():
    exp = _experiment(DesignKind.morris, ("a", "b"), 0.0, 1.0, 8)
    points = design_points(exp)
    got = indices(exp, points, np.zeros(len(points)))
    assert (got.mu_star == 0).all() and got.warning.str.contains("same at every design point").all()


def test_the_intervals_and_warnings_are_the_same_on_every_call():
    """SALib seeds its bootstrap only for a truthy seed: the intervals must not follow NumPy's global state."""
    exp = _experiment(DesignKind.sobol, ("x1", "x2", "x3"), -np.pi, np.pi, 256)
    points = design_points(exp)
    first = indices(exp, points, _ishigami(points))
    np.random.seed(12345)  # global state an unseeded bootstrap would read
    again = indices(exp, points, _ishigami(points))
    pd.testing.assert_frame_equal(first, again)
    with pytest.raises(ValueError, match="seed: 0 is not allowed"):
        indices(exp, points, _ishigami(points), seed=0)

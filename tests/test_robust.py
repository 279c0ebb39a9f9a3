"""Robust decisions: regret, satisficing and the robust choice on a planted policies x scenarios table."""

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.intervals import wilson
from experiments.analysis.robust import LITERATURE, RIVALS, regret, robust_choice, scenarios, summarise, uncertainties


def _planted():
    # three scenarios; "bold" is best in two, "steady" in one; "cheap" is never best
    share = {"cheap": [0.10, 0.11, 0.12], "steady": [0.13, 0.12, 0.15], "bold": [0.16, 0.11, 0.17]}
    outlay = {"cheap": 20e6, "steady": 60e6, "bold": 150e6}
    rows = [{"policy": p, "scenario": s, "share": v, "outlay_per_year": outlay[p]}
            for p, values in share.items() for s, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_regret_is_the_gap_to_the_best_policy_in_each_scenario():
    table = _planted()
    got = table.assign(regret=regret(table, "share")).set_index(["policy", "scenario"]).regret
    assert got["bold", 0] == 0 and got["steady", 0] == pytest.approx(0.03) and got["cheap", 0] == pytest.approx(0.06)
    assert got["steady", 1] == 0 and got["bold", 1] == pytest.approx(0.01) and got["cheap", 1] == pytest.approx(0.01)
    assert got["bold", 2] == 0 and got["steady", 2] == pytest.approx(0.02)


def test_satisficing_counts_scenarios_meeting_share_and_cost_and_picks_the_robust_policy():
    summary = summarise(_planted(), min_share=0.12, max_outlay=100e6).set_index("policy")
    assert summary.loc["steady", "satisficing"] == 1.0  # 0.13, 0.12, 0.15 at 60 M
    assert summary.loc["bold", "satisficing"] == 0.0  # best shares, but over the 100 M ceiling
    assert summary.loc["cheap", "satisficing"] == pytest.approx(1 / 3)
    assert summary.loc["cheap", ["satisficing_low", "satisficing_high"]].tolist() == pytest.approx(list(wilson(1, 3)))
    assert summary.loc["bold", "regret_max"] == pytest.approx(0.01) and summary.loc["cheap", "regret_max"] == \
        pytest.approx(0.06)
    assert robust_choice(summary.reset_index()) == "steady"


def test_scenarios_cross_every_draw_with_every_rival_strategy_within_the_documented_ranges():
    table, keys = scenarios(4, seed=1)
    assert len(table) == 4 * len(RIVALS) and keys == list(uncertainties())
    for key, (low, high) in uncertainties().items():
        assert table[key].between(low, high).all(), key


def test_posterior_scenarios_are_its_sets_each_with_its_city_grown_whole(tmp_path):
    """With a posterior, each scenario is one of its sets (a starting size carries talent and studios along)."""
    from sim import load_config
    from sim.params import to_dict

    path = tmp_path / "tiny.posterior.csv"
    path.write_text("# a posterior of three sets\nscenario.market.producer_share,scenario.cities.xian.firms,weight\n"
                    "0.30,430,0.2\n0.35,500,0.5\n0.38,529,0.3\n")
    base = to_dict(load_config("xian_vs_zhengzhou"))
    table, keys = scenarios(30, seed=2, posterior=str(path), base=base)
    assert keys == ["scenario.market.producer_share", "scenario.cities.xian.firms", *LITERATURE]
    assert len(table) == 30 * len(RIVALS)
    pairs = set(zip(table["scenario.market.producer_share"], table["scenario.cities.xian.firms"]))
    assert pairs <= {(0.30, 430), (0.35, 500), (0.38, 529)} and len(pairs) == 3
    xian = base["scenario"]["cities"]["xian"]
    assert np.allclose(table["scenario.cities.xian.talent"], xian["talent"] * table["scenario.cities.xian.firms"]
                       / xian["firms"])
    low, high = LITERATURE["scenario.behaviour.agglomeration"]
    assert table["scenario.behaviour.agglomeration"].between(low, high).all()


@pytest.mark.parametrize("arg, says", [("seeds=0", "seeds=0 is out of range"), ("scenarios=many", "not a number"),
                                       ("min_share=2", "min_share=2 is out of range"), ("colour=red", "not an option"),
                                       ("seeds=2.5", "whole numbers"),
                                       ("posterior=nowhere", "posterior: no posterior named 'nowhere'")])
def test_bad_options_are_refused_in_one_line_naming_the_key(arg, says, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "experiments.robust", arg, f"out={tmp_path / 'r'}"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode != 0 and says in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
    assert not (tmp_path / "r").exists()  # nothing made before the options were checked


def test_the_best_policy_per_rival_strategy_is_read_from_the_regrets():
    from experiments.analysis.robust import RIVAL, best_by_rival, render_by_rival

    outcomes = pd.DataFrame({
        "policy": ["a", "b", "a", "b", "a", "b"],
        "scenario": [0, 0, 1, 1, 2, 2],
        RIVAL: ["fixed", "fixed", "fixed", "fixed", "reactive", "reactive"],
        "share": [0.20, 0.10, 0.05, 0.15, 0.30, 0.40],
        "outlay_per_year": [50e6, 50e6, 50e6, 50e6, 50e6, 200e6]})
    table = best_by_rival(outcomes, 0.12, 100e6).set_index([RIVAL, "policy"])
    assert table.loc[("fixed", "a"), "best"] == 0.5 and table.loc[("reactive", "b"), "best"] == 1.0
    assert table.loc[("reactive", "b"), "satisficing"] == 0.0  # best share, over the ceiling
    text = render_by_rival(best_by_rival(outcomes, 0.12, 100e6))
    assert "| reactive | b (100%) | a (100%) |" in text

"""The cockpit's ensemble (viz/bands.py): the runs and twins, summary.json's definitions, and what changes added."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import load_config
from sim.ensemble import run_ensemble
from sim.params import PolicyShock
from viz.bands import Bands, member_params, percentiles

SEEDS = [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def base():
    return load_config("xian_vs_zhengzhou", ["steps=30"])


def test_without_changes_every_run_is_its_twin_and_nothing_is_added(base):
    bands = Bands(base, base, SEEDS)
    bands.run_to(18)
    added = bands.added_by_changes()
    assert bands.steps == 18
    for name in ("jobs", "firms", "outlay"):
        np.testing.assert_array_equal(added[name], 0.0)
    assert not bands.national_effect()["distinguishable"]


def test_the_figures_are_summary_json_s_under_the_same_names(base):
    bands = Bands(base, base, SEEDS)
    bands.run_to(base.steps)
    now = bands.now()
    for i, view in enumerate(run_ensemble(member_params(base, SEEDS))):
        summary = view.summary()
        places = view.place_ids
        np.testing.assert_allclose(now["jobs"][i], [summary["final_employment"][p] for p in places])
        np.testing.assert_allclose(now["firms"][i], [summary["final_firms"][p] for p in places])
        np.testing.assert_allclose(now["outlay"][i], [summary["outlay_total"][p] for p in places])
        np.testing.assert_allclose(now["share"][i], [summary["trailing_share"][p] for p in places])  # the capital test's


def test_a_change_moves_the_changed_runs_only_and_its_effect_carries_a_band(base):
    bands = Bands(base, base, SEEDS)
    bands.run_to(6)
    bands.change(PolicyShock(at="2024-07", city="zhengzhou", lever="reward_rate", value=0.4))
    bands.run_to(base.steps)
    plain = run_ensemble(member_params(base, SEEDS))
    twins = bands.history("employment", twins=True)
    for i, view in enumerate(plain):  # the twins are the runs without the change, exactly
        np.testing.assert_array_equal(twins[i], view.recorder.column("employment"))
    rate = bands.history("reward_rate")[:, :, 1]
    assert (rate[:, :6] == rate[0, 0]).all() and (rate[:, 6:] == 0.4).all()
    table = bands.table()
    z = table.set_index("city").loc["zhengzhou"]
    assert z.added_by_changes_outlay_lo <= z.added_by_changes_outlay <= z.added_by_changes_outlay_hi and z.added_by_changes_outlay > 0  # it pays more
    effect = bands.national_effect()
    assert effect["lo"] <= effect["median"] <= effect["hi"]


def test_bands_are_the_percentiles_over_runs(base):
    bands = Bands(base, base, SEEDS)
    bands.run_to(5)
    band = bands.band("firms")
    assert band.shape == (3, 5, len(bands.place_ids))
    assert (band[0] <= band[1]).all() and (band[1] <= band[2]).all()
    np.testing.assert_allclose(band[1], np.median(bands.history("firms"), axis=0))
    lo, mid, hi = percentiles(np.array([1.0, 2.0, 3.0, np.nan]))
    assert mid == 2.0 and lo < mid < hi


def test_each_run_can_draw_its_parameter_set_from_the_posterior(base):
    national = load_config("national", ["steps=3"])
    drawn = member_params(national, [1, 2, 3], posterior="national")
    assert len({run.scenario.market.producer_share for run in drawn}) > 1  # each seed's own set
    assert [run.seed for run in drawn] == [1, 2, 3]
    assert dataclasses.replace(drawn[0], seed=1) == drawn[0]


def test_with_values_gives_what_apply_overrides_and_from_dict_give(base):
    from sim.params import ParamError, RunParams, apply_overrides, from_dict, to_dict, with_values

    values = {"scenario.market.producer_share": 0.3, "scenario.cities.xian.firms": 470.0, "seed": 9,
              "scenario.cities.zhengzhou.policy.reward_rate": 0.2}
    assert with_values(base, values) == from_dict(RunParams, apply_overrides(to_dict(base), values))
    with pytest.raises(ParamError, match="scenario.cities.nowhere.firms"):
        with_values(base, {"scenario.cities.nowhere.firms": 3})
    with pytest.raises(ParamError, match="scenario.market.producer_share"):
        with_values(base, {"scenario.market.producer_share": 7.0})  # out of its range: refused as from_dict does

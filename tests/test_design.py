"""Experiment designs and seeds: sizes, bounds, reproducibility."""

import numpy as np
import pytest

from experiments import run_once
from experiments.batch.design import (MAX_RUNS, DesignKind, ExperimentParams, ParameterSpec, design_points, run_count,
                                run_table)
from experiments.batch.runs import RunTask, evaluate
from sim.params import ParamError, apply_overrides, to_dict

from conftest import make_params

RATE = "scenario.cities.east.policy.reward_rate"
BUDGET = "scenario.cities.west.policy.annual_budget"


def exp(**kw):
    base = dict(name="t", parameters=(ParameterSpec(RATE, values=(0.1, 0.2, 0.3)), ParameterSpec(BUDGET, values=(0.0, 1e8))),
                replicates=4, root_seed=7)
    base.update(kw)
    return ExperimentParams(**base)


def ranged(kind, samples=8):
    return exp(design=kind, samples=samples,
               parameters=(ParameterSpec(RATE, low=0.0, high=0.5), ParameterSpec(BUDGET, low=0.0, high=1e8)))


def test_grid_is_full_factorial_with_replicates():
    runs = run_table(exp())
    assert len(runs) == 3 * 2 * 4
    assert list(runs.columns[:4]) == ["run_id", "point_id", "replicate", "seed"]
    assert runs.groupby([RATE, BUDGET]).size().eq(4).all()


@pytest.mark.parametrize("kind, expected", [(DesignKind.lhs, 8), (DesignKind.sobol, 8 * (2 * 2 + 2)),
                                            (DesignKind.morris, 8 * (2 + 1))])
def test_samplers_stay_in_bounds_and_have_their_sizes(kind, expected):
    points = design_points(ranged(kind))
    assert len(points) == expected
    assert points[RATE].between(0, 0.5).all() and points[BUDGET].between(0, 1e8).all()


def test_lhs_stratifies_each_parameter():
    points = design_points(ranged(DesignKind.lhs, samples=10))
    assert sorted(np.floor(points[RATE] / 0.05).astype(int)) == list(range(10))


def test_seeds_are_reproducible_and_common_across_points():
    a, b = run_table(exp()), run_table(exp())
    assert a.equals(b)
    assert a.groupby("replicate").seed.nunique().eq(1).all()  # common random numbers
    assert a.seed.nunique() == 4
    independent = run_table(exp(common_random_numbers=False))
    assert independent.seed.nunique() == len(independent)
    assert not run_table(exp(root_seed=8)).seed.equals(a.seed)


def test_invalid_experiments_name_their_key():
    with pytest.raises(ParamError, match="grid design needs `values`"):
        exp(parameters=(ParameterSpec(RATE),))
    with pytest.raises(ParamError, match="needs low < high"):
        exp(design=DesignKind.lhs, parameters=(ParameterSpec(RATE, low=0.5, high=0.1),))
    with pytest.raises(ParamError, match="experiment.outcomes"):
        exp(outcomes=("happiness",))
    with pytest.raises(ParamError, match="experiment.replicates"):
        exp(replicates=0)


def test_apply_overrides_sets_dotted_keys_and_rejects_unknown_ones():
    base = to_dict(make_params())
    data = apply_overrides(base, {RATE: 0.3, "steps": 12.0})
    assert data["scenario"]["cities"]["east"]["policy"]["reward_rate"] == 0.3
    assert data["steps"] == 12 and isinstance(data["steps"], int)
    assert base["scenario"]["cities"]["east"]["policy"]["reward_rate"] == 0.1  # the base is not changed
    with pytest.raises(ParamError, match="scenario.cities.north"):
        apply_overrides(base, {"scenario.cities.north.policy.reward_rate": 0.3})


def test_a_failing_point_is_recorded_not_raised():
    base = to_dict(make_params(steps=3))
    result = evaluate(RunTask(5, 1, {RATE: 1.5}), base, ("capital",), 1)
    assert result.row["status"] == "failed" and "reward_rate" in result.row["error"] and result.cities is None
    ok = evaluate(RunTask(6, 1, {RATE: 0.2}), base, ("capital", "final_share"), 1)
    assert ok.row["status"] == "ok" and set(ok.cities.run_id) == {6} and "final_share.east" in ok.row


def test_run_once_is_a_plain_function_matching_a_model_run():
    params = make_params(steps=12, seed=3)
    out = run_once({RATE: 0.2}, seed=3, base=params)
    again = run_once({RATE: 0.2}, seed=3, base=to_dict(params))
    assert out == again and set(out) >= {"capital", "final_share.east", "subsidy_total.west", "cost_per_job.east"}
    # EMA-style use: numbers only, the seed once, the outcome names checked.
    numeric = run_once({}, seed=3, base="symmetric", steps=24, outcomes=("is_capital", "final_share"))
    assert set(numeric) == {"is_capital.east", "is_capital.west", "final_share.east", "final_share.west"}
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numeric.values())
    named = run_once({}, seed=3, base="symmetric", steps=24, outcomes=("capital",))["capital"]
    assert [c for c in ("east", "west") if numeric[f"is_capital.{c}"]] == ([named] if named else [])
    with pytest.raises(ValueError, match="seed: given both"):
        run_once({"seed": 4}, seed=3, base="symmetric", steps=2)
    with pytest.raises(ValueError, match="unknown outcome 'capitol'; allowed: capital, "):
        run_once({}, seed=3, base="symmetric", steps=2, outcomes=("capitol",))


def test_a_points_design_runs_the_listed_points_in_order():
    e = exp(design=DesignKind.points, parameters=(ParameterSpec(RATE, values=(0.1, 0.3, 0.2)),
                                                  ParameterSpec(BUDGET, values=(5.0, 6.0, 7.0))))
    points = design_points(e)
    assert points[RATE].tolist() == [0.1, 0.3, 0.2] and points[BUDGET].tolist() == [5.0, 6.0, 7.0]
    with pytest.raises(ParamError, match="as many values"):
        exp(design=DesignKind.points, parameters=(ParameterSpec(RATE, values=(0.1, 0.3)),
                                                  ParameterSpec(BUDGET, values=(5.0,))))


@pytest.mark.parametrize("kind", list(DesignKind))
def test_run_count_is_the_size_of_the_built_design(kind):
    if kind in (DesignKind.grid, DesignKind.points):
        e = exp(design=kind, parameters=(ParameterSpec(RATE, values=(0.1, 0.2, 0.3)),
                                         ParameterSpec(BUDGET, values=(0.0, 1e8, 2e8))), replicates=3)
    else:
        e = exp(design=kind, samples=4, replicates=3, parameters=(
            ParameterSpec(RATE, low=0.0, high=0.5), ParameterSpec(BUDGET, low=0.0, high=1e8),
            ParameterSpec("steps", low=6, high=12)))
    assert run_count(e) == len(run_table(e))


def test_a_design_too_large_is_refused_before_it_is_built():
    # 10^6 samples x (2k + 2 = 6) points x 10^5 replicates: building it would need terabytes.
    with pytest.raises(ParamError, match="experiment.samples or experiment.replicates") as err:
        exp(design=DesignKind.sobol, samples=1_000_000, replicates=100_000,
            parameters=(ParameterSpec(RATE, low=0.0, high=0.5), ParameterSpec(BUDGET, low=0.0, high=1e8)))
    assert err.value.key == "experiment" and "600,000,000,000 runs" in err.value.message
    with pytest.raises(ParamError, match="values in experiment.parameters"):
        exp(parameters=(ParameterSpec(RATE, values=tuple(range(1001))),), replicates=1000)
    assert run_count(exp(parameters=(ParameterSpec(RATE, values=tuple(range(1000))),), replicates=1000)) == MAX_RUNS


def test_seed_cannot_be_a_design_parameter():
    with pytest.raises(ParamError, match="experiment.root_seed") as err:
        exp(parameters=(ParameterSpec("seed", values=(1, 2)),))
    assert err.value.key == "experiment.parameters[0] (seed)"


@pytest.mark.parametrize("kind", [DesignKind.grid, DesignKind.lhs])
def test_values_and_a_range_together_are_refused(kind):
    with pytest.raises(ParamError, match="not both") as err:
        exp(design=kind, parameters=(ParameterSpec(RATE, values=(0.1, 0.2), low=0.0, high=0.5),))
    assert err.value.key == f"experiment.parameters[0] ({RATE})"


def test_a_morris_design_draws_forty_trajectories_unless_told_otherwise():
    levers = (ParameterSpec(RATE, low=0.0, high=0.5), ParameterSpec(BUDGET, low=0.0, high=1e8))
    assert exp(design=DesignKind.morris, parameters=levers).samples == 40
    assert exp(design=DesignKind.lhs, parameters=levers).samples == 16
    assert exp(design=DesignKind.morris, parameters=levers, samples=12).samples == 12

"""The fast path (sim.ensemble): determinism, a run's independence of its batch, and agreement with the reference
model over replicates on every outcome of the registry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.batch.runs import REGISTRY, RunTask, evaluate, evaluate_batch, run_once
from sim import ContestModel, load_config
from sim.ensemble import Ensemble, run_ensemble
from sim.params import ParamError, PolicyShock, to_dict

STEPS = 36


def _runs(seeds, scenario="xian_vs_zhengzhou", overrides=()):
    base = load_config(scenario, [f"steps={STEPS}", "counterfactual=false", *overrides])
    return [dataclasses.replace(base, seed=s) for s in seeds]


def test_same_runs_give_identical_tables():
    a = run_ensemble(_runs([1, 2, 3]))
    b = run_ensemble(_runs([1, 2, 3]))
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x.city_table(), y.city_table())
        assert x.summary() == y.summary()
    assert not a[0].city_table().equals(a[1].city_table())  # other seeds, other numbers


def test_a_run_is_the_same_alone_or_beside_others_whatever_their_parameters():
    runs = _runs([4, 5, 6])
    runs[0] = dataclasses.replace(runs[0], scenario=dataclasses.replace(
        runs[0].scenario, behaviour=dataclasses.replace(runs[0].scenario.behaviour, agglomeration=0.2)))
    runs[2] = dataclasses.replace(runs[2], shocks=(PolicyShock(at="2024-06", city="zhengzhou", lever="reward_rate",
                                                               value=0.3),))
    together = run_ensemble(runs)
    for i, params in enumerate(runs):
        alone = run_ensemble([params])[0]
        pd.testing.assert_frame_equal(alone.city_table(), together[i].city_table())
    assert together[2].city_table().query("city == 'zhengzhou'").reward_rate.max() == 0.3


def test_runs_of_other_places_or_lengths_are_refused_in_one_line():
    a = _runs([1])[0]
    with pytest.raises(ParamError, match="runs: every run of an ensemble shares its places"):
        Ensemble([a, dataclasses.replace(a, steps=STEPS + 1)])
    with pytest.raises(ParamError, match="runs"):
        Ensemble([])


def test_studios_open_in_the_month_the_reference_opens_them():
    params = _runs([3], overrides=["scenario.cities.zhengzhou.policy.studio_investment=120e6",
                                   "scenario.cities.zhengzhou.policy.studio_lag_months=3"])[0]
    ensemble, model = Ensemble([params]), ContestModel(params)
    for _ in range(8):
        ensemble.step()
        model.step()
        np.testing.assert_allclose(ensemble.cs.endowed_capacity, model.city_state.endowed_capacity)
    assert model.city_state.endowed_capacity[1] > 180.0  # the studios did open


def test_the_batch_evaluator_records_a_bad_run_alone_and_matches_run_once():
    base = to_dict(load_config("xian_vs_zhengzhou", [f"steps={STEPS}", "counterfactual=false"]))
    rate = "scenario.cities.zhengzhou.policy.reward_rate"
    tasks = [RunTask(0, 11, {rate: 0.2}), RunTask(1, 12, {rate: 7.0}), RunTask(2, 13, {rate: 0.1})]
    results = evaluate_batch(tasks, base, ("final_share", "added_jobs"), 0)
    assert [r.row["status"] for r in results] == ["ok", "failed", "ok"]
    assert "reward_rate" in results[1].row["error"]
    alone = run_once({rate: 0.2}, 11, base, outcomes=("final_share", "added_jobs"))
    assert {k: results[0].row[k] for k in alone} == alone


# ---------------------------------------------------------------------- agreement with the reference

REPLICATES = 40
# Zhengzhou answers Xi'an (reactive) so the strategies' outcomes move; the counterfactual gives the added ones.
AGREEMENT = ["scenario.cities.zhengzhou.strategy.kind=reactive", f"steps={STEPS}"]


def _samples(path: str) -> pd.DataFrame:
    base = to_dict(load_config("xian_vs_zhengzhou", AGREEMENT))
    outcomes = tuple(REGISTRY)
    seeds = np.random.SeedSequence(2026 if path == "fast" else 2027).generate_state(REPLICATES)
    tasks = [RunTask(i, int(s), {}) for i, s in enumerate(seeds)]
    if path == "fast":
        results = evaluate_batch(tasks, base, outcomes, 0)
    else:
        results = [evaluate(t, base, outcomes, 0) for t in tasks]
    assert all(r.row["status"] == "ok" for r in results), [r.row.get("error") for r in results]
    return pd.DataFrame([r.row for r in results])


def disagreements(a: pd.DataFrame, b: pd.DataFrame, alpha: float = 0.01) -> list[str]:
    """Outcome columns whose distributions differ between two samples of runs (Kolmogorov-Smirnov, Bonferroni over
    the columns); labels are compared by their shares of each value (chi-square)."""
    numeric, labels = [], []
    for column in a.columns:
        if column in ("run_id", "status", "error"):
            continue
        if pd.api.types.is_numeric_dtype(a[column]) and pd.api.types.is_numeric_dtype(b[column]):
            numeric.append(column)
        else:
            labels.append(column)
    tests = len(numeric) + len(labels)
    out = []
    for column in numeric:
        x, y = a[column].astype(float), b[column].astype(float)
        if x.isna().mean() != y.isna().mean() and abs(x.isna().mean() - y.isna().mean()) > 0.35:
            out.append(f"{column}: undefined in {x.isna().mean():.0%} against {y.isna().mean():.0%}")
            continue
        x, y = x.dropna(), y.dropna()
        if len(x) < 5 or len(y) < 5 or (x.nunique() == 1 and y.nunique() == 1 and x.iloc[0] == y.iloc[0]):
            continue
        p = stats.ks_2samp(x, y).pvalue
        if p < alpha / tests:
            out.append(f"{column}: KS p = {p:.2g} (means {x.mean():.4g} and {y.mean():.4g})")
    for column in labels:
        counts = pd.concat([a[column].fillna("none").value_counts(), b[column].fillna("none").value_counts()],
                           axis=1).fillna(0)
        if len(counts) > 1:
            p = stats.chi2_contingency(counts.to_numpy()).pvalue
            if p < alpha / tests:
                out.append(f"{column}: chi-square p = {p:.2g}")
    return out


@pytest.fixture(scope="module")
def reference_runs() -> pd.DataFrame:
    return _samples("reference")


@pytest.mark.slow
def test_the_fast_path_agrees_with_the_reference_on_every_outcome(reference_runs):
    fast = _samples("fast")
    registry_columns = {c.split(".")[0] for c in fast.columns} - {"run_id", "status", "error", "fact"}
    assert registry_columns | {"facts"} >= set(REGISTRY) - {"facts"}  # every outcome is compared
    assert not disagreements(fast, reference_runs)


@pytest.mark.slow
def test_the_agreement_test_sees_a_different_model(reference_runs):
    """The comparison has the power to see a modest change of behaviour: losing companies close twice as fast."""
    base = to_dict(load_config("xian_vs_zhengzhou", [*AGREEMENT, "scenario.firms.exit_hazard=0.4"]))
    tasks = [RunTask(i, 500 + i, {}) for i in range(REPLICATES)]
    other = pd.DataFrame([r.row for r in evaluate_batch(tasks, base, tuple(REGISTRY), 0)])
    assert disagreements(other, reference_runs)


def test_a_shock_added_mid_run_is_the_shock_given_at_the_start():
    """The cockpit's mid-run change: added before its month, in some runs only, it gives those runs the tables of
    runs that had it from the start, and leaves the others as they were."""
    shock = PolicyShock(at="2024-07", city="zhengzhou", lever="reward_rate", value=0.3)
    plain = _runs([21, 22])
    given = [dataclasses.replace(plain[0], shocks=(shock,)), plain[1]]
    ahead = run_ensemble(given)
    ensemble = Ensemble(plain).run(4)
    ensemble.add_shock(shock, runs=[0])
    with pytest.raises(ParamError, match="shocks.at: 2024-01 has been simulated already; the next month is 2024-05"):
        ensemble.add_shock(dataclasses.replace(shock, at="2024-01"))
    ensemble.run()
    for i in range(2):
        pd.testing.assert_frame_equal(ensemble.view(i).city_table(), ahead[i].city_table())
    assert ensemble.view(0).params.shocks == (shock,) and ensemble.view(1).params.shocks == ()

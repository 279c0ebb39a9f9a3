"""Runs drawn from a posterior: a sweep, run_once and the optimiser meet the set each seed draws, paired."""

from __future__ import annotations

import json

import pytest

from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec, fingerprint, run_table
from experiments.batch.engine import run_sweep
from experiments.batch.runs import evaluate_batch, run_once
from experiments.calibration.posterior import load_posterior
from sim import load_config
from sim.params import ParamError, to_dict

RATE = "scenario.cities.zhengzhou.policy.reward_rate"


class Serial:
    """Each task in this process, on the fast path as sweeps run by default; remembers the values each run was given."""

    workers = 1
    path = "fast"

    def __init__(self, base):
        self.base = to_dict(base)
        self.values: dict[int, dict] = {}

    def describe(self) -> str:
        return "serial (test)"

    def map(self, tasks, outcomes, keep_every):
        for task in tasks:
            self.values[task.run_id] = dict(task.values)
            yield from evaluate_batch([task], self.base, outcomes, keep_every)


@pytest.fixture()
def posterior_file(tmp_path):
    path = tmp_path / "tiny.posterior.csv"
    path.write_text("# three sets far apart, so a mix-up shows\n"
                    "scenario.market.producer_share,scenario.cities.xian.firms,scenario.cities.hengdian.firms,weight\n"
                    "0.16,430,220,0.3\n0.25,480,230,0.3\n0.39,525,250,0.4\n")
    return str(path)


def _experiment(posterior: str) -> ExperimentParams:
    return ExperimentParams(name="drawn", parameters=(ParameterSpec(RATE, values=(0.1, 0.3)),), replicates=4,
                            root_seed=5, outcomes=("final_share",), keep_every=0, posterior=posterior)


def test_a_sweep_gives_each_replicate_its_seed_s_set_at_every_point(tmp_path, posterior_file):
    base = load_config("xian_vs_zhengzhou", ["steps=3", "counterfactual=false"])
    evaluator = Serial(base)
    runs = run_sweep(_experiment(posterior_file), base, tmp_path / "sweep", evaluator=evaluator, progress=False)
    posterior = load_posterior(posterior_file)
    for row in runs.to_dict("records"):
        given = evaluator.values[row["run_id"]]
        drawn = posterior.values(posterior.index_for(row["seed"]), evaluator.base)
        assert row["posterior_set"] == posterior.index_for(row["seed"])
        assert {k: given[k] for k in drawn} == drawn  # hengdian is not in this scenario: left out
        assert "scenario.cities.hengdian.firms" not in given
        assert given[RATE] == row[RATE]  # the design's lever is kept beside the draw
    # Paired: replicate r meets one set at both points.
    assert runs.groupby("replicate").posterior_set.nunique().eq(1).all()
    # The same run through run_once with the posterior gives the same outcome.
    first = runs.iloc[0]
    again = run_once({RATE: float(first[RATE])}, int(first.seed), base, outcomes=("final_share",),
                     posterior=posterior_file)
    assert again["final_share.zhengzhou"] == first["final_share.zhengzhou"]
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert manifest["posterior"]["fingerprint"] == posterior.fingerprint()


def test_another_posterior_is_another_sweep(tmp_path, posterior_file):
    base = to_dict(load_config("xian_vs_zhengzhou"))
    other = tmp_path / "other.posterior.csv"
    other.write_text(open(posterior_file).read().replace("0.39,525", "0.38,525"))
    assert fingerprint(_experiment(posterior_file), base) != fingerprint(_experiment(str(other)), base)
    assert fingerprint(_experiment(""), base) != fingerprint(_experiment(posterior_file), base)
    assert "posterior_set" not in run_table(_experiment(""))


def test_an_unknown_posterior_is_refused_naming_the_published_ones():
    with pytest.raises(ParamError, match="posterior: no posterior named 'atlantis'; published: "):
        _experiment("atlantis")


def test_the_optimiser_s_seeds_meet_their_sets_in_the_search_and_the_holdout(posterior_file):
    from experiments.optimisation.search import OptimizeParams, drawn_values, holdout_seeds, seeds

    opt = OptimizeParams(city="zhengzhou", levers=(ParameterSpec(RATE, low=0.0, high=0.5),), replicates=5,
                         holdout=20, posterior=posterior_file)
    evaluator = Serial(load_config("xian_vs_zhengzhou"))
    drawn = drawn_values(opt, evaluator)
    posterior = load_posterior(posterior_file)
    for seed in seeds(opt) + holdout_seeds(opt):
        assert drawn(seed) == posterior.values(posterior.index_for(seed), evaluator.base)
    assert {posterior.index_for(s) for s in holdout_seeds(opt)} == {0, 1, 2}  # 20 seeds meet every set
    without = OptimizeParams(city="zhengzhou", levers=opt.levers, replicates=5, holdout=20)
    assert drawn_values(without, evaluator)(seeds(opt)[0]) == {}

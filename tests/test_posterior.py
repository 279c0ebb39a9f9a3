"""The posterior calibration (experiments/calibration/posterior.py): recovery of a known parameter, determinism, draws."""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import PYTHON, ROOT
from experiments.batch.design import ParameterSpec
from experiments.batch.evaluators import LocalEvaluator
from experiments.calibration.facts import Fact, facts_for
from experiments.calibration.posterior import (Posterior, PosteriorParams, StartingSize, distance_to_facts, expand,
                                   fit_posterior, load_posterior)
from sim import load_config
from sim.params import ParamError, to_dict

def run_module(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


TRUTH = 0.3  # configs/scenario/recovery.yaml: the producer share its synthetic fact was measured at


@pytest.fixture(scope="module")
def recovery_base() -> dict:
    base = to_dict(load_config("recovery"))
    base["steps"] = 12  # the synthetic fact is measured over 2024
    return base


@pytest.mark.slow
def test_the_posterior_recovers_the_known_producer_share(tmp_path):
    """Through the command: the truth lies inside the posterior's 90 % interval, which is narrow."""
    folder = tmp_path / "recovery"
    result = run_module("experiments.calibrate", "scenario=recovery", "method=posterior", "steps=12",
                        "calibration.posterior.population=60", "calibration.posterior.check_draws=20",
                        "workers=2", "progress=false", f"hydra.run.dir={folder}")
    assert result.returncode == 0, result.stderr
    posterior = load_posterior(folder / "posterior.csv")
    assert len(posterior) == 60 and math.isclose(posterior.table.weight.sum(), 1.0)
    q = posterior.weighted_quantiles().loc["scenario.market.producer_share"]
    assert q.q5 <= TRUTH <= q.q95, q
    # The fact (0.25 x share within 0.005) admits shares within 0.02 of the truth: no wider than that band.
    assert q.q95 - q.q5 <= 0.04, "the synthetic fact pins the share to its tolerance band"
    for name in ("posterior.json", "posterior.png", "generations.csv", "simulations.parquet", "check.parquet"):
        assert (folder / name).exists(), name
    assert "not published" in result.stdout


@pytest.mark.slow
def test_the_posterior_does_not_depend_on_which_worker_finishes_first(tmp_path, recovery_base):
    params = [ParameterSpec("scenario.market.producer_share", low=0.15, high=0.4)]
    post = PosteriorParams(population=20, generations=2, max_simulations=400, check_draws=4)
    tables = []
    for workers, name in ((1, "a"), (2, "b")):  # one worker runs in order; two finish in any order
        (tmp_path / name).mkdir()
        with LocalEvaluator(recovery_base, workers) as evaluator:
            result = fit_posterior(params, [], post, recovery_base, "recovery", tmp_path / name, evaluator,
                                   progress=False)
        tables.append(result.posterior.table)
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_the_distance_is_below_one_exactly_when_every_fact_holds():
    facts = (Fact("a", "a", "-", 10.0, 2.0, ("s",), lambda t, p: 0.0),
             Fact("b", "b", "-", 1.0, 0.1, ("s",), lambda t, p: 0.0, lower_bound=True))
    distance = distance_to_facts(facts)
    for a in np.linspace(5, 15, 21):
        for b in np.linspace(0.8, 1.3, 11):
            holds = all(f.holds(v) for f, v in zip(facts, (a, b)))
            d = distance({"a": a, "b": b}, {})
            if not math.isclose(d, 1.0):
                assert (d < 1) == holds, (a, b, d)
    assert distance({"a": float("nan"), "b": 2.0}, {}) == math.inf


def _posterior(weights) -> Posterior:
    table = pd.DataFrame({"scenario.market.producer_share": np.linspace(0.2, 0.3, len(weights)),
                          "weight": np.asarray(weights, dtype=float) / np.sum(weights)})
    return Posterior("national", table)


def test_a_replicate_seed_always_meets_the_same_set_and_sets_are_met_by_weight():
    posterior = _posterior([1, 2, 3, 4])
    seeds = range(4_000)
    first = [posterior.index_for(s) for s in seeds]
    assert first == [posterior.index_for(s) for s in seeds]
    counts = np.bincount(first, minlength=4)
    expected = 4_000 * np.array([0.1, 0.2, 0.3, 0.4])
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 16.3, (counts, chi2)  # 3 degrees of freedom: P(chi2 > 16.3) = 0.001 when the draws follow the weights


def test_a_starting_size_carries_its_city_s_talent_and_studios_along():
    base = to_dict(load_config("national"))
    city = base["scenario"]["cities"]["xian"]
    out = expand({"scenario.cities.xian.firms": 2 * city["firms"] + 0.4, "scenario.market.producer_share": 0.3},
                 base)
    assert out["scenario.cities.xian.firms"] == 2 * city["firms"]
    assert math.isclose(out["scenario.cities.xian.talent"], 2 * city["talent"])
    assert math.isclose(out["scenario.cities.xian.studio_capacity"], 2 * city["studio_capacity"])
    assert out["scenario.market.producer_share"] == 0.3


def test_loading_an_unknown_posterior_names_the_published_ones():
    with pytest.raises(ParamError, match=r"posterior: no posterior named 'nowhere'; published: "):
        load_posterior("nowhere")


def test_bad_posterior_settings_are_refused_before_a_folder_is_made(tmp_path):
    folder = tmp_path / "never"
    result = run_module("experiments.calibrate", "scenario=recovery", "method=posterior",
                        "calibration.posterior.population=5", f"hydra.run.dir={folder}")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == \
        "error: calibration.posterior.population: 5 must be in [20, 100000]"
    assert not folder.exists()
    sized = run_module("experiments.calibrate", "scenario=national", "method=posterior",
                       "calibration.starting_sizes=[{city: atlantis, low: 1, high: 5, reason: none}]",
                       f"hydra.run.dir={folder}")
    assert sized.returncode != 0 and "calibration.starting_sizes[0] (atlantis): no such city in national" in sized.stderr
    assert not folder.exists()


def test_the_national_search_space_covers_the_open_starting_sizes():
    """Each documented base's starting size range contains the city file's own start."""
    import yaml

    from sim.shell.config import CONFIG_DIR

    sizes = [StartingSize(**s) for s in yaml.safe_load((CONFIG_DIR / "search_space" / "national.yaml").read_text())
             ["starting_sizes"]]
    base = to_dict(load_config("national"))
    assert {s.city for s in sizes} >= {"xian", "zhengzhou", "hengdian", "quzhou"}
    for s in sizes:
        assert s.low <= base["scenario"]["cities"][s.city]["firms"] <= s.high, s
    assert facts_for("national")


def test_the_published_national_posterior_is_loadable_by_name_and_documented():
    import json

    from experiments.calibration import docs as calibration_docs
    from sim.shell.config import PROJECT_ROOT

    posterior = load_posterior("national")
    assert len(posterior) >= 200 and math.isclose(posterior.table.weight.sum(), 1.0)
    record = json.loads((PROJECT_ROOT / "docs" / "calibration" / "national_posterior.json").read_text())
    assert record["keys"] == posterior.keys and record["sets"] == len(posterior)
    # Starting sizes are covered, inside the ranges the search space reads from the sources.
    for size in record["sizes"]:
        column = posterior.table[f"scenario.cities.{size['city']}.firms"]
        assert column.between(size["low"] - 0.5, size["high"] + 0.5).all()
    page = (PROJECT_ROOT / "docs" / "calibration.md").read_text()
    assert page == calibration_docs.render(PROJECT_ROOT / "docs")
    assert "## national: the posterior" in page and "img/calibration_national_posterior.png" in page


def test_an_edge_note_names_a_marginal_crowding_its_prior_s_end_and_only_then():
    from experiments.calibration.posterior_docs import edge_note

    crowded = {"key": "k", "log": False, "prior_low": 0.0, "prior_high": 1.0, "q5": 0.7, "median": 0.9, "q95": 0.99}
    assert "upper end (1)" in edge_note(crowded)
    spread = {**crowded, "q5": 0.05, "median": 0.5, "q95": 0.95}  # a flat marginal reaches both ends: no note
    assert edge_note(spread) == ""
    low = {"key": "k", "log": True, "prior_low": 0.01, "prior_high": 1.0, "q5": 0.011, "median": 0.02, "q95": 0.2}
    assert "lower end (0.01)" in edge_note(low)

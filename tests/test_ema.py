"""The EMA Workbench adapter: EMA's own sampler runs the model through run_once, outcomes named as in the project."""

import warnings

import numpy as np
import pytest

from experiments.analysis.ema import contest_model


@pytest.mark.slow
def test_ema_runs_the_contest_with_levers_uncertainties_and_seeds():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import perform_experiments

        model = contest_model(levers={"scenario.cities.zhengzhou.policy.reward_rate": (0.0, 0.4)},
                              uncertainties={"scenario.behaviour.cluster_pull": (0.5, 2.0)}, steps=6, replications=2)
        experiments, outcomes = perform_experiments(model, scenarios=3, policies=2)
    assert len(experiments) == 6
    assert {"scenario.cities.zhengzhou.policy.reward_rate", "scenario.behaviour.cluster_pull"} <= set(experiments)
    shares = sum(outcomes[f"final_share.{p}"] for p in ("xian", "zhengzhou", "rest"))
    assert shares.shape == (6, 2) and np.allclose(shares, 1.0)
    assert set(np.unique(outcomes["is_capital.zhengzhou"])) <= {0, 1}
    assert "capital" not in outcomes  # a city id is not a number: EMA gets is_capital instead


def test_ema_adapter_refuses_unknown_outcomes():
    with pytest.raises(ValueError, match="allowed"):
        contest_model(outcomes=("nope",))

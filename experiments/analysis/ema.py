"""The contest as an EMA Workbench model, for planners who explore and optimise with EMA.

    from ema_workbench import perform_experiments
    from experiments.analysis.ema import contest_model

    model = contest_model(
        levers={"scenario.cities.zhengzhou.policy.reward_rate": (0.0, 0.4),
                "scenario.cities.zhengzhou.policy.annual_budget": (25e6, 200e6)},
        uncertainties={"scenario.behaviour.cluster_pull": (0.5, 2.0)},
        steps=60, replications=5)
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=8)
    outcomes["is_capital.zhengzhou"].mean(axis=1)     # P(capital) per experiment, over the 5 seeds

Levers and uncertainties are named by the project's own config keys (any
ranged key of the scenario), outcomes by its outcome columns
(`<outcome>.<place>`, sim/outcomes.py). Each experiment runs `run_once`, so
EMA sees exactly what a sweep sees. It is a `ReplicatorModel` whose
replications are the seeds spawned from `root_seed` (one
`numpy.random.SeedSequence`), so each outcome has one column per seed.
"""

from __future__ import annotations

import warnings

import numpy as np

from experiments.batch.runs import run_once

DEFAULT_OUTCOMES = ("final_share", "is_capital", "subsidy_total")


def _ema():
    with warnings.catch_warnings():  # optional parallel back ends EMA does not find
        warnings.simplefilter("ignore")
        import ema_workbench
    return ema_workbench


def contest_model(levers: dict[str, tuple[float, float]] | None = None,
                  uncertainties: dict[str, tuple[float, float]] | None = None, scenario: str = "xian_vs_zhengzhou",
                  steps: int = 60, outcomes: tuple[str, ...] = DEFAULT_OUTCOMES, replications: int = 1,
                  root_seed: int = 0, name: str = "drama_capital"):
    """An EMA `Model` (or `ReplicatorModel` when replications > 1) of `scenario` with these levers and uncertainties."""
    from sim import load_config
    from experiments.batch.runs import REGISTRY as OUTCOMES
    from sim.outcomes import check_names

    ema = _ema()
    check_names(outcomes, OUTCOMES)
    base = load_config(scenario)
    places = [c.id for c in base.scenario.cities] + (["rest"] if base.scenario.outside.enabled else [])
    columns = [f"{o}.{p}" if OUTCOMES[o].per_city else o for o in outcomes
               for p in (places if OUTCOMES[o].per_city else [None])]
    numeric = [c for c in columns if OUTCOMES[c.split(".")[0]].kind != "label"]  # EMA's outcomes are numbers
    if replications < 1:
        raise ValueError(f"replications: {replications} is out of range; allowed at least 1")
    model = ema.ReplicatorModel(name, function=_function(scenario, steps, outcomes))
    seeds = np.random.SeedSequence(root_seed).generate_state(replications, dtype=np.uint64) >> np.uint64(1)
    model.replications = [{"seed": int(s)} for s in seeds]
    model.levers = [ema.RealParameter(k, lo, hi) for k, (lo, hi) in (levers or {}).items()]
    model.uncertainties = [ema.RealParameter(k, lo, hi) for k, (lo, hi) in (uncertainties or {}).items()]
    model.outcomes = [ema.ArrayOutcome(c) for c in numeric]  # one value per seed
    return model


def _function(scenario: str, steps: int, outcomes: tuple[str, ...]):
    def run(seed: int, **values) -> dict:
        return run_once(values, seed=seed, base=scenario, steps=steps, outcomes=outcomes)
    return run

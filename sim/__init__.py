"""Drama Capital: cities competing to become the capital of the micro-short-drama industry.

Python API (no config files needed):

    from sim import load_config, ContestModel
    cfg = load_config("xian_vs_zhengzhou", overrides=["seed=3"])
    model = ContestModel(cfg)
    model.step()
    model.city_table(); model.summary()

`load_config` composes the Hydra scenario files; Hydra is imported only
when it is called.
"""

import os

# One BLAS thread per model process: runs scale out across processes, not inside one.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from sim.params import (  # noqa: E402
    BehaviourParams, CityParams, EconomyParams, FirmParams, MarketParams, ParamError,
    PolicyParams, RunParams, ScenarioParams, Stacking, StrategyKind, StrategyParams, UnitsParams,
)


# The Mesa model and its agents are imported when first asked for (PEP 562): a process that only advances
# ensembles (sim/ensemble, a sweep's workers) never loads Mesa, about 0.6 s of every process start.
_LAZY = {"ContestModel": "sim.model", "City": "sim.agents", "Firm": "sim.agents"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def load_config(scenario: str = "xian_vs_zhengzhou", overrides: list[str] | None = None) -> RunParams:
    """Compose configs/run.yaml with `scenario` and Hydra-style overrides into validated RunParams."""
    from sim.shell.config import load_config as _load

    return _load(scenario, overrides)


__all__ = [
    "BehaviourParams", "City", "CityParams", "ContestModel", "EconomyParams", "Firm", "FirmParams",
    "MarketParams", "ParamError", "PolicyParams", "RunParams", "ScenarioParams", "Stacking",
    "StrategyKind", "StrategyParams", "UnitsParams", "load_config",
]

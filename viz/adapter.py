"""The scenarios as the cockpit reads them: composed once per scenario, as plain params data."""

from __future__ import annotations

from functools import lru_cache

from sim.shell.config import load_config, scenario_names
from sim.params import ParamError, to_dict

DEFAULT_SCENARIO = "xian_vs_zhengzhou"
DEFAULT_SEED = 42


def cockpit_scenarios() -> list[str]:
    """The scenarios the cockpit offers: every named contest (not `synthetic`, whose cities are generated for the
    speed benchmarks and have no names or levers of their own in the config)."""
    return [name for name in scenario_names() if name != "synthetic"]


@lru_cache(maxsize=32)
def base_params(scenario: str) -> dict:
    """The scenario's composed, validated params as a plain dict (composed once per scenario)."""
    if scenario not in cockpit_scenarios():
        raise ParamError("scenario", f"no scenario {scenario!r}; available: {', '.join(cockpit_scenarios())}")
    return to_dict(load_config(scenario))

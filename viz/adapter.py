"""The scenarios as the cockpit reads them: composed once per scenario, as plain params data."""

from __future__ import annotations

from functools import lru_cache

from sim.shell.config import load_config, scenario_names
from sim.params import ParamError, to_dict

DEFAULT_SCENARIO = "xian_vs_zhengzhou"
DEFAULT_SEED = 42


# Scenarios that are checks rather than contests a planner studies: `synthetic` (generated cities for the speed
# benchmarks), `recovery` (the calibration's known-answer test) and `symmetric` (two identical made-up cities, the
# tests' baseline for lock-in). They stay available from the command line.
CHECKS = ("synthetic", "recovery", "symmetric")


def cockpit_scenarios() -> list[str]:
    """The scenarios the cockpit offers: every named contest of real cities (not the checks in CHECKS)."""
    return [name for name in scenario_names() if name not in CHECKS]


def describe(scenario: str) -> str:
    """The scenario's one-line description in the planner's words (without the source-article references, such
    as '(S5)' or '(S2, S7)' for docs/sources.md's entries, or the older '(seed ...)', which mean nothing on the
    page)."""
    import re

    text = base_params(scenario)["scenario"].get("description", "")
    return re.sub(r"\s*\((seeds? [^)]*|S\d+(\s*(,|/|and)\s*S\d+)*)\)", "", text).strip()


@lru_cache(maxsize=32)
def base_params(scenario: str) -> dict:
    """The scenario's composed, validated params as a plain dict (composed once per scenario)."""
    if scenario not in cockpit_scenarios():
        raise ParamError("scenario", f"no scenario {scenario!r}; available: {', '.join(cockpit_scenarios())}")
    return to_dict(load_config(scenario))

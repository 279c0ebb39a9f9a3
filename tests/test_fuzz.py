"""Fuzzing the whole configuration space.

1. Valid configurations drawn across every documented numeric key and its
   range (every scenario, every strategy kind, extreme but valid values,
   1 to 60 months from any month of the calendar) run without an exception
   and keep the invariants: no NaN or infinity outside the outcomes
   documented as possibly undefined, budgets never negative, shares in
   [0, 1] summing to 1, firms conserved.
2. Invalid values (out of range, NaN, +/-inf, a wrong type) for any key, and
   runs outside the calendar, are refused by the front door with exit 2 and
   one line naming the key.

`make test` runs the `default` profile (200 examples each); `make fuzz` runs
the `fuzz` profile (1,000 each), selected with HYPOTHESIS_PROFILE. Company
counts are drawn up to TIME_CAPS (a run's time grows with them).
"""

from __future__ import annotations

import dataclasses
import math
import os
from functools import lru_cache
from typing import get_type_hints

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sim import ContestModel
from sim.cities import UNDEFINED_COLUMNS
from sim.shell.config import scenario_names
from sim.outcomes import undefined_columns
from sim.params import (FIRST_MONTH, LAST_MONTH, BehaviourParams, CityParams, EconomyParams, FirmParams,
                        MarketParams, OutsideParams, ParamError, PolicyParams, RunParams, StrategyKind,
                        StrategyParams, SyntheticParams, add_months, apply_overrides, from_dict, month_offset,
                        to_dict)

# derandomize: make test draws the same 200 examples every time (CI is reproducible); make fuzz explores.
settings.register_profile("default", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

pytestmark = pytest.mark.slow

SCENARIOS = [s for s in scenario_names() if s != "recovery"] + ["recovery"]
GROUPS = {"behaviour": BehaviourParams, "firms": FirmParams, "market": MarketParams, "economy": EconomyParams,
          "outside": OutsideParams, "synthetic": SyntheticParams}
CITY_GROUPS = {"": CityParams, "policy.": PolicyParams, "strategy.": StrategyParams}


def ranged_fields(cls) -> list[tuple[str, type, float, float]]:
    """(name, type, lo, hi) of every field of `cls` with a declared range."""
    hints = get_type_hints(cls)
    return [(f.name, hints[f.name], f.metadata["lo"], f.metadata["hi"]) for f in dataclasses.fields(cls)
            if f.metadata.get("lo") is not None and f.metadata.get("hi") is not None]


@lru_cache(maxsize=None)
def base_of(scenario: str) -> dict:
    from sim import load_config

    return to_dict(load_config(scenario, ["counterfactual=false"]))


def keys_of(scenario: str) -> list[tuple[str, type, float, float]]:
    """Every ranged key of `scenario` as (dotted key, type, lo, hi)."""
    out = [(f"scenario.{group}.{n}", t, lo, hi) for group, cls in GROUPS.items() for n, t, lo, hi in ranged_fields(cls)]
    for city in base_of(scenario)["scenario"]["cities"]:
        for prefix, cls in CITY_GROUPS.items():
            out += [(f"scenario.cities.{city}.{prefix}{n}", t, lo, hi) for n, t, lo, hi in ranged_fields(cls)]
    return out


# Counts of companies scale a run's time linearly (a million companies in a city is a valid, slow run: the
# speed at national scale is make bench's subject), so the fuzz draws them up to these caps, extremes included.
TIME_CAPS = {"firms": 5_000, "entry_floor": 500}
MAX_FIRMS = 50_000  # a run stops growing past this many live companies (see the valid-configuration test)


def value_in(t: type, lo: float, hi: float, name: str = "") -> st.SearchStrategy:
    """Values of a key's range, its extremes drawn often."""
    hi = min(hi, TIME_CAPS.get(name, hi))
    if t is int:
        return st.one_of(st.sampled_from([int(lo), int(hi)]), st.integers(int(lo), int(min(hi, lo + 10_000))))
    return st.one_of(st.sampled_from([float(lo), float(hi)]), st.floats(float(lo), float(hi), allow_nan=False))


@st.composite
def valid_runs(draw) -> RunParams:
    scenario = draw(st.sampled_from(SCENARIOS))
    keys = keys_of(scenario)
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=8, unique_by=lambda k: k[0]))
    overrides = {key: draw(value_in(t, lo, hi, key.rsplit(".", 1)[1])) for key, t, lo, hi in chosen}
    for city in base_of(scenario)["scenario"]["cities"]:
        if draw(st.booleans()):
            overrides[f"scenario.cities.{city}.strategy.kind"] = draw(st.sampled_from([k.value for k in StrategyKind]))
    # Any month of the calendar, its ends often; a run ending past it is refused (the invalid test's subject).
    start = draw(st.one_of(st.sampled_from([FIRST_MONTH, "2024-01", LAST_MONTH]),
                           st.integers(0, month_offset(FIRST_MONTH, LAST_MONTH)).map(lambda k: add_months(FIRST_MONTH, k))))
    steps = draw(st.one_of(st.integers(1, 13), st.integers(1, 60)))  # short runs often: they are many
    overrides["start"] = start
    overrides["steps"] = min(steps, month_offset(start, LAST_MONTH) + 1)
    overrides["seed"] = draw(st.integers(0, 2**63 - 1))
    # Each city's counterfactual is a whole run more: sometimes, and in the smaller scenarios.
    small = len(base_of(scenario)["scenario"]["cities"]) <= 4
    overrides["counterfactual"] = small and draw(st.sampled_from([False, False, False, True]))
    note(f"{scenario}: {overrides}")  # shown with a failing example
    try:
        return from_dict(RunParams, apply_overrides(base_of(scenario), overrides))
    except ParamError:  # a combination the params refuse as a whole (e.g. min > max): a refusal, not a crash
        from hypothesis import reject

        reject()


UNDEFINED = set(undefined_columns())


@given(valid_runs())
def test_every_valid_configuration_runs_and_keeps_the_invariants(params):
    from sim.counterfactual import added_by_policy
    from sim.outcomes import summarise

    model = ContestModel(params)
    for _ in range(params.steps):
        model.step()
        if model.n_firms > MAX_FIRMS:  # a valid market hundreds of times today's draws entrants without end:
            break  # fine, but a memory and time sink in a test; the months run so far are still checked
    table = model.city_table()
    numeric = table.select_dtypes("number").drop(columns=list(UNDEFINED_COLUMNS))
    assert np.isfinite(numeric.to_numpy(dtype=float)).all(), numeric.columns[~np.isfinite(numeric).all()].tolist()
    assert (table.budget_left >= -1e-6).all()
    assert table.share.between(0.0, 1.0 + 1e-9).all()
    sums = table.groupby("step").share.sum()
    assert (np.isclose(sums, 1.0) | np.isclose(sums, 0.0)).all()  # 0 only in a month nothing was produced
    summary = summarise(model, added_by_policy(model) if params.counterfactual and model.n_firms <= MAX_FIRMS
                        else None)
    firms = summary["firms"]
    assert firms["start"] + firms["entered"] - firms["exited"] == firms["end"] == int(table[table.step == table.step.max()].firms.sum())
    for name, value in summary.items():
        for v in (value.values() if isinstance(value, dict) else [value]):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                assert math.isfinite(v), (name, v)
            elif v is None:
                assert name in UNDEFINED, f"{name} is None but not documented as possibly undefined"


BAD = st.sampled_from(["nan", "inf", "-inf", "1e400", "abc", "[1]"])
SCENARIOS_REFUSED = ["xian_vs_zhengzhou", "zhejiang", "jiangsu", "symmetric"]  # national: as these, 3x slower


@st.composite
def invalid_overrides(draw) -> tuple[str, list[str], str]:
    """(scenario, overrides, the key the one-line error must name)."""
    scenario = draw(st.sampled_from(SCENARIOS_REFUSED))
    key, t, lo, hi = draw(st.sampled_from(keys_of(scenario)))
    outside = [repr(hi + max(abs(hi), 1.0))] + ([repr(lo - max(abs(lo), 1.0))] if lo > -math.inf else [])
    if t is int:
        outside = [str(int(hi) + 1), str(int(lo) - 1), "1.5"]
    value = draw(st.one_of(BAD, st.sampled_from(outside)))
    return scenario, [f"{key}={value}"], key


@st.composite
def invalid_calendars(draw) -> tuple[str, list[str], str]:
    """A start outside the calendar, or a run from a valid start that ends past its last month."""
    scenario = draw(st.sampled_from(SCENARIOS_REFUSED))
    first, last = int(FIRST_MONTH[:4]), int(LAST_MONTH[:4])
    if draw(st.booleans()):
        year = draw(st.one_of(st.integers(0, first - 1), st.integers(last + 1, 9999)))
        month = draw(st.one_of(st.integers(1, 12), st.sampled_from([0, 13])))
        return scenario, [f"start={year:04d}-{month:02d}"], "start"
    start = add_months(FIRST_MONTH, draw(st.integers(month_offset(FIRST_MONTH, LAST_MONTH) - 1198,
                                                     month_offset(FIRST_MONTH, LAST_MONTH))))
    steps = draw(st.integers(month_offset(start, LAST_MONTH) + 2, 1200))
    return scenario, [f"start={start}", f"steps={steps}"], "steps"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(invalid_overrides(), invalid_calendars()))
def test_every_invalid_value_is_refused_in_one_line_naming_its_key(capsys, case):
    from sim.shell.cli import check_command_line, check_overrides
    from sim.shell.config import register_resolvers, register_schemas, to_params

    scenario, overrides, key = case
    argv = [f"scenario={scenario}", *overrides]
    register_schemas()
    register_resolvers()
    with pytest.raises(SystemExit) as stop:
        check_overrides(argv, "run", to_params, check_command_line(argv))
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], (overrides, lines)

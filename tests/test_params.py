"""Parameter validation: ranges, types, keys and ids, each error naming its key."""

import dataclasses

import pytest

from sim import CityParams, ParamError, PolicyParams, RunParams, ScenarioParams
from sim.params import from_dict, to_dict

from conftest import make_params


def test_defaults_are_valid():
    params = make_params()
    assert params.scenario.cities[0].policy.reward_rate == 0.1
    assert [c.id for c in params.scenario.cities] == ["east", "west"]


@pytest.mark.parametrize("path, value, fragment", [
    (("cities", "east", "policy", "reward_rate"), 1.5, "[0, 1]"),
    (("cities", "east", "policy", "annual_budget"), -1.0, "[0, 1e+11]"),
    (("cities", "west", "talent"), -5.0, "[0, 1e+08]"),
    (("behaviour", "logit_scale"), 0.0, "[1e-06, 1000]"),
    (("market", "producer_share"), 2.0, "[0, 1]"),
])
def test_out_of_range_names_full_key_and_range(path, value, fragment):
    data = to_dict(make_params())
    node = data["scenario"]
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, data)
    assert err.value.key == "scenario." + ".".join(path)
    assert fragment in str(err.value)


def test_unknown_key_and_bad_enum_and_type():
    data = to_dict(make_params())
    data["scenario"]["cities"]["east"]["policy"]["rewrd_rate"] = 0.2
    with pytest.raises(ParamError, match=r"scenario\.cities\.east\.policy\.rewrd_rate: unknown key"):
        from_dict(RunParams, data)
    data = to_dict(make_params())
    data["scenario"]["cities"]["east"]["strategy"]["kind"] = "aggressive"
    with pytest.raises(ParamError, match="choose one of: fixed, reactive, imitate, objective"):
        from_dict(RunParams, data)
    data = to_dict(make_params())
    data["steps"] = "many"
    with pytest.raises(ParamError, match="steps: must be a whole number"):
        from_dict(RunParams, data)


def test_city_ids_are_short_lowercase_ascii_and_unique():
    with pytest.raises(ParamError, match="not a city id"):
        CityParams(id="Xi'an")
    with pytest.raises(ParamError, match="unique"):
        ScenarioParams(cities=(CityParams(id="xian"), CityParams(id="xian")))
    with pytest.raises(ParamError, match="at least one city"):
        ScenarioParams(cities=())


def test_params_are_frozen_and_round_trip():
    params = make_params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.steps = 3
    assert from_dict(RunParams, to_dict(params)) == params


def test_direct_construction_validates_too():
    with pytest.raises(ParamError, match="reward_rate"):
        PolicyParams(reward_rate=-0.1)
    with pytest.raises(ParamError, match="start"):
        RunParams(scenario=ScenarioParams(cities=(CityParams(id="a"),)), start="2024-13")


# --------------------------------------------------------------------------- the calendar


def sim_cli(tmp_path, *args):
    """`.venv/bin/drama run` with a run folder under tmp_path (which must not appear when the input is refused)."""
    import subprocess

    from conftest import PYTHON, ROOT

    return subprocess.run([PYTHON, "-m", "sim", *args, f"hydra.run.dir={tmp_path / 'x'}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize(("args", "key", "fragment"), [
    (["start=0000-01"], "start", "allowed 2000-01 to 2100-12"),  # was a ValueError traceback from pandas
    (["start=9999-12", "steps=24"], "start", "allowed 2000-01 to 2100-12"),  # was a RecursionError in the market
    (["start=1999-12"], "start", "allowed 2000-01 to 2100-12"),
    (["start=2100-06", "steps=24"], "steps", "allowed [1, 7] from this start"),
    (["steps=24", "shocks=[{at:2040-01,city:xian,lever:reward_rate,value:0.2}]"], "shocks[0].at",
     "after the run's last month 2025-12"),
    (["scenario.synthetic.firms=600001"], "scenario.synthetic.firms", "allowed [0, 600000]"),
])
def test_the_command_line_refuses_in_one_line_and_makes_no_folder(tmp_path, args, key, fragment):
    result = sim_cli(tmp_path, *args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"error: {key}: ") and fragment in lines[0], lines
    assert not (tmp_path / "x").exists()


def with_calendar(start: str, steps: int) -> dict:
    data = to_dict(make_params())
    data.update(start=start, steps=steps)
    return data


@pytest.mark.parametrize(("start", "steps", "key"), [
    ("1999-12", 1, "start"), ("2101-01", 1, "start"), ("0000-01", 1, "start"), ("9999-12", 24, "start"),
    ("2024-00", 1, "start"), ("2100-12", 2, "steps"), ("2050-01", 1200, "steps"), ("2001-02", 1200, "steps"),
])
def test_a_run_must_lie_in_the_calendar(start, steps, key):
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, with_calendar(start, steps))
    assert err.value.key == key
    assert "2100-12" in err.value.message


@pytest.mark.parametrize(("start", "steps", "last"), [("2000-01", 1200, "2099-12"), ("2100-12", 1, "2100-12"),
                                                      ("2001-01", 1200, "2100-12"), ("2024-11", 3, "2025-01")])
def test_the_calendar_s_ends_are_allowed(start, steps, last):
    assert from_dict(RunParams, with_calendar(start, steps)).last_month == last


@pytest.mark.parametrize("start", ["2000-01", "2100-12"])
def test_a_run_at_either_end_of_the_calendar_runs(start):
    from sim import ContestModel

    table = ContestModel(from_dict(RunParams, with_calendar(start, 1))).run().city_table()
    assert str(table.date.iloc[0])[:7] == start


# --------------------------------------------------------------------------- generated contests


def test_an_out_of_range_company_count_names_its_key_even_beside_listed_cities():
    data = to_dict(make_params())  # lists its cities
    data["scenario"]["synthetic"]["firms"] = 600_001
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, data)
    assert err.value.key == "scenario.synthetic.firms" and "[0, 600000]" in err.value.message
    data["scenario"]["synthetic"]["firms"] = 10  # in range: now the listed cities are what is refused
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, data)
    assert err.value.key == "scenario.cities"


# --------------------------------------------------------------------------- strategy bounds


def city(kind: str, **policy_and_strategy) -> dict:
    data = to_dict(make_params())
    east = data["scenario"]["cities"]["east"]
    east["strategy"]["kind"] = kind
    for key, value in policy_and_strategy.items():
        group, name = key.split("__")
        east[group][name] = value
    return data


@pytest.mark.parametrize(("kind", "values", "key"), [
    ("reactive", {"policy__reward_rate": 0.6, "strategy__max_reward_rate": 0.5}, "policy.reward_rate"),
    ("reactive", {"policy__reward_rate": 0.1, "strategy__max_reward_rate": 0.05}, "policy.reward_rate"),
    ("imitate", {"policy__reward_rate": 0.6, "strategy__max_reward_rate": 0.5}, "policy.reward_rate"),
    ("objective", {"policy__reward_rate": 0.6, "strategy__max_reward_rate": 0.5}, "policy.reward_rate"),
    ("objective", {"policy__reward_rate": 0.1, "strategy__min_reward_rate": 0.2}, "policy.reward_rate"),
    ("objective", {"policy__culture_rate": 0.6, "strategy__levers": "reward_rate,culture_rate"}, "policy.culture_rate"),
])
def test_a_city_starts_within_what_its_strategy_will_offer(kind, values, key):
    with pytest.raises(ParamError) as err:
        from_dict(RunParams, city(kind, **values))
    assert err.value.key == f"scenario.cities.east.{key}"
    assert kind in err.value.message and "max_reward_rate" in err.value.message


@pytest.mark.parametrize(("kind", "values"), [
    ("fixed", {"policy__reward_rate": 0.9, "strategy__max_reward_rate": 0.5}),  # a fixed city has no strategy bounds
    ("reactive", {"policy__reward_rate": 0.5, "strategy__max_reward_rate": 0.5}),  # at its maximum
    ("reactive", {"policy__reward_rate": 0.1, "strategy__min_reward_rate": 0.2}),  # its floor is its announced rate
    ("objective", {"policy__culture_rate": 0.6}),  # culture_rate is not one of its levers
])
def test_strategy_bounds_leave_what_the_strategy_never_bounds(kind, values):
    east = from_dict(RunParams, city(kind, **values)).scenario.city("east")  # accepted, and as given
    for key, value in values.items():
        group, name = key.split("__")
        assert getattr(getattr(east, group), name) == value


def test_direct_construction_takes_an_enum_s_value_and_refuses_others():
    from sim.params import Stacking, StrategyKind, StrategyParams

    assert StrategyParams(kind="reactive").kind is StrategyKind.reactive
    assert PolicyParams(stacking="stack").stacking is Stacking.stack
    with pytest.raises(ParamError) as err:
        StrategyParams(kind="aggressive")
    assert err.value.key == "kind" and "fixed, reactive, imitate, objective" in err.value.message
    with pytest.raises(ParamError) as err:
        PolicyParams(stacking="sum")
    assert err.value.key == "stacking"


def test_each_lever_is_declared_once_and_the_lists_follow_from_the_declarations():
    """One declaration per instrument (sim.params.Lever on its field): the lists are derived, and every spending
    instrument says what bounds what it spends."""
    from sim import load_config
    from sim.counterfactual import without_policy
    from sim.params import SHOCK_LEVERS, SPENDING, STRATEGY_LEVERS, PolicyParams, levers_with
    from sim.policy import PolicyArrays
    from sim.strategies import RATE_LEVERS

    declared = {f.name: f.metadata["lever"] for f in dataclasses.fields(PolicyParams) if f.metadata.get("lever")}
    columns = {f.name for f in dataclasses.fields(PolicyArrays)}
    assert set(declared) <= columns  # every instrument is a run-time column
    assert set(SPENDING) == {n for n, lever in declared.items() if lever.spends}
    assert all(declared[n].paid_from in ("annual_budget", "itself") for n in SPENDING)
    assert set(STRATEGY_LEVERS) == set(RATE_LEVERS) | set(levers_with(strategy="amount"))
    assert set(RATE_LEVERS) == {"reward_rate", "culture_rate", "aigc_support"}
    assert set(SHOCK_LEVERS) == set(declared)
    assert set(levers_with(paid_from="annual_budget")) == {"reward_rate", "culture_rate", "aigc_support"}
    # The counterfactual switches off exactly the spending instruments.
    params = load_config("xian_vs_zhengzhou", ["scenario.cities.zhengzhou.policy.aigc_support=0.1"])
    off = without_policy(params, "zhengzhou").scenario.city("zhengzhou").policy
    assert all(getattr(off, n) == 0 for n in SPENDING)
    kept = [f.name for f in dataclasses.fields(PolicyParams) if f.name not in SPENDING]
    assert all(getattr(off, n) == getattr(params.scenario.city("zhengzhou").policy, n) for n in kept)

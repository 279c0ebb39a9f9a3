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

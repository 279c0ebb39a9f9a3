"""The SolaraViz adapter: flat levers map onto the config, and the first model matches the sliders."""

import pytest

from sim import load_config
from sim.config import scenario_names
from sim.params import ParamError
from viz.adapter import AppModel, build_params, initial_values, model_params
from viz.components import accounts_html, capital_text, charts_figure, map_figure


@pytest.mark.parametrize("scenario", scenario_names())
def test_first_model_is_built_from_the_sliders_start_values(scenario):
    model = AppModel(**initial_values(scenario))
    assert model.params == load_config(scenario)  # seed 42 and every lever at the scenario's value


def test_levers_reach_the_params_in_their_units():
    params = build_params("xian_vs_zhengzhou", "7", {"zhengzhou__reward_rate": 0.2, "zhengzhou__annual_budget": 120.0,
                                                     "xian__strategy": "reactive", "east__reward_rate": 0.5})
    assert params.seed == 7
    assert params.scenario.city("zhengzhou").policy.reward_rate == 0.2
    assert params.scenario.city("zhengzhou").policy.annual_budget == 120e6
    assert params.scenario.city("xian").strategy.kind.value == "reactive"
    with pytest.raises(ParamError, match="seed"):
        build_params("xian_vs_zhengzhou", "forty", {})
    with pytest.raises(ParamError, match="reward_rate"):
        build_params("xian_vs_zhengzhou", 1, {"zhengzhou__reward_rate": 2.0})


def test_every_city_gets_its_levers_and_strategy():
    params = model_params("national")
    assert sum(k.endswith("__reward_rate") for k in params) == 15
    assert params["shanghai__reward_cap"]["value"] == 3.0 and params["shenzhen__strategy"]["value"] == "fixed"


def test_components_draw_before_and_after_steps():
    model = AppModel(**initial_values("national"))
    assert "No capital yet" in capital_text(model)
    assert "data-city='shanghai'" in accounts_html(model)
    model.run(3)
    assert len(map_figure(model).axes) == 2 and len(charts_figure(model).axes) == 6
    assert accounts_html(model).count("<tr data-city") == 15

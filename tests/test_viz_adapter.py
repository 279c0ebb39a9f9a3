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
    assert len(map_figure(model).axes) == 1 and len(charts_figure(model).axes) == 6
    assert accounts_html(model).count("<tr data-city") == 15


def test_the_national_map_labels_never_overlap_and_the_leaders_are_named():
    import itertools

    import matplotlib

    matplotlib.use("Agg")
    from viz.components import leaders, map_figure, overlaps

    model = AppModel(**initial_values("national"))
    for months in (1, 12, 36):
        model.run(months - model.steps)
        fig = map_figure(model)
        view = model.__dict__["_map_view"]
        renderer = fig.canvas.get_renderer()
        shown = [label for label in view.labels if label.get_visible()]
        boxes = [label.get_window_extent(renderer) for label in shown]
        assert not any(overlaps(a, b, pad=0.0) for a, b in itertools.combinations(boxes, 2))
        for j in leaders(model):
            assert view.labels[j].get_visible() and model.cities[j].name in view.labels[j].get_text()
        assert len({tuple(c[:3]) for c in view.colours}) == len(model.cities)  # 15 cities, 15 colours
        year, month = model.year_month(model.steps - 1)
        assert view.title.get_text().endswith(f"{year}-{month:02d}")


def test_the_charts_show_dates_not_step_numbers():
    import re

    import matplotlib

    matplotlib.use("Agg")
    from viz.components import charts_figure

    model = AppModel(**initial_values("national"))
    model.run(18)
    fig = charts_figure(model)
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[4].get_xticklabels() if t.get_text()]
    assert ticks and all(re.fullmatch(r"20\d\d-\d\d", t) for t in ticks), ticks


def test_every_account_column_is_defined_on_the_page():
    import html

    from viz.components import ACCOUNT_COLUMNS, ACCOUNT_DEFINITIONS, accounts_html

    model = AppModel(**initial_values("national"))
    model.run(2)
    page = accounts_html(model)
    assert set(ACCOUNT_DEFINITIONS) == {column for column, _, _ in ACCOUNT_COLUMNS}
    for column, label, _ in ACCOUNT_COLUMNS:
        assert f"<dt>{html.escape(label)}</dt><dd>{html.escape(ACCOUNT_DEFINITIONS[column])}</dd>" in page
    year, month = model.year_month(model.steps - 1)
    assert f"City accounts, {year}-{month:02d}" in page


def test_the_reproduce_command_recreates_the_table_the_page_shows(tmp_path):
    import io
    import shlex
    import subprocess
    import sys

    import pandas as pd

    from conftest import ROOT
    from viz.adapter import lever_key
    from viz.components import city_table_csv, reproduce_command

    values = initial_values("xian_vs_zhengzhou") | {"seed": "7", lever_key("zhengzhou", "reward_rate"): 0.23,
                                                    lever_key("xian", "strategy"): "reactive"}
    model = AppModel(**values)
    model.run(9)
    command = reproduce_command(model)
    assert "scenario.cities.zhengzhou.policy.reward_rate=0.23" in command and "steps=9" in command and "seed=7" in command
    args = shlex.split(command)[1:]  # drop "python"
    done = subprocess.run([sys.executable, *args, "counterfactual=false", f"hydra.run.dir={tmp_path / 'run'}"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shown = pd.read_csv(io.StringIO(city_table_csv(model)))
    again = pd.read_parquet(tmp_path / "run" / "cities.parquet")
    again = pd.read_csv(io.StringIO(again.to_csv(index=False)))  # the same text round trip as the download
    pd.testing.assert_frame_equal(shown, again)

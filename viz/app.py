"""The Drama Capital browser app (`make serve`, or `solara run viz/app.py`).

Each browser session gets its own model: `Page` is a component, so the
model lives in that session's state, never at module level. Picking a
scenario rebuilds the SolaraViz view (keyed on the scenario) with that
scenario's cities and sliders; Reset rebuilds the model from the sliders.
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz

from sim.config import scenario_names
from viz.adapter import DEFAULT_SCENARIO, initial_values, model_class, model_params
from viz.components import AccountsTable, Charts, CityMap, ReproducePanel

COMPONENTS = [(CityMap, 0), (Charts, 0), (AccountsTable, 0), (ReproducePanel, 0)]


@solara.component
def ContestView(scenario: str):
    """SolaraViz for one scenario; its first model is built from the sliders' start values."""
    first = solara.use_memo(lambda: model_class(scenario)(**initial_values(scenario)), dependencies=[])
    model = solara.use_reactive(first)
    SolaraViz(model, components=COMPONENTS, model_params=model_params(scenario), name="Drama Capital",
              play_interval=200)


@solara.component
def Page():
    """The app: a scenario picker, then the contest view for the picked scenario."""
    scenario = solara.use_reactive(DEFAULT_SCENARIO)
    with solara.Sidebar():
        with solara.Card("Scenario"):
            solara.Select(label="scenario", value=scenario, values=scenario_names())
    ContestView(scenario.value).key(f"contest-{scenario.value}")

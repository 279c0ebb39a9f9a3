"""A SolaraViz adapter: the contest model built from flat keyword arguments.

SolaraViz rebuilds a model as `type(model)(**params)` from its slider values,
so the app needs a model class whose constructor takes flat parameters:
the scenario name, the seed and one `<city>__<lever>` per city and lever.
"""

from __future__ import annotations

from functools import lru_cache

from sim.config import load_config, scenario_names
from sim.model import ContestModel
from sim.params import ParamError, RunParams, StrategyKind, apply_overrides, from_dict, to_dict

DEFAULT_SCENARIO = "xian_vs_zhengzhou"
DEFAULT_SEED = 42
M = 1e6

# The levers a planner moves, per city: slider range (in the slider's unit), step and unit scale.
LEVERS = {
    "reward_rate": {"label": "reward rate", "min": 0.0, "max": 0.6, "step": 0.01, "scale": 1.0},
    "reward_cap": {"label": "reward cap, M¥", "min": 0.0, "max": 5.0, "step": 0.1, "scale": M},
    "annual_budget": {"label": "annual budget, M¥", "min": 0.0, "max": 500.0, "step": 5.0, "scale": M},
    "talent_programme": {"label": "talent programme, M¥/yr", "min": 0.0, "max": 100.0, "step": 1.0, "scale": M},
    "studio_investment": {"label": "studio investment, M¥/yr", "min": 0.0, "max": 200.0, "step": 5.0, "scale": M},
}
STRATEGIES = [k.value for k in StrategyKind]


@lru_cache(maxsize=32)
def base_params(scenario: str) -> dict:
    """The scenario's composed, validated params as a plain dict (composed once per scenario)."""
    if scenario not in scenario_names():
        raise ParamError("scenario", f"no scenario {scenario!r}; available: {', '.join(scenario_names())}")
    return to_dict(load_config(scenario))


def lever_key(city: str, lever: str) -> str:
    """The flat keyword for one city's lever, e.g. 'zhengzhou__reward_rate'."""
    return f"{city}__{lever}"


def build_params(scenario: str, seed: int | str, levers: dict) -> RunParams:
    """RunParams for `scenario` with the seed and the flat lever values applied."""
    base = base_params(scenario)
    try:
        seed = int(str(seed).strip())
    except ValueError:
        raise ParamError("seed", f"{seed!r} is not a whole number") from None
    values: dict = {"seed": seed}
    for name, value in levers.items():
        city, _, lever = name.partition("__")
        if city not in base["scenario"]["cities"]:
            continue  # a lever of another scenario's city
        if lever == "strategy":
            values[f"scenario.cities.{city}.strategy.kind"] = value
        elif lever in LEVERS:
            values[f"scenario.cities.{city}.policy.{lever}"] = float(value) * LEVERS[lever]["scale"]
        else:
            raise ParamError(name, f"unknown lever; allowed: {', '.join([*LEVERS, 'strategy'])}")
    return from_dict(RunParams, apply_overrides(base, values))


class AppModel(ContestModel):
    """ContestModel with flat parameters, for SolaraViz.

    `scenario` is taken and ignored: Mesa's Reset passes its own (experimental)
    Scenario object to any model accepting **kwargs; ours is `scenario_name`.
    """

    default_scenario = DEFAULT_SCENARIO

    def __init__(self, scenario_name: str | None = None, seed: int | str = DEFAULT_SEED, scenario=None, **levers):
        scenario_name = scenario_name or self.default_scenario
        super().__init__(build_params(scenario_name, seed, levers))
        self.scenario_name = scenario_name


@lru_cache(maxsize=None)
def model_class(scenario: str) -> type[AppModel]:
    """An AppModel subclass whose default scenario is `scenario`.

    SolaraViz rebuilds with `type(model)(**slider values)`; if those values
    ever lack the scenario name (they are filled in by an effect after the
    view mounts), the rebuilt model still belongs to the scenario on screen.
    """
    return type(f"AppModel_{scenario}", (AppModel,), {"default_scenario": scenario, "__module__": __name__})


def model_params(scenario: str) -> dict:
    """SolaraViz inputs for a scenario: its name (fixed), a seed box, and each city's levers and strategy.

    Slider start values are the scenario's own, so the first model (built
    from the same values) and the sliders agree before any Reset.
    """
    base = base_params(scenario)
    params: dict = {"scenario_name": scenario,
                    "seed": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "seed"}}
    for city, data in base["scenario"]["cities"].items():
        name = data.get("name") or city
        for lever, spec in LEVERS.items():
            value = data["policy"][lever] / spec["scale"]
            params[lever_key(city, lever)] = {
                "type": "SliderFloat", "label": f"{name}: {spec['label']}", "value": round(value, 4),
                "min": spec["min"], "max": max(spec["max"], value), "step": spec["step"]}
        params[lever_key(city, "strategy")] = {
            "type": "Select", "label": f"{name}: strategy", "value": data["strategy"]["kind"], "values": STRATEGIES}
    return params


def initial_values(scenario: str) -> dict:
    """The keyword arguments the sliders start at (to build the first model)."""
    out = {}
    for key, spec in model_params(scenario).items():
        out[key] = spec["value"] if isinstance(spec, dict) else spec
    return out

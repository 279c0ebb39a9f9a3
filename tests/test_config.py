"""Config composition: every scenario file composes, validates and runs; schemas match params."""

import dataclasses
import subprocess

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim import ContestModel, load_config
from sim.shell.config import CONFIG_DIR, compose_run, describe_error, register_schemas, scenario_names, schema_of, to_params
from sim.params import CityParams, RunParams

from conftest import PYTHON, ROOT


def test_scenario_group_holds_the_required_files():
    assert {"xian_vs_zhengzhou", "symmetric"} <= set(scenario_names())


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_composes_validates_and_runs(name):
    params = load_config(name, overrides=["steps=3"])
    assert params.scenario.name == name
    model = ContestModel(params).run()
    assert model.city_table().step.max() == 3


def test_every_scenario_file_starts_from_the_schema_and_says_its_question():
    names = set(scenario_names())
    for path in (CONFIG_DIR / "scenario").glob("*.yaml"):
        text = path.read_text()
        assert text.startswith("# Question:"), f"{path.name} has no header question"
        first_default = text.split("defaults:", 1)[1].strip().splitlines()[0].strip("- ").strip()
        assert first_default == "base_scenario" or first_default in names, path.name


def test_in_process_compose_with_hydra_api():
    register_schemas()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose("run", overrides=["scenario=symmetric", "seed=9"])
    assert cfg.seed == 9 and set(cfg.scenario.cities) == {"east", "west"}
    assert to_params(cfg).scenario.city("east").policy.reward_rate == 0.1


def test_default_run_is_xian_vs_zhengzhou_for_60_months_from_2024():
    params = to_params(compose_run([]))
    assert params.scenario.name == "xian_vs_zhengzhou"
    assert (params.steps, params.start, params.capital_threshold) == (60, "2024-01", 0.5)
    assert [c.id for c in params.scenario.cities] == ["xian", "zhengzhou"]


def test_overrides_reach_the_params():
    params = load_config("xian_vs_zhengzhou", ["steps=120", "seed=7",
                                               "scenario.cities.zhengzhou.policy.reward_rate=0.2",
                                               "scenario.cities.xian.strategy.kind=reactive"])
    assert (params.steps, params.seed) == (120, 7)
    assert params.scenario.city("zhengzhou").policy.reward_rate == 0.2
    assert params.scenario.city("xian").strategy.kind.value == "reactive"


def test_schema_has_exactly_the_params_fields():
    def names(cls):
        return {f.name for f in dataclasses.fields(cls)}
    assert names(schema_of(RunParams)) == names(RunParams)
    assert names(schema_of(CityParams)) == names(CityParams) - {"id"}
    structured = OmegaConf.structured(schema_of(RunParams))
    assert OmegaConf.is_missing(structured, "steps") is False


@pytest.mark.parametrize("override, key", [
    ("steps=-1", "steps"),
    ("scenario.cities.zhengzhou.policy.reward_rate=1.5", "scenario.cities.zhengzhou.policy.reward_rate"),
    ("scenario.cities.xian.policy.annual_budget=-5", "scenario.cities.xian.policy.annual_budget"),
    ("scenario.cities.foo.policy.reward_rate=0.2", "scenario.cities.foo"),
    ("scenario.cities.xian.policy.rewrd_rate=0.2", "scenario.cities.xian.policy.rewrd_rate"),
    ("scenario.cities.xian.strategy.kind=greedy", "scenario.cities.xian.strategy.kind"),
    ("steps=abc", "steps"),
    ("scenario=nope", "scenario"),
])
def test_bad_overrides_give_one_line_naming_the_key(override, key):
    with pytest.raises(Exception) as err:
        to_params(compose_run([override]))
    line = describe_error(err.value)
    assert "\n" not in line and line.startswith(key + ":"), line


def test_importing_sim_does_not_import_hydra():
    code = ("import sys, sim; from sim import ContestModel, RunParams; "
            "assert 'hydra' not in sys.modules and 'omegaconf' not in sys.modules, 'hydra imported'")
    subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=True)

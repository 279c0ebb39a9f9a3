"""Figures quoted in the docs are the ones the code produces."""

import pytest

from experiments.planner import planner_table
from sim import ContestModel, load_config
from sim.counterfactual import added_by_policy
from sim.metrics import summarise
from sim.runner import format_outcome

from conftest import ROOT


def test_readme_outcome_table_is_the_default_run():
    model = ContestModel(load_config("xian_vs_zhengzhou")).run()
    table = format_outcome(summarise(model, added_by_policy(model)))
    assert table in (ROOT / "README.md").read_text(), f"README's example is stale; the default run prints:\n{table}"


@pytest.mark.slow
def test_readme_planner_table_is_rerun():
    table = planner_table(20)
    assert table in (ROOT / "README.md").read_text(), f"README's planner table is stale; it is now:\n{table}"

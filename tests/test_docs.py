"""Figures quoted in the docs are the ones the code produces."""

from sim import ContestModel, load_config
from sim.runner import format_outcome

from conftest import ROOT


def test_readme_outcome_table_is_the_default_run():
    summary = ContestModel(load_config("xian_vs_zhengzhou")).run().summary()
    table = format_outcome(summary)
    assert table in (ROOT / "README.md").read_text(), f"README's example is stale; the default run prints:\n{table}"

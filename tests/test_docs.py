"""Figures quoted in the docs are the ones the code produces."""

import pytest

from experiments.planner import planner_table
from sim import ContestModel, load_config
from sim.counterfactual import added_by_policy
from sim.outcomes import summarise
from sim.shell.runner import format_outcome

from conftest import ROOT


def test_readme_outcome_table_is_the_default_run():
    model = ContestModel(load_config("xian_vs_zhengzhou")).run()
    table = format_outcome(summarise(model, added_by_policy(model)))
    assert table in (ROOT / "README.md").read_text(), f"README's example is stale; the default run prints:\n{table}"


@pytest.mark.slow
def test_readme_planner_table_is_rerun():
    table = planner_table(20)
    assert table in (ROOT / "README.md").read_text(), f"README's planner table is stale; it is now:\n{table}"


def test_readme_run_once_example_is_rerun(capsys):
    text = (ROOT / "README.md").read_text()
    block = text.split("**One point from your own code**", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    code = [line for line in block.splitlines() if not line.startswith("#")]
    shown = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    exec("\n".join(code), {})
    assert capsys.readouterr().out.strip().splitlines() == shown


def test_odd_orders_of_magnitude_are_rendered_from_the_configs():
    from experiments.magnitudes import ODD, render, section_in_odd

    assert section_in_odd(ODD.read_text()) == render(), \
        "docs/ODD.md 7.18 is stale: .venv/bin/drama magnitudes publish=true"


def test_readme_lists_the_scenarios_and_experiments_configs_hold():
    from sim.shell.help import experiment_table, scenario_table

    text = (ROOT / "README.md").read_text()
    assert scenario_table() in text, f"README's scenario table is stale; it is now:\n{scenario_table()}"
    assert experiment_table() in text, f"README's experiment table is stale; it is now:\n{experiment_table()}"


def test_readme_quotes_the_measured_set_up_times_and_disk_use():
    import json

    from benchmarks.newcomer import BEGIN, END, RECORD, render

    text = (ROOT / "README.md").read_text()
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == render(json.loads(RECORD.read_text())).strip(), \
        "README's set-up figures are not the published measurement: .venv/bin/python -m benchmarks.newcomer publish=true"


def test_the_long_commands_quote_the_time_their_records_measured():
    from benchmarks.newcomer import QUOTES, quote_line, quoted

    for quote in QUOTES:
        line = quote_line(quote, (ROOT / quote.file).read_text(encoding="utf-8"))
        assert quoted(quote) in line, (f"{quote.file}: the line naming {quote.anchor!r} does not quote "
                                       f"{quoted(quote)!r}: .venv/bin/python -m benchmarks.newcomer quote=true")

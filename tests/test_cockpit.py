"""The browser cockpit without the browser: levers from the params' own specs, changes, twin, views, hand-on."""

from __future__ import annotations

import dataclasses
import html
import io
import itertools
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from sim import load_config
from sim.params import STRATEGY_LEVERS, PolicyParams
from viz.adapter import cockpit_scenarios, describe
from viz.cockpit import Cockpit, lever_specs, main_cities
from viz.components import (ACCOUNT_COLUMNS, ACCOUNT_DEFINITIONS, account_terms_html, accounts_html, capital_text, changes_html,
                            charts_html, city_table_csv, map_html, reproduce_command)


@pytest.mark.parametrize("scenario", cockpit_scenarios())
def test_the_first_run_is_the_scenario_itself(scenario):
    cockpit = Cockpit(scenario)
    assert cockpit.model.params == load_config(scenario)  # seed 42 and every lever at the scenario's value
    assert cockpit.twin is None  # nothing changed: nothing to compare with


def test_levers_read_their_range_unit_and_doc_from_the_params_spec():
    specs = lever_specs("national")
    fields = {f.name: f for f in dataclasses.fields(PolicyParams)}
    assert list(specs) == list(STRATEGY_LEVERS)
    for name, spec in specs.items():
        meta = fields[name].metadata
        assert spec.doc == meta["doc"] and spec.lo == spec.to_display(meta["lo"]) and spec.hi == spec.to_display(meta["hi"])
        assert spec.help and "seed 0" not in spec.help and "MODEL-BRIEF" not in spec.help  # the planner's words
        assert spec.lo < spec.slider_max <= spec.hi
    assert specs["reward_rate"].unit == "% of cost" and specs["reward_rate"].slider_max == 100.0  # typed in percent
    assert specs["reward_rate"].to_model(29) == 0.29 and specs["reward_rate"].show(12.5) == "12.5% of cost"
    assert specs["annual_budget"].unit == "M¥/yr" and specs["annual_budget"].scale == 1e6
    largest = max(c.policy.annual_budget for c in load_config("national").scenario.cities)
    assert specs["annual_budget"].slider_max == pytest.approx(4 * largest / 1e6)


@pytest.mark.parametrize("scenario", cockpit_scenarios())
def test_every_citys_value_sits_on_its_sliders_step(scenario):
    """A browser slider snaps to its step: a value off the grid would be changed by merely showing it."""
    specs = lever_specs(scenario)
    for city in load_config(scenario).scenario.cities:
        for name, spec in specs.items():
            value = spec.to_display(getattr(city.policy, name))
            assert abs(value / spec.step - round(value / spec.step)) < 1e-6, (city.id, name, value, spec.step)
            assert spec.slider_max >= value


def test_the_cockpit_offers_every_named_scenario():
    from sim.shell.config import scenario_names

    assert set(scenario_names()) - set(cockpit_scenarios()) == {"synthetic", "recovery", "symmetric"}  # checks
    for name in cockpit_scenarios():  # each with a line in the planner's words, no source-article numbers
        assert len(describe(name)) > 20 and "seed" not in describe(name)
        assert not re.search(r"\(S\d", describe(name)), describe(name)  # docs/sources.md's ids, e.g. '(S5)'


def test_the_main_cities_come_first():
    assert main_cities(load_config("xian_vs_zhengzhou"), 2) == ["xian", "zhengzhou"]
    national = load_config("national")
    top = main_cities(national)
    assert len(top) == 3 and "xian" in top
    assert all(national.scenario.city(c).firms >= max(x.firms for x in national.scenario.cities if x.id not in top)
               for c in top)


def test_a_change_before_the_start_is_setup_and_one_during_the_run_is_a_shock_from_the_next_month():
    cockpit = Cockpit("xian_vs_zhengzhou")
    cockpit.set_value("zhengzhou", "annual_budget", 80.0)  # M¥/yr, before the first month: the setup
    assert cockpit.model.params.scenario.city("zhengzhou").policy.annual_budget == 80e6
    assert cockpit.twin is not None and cockpit.twin.params == load_config("xian_vs_zhengzhou")
    for _ in range(3):
        cockpit.step()
    cockpit.set_value("zhengzhou", "reward_rate", 25)  # percent
    assert cockpit.pending == {("zhengzhou", "reward_rate"): 25}
    assert cockpit.pending_text() == ["Zhengzhou reward rate 10% of cost → 25% of cost from 2024-04 "
                                      "(next Step)"]
    assert "10%" in row(cockpit, "zhengzhou", "reward_rate")  # pending: the accounts still show the old rate
    cockpit.step()
    assert cockpit.pending == {} and row(cockpit, "zhengzhou", "reward_rate") == "25%"
    assert [s.at for s in cockpit.model.params.shocks] == ["2024-04"]
    assert cockpit.shock_text() == [(4, "Zhengzhou reward rate 25% of cost from 2024-04")]
    assert "Zhengzhou reward rate 25% of cost from 2024-04" in changes_html(cockpit)
    assert cockpit.model.recorder.column("policy_shocks")[-1][1] == 1
    assert cockpit.twin.steps == cockpit.model.steps
    # Moving a lever back to where it is cancels the pending change.
    cockpit.set_value("xian", "reward_rate", 30)
    cockpit.set_value("xian", "reward_rate", 10)
    assert cockpit.pending == {}


def test_seed_and_strategy_changes_wait_for_reset_once_running():
    cockpit = Cockpit("xian_vs_zhengzhou")
    cockpit.step()
    cockpit.set_seed(7)
    cockpit.set_strategy("xian", "reactive")
    assert cockpit.model.params.seed == 42 and any("at the next Reset" in t for t in cockpit.pending_text())
    cockpit.reset()
    assert cockpit.model.steps == 0 and cockpit.model.params.seed == 7
    assert cockpit.model.params.scenario.city("xian").strategy.kind.value == "reactive"


def test_the_accounts_show_jobs_added_by_the_changes_against_the_run_without_them():
    cockpit = Cockpit("xian_vs_zhengzhou")
    for _ in range(6):
        cockpit.step()
    assert row(cockpit, "zhengzhou", "added_by_changes") == "-"  # nothing changed yet
    cockpit.set_value("zhengzhou", "reward_rate", 30)
    cockpit.set_value("zhengzhou", "annual_budget", 200.0)
    for _ in range(18):
        cockpit.step()
    # jobs as a 12-month mean, as summary.json's final_employment and the command's 'jobs, 12-mo mean'
    jobs = (cockpit.model.recorder.column("employment")[-12:, 1].mean()
            - cockpit.twin.recorder.column("employment")[-12:, 1].mean())
    assert row(cockpit, "zhengzhou", "added_by_changes") == f"{jobs:+,.0f}"
    extra = cockpit.model.city_state.outlay_total[1] - cockpit.twin.city_state.outlay_total[1]
    assert extra > 0
    shown = row(cockpit, "zhengzhou", "cost_per_added_job")
    assert shown == (f"{extra / jobs:,.0f}" if jobs >= 1 else "-")
    # The one-run charts draw the twin without the changes as faint dashed lines, and mark the change month.
    charts = charts_html(cockpit)
    assert "without your changes" in charts and 'class="shock"' in charts


def row(cockpit: Cockpit, city: str, column: str) -> str:
    table = accounts_html(cockpit)
    found = re.search(rf"<tr data-city='{city}'>.*?<td data-col='{column}'>([^<]*)</td>", table)
    return found.group(1)


def test_views_draw_before_and_after_steps_and_are_valid_markup():
    cockpit = Cockpit("national")
    assert "No capital yet" in capital_text(cockpit.model)
    assert accounts_html(cockpit).count("<tr data-city") == 15
    assert "Press Step" in charts_html(cockpit)
    ET.fromstring(map_html(cockpit))
    for _ in range(3):
        cockpit.step()
    charts = charts_html(cockpit)
    svgs = re.findall(r"<svg.*?</svg>", charts, flags=re.S)
    assert len(svgs) == 6
    for s in svgs:
        ET.fromstring(s)


def test_the_national_map_names_the_highlighted_cities_and_no_labels_overlap():
    from viz import svg

    cockpit = Cockpit("national")
    top = cockpit.highlighted_indices()
    assert [cockpit.model.city_ids[j] for j in top] == main_cities(cockpit.model.params)  # stable: the main cities
    for months in (1, 12, 36):
        while cockpit.model.steps < months:
            cockpit.step()
        assert cockpit.highlighted_indices() == top  # they do not change as the run goes
        text = map_html(cockpit)
        root = ET.fromstring(text)
        labels = {int(t.get("data-index")): t.text for t in root.iter("{http://www.w3.org/2000/svg}text")
                  if t.get("class") == "city-label"}
        trailing = cockpit.model.recorder.column("trailing_share")[-1]
        for j in top:  # the 12-month share, as the banner and the accounts give it
            assert labels[j] == f"{cockpit.model.cities[j].name.split(' (')[0]} {trailing[j]:.0%}"
        hovers = [c.find("{http://www.w3.org/2000/svg}title").text for c in root.iter("{http://www.w3.org/2000/svg}circle")]
        assert len(hovers) == 15 and all("companies" in h and "12-month share" in h for h in hovers)  # every city
        model = cockpit.model
        firms = model.city_state.firms[:15]
        layout = svg.map_layout(np.array([c.lon for c in model.cities]), np.array([c.lat for c in model.cities]),
                                40 + 1800 * firms / firms.max(), [labels.get(j, c.name) for j, c in enumerate(model.cities)],
                                top + [j for j in np.argsort(-firms, kind="stable") if j not in top], set(top),
                                title="x")
        boxes = [b for b in layout.boxes if b is not None]
        assert len(boxes) == len(labels)
        for j in top:  # a highlighted city's label sits beside its own circle: no other circle's edge is nearer
            edge = [edge_distance(layout.boxes[j], layout.x[k], layout.y[k], layout.r[k]) for k in range(15)]
            assert edge[j] <= min(e for k, e in enumerate(edge) if k != j), (labels[j], months)
        for a, b in itertools.combinations(boxes, 2):
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        assert f"Production companies by city, {cockpit.model.year_month(months - 1)[0]}" in text
    cockpit.set_highlighted(["shanghai", "nanning"])  # the planner's own choice
    assert [cockpit.model.city_ids[j] for j in cockpit.highlighted_indices()] == ["shanghai", "nanning"]
    with pytest.raises(ValueError, match="highlighted: no city 'atlantis'; allowed: xian, "):
        cockpit.set_highlighted(["atlantis"])


def test_the_charts_show_dates_and_a_legend_of_city_names():
    cockpit = Cockpit("national")
    for _ in range(18):
        cockpit.step()
    charts = charts_html(cockpit)
    ticks = re.findall(r">(20\d\d-\d\d)<", charts)
    assert ticks and len(set(ticks)) >= 3
    assert "Time:" not in charts and "step" not in charts.lower()
    for c in cockpit.model.cities:
        assert html.escape(c.name) in charts
    assert "capital threshold 50%" in charts


def test_every_account_column_is_defined_on_the_page():
    cockpit = Cockpit("national")
    cockpit.step()
    cockpit.step()
    page = accounts_html(cockpit) + account_terms_html()
    assert set(ACCOUNT_DEFINITIONS) == {column for column, _, _ in ACCOUNT_COLUMNS}
    for column, label, _ in ACCOUNT_COLUMNS:
        assert f"<dt>{html.escape(label)}</dt><dd>{html.escape(ACCOUNT_DEFINITIONS[column])}</dd>" in page
    assert "City accounts of the run on screen (seed 42), 2024-02" in page


def test_the_reproduce_command_recreates_the_table_the_page_shows(tmp_path):
    cockpit = Cockpit("xian_vs_zhengzhou", seed=7)
    cockpit.set_value("zhengzhou", "reward_rate", 23)
    cockpit.set_strategy("xian", "reactive")
    for _ in range(4):
        cockpit.step()
    cockpit.set_value("zhengzhou", "annual_budget", 120.0)
    cockpit.set_value("xian", "reward_rate", 15)
    for _ in range(5):
        cockpit.step()
    command = reproduce_command(cockpit.model, cockpit.scenario)
    assert "scenario.cities.zhengzhou.policy.reward_rate=0.23" in command and "steps=9" in command and "seed=7" in command
    assert "shocks=[{at:2024-05,city:zhengzhou,lever:annual_budget,value:120000000.0}," in command
    args = ["-m", "experiments.cli", *shlex.split(command)[1:]]  # .venv/bin/drama is this module
    done = subprocess.run([sys.executable, *args, "counterfactual=false", f"hydra.run.dir={tmp_path / 'run'}"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shown = pd.read_csv(io.StringIO(city_table_csv(cockpit.model)))
    again = pd.read_parquet(tmp_path / "run" / "cities.parquet")
    again = pd.read_csv(io.StringIO(again.to_csv(index=False)))  # the same text round trip as the download
    pd.testing.assert_frame_equal(shown, again)
    assert shown.policy_shocks.sum() == 2


def test_the_live_views_follow_the_run_after_each_step_and_change():
    from viz.components import LiveViews

    cockpit = Cockpit("xian_vs_zhengzhou")
    views = LiveViews(cockpit)
    assert "data-steps='0'" in views.widgets["month"].value and "Press Step" in views.widgets["charts"].value
    cockpit.step()
    views.refresh()
    assert "Month:</b> 2024-01 (1 month run)" in views.widgets["month"].value
    assert views.widgets["map"].value.startswith("<div class='map-wrap' data-steps='1'><svg")
    cockpit.set_value("xian", "reward_rate", 20)
    views.refresh()
    assert "Xi&#x27;an reward rate 10% of cost → 20%" in views.widgets["changes"].value
    assert views.widgets["command"].value.startswith("<pre class='command'>.venv/bin/drama run scenario=xian_vs_zhengzhou")


def test_a_rate_moved_past_the_citys_strategy_bound_is_held_at_the_bound():
    """subsidy_war's cities answer (reactive): their strategy never offers more than max_reward_rate, so the page
    holds the slider there instead of building a run sim.params refuses."""
    cockpit = Cockpit("subsidy_war")
    top = cockpit.model.params.scenario.city("zhengzhou").strategy.max_reward_rate
    cockpit.set_value("zhengzhou", "reward_rate", 100)  # before the run: the setup
    assert cockpit.model.params.scenario.city("zhengzhou").policy.reward_rate == pytest.approx(top)
    running = Cockpit("subsidy_war")
    running.step()
    assert running.current("zhengzhou", "reward_rate") < top * 100
    running.set_value("zhengzhou", "reward_rate", 100)  # mid-run: a shock from the next month
    running.step()
    (shock,) = running.model.params.shocks
    assert shock.value == pytest.approx(top)


def test_choosing_a_strategy_keeps_the_citys_rate_within_its_bounds():
    cockpit = Cockpit("xian_vs_zhengzhou")
    cockpit.set_value("zhengzhou", "reward_rate", 90)
    cockpit.set_strategy("zhengzhou", "reactive")
    city = cockpit.model.params.scenario.city("zhengzhou")
    assert city.strategy.kind.value == "reactive" and city.policy.reward_rate <= city.strategy.max_reward_rate


def test_the_ensemble_follows_the_run_s_setup_changes_and_steps():
    """With runs > 0 the cockpit keeps N runs (seeds spawned from the page's seed) with the planner's setup and
    changes beside their twins without them: made at the first Step, caught up, and stepped with the run."""
    cockpit = Cockpit("xian_vs_zhengzhou", runs=4)
    cockpit.set_value("zhengzhou", "annual_budget", 80.0)  # the setup
    cockpit.step()
    bands = cockpit.bands
    assert bands.steps == 1 and bands.n == 4 and len(set(bands.seeds)) == 4
    cockpit.step()
    cockpit.set_value("zhengzhou", "reward_rate", 25)
    cockpit.step()
    assert bands.steps == cockpit.model.steps == 3
    runs = bands.ensemble.runs
    assert all(r.shocks == cockpit.model.params.shocks for r in runs[:4]) and all(not r.shocks for r in runs[4:])
    assert all(r.scenario.city("zhengzhou").policy.annual_budget == 80e6 for r in runs[:4])
    assert all(r.scenario.city("zhengzhou").policy.annual_budget == 50e6 for r in runs[4:])
    assert (bands.history("reward_rate")[:, -1, 1] == 0.25).all()  # 25 % on the page
    cockpit.reset()
    assert cockpit._bands is None and Cockpit("xian_vs_zhengzhou").bands is None  # none unless asked for


def test_a_scenario_with_a_published_posterior_draws_each_run_s_parameter_set():
    cockpit = Cockpit("national", runs=3)
    cockpit.step()
    shares = {r.scenario.market.producer_share for r in cockpit.bands.ensemble.runs[:3]}
    assert len(shares) > 1


def test_the_ensemble_panel_shows_bands_and_what_the_changes_bought_with_its_interval():
    from viz.components import bands_html

    cockpit = Cockpit("xian_vs_zhengzhou", runs=6)
    assert "starts with the first Step" in bands_html(cockpit) and Cockpit("xian_vs_zhengzhou").runs == 0
    for _ in range(3):
        cockpit.step()
    page = bands_html(cockpit)
    ET.fromstring(page)  # valid markup
    assert "Over 6 runs" in page and "median [90 % band]" in page
    assert page.count("<tr data-band-city=") == len(main_cities(cockpit.model.params))
    assert "What your changes bought" not in page  # nothing changed yet
    cockpit.set_value("zhengzhou", "annual_budget", 400.0)
    cockpit.set_value("zhengzhou", "reward_rate", 40)
    for _ in range(6):
        cockpit.step()
    page = bands_html(cockpit)
    ET.fromstring(page)
    assert "What your changes bought" in page and "Jobs added in the whole country" in page
    added = re.search(r"data-col='band-added-outlay'>\+([\d,.]+)", page)
    assert added and float(added.group(1).replace(",", "")) > 0  # the bigger fund pays out more


def test_the_run_has_an_end_the_page_names_and_run_to_end_reaches_it():
    from viz.components import month_html

    cockpit = Cockpit("xian_vs_zhengzhou")
    assert "The run ends 2028-12 (60 months)." in month_html(cockpit) and not cockpit.finished
    cockpit.step()
    cockpit.set_value("zhengzhou", "reward_rate", 20)
    cockpit.run_to_end()
    assert cockpit.finished and cockpit.model.steps == 60 and cockpit.pending == {}
    assert [s.at for s in cockpit.model.params.shocks] == ["2024-02"]


def test_the_page_the_summary_and_the_command_agree_on_one_run(tmp_path):
    """One set of definitions: the accounts of the run on screen, under their names, are summary.json's figures
    from the reproduce command, and the command's printed table uses the same names."""
    import json

    from viz.components import account_values

    cockpit = Cockpit("xian_vs_zhengzhou", seed=5)
    cockpit.run_to(14)
    args = ["-m", "experiments.cli", *shlex.split(reproduce_command(cockpit.model, cockpit.scenario))[1:]]
    done = subprocess.run([sys.executable, *args, f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    shown = account_values(cockpit)
    for j, city in enumerate(cockpit.model.city_ids):
        assert shown["jobs_mean"][j] == pytest.approx(summary["final_employment"][city])
        assert shown["trailing_share"][j] == pytest.approx(summary["trailing_share"][city])
        assert shown["firms"][j] == summary["final_firms"][city]
        assert shown["outlay_total"][j] == pytest.approx(summary["outlay_total"][city])
        assert row(cockpit, city, "jobs_mean") == f"{summary['final_employment'][city]:,.0f}"
        assert row(cockpit, city, "trailing_share") == f"{summary['trailing_share'][city]:.1%}"
    for name in ("12-mo share", "companies", "jobs, 12-mo mean", "added by policy"):  # the printed table's names
        assert name in done.stdout
    assert "added_by_changes" in ACCOUNT_DEFINITIONS and "summary.json's added_jobs" in ACCOUNT_DEFINITIONS["added_by_changes"]


def test_the_band_charts_show_medians_bands_and_what_the_changes_added():
    from viz.charts import MIN_JOBS, charts

    cockpit = Cockpit("national", runs=6)
    cockpit.run_to(3)
    head, made = charts(cockpit)
    assert [k for k, _, _ in made] == ["trailing_share", "firms", "subsidy_paid", "budget_left", "employment",
                                       "cost_per_job"]
    assert "Over 6 runs" in head
    for _, _, chart in made:
        ET.fromstring(chart)
        assert chart.count('class="band"') == len(cockpit.highlighted)  # a shaded band per highlighted city
    # The per-job panel leaves out places whose median jobs are below MIN_JOBS (their outlay per job is noise).
    jobs = np.median(cockpit.bands.history("employment")[:, -1, :15], axis=0)
    per_job = dict((k, c) for k, _, c in made)["cost_per_job"]
    small = [cockpit.model.cities[j].name for j in range(15) if jobs[j] < MIN_JOBS]
    assert small and f"{MIN_JOBS}+ jobs" in per_job and f"fewer than {MIN_JOBS} jobs now" in head
    for name in small:
        found = re.search(rf'data-series="{re.escape(html.escape(name, quote=True))} \(median[^"]*" d="([^"]*)"', per_job)
        assert found is None or found.group(1) == ""
    cockpit.set_value("zhengzhou", "reward_rate", 40)
    cockpit.run_to(9)
    _, made = charts(cockpit)
    added = dict((k, c) for k, _, c in made)["added_jobs"]
    assert "whole country" in added and "no effect" in added and added.count('class="band"') == 2
    # The change is marked on every chart by a short label that fits, with the full text on hover.
    assert ">Zhengzhou reward rate 40%</text>" in added and "<title>Zhengzhou reward rate 40% of cost from 2024-04" in added
    cockpit.show_bands = False  # the one-run view, a switch away
    head, made = charts(cockpit)
    assert "One run (seed 42)" in head and 'class="band"' not in "".join(c for _, _, c in made)


def test_two_saved_runs_on_the_same_seeds_are_compared_run_by_run():
    from viz.compare import comparison_html

    cockpit = Cockpit("xian_vs_zhengzhou", runs=8)
    cockpit.run_to(12)
    first = cockpit.save_run()
    cockpit.reset(keep=False)
    cockpit.set_value("zhengzhou", "annual_budget", 400.0)
    cockpit.set_value("zhengzhou", "reward_rate", 40)
    cockpit.run_to(12)
    second = cockpit.save_run()
    assert [r.name for r in cockpit.saved] == ["run 1", "run 2"] and first.paired_with(second)
    assert second.changes == ("Zhengzhou annual fund 400.0 M¥/yr from the start",
                              "Zhengzhou reward rate 40% of cost from the start")
    page = comparison_html(first, second, ["xian", "zhengzhou"])
    ET.fromstring(page)
    assert "paired run by run" in page
    diff = re.search(r"<tr data-compare-city='zhengzhou'>.*?data-col='diff-outlay'>\+([\d,.]+)", page)
    assert diff and float(diff.group(1).replace(",", "")) > 0  # the bigger fund paid out more, run by run
    cockpit.set_seed(9)
    cockpit.reset()
    cockpit.run_to(12)
    third = cockpit.save_run("other seeds")
    assert not first.paired_with(third) and "not paired" in comparison_html(first, third, ["xian"])
    with pytest.raises(ValueError, match="nothing to save yet"):
        Cockpit("xian_vs_zhengzhou", runs=2).save_run()


def test_typed_values_months_and_resets_are_checked_and_explained():
    cockpit = Cockpit("subsidy_war")
    assert cockpit.refusal("xian", "reward_rate", "12%") == (12.0, "")
    top = cockpit.specs["reward_rate"].to_display(cockpit.model.params.scenario.city("xian").strategy.max_reward_rate)
    assert cockpit.refusal("xian", "reward_rate", "95")[1] == \
        f"reward rate: 95 is outside the range; allowed 0 to {top:g} % of cost"  # the strategy's own bound
    assert cockpit.refusal("xian", "annual_budget", "lots") == \
        (None, "annual fund: 'lots' is not a number; allowed 0 to 100000 M¥/yr")
    with pytest.raises(ValueError, match=r"run to: '2024-13' is not a month; allowed 2024-01 to 2028-12, as YYYY-MM"):
        cockpit.month_number("2024-13")
    cockpit.run_to(cockpit.month_number("2024-06"))
    assert cockpit.model.steps == 6
    with pytest.raises(ValueError, match=r"allowed after the month shown \(2024-06\) up to 2028-12"):
        cockpit.month_number("2024-03")
    cockpit.set_value("xian", "annual_budget", 80.0)
    cockpit.reset()  # keeps the change as the setup
    assert cockpit.model.params.scenario.city("xian").policy.annual_budget == 80e6
    cockpit.reset(keep=False)  # the scenario as it is
    assert cockpit.model.params == load_config("subsidy_war") and cockpit.twin is None


def edge_distance(box, cx: float, cy: float, r: float) -> float:
    """From a label box to a circle's edge, px (negative when the box reaches inside the circle)."""
    dx = cx - min(max(cx, box[0]), box[2])
    dy = cy - min(max(cy, box[1]), box[3])
    return float(np.hypot(dx, dy) - r)


def test_the_outlay_per_added_job_is_shown_only_where_jobs_were_added_in_the_runs():
    from viz.components import _added_cell

    runs = 20
    outlay = np.full((runs, 1), 2e6)
    clear = {"jobs": np.linspace(10, 30, runs)[:, None], "outlay": outlay}
    clear["outlay_per_added_job"] = clear["outlay"] / clear["jobs"]
    assert _added_cell(clear, "outlay_per_added_job", 0, "{:,.0f}", 1.0).startswith("100,069 <span")  # 2 M / ~20 jobs
    noise = {"jobs": np.linspace(-30, 30, runs)[:, None], "outlay": outlay}
    noise["outlay_per_added_job"] = np.where(noise["jobs"] >= 1, outlay / noise["jobs"], np.nan)
    assert "no added jobs distinguishable from none" in _added_cell(noise, "outlay_per_added_job", 0, "{:,.0f}", 1.0)
    assert "not distinguishable from chance" in _added_cell(noise, "jobs", 0, "{:+,.0f}", 1.0)

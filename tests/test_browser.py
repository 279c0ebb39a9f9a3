"""The cockpit in real Chromium (Debian's, driven by Playwright): never skipped.

The server runs as a subprocess on a free port (`benchmarks.browser.serve`).
Screenshots land in tests/artifacts/ (git-ignored); with
DRAMA_UPDATE_SCREENSHOTS=1 the national scenario's goes to docs/img/ for
the README.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from urllib.parse import urlparse

import pandas as pd
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from benchmarks.browser import CHROMIUM_ARGS, VIEWPORT, chromium_path, serve
from conftest import ROOT

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "tests" / "artifacts"
README_SHOT = ROOT / "docs" / "img" / "cockpit_national.png"
MESA_INTERNALS = ["PAGE 0", "Play Interval", "Render Interval", "Use Threads", "Time: "]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("server") / "solara.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """Console errors and the hosts a page requested."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)

    def _request(self, request) -> None:
        u = urlparse(request.url)
        if u.scheme in ("data", "blob"):
            return
        if u.hostname not in ("127.0.0.1", "localhost"):
            self.foreign.append(request.url)

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.foreign == [], f"the page asked hosts other than the local server: {self.foreign}"


def open_app(browser, url, scenario: str = "xian_vs_zhengzhou") -> tuple[Page, Watch]:
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    watch = Watch(page)
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=120_000)
    if scenario != "xian_vs_zhengzhou":
        page.locator(".v-select").filter(has_text="scenario").first.click()
        page.get_by_role("option", name=re.compile(f"^{scenario}: ")).click()
    expect(page.locator(f".month[data-scenario='{scenario}']")).to_have_count(1, timeout=60_000)
    return page, watch


def steps_shown(page: Page) -> int:
    return int(page.locator(".month").get_attribute("data-steps"))


def step(page: Page, times: int) -> None:
    for _ in range(times):
        before = steps_shown(page)
        page.get_by_role("button", name="Step", exact=True).click()
        expect(page.locator(f".month[data-steps='{before + 1}']")).to_have_count(1, timeout=30_000)
        expect(page.locator(f".map-wrap[data-steps='{before + 1}']")).to_have_count(1, timeout=30_000)


def cell(page: Page, city: str, column: str):
    return page.locator(f"tr[data-city='{city}'] td[data-col='{column}']")


def test_the_national_cockpit_is_readable_offline(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page, watch = open_app(browser, server, "national")
    expect(page.locator(".month")).to_contain_text("2024-01 is the first month")
    expect(page.locator(".scenario-description")).to_have_text(
        "All fifteen cities named in the sources, with their announced policies.")
    step(page, 6)
    expect(page.locator(".month")).to_have_text("Month: 2024-06 (6 months run)")
    # The answer over 20 runs (posterior draws and seeds), each main city's figures with their 90 % band.
    expect(page.locator("table.band-table caption")).to_contain_text("Over 20 runs (parameter sets drawn from the "
                                                                       "published posterior")
    expect(page.locator("table.band-table tr[data-band-city]")).to_have_count(3)
    expect(page.locator("table.band-table td[data-col='band-jobs']").first).to_contain_text(" to ")
    expect(page.locator(".banner-runs")).to_contain_text("Over 20 runs:")
    body = page.locator("body").inner_text()
    for internal in MESA_INTERNALS + ["This website runs on", "MODEL-BRIEF", "share of cost"]:
        assert internal not in body, f"{internal!r} is on the page"
    # No two city labels on the map overlap, as the browser lays them out; the highlighted cities are named with
    # their share.
    boxes = page.locator("svg.map text.city-label").evaluate_all(
        "els => els.map(e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom, e.textContent]; })")
    assert len(boxes) >= 8
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], f"{a[4]!r} overlaps {b[4]!r}"
    assert sum(text.endswith("%") for *_, text in boxes) == 3
    expect(page.locator("svg.map circle title")).to_have_count(15)  # hover on every city, with its numbers
    expect(page.locator("svg.map circle title").last).to_contain_text("companies")
    # Charts of medians with 90 % bands, by date; a legend of the 15 cities; the threshold labelled.
    expect(page.locator("svg.chart")).to_have_count(6)
    expect(page.locator("svg.chart path.band").first).to_be_attached()
    expect(page.locator(".legend .legend-item")).to_have_count(15)
    expect(page.locator("svg.chart").first).to_contain_text("capital threshold 50%")
    expect(page.locator("svg.chart").first).to_contain_text("2024-03")
    # Folded cities: the main three are listed first and two are open.
    toggles = page.locator(".city-toggle").all_inner_texts()
    assert len(toggles) == 15 and toggles[0].startswith("▾") and toggles[2].startswith("▸")
    # Zhengzhou doubles its reward from 2024-07: marked on the charts, what it added drawn as a difference.
    toggle = page.locator(".city-zhengzhou .city-toggle")
    if toggle.inner_text().startswith("▸"):
        toggle.click()  # unfold the city
    lever = page.locator(".city-zhengzhou .lever").filter(has_text="reward rate")
    lever.get_by_role("slider").focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    # Every key press reaches the server before the first Step (a slow server may still be applying them).
    expect(lever.locator(".lever-head")).to_contain_text("reward rate: 20% of cost")
    expect(lever.locator(".pending-tag")).to_be_visible()
    step(page, 12)
    expect(page.locator("li.shock")).to_have_text("Zhengzhou reward rate 20% of cost from 2024-07")
    expect(page.locator("svg.chart .shock").first).to_be_attached()
    assert cell(page, "zhengzhou", "added_by_changes").inner_text() != "-"
    # What the change bought over the 20 runs, against the same runs without it, with its interval, and as a
    # difference chart with its band.
    expect(page.locator("table.added-table tr[data-band-city='zhengzhou'] td[data-col='band-added-jobs']")) \
        .to_contain_text(" to ")
    expect(page.locator(".national-effect")).to_contain_text("Jobs added in the whole country")
    added = page.locator(".chart-box[data-chart='added_jobs'] svg")
    expect(added).to_contain_text("jobs added by your changes, each month")
    expect(added.locator("path.band")).to_have_count(2)  # Zhengzhou and the whole country
    # Only the planner's change is in the command: no slider moved a value by itself (snapping to its step).
    expect(page.locator("pre.command")).to_have_text(
        ".venv/bin/drama run scenario=national seed=42 steps=18 "
        "'shocks=[{at:2024-07,city:zhengzhou,lever:reward_rate,value:0.2}]'")
    page.set_viewport_size({"width": 1400, "height": 900})
    shots = {"cockpit_national.png": page, "cockpit_reproduce.png": page.locator(".v-card").filter(
        has_text="Reproduce this run")}
    for name, target in shots.items():
        target.screenshot(path=ARTIFACTS / name)
        if os.environ.get("DRAMA_UPDATE_SCREENSHOTS"):
            target.screenshot(path=README_SHOT.parent / name)
    page.locator(".charts").screenshot(path=ARTIFACTS / "cockpit_bands.png")
    if os.environ.get("DRAMA_UPDATE_SCREENSHOTS"):
        page.locator(".charts").screenshot(path=README_SHOT.parent / "cockpit_bands.png")
    watch.check()


def plain_shell(command: str) -> subprocess.CompletedProcess:
    """`command` typed in a plain bash in the project folder: no venv active, a PATH without one."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return subprocess.run(command, shell=True, executable="/bin/bash", cwd=ROOT, env=env, capture_output=True,
                          text=True)


def one_run_view(page: Page) -> None:
    """Switch the page from the bands over 20 runs to the one run on screen."""
    switch = page.get_by_role("switch", name=re.compile("Bands over 20 runs"))
    page.locator(".v-input--switch label").filter(has_text="Bands over 20 runs").click()  # as a planner clicks it
    expect(switch).not_to_be_checked()
    expect(page.locator("p.chart-note").first).to_contain_text("One run (seed")


def test_a_lever_moved_mid_run_applies_next_month_and_the_run_can_be_reproduced(server, browser, tmp_path):
    page, watch = open_app(browser, server)
    lever = page.locator(".city-zhengzhou .lever").filter(has_text="reward rate")
    expect(lever.locator(".lever-head")).to_have_text("reward rate: 10% of cost")
    expect(lever.locator(".lever-range")).to_have_text("slider 0 to 100 % of cost")
    step(page, 2)
    one_run_view(page)
    slider = lever.get_by_role("slider")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(lever.locator(".lever-head")).to_contain_text("reward rate: 15% of cost")
    expect(lever.locator(".pending-tag")).to_be_visible()
    expect(page.locator("li.pending")).to_have_text(
        "Zhengzhou reward rate 10% of cost → 15% of cost from 2024-03 (next Step)")
    expect(cell(page, "zhengzhou", "reward_rate")).to_have_text("10%")  # pending: not applied yet
    step(page, 1)
    expect(cell(page, "zhengzhou", "reward_rate")).to_have_text("15%")
    expect(page.locator("li.shock")).to_have_text("Zhengzhou reward rate 15% of cost from 2024-03")
    expect(lever.locator(".pending-tag")).to_have_count(0)
    expect(page.locator("svg.chart .shock").first).to_be_attached()
    expect(page.get_by_text("without your changes", exact=False).first).to_be_attached()
    assert re.fullmatch(r"[+-][\d,]+", cell(page, "zhengzhou", "added_by_changes").inner_text())
    step(page, 2)
    page.screenshot(path=ARTIFACTS / "cockpit_mid_run_change.png", full_page=True)

    # Hand it on: the command on the page, typed as shown in a plain shell in the project folder (no venv active),
    # gives the table the page downloads and the summary whose figures the page shows, under the same names.
    command = page.locator("pre.command").inner_text().strip()
    assert command.startswith(".venv/bin/drama run scenario=xian_vs_zhengzhou seed=42 steps=5 ")
    assert "shocks=[{at:2024-03,city:zhengzhou,lever:reward_rate,value:0.15}]" in command
    with page.expect_download() as download:
        page.get_by_text("Download the city table (CSV)").click()
    shown = pd.read_csv(download.value.path())
    done = plain_shell(f"{command} hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    again = pd.read_parquet(tmp_path / "run" / "cities.parquet")
    pd.testing.assert_frame_equal(shown, pd.read_csv(io.StringIO(again.to_csv(index=False))))
    assert shown.loc[shown.city == "zhengzhou", "reward_rate"].tolist() == [0.1, 0.1, 0.15, 0.15, 0.15]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for city in ("xian", "zhengzhou"):
        expect(cell(page, city, "jobs_mean")).to_have_text(f"{summary['final_employment'][city]:,.0f}")
        expect(cell(page, city, "trailing_share")).to_have_text(f"{summary['trailing_share'][city]:.1%}")
        expect(cell(page, city, "firms")).to_have_text(f"{summary['final_firms'][city]:,.0f}")
        expect(cell(page, city, "outlay_total")).to_have_text(f"{summary['outlay_total'][city] / 1e6:,.1f}")
    assert "jobs, 12-mo mean" in done.stdout and "12-mo share" in done.stdout  # the printed table's names
    watch.check()


def test_each_session_has_its_own_run(server, browser):
    first, _ = open_app(browser, server)
    step(first, 2)
    second, _ = open_app(browser, server)
    expect(second.locator(".month[data-steps='0']")).to_have_count(1)
    step(second, 1)
    expect(second.locator(".month[data-steps='1']")).to_have_count(1)
    expect(first.locator(".month[data-steps='2']")).to_have_count(1)


def test_reset_keeps_or_clears_the_changes_as_the_planner_chooses(server, browser):
    page, watch = open_app(browser, server)
    options = page.locator(".v-select").filter(has_text="scenario").first
    options.click()
    listed = [text.split(":")[0] for text in page.get_by_role("option").all_inner_texts()]
    assert "national" in listed and "symmetric" not in listed and "recovery" not in listed  # checks stay off
    assert "national: All fifteen cities named in the sources" in page.get_by_role("option").all_inner_texts()[1]
    page.keyboard.press("Escape")
    lever = page.locator(".city-zhengzhou .lever").filter(has_text="reward rate")
    lever.get_by_role("slider").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(cell(page, "zhengzhou", "reward_rate")).to_have_text("15%")  # before the first month: the setup itself
    step(page, 2)
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator(".month[data-steps='0']")).to_have_count(1, timeout=30_000)
    expect(cell(page, "zhengzhou", "reward_rate")).to_have_text("15%")
    step(page, 1)
    expect(page.locator("pre.command")).to_contain_text(
        "scenario=xian_vs_zhengzhou seed=42 steps=1 scenario.cities.zhengzhou.policy.reward_rate=0.15")
    page.get_by_role("button", name="Reset and clear changes", exact=True).click()
    expect(page.locator(".month[data-steps='0']")).to_have_count(1, timeout=30_000)
    expect(cell(page, "zhengzhou", "reward_rate")).to_have_text("10%")
    expect(lever.locator(".lever-head")).to_have_text("reward rate: 10% of cost")
    watch.check()


def test_run_control_typed_entry_and_a_bad_seed_are_handled_visibly(server, browser):
    page, watch = open_app(browser, server)
    expect(page.locator(".run-end")).to_have_text("The run ends 2028-12 (60 months).")
    seed = page.get_by_label("seed")
    seed.fill("abc")
    seed.press("Enter")
    expect(page.locator(".seed-error")).to_have_text("seed: 'abc' is not a whole number; the seed stays 42")
    # A lever typed in percent; a value outside its range is refused with the range.
    entry = page.get_by_role("textbox", name="Zhengzhou: reward rate, % of cost (type a value, Enter)")
    entry.fill("150")
    entry.press("Enter")
    expect(page.locator(".city-zhengzhou .lever-error")).to_have_text(
        "reward rate: 150 is outside the range; allowed 0 to 100 % of cost")
    entry.fill("25")
    entry.press("Enter")
    expect(page.locator(".city-zhengzhou .lever").filter(has_text="reward rate").locator(".lever-head")) \
        .to_have_text("reward rate: 25% of cost")
    expect(cell(page, "zhengzhou", "reward_rate")).to_have_text("25%")
    # Run to a month, then to the end; the speed is a setting.
    goal = page.get_by_label("run to month (YYYY-MM, Enter)")
    goal.fill("2025-13")
    goal.press("Enter")
    expect(page.locator(".run-error")).to_contain_text("run to: '2025-13' is not a month; allowed 2024-01 to 2028-12")
    goal.fill("2025-06")
    goal.press("Enter")
    expect(page.locator(".month[data-steps='18']")).to_have_count(1, timeout=120_000)
    expect(page.locator(".v-select").filter(has_text="Play speed")).to_contain_text("4 months a second")
    page.get_by_role("button", name="Run to end", exact=True).click()
    expect(page.locator(".month[data-steps='60']")).to_have_count(1, timeout=120_000)
    expect(page.locator(".month")).to_have_text("Month: 2028-12 (60 months run)")
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Run to end", exact=True)).to_be_disabled()
    watch.check()


def test_two_saved_runs_compare_and_charts_and_tables_export(server, browser):
    page, watch = open_app(browser, server)
    goal = page.get_by_label("run to month (YYYY-MM, Enter)")
    goal.fill("2024-12")
    goal.press("Enter")
    expect(page.locator(".month[data-steps='12']")).to_have_count(1, timeout=120_000)
    page.get_by_role("button", name="Save this run").click()
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator(".month[data-steps='0']")).to_have_count(1, timeout=30_000)
    entry = page.get_by_role("textbox", name="Zhengzhou: annual fund, M¥/yr (type a value, Enter)")
    entry.fill("400")
    entry.press("Enter")
    expect(cell(page, "zhengzhou", "budget_left")).to_have_text("400.0")  # before the first month: the setup
    goal.fill("2024-12")
    goal.press("Enter")
    expect(page.locator(".month[data-steps='12']")).to_have_count(1, timeout=120_000)
    page.get_by_role("button", name="Save this run").click()
    expect(page.locator("table.compare-table caption")).to_contain_text("paired run by run")
    expect(page.locator("tr[data-compare-city='zhengzhou'] td[data-col='diff-outlay']")).to_contain_text(" to ")
    expect(page.locator("ul.compare-runs")).to_contain_text("Zhengzhou annual fund 400.0 M¥/yr from the start")
    # A chart as SVG and as PNG (drawn by the browser), and the band table as CSV.
    with page.expect_download() as svg_file:
        page.get_by_role("button", name="Chart (SVG)").click()
    text = open(svg_file.value.path()).read()
    assert text.startswith("<svg") and "share of productions (12-month)" in text
    with page.expect_download() as png_file:
        page.get_by_role("button", name="Chart (PNG)").click()
    assert open(png_file.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as csv_file:
        page.get_by_role("button", name="Band table (CSV)").click()
    table = pd.read_csv(csv_file.value.path())
    assert {"city", "name", "runs", "jobs", "jobs_lo", "jobs_hi", "added_by_changes_jobs"} <= set(table.columns)
    assert (table.runs == 20).all() and (table.jobs_lo <= table.jobs_hi).all()
    watch.check()


def test_the_page_works_at_1024_by_768_and_every_control_has_a_name(server, browser):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    watch = Watch(page)
    page.goto(server)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=120_000)
    step(page, 13)
    # Neither pane overflows sideways; wide tables scroll inside their own box, and their last column is reachable.
    for pane in (".controls-pane", ".main-pane"):
        width = page.locator(pane).evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert width[0] <= width[1] + 1, (pane, width)
    for last in ("table.accounts thead th:last-child", "table.band-table thead th:last-child"):
        target = page.locator(last)
        target.scroll_into_view_if_needed()
        expect(target).to_be_in_viewport()
    # Every control has an accessible name (Playwright's accessibility snapshot of the page).
    snapshot = page.locator("body").aria_snapshot()
    controls = re.findall(r"^\s*- '?(button|slider|textbox|combobox|checkbox|switch|spinbutton|link)\b(.*)$", snapshot,
                          flags=re.M)
    assert len(controls) > 30
    unnamed = [f"{role}{rest}" for role, rest in controls if not rest.lstrip().startswith('"')]
    assert unnamed == [], unnamed
    page.screenshot(path=ARTIFACTS / "cockpit_1024.png")
    watch.check()

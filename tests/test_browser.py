"""The browser app in real Chromium (Debian's, driven by Playwright): never skipped.

The server runs as a subprocess on a free port and is stopped by its PID.
Screenshots land in tests/artifacts/ (git-ignored) as test artefacts.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from conftest import ROOT

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STEP = re.compile(r"^step$", re.I)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "solara.log"
    solara = Path(sys.executable).parent / "solara"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(solara), "run", "viz/app.py", "--production", "--no-check-version",
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the app did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is missing: `sudo apt-get install chromium` (make test installs it as root)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
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


def open_app(browser, url) -> tuple[Page, Watch]:
    page = browser.new_page(viewport={"width": 1500, "height": 1150})
    watch = Watch(page)
    page.goto(url)
    page.get_by_role("button", name=STEP).wait_for(timeout=120_000)
    return page, watch


def step(page: Page, times: int) -> None:
    for _ in range(times):
        before = page.get_by_text(re.compile(r"^Time: ")).inner_text()
        page.get_by_role("button", name=STEP).click()
        expect(page.get_by_text(re.compile(r"^Time: "))).not_to_have_text(before, timeout=30_000)


def map_image(page: Page) -> str:
    return page.locator("img").first.get_attribute("src")


def test_step_map_charts_scenario_slider_reset_offline(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page, watch = open_app(browser, server)
    expect(page.get_by_text("Time: 0.0")).to_be_visible()
    expect(page.get_by_text(re.compile("^Capital: Xi'an|^No capital yet"))).to_be_visible()
    expect(page.get_by_text("Press Step or Play to run the model.")).to_be_visible()
    first_map = map_image(page)

    step(page, 3)
    expect(page.get_by_text("Time: 3.0")).to_be_visible()
    expect(page.get_by_text("Press Step or Play to run the model.")).to_have_count(0)  # the charts are drawn
    assert page.locator("img").count() >= 2
    assert map_image(page) != first_map, "the map did not change after stepping"
    expect(page.get_by_text(re.compile(r"^python -m sim scenario=xian_vs_zhengzhou seed=42 steps=3"))).to_be_visible()
    expect(page.get_by_text("Download the city table (CSV)")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "app_stepped.png", full_page=True)

    # another scenario, a slider, Reset: the model is rebuilt with the new value
    page.locator(".v-select").filter(has_text="scenario").first.click()
    page.get_by_role("option", name="symmetric").click()
    east_rate = page.locator("tr[data-city='east'] td[data-col='reward_rate']")
    expect(east_rate).to_have_text("0.10", timeout=30_000)
    slider = page.locator(".v-input").filter(has_text="East: reward rate").get_by_role("slider")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuenow", "0.15")
    expect(east_rate).to_have_text("0.10")  # sliders apply on Reset only
    page.get_by_role("button", name=re.compile("^reset$", re.I)).click()
    expect(east_rate).to_have_text("0.15", timeout=30_000)
    expect(page.locator("tr[data-city='west'] td[data-col='reward_rate']")).to_have_text("0.10")
    expect(page.get_by_text("Time: 0.0")).to_be_visible()
    step(page, 1)
    expect(page.get_by_text("Time: 1.0")).to_be_visible()
    expect(page.get_by_text(re.compile(r"scenario=symmetric seed=42 steps=1 .*scenario\.cities\.east\.policy"
                                       r"\.reward_rate=0\.15"))).to_be_visible()
    page.screenshot(path=ARTIFACTS / "app_symmetric.png", full_page=True)

    assert watch.errors == [], watch.errors
    assert watch.foreign == [], f"the page asked hosts other than the local server: {watch.foreign}"


def test_each_session_has_its_own_model(server, browser):
    first, _ = open_app(browser, server)
    step(first, 2)
    expect(first.get_by_text("Time: 2.0")).to_be_visible()
    second, _ = open_app(browser, server)
    expect(second.get_by_text("Time: 0.0")).to_be_visible()
    step(second, 1)
    expect(second.get_by_text("Time: 1.0")).to_be_visible()
    expect(first.get_by_text("Time: 2.0")).to_be_visible()

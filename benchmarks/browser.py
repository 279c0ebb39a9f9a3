"""The cockpit in real Chromium: the app served on a free port, and Step's click-to-screen latency.

Used by `make bench` (`click_to_screen`) and by the browser test (`serve`,
`chromium_path`, `CHROMIUM_ARGS`). The browser is Debian's chromium, driven
by Playwright from PyPI: never a downloaded one.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 900}
CHANGED = ("Xi'an", "20")  # the benchmark's change: the first open city's reward rate, in percent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str:
    """Debian's chromium, or a one-line error saying how to install it."""
    found = shutil.which("chromium")
    if found is None:
        raise SystemExit("error: Debian's chromium is missing: `sudo apt-get install chromium` (make test installs it as root)")
    return found


@contextmanager
def serve(log_path: Path, timeout_s: float = 120.0):
    """Run `solara run viz/app.py` on a free port until the block ends; yields its URL."""
    port = free_port()
    solara = Path(sys.executable).parent / "solara"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", "SOLARA_THEME_SHOW_BANNER": "false",
           "PYTHONWARNINGS": "ignore:Cookies with samesite=none require https:UserWarning"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(solara), "run", "viz/app.py", "--production", "--no-check-version",
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


async def _open(browser, url: str, scenario: str):
    page = await browser.new_page(viewport=VIEWPORT)
    await page.goto(url)
    await page.get_by_role("button", name="Step", exact=True).wait_for(timeout=120_000)
    if scenario != "xian_vs_zhengzhou":
        await page.locator(".v-select").filter(has_text="scenario").first.click()
        await page.get_by_role("option", name=re.compile(f"^{scenario}: ")).click()
        await page.locator(f"[data-scenario='{scenario}']").wait_for(timeout=60_000)
    # A change before the first Step, so each click draws what a planner's question needs: the 20 runs with the
    # change and their 20 twins without it, the bands, and the chart of what the change added.
    entry = page.get_by_role("textbox", name=f"{CHANGED[0]}: reward rate, % of cost (type a value, Enter)")
    await entry.fill(CHANGED[1])
    await entry.press("Enter")
    await page.locator("ul.changes li.setup").first.wait_for(timeout=60_000)
    return page


async def _click_times(page, clicks: int) -> list[float]:
    """Milliseconds from each click on Step until the page shows the next month (the month line and the map)."""
    out = []
    for _ in range(clicks):
        steps = int(await page.locator(".month").get_attribute("data-steps"))
        t0 = time.perf_counter()
        await page.get_by_role("button", name="Step", exact=True).click()
        await page.locator(f".month[data-steps='{steps + 1}']").wait_for(timeout=60_000)
        for view in ("map-wrap", "charts-wrap", "accounts-wrap"):  # the map, the band charts, the tables
            await page.locator(f".{view}[data-steps='{steps + 1}']").wait_for(timeout=60_000)
        out.append(1000 * (time.perf_counter() - t0))
    return out


async def _measure(url: str, scenario: str, clicks: int) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        one = await _open(browser, url, scenario)
        await _click_times(one, 2)  # warm: first drawings
        alone = await _click_times(one, clicks)
        await one.close()
        tabs = [await _open(browser, url, scenario) for _ in range(3)]
        for tab in tabs:
            await _click_times(tab, 2)
        together = await asyncio.gather(*(_click_times(tab, clicks) for tab in tabs))
        await browser.close()
    flat = [t for tab in together for t in tab]
    one_ms, three_ms = statistics.median(alone), statistics.median(flat)
    return {"one_tab_ms": one_ms, "one_tab_max_ms": max(alone), "three_tabs_ms": three_ms,
            "three_tabs_max_ms": max(flat), "ratio": three_ms / one_ms, "clicks": clicks, "scenario": scenario}


def click_to_screen(scenario: str = "national", clicks: int = 12) -> dict:
    """Median click-to-screen ms of Step for one tab alone and for three tabs clicking at once (and their ratio)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "solara.log") as url:
        return asyncio.run(_measure(url, scenario, clicks))

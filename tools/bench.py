"""`make bench`: how fast the model and the page are, with ratios against plain-Python references.

Prints:
1. months per second for every scenario (60 months, seed 42), and firms at the end;
2. the location-choice phase (utility of every city for every reconsidering
   firm, plus the logit draw) in one NumPy pass against the same computation
   as a Python loop over firms, on the national scenario after 24 months;
3. what one Step costs in the browser view for the national scenario: model
   step plus map, charts and accounts table, rendered as the page renders them;
4. with chromium present, the round trip in a real browser: click Step on the
   national scenario and wait for the page to show the new month.
and which BLAS library and kernel numpy ran (threadpoolctl), since
OPENBLAS_CORETYPE is set on these machines on purpose.
Timings are medians of repeats; machines here are shared and noisy, so no
threshold is asserted: this prints figures and ratios, tests do not time.
"""

from __future__ import annotations

import io
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import ContestModel, load_config  # noqa: E402
from sim.choice import logit_choice  # noqa: E402
from sim.config import scenario_names  # noqa: E402


def median_time(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    rows = [f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} threads={i.get('num_threads')}"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")}
    return "; ".join(rows or ["no BLAS loaded"]) + f"  env={env}"


def bench_scenarios() -> None:
    print("1. model speed, 60 months, seed 42 (median of 3)")
    print(f"   {'scenario':<20}{'cities':>7}{'firms':>8}{'months/s':>10}{'ms/month':>10}")
    for name in scenario_names():
        params = load_config(name)
        t = median_time(lambda p=params: ContestModel(p).run(), 3)
        m = ContestModel(params).run()
        print(f"   {name:<20}{m.n_cities:>7}{m.n_firms:>8}{60 / t:>10.0f}{1000 * t / 60:>10.2f}")


def location_choice_loop(model: ContestModel, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The reference: the same utilities and logit draw, one firm and one city at a time in Python."""
    f = model.firms
    out = np.empty(len(rows), dtype=np.int64)
    scale = model.scenario_params.behaviour.logit_scale
    for k, r in enumerate(rows):
        best, best_u = 0, -np.inf
        for j in range(model.n_cities):
            u = model.location_utility(f.crew[r:r + 1], f.tier[r:r + 1], f.rate[r:r + 1],
                                       np.array([f.city[r]]))[0, j]
            u += rng.gumbel(0.0, scale)
            if u > best_u:
                best, best_u = j, u
        out[k] = best
    return out


def bench_choice() -> None:
    model = ContestModel(load_config("national")).run(24)
    rows = model.firms.idx
    f = model.firms
    scale = model.scenario_params.behaviour.logit_scale

    def vectorised():
        u = model.location_utility(f.crew[rows], f.tier[rows], f.rate[rows], f.city[rows])
        logit_choice(u, scale, np.random.default_rng(0))

    subset = rows[:200]
    t_vec = median_time(vectorised, 5)
    t_loop = median_time(lambda: location_choice_loop(model, subset, np.random.default_rng(0)), 3)
    t_loop_all = t_loop * len(rows) / len(subset)
    print(f"2. location choice, national after 24 months: {len(rows)} firms x {model.n_cities} cities")
    print(f"   one NumPy pass {1000 * t_vec:8.2f} ms   Python loop per firm and city {1000 * t_loop_all:9.1f} ms "
          f"(timed on {len(subset)} firms, scaled)   ratio {t_loop_all / t_vec:,.0f}x")


def bench_page_step() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from viz.adapter import initial_values, model_class
    from viz.components import accounts_html, charts_figure, map_figure

    model = model_class("national")(**initial_values("national"))
    model.run(12)

    def one_step():
        model.step()
        for fig in (map_figure(model), charts_figure(model)):
            fig.savefig(io.BytesIO(), format="png")
        accounts_html(model)

    t_model = median_time(model.step, 5)
    t_page = median_time(one_step, 5)
    print("3. one Step in the browser view, national (15 cities), server side")
    print(f"   model step {1000 * t_model:7.1f} ms   step + map + charts + table {1000 * t_page:7.1f} ms")


def bench_browser_round_trip() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("4. browser round trip: skipped (no chromium on PATH)")
        return
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "solara"), "run", "viz/app.py", "--production",
                               "--no-check-version", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1500, "height": 1150})
            page.goto(url)
            step = page.get_by_role("button", name=re.compile("^step$", re.I))
            step.wait_for(timeout=120_000)
            page.locator(".v-select").filter(has_text="scenario").first.click()
            page.get_by_role("option", name="national").click()
            expect(page.locator("tr[data-city='shanghai']")).to_be_visible(timeout=60_000)
            times = []
            images_changed = ("([m, c]) => { const i = document.querySelectorAll('img');"
                              " return i.length > 1 && i[0].src !== m && i[1].src !== c; }")
            for k in range(1, 9):
                imgs = page.locator("img")
                before = [imgs.nth(i).get_attribute("src") if imgs.count() > i else "" for i in (0, 1)]
                t0 = time.perf_counter()
                step.click()
                expect(page.get_by_text(f"Time: {k}.0")).to_be_visible(timeout=60_000)
                page.wait_for_function(images_changed, arg=before, timeout=60_000)  # map and charts redrawn
                times.append(time.perf_counter() - t0)
            browser.close()
        print("4. browser round trip, national: click Step until the page shows the new month, map and charts")
        print(f"   median {1000 * statistics.median(times[1:]):.0f} ms, max {1000 * max(times[1:]):.0f} ms "
              f"over {len(times) - 1} steps (the first, {1000 * times[0]:.0f} ms, draws the charts for the first time)")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=15)


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"BLAS: {blas_info()}")
    bench_scenarios()
    bench_choice()
    bench_page_step()
    bench_browser_round_trip()


if __name__ == "__main__":
    main()

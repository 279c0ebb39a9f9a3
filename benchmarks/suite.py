"""`make bench`: the speed figures of issues 12 and 14, each measured in fresh processes, median of repeats.

    python -m benchmarks                 # everything, 3 repeats (about 25 minutes on 2 cores)
    python -m benchmarks --repeats 5
    python -m benchmarks --only steps_per_s_10k_20 --only peak_rss_gb_100k_300
    python -m benchmarks measure model_10k_20    # one measurement, as JSON (what the suite runs per repeat)

Prints a table (figure, target, median, the repeats) and writes
results/bench/latest.json: the figures under their keys, with the machine,
the BLAS library and kernel numpy ran, the git revision and every repeat
beside them. Machines here are shared and noisy, so this reports and
never asserts; the tests check correctness, not time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "bench" / "latest.json"
SWEEP_RUNS, SWEEP_STEPS = 1_000, 120
ENSEMBLE_SEEDS = 20  # the cockpit's bands: seeds of `national` advanced together


# --------------------------------------------------------------------------- one measurement (in a fresh process)


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _synthetic_params(firms: int, cities: int):
    from sim.params import RunParams
    from sim.synthetic import synthetic_scenario

    return RunParams(scenario=synthetic_scenario(firms, cities, seed=0), steps=1200, seed=1, counterfactual=False,
                     start="2001-01")  # 1,200 months within the calendar (the generated market is flat)


def _synthetic_model(firms: int, cities: int, warm: int, path: str = "reference"):
    """The synthetic contest after `warm` months: a Mesa model (reference) or an ensemble of that one run (fast)."""
    params = _synthetic_params(firms, cities)
    if path == "fast":
        from sim.ensemble import Ensemble

        return Ensemble([params]).run(warm)
    from sim import ContestModel

    return ContestModel(params).run(warm)


def measure_model(firms: int, cities: int, warm: int, timed: int, floor: bool, path: str = "fast") -> dict:
    """Whole-model steps per second after `warm` months on `path` (the city table is collected every month)."""
    model = _synthetic_model(firms, cities, warm, path)
    n_firms, n_places = len(model.firms), (model.L if path == "fast" else model.n_places)
    t0 = time.perf_counter()
    model.run(timed)
    step_s = (time.perf_counter() - t0) / timed
    out = {"steps_per_s": 1.0 / step_s, "step_ms": 1000 * step_s, "firms": n_firms, "places": n_places, "path": path}
    if floor:
        from benchmarks.floor import NumpyFloor

        b = _synthetic_params(firms, cities).scenario.behaviour
        bare = NumpyFloor(n_firms, n_places, b.reconsider_rate, b.logit_scale)
        floor_s = _median_time(bare.step, 21)
        out.update(floor_ms=1000 * floor_s, floor_ratio=step_s / floor_s)
    return out


def measure_phases(firms: int, cities: int, warm: int, timed: int, path: str = "fast") -> dict:
    """Milliseconds per step in each phase on `path` (the profile printed under the table)."""
    from benchmarks.phases import phase_times

    model = _synthetic_model(firms, cities, warm, path)
    return {"firms": len(model.firms), **phase_times(model, timed)}


def measure_agents(firms: int, cities: int, warm: int) -> dict:
    """The model's location phase (one NumPy pass) against the per-agent reference, on the same state."""
    from benchmarks.reference import ReferenceModel

    model = _synthetic_model(firms, cities, warm)
    model.survey_places()
    f = model.firms
    saved = f.city.copy(), f.capital.copy(), model.moved_total

    def vectorised():
        model.relocate_firms()
        f.city, f.capital = saved[0], saved[1]  # the same state for every repeat
        model.moved_total = saved[2]

    t_vec = _median_time(vectorised, 7)
    reference = ReferenceModel(model, seed=1)
    t_ref = _median_time(reference.step, 1 if firms > 50_000 else 3)
    # The fast path's location phase, on the same scenario after the same months (its own draws: a state of the
    # same size, not the same state; every repeat moves about 5 % of the companies, as a month does).
    ensemble = _synthetic_model(firms, cities, warm, "fast")
    ensemble.steps += 1
    ensemble.survey_places()
    t_fast = _median_time(ensemble.relocate_firms, 7)
    return {"vectorised_ms": 1000 * t_vec, "fast_ms": 1000 * t_fast, "reference_ms": 1000 * t_ref,
            "speedup": t_ref / t_fast, "speedup_reference_path": t_ref / t_vec, "firms": model.n_firms}


def measure_sweep(workers: int) -> dict:
    """Wall time of SWEEP_RUNS runs of the default scenario, SWEEP_STEPS months each, through `experiments.sweep`."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "experiments.sweep", "experiment=bench_sweep", f"workers={workers}",
             "progress=false", f"hydra.run.dir={tmp}/sweep"],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"the benchmark sweep failed: {done.stderr.strip().splitlines()[-1:]}")
    return {"wall_s": wall, "workers": workers, "runs": SWEEP_RUNS}


def measure_national_run() -> dict:
    """Wall time of one 120-month run of `national` at the sources' scale (its counterfactual off: one run), on
    the reference path (a Mesa model, as the cockpit and `.venv/bin/drama run` run it) and on the fast path."""
    from sim import ContestModel, load_config
    from sim.ensemble import Ensemble

    params = load_config("national", ["steps=120", "counterfactual=false"])
    warm = load_config("national", ["steps=2", "counterfactual=false"])
    ContestModel(warm).run()  # imports and caches warm
    Ensemble([warm]).run()
    t0 = time.perf_counter()
    model = ContestModel(params).run()
    reference = time.perf_counter() - t0
    t0 = time.perf_counter()
    Ensemble([params]).run()
    return {"wall_s": reference, "fast_wall_s": time.perf_counter() - t0, "firms_at_end": int(model.n_firms)}


def measure_ensemble_step(seeds: int = ENSEMBLE_SEEDS) -> dict:
    """One month of `national` for `seeds` seeds (the cockpit's bands): one ensemble of the seeds (sim.ensemble);
    beside it, one Mesa model per seed advanced in turn."""
    import dataclasses

    from sim import ContestModel, load_config
    from sim.ensemble import Ensemble

    base = load_config("national", ["counterfactual=false"])
    ensemble = Ensemble([dataclasses.replace(base, seed=s) for s in range(seeds)]).run(6)
    models = [ContestModel(dataclasses.replace(base, seed=s)).run(6) for s in range(seeds)]

    def one_month():
        for m in models:
            m.step()

    return {"step_ms": 1000 * _median_time(ensemble.step, 5), "models_step_ms": 1000 * _median_time(one_month, 5),
            "seeds": seeds}


def measure_robust_study() -> dict:
    """Wall time of the study's robust analysis (its command line in experiments/study.py), from an empty folder."""
    from experiments.study import COMMANDS

    args = next(c for c in COMMANDS if c[0] == "experiments.robust")
    with tempfile.TemporaryDirectory() as tmp:
        # The optimiser's front needs its own run; the benchmark times the robust analysis over the named policies.
        kept = [a for a in args[1:] if not a.startswith(("front=", "out="))]
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", args[0], *kept, f"out={tmp}/robust", "progress=false"], cwd=ROOT,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"the robust benchmark failed: {done.stderr.strip().splitlines()[-1:]}")
    return {"wall_s": wall, "command": " ".join(["python -m", args[0], *kept])}


def measure_memory(firms: int, cities: int, steps: int, path: str = "fast") -> dict:
    """Peak resident memory of a process that builds the model on `path` and runs `steps` months (numba's
    compiler, loaded by the fast path, counts)."""
    model = _synthetic_model(firms, cities, steps, path)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_rss_gb": peak_kb * 1024 / 1e9, "firms": len(model.firms), "path": path}


def measure_browser_step() -> dict:
    """Server-side cost of one Step of the national scenario in the cockpit as the page runs it: the run and its
    twin, the 20 runs and their 20 twins (viz/bands.py), every view (bands, charts, map, tables)."""
    from viz.app import ENSEMBLE_RUNS
    from viz.cockpit import Cockpit
    from viz.components import view_texts

    cockpit = Cockpit("national", runs=ENSEMBLE_RUNS)
    cockpit.set_value("zhengzhou", "reward_rate", 20)  # a change (percent): the twins run and are drawn too
    for _ in range(12):
        cockpit.step()

    def one_step():
        cockpit.step()
        view_texts(cockpit)

    one_step()
    return {"browser_step_ms": 1000 * _median_time(one_step, 7),
            "model_step_ms": 1000 * _median_time(cockpit.model.step, 7)}


def measure_click_to_screen() -> dict:
    """Click-to-screen latency of Step in Chromium, national scenario: one tab alone, then three stepping at once."""
    from benchmarks.browser import click_to_screen

    return click_to_screen(scenario="national", clicks=12)


MEASUREMENTS = {
    "model_10k_20": lambda: measure_model(10_000, 20, warm=12, timed=120, floor=False),
    "model_100k_50": lambda: measure_model(100_000, 50, warm=6, timed=24, floor=True),
    "reference_10k_20": lambda: measure_model(10_000, 20, warm=12, timed=60, floor=False, path="reference"),
    "reference_100k_50": lambda: measure_model(100_000, 50, warm=6, timed=12, floor=True, path="reference"),
    "agents_10k_20": lambda: measure_agents(10_000, 20, warm=12),
    "agents_100k_50": lambda: measure_agents(100_000, 50, warm=6),
    "sweep_2": lambda: measure_sweep(2),
    "sweep_1": lambda: measure_sweep(1),
    "memory_100k_300": lambda: measure_memory(100_000, 300, steps=12),
    "reference_memory_100k_300": lambda: measure_memory(100_000, 300, steps=12, path="reference"),
    "national_run": measure_national_run,
    "ensemble20": measure_ensemble_step,
    "robust_study": measure_robust_study,
    "browser": measure_browser_step,
    "click_to_screen": measure_click_to_screen,
    "phases_10k_20": lambda: measure_phases(10_000, 20, warm=12, timed=60),
    "phases_100k_50": lambda: measure_phases(100_000, 50, warm=6, timed=24),
}
PROFILES = ("phases_10k_20", "phases_100k_50")  # printed beside the figures, not figures themselves

# The figures of latest.json: (measurement, field, target, "min" if the figure must reach it or "max" if stay under).
FIGURES = {
    "steps_per_s_10k_20": ("model_10k_20", "steps_per_s", 1_500, "min"),
    "steps_per_s_100k_50": ("model_100k_50", "steps_per_s", 60, "min"),
    "floor_ratio_100k_50": ("model_100k_50", "floor_ratio", 2, "max"),
    # the same on the reference path (one Mesa model), which the cockpit and `.venv/bin/drama run` run
    "reference_steps_per_s_10k_20": ("reference_10k_20", "steps_per_s", 1_500, "min"),
    "reference_steps_per_s_100k_50": ("reference_100k_50", "steps_per_s", 60, "min"),
    "reference_floor_ratio_100k_50": ("reference_100k_50", "floor_ratio", 2, "max"),
    "speedup_vs_agents_10k_20": ("agents_10k_20", "speedup", 80, "min"),
    "speedup_vs_agents_100k_50": ("agents_100k_50", "speedup", 80, "min"),
    "sweep_1000_s": ("sweep_2", "wall_s", 15, "max"),
    "sweep_efficiency": (None, None, 0.9, "min"),  # from sweep_1 and sweep_2
    "peak_rss_gb_100k_300": ("memory_100k_300", "peak_rss_gb", 0.4, "max"),
    "reference_peak_rss_gb_100k_300": ("reference_memory_100k_300", "peak_rss_gb", 0.4, "max"),
    "national_run_s": ("national_run", "wall_s", 2, "max"),
    "ensemble20_step_ms": ("ensemble20", "step_ms", 150, "max"),
    "robust_study_s": ("robust_study", "wall_s", 900, "max"),
    "browser_step_ms": ("browser", "browser_step_ms", 150, "max"),
    "click_to_screen_ms_1tab": ("click_to_screen", "one_tab_ms", 300, "max"),
    "click_to_screen_ms_3tabs": ("click_to_screen", "three_tabs_ms", 450, "max"),  # 1.5 x the one-tab target
    "three_tabs_ratio": ("click_to_screen", "ratio", 1.5, "max"),
}


def _measure_here(name: str) -> None:
    # One BLAS thread, as a sweep's workers have (threadpoolctl directly: importing the batch machinery would load
    # numba, about 100 MB, into a process whose peak memory may be the figure measured).
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    print(json.dumps(MEASUREMENTS[name]()))


# --------------------------------------------------------------------------- the suite


def _fresh(name: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "measure", name], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def blas_info() -> dict:
    """Which BLAS numpy loaded, its kernel (OPENBLAS_CORETYPE is set on these machines on purpose) and threads."""
    from threadpoolctl import threadpool_info

    libs = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")}
    return {"libraries": libs, "env": env}


def machine_info() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "python": platform.python_version(), "numpy": np.__version__,
            "system": f"{platform.system()} {platform.release()}"}


def _needed(figures: list[str]) -> list[str]:
    names = []
    for key in figures:
        source = FIGURES[key][0]
        for name in ([source] if source else ["sweep_2", "sweep_1"]):
            if name not in names:
                names.append(name)
    return names


def _met(value: float, target: float, sense: str) -> bool:
    return value >= target if sense == "min" else value <= target


def run_suite(figures: list[str], repeats: int) -> dict:
    """Measure, print the table, return latest.json's content."""
    from sim.shell.runner import git_revision

    runs: dict[str, list[dict]] = {}
    for name in _needed(figures):
        runs[name] = []
        for k in range(repeats):
            print(f"  measuring {name} ({k + 1}/{repeats}) ...", flush=True)
            runs[name].append(_fresh(name))
    values: dict[str, float] = {}
    per_repeat: dict[str, list[float]] = {}
    for key in figures:
        source, field, _, _ = FIGURES[key]
        if source is None:  # parallel efficiency: one worker's time over twice two workers' time, per repeat pair
            per_repeat[key] = [one["wall_s"] / (2 * two["wall_s"]) for one, two in zip(runs["sweep_1"], runs["sweep_2"])]
        else:
            per_repeat[key] = [r[field] for r in runs[source]]
        values[key] = statistics.median(per_repeat[key])
    print(f"\n{'figure':<28}{'target':>10}{'median':>12}  met  repeats")
    for key in figures:
        _, _, target, sense = FIGURES[key]
        bound = (">= " if sense == "min" else "<= ") + f"{target:g}"
        shown = ", ".join(f"{v:.3g}" for v in per_repeat[key])
        print(f"{key:<28}{bound:>10}{values[key]:>12.3g}  {'yes' if _met(values[key], target, sense) else 'NO ':<4} {shown}")
    for name in PROFILES if len(figures) == len(FIGURES) else ():
        runs[name] = [_fresh(name)]
        row = runs[name][0]
        total = sum(v for k, v in row.items() if k != "firms")
        print(f"\nwhere a step's time goes, {name.split('_', 1)[1]} ({row['firms']:,} firms, {total:.2f} ms a step):")
        print("  " + ", ".join(f"{k} {v:.2f} ms ({100 * v / total:.0f} %)" for k, v in row.items() if k != "firms"))
    detail = {name: rows for name, rows in runs.items()}
    return {**values, "targets": {k: {"target": FIGURES[k][2], "sense": FIGURES[k][3]} for k in figures},
            "repeats": per_repeat, "measurements": detail, "machine": machine_info(), "blas": blas_info(),
            "git_revision": git_revision(), "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "make bench"}


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m benchmarks` (what `make bench` runs)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("measure", help="one measurement in this process, printed as JSON")
    one.add_argument("name", choices=sorted(MEASUREMENTS))
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per measurement (default 3)")
    parser.add_argument("--only", action="append", choices=list(FIGURES), help="measure only this figure (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "measure":
        _measure_here(args.name)
        return
    if args.repeats < 1:
        parser.error("--repeats: must be at least 1")
    figures = args.only or list(FIGURES)
    print(f"{machine_info()}\nBLAS: {blas_info()}")
    result = run_suite(figures, args.repeats)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    from sim.shell.atomic import write_json

    if args.only and OUT.exists():
        result = merged(json.loads(OUT.read_text()), result, figures)
    write_json(OUT, result)
    print(f"\nwritten: {OUT.relative_to(ROOT)}")


def merged(old: dict, new: dict, figures: list[str]) -> dict:
    """latest.json after measuring only `figures`: the other figures kept as they were, each figure's revision and
    time recorded under `measured_with` (so a file measured in parts says which code each figure timed)."""
    stamp = {"git_revision": new["git_revision"], "measured_at": new["measured_at"]}
    earlier = old.get("measured_with") or {k: {"git_revision": old.get("git_revision"),
                                               "measured_at": old.get("measured_at")} for k in old.get("targets", {})}
    out = {**old, **{k: new[k] for k in figures}}
    for part in ("targets", "repeats", "measurements"):
        out[part] = {**old.get(part, {}), **new[part]}
    out["measured_with"] = {**earlier, **dict.fromkeys(figures, stamp)}
    out.update(machine=new["machine"], blas=new["blas"], git_revision=new["git_revision"],
               measured_at=new["measured_at"], command=f"make bench ARGS=\"{' '.join('--only ' + f for f in figures)}\"")
    return out

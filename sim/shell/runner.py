"""Run one scenario into a folder: tables, summary, figure, resolved config and manifest.

Files are written under temporary names and renamed into place; the
manifest is written last, with `"status": "complete"`, so a folder without
it (or with `"status": "failed"`) is visibly not a finished run.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import yaml
from tqdm.auto import tqdm

import pandas as pd

from sim.shell.atomic import write_parquet, write_text
from sim.counterfactual import added_by_policy
from sim.outcomes import summarise
from sim.model import ContestModel
from sim.params import RunParams, to_dict
from sim.shell.plots import plot_shares

OUTPUT_FILES = ("config.yaml", "cities.parquet", "counterfactual.parquet", "summary.json", "shares.png", "manifest.json")
PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "matplotlib", "hydra-core", "omegaconf")


def run_to_folder(params: RunParams, out_dir: Path, progress: bool = True) -> dict:
    """Run `params` and write every output file into `out_dir`; returns the summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    write_text(out_dir / "config.yaml", config_text(params))
    try:
        model = ContestModel(params)
        bar = tqdm(total=params.steps, desc=f"{params.scenario.name} seed {params.seed}", unit="month",
                   disable=None if progress else True, leave=False)  # None: off when not a terminal
        for month in range(params.steps):
            model.step()
            bar.update()
            if month == ESTIMATE_AFTER_MONTHS - 1:
                announce_if_long(params, time.perf_counter() - t0, month + 1)
        bar.close()
        table = model.city_table()
        added, cf_tables = None, []
        if params.counterfactual:
            added = added_by_policy(model, tables=cf_tables)
            cf = pd.concat(cf_tables, ignore_index=True) if cf_tables else table.iloc[:0][list(CF_COLUMNS)]
            write_parquet(cf, out_dir / "counterfactual.parquet")
        summary = summarise(model, added)
        write_parquet(table, out_dir / "cities.parquet")
        write_text(out_dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False))
        plot_shares(table, out_dir / "shares.png", params.capital_threshold,
                    title=f"{params.scenario.name}, seed {params.seed}")
    except BaseException as err:
        _write_manifest(out_dir, params, started, time.perf_counter() - t0, status="failed",
                        error="".join(traceback.format_exception_only(type(err), err)).strip())
        raise
    _write_manifest(out_dir, params, started, time.perf_counter() - t0, status="complete")
    return summary


ESTIMATE_AFTER_MONTHS = 3  # months timed before a long run says how long it will take
LONG_RUN_S = 60.0  # a run expected to take longer than this says so, on a terminal or not


def announce_if_long(params: RunParams, elapsed_s: float, months_done: int) -> None:
    """Print one line with the expected wall time when the run will take more than LONG_RUN_S."""
    expected = elapsed_s / months_done * params.steps
    if expected > LONG_RUN_S:
        print(f"note: {params.steps} months of {params.scenario.name} will take about {expected / 60:,.0f} min "
              f"(an estimate from the first {months_done} months)", flush=True)


def config_text(params: RunParams) -> str:
    """The run's resolved config as the YAML written to config.yaml."""
    return yaml.safe_dump(to_dict(params), sort_keys=False, allow_unicode=True)


def _write_manifest(out_dir: Path, params: RunParams, started: datetime, wall: float, status: str,
                    error: str | None = None) -> None:
    manifest = {
        "status": status,
        "scenario": params.scenario.name,
        "seed": params.seed,
        "steps": params.steps,
        "started": started.isoformat(timespec="seconds"),
        "wall_time_s": round(wall, 3),
        "git_revision": git_revision(),
        "command": sys.argv,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": package_versions(),
        "files": [f for f in OUTPUT_FILES if (out_dir / f).exists() or f == "manifest.json"],
    }
    if error:
        manifest["error"] = error
    write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2))


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a result depends on."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision() -> str | None:
    """The project's git commit, with '-dirty' when the work tree has changes; None outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "")


from sim.shell.show import whole  # noqa: E402

CF_COLUMNS = ("step", "date", "city", "firms", "productions", "share", "employment")


def _money(value: float | None) -> str:
    return "-" if value is None else whole(value)


# A cost per added job is printed only where the policy added at least this many jobs and this share of the city's
# own: one run's added jobs move by a few hundred from seed to seed, and a ratio over a handful of them is noise
# (11 M yuan a job for 8 jobs). summary.json keeps every ratio; the planner's table averages 20 seeds.
MIN_ADDED_JOBS = 100
MIN_ADDED_SHARE = 0.05


def _per_added(cost: float | None, added: float | None, jobs: float) -> str:
    if cost is None or added is None or added < max(MIN_ADDED_JOBS, MIN_ADDED_SHARE * jobs):
        return "-"
    return whole(cost)


def format_outcome(summary: dict) -> str:
    """A short plain-text table of a run's outcome, under the cockpit's names and definitions: per place the
    12-month share (the capital test's), companies, jobs (12-month mean), outlay, and what each city's policy added
    against the same run with that city's policy off ('added by policy'; the cockpit's 'added by your changes'
    compares with the run without the planner's changes instead); then what the columns count."""
    places = list(summary["final_share"])
    share = summary.get("trailing_share", summary["final_share"])
    added = summary.get("added_jobs", {})
    width = max(len(c) for c in places + ["city"])
    head = (f"{'city':<{width}}  {'12-mo share':>11}  {'companies':>9}  {'jobs, 12-mo mean':>16}  {'outlay M¥':>9}  "
            f"{'¥ per job':>10}")
    if added:
        head += f"  {'added by policy':>15}  {'¥ per added job':>15}  {'national':>8}  {'¥ per national job':>18}"
    lines = [head]
    for c in places:
        jobs_now = summary["final_employment"][c]
        line = (f"{c:<{width}}  {share[c]:>11.1%}  {summary['final_firms'][c]:>9,d}  "
                f"{whole(jobs_now):>16}  {summary['outlay_total'][c] / 1e6:>9,.1f}  "
                f"{_money(summary['cost_per_job'][c]):>10}")
        if added:
            jobs = added.get(c)
            national = summary.get("added_jobs_national", {}).get(c)
            line += (f"  {'-' if jobs is None else whole(jobs, signed=True):>15}  "
                     f"{_per_added(summary['marginal_cost_per_job'].get(c), jobs, jobs_now):>15}  "
                     f"{'-' if national is None else whole(national, signed=True):>8}  "
                     f"{_per_added(summary.get('marginal_cost_per_national_job', {}).get(c), national, jobs_now):>18}")
        lines.append(line)
    lines.append(f"companies: at the end; share and jobs: over the last 12 months, so a city whose companies left this "
                 f"year still shows jobs.")
    if added:
        lines.append(f"¥ per added job: only where the policy added at least {MIN_ADDED_JOBS} jobs and "
                     f"{MIN_ADDED_SHARE:.0%} of the city's own; one run's added jobs are noisy.")
    cap = summary["capital"]
    window = summary.get("capital_window", 12)
    margin = summary.get("capital_margin", 0.0)
    lines.append(f"capital: {cap} since {summary['capital_month']}" if cap else "capital: none "
                 f"(no city holds {summary['capital_threshold']:.0%} of the trailing {window} months with a lead of "
                 f"{margin:.0%} over the next)")
    if summary.get("crossing_month"):
        lines.append(f"crossing: {summary['challenger']} overtook the first leader in {summary['crossing_month']}")
    if "seed" in summary:
        lines.append(f"one run (seed {summary['seed']}); the chance of each outcome over seeds is a sweep's: "
                     ".venv/bin/drama sweep experiment=smoke, then .venv/bin/drama report <its folder>")
    return "\n".join(lines)


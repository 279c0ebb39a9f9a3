"""`.venv/bin/drama sweep experiment=<name> [overrides]`: run a design with replicates.

Examples:
    .venv/bin/drama sweep experiment=smoke
    .venv/bin/drama sweep experiment=smoke backend=dask
    .venv/bin/drama sweep experiment=zhengzhou_reward_vs_xian workers=8
    .venv/bin/drama sweep experiment=smoke backend=dask address=tcp://10.0.0.5:8786
    .venv/bin/drama sweep experiment=smoke resume=true     # finish the latest unfinished smoke sweep
    .venv/bin/drama sweep experiment=smoke hydra.run.dir=results/sweeps/mine   # rerun = resume
Bad input exits with code 2 and a one-line error naming the key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.schemas import register_sweep_schemas, to_experiment
from experiments.batch.design import fingerprint
from experiments.batch.engine import SweepInterrupted, check_keys, resolved_config_text, run_sweep
from experiments.batch.capital import FILE as CAPITAL_FILE
from experiments.analysis.report import plot_capital_probability
from experiments.batch.store import ResultStore, UnreadableDesign
from sim.shell.cli import Command, run_command
from sim.shell.folders import discard
from sim.shell.config import results_dir, to_params
from sim.params import to_dict


def validate(cfg: DictConfig) -> None:
    """The checks made before Hydra creates a folder: run keys, experiment (its size too), every design value."""
    experiment, _ = to_experiment(cfg)
    check_keys(experiment, to_dict(to_params(cfg)))


def latest_unfinished(name: str, tag: str) -> Path | None:
    """The newest unfinished sweep folder of experiment `name` holding this very sweep (same fingerprint).

    A folder whose design or manifest cannot be read is skipped: it cannot be
    shown to hold this sweep, and one damaged folder must not stop every
    other sweep from resuming.
    """
    candidates = [p for p in Path(results_dir(), "sweeps").glob(f"*/*_{name}") if p.name.split("_", 1)[1] == name]
    for folder in sorted(candidates, key=lambda p: (p.parent.name, p.name), reverse=True):
        if _holds_unfinished(folder, tag):
            return folder
    return None


def _holds_unfinished(folder: Path, tag: str) -> bool:
    store = ResultStore(folder)
    try:
        if not store.has_design() or store.design()[1] != tag:
            return False
    except (UnreadableDesign, OSError):
        return False
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return True  # killed before its first manifest was written
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("status") != "complete"


def sweep(cfg: DictConfig, out: Path) -> None:
    """Pick the folder (new or resumed), run the design, print the summary."""
    base = to_params(cfg)
    experiment, settings = to_experiment(cfg)
    folder = out
    if settings.resume and not (out / "design.parquet").exists():
        previous = latest_unfinished(experiment.name, fingerprint(experiment, to_dict(base), settings.path))
        if previous is not None and previous != out:
            discard(out)  # the folder made for this command, still empty: it continues in `previous` instead
            folder = previous
        else:
            print(f"resume=true: no unfinished sweep of {experiment.name!r} with these settings; starting a new one")
    config_text = resolved_config_text(OmegaConf.to_container(cfg, resolve=True, enum_to_str=True))
    try:
        runs = run_sweep(experiment, base, folder, settings.backend, settings.workers, settings.address,
                         settings.progress, config_text, path=settings.path)
    except SweepInterrupted as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    keys = [p.key for p in experiment.parameters]
    cities = [c.id for c in base.scenario.cities]
    table = pd.read_csv(folder / CAPITAL_FILE)  # the engine's, written beside runs.parquet
    plot_capital_probability(table, keys, cities, folder / "capital_probability.png")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(table.to_string(index=False, max_rows=40, float_format=lambda v: f"{v:.2f}"))
    n_failed = int((runs.status == "failed").sum())
    print(f"outputs: {folder}")
    print(f"{len(runs)} runs: {len(runs) - n_failed} ok, {n_failed} failed")


def help_page() -> str:
    """`.venv/bin/drama sweep --help`."""
    from sim.shell.help import Help, experiments, scenarios

    return Help(
        "sweep",
        "Run a named experiment: a grid or a sample of policies (and of the parameters the facts leave loose), each "
        "over many seeds, in parallel on this machine or a Dask cluster. Each run's outcomes go to a tidy table in a "
        "new folder under results/sweeps/, with the resolved config and a manifest; a stopped sweep resumes where it "
        "stopped. `.venv/bin/drama report <folder>` then writes its report.",
        options=[
            ("experiment=<name>", "what to sweep (listed below; default smoke)"),
            ("scenario=<name>", "the contest (default xian_vs_zhengzhou; the scenarios of `drama run --help`)"),
            ("experiment.replicates=<n>", "seeds per point (each experiment sets its own)"),
            ("posterior=<name>", "each seed draws its parameter set from that published posterior, e.g. national"),
            ("workers=<n>", "parallel worker processes; 0 (default) uses every core"),
            ("backend=local|dask", "where the runs go (default local); address=tcp://host:8786 names a Dask "
                                   "scheduler"),
            ("resume=true", "finish the newest unfinished sweep of this experiment"),
            ("path=fast|reference", "the batched fast path (default) or the one-model-per-run reference"),
            ("progress=false", "no progress bar"),
        ],
        lists=[("experiments", experiments)],
        examples=["experiment=smoke", "experiment=zhengzhou_reward_vs_xian posterior=national",
                  "experiment=smoke backend=dask workers=2"],
        notes=["Any key of a run (steps, seed, scenario.*) can be set too; bad input stops before anything is "
               "written. --hydra-help shows Hydra's own help."],
    ).text()


COMMAND = Command("sweep", validate=validate, task=sweep, register=register_sweep_schemas, help=help_page)


def main() -> None:
    """Entry point of `.venv/bin/drama sweep`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()

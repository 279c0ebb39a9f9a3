"""`.venv/bin/drama calibrate scenario=<name> [overrides]`: fit a scenario to the published facts.

Examples:
    .venv/bin/drama calibrate scenario=xian_vs_zhengzhou
    .venv/bin/drama calibrate scenario=zhejiang backend=dask workers=8
    .venv/bin/drama calibrate scenario=xian_vs_zhengzhou calibration.rounds=2
    .venv/bin/drama calibrate scenario=zhejiang publish=true        # rewrite configs/ and docs/ with the fit
    .venv/bin/drama calibrate scenario=xian_vs_zhengzhou resume=true     # finish a stopped calibration
    .venv/bin/drama calibrate scenario=national method=posterior publish=true   # an ensemble (ABC-SMC)
It writes into its run folder (results/calibration/...). Only with publish=true
does it also rewrite tracked files: the fitted values in
configs/calibration/<scenario>.yaml (which every later run of the scenario
loads) and the report in docs/calibration.md; with method=posterior, the
ensemble in configs/calibration/<scenario>.posterior.csv (drawn from by
posterior=<scenario>) and its section of docs/calibration.md.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml
from omegaconf import DictConfig, OmegaConf, SCMode

from experiments.calibration import docs as calibration_docs, posterior_docs
from experiments.calibration.search import (CalibrationParams, calibrate, calibration_fingerprint, check_has_facts, value_of,
                                     write_outputs)
from experiments.schemas import evaluator_settings, register_calibrate_schemas, run_path
from experiments.batch.design import ParameterSpec
from experiments.batch.engine import SweepInterrupted
from experiments.calibration.posterior import PosteriorParams, StartingSize, posterior_path
from experiments.calibration.posterior_docs import run_posterior, write_posterior
from sim.shell.cli import Command, run_command
from sim.shell.folders import discard
from sim.shell.atomic import atomic, write_text
from sim.shell.config import CONFIG_DIR, PROJECT_ROOT, results_dir, to_params
from sim.params import ParamError, RunParams, apply_overrides, from_dict, to_dict

def to_calibration(cfg: DictConfig) -> CalibrationParams:
    """Validated calibration settings from a composed config."""
    data = OmegaConf.to_container(cfg.calibration, resolve=True, structured_config_mode=SCMode.DICT)
    extra_fixed = data.pop("extra_fixed")
    data.pop("starting_sizes"), data.pop("posterior")  # method=posterior's settings: to_posterior
    fixed_here = {f["key"] for f in extra_fixed}  # a scenario may fix a commonly fitted key its facts leave loose
    specs = [p for p in data.pop("parameters") if p["key"] not in fixed_here] + data.pop("extra_parameters")
    params = tuple(ParameterSpec(p["key"], low=p["low"], high=p["high"], log=p.get("log", False))
                   for p in specs)
    fixed = tuple((f["key"], f["reason"]) for f in data.pop("fixed") + extra_fixed)
    budget = data.pop("budget")
    if not 0 <= budget <= 10_000_000:
        raise ParamError("calibration.budget", f"{budget} is out of range; allowed [0, 10000000] "
                                               "(0: rounds x candidates x replicates)")
    if budget:  # spread the runs over the rounds: candidates per round follow from the budget
        data["candidates"] = max(2, budget // (data["rounds"] * data["replicates"]))
    return CalibrationParams(parameters=params, fixed=fixed, **data)


def dropped_by_scenario(cfg: DictConfig) -> list[tuple[str, str]]:
    """The commonly fitted keys this scenario fixes instead (its search space's extra_fixed), with the reason."""
    fixed = {f.key: f.reason for f in cfg.calibration.extra_fixed}
    return [(p.key, fixed[p.key]) for p in cfg.calibration.parameters if p.key in fixed]


def command_line(argv: list[str]) -> str:
    """The reproducing command: the user's overrides without folder and resume settings."""
    keep = [a for a in argv if not a.startswith(("hydra.", "resume=", "publish=", "workers=", "progress="))]
    return " ".join([".venv/bin/drama calibrate", *keep])


def validate(cfg: DictConfig) -> None:
    """The checks made before Hydra creates a folder: run keys, calibration settings, facts, fitted keys."""
    cal = to_calibration(cfg)
    base = to_params(cfg)
    evaluator_settings(cfg)  # workers and address checked as for a sweep
    check_has_facts(base.scenario.name)
    for p in cal.parameters:
        check_keys_for(p, base)
    check_fixed(cal, base)
    if method_of(cfg) == "posterior":
        _, sizes = to_posterior(cfg)
        check_sizes(sizes, base)


def latest_unfinished(scenario: str, tag: str) -> Path | None:
    """The newest unfinished calibration folder of `scenario` holding this very calibration (same fingerprint)."""
    folders = [p for p in Path(results_dir(), "calibration").glob(f"*/*_{scenario}")
               if p.name.split("_", 1)[1] == scenario]
    for folder in sorted(folders, key=lambda p: (p.parent.name, p.name), reverse=True):
        stamp = folder / "fingerprint"
        if not (folder / "calibration.json").exists() and stamp.exists() and stamp.read_text().strip() == tag:
            return folder
    return None


def previous_calibration(scenario: str) -> dict | None:
    """The calibration file the scenario loads now (part of the base the search runs on), as plain data."""
    path = CONFIG_DIR / "calibration" / f"{scenario}.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else None


def publish(record: dict, folder: Path, scenario: str) -> list[Path]:
    """Copy the fitted values into configs/calibration/ and the report into docs/ (only with publish=true).

    Each file is copied under a temporary name and renamed into place, so a
    failed publish never leaves a half-written tracked file; returns what it wrote.
    """
    docs = PROJECT_ROOT / "docs"
    copies = [(folder / "fit.png", docs / "img" / f"calibration_{scenario}.png")]
    if record["fitted"]:
        copies += [(folder / f"{scenario}.yaml", CONFIG_DIR / "calibration" / f"{scenario}.yaml"),
                   (folder / "spread.png", docs / "img" / f"calibration_{scenario}_spread.png")]
    return _publish(copies, record, docs / "calibration" / f"{scenario}.json")


def _publish(copies: list[tuple[Path, Path]], record: dict, record_path: Path) -> list[Path]:
    """Copy each (source, target) whole into place, write the record, re-render docs/calibration.md."""
    for _, target in [*copies, (None, record_path)]:
        target.parent.mkdir(parents=True, exist_ok=True)
    for source, target in copies:
        atomic(target, lambda tmp, source=source: shutil.copyfile(source, tmp))
    write_text(record_path, json.dumps(record, indent=2, default=str))
    return [target for _, target in copies] + [record_path, calibration_docs.write(PROJECT_ROOT / "docs")]


def calibrate_task(cfg: DictConfig, out: Path) -> None:
    """Search, validate the best point, write and publish (bad input was refused before the folder was made)."""
    if method_of(cfg) == "posterior":
        posterior_task(cfg, out)
        return
    base = to_params(cfg)
    cal = to_calibration(cfg)
    folder = out
    if cfg.resume and not (out / "round_1").exists():
        previous = latest_unfinished(base.scenario.name, calibration_fingerprint(cal, base, run_path(cfg)))
        if previous is not None and previous != out:
            discard(out)  # the folder made for this command, still empty: it continues in `previous` instead
            folder = previous
            print(f"resuming {folder}")
        else:
            print(f"resume=true: no unfinished calibration of {base.scenario.name!r} with these settings; "
                  "starting a new one")
    for key, reason in dropped_by_scenario(cfg):
        print(f"note: calibration.parameters ({key}) is not fitted: {base.scenario.name} fixes it ({reason})")
    command = command_line(sys.argv[1:])
    backend = cfg.backend.value if hasattr(cfg.backend, "value") else str(cfg.backend)
    try:
        result = calibrate(cal, base, folder, backend, cfg.workers, cfg.address, cfg.progress, run_path(cfg))
    except SweepInterrupted as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    record = write_outputs(result, cal, folder, command, base, previous_calibration(result.scenario))
    published = publish(record, folder, result.scenario) if cfg.publish else []
    print(facts_text(result.facts))
    print(f"fitted: {json.dumps(result.fitted)}")
    print(f"loss: {result.search_loss:.3f} (search), {result.validation_loss:.3f} (validation), "
          f"{result.held_out_loss:.3f} (held-out facts)")
    print(f"outputs: {folder}")
    if published:
        print("published (tracked files rewritten): " + ", ".join(str(p.relative_to(PROJECT_ROOT)) for p in published))
    else:
        print("not published: configs/calibration/ and docs/ are unchanged; add publish=true to write the fit there")


def method_of(cfg: DictConfig) -> str:
    return cfg.method.value if hasattr(cfg.method, "value") else str(cfg.method)


def to_posterior(cfg: DictConfig) -> tuple[PosteriorParams, tuple[StartingSize, ...]]:
    """Validated ABC-SMC settings and the scenario's open starting sizes."""
    post = PosteriorParams(**OmegaConf.to_container(cfg.calibration.posterior, resolve=True))
    sizes = tuple(StartingSize(**s) for s in OmegaConf.to_container(cfg.calibration.starting_sizes, resolve=True))
    return post, sizes


def check_sizes(sizes: tuple[StartingSize, ...], base: RunParams) -> None:
    """Each starting size names a city of the scenario, with 1 <= low < high (a range its firms key allows)."""
    for i, s in enumerate(sizes):
        where = f"calibration.starting_sizes[{i}] ({s.city})"
        ids = [c.id for c in base.scenario.cities]
        if s.city not in ids:
            raise ParamError(where, f"no such city in {base.scenario.name}; its cities: {', '.join(ids)}")
        if not 1 <= s.low < s.high:
            raise ParamError(where, f"needs 1 <= low < high, got low {s.low}, high {s.high}")
        check_keys_for(ParameterSpec(s.key, low=s.low, high=s.high), base)


def posterior_task(cfg: DictConfig, out: Path) -> None:
    """method=posterior: ABC-SMC into the run folder; with publish=true, the ensemble and its docs."""
    base = to_params(cfg)
    cal = to_calibration(cfg)
    post, sizes = to_posterior(cfg)
    if cfg.resume:
        print("resume=true: a posterior search is not resumable; starting a new one in this folder")
    for key, reason in dropped_by_scenario(cfg):
        print(f"note: calibration.parameters ({key}) is not fitted: {base.scenario.name} fixes it ({reason})")
    command = command_line(sys.argv[1:])
    backend = cfg.backend.value if hasattr(cfg.backend, "value") else str(cfg.backend)
    result = run_posterior(cal, post, sizes, base, out, backend, cfg.workers, cfg.address, cfg.progress,
                           run_path(cfg))
    record = write_posterior(result, cal, post, sizes, out, command)
    published = publish_posterior(record, out, result.scenario) if cfg.publish else []
    print(posterior_docs.console(record))
    print(f"outputs: {out}")
    if published:
        print("published (tracked files rewritten): " + ", ".join(str(p.relative_to(PROJECT_ROOT)) for p in published))
    else:
        print("not published: configs/calibration/ and docs/ are unchanged; add publish=true to write the posterior "
              "there")


def publish_posterior(record: dict, folder: Path, scenario: str) -> list[Path]:
    """Copy the ensemble into configs/calibration/ and its figures and record into docs/ (publish=true only)."""
    docs = PROJECT_ROOT / "docs"
    copies = [(folder / "posterior.csv", posterior_path(scenario)),
              (folder / "posterior.png", docs / "img" / f"calibration_{scenario}_posterior.png")]
    return _publish(copies, record, docs / "calibration" / f"{scenario}_posterior.json")


def check_fixed(cal: CalibrationParams, base: RunParams) -> None:
    """Fixed keys exist, are not also fitted, and are not set by the scenario's previous calibration file."""
    fitted = {p.key for p in cal.parameters}
    previous = previous_calibration(base.scenario.name) or {}
    for key, _ in cal.fixed:
        try:
            apply_overrides(to_dict(base), {key: value_of(base, key)})
        except (ParamError, KeyError, TypeError):
            raise ParamError(f"calibration.fixed ({key})", "no such config key") from None
        if key in fitted:
            raise ParamError(f"calibration.fixed ({key})", "is also among the fitted parameters; keep it in one list")
        node = previous
        for part in key.split(".")[1:]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if not isinstance(node, dict):
            raise ParamError(f"calibration.fixed ({key})", f"configs/calibration/{base.scenario.name}.yaml still sets it "
                             "from an earlier fit; delete that file (or the key) to fix it at the scenario's value")


def check_keys_for(p: ParameterSpec, base: RunParams) -> None:
    """A fitted key exists and both ends of its search range are values the key allows."""
    for value in (p.low, p.high):
        try:
            from_dict(RunParams, apply_overrides(to_dict(base), {p.key: value}))
        except ParamError as err:
            raise ParamError(f"calibration.parameters ({p.key})", err.message) from None


def facts_text(facts) -> str:
    """The facts table on the console: each number in its fact's unit (money in M or B yuan, never 1.38e+09)."""
    from sim.shell.show import amount
    from experiments.calibration.facts import FACTS

    units = {f.id: f.unit if f.unit.startswith(("yuan", "share")) else "" for f in FACTS}  # counts: bare numbers
    shown = facts[["fact", "target", "tolerance", "mean", "sd", "holds"]].copy()
    for column in ("target", "tolerance", "mean", "sd"):
        shown[column] = [amount(v, units.get(f, "")) if v == v else "-" for f, v in zip(shown["fact"], shown[column])]
    return shown.to_string(index=False)


def help_page() -> str:
    """`.venv/bin/drama calibrate --help`."""
    from sim.shell.help import Help, scenarios

    return Help(
        "calibrate",
        "Fit the model's behaviour (the producers' share of the market, the entry rate, and what a scenario's "
        "search space adds) to the facts the sources give for a scenario, then check the fit on fresh seeds. It "
        "writes a folder under results/calibration/; with publish=true it also rewrites the scenario's fitted "
        "values in configs/calibration/ and the tables of docs/calibration.md. method=posterior fits an ensemble "
        "of parameter sets (ABC-SMC) that every batch command can draw from.",
        options=[
            ("scenario=<name>", "the scenario whose facts are fitted (default xian_vs_zhengzhou; national fits the "
                                "industry)"),
            ("method=point|posterior", "one best fit (default) or a posterior ensemble"),
            ("calibration.budget=<runs>", "model runs for the whole search; 0 (default): rounds x candidates x "
                                          "replicates"),
            ("calibration.rounds=<n>", "search rounds (default 5)"),
            ("publish=true", "write the fit into configs/ and docs/ (tracked files)"),
            ("resume=true", "finish the newest unfinished calibration of this scenario"),
            ("workers=<n>", "parallel worker processes; 0 (default) uses every core"),
        ],
        lists=[("scenarios", scenarios)],
        examples=["scenario=national", "scenario=xian_vs_zhengzhou calibration.rounds=2",
                  "scenario=national method=posterior publish=true"],
        notes=["A point fit of national takes about 3 minutes on 2 cores; a posterior about 25. --hydra-help shows "
               "Hydra's own help."],
    ).text()


COMMAND = Command("calibrate", validate=validate, task=calibrate_task, register=register_calibrate_schemas,
                  help=help_page)


def main() -> None:
    """Entry point of `.venv/bin/drama calibrate`."""
    run_command(COMMAND)


if __name__ == "__main__":
    main()

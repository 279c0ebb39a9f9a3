"""The Hydra boundary: schemas in ConfigStore, composition, and the one conversion to params.

This is the only module of `sim` that imports Hydra/OmegaConf (besides the
`python -m sim` entry point). The ConfigStore schemas are derived from the
frozen dataclasses in `sim.params`, so a key exists in YAML exactly when it
exists in the model's params, with the same type; ranges are checked when
the composed config is converted, once, by `to_params`.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Dict, get_type_hints  # noqa: UP035  (OmegaConf needs typing.Dict)

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf, SCMode

from sim.params import CityParams, ParamError, RunParams, ScenarioParams, from_dict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = Path(os.environ.get("DRAMA_CONFIG_DIR", PROJECT_ROOT / "configs")).resolve()


def results_dir() -> str:
    """Where runs are written: $DRAMA_RESULTS_DIR, else <project>/results (never the cwd)."""
    return str(Path(os.environ.get("DRAMA_RESULTS_DIR", PROJECT_ROOT / "results")).resolve())


# --------------------------------------------------------------------------- schemas

_SCHEMAS: dict[type, type] = {}


def schema_of(cls: type) -> type:
    """A mutable OmegaConf schema dataclass with the fields, types and defaults of frozen `cls`.

    Nested params become nested schemas; `cities` (a tuple of CityParams)
    becomes a mapping from city id to a city schema without `id`.
    """
    if cls in _SCHEMAS:
        return _SCHEMAS[cls]
    hints = get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if cls is CityParams and f.name == "id":
            continue
        if getattr(hint, "__origin__", None) is tuple:
            specs.append((f.name, Dict[str, schema_of(hint.__args__[0])], dataclasses.field(default_factory=dict)))  # noqa: UP006
        elif dataclasses.is_dataclass(hint):
            specs.append((f.name, schema_of(hint), dataclasses.field(default_factory=schema_of(hint))))
        else:
            specs.append((f.name, hint, dataclasses.field(default=f.default)))
    schema = dataclasses.make_dataclass(cls.__name__.replace("Params", "Schema"), specs)
    schema.__doc__ = f"ConfigStore schema of {cls.__name__}."
    _SCHEMAS[cls] = schema
    return schema


def register_schemas() -> None:
    """Store the run schema and the scenario base schema in Hydra's ConfigStore."""
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=schema_of(RunParams))
    cs.store(group="scenario", name="base_scenario", node=schema_of(ScenarioParams))


def register_resolvers() -> None:
    """`${results_dir:}` in configs: the results folder (see `results_dir`)."""
    if not OmegaConf.has_resolver("results_dir"):
        OmegaConf.register_new_resolver("results_dir", results_dir)


# --------------------------------------------------------------------------- conversion


def to_params(cfg: DictConfig) -> RunParams:
    """Convert a composed config into validated RunParams, once (keys that are not run keys are ignored)."""
    data = OmegaConf.to_container(cfg, resolve=True, structured_config_mode=SCMode.DICT)
    run_keys = {f.name for f in dataclasses.fields(RunParams)}
    return from_dict(RunParams, {k: v for k, v in data.items() if k in run_keys})


def scenario_names() -> list[str]:
    """Every scenario file in configs/scenario/."""
    return sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


def compose_run(overrides: list[str] | None = None, config_name: str = "run") -> DictConfig:
    """Compose a primary config (default configs/run.yaml) with Hydra overrides (`scenario=...`, `steps=...`)."""
    register_schemas()
    register_resolvers()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR), job_name="drama_capital"):
        return compose(config_name=config_name, overrides=list(overrides or []))


def load_config(scenario: str = "xian_vs_zhengzhou", overrides: list[str] | None = None) -> RunParams:
    """Validated RunParams for `scenario` with Hydra-style `overrides` (e.g. ["seed=3"])."""
    return to_params(compose_run([f"scenario={scenario}", *(overrides or [])]))


# --------------------------------------------------------------------------- entry points

# Flags after which Hydra does not run the task: nothing to check up front.
NOT_A_RUN = {"-h", "--help", "--hydra-help", "-c", "--cfg", "-i", "--info", "-p", "--package", "-sc",
             "--shell-completion", "--version"}
MULTIRUN = {"-m", "--multirun"}
MAX_CHECKED_JOBS = 256


def quiet_library_logs() -> None:
    """Keep Mesa (a line per step at INFO), Dask's and Optuna's chatter off the console of the entry points."""
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)  # a line per trial at INFO


def fail(message: str) -> None:
    """Print a one-line error and exit with code 2 (bad input)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_overrides(argv: list[str], config_name: str, validate: Callable[[DictConfig], object]) -> None:
    """Compose `config_name` with the command line's overrides and validate it before Hydra makes a folder.

    With -m every job of the sweep is checked (up to MAX_CHECKED_JOBS; past
    that, each swept value once). Any composition or validation error exits 2
    with one line naming the key.
    """
    if NOT_A_RUN.intersection(argv):
        return
    overrides = [a for a in argv if not a.startswith("-") and not a.lstrip("+~").startswith("hydra")]
    jobs = _sweep_jobs(overrides) if MULTIRUN.intersection(argv) else [overrides]
    for job in jobs:
        try:
            validate(compose_run(job, config_name=config_name))
        except Exception as err:  # noqa: BLE001 - every composition/validation error becomes one line
            where = f" (in the job {' '.join(job)})" if len(jobs) > 1 else ""
            fail(describe_error(err) + where)


def _sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The override lists of a multirun's jobs (a, b = 1,2 -> four jobs)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as err:  # noqa: BLE001
        fail(describe_error(err))
    choices = []
    for o in parsed:
        if o.is_sweep_override():
            choices.append([f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    n_jobs = 1
    for c in choices:
        n_jobs *= len(c)
    if n_jobs <= MAX_CHECKED_JOBS:
        return [list(job) for job in itertools.product(*choices)]
    firsts = [c[0] for c in choices]  # too many to compose each: check every value once
    return [firsts[:i] + [v] + firsts[i + 1:] for i, c in enumerate(choices) for v in c]


# --------------------------------------------------------------------------- errors


def describe_error(exc: BaseException) -> str:
    """One line naming the key and what is allowed, from a Hydra/OmegaConf/params error."""
    if isinstance(exc, ParamError):
        return str(exc)
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for x in chain:
        text = getattr(x, "message", None) or str(x)
        if "Could not find" in text and "Available options" in text:
            return _missing_option(text)
    oc = next((x for x in chain if getattr(x, "full_key", None)), None)
    if oc is not None:
        key = oc.full_key
        first = _first_line(getattr(oc, "msg", None) or str(oc))
        if "not in struct" in first or "not in '" in first:
            return _unknown_key(key)
        return f"{key}: {first}"
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def _missing_option(text: str) -> str:
    """'scenario: no config named 'x'; available: a, b' from Hydra's MissingConfigException text."""
    lines = [ln.strip() for ln in text.splitlines()]
    head = lines[0]
    wanted = head.split("Could not find")[-1].strip(" '")
    group, _, name = wanted.partition("/")
    options = []
    if "Available options" in text:
        i = next(k for k, ln in enumerate(lines) if ln.startswith("Available options"))
        for ln in lines[i + 1:]:
            if not ln or ln.startswith("Config search path"):
                break
            if ln != "base_scenario":
                options.append(ln)
    return f"{group}: no config named {name!r}; available: {', '.join(options)}"


def _unknown_key(key: str) -> str:
    """Name the unknown key and list what is allowed at that level of the schema."""
    parts = key.split(".")
    cls: Any = RunParams
    i = 0
    while i < len(parts) - 1 and dataclasses.is_dataclass(cls):
        hint = get_type_hints(cls).get(parts[i])
        if hint is None:
            break
        if getattr(hint, "__origin__", None) is tuple:  # cities: the next part is a city id
            if i + 1 == len(parts) - 1:
                return (f"{key}: unknown city {parts[-1]!r}; use a city of the scenario, or add a city "
                        f"file from configs/city/ with +city@{key}=<file name>")
            cls, i = hint.__args__[0], i + 2
        else:
            cls, i = hint, i + 1
    allowed = sorted(f.name for f in dataclasses.fields(cls) if not (cls is CityParams and f.name == "id")) \
        if dataclasses.is_dataclass(cls) else []
    return f"{key}: unknown key; allowed here: {', '.join(allowed)}"

"""The Hydra boundary: schemas in ConfigStore, composition, and the one conversion to params.

With the command-line front door (`sim.shell.cli`) this is the only place that
imports Hydra/OmegaConf. The ConfigStore schemas are derived from the
frozen dataclasses in `sim.params`, so a key exists in YAML exactly when it
exists in the model's params, with the same type; ranges are checked when
the composed config is converted, once, by `to_params`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Dict, List, get_type_hints  # noqa: UP035  (OmegaConf needs typing.Dict, List)

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf, SCMode

from sim.params import CityParams, ParamError, RunParams, ScenarioParams, from_dict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
        if getattr(hint, "__origin__", None) is tuple and hint.__args__[0] is not CityParams:
            specs.append((f.name, List[schema_of(hint.__args__[0])], dataclasses.field(default_factory=list)))  # noqa: UP006
        elif getattr(hint, "__origin__", None) is tuple:
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


def compose_run(overrides: list[str] | None = None, config_name: str = "run", hydra_config: bool = False) -> DictConfig:
    """Compose a primary config (default configs/run.yaml) with Hydra overrides (`scenario=...`, `steps=...`);
    `hydra_config`: with Hydra's own node, to check `hydra.*` overrides."""
    register_schemas()
    register_resolvers()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR), job_name="drama_capital"):
        return compose(config_name=config_name, overrides=list(overrides or []), return_hydra_config=hydra_config)


def load_config(scenario: str = "xian_vs_zhengzhou", overrides: list[str] | None = None) -> RunParams:
    """Validated RunParams for `scenario` with Hydra-style `overrides` (e.g. ["seed=3"])."""
    return to_params(compose_run([f"scenario={scenario}", *(overrides or [])]))


# --------------------------------------------------------------------------- errors


# Run keys that hold a list of params (e.g. shocks=[{...}]), whose items' errors OmegaConf names without the list.
LIST_KEYS = {f.name for f in dataclasses.fields(RunParams)
             if getattr(get_type_hints(RunParams)[f.name], "__origin__", None) is tuple}


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
        if text.startswith("Error parsing override"):
            arg = text.split("'", 2)[1] if text.count("'") >= 2 else text
            return f"{arg!r}: not an override Hydra can read; write key=value (e.g. steps=24)"
        if text.startswith("Config group override must be a string"):
            return f"a config group (scenario, experiment, ...) takes a file name, not a number: {_first_line(text)}"
    oc = next((x for x in chain if getattr(x, "full_key", None)), None)
    if oc is not None:
        key = oc.full_key
        first = _first_line(getattr(oc, "msg", None) or str(oc))
        overridden = next((t.split("'")[1] if t.startswith("Could not") else t.split()[3].split("=")[0]
                           for t in map(str, chain) if t.startswith(("Could not override '", "Error merging override "))),
                          None)
        inside = getattr(oc, "object_type", None)
        if overridden and overridden.lstrip("+~") in LIST_KEYS and not key.startswith(overridden.lstrip("+~")):
            # A key inside a list item (shocks=[{...}]): OmegaConf names it without its list.
            key = f"{overridden}[].{key}"
            if dataclasses.is_dataclass(inside) and ("not in struct" in first or "not in '" in first):
                return f"{key}: " + unknown_key_message(key, sorted(f.name for f in dataclasses.fields(inside)))
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
    return f"{key}: {unknown_key_message(key)}"


def unknown_key_message(key: str, allowed: list[str] | None = None) -> str:
    """'unknown key; allowed here: ...' for `key` (what is allowed at its level of the run schema, or `allowed`)."""
    if allowed is not None:
        return f"unknown key; allowed here: {', '.join(allowed)}"
    parts = key.split(".")
    cls: Any = RunParams
    i = 0
    while i < len(parts) - 1 and dataclasses.is_dataclass(cls):
        hint = get_type_hints(cls).get(parts[i])
        if hint is None:
            break
        if getattr(hint, "__origin__", None) is tuple:  # cities: the next part is a city id
            if i + 1 == len(parts) - 1:
                return (f"unknown city {parts[-1]!r}; use a city of the scenario, or add a city "
                        f"file from configs/city/ with +city@{key}=<file name>")
            cls, i = hint.__args__[0], i + 2
        else:
            cls, i = hint, i + 1
    allowed = sorted(f.name for f in dataclasses.fields(cls) if not (cls is CityParams and f.name == "id")) \
        if dataclasses.is_dataclass(cls) else []
    return f"unknown key; allowed here: {', '.join(allowed)}"

"""The Hydra boundary: schemas in ConfigStore, composition, and the one conversion to params.

This is the only module of `sim` that imports Hydra/OmegaConf (besides the
`python -m sim` entry point). The ConfigStore schemas are derived from the
frozen dataclasses in `sim.params`, so a key exists in YAML exactly when it
exists in the model's params, with the same type; ranges are checked when
the composed config is converted, once, by `to_params`.
"""

from __future__ import annotations

import dataclasses
import enum
import os
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
    """Convert a composed config (without its `hydra` node) into validated RunParams, once."""
    data = OmegaConf.to_container(cfg, resolve=True, structured_config_mode=SCMode.DICT)
    data.pop("hydra", None)
    return from_dict(RunParams, data)


def scenario_names() -> list[str]:
    """Every scenario file in configs/scenario/."""
    return sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


def compose_run(overrides: list[str] | None = None) -> DictConfig:
    """Compose configs/run.yaml with Hydra overrides (`scenario=...`, `steps=...`, ...)."""
    register_schemas()
    register_resolvers()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR), job_name="drama_capital"):
        return compose(config_name="run", overrides=list(overrides or []))


def load_config(scenario: str = "xian_vs_zhengzhou", overrides: list[str] | None = None) -> RunParams:
    """Validated RunParams for `scenario` with Hydra-style `overrides` (e.g. ["seed=3"])."""
    return to_params(compose_run([f"scenario={scenario}", *(overrides or [])]))


# --------------------------------------------------------------------------- errors


def describe_error(exc: BaseException) -> str:
    """One line naming the key and what is allowed, from a Hydra/OmegaConf/params error."""
    if isinstance(exc, ParamError):
        return str(exc)
    chain = []
    e: BaseException | None = exc
    while e is not None:
        chain.append(e)
        e = e.__cause__ or e.__context__
    key = next((getattr(x, "full_key", None) for x in chain if getattr(x, "full_key", None)), None)
    for x in chain:
        msg = getattr(x, "msg", None) or str(x)
        if "Could not find" in msg and "Available options" in msg:
            lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
            group = lines[0].split("'")[-2] if "'" in lines[0] else lines[0]
            options = [ln for ln in lines[2:]]
            return f"{group.replace('/', '=', 1)}: no such config; available: {', '.join(options)}"
    deepest = chain[-1]
    text = (getattr(deepest, "msg", None) or str(deepest)).strip().splitlines()[0]
    top = str(exc).strip().splitlines()[0]
    if "not in struct" in text or "Could not override" in top:
        name = key or top.split("'")[1] if "'" in top else key
        return f"{name}: unknown key ({text}); check the spelling or the city id"
    if isinstance(deepest, (ValueError, enum.Enum.__class__)) and "Invalid value" in text:
        return f"{key}: {text}"
    return f"{key}: {text}" if key else (text if text == top else f"{top} ({text})")


def _value_error(key: str | None, msg: str) -> str:  # pragma: no cover - kept tiny on purpose
    return f"{key}: {msg}" if key else msg


def as_plain(cfg: Any) -> Any:
    """Plain containers from a DictConfig (for writing)."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)

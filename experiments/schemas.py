"""The schemas of the sweep and calibration commands (ConfigStore) and the sweep's one conversion.

configs/sweep.yaml composes a run config (scenario, steps, ...) with an
experiment bundle from configs/experiment/ and the evaluator settings;
configs/calibrate.yaml composes one with the calibration settings.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, List, Optional  # noqa: UP035  (OmegaConf needs typing generics)

from omegaconf import MISSING, DictConfig, OmegaConf, SCMode

from experiments.batch.design import DesignKind, ExperimentParams, ParameterSpec
from experiments.batch.evaluators import check_address
from sim.shell.cli import store_schema
from sim.shell.config import schema_of
from sim.params import ParamError, RunParams


class RunPath(enum.Enum):
    """How each run is computed (both give the same model: tests/test_ensemble.py checks they agree)."""

    fast = "fast"  # many runs advanced together as one array axis (sim.ensemble)
    reference = "reference"  # one Mesa model per run (sim.model.ContestModel)


class Backend(enum.Enum):
    """Where runs are evaluated."""

    local = "local"  # a process pool on this machine
    dask = "dask"  # Dask distributed: a LocalCluster, or the cluster at `address`


def schema_from(cls: type, name: str | None = None, exclude: tuple[str, ...] = (), rename: dict | None = None,
                extra: tuple = (), bases: tuple = ()) -> type:
    """A mutable OmegaConf schema with the fields, types and defaults of the frozen params dataclass `cls`.

    As `sim.shell.config.schema_of` does for the run's params: a schema never
    copies a field or a default by hand, so the params stay the one place
    that says what a key is. Tuples become lists (of nested schemas for
    dataclass items), `X | None` becomes Optional[X]; `exclude` leaves
    fields out, `rename` gives a field its config name, `extra` adds
    config-only fields (name, type, field()).
    """
    hints = typing.get_type_hints(cls)
    rename = rename or {}
    specs = [(rename.get(f.name, f.name), *_schema_field(hints[f.name], f))
             for f in dataclasses.fields(cls) if f.name not in exclude]
    schema = dataclasses.make_dataclass(name or cls.__name__.replace("Params", "Schema").replace("Spec", "Schema"),
                                        [*specs, *extra], bases=bases)
    schema.__doc__ = f"ConfigStore schema of {cls.__name__}."
    return schema


def _schema_field(hint, f: dataclasses.Field) -> tuple:
    default = MISSING if f.default is dataclasses.MISSING else f.default
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return Optional[inner], field(default=None if default is MISSING else default)  # noqa: UP045
    if hint is tuple or origin is tuple:
        item = args[0] if args else Any
        item = _item_schema(item) if dataclasses.is_dataclass(item) else item
        # dataclass items as schema instances: the schema's list holds schema nodes, not the params' own ones
        items = [] if default is MISSING else [_item_schema(type(x))(**dataclasses.asdict(x))
                                               if dataclasses.is_dataclass(x) else x for x in default]
        return List[item], field(default_factory=lambda items=items: list(items))  # noqa: UP006
    return hint, field(default=default)


@lru_cache(maxsize=None)
def _item_schema(cls: type) -> type:
    return schema_from(cls)


ParameterSchema = _item_schema(ParameterSpec)
# The experiment bundle (configs/experiment/): a sweep's posterior is a top-level key of configs/sweep.yaml.
ExperimentSchema = schema_from(ExperimentParams, exclude=("posterior",))


def default_of(cls: type, name: str) -> Any:
    """The default of field `name` of dataclass `cls`: schemas take their defaults from the params, never copy them."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def evaluator_fields() -> list[tuple]:
    """The evaluator settings every batch command takes (sweep, calibrate, optimize), as schema fields."""
    return [
        ("backend", Backend, field(default=Backend.local)),
        ("workers", int, field(default=0)),
        ("address", Optional[str], field(default=None)),  # noqa: UP045
        ("path", RunPath, field(default=RunPath.fast)),
        ("progress", bool, field(default=True)),
    ]


SweepSchema = dataclasses.make_dataclass(
    "SweepSchema",
    [
        ("experiment", ExperimentSchema, field(default_factory=ExperimentSchema)),
        ("posterior", str, field(default="")),  # a published posterior's name ("": the point fit)
        *evaluator_fields(),
        ("resume", bool, field(default=False)),
    ],
    bases=(schema_of(RunParams),),
)


def register_sweep_schemas() -> None:
    """Store the sweep schema and the experiment base schema in Hydra's ConfigStore."""
    store_schema("sweep_schema", SweepSchema)
    store_schema("base_experiment", ExperimentSchema, group="experiment", package="experiment")


@dataclass(frozen=True)
class SweepSettings:
    """How to evaluate: backend, workers, scheduler address, resume, progress bar."""

    backend: str = "local"
    workers: int = 0
    address: str | None = None
    resume: bool = False
    progress: bool = True
    path: str = "fast"  # fast: ensembles of runs (sim.ensemble); reference: one Mesa model per run

    def __post_init__(self) -> None:
        if self.path not in ("fast", "reference"):
            raise ParamError("path", f"{self.path!r} is not allowed; choose fast or reference")
        if self.address and self.backend != "dask":
            raise ParamError("address", "a scheduler address needs backend=dask")
        check_address(self.address)
        if self.address:  # a remote cluster's workers are its own machines, not this one's cores
            if not 0 <= self.workers <= MAX_REMOTE_WORKERS:
                raise ParamError("workers", f"{self.workers} is out of range; allowed [0, {MAX_REMOTE_WORKERS}]")
            return
        most = max_local_workers()
        if not 0 <= self.workers <= most:
            # Each worker is a process of its own here: thousands of them on a few cores only thrash (and may
            # exhaust memory or process limits) before the first run finishes.
            raise ParamError("workers", f"{self.workers} is out of range; allowed [0, {most}] on this machine "
                                        f"({WORKERS_PER_CORE} x its {most // WORKERS_PER_CORE} usable cores; "
                                        "0: all cores)")


# Local worker processes per usable core at most: runs are CPU-bound, so past one a core they only share it; four
# leaves room to oversubscribe on purpose (a test of the pool, a core count the affinity mask under-reports).
WORKERS_PER_CORE = 4
MAX_REMOTE_WORKERS = 4096


def max_local_workers() -> int:
    """The most worker processes a local pool or LocalCluster may start on this machine."""
    from experiments.batch.evaluators import default_workers  # the process pool's module: only when settings are checked

    return WORKERS_PER_CORE * default_workers()


def evaluator_settings(cfg: DictConfig) -> SweepSettings:
    """The validated evaluator settings of a composed batch-command config."""
    return SweepSettings(backend=cfg.backend.value if isinstance(cfg.backend, enum.Enum) else str(cfg.backend),
                         workers=cfg.workers, address=cfg.address, resume=cfg.get("resume", False),
                         progress=cfg.progress, path=run_path(cfg))


def run_path(cfg: DictConfig) -> str:
    """The composed config's `path` as a plain string."""
    path = cfg.get("path", "fast")
    return path.value if isinstance(path, enum.Enum) else str(path)


def to_experiment(cfg: DictConfig) -> tuple[ExperimentParams, SweepSettings]:
    """Validated experiment and settings from a composed sweep config."""
    exp = OmegaConf.to_container(cfg.experiment, resolve=True, structured_config_mode=SCMode.DICT)
    params = tuple(ParameterSpec(**{**p, "values": tuple(p["values"])}) for p in exp.pop("parameters"))
    exp["outcomes"] = tuple(exp["outcomes"])
    experiment = ExperimentParams(parameters=params, posterior=cfg.get("posterior") or "", **exp)
    return experiment, evaluator_settings(cfg)


# --------------------------------------------------------------------------- the calibration's schema


@dataclass
class SearchParameterSchema:
    key: str = MISSING
    low: float = MISSING
    high: float = MISSING
    log: bool = False  # search on a log scale: for a positive range spanning an order of magnitude or more


@dataclass
class FixedSchema:
    key: str = MISSING  # a scenario key the calibration leaves at the scenario's value
    reason: str = MISSING  # why it is not fitted (which fact would pin it, or which behaviour it must keep)


class Method(enum.Enum):
    """What a calibration makes."""

    point = "point"  # one best fit (Optuna TPE), written into configs/calibration/<scenario>.yaml
    posterior = "posterior"  # an ensemble of parameter sets compatible with the facts (pyabc ABC-SMC)


@lru_cache(maxsize=1)
def calibrate_schema() -> type:
    """The schema of `.venv/bin/drama calibrate`, built on first use.

    The calibration's defaults live in CalibrationParams, whose module brings
    Optuna and matplotlib, which a sweep does not need.
    """
    from experiments.calibration.posterior import PosteriorParams, StartingSize
    from experiments.calibration.search import CalibrationParams

    posterior = schema_from(PosteriorParams)
    # The search's settings from CalibrationParams; its parameters and fixed keys are given in the config's own
    # shape (a common list and a scenario's extra one, each fixed key with its reason).
    calibration = schema_from(CalibrationParams, exclude=("parameters", "fixed"), extra=(
        ("budget", int, field(default=0)),  # model runs the search may use in all; 0: rounds x candidates x replicates
        ("parameters", List[SearchParameterSchema], field(default_factory=list)),  # noqa: UP006
        ("extra_parameters", List[SearchParameterSchema], field(default_factory=list)),  # noqa: UP006  (per scenario)
        ("fixed", List[FixedSchema], field(default_factory=list)),  # noqa: UP006  (not fitted, with the reason)
        ("extra_fixed", List[FixedSchema], field(default_factory=list)),  # noqa: UP006  (per scenario)
        # per scenario: starting sizes the posterior covers (method=posterior)
        ("starting_sizes", List[_item_schema(StartingSize)], field(default_factory=list)),  # noqa: UP006
        ("posterior", posterior, field(default_factory=posterior)),
    ))
    return dataclasses.make_dataclass("CalibrateSchema", [
        ("calibration", calibration, field(default_factory=calibration)),
        ("method", Method, field(default=Method.point)),
        *evaluator_fields(),
        ("resume", bool, field(default=False)),
        ("publish", bool, field(default=False)),
    ], bases=(schema_of(RunParams),))


def register_calibrate_schemas() -> None:
    """Store the calibration command's schema in Hydra's ConfigStore."""
    store_schema("calibrate_schema", calibrate_schema())

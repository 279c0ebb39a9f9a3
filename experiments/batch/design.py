"""Experiment designs: which parameter values each run gets, and its seed.

A design is a table of points (one column per varied config key); each
point is run `replicates` times. Seeds come from one root
`numpy.random.SeedSequence`, so a sweep is reproducible as a whole and run
by run.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from experiments.batch.runs import REGISTRY
from sim.params import ParamError


class DesignKind(enum.Enum):
    """How points are chosen."""

    grid = "grid"  # full factorial over each parameter's `values`
    points = "points"  # explicit points: row i takes the i-th of every parameter's `values` (all the same length)
    lhs = "lhs"  # Latin hypercube over [low, high] (scipy.stats.qmc)
    sobol = "sobol"  # Saltelli's scheme for Sobol indices (SALib), base size `samples`
    morris = "morris"  # Morris elementary-effects trajectories (SALib), `samples` trajectories


OUTCOMES = tuple(REGISTRY)  # what a sweep may keep: the outcome registry (sim/outcomes.py) and the facts

# The most runs one sweep may have (points x replicates; the error message names it). The run table is built in
# memory before the first run and the merged tables after the last, so a size typed by mistake must be refused
# before either; a question that needs more runs is split into several sweeps.
MAX_RUNS = 1_000_000
SAMPLERS = ("lhs", "sobol", "morris")
# Samples when an experiment names none. Morris: 40 trajectories, because the study's ranking from 10 changed with
# which 10 were drawn (issue 22); the report's convergence check says when even 40 are too few.
DEFAULT_SAMPLES = {"morris": 40, "other": 16}


@dataclass(frozen=True)
class ParameterSpec:
    """One varied config key: grid `values`, or a range [low, high] for the samplers."""

    key: str
    values: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False  # the calibration searches [low, high] on a log scale (a positive range over decades)


@dataclass(frozen=True)
class ExperimentParams:
    """A validated experiment: parameters, design, replicates, outcomes (the base run is composed apart)."""

    name: str
    parameters: tuple[ParameterSpec, ...]
    description: str = ""
    design: DesignKind = DesignKind.grid
    samples: int | None = None  # None: the design's default (DEFAULT_SAMPLES)
    morris_levels: int = 4
    replicates: int = 10
    root_seed: int = 20240101
    common_random_numbers: bool = True
    outcomes: tuple[str, ...] = ("capital", "capital_step", "crossing_step", "share_lead", "final_share", "subsidy_total",
                                 "cost_per_job")
    keep_every: int = 1
    # A published posterior (experiments/calibration/posterior.py) each replicate draws its behavioural parameters and open
    # starting sizes from, by its seed ("": the point fit the scenario loads).
    posterior: str = ""

    def __post_init__(self) -> None:
        if self.posterior:
            from experiments.calibration.posterior import load_posterior

            load_posterior(self.posterior)  # one-line error naming the published ones
        if self.samples is None:
            object.__setattr__(self, "samples", DEFAULT_SAMPLES.get(self.design.value, DEFAULT_SAMPLES["other"]))
        checks = [
            ("experiment.replicates", 1 <= self.replicates <= 100_000, "must be in [1, 100000]"),
            ("experiment.samples", 1 <= self.samples <= 1_000_000, "must be in [1, 1000000]"),
            ("experiment.morris_levels", 2 <= self.morris_levels <= 100, "must be in [2, 100]"),
            ("experiment.keep_every", 0 <= self.keep_every <= 1200, "must be in [0, 1200]; 0 keeps no city rows"),
            ("experiment.root_seed", 0 <= self.root_seed < 2**63, "must be in [0, 2^63)"),
            ("experiment.parameters", len(self.parameters) > 0, "name at least one parameter to vary"),
        ]
        for key, ok, message in checks:
            if not ok:
                raise ParamError(key, message)
        unknown = sorted(set(self.outcomes) - set(OUTCOMES))
        if unknown:
            raise ParamError("experiment.outcomes", f"unknown outcome {unknown[0]!r}; allowed: {', '.join(OUTCOMES)}")
        keys = [p.key for p in self.parameters]
        if len(set(keys)) != len(keys):
            raise ParamError("experiment.parameters", f"a key is listed twice: {keys}")
        for i, p in enumerate(self.parameters):
            where = f"experiment.parameters[{i}] ({p.key})"
            if p.key == "seed":  # the run table's own `seed` column: each run's seed is spawned, never a design value
                raise ParamError(where, "a sweep cannot vary `seed`: each run's seed is spawned from "
                                        "experiment.root_seed; vary experiment.root_seed or experiment.replicates")
            if p.values and (p.low is not None or p.high is not None):
                raise ParamError(where, "give either `values` (grid, points) or `low` and `high` (lhs, sobol, "
                                        "morris), not both")
            if self.design in (DesignKind.grid, DesignKind.points) and not p.values:
                raise ParamError(where, f"a {self.design.value} design needs `values` for every parameter")
            if self.design is DesignKind.points and len(p.values) != len(self.parameters[0].values):
                raise ParamError(where, f"a points design needs as many values for every parameter "
                                        f"({len(self.parameters[0].values)} for {self.parameters[0].key}); got {len(p.values)}")
            if any(isinstance(v, float) and not np.isfinite(v) for v in (*p.values, p.low, p.high) if v is not None):
                raise ParamError(where, "NaN and infinite values are not allowed; give finite numbers")
            if self.design not in (DesignKind.grid, DesignKind.points):
                if p.low is None or p.high is None or not p.low < p.high:
                    raise ParamError(where, f"a {self.design.value} design needs low < high")
        n_runs = run_count(self)
        if n_runs > MAX_RUNS:
            if self.design.value in SAMPLERS:
                lower = "experiment.samples or experiment.replicates"
            else:
                lower = "the number of values in experiment.parameters, or experiment.replicates"
            raise ParamError("experiment", f"the design has {n_runs:,} runs ({_size_text(self)}); allowed at most "
                                           f"{MAX_RUNS:,} runs: lower {lower}")


def point_count(exp: ExperimentParams) -> int:
    """How many points the design has, counted without building it (design_points has exactly this many rows)."""
    k = len(exp.parameters)
    if exp.design is DesignKind.grid:
        return math.prod(len(p.values) for p in exp.parameters)
    if exp.design is DesignKind.points:
        return len(exp.parameters[0].values)
    if exp.design is DesignKind.sobol:
        return exp.samples * (2 * k + 2)  # Saltelli with second-order indices (`_unit_sample`)
    if exp.design is DesignKind.morris:
        return exp.samples * (k + 1)  # one trajectory visits k + 1 points
    return exp.samples


def run_count(exp: ExperimentParams) -> int:
    """How many runs the design has: points x replicates, without building either."""
    return point_count(exp) * exp.replicates


def _size_text(exp: ExperimentParams) -> str:
    k = len(exp.parameters)
    points = {
        "grid": " x ".join(str(len(p.values)) for p in exp.parameters) + " grid points",
        "points": f"{point_count(exp):,} points",
        "lhs": f"samples {exp.samples:,}",
        "sobol": f"samples {exp.samples:,} x (2k + 2 = {2 * k + 2}) points",
        "morris": f"samples {exp.samples:,} x (k + 1 = {k + 1}) points",
    }[exp.design.value]
    return f"{points} x replicates {exp.replicates:,}"


def design_points(exp: ExperimentParams) -> pd.DataFrame:
    """The design's points: `point_id` plus one column per parameter key."""
    keys = [p.key for p in exp.parameters]
    if exp.design is DesignKind.grid:
        rows = list(itertools.product(*(p.values for p in exp.parameters)))
    elif exp.design is DesignKind.points:
        rows = list(zip(*(p.values for p in exp.parameters)))
    else:
        unit = _unit_sample(exp)
        low = np.array([p.low for p in exp.parameters], dtype=float)
        high = np.array([p.high for p in exp.parameters], dtype=float)
        rows = low + unit * (high - low)
    points = pd.DataFrame(rows, columns=keys)
    points.insert(0, "point_id", np.arange(len(points)))
    return points


def _unit_sample(exp: ExperimentParams) -> np.ndarray:
    """Points in the unit cube, seeded from the root seed."""
    d = len(exp.parameters)
    seed = int(np.random.SeedSequence([exp.root_seed, 1]).generate_state(1)[0])
    if exp.design is DesignKind.lhs:
        return qmc.LatinHypercube(d=d, seed=seed).random(exp.samples)
    problem = {"num_vars": d, "names": [p.key for p in exp.parameters], "bounds": [[0.0, 1.0]] * d}
    if exp.design is DesignKind.sobol:
        from SALib.sample import sobol

        return sobol.sample(problem, exp.samples, calc_second_order=True, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, exp.samples, num_levels=exp.morris_levels, seed=seed)


def run_table(exp: ExperimentParams) -> pd.DataFrame:
    """Every run: `run_id, point_id, replicate, seed` (and `posterior_set`) and the point's parameter values.

    With common random numbers (the default), replicate r of every point
    uses the same seed, so differences between points are not seed noise.
    """
    points = design_points(exp)
    n_points, reps = len(points), exp.replicates
    root = np.random.SeedSequence(exp.root_seed)
    if exp.common_random_numbers:
        per_replicate = [_to_seed(s) for s in root.spawn(reps)]
        seeds = np.tile(per_replicate, n_points)
    else:
        seeds = np.array([_to_seed(s) for s in root.spawn(n_points * reps)])
    runs = points.loc[points.index.repeat(reps)].reset_index(drop=True)
    runs.insert(0, "run_id", np.arange(n_points * reps))
    runs.insert(2, "replicate", np.tile(np.arange(reps), n_points))
    runs.insert(3, "seed", seeds.astype(np.int64))
    if exp.posterior:  # the parameter set each run meets: a function of its seed alone, so pairing survives
        from experiments.calibration.posterior import load_posterior

        posterior = load_posterior(exp.posterior)
        sets = {int(s): posterior.index_for(int(s)) for s in np.unique(seeds)}
        runs.insert(4, "posterior_set", runs.seed.map(sets).astype(np.int64))
    return runs


def _to_seed(seq: np.random.SeedSequence) -> int:
    """A non-negative 63-bit integer seed from a spawned SeedSequence."""
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def fingerprint(exp: ExperimentParams, base: dict, path: str = "fast") -> str:
    """Hash of everything that decides a sweep's results, and nothing else.

    Resuming is refused when it differs: other settings, another base
    scenario, other model code, or the other path (fast or reference: the
    same model, other numbers). The experiment's name and description and
    the base's own seed (runs get spawned seeds) do not count.
    """
    experiment = {k: v for k, v in _plain(exp).items() if k not in ("name", "description")}
    base = {k: v for k, v in base.items() if k != "seed"}
    payload = {"experiment": experiment, "base": base, "code": code_fingerprint(), "path": path}
    if exp.posterior:  # the ensemble itself, not only its name: a republished posterior is another sweep
        from experiments.calibration.posterior import load_posterior

        payload["posterior"] = load_posterior(exp.posterior).fingerprint()
    payload = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# The experiment modules a run's numbers depend on (its seeds, points, evaluation and facts); the commands, the
# report and the other analyses do not change a run, so editing them leaves a sweep resumable.
RESULT_MODULES = ("batch/design.py", "batch/runs.py", "calibration/facts.py", "calibration/posterior.py")


def code_fingerprint(*extra: str) -> str:
    """Hash of the model's source and of the experiment modules results depend on (plus `extra` ones)."""
    root = Path(__file__).resolve().parents[2]
    paths = [*root.joinpath("sim").glob("*.py"), *(root / "experiments" / name for name in (*RESULT_MODULES, *extra))]
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _plain(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.value
    if hasattr(obj, "__dataclass_fields__"):
        return {k: _plain(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


__all__ = ["DesignKind", "ExperimentParams", "MAX_RUNS", "OUTCOMES", "ParameterSpec", "code_fingerprint",
           "design_points", "fingerprint", "point_count", "run_count", "run_table"]

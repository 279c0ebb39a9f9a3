"""Shared builders: small scenarios made in Python, without Hydra or config files."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from sim import ContestModel, RunParams
from sim.params import from_dict

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Every figure a test makes, in this process or in a command it starts, is checked for text off its canvas
# (sim/shell/atomic.py save_figure): the figure-text check runs on every figure the commands write.
os.environ["DRAMA_CHECK_FIGURES"] = "1"

BASE_CITY = {
    "lon": 110.0, "lat": 32.0, "firms": 60, "wage": 9000.0, "rent": 60_000.0,
    "studio_capacity": 90.0, "talent": 2400.0, "culture": 0.5, "ecommerce": 0.5, "approval": 0.5,
    "policy": {"reward_rate": 0.1, "reward_cap": 3.0e6, "annual_budget": 50.0e6},
}


def deep_update(base: dict, extra: dict) -> dict:
    """Copy of `base` with nested keys of `extra` replaced."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = deep_update(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def make_params(cities: dict[str, dict] | None = None, steps: int = 24, seed: int = 1,
                **scenario: dict) -> RunParams:
    """Two identical cities `east` and `west` in a closed contest (coverage sized to keep them viable), with overrides.

    cities: per-city overrides merged into BASE_CITY; scenario: group overrides,
    e.g. behaviour={"agglomeration": 0.5}.
    """
    cities = cities if cities is not None else {"east": {}, "west": {}}
    data = {
        "name": "test",
        "cities": {cid: deep_update(BASE_CITY, extra) for cid, extra in cities.items()},
        "market": {"coverage": 0.1 * len(cities) / 2},
    }
    data = deep_update(data, scenario)
    return from_dict(RunParams, {"scenario": data, "steps": steps, "seed": seed})


def run(params: RunParams) -> ContestModel:
    """A model run for all its steps."""
    return ContestModel(params).run()


@pytest.fixture
def two_cities() -> RunParams:
    return make_params()


def shares_by_seed(cities: dict, seeds, steps: int = 36, **scenario) -> np.ndarray:
    """Final (last 12 months) share of `east` for each seed."""
    return np.array([run(make_params(cities, steps=steps, seed=s, **scenario)).summary()["final_share"]["east"]
                     for s in seeds])


@contextmanager
def lock_held_elsewhere(folder: Path, claim_as: str | None = None):
    """Another process holding `folder`'s lock (first claiming the folder for command `claim_as`, if given) until the
    block ends or the test kills it; yields that process. Waits for its 'held' line, never for a time."""
    claim = f"from sim.shell.folders import claim; claim({str(folder)!r}, {claim_as!r})\n" if claim_as else ""
    holder = subprocess.Popen([sys.executable, "-c", (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{claim}"
        "from sim.shell.folders import FolderLock\n"
        f"lock = FolderLock({str(folder)!r}).__enter__(); print('held', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        if holder.poll() is None:
            holder.communicate("")
        else:
            holder.wait()

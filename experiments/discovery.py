"""Scenario discovery: the ranges of the levers within which a city becomes the capital (PRIM, EMA Workbench).

PRIM (Friedman & Fisher 1999) peels the space of varied levers down to a
box where the share of runs in which the city ends as capital (the box's
density) is high, while keeping as many of all such runs as it can (its
coverage). Each run of the sweep is one case: its lever values and whether
the city became the capital. Of the boxes on the peeling trajectory, the
report shows the one of highest coverage among those at least `DENSITY`
dense (or the densest when none is), and the whole trajectory as a figure.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

DENSITY = 0.8


@dataclass
class Box:
    """A PRIM box: the restricted levers' ranges and how well it captures the city's wins."""

    city: str
    limits: dict[str, tuple[float, float]]  # only the levers the box restricts
    coverage: float  # share of all the runs the city wins that fall in the box
    density: float  # share of the box's runs the city wins
    mass: float  # share of all runs in the box
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step
    chosen: int  # the row of `trajectory` the box is


def _prim():
    with warnings.catch_warnings():  # the workbench warns about optional parallel back ends it does not need here
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def find_box(x: pd.DataFrame, y: np.ndarray, city: str, density: float = DENSITY) -> Box | None:
    """PRIM on cases `x` (one column per lever) with outcome `y` (True where the city is the capital).

    None when the city wins in no case or in every case (there is nothing to discover).
    """
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return None
    x = x.astype(float).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = _prim().Prim(x, y, peel_alpha=0.1, mass_min=0.05).find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    dense = trajectory[trajectory.density >= density]
    chosen = int(dense.coverage.idxmax()) if len(dense) else int(trajectory.density.idxmax())
    lims = box.box_lims[chosen]
    full = box.box_lims[0]
    limits = {k: (float(lims[k].iloc[0]), float(lims[k].iloc[1])) for k in x.columns
              if not (np.isclose(lims[k].iloc[0], full[k].iloc[0]) and np.isclose(lims[k].iloc[1], full[k].iloc[1]))}
    row = trajectory.loc[chosen]
    return Box(city, limits, float(row.coverage), float(row.density), float(row.mass), trajectory, chosen)


def sweep_boxes(runs: pd.DataFrame, keys: list[str], cities: list[str], density: float = DENSITY) -> dict[str, Box | None]:
    """A box per city from a sweep's ok runs."""
    ok = runs[runs.status == "ok"]
    return {city: find_box(ok[keys], (ok.capital == city).to_numpy(), city, density) for city in cities}

"""Scenario discovery: the ranges of the levers within which a city becomes the capital (PRIM, EMA Workbench).

PRIM (Friedman & Fisher 1999) peels the space of varied levers down to a
box where the share of runs in which the city ends as capital (the box's
density) is high, while keeping as many of all such runs as it can (its
coverage). Each run of the sweep is one case: its lever values and whether
the city became the capital. Of the boxes on the peeling trajectory, the
report shows the one of highest coverage among those at least `DENSITY`
dense (or the densest when none is), and the whole trajectory as a figure.

Each restriction of the box comes with the workbench's statistics, so a
trivial one can be told from a real one: its quasi-p-value (the chance of
the box's density without that restriction, a one-sided binomial test:
Bryant & Lempert 2010; small means the restriction matters) and its
reproducibility (the share of PRIM runs on random halves of the cases,
the box chosen by the same rule, that restrict the same lever). Beside them, each lever's
feature score (extra-trees importance, `feature_scoring`) says how much it
explains the outcome over all cases, boxed or not.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

DENSITY = 0.8
RESAMPLE_SEED = 0  # the resampling and the feature scores are statistics of the cases, fixed for reproducibility
RESAMPLES = 10  # PRIM runs on random halves of the cases, for each restriction's reproducibility


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
    qp: dict[str, float] = dataclasses.field(default_factory=dict)  # per restricted lever: its quasi-p-value
    reproducibility: dict[str, float] = dataclasses.field(default_factory=dict)  # per restricted lever, in [0, 1]
    scores: dict[str, float] = dataclasses.field(default_factory=dict)  # per lever: feature score over all cases


def _prim():
    with warnings.catch_warnings():  # the workbench warns about optional parallel back ends it does not need here
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def _peel(x: pd.DataFrame, y: np.ndarray, density: float):
    """PRIM's trajectory and the chosen box on it: (the PrimBox, its row, the restricted levers' limits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = _prim().Prim(x, y, peel_alpha=0.1, mass_min=0.05).find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    dense = trajectory[trajectory.density >= density]
    chosen = int(dense.coverage.idxmax()) if len(dense) else int(trajectory.density.idxmax())
    lims, full = box.box_lims[chosen], box.box_lims[0]
    limits = {k: (float(lims[k].iloc[0]), float(lims[k].iloc[1])) for k in x.columns
              if not (np.isclose(lims[k].iloc[0], full[k].iloc[0]) and np.isclose(lims[k].iloc[1], full[k].iloc[1]))}
    return box, trajectory, chosen, limits


def find_box(x: pd.DataFrame, y: np.ndarray, city: str, density: float = DENSITY, resamples: int = RESAMPLES) -> Box | None:
    """PRIM on cases `x` (one column per lever) with outcome `y` (True where the city is the capital).

    None when the city wins in no case or in every case (there is nothing to discover).
    """
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return None
    x = x.astype(float).reset_index(drop=True)
    box, trajectory, chosen, limits = _peel(x, y, density)
    row = trajectory.loc[chosen]
    qp, reproducibility = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if limits:
            _, table = box.inspect(chosen, style="data")[0]
            for k in limits:  # the smaller of its two sides' values: the restriction's own test
                values = pd.to_numeric(table.loc[k].iloc[2:], errors="coerce").dropna()
                qp[k] = float(values.min()) if len(values) else float("nan")
        # Reproducibility: PRIM again on random halves of the cases, the box chosen by the same rule.
        rng = np.random.default_rng(RESAMPLE_SEED)
        counts = dict.fromkeys(limits, 0)
        done = 0
        for _ in range(resamples):
            half = rng.random(len(y)) < 0.5
            if y[half].all() or not y[half].any():
                continue
            _, _, _, again = _peel(x[half].reset_index(drop=True), y[half], density)
            done += 1
            for k in limits:
                counts[k] += k in again
        reproducibility = {k: counts[k] / done if done else float("nan") for k in limits}
        from ema_workbench.analysis import feature_scoring

        ranked = feature_scoring.get_ex_feature_scores(
            x, y.astype(int), mode=feature_scoring.RuleInductionType.CLASSIFICATION, random_state=RESAMPLE_SEED)[0]
        scores = {k: float(ranked.loc[k].iloc[0]) for k in x.columns}
    return Box(city, limits, float(row.coverage), float(row.density), float(row.mass), trajectory, chosen, qp,
               reproducibility, scores)


def sweep_boxes(runs: pd.DataFrame, keys: list[str], cities: list[str], density: float = DENSITY) -> dict[str, Box | None]:
    """A box per city from a sweep's ok runs."""
    ok = runs[runs.status == "ok"]
    return {city: find_box(ok[keys], (ok.capital == city).to_numpy(), city, density) for city in cities}

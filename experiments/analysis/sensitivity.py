"""Which levers matter: Sobol indices or Morris elementary effects of a sweep's outcomes, with SALib.

A `sobol` design (Saltelli's scheme, `experiments.batch.design`) gives first-order,
total and second-order Sobol indices; a `morris` design gives mu* (the mean
absolute elementary effect) and sigma. Each outcome is averaged over a
point's replicates first, so the indices describe the levers, not seed
noise; the confidence intervals are SALib's bootstrap (95 %).

Every index is checked before anyone reads it (`warning`, empty when none
applies): it is recomputed on the first half of the design (whole Saltelli
blocks or whole trajectories) and flagged when the two differ by more than
twice its interval; flagged when its interval is wider than 1 or lies wholly
below 0; and when every first-order interval of an outcome covers 0, every
row of that outcome says the indices carry no information. An outcome that
is the same at every point says so instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.batch.design import DesignKind, ExperimentParams

CONFIDENCE = 0.95


def _problem(exp: ExperimentParams) -> dict:
    return {"num_vars": len(exp.parameters), "names": [p.key for p in exp.parameters],
            "bounds": [[p.low, p.high] for p in exp.parameters]}


# The bootstrap's seed for the confidence intervals. Never 0: SALib's sobol.analyze seeds only `if seed:`, so 0
# left its intervals (and the convergence warnings read from them) to NumPy's global state, different each run.
BOOTSTRAP_SEED = 20240101


def indices(exp: ExperimentParams, points: pd.DataFrame, y: np.ndarray, seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """One row per varied key: Sobol S1, S1_conf, ST, ST_conf, or Morris mu_star, mu_star_conf, sigma.

    `points` is the design's table (`design_points`, in its order) and `y`
    the outcome at each point. Raises ValueError for a design SALib cannot
    analyse (grid, lhs, points) or an outcome with missing values.
    """
    if not seed:
        raise ValueError("seed: 0 is not allowed (SALib would leave the intervals unseeded); give a positive seed")
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("the outcome is missing or infinite at some design points; sensitivity needs a number at each")
    keys = [p.key for p in exp.parameters]
    table = _raw(exp, points, y, seed)
    if np.ptp(y) == 0:  # nothing to attribute: every index is 0, exactly, and no sample size changes that
        table["warning"] = "the outcome is the same at every design point: no lever moves it"
        return table
    half = _raw(exp, *_first_half(exp, points, y), seed)
    table["warning"] = _warnings(exp, table, half)
    return table


def _raw(exp: ExperimentParams, points: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    keys = [p.key for p in exp.parameters]
    if exp.design is DesignKind.sobol:
        from SALib.analyze import sobol

        s = sobol.analyze(_problem(exp), y, calc_second_order=True, conf_level=CONFIDENCE, seed=seed)
        table = pd.DataFrame({"key": keys, "S1": s["S1"], "S1_conf": s["S1_conf"], "ST": s["ST"],
                              "ST_conf": s["ST_conf"]})
        # Each key's largest second-order index with another key (SALib fills the upper triangle): how much of
        # the outcome's variance the pair explains beyond their first-order effects.
        s2 = np.where(np.isfinite(s["S2"]), s["S2"], 0.0)
        s2 = s2 + s2.T
        s2_conf = np.nan_to_num(s["S2_conf"]) + np.nan_to_num(s["S2_conf"]).T
        partner = np.argmax(np.abs(s2), axis=1)
        rows = np.arange(len(keys))
        table["S2_max"], table["S2_max_conf"] = s2[rows, partner], s2_conf[rows, partner]
        table["S2_with"] = [keys[j] if len(keys) > 1 else "" for j in partner]
        return table
    if exp.design is DesignKind.morris:
        from SALib.analyze import morris

        x = points[keys].to_numpy(dtype=float)
        s = morris.analyze(_problem(exp), x, y, num_levels=exp.morris_levels, conf_level=CONFIDENCE, seed=seed)
        return pd.DataFrame({"key": keys, "mu_star": s["mu_star"], "mu_star_conf": s["mu_star_conf"],
                             "sigma": s["sigma"]})
    raise ValueError(f"sensitivity needs a sobol or morris design, not {exp.design.value}")


def _first_half(exp: ExperimentParams, points: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The design's first half, cut at whole Saltelli blocks (2k + 2 points) or whole trajectories (k + 1)."""
    k = len(exp.parameters)
    block = 2 * k + 2 if exp.design is DesignKind.sobol else k + 1
    rows = max(len(y) // block // 2, 2) * block
    return points.iloc[:rows], y[:rows]


def _warnings(exp: ExperimentParams, full: pd.DataFrame, half: pd.DataFrame) -> list[str]:
    columns = ("S1", "ST") if exp.design is DesignKind.sobol else ("mu_star",)
    notes: list[list[str]] = [[] for _ in range(len(full))]
    for name in columns:
        value, conf, again = full[name].to_numpy(), full[f"{name}_conf"].to_numpy(), half[name].to_numpy()
        for i in range(len(full)):
            if np.abs(value[i] - again[i]) > 2 * conf[i]:
                notes[i].append(f"{name} {value[i]:.2f} on the whole design, {again[i]:.2f} on its first half")
            if exp.design is DesignKind.sobol and 2 * conf[i] > 1:
                notes[i].append(f"{name} interval wider than 1 (+- {conf[i]:.2f})")
            if value[i] + conf[i] < 0:
                notes[i].append(f"{name} negative beyond its interval ({value[i]:.2f} +- {conf[i]:.2f})")
    first = "S1" if exp.design is DesignKind.sobol else "mu_star"
    if ((full[first] - full[f"{first}_conf"]) <= 0).all():
        for note in notes:
            note.append(f"every {first} interval covers 0: the indices carry no information")
    return ["; ".join(note) + ("; more samples needed" if note else "") for note in notes]


def sweep_indices(exp: ExperimentParams, runs: pd.DataFrame, points: pd.DataFrame, cities: list[str]) -> pd.DataFrame:
    """Indices of each city's final share and chance of becoming the capital (point means over ok runs)."""
    ok = runs[runs.status == "ok"]
    frames = []
    for city in cities:
        outcomes = {f"P(capital = {city})": (ok.capital == city).astype(float)}
        if f"final_share.{city}" in ok:
            outcomes[f"final share of {city}"] = ok[f"final_share.{city}"]
        for name, values in outcomes.items():
            y = values.groupby(ok.point_id).mean().reindex(points.point_id).to_numpy()
            frames.append(indices(exp, points, y).assign(outcome=name, city=city))
    return pd.concat(frames, ignore_index=True)

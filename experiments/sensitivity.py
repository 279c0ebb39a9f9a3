"""Which levers matter: Sobol indices or Morris elementary effects of a sweep's outcomes, with SALib.

A `sobol` design (Saltelli's scheme, `experiments.design`) gives first-order
and total Sobol indices; a `morris` design gives mu* (the mean absolute
elementary effect) and sigma. Each outcome is averaged over a point's
replicates first, so the indices describe the levers, not seed noise; the
confidence intervals are SALib's bootstrap (95 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.design import DesignKind, ExperimentParams

CONFIDENCE = 0.95


def _problem(exp: ExperimentParams) -> dict:
    return {"num_vars": len(exp.parameters), "names": [p.key for p in exp.parameters],
            "bounds": [[p.low, p.high] for p in exp.parameters]}


def indices(exp: ExperimentParams, points: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """One row per varied key: Sobol S1, S1_conf, ST, ST_conf, or Morris mu_star, mu_star_conf, sigma.

    `points` is the design's table (`design_points`, in its order) and `y`
    the outcome at each point. Raises ValueError for a design SALib cannot
    analyse (grid, lhs, points) or an outcome with missing values.
    """
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("the outcome is missing or infinite at some design points; sensitivity needs a number at each")
    keys = [p.key for p in exp.parameters]
    if exp.design is DesignKind.sobol:
        from SALib.analyze import sobol

        s = sobol.analyze(_problem(exp), y, calc_second_order=False, conf_level=CONFIDENCE, seed=seed)
        return pd.DataFrame({"key": keys, "S1": s["S1"], "S1_conf": s["S1_conf"], "ST": s["ST"],
                             "ST_conf": s["ST_conf"]})
    if exp.design is DesignKind.morris:
        from SALib.analyze import morris

        x = points[keys].to_numpy(dtype=float)
        s = morris.analyze(_problem(exp), x, y, num_levels=exp.morris_levels, conf_level=CONFIDENCE, seed=seed)
        return pd.DataFrame({"key": keys, "mu_star": s["mu_star"], "mu_star_conf": s["mu_star_conf"],
                             "sigma": s["sigma"]})
    raise ValueError(f"sensitivity needs a sobol or morris design, not {exp.design.value}")


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

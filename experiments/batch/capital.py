"""P(capital = city) per design point, with its Wilson interval: computed once, by the sweep engine.

The engine writes it as capital_probability.csv beside runs.parquet; the
sweep command prints it and the report reads it from the runs again only
for sweeps written before this table existed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.analysis.intervals import wilson


def capital_probability(runs: pd.DataFrame, keys: list[str], cities: list[str]) -> pd.DataFrame:
    """Per design point: its parameter values, runs ok/failed, and P(capital = city) (and P(none)) over ok runs,
    each chance followed at the end of the table by its 95 % Wilson interval (`experiments.analysis.intervals`)."""
    ok = runs[runs.status == "ok"]
    capital = ok["capital"].fillna("none") if "capital" in ok else pd.Series("none", index=ok.index)
    counts = pd.crosstab(ok.point_id, capital)
    columns = [*cities, "none"]
    counts = counts.reindex(columns=columns, fill_value=0)
    probs = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).add_prefix("P(capital=").rename(
        columns=lambda c: c + ")")
    points = runs.groupby("point_id")[keys].first()
    status = runs.groupby("point_id").status.value_counts().unstack(fill_value=0).reindex(
        columns=["ok", "failed"], fill_value=0).add_prefix("runs_")
    n = counts.sum(axis=1)
    bounds = {}
    for city in columns:
        ci = [wilson(int(k), int(m)) for k, m in zip(counts[city], n)]
        bounds[f"P(capital={city}) low"] = [lo for lo, _ in ci]
        bounds[f"P(capital={city}) high"] = [hi for _, hi in ci]
    intervals = pd.DataFrame(bounds, index=counts.index)
    return points.join(status).join(probs).join(intervals).reset_index()


FILE = "capital_probability.csv"


def written_or_computed(folder, runs: pd.DataFrame, keys: list[str], cities: list[str]) -> pd.DataFrame:
    """The engine's capital_probability.csv of a sweep folder when it is whole (every point of `runs`, every
    city's interval); else the table computed from the runs (a sweep written before the table had intervals)."""
    from pathlib import Path

    path = Path(folder) / FILE
    if path.is_file():
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError):
            table = None
        wanted = {"point_id", *keys, *(f"P(capital={c}) low" for c in [*cities, "none"])}
        if table is not None and wanted <= set(table.columns) and \
                sorted(table.point_id) == sorted(runs.point_id.unique()):
            return table
    return capital_probability(runs, keys, cities)

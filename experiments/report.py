"""Summaries of a sweep: the chance each city ends as capital, per design point, as a table and a figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def capital_probability(runs: pd.DataFrame, keys: list[str], cities: list[str]) -> pd.DataFrame:
    """Per design point: its parameter values, runs ok/failed, and P(capital = city) (and P(none)) over ok runs."""
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
    return points.join(status).join(probs).reset_index()


def plot_capital_probability(table: pd.DataFrame, keys: list[str], cities: list[str], path: Path) -> Path | None:
    """Heat maps (two varied keys) or lines (one key) of P(capital = city); scatter for larger designs."""
    if not len(table):
        return None
    short = [k.split(".", 2)[-1] if k.startswith("scenario.cities.") else k for k in keys]
    fig, axes = plt.subplots(1, len(cities), figsize=(4.2 * len(cities), 3.8), dpi=110, squeeze=False)
    for ax, city in zip(axes[0], cities):
        p = table[f"P(capital={city})"]
        if len(keys) == 2 and table[keys[0]].nunique() * table[keys[1]].nunique() == len(table):
            grid = table.pivot(index=keys[1], columns=keys[0], values=f"P(capital={city})")
            im = ax.imshow(grid.to_numpy(dtype=float), origin="lower", vmin=0, vmax=1, cmap="viridis", aspect="auto")
            ax.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index])
            ax.set_xlabel(short[0], fontsize=8)
            ax.set_ylabel(short[1], fontsize=8)
            fig.colorbar(im, ax=ax, fraction=0.046)
        elif len(keys) >= 1:
            order = np.argsort(table[keys[0]].to_numpy())
            style = "-o" if len(keys) == 1 else "o"
            ax.plot(table[keys[0]].to_numpy()[order], p.to_numpy()[order], style, ms=3)
            ax.set_xlabel(short[0], fontsize=8)
            ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"P(capital = {city})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path

"""The report's figures (PNG): city names, labelled axes, the capital threshold and dates marked."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.analysis.tables import Sweep, fmt_value, outcome_bands  # noqa: E402

PALETTE = plt.get_cmap("tab10").colors
OUTCOME_LABELS = {
    "final_share": "share of national output, last 12 months",
    "subsidy_total": "rewards paid over the run, M¥",
    "cost_per_job": "outlay per job at the end, ¥",
    "outlay_total": "outlay over the run, M¥",
    "final_firms": "companies at the end",
    "final_employment": "jobs, last 12 months",
    "added_jobs": "jobs added by the city's policy",
    "marginal_cost_per_job": "outlay per added job, ¥",
}
MILLIONS = {"subsidy_total", "outlay_total"}


def _colour(sweep: Sweep, place: str):
    order = list(sweep.names)
    return "0.6" if place == "rest" else PALETTE[order.index(place) % len(PALETTE)]


def _save(fig, path: Path) -> Path:
    """Lay out, write atomically (a full disk leaves no half a PNG under its name) and free the figure."""
    from sim.shell.atomic import save_figure

    try:
        fig.tight_layout()
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)  # also on failure: pyplot keeps every open figure alive
    return path


TITLE_WIDTH = 70  # characters per line of a figure title before it wraps (a long one was cut off at the edge)


def lever_axis(values) -> tuple[list, list[str] | None]:
    """Where a lever's values go on an x axis: the numbers themselves, or, for a categorical lever (a rival's
    strategy kind), positions 0, 1, ... in sorted order with the categories as tick labels."""
    values = pd.Series(list(values))
    if pd.api.types.is_numeric_dtype(values):
        return sorted(values.unique()), None
    levels = sorted(values.unique(), key=str)
    return levels, [fmt_value(v) for v in levels]


def _x(values, levels: list, labels: list[str] | None) -> np.ndarray:
    return (np.array([levels.index(v) for v in values], dtype=float) if labels is not None
            else np.asarray(values, dtype=float))


def outcome_figure(sweep: Sweep, outcome: str, path: Path) -> Path | None:
    """The outcome against each varied key: median and 90 % band over runs (other keys pooled), a line per city."""
    panels = [(key, outcome_bands(sweep, outcome, key)) for key in sweep.keys]
    panels = [(k, b) for k, b in panels if len(b)]
    if not panels:
        return None
    scale = 1e6 if outcome in MILLIONS else 1.0
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    for ax, (key, bands) in zip(axes[0], panels):
        levels, ticks = lever_axis(bands.value)
        for place, b in bands.groupby("city", sort=False):
            b = b.sort_values("value", key=lambda v: v.astype(str) if ticks else v)
            x = _x(b.value, levels, ticks)
            ax.plot(x, b["median"] / scale, "-o", ms=3, color=_colour(sweep, place), label=sweep.names[place])
            ax.fill_between(x, b.low / scale, b.high / scale, color=_colour(sweep, place), alpha=0.18, lw=0)
        if ticks:
            ax.set_xticks(range(len(levels)), ticks)
        if outcome == "final_share":
            ax.axhline(sweep.threshold, color="k", ls="--", lw=0.8)
            ax.annotate(f"capital threshold {sweep.threshold:.0%}", (0.01, sweep.threshold), xycoords=("axes fraction", "data"),
                        fontsize=8, va="bottom")
        ax.set_xlabel(sweep.label(key))
        ax.set_ylabel(OUTCOME_LABELS.get(outcome, outcome))
        if len(sweep.keys) > 1:
            ax.set_title("median, 90 % band; other levers pooled", fontsize=8)
    axes[0][0].legend(fontsize=8, frameon=False)
    return _save(fig, path)


def grid_heatmap(sweep: Sweep, cells: pd.DataFrame, value: str, counts: str, title: str, path: Path,
                 vmax: float | None = None, fmt: str = "{:.0%}", skip_empty: bool = False) -> Path | None:
    """A two-lever grid, one panel per city: `value` in colour and in figures, runs per cell below. With
    skip_empty, a city with no value anywhere (it never wins, so it has no months to capital) gets no panel; None
    when no city has one."""
    x, y = sweep.keys
    cities = [c for c in sweep.cities if not skip_empty or cells.loc[cells.city == c, value].notna().any()]
    if not cities:
        return None
    fig, axes = plt.subplots(1, len(cities), figsize=(4.6 * len(cities), 4.0), squeeze=False)
    for ax, city in zip(axes[0], cities):
        mine = cells[cells.city == city]
        grid = mine.pivot(index=y, columns=x, values=value).sort_index().sort_index(axis=1)
        n = mine.pivot(index=y, columns=x, values=counts).reindex_like(grid)
        im = ax.imshow(grid.to_numpy(dtype=float), origin="lower", cmap="viridis", vmin=0, vmax=vmax, aspect="auto")
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                v = grid.iat[i, j]
                text = "–" if pd.isna(v) else fmt.format(v)
                ax.text(j, i, f"{text}\nn={int(n.iat[i, j])}", ha="center", va="center", fontsize=7,
                        color="w" if pd.isna(v) or (vmax and v < 0.6 * vmax) else "k")
        ax.set_xticks(range(grid.shape[1]), [fmt_value(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [fmt_value(v) for v in grid.index])
        ax.set_xlabel(sweep.label(x))
        ax.set_ylabel(sweep.label(y))
        ax.set_title(f"{sweep.names[city]}: {title}", fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.046)
    return _save(fig, path)


def fan_chart(sweep: Sweep, point: int, path: Path) -> Path | None:
    """Each place's monthly share at one design point: median, 50 % and 90 % bands over runs, threshold marked."""
    table = sweep.cities_table
    if table is None:
        return None
    runs = sweep.runs[(sweep.runs.point_id == point) & (sweep.runs.status == "ok")].run_id
    t = table[table.run_id.isin(runs)]
    if not len(t):
        return None
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for place, g in t.groupby("city", sort=False):
        q = g.groupby("date").share.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        dates = pd.to_datetime(q.index)
        c = _colour(sweep, place)
        ax.fill_between(dates, q[0.05], q[0.95], color=c, alpha=0.12, lw=0)
        ax.fill_between(dates, q[0.25], q[0.75], color=c, alpha=0.25, lw=0)
        ax.plot(dates, q[0.5], color=c, lw=1.6, label=sweep.names.get(place, place))
    ax.axhline(sweep.threshold, color="k", ls="--", lw=0.8)
    ax.annotate(f"capital threshold {sweep.threshold:.0%} (trailing 12 months)", (0.01, sweep.threshold),
                xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
    values = sweep.runs[sweep.runs.point_id == point].iloc[0]
    title = ", ".join(f"{sweep.label(k)} {fmt_value(values[k])}" for k in sweep.keys) + f" ({len(runs)} runs)"
    ax.set_title("\n".join(textwrap.wrap(title, TITLE_WIDTH)), fontsize=9)  # whole, on as many lines as it needs
    ax.set_ylabel("share of national output, monthly")
    ax.set_xlabel("month")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False, ncol=min(4, t.city.nunique()))
    fig.autofmt_xdate()
    return _save(fig, path)


def fiscal_figure(sweep: Sweep, fiscal: pd.DataFrame, path: Path) -> Path | None:
    """Outlay per job and return per yuan against the first varied key, a line per city (medians; others pooled)."""
    columns = [c for c in ("outlay_per_job", "return_per_yuan", "outlay_per_added_job") if c in fiscal and fiscal[c].notna().any()]
    if not columns:
        return None
    key = sweep.keys[0]
    labels = {"outlay_per_job": "outlay per job, ¥", "return_per_yuan": "tax + tourism per yuan of outlay",
              "outlay_per_added_job": "outlay per added job, ¥"}
    fig, axes = plt.subplots(1, len(columns), figsize=(4.6 * len(columns), 3.6), squeeze=False)
    levels, ticks = lever_axis(fiscal[key])
    for ax, column in zip(axes[0], columns):
        for city, g in fiscal.groupby("city", sort=False):
            m = g.groupby(key)[column].median()
            ax.plot(_x(m.index, levels, ticks), m.to_numpy(dtype=float), "-o", ms=3, color=_colour(sweep, city),
                    label=sweep.names[city])
        if ticks:
            ax.set_xticks(range(len(levels)), ticks)
        ax.set_xlabel(sweep.label(key))
        ax.set_ylabel(labels[column])
        ax.set_ylim(bottom=0)
    axes[0][0].legend(fontsize=8, frameon=False)
    return _save(fig, path)


def valid_png(path: Path) -> bool:
    """Whether `path` starts with the PNG signature (what the tests check of every figure)."""
    return Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"



def sensitivity_figure(sweep: Sweep, table: pd.DataFrame, path: Path) -> Path:
    """Bars of each lever's index per outcome, with the 95 % intervals (Sobol S1 and ST, or Morris mu*)."""
    outcomes = list(dict.fromkeys(table.outcome))
    sobol = "S1" in table
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.8 * len(outcomes), 3.4), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes):
        t = table[table.outcome == outcome]
        x = range(len(t))
        if sobol:
            ax.bar([i - 0.2 for i in x], t.S1, 0.4, yerr=t.S1_conf, label="first order S1", color=PALETTE[0])
            ax.bar([i + 0.2 for i in x], t.ST, 0.4, yerr=t.ST_conf, label="total ST", color=PALETTE[1])
            ax.set_ylim(min(0, t.S1.min() - 0.05), max(1, (t.ST + t.ST_conf).max()))
        else:
            ax.bar(list(x), t.mu_star, 0.6, yerr=t.mu_star_conf, label="mu*", color=PALETTE[0])
        ax.set_xticks(list(x), [sweep.label(k) for k in t.key], rotation=20, ha="right", fontsize=8)
        ax.set_title(outcome.replace("P(capital = ", "P(capital: ").replace(")", ")"), fontsize=9)
    axes[0][0].set_ylabel("Sobol index" if sobol else "mean |elementary effect|")
    axes[0][0].legend(fontsize=8, frameon=False)
    return _save(fig, path)


def peeling_figure(sweep: Sweep, boxes: dict, path: Path) -> Path | None:
    """PRIM's peeling trajectories: density against coverage per box, restricted levers in colour, the chosen box ringed."""
    found = {c: b for c, b in boxes.items() if b is not None}
    if not found:
        return None
    fig, axes = plt.subplots(1, len(found), figsize=(4.4 * len(found), 3.8), squeeze=False)
    for ax, (city, box) in zip(axes[0], found.items()):
        t = box.trajectory
        points = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=18, vmin=0,
                            vmax=max(len(sweep.keys), 1))
        ax.scatter([box.coverage], [box.density], s=120, facecolors="none", edgecolors="r", label="box shown")
        ax.set_xlabel("coverage (share of its wins inside the box)")
        ax.set_ylabel("density (share of the box's runs it wins)")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{sweep.names[city]} becomes the capital", fontsize=10)
        top = max(len(sweep.keys), 1)
        fig.colorbar(points, ax=ax, fraction=0.046, label="levers restricted", ticks=range(top + 1))  # a count
        ax.legend(fontsize=8, frameon=False, loc="lower left")
    return _save(fig, path)

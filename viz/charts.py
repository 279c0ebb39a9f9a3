"""The cockpit's charts: six panels over time, over the ensemble's runs (the default) or for the one run on screen.

Over the ensemble (viz/bands.py) each highlighted city is its median over
the runs with a shaded 90 % band, the other cities their medians, muted; a
seventh panel, once the planner changed something, shows what the changes
added each month against the same runs without them, city by city and for
the whole country, with its band and a zero line. For the one run (the
single-seed view) each city is its line, and the twin without the changes
is drawn faint.

The highlighted cities are the scenario's main cities unless the planner
picks others (`Cockpit.highlighted`): they do not change as the run goes.
Per-job panels leave out, month by month, places with fewer than MIN_JOBS
jobs: a place with one company's crew would otherwise put the outlay per
job at millions of yuan and flatten every other line.
"""

from __future__ import annotations

import html

import numpy as np

from viz import svg
from viz.bands import percentiles
from viz.cockpit import Cockpit
from viz.palette import city_colours, month_label

# A per-job figure over fewer jobs than this (about 20 companies' crews) swings with a company or two arriving or
# leaving: national's Jingzhou, 4 companies and ~120 jobs, shows ~700,000 yuan a job and flattens every other line.
MIN_JOBS = 500

# (column, title, scale, tick format)
PANELS = [("trailing_share", "share of productions (12-month)", 1.0, "{:.0%}"),
          ("firms", "production companies", 1.0, "{:,.0f}"),
          ("subsidy_paid", "rewards paid, M¥ a month", 1e6, "{:,.1f}"),
          ("budget_left", "budget left, M¥", 1e6, "{:,.0f}"),
          ("employment", "jobs this month", 1.0, "{:,.0f}"),
          ("cost_per_job", f"outlay per job, ¥ (places with {MIN_JOBS}+ jobs)", 1.0, "{:,.0f}")]
NATIONAL_COLOUR = "#222222"
ADDED_TITLE = "jobs added by your changes, each month"


def charts(cockpit: Cockpit) -> tuple[str, list[tuple[str, str, str]]]:
    """The charts' header (legend and note) and each chart as (key, title, SVG): over the ensemble when the page shows
    bands and the ensemble has run, else the one run's. No charts before the first month."""
    if cockpit.model.steps == 0:
        return "<p class='hint'>Press Step or Play to run the model.</p>", []
    bands = cockpit.bands if cockpit.show_bands else None
    if bands is not None and bands.steps == cockpit.model.steps:
        return band_charts(cockpit)
    return run_charts(cockpit)


def charts_html(cockpit: Cockpit) -> str:
    """The charts as the page shows them: each in a box named by its key (what the export buttons pick)."""
    head, made = charts(cockpit)
    if not made:
        return head
    boxes = "".join(f"<div class='chart-box' data-chart='{key}'>{chart}</div>" for key, _, chart in made)
    return f"{head}<div class='charts'>{boxes}</div>"


def _chart(cockpit: Cockpit, column: str, title: str, fmt: str, series, bands=(), y_min: float = 0.0,
           hlines=()) -> str:
    model = cockpit.model
    shocks = [(float(month), short, text) for month, short, text in cockpit.shock_marks() if month <= model.steps]
    if column == "trailing_share":
        hlines = [(model.params.capital_threshold, f"capital threshold {model.params.capital_threshold:.0%}")]
    return svg.line_chart(title, series, x_label=lambda m: month_label(model, int(round(m))),
                          y_label=lambda v, fmt=fmt: fmt.format(v), y_max=1.0 if column == "trailing_share" else None,
                          y_min=y_min, hlines=hlines, vlines=shocks, bands=bands)


def _legend(cockpit: Cockpit, highlighted: set[int]) -> str:
    names = [c.name for c in cockpit.model.cities]
    return svg.legend(names, city_colours(len(names)), muted=set(range(len(names))) - highlighted)


def _panel_columns(model, n: int) -> dict[str, np.ndarray]:
    """A run's (months, cities) columns of the panels, the per-job one left out below MIN_JOBS jobs."""
    columns = {p[0]: model.recorder.column(p[0])[:, :n] for p in PANELS}
    columns["cost_per_job"] = np.where(columns["employment"] >= MIN_JOBS, columns["cost_per_job"], np.nan)
    return columns


def run_charts(cockpit: Cockpit) -> tuple[str, list[tuple[str, str, str]]]:
    """Six panels for the run on screen; the twin without the planner's changes as faint lines; changes marked."""
    model, twin = cockpit.model, cockpit.twin
    names = [c.name for c in model.cities]
    colours = city_colours(len(names))
    top = set(cockpit.highlighted_indices())
    x = np.arange(1, model.steps + 1, dtype=float)
    n = model.n_cities
    mine = _panel_columns(model, n)
    theirs = _panel_columns(twin, n) if twin is not None and twin.steps else None
    changed = cockpit.changed_cities()
    out = []
    for column, title, scale, fmt in PANELS:
        series = []
        if theirs is not None:  # the highlighted and the changed cities' (faint lines for all 15 would hide the rest)
            for j, name in enumerate(names):
                if j in top or model.city_ids[j] in changed:
                    series.append(svg.Series(f"{name} without your changes", colours[j], x,
                                             theirs[column][:, j] / scale, faint=True, muted=j not in top))
        for j, name in enumerate(names):
            series.append(svg.Series(name, colours[j], x, mine[column][:, j] / scale, muted=j not in top))
        out.append((column, title, _chart(cockpit, column, title, fmt, series)))
    small = [names[j] for j in range(n) if not mine["employment"][-1, j] >= MIN_JOBS]
    faint = ("<p class='chart-note'>One run (seed {}). Dashed faint lines: the same run without your changes, for "
             "the highlighted cities and the cities you changed.{}</p>".format(model.params.seed, _left_out(small))
             if theirs is not None else f"<p class='chart-note'>One run (seed {model.params.seed}).{_left_out(small)}</p>")
    return f"{_legend(cockpit, top)}{faint}", out


def _left_out(names: list[str]) -> str:
    if not names:
        return ""
    return (f" Outlay per job leaves out places with fewer than {MIN_JOBS} jobs now (their figure swings with a "
            f"company or two): {html.escape(', '.join(names))}.")


def band_charts(cockpit: Cockpit) -> tuple[str, list[tuple[str, str, str]]]:
    """Six panels over the ensemble's runs with the planner's changes: the highlighted cities' medians and 90 %
    bands, the others' medians muted; and, once something changed, the jobs the changes added each month."""
    model, bands = cockpit.model, cockpit.bands
    names = [c.name for c in model.cities]
    colours = city_colours(len(names))
    top = set(cockpit.highlighted_indices())
    x = np.arange(1, bands.steps + 1, dtype=float)
    n = model.n_cities
    jobs = bands.history("employment")[:, :, :n]
    out = []
    for column, title, scale, fmt in PANELS:
        values = bands.history(column)[:, :, :n]
        if column == "cost_per_job":  # by the median place, not run by run (one run's few jobs would pass alone)
            values = np.where(np.median(jobs, axis=0) >= MIN_JOBS, values, np.nan)
        lo, mid, hi = percentiles(values) / scale
        series = [svg.Series(f"{name} (median of {bands.n} runs)", colours[j], x, mid[:, j], muted=j not in top)
                  for j, name in enumerate(names)]
        shaded = [svg.Band(f"{names[j]}: 90 % of runs", colours[j], x, lo[:, j], hi[:, j]) for j in sorted(top)]
        out.append((column, title, _chart(cockpit, column, title, fmt, series, shaded)))
    small = [names[j] for j in range(n) if not np.median(jobs[:, -1, j]) >= MIN_JOBS]
    changed = [model.city_ids.index(c) for c in sorted(cockpit.changed_cities())]
    if changed:
        out.append(("added_jobs", ADDED_TITLE, _added_chart(cockpit, changed, colours, names, x)))
    note = (f"<p class='chart-note'>Over {bands.n} runs: lines are medians; the shaded band holds 90 % of the runs "
            f"(highlighted cities). Switch to one run for seed {model.params.seed} alone.{_left_out(small)}</p>")
    return f"{_legend(cockpit, top)}{note}", out


def _added_chart(cockpit: Cockpit, changed: list[int], colours, names, x) -> str:
    """Jobs the changes added each month against the same runs without them: each changed city, and the country."""
    bands = cockpit.bands
    added = bands.history("employment") - bands.history("employment", twins=True)  # (runs, months, places)
    national = added.sum(axis=2)
    series, shaded, lows = [], [], [0.0]
    for j in changed:
        lo, mid, hi = percentiles(added[:, :, j])
        series.append(svg.Series(f"{names[j]}: added jobs (median)", colours[j], x, mid))
        shaded.append(svg.Band(f"{names[j]}: 90 % of runs", colours[j], x, lo, hi))
        lows.append(float(np.nanmin(lo)) if np.isfinite(lo).any() else 0.0)
    lo, mid, hi = percentiles(national)
    series.append(svg.Series("whole country: added jobs (median)", NATIONAL_COLOUR, x, mid))
    shaded.append(svg.Band("whole country: 90 % of runs", NATIONAL_COLOUR, x, lo, hi))
    lows.append(float(np.nanmin(lo)) if np.isfinite(lo).any() else 0.0)
    floor = min(lows)
    y_min = 0.0 if floor >= 0 else float(svg.nice_floor(floor))
    return _chart(cockpit, "added_jobs", ADDED_TITLE, "{:+,.0f}", series, shaded, y_min=y_min,
                  hlines=[(0.0, "no effect")])

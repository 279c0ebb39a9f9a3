"""Saved runs and their comparison: what a planner keeps of a run to set it beside another.

A saved run keeps its changes, its month and, for each of the ensemble's
runs, the figures of the band table (jobs as a 12-month mean, 12-month
share, companies, outlay since the start; viz/bands.py) and what the
changes added. Two saved runs made on the same seeds and parameter sets
(the page's seed and scenario unchanged) and at the same month are paired,
run by run: their difference has its own 90 % band, and where that band
covers 0 the page says the difference is not distinguishable from chance.
Unpaired runs show the difference of their medians only, and say so.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from viz.bands import percentiles

FIGURES = [("jobs", "jobs (12-month mean)", "{:,.0f}", 1.0), ("share", "12-month share", "{:.1%}", 1.0),
           ("firms", "companies", "{:,.0f}", 1.0), ("outlay", "outlay since the start, M¥", "{:,.1f}", 1e6)]


@dataclass(frozen=True)
class SavedRun:
    """One run of the page as saved: its name, what it was, and the ensemble's figures at its month."""

    name: str
    scenario: str
    seeds: tuple[int, ...]
    month: str  # "2028-12"
    changes: tuple[str, ...]  # the planner's changes, in words
    place_ids: tuple[str, ...]
    names: dict[str, str]
    figures: dict[str, np.ndarray] = field(repr=False)  # (runs, places) per figure of FIGURES
    added_jobs_national: np.ndarray = field(repr=False)  # (runs,) against the same runs without the changes

    def paired_with(self, other: SavedRun) -> bool:
        """Whether the two were made on the same runs (seeds and parameter sets) to the same month."""
        return (self.scenario, self.seeds, self.month, self.place_ids) == \
            (other.scenario, other.seeds, other.month, other.place_ids)


def save(cockpit, name: str | None = None) -> SavedRun:
    """The cockpit's run as it stands (its ensemble caught up first), under `name` or 'run N'."""
    from viz.palette import month_label

    bands = cockpit.bands
    if bands is None or cockpit.model.steps == 0:
        raise ValueError("save: nothing to save yet; step the run first")
    now = bands.now()
    names = {c.id: c.name for c in cockpit.model.params.scenario.cities}
    setup = cockpit.setup_text()
    changes = tuple(setup + [text for _, text in cockpit.shock_text()]) or ("no changes",)
    return SavedRun(name or f"run {len(cockpit.saved) + 1}", cockpit.scenario, tuple(bands.seeds),
                    month_label(cockpit.model, cockpit.model.steps), changes, tuple(bands.place_ids), names,
                    {k: now[k].copy() for k, *_ in FIGURES}, bands.added_by_changes()["jobs_national"].copy())


def _cell(values: np.ndarray, fmt: str, scale: float) -> str:
    lo, mid, hi = percentiles(values / scale)
    if not np.isfinite(mid):
        return "-"
    return f"{fmt.format(mid)} <span class='band'>[{fmt.format(lo)} to {fmt.format(hi)}]</span>"


def _difference(a: np.ndarray, b: np.ndarray, fmt: str, scale: float, paired: bool) -> str:
    signed = fmt.replace("{:", "{:+")
    if not paired:
        mid = (np.nanmedian(b) - np.nanmedian(a)) / scale
        return f"{signed.format(mid)} <span class='band'>(difference of medians; not the same runs)</span>"
    lo, mid, hi = percentiles((b - a) / scale)
    chance = " <span class='chance'>not distinguishable from chance</span>" if lo <= 0 <= hi else ""
    return f"{signed.format(mid)} <span class='band'>[{signed.format(lo)} to {signed.format(hi)}]</span>{chance}"


def comparison_html(a: SavedRun, b: SavedRun, cities: list[str]) -> str:
    """The two saved runs side by side for `cities` (ids), with B minus A, and what each one's changes added."""
    paired = a.paired_with(b)
    index = {p: j for j, p in enumerate(a.place_ids)}
    cities = [c for c in cities if c in index and c in b.place_ids]
    head = "".join(f"<th>{html.escape(label)}: {html.escape(which)}</th>" for _, label, _, _ in FIGURES
                   for which in ("A", "B", "B − A"))
    rows = []
    for c in cities:
        cells = []
        for key, _, fmt, scale in FIGURES:
            va, vb = a.figures[key][:, index[c]], b.figures[key][:, b.place_ids.index(c)]
            cells += [f"<td data-col='a-{key}'>{_cell(va, fmt, scale)}</td>",
                      f"<td data-col='b-{key}'>{_cell(vb, fmt, scale)}</td>",
                      f"<td data-col='diff-{key}'>{_difference(va, vb, fmt, scale, paired)}</td>"]
        rows.append(f"<tr data-compare-city='{c}'><th>{html.escape(a.names.get(c, c))}</th>{''.join(cells)}</tr>")
    how = ("paired run by run: the same seeds and parameter sets at the same month" if paired else
           "not paired (different seeds, scenario or month): differences are of medians only")
    described = "".join(f"<li><b>{which}: {html.escape(r.name)}</b> ({html.escape(r.scenario)}, {r.month}): "
                        f"{html.escape('; '.join(r.changes))}. Jobs your changes added in the whole country: "
                        f"{_difference(np.zeros_like(r.added_jobs_national), r.added_jobs_national, '{:,.0f}', 1.0, True)}</li>"
                        for which, r in (("A", a), ("B", b)))
    return (f"<div class='compare'><ul class='compare-runs'>{described}</ul>"
            f"<table class='compare-table'><caption>A and B over {len(a.seeds)} runs: median [90 % band]; "
            f"{how}</caption><thead><tr><th>city</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")

"""The cockpit's ensemble: N runs with the planner's changes and their N twins without them, advanced together.

What the page reads as an answer is a band over runs, not one seed: each
run draws its seed (and, where the scenario has a published posterior, the
behaviour and starting sizes of its parameter set, as every batch command
does), and its twin is the same run without the planner's changes. Both
groups are one `sim.ensemble.Ensemble`, so a month of 20 runs and 20 twins
costs about one month of a single model in Python.

The numbers use the definitions of summary.json and the sweep tables
(sim/outcomes.py), under the same names:

- `jobs`: crews at work, the mean over the last 12 months (`final_employment`),
- `share`: the trailing 12-month share of national output (the capital test's,
  `trailing_share`),
- `firms`: production companies now (`final_firms`),
- `outlay`: everything the treasury spent since the start (`outlay_total`),

and what the changes bought is named for what it compares:
`added_by_changes_*` is each run minus its own twin (the same seed and
parameter set without the planner's changes), where summary.json's
`added_jobs` compares a city with no policy at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.ensemble import Ensemble
from sim.metrics import FINAL_MONTHS
from sim.params import PolicyShock, RunParams, to_dict, with_values

BAND = (5.0, 50.0, 95.0)  # the percentiles shown: a 90 % band around the median
DEFAULT_RUNS = 20


def member_params(base: RunParams, seeds: Sequence[int], posterior: str | None = None) -> list[RunParams]:
    """One run per seed; with a posterior, each with the parameter set its seed draws (as a sweep's replicate)."""
    if not posterior:
        return [dataclasses.replace(base, seed=int(s)) for s in seeds]
    from experiments.calibration.posterior import load_posterior

    drawn, data = load_posterior(posterior), to_dict(base)
    return [with_values(base, {**drawn.values(drawn.index_for(int(s)), data), "seed": int(s)}) for s in seeds]


def percentiles(values: np.ndarray, axis: int = 0, q: Sequence[float] = BAND) -> np.ndarray:
    """The `q` percentiles (5th, 50th, 95th by default) along `axis`, stacked first; NaN runs left out.

    numpy's linear interpolation, as `np.nanpercentile` gives it, but in one sort over the whole array rather than
    one call per column with NaNs (nanpercentile's slow path: 20 ms for a page of 60 months and 15 places, where a
    step has 300 ms for everything). All-NaN columns give NaN.
    """
    data = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    ordered = np.sort(data, axis=0)  # NaNs sort last
    count = np.isfinite(data).sum(axis=0)
    out = np.empty((len(q), *data.shape[1:]))
    for k, pct in enumerate(q):
        pos = (pct / 100.0) * np.maximum(count - 1, 0)
        below = np.floor(pos).astype(np.intp)
        above = np.minimum(below + 1, np.maximum(count - 1, 0))
        low = np.take_along_axis(ordered, below[None], axis=0)[0]
        high = np.take_along_axis(ordered, above[None], axis=0)[0]
        out[k] = low + (high - low) * (pos - below)
    out[:, count == 0] = np.nan
    return out


class Bands:
    """N runs with the planner's changes (`setup` before the start, shocks after) and N twins without them."""

    def __init__(self, base: RunParams, setup: RunParams, seeds: Sequence[int], posterior: str | None = None):
        self.seeds = [int(s) for s in seeds]
        self.n = len(self.seeds)
        changed = member_params(setup, self.seeds, posterior)
        twins = member_params(base, self.seeds, posterior)
        self.ensemble = Ensemble([*changed, *twins])
        self.place_ids = self.ensemble.place_ids

    # ---------------------------------------------------------------- running
    @property
    def steps(self) -> int:
        return self.ensemble.steps

    @property
    def months(self) -> int:
        return self.ensemble.months

    def step(self) -> None:
        self.ensemble.step()

    def run_to(self, steps: int) -> None:
        """Advance to `steps` months done (at most the runs' length)."""
        self.ensemble.run(max(0, min(steps, self.months) - self.steps))

    def change(self, shock: PolicyShock) -> None:
        """The planner's change, in the changed runs only, from its month on."""
        self.ensemble.add_shock(shock, runs=range(self.n))

    # ---------------------------------------------------------------- reading
    def history(self, column: str, twins: bool = False) -> np.ndarray:
        """(runs, months so far, places) of a city-table column, for the changed runs or their twins."""
        e, L = self.ensemble, self.ensemble.L
        values = e.records[column][: e.steps].reshape(e.steps, e.R, L)
        part = values[:, self.n:] if twins else values[:, : self.n]
        return np.transpose(part, (1, 0, 2))

    def band(self, column: str, twins: bool = False) -> np.ndarray:
        """(3, months so far, places): the 5th, 50th and 95th percentiles over runs, month by month."""
        return percentiles(self.history(column, twins))

    def now(self, twins: bool = False) -> dict[str, np.ndarray]:
        """Each run's figures at the current month, under summary.json's definitions: (runs, places) arrays."""
        e, L = self.ensemble, self.ensemble.L
        rows = slice(self.n, 2 * self.n) if twins else slice(0, self.n)
        recent = max(0, e.steps - FINAL_MONTHS)
        hist = lambda name: self.history(name, twins)  # noqa: E731
        return {
            "jobs": hist("employment")[:, recent:].mean(axis=1),
            "share": hist("trailing_share")[:, -1],
            "firms": e.cs.firms.reshape(e.R, L)[rows].copy(),
            "outlay": e.cs.outlay_total.reshape(e.R, L)[rows].copy(),
        }

    def added_by_changes(self) -> dict[str, np.ndarray]:
        """Per run: what the planner's changes added against its own twin, by place, and nationally.

        Returns arrays of shape (runs, places) for jobs, firms and outlay, (runs,) for national jobs, and the outlay
        per added job (NaN where fewer than one job was added).
        """
        mine, twin = self.now(), self.now(twins=True)
        jobs = mine["jobs"] - twin["jobs"]
        outlay = mine["outlay"] - twin["outlay"]
        with np.errstate(divide="ignore", invalid="ignore"):
            per_job = np.where(jobs >= 1.0, outlay / jobs, np.nan)
        return {"jobs": jobs, "firms": mine["firms"] - twin["firms"], "outlay": outlay,
                "jobs_national": jobs.sum(axis=1), "outlay_per_added_job": per_job}

    def table(self) -> pd.DataFrame:
        """One row per place: each figure's median and 90 % band now (`jobs`, `share`, `firms`, `outlay`), and what
        the changes added against the twins (`added_by_changes_jobs`, `_firms`, `_outlay`, `outlay_per_added_job`),
        each with `_lo` and `_hi` (the 5th and 95th percentiles over the runs)."""
        mine, added = self.now(), self.added_by_changes()
        rows = []
        for j, place in enumerate(self.place_ids):
            row = {"city": place}
            by_changes = ((k if k.startswith("outlay_per") else f"added_by_changes_{k}", v) for k, v in added.items()
                          if k != "jobs_national")
            for name, values in [*mine.items(), *by_changes]:
                lo, mid, hi = percentiles(values[:, j])
                row.update({name: mid, f"{name}_lo": lo, f"{name}_hi": hi})
            rows.append(row)
        return pd.DataFrame(rows)

    def national_effect(self) -> dict[str, float | bool]:
        """Jobs the changes added in the whole country: median, 90 % band, and whether the band covers 0 (then the
        page says: no effect distinguishable from chance)."""
        lo, mid, hi = percentiles(self.added_by_changes()["jobs_national"])
        return {"median": float(mid), "lo": float(lo), "hi": float(hi), "distinguishable": bool(lo > 0 or hi < 0)}

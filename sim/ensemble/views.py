"""One finished run of an ensemble, read like a finished `ContestModel`.

The outcome registry (sim/outcomes.py), the counterfactual
(sim/counterfactual.py) and the published facts read a run through these
attributes; a view copies nothing but its run's final state.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.cities import RecordedColumns
from sim.outcomes import summarise

if TYPE_CHECKING:
    from sim.ensemble.model import Ensemble


class RunView:
    """Run `i` of a finished (or paused) ensemble."""

    def __init__(self, ensemble: Ensemble, i: int):
        L, done = ensemble.L, ensemble.steps
        cols = slice(i * L, (i + 1) * L)
        self.params = ensemble.runs[i]
        self.scenario_params = self.params.scenario
        self.place_ids, self.city_ids = ensemble.place_ids, ensemble.city_ids
        self.n_places, self.n_cities = L, ensemble.n_cities
        self.steps = done
        self.start_year, self.start_month = ensemble.start_year, ensemble.start_month
        self.recorder = RecordedColumns(self.place_ids, ensemble.dates[:done],
                                        {name: values[:done, cols] for name, values in ensemble.records.items()})
        cs = ensemble.cs
        self.city_state = SimpleNamespace(**{name: getattr(cs, name)[cols].copy() for name in (
            "firms", "subsidy_total", "outlay_total", "employment", "outside")})
        self.policy = SimpleNamespace(reward_rate=ensemble.policy.reward_rate[cols].copy(),
                                      annual_budget=ensemble.policy.annual_budget[cols].copy())
        cap = ensemble.capital
        label = lambda k: self.place_ids[int(k)] if k >= 0 else None  # noqa: E731
        number = lambda k: int(k) if k >= 0 else None  # noqa: E731
        self.capital = SimpleNamespace(
            current=label(cap.current[i]), since=number(cap.since[i]), challenger=label(cap.challenger[i]),
            crossing=number(cap.crossing[i]), trailing=cap.trailing[i].copy(), eligible=cap.eligible[i].copy(),
            place_ids=self.place_ids)
        start = ensemble.employment_at_start
        self.employment_at_start = None if start is None else start[cols].copy()
        self.firms_at_start = int(ensemble.firms_at_start[i])
        self.entered_total = int(ensemble.entered_total[i])
        self.exited_total = int(ensemble.exited_total[i])
        self.moved_total = int(ensemble.moved_total[i])
        self.n_firms = int(np.count_nonzero(ensemble.firms.run == i))

    def year_month(self, m: int | None = None) -> tuple[int, int]:
        """Calendar year and month of month index m (default: the last month run)."""
        m = max(self.steps - 1, 0) if m is None else m
        total = self.start_month - 1 + m
        return self.start_year + total // 12, total % 12 + 1

    def city_table(self) -> pd.DataFrame:
        """One row per month per place (the columns of cities.parquet)."""
        return self.recorder.table()

    def summary(self, added: dict | None = None) -> dict:
        """The outcome so far (the keys of summary.json)."""
        return summarise(self, added)

"""Outcome measures: the capital city and the run summary."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import ContestModel

FINAL_MONTHS = 12  # "final" outcomes are means over the last year of a run


class CapitalTracker:
    """Which city is the capital over a trailing window of output, since when, and when the lead changed hands.

    A city is the capital when its trailing share of national productions is
    at least `threshold` AND leads the runner-up (the best other place, the
    rest of the country included) by at least `margin`: two cities within
    the margin of each other share the industry, and which one is a hair
    ahead is noise, not a capital. Shares are of everything produced, but only
    places marked `eligible` (the cities) can be the capital or the leader. No
    city is named before the window is full (the first `window - 1` months of
    a run): a share over a month or two is not "the trailing 12 months".

    The crossing: the leader of the first full window is the incumbent; the
    crossing is the first month another city's trailing share exceeds the
    incumbent's, and `challenger` is that city (None while nobody overtook).
    """

    def __init__(self, place_ids: list[str], threshold: float, window: int, eligible: np.ndarray | None = None,
                 margin: float = 0.0):
        self.place_ids = place_ids
        self.threshold = threshold
        self.margin = margin
        self.eligible = np.ones(len(place_ids), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
        self._window: deque[np.ndarray] = deque(maxlen=window)
        self.current: str | None = None
        self.since: int | None = None
        self.incumbent: int | None = None  # index of the leader of the first full window
        self.challenger: str | None = None
        self.crossing: int | None = None  # the step in which the challenger first overtook the incumbent
        self.trailing = np.zeros(len(place_ids))

    def update(self, step: int, productions: np.ndarray) -> np.ndarray:
        """Add a month's productions by place; returns the trailing shares."""
        self._window.append(np.asarray(productions, dtype=float).copy())
        totals = np.sum(self._window, axis=0)
        grand = totals.sum()
        trailing = totals / grand if grand > 0 else np.zeros_like(totals)
        self.trailing = trailing
        full = len(self._window) == self._window.maxlen  # a capital needs a whole window of record
        if not (full and grand > 0):
            return trailing
        ranked = np.where(self.eligible, trailing, -1.0)
        leader = int(np.argmax(ranked))
        lead = share_lead(trailing, self.eligible)[leader]
        capital = self.place_ids[leader] if trailing[leader] >= self.threshold and lead >= self.margin else None
        if capital != self.current:
            self.current, self.since = capital, (step if capital is not None else None)
        if self.incumbent is None:
            self.incumbent = leader
        elif self.crossing is None and leader != self.incumbent and trailing[leader] > trailing[self.incumbent]:
            self.challenger, self.crossing = self.place_ids[leader], step
        return trailing


def share_lead(trailing: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Each eligible place's trailing share minus the best other place's (positive only for the leader); NaN for
    places that cannot lead (the rest of the country)."""
    lead = np.full(len(trailing), np.nan)
    for j in np.flatnonzero(eligible):
        lead[j] = trailing[j] - np.delete(trailing, j).max(initial=0.0)
    return lead


def cost_per_job(outlay: float, employment: float) -> float | None:
    """Treasury outlay so far (subsidies, AIGC support, talent and studio spending) per job; None below one job."""
    return float(outlay / employment) if employment >= 1.0 else None


def final_mean(model: ContestModel, column: str) -> np.ndarray:
    """Each place's mean of a city-table column over the last FINAL_MONTHS months (zeros before any month)."""
    values = model.recorder.column(column)[-FINAL_MONTHS:]
    return values.mean(axis=0) if len(values) else np.zeros(model.n_places)


def final_means(model: ContestModel, column: str) -> dict[str, float]:
    """`final_mean` keyed by place id."""
    return {pid: float(v) for pid, v in zip(model.place_ids, final_mean(model, column))}

"""The capital test of sim/metrics.py (`CapitalTracker`) for every run of an ensemble at once.

The same rules: a city is the capital when its trailing share is at least
the run's threshold and leads the best other place by its margin, once the
run's window is full; the leader of the first full window is the
incumbent, and the crossing is the first month another city's trailing
share passes the incumbent's. Indices are local places, -1 for none.
"""

from __future__ import annotations

import numpy as np


class EnsembleCapital:
    def __init__(self, n_runs: int, n_places: int, threshold: np.ndarray, window: np.ndarray, margin: np.ndarray,
                 eligible: np.ndarray, months: int):
        self.R, self.L = n_runs, n_places
        self.threshold, self.window, self.margin = threshold, window.astype(int), margin
        self.eligible = eligible.reshape(n_runs, n_places)
        self._cumulative = np.zeros((months + 1, n_runs, n_places))  # productions summed over months 0..t-1
        self.months = 0
        none = lambda: np.full(n_runs, -1, dtype=np.int64)  # noqa: E731
        self.current, self.since, self.incumbent, self.challenger, self.crossing = none(), none(), none(), none(), none()
        self.trailing = np.zeros((n_runs, n_places))

    def update(self, step: int, productions: np.ndarray) -> np.ndarray:
        """Add a month's productions (flat, R x L); returns the trailing shares (flat)."""
        t = self.months + 1
        self._cumulative[t] = self._cumulative[t - 1] + productions.reshape(self.R, self.L)
        self.months = t
        start = np.maximum(t - self.window, 0)
        totals = self._cumulative[t] - self._cumulative[start, np.arange(self.R)]
        grand = totals.sum(axis=1)
        trailing = np.divide(totals, grand[:, None], out=np.zeros_like(totals), where=grand[:, None] > 0)
        self.trailing = trailing
        full = (t >= self.window) & (grand > 0)
        if not full.any():
            return trailing.reshape(-1)
        rows = np.arange(self.R)
        ranked = np.where(self.eligible, trailing, -1.0)
        leader = np.argmax(ranked, axis=1)
        others = trailing.copy()
        others[rows, leader] = -np.inf
        lead = trailing[rows, leader] - np.maximum(others.max(axis=1), 0.0)
        capital = np.where((trailing[rows, leader] >= self.threshold) & (lead >= self.margin), leader, -1)
        changed = full & (capital != self.current)
        self.current = np.where(changed, capital, self.current)
        self.since = np.where(changed, np.where(capital >= 0, step, -1), self.since)
        first = full & (self.incumbent < 0)
        incumbent = np.maximum(self.incumbent, 0)
        overtakes = (full & ~first & (self.crossing < 0) & (leader != self.incumbent)
                     & (trailing[rows, leader] > trailing[rows, incumbent]))
        self.challenger = np.where(overtakes, leader, self.challenger)
        self.crossing = np.where(overtakes, step, self.crossing)
        self.incumbent = np.where(first, leader, self.incumbent)
        return trailing.reshape(-1)

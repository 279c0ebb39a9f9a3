"""Outcome measures: the capital city and the run summary."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import ContestModel

FINAL_MONTHS = 12  # "final" outcomes are means over the last year of a run


class CapitalTracker:
    """Which city holds at least `threshold` of national productions over a trailing window, and since when.

    Shares are of everything produced, the rest of the country included, but
    only places marked `eligible` (the cities) can be the capital. No city
    is named before the window is full (the first `window - 1` months of a
    run): a share over a month or two is not "the trailing 12 months".
    """

    def __init__(self, place_ids: list[str], threshold: float, window: int, eligible: np.ndarray | None = None):
        self.place_ids = place_ids
        self.threshold = threshold
        self.eligible = np.ones(len(place_ids), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
        self._window: deque[np.ndarray] = deque(maxlen=window)
        self.current: str | None = None
        self.since: int | None = None

    def update(self, step: int, productions: np.ndarray) -> np.ndarray:
        """Add a month's productions by place; returns the trailing shares."""
        self._window.append(np.asarray(productions, dtype=float).copy())
        totals = np.sum(self._window, axis=0)
        grand = totals.sum()
        trailing = totals / grand if grand > 0 else np.zeros_like(totals)
        leader = int(np.argmax(np.where(self.eligible, trailing, -1.0)))
        full = len(self._window) == self._window.maxlen  # a capital needs a whole window of record
        capital = self.place_ids[leader] if full and grand > 0 and trailing[leader] >= self.threshold else None
        if capital != self.current:
            self.current, self.since = capital, (step if capital is not None else None)
        return trailing


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


def summarise(model: ContestModel, added: dict | None = None) -> dict:
    """summary.json: scenario, seed, steps, capital, final shares, money, firms and, if given, what each policy added.

    Per-city entries cover the cities and, when modelled, the rest of the
    country ("rest"). `added` is `sim.counterfactual.added_by_policy`'s result.
    """
    from sim.outcomes import OUTCOMES  # the registry computes every outcome; it imports this module

    summary = {
        "scenario": model.scenario_params.name,
        "seed": model.params.seed,
        "steps": model.steps,
        "start": model.params.start,
        "capital_threshold": model.params.capital_threshold,
        "capital_window": model.params.capital_window,
    }
    summary.update({name: o.compute(model, added) for name, o in OUTCOMES.items()
                    if o.name != "facts" and (added is not None or not o.counterfactual)})
    summary["firms"] = {"start": model.firms_at_start, "entered": model.entered_total,
                        "exited": model.exited_total, "moved": model.moved_total, "end": model.n_firms}
    return summary

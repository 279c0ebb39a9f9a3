"""Outcome measures: the capital city and the run summary."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import ContestModel


class CapitalTracker:
    """Which city holds at least `threshold` of productions over a trailing window, and since when.

    No city is named before the window is full (the first `window - 1` months
    of a run): a share over a month or two is not "the trailing 12 months".
    """

    def __init__(self, city_ids: list[str], threshold: float, window: int):
        self.city_ids = city_ids
        self.threshold = threshold
        self._window: deque[np.ndarray] = deque(maxlen=window)
        self.current: str | None = None
        self.since: int | None = None

    def update(self, step: int, productions: np.ndarray) -> np.ndarray:
        """Add a month's productions by city; returns the trailing shares."""
        self._window.append(np.asarray(productions, dtype=float).copy())
        totals = np.sum(self._window, axis=0)
        grand = totals.sum()
        trailing = totals / grand if grand > 0 else np.zeros_like(totals)
        leader = int(np.argmax(trailing))
        full = len(self._window) == self._window.maxlen  # a capital needs a whole window of record
        capital = self.city_ids[leader] if full and grand > 0 and trailing[leader] >= self.threshold else None
        if capital != self.current:
            self.current, self.since = capital, (step if capital is not None else None)
        return trailing


def cost_per_job(outlay: float, employment: float) -> float | None:
    """Treasury outlay so far (subsidies, AIGC support, talent and studio spending) per job; None below one job."""
    return float(outlay / employment) if employment >= 1.0 else None


def summarise(model: ContestModel) -> dict:
    """summary.json: scenario, seed, steps, capital, capital_step, final_share, subsidy_total, cost_per_job, ..."""
    table = model.city_table()
    last = table[table["step"] > table["step"].max() - 12] if len(table) else table
    final_share = {c: float(last.loc[last["city"] == c, "share"].mean()) if len(last) else 0.0
                   for c in model.city_ids}
    cs = model.city_state
    per_job = {c: cost_per_job(cs.outlay_total[j], cs.employment[j]) for j, c in enumerate(model.city_ids)}
    base = model.employment_at_start if model.employment_at_start is not None else cs.employment
    per_job_created = {c: cost_per_job(cs.outlay_total[j], cs.employment[j] - base[j])
                       for j, c in enumerate(model.city_ids)}
    return {
        "scenario": model.scenario_params.name,
        "seed": model.params.seed,
        "steps": model.steps,
        "start": model.params.start,
        "capital": model.capital.current,
        "capital_step": model.capital.since,
        "capital_threshold": model.params.capital_threshold,
        "capital_window": model.params.capital_window,
        "final_share": final_share,
        "subsidy_total": {c: float(cs.subsidy_total[j]) for j, c in enumerate(model.city_ids)},
        "outlay_total": {c: float(cs.outlay_total[j]) for j, c in enumerate(model.city_ids)},
        "cost_per_job": per_job,
        "cost_per_job_created": per_job_created,
        "final_firms": {c: int(cs.firms[j]) for j, c in enumerate(model.city_ids)},
        "final_employment": {c: float(cs.employment[j]) for j, c in enumerate(model.city_ids)},
        "final_reward_rate": {c: float(model.policy.reward_rate[j]) for j, c in enumerate(model.city_ids)},
        "firms": {"start": model.firms_at_start, "entered": model.entered_total,
                  "exited": model.exited_total, "moved": model.moved_total, "end": model.n_firms},
    }

"""Where a model step's time goes: each phase of `ContestModel.step` timed on its own (the profile in `make bench`)."""

from __future__ import annotations

import time
from collections import Counter

from sim.model import ContestModel

PHASES = ("open_budgets", "set_policies", "produce_and_earn", "pay_subsidies", "settle_accounts", "survey_places",
          "relocate_firms", "enter_firms", "update_cities", "collect")


def phase_times(model: ContestModel, steps: int) -> dict[str, float]:
    """Milliseconds per step in each phase over the next `steps` months, plus `other` (Mesa's step and events)."""
    spent: Counter = Counter()

    def timed(name: str, phase):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            phase(*args, **kwargs)
            spent[name] += time.perf_counter() - t0
        return run

    for name in PHASES:  # instance attributes shadow the methods for these months only
        setattr(model, name, timed(name, getattr(model, name)))
    t0 = time.perf_counter()
    try:
        for _ in range(steps):
            model.step()
    finally:
        for name in PHASES:
            delattr(model, name)
    wall = time.perf_counter() - t0
    out = {name: 1000 * spent[name] / steps for name in PHASES}
    out["other"] = 1000 * (wall - sum(spent.values())) / steps
    return out

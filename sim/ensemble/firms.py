"""Every run's companies in one table, rows grouped by run and, within a run, in order of creation.

Keeping each run's rows together (and in the reference's order) lets a
phase draw each run's random numbers from its own stream as one slice.
Place indices are global: place j of run r is r x L + j.
"""

from __future__ import annotations

import numpy as np

COLUMNS = {
    "run": np.int64,  # the run the company belongs to (rows are grouped by it)
    "city": np.int64,  # global place index
    "home": np.int64,  # global place index of the place the company was founded in
    "crew": np.float64,
    "tier": np.int8,
    "p_award": np.float64,  # chance one of its productions wins an award (its tier's, in its run)
    "rate": np.float64,
    "spend": np.float64,
    "capital": np.float64,
    "profit_trend": np.float64,
    "loss_streak": np.int64,
}


class EnsembleFirms:
    """Columns of live companies (see the module docstring)."""

    def __init__(self, n_places: int, n_runs: int):
        object.__setattr__(self, "_cols", {name: np.zeros(0, dtype=dtype) for name, dtype in COLUMNS.items()})
        object.__setattr__(self, "n_places", n_places)
        object.__setattr__(self, "n_runs", n_runs)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._cols[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        if name not in self._cols:
            raise AttributeError(f"no column {name!r}")
        column = self._cols[name]
        if value is not column:
            column[...] = value

    def __len__(self) -> int:
        return len(self._cols["city"])

    def counts(self) -> np.ndarray:
        """Companies per run."""
        return np.bincount(self.run, minlength=self.n_runs)

    def remove(self, rows: np.ndarray) -> None:
        """Drop the companies in `rows`; the others keep their order."""
        if len(rows) == 0:
            return
        keep = np.ones(len(self), dtype=bool)
        keep[rows] = False
        for name, column in self._cols.items():
            self._cols[name] = column[keep]

    def insert(self, new: dict[str, np.ndarray]) -> None:
        """Add companies (rows grouped by run, in order) after each run's existing ones."""
        k = len(new["city"])
        if k == 0:
            return
        new = {**new, "run": new["city"] // self.n_places}
        at = np.searchsorted(self.run, new["run"], side="right")
        for name, dtype in COLUMNS.items():
            value = new.get(name, np.zeros(k, dtype=dtype))
            self._cols[name] = np.insert(self._cols[name], at, np.asarray(value, dtype=dtype))

"""Production companies' state as NumPy columns, one row per firm ever created.

Rows are append-only: a firm that exits keeps its row with `alive` False, so
a `Firm` agent's row index never changes. Capacity grows by doubling.
"""

from __future__ import annotations

import numpy as np

TRAFFIC, PREMIUM = 0, 1

_COLUMNS = {
    "city": np.int64,  # index into the model's cities
    "crew": np.float64,  # people
    "tier": np.int8,  # TRAFFIC or PREMIUM
    "rate": np.float64,  # base productions per month
    "spend": np.float64,  # yuan per production beyond crews and studio (cast, post-production, equipment)
    "capital": np.float64,  # yuan
    "profit_trend": np.float64,  # smoothed monthly profit (exponential average over about `exit_patience` months), yuan
    "loss_streak": np.int64,  # consecutive months with a negative profit trend
    "profit": np.float64,  # last month's profit, yuan
    "productions": np.int64,  # last month's productions
    "alive": np.bool_,
}


class FirmTable:
    """Columns of firm state; `idx` gives the rows of live firms."""

    def __init__(self, capacity: int = 1024):
        self._n = 0
        for name, dtype in _COLUMNS.items():
            setattr(self, name, np.zeros(max(capacity, 16), dtype=dtype))

    def __len__(self) -> int:
        return self._n

    @property
    def idx(self) -> np.ndarray:
        """Rows of the firms alive now."""
        return np.flatnonzero(self.alive[: self._n])

    def add(self, city: np.ndarray, crew: np.ndarray, tier: np.ndarray, rate: np.ndarray, spend: np.ndarray,
            capital: np.ndarray) -> np.ndarray:
        """Append firms; returns their row indices."""
        k = len(city)
        self._reserve(self._n + k)
        rows = np.arange(self._n, self._n + k)
        self.city[rows] = city
        self.crew[rows] = crew
        self.tier[rows] = tier
        self.rate[rows] = rate
        self.spend[rows] = spend
        self.capital[rows] = capital
        self.loss_streak[rows] = 0
        self.profit_trend[rows] = 0.0
        self.profit[rows] = 0.0
        self.productions[rows] = 0
        self.alive[rows] = True
        self._n += k
        return rows

    def _reserve(self, size: int) -> None:
        cap = len(self.alive)
        if size <= cap:
            return
        new_cap = max(size, 2 * cap)
        for name in _COLUMNS:
            old = getattr(self, name)
            grown = np.zeros(new_cap, dtype=old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)

"""Production companies' state as NumPy columns, one row per live firm.

Live firms occupy rows 0..n-1 in the order they were created, so every
phase works on plain slices (views, no copies) rather than on gathered
copies. When firms exit, the survivors move up, keeping their order; each
firm keeps its `id` for life, and `row_of` finds its row now (the `Firm`
agent views look themselves up by id). Storage grows by doubling.
"""

from __future__ import annotations

import numpy as np

from sim.params import FirmParams

TRAFFIC, PREMIUM = 0, 1

_COLUMNS = {
    "id": np.int64,  # the firm's id for life (0, 1, 2, ... in order of creation)
    "city": np.int64,  # index into the model's places
    "home": np.int64,  # the place the firm was founded in, which it stays attached to (founders' home, local crews)
    "crew": np.float64,  # people
    "tier": np.int8,  # TRAFFIC or PREMIUM
    "rate": np.float64,  # base productions per month
    "spend": np.float64,  # yuan per production beyond crews and studio (cast, post-production, equipment)
    "capital": np.float64,  # yuan
    "profit_trend": np.float64,  # smoothed monthly profit (exponential average over about `exit_patience` months), yuan
    "loss_streak": np.int64,  # consecutive months with a negative profit trend
    "profit": np.float64,  # last month's profit, yuan
    "productions": np.int64,  # last month's productions
}


def _column(name: str) -> property:
    """The live part of one column: a view, so `table.capital[rows] += x` writes through."""

    def get(self: FirmTable) -> np.ndarray:
        return self._data[name][: self._n]

    def put(self: FirmTable, value: np.ndarray) -> None:
        live = self._data[name][: self._n]
        if not (isinstance(value, np.ndarray) and value.base is self._data[name] and value.shape == live.shape):
            live[...] = value  # `table.capital += x` hands back the same view: nothing to copy then

    return property(get, put, doc=f"live firms' {name}")


class FirmTable:
    """Columns of live firms' state (rows 0..n-1); see the module docstring."""

    def __init__(self, capacity: int = 1024):
        self._n = 0
        self._next_id = 0
        self._data = {name: np.zeros(max(capacity, 16), dtype=dtype) for name, dtype in _COLUMNS.items()}
        self._row_by_id = np.full(max(capacity, 16), -1, dtype=np.int64)
        self.version = 0  # changes whenever firms are added or removed (agent views resynchronise on it)

    def __len__(self) -> int:
        """Firms alive now."""
        return self._n

    def row_of(self, firm_id: int) -> int:
        """The row of firm `firm_id` now, or -1 once it has exited."""
        return int(self._row_by_id[firm_id]) if 0 <= firm_id < self._next_id else -1

    def add(self, city: np.ndarray, crew: np.ndarray, tier: np.ndarray, rate: np.ndarray, spend: np.ndarray,
            capital: np.ndarray, home: np.ndarray | None = None) -> np.ndarray:
        """Append firms after the live ones; returns their rows. `home` defaults to `city` (founded where they work)."""
        k = len(city)
        self._reserve(self._n + k)
        rows = np.arange(self._n, self._n + k)
        ids = np.arange(self._next_id, self._next_id + k)
        if len(self._row_by_id) < self._next_id + k:
            grown = np.full(max(2 * len(self._row_by_id), self._next_id + k), -1, dtype=np.int64)
            grown[: len(self._row_by_id)] = self._row_by_id
            self._row_by_id = grown
        d = self._data
        for name, value in (("id", ids), ("city", city), ("home", city if home is None else home), ("crew", crew),
                            ("tier", tier), ("rate", rate), ("spend", spend), ("capital", capital)):
            d[name][rows] = value
        for name in ("profit_trend", "loss_streak", "profit", "productions"):
            d[name][rows] = 0
        self._row_by_id[ids] = rows
        self._n += k
        self._next_id += k
        self.version += 1
        return rows

    def remove(self, rows: np.ndarray) -> None:
        """Drop the firms in `rows`; the others move up in their order."""
        if len(rows) == 0:
            return
        keep = np.ones(self._n, dtype=bool)
        keep[rows] = False
        n = int(keep.sum())
        self._row_by_id[self._data["id"][rows]] = -1
        for column in self._data.values():
            column[:n] = column[: self._n][keep]
        self._n = n
        self._row_by_id[self._data["id"][:n]] = np.arange(n)
        self.version += 1

    def _reserve(self, size: int) -> None:
        cap = len(self._data["id"])
        if size <= cap:
            return
        new_cap = max(size, 2 * cap)
        for name, old in self._data.items():
            grown = np.zeros(new_cap, dtype=old.dtype)
            grown[:cap] = old
            self._data[name] = grown


def draw_firms(fp: FirmParams, k: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Crew, tier, base rate and spend per production of k new firms (the starting ones and would-be entrants).

    Tier is premium with probability `premium_share`; crew and spend are the
    tier's means times mean-one log-normal factors.
    """
    tier = (rng.random(k) < fp.premium_share).astype(np.int8)
    crew = np.maximum(1.0, fp.crew_mean * rng.lognormal(-0.5 * fp.crew_spread**2, fp.crew_spread, size=k))
    factor = rng.lognormal(-0.5 * fp.spend_spread**2, fp.spend_spread, size=k)
    rate = np.where(tier == PREMIUM, fp.rate_premium, fp.rate_traffic)
    spend = np.where(tier == PREMIUM, fp.spend_premium, fp.spend_traffic)
    return crew, tier, rate, factor * spend


def as_tier(fp: FirmParams, tier: int, spend: np.ndarray, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base rate and spend per production of firms drawn in tiers `drawn`, were they of `tier` instead.

    Each keeps its own spend factor (its cost of doing things), so a would-be
    entrant can weigh the two tiers as the same team.
    """
    tier_spend = np.where(drawn == PREMIUM, fp.spend_premium, fp.spend_traffic)
    mean = fp.spend_premium if tier == PREMIUM else fp.spend_traffic
    factor = np.divide(spend, tier_spend, out=np.ones_like(spend), where=tier_spend > 0)
    rate = fp.rate_premium if tier == PREMIUM else fp.rate_traffic
    return np.full(len(spend), rate), factor * mean


for _name in _COLUMNS:  # table.city, table.crew, ...: the live rows of each column
    setattr(FirmTable, _name, _column(_name))
del _name

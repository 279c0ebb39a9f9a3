"""Per-place state columns and the monthly city table.

Places are the scenario's cities, then (when modelled) the rest of the
country. `CityState` holds one array per quantity; `City` agents are views
on one column. `CityRecorder` keeps each month's columns as arrays and
builds the long table (one row per month per place) only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from sim.params import CityParams, OutsideParams

# Far more than any contest needs: the rest of the country never runs short of studios or crews.
UNLIMITED = 1e12

# Columns of cities.parquet, in order; every one is defined in docs/ODD.md (section "Outputs").
TABLE_COLUMNS = [
    "step", "date", "city", "firms", "related_enterprises", "productions", "share", "trailing_share", "employment",
    "direct_jobs",
    "claims", "subsidy_paid", "subsidy_total", "budget_left", "annual_budget", "payout_outlook",
    "wage", "rent", "talent", "capacity", "reward_rate", "revenue", "profit", "tax", "tourism",
    "aigc_spent", "talent_spent", "studio_spent", "outlay_total", "cost_per_job", "jobs_created", "cost_per_job_created",
    "entered", "exited", "moved_in", "moved_out", "is_capital", "policy_shocks",
]

# Columns of the city table that may be NaN, and when (everything else is always a finite number).
UNDEFINED_COLUMNS = {
    "talent": "the rest of the country (`rest`): its crews are not limited",
    "capacity": "the rest of the country (`rest`): its studios are not limited",
    "cost_per_job": "where a place has fewer than one job",
    "cost_per_job_created": "where fewer than one job was created since the first month",
}


@dataclass
class CityState:
    """Per-place state columns (length L)."""

    base_wage: np.ndarray
    base_rent: np.ndarray
    culture: np.ndarray
    ecommerce: np.ndarray
    approval: np.ndarray
    outside: np.ndarray  # bool: the rest of the country (no cluster, no congestion, no policy)
    wage: np.ndarray
    rent: np.ndarray
    talent: np.ndarray  # crews present
    endowed_talent: np.ndarray  # the city's own pool, grown by talent programmes: sets the wage
    capacity: np.ndarray  # usable studio slots (endowed, built and privately converted)
    endowed_capacity: np.ndarray  # endowed and publicly built slots: set the rent
    firms: np.ndarray
    util: np.ndarray
    productions: np.ndarray
    share: np.ndarray
    employment: np.ndarray
    revenue: np.ndarray
    profit: np.ndarray
    claims: np.ndarray
    expected_claims: np.ndarray
    outlook: np.ndarray
    subsidy_paid: np.ndarray
    subsidy_total: np.ndarray
    talent_spent: np.ndarray
    studio_spent: np.ndarray
    aigc_spent: np.ndarray
    outlay_total: np.ndarray
    tax: np.ndarray
    tourism: np.ndarray
    entered: np.ndarray
    exited: np.ndarray
    moved_in: np.ndarray
    moved_out: np.ndarray
    shocks: np.ndarray  # the planner's policy changes applied this month (set by the model's first phase)

    FLOWS = ("productions", "revenue", "profit", "claims", "subsidy_paid", "talent_spent", "studio_spent",
             "aigc_spent", "tax", "tourism", "entered", "exited", "moved_in", "moved_out", "employment")

    @classmethod
    def initial(cls, cities: tuple[CityParams, ...], outside: OutsideParams | None = None) -> CityState:
        """Endowments from the params (cities, then the rest of the country); flows and counts start at zero."""
        rows: list = list(cities)
        if outside is not None:
            rows.append(outside)
        n = len(rows)
        col = lambda name, default=0.0: np.array([float(getattr(r, name, default)) for r in rows])  # noqa: E731
        is_outside = np.array([isinstance(r, OutsideParams) for r in rows])
        talent = np.where(is_outside, UNLIMITED, col("talent"))
        capacity = np.where(is_outside, UNLIMITED, col("studio_capacity"))
        state = {f.name: np.zeros(n) for f in fields(cls)}
        state.update(
            base_wage=col("wage"), base_rent=col("rent"), wage=col("wage"), rent=col("rent"),
            culture=col("culture"), ecommerce=col("ecommerce"), approval=col("approval"), outside=is_outside,
            talent=talent, endowed_talent=talent.copy(), capacity=capacity, endowed_capacity=capacity.copy(),
            util=np.ones(n), outlook=np.ones(n),
        )
        return cls(**state)

    def reset_flows(self) -> None:
        """Zero this month's flows before a step."""
        for name in self.FLOWS:
            getattr(self, name)[:] = 0.0


class CityRecorder:
    """The month-by-month city table, kept as one array per column per month."""

    def __init__(self, place_ids: list[str]):
        self.place_ids = place_ids
        self._months: list[dict[str, np.ndarray]] = []
        self._dates: list[pd.Timestamp] = []

    def record(self, date: pd.Timestamp, columns: dict[str, np.ndarray]) -> None:
        """Add one month: every column of TABLE_COLUMNS except step, date and city, as arrays of length L."""
        self._dates.append(date)
        self._months.append({k: np.asarray(v).copy() for k, v in columns.items()})

    def __len__(self) -> int:
        return len(self._months)

    def column(self, name: str) -> np.ndarray:
        """One column as a (months, L) array."""
        return np.array([m[name] for m in self._months]) if self._months else np.zeros((0, len(self.place_ids)))

    def table(self) -> pd.DataFrame:
        """One row per month per place (the columns of cities.parquet)."""
        return build_table(self.place_ids, self._dates,
                           lambda name: np.array([m[name] for m in self._months]) if self._months else None)


class RecordedColumns:
    """A finished run's city table kept as one (months, L) array per column: the same reading interface as
    `CityRecorder` (the ensemble's runs, sim.ensemble, record this way)."""

    def __init__(self, place_ids: list[str], dates: list[pd.Timestamp], columns: dict[str, np.ndarray]):
        self.place_ids, self._dates, self._columns = place_ids, dates, columns

    def __len__(self) -> int:
        return len(self._dates)

    def column(self, name: str) -> np.ndarray:
        """One column as a (months, L) array."""
        return self._columns[name]

    def table(self) -> pd.DataFrame:
        """One row per month per place (the columns of cities.parquet)."""
        return build_table(self.place_ids, self._dates, self._columns.get)

    def arrow_table(self, every: int = 1, run_id: int | None = None):
        """Every `every`-th month of the table as a pyarrow Table, with the same columns and types as `table()`
        (a leading `run_id` when given): what a sweep keeps, built without pandas."""
        import pyarrow as pa

        months, n = len(self._dates), len(self.place_ids)
        kept = np.arange(every - 1, months, every)
        rows = len(kept) * n
        data = {}
        if run_id is not None:
            data["run_id"] = pa.array(np.full(rows, run_id, dtype=np.int64))
        data["step"] = pa.array(np.repeat(kept + 1, n).astype(np.int64))
        data["date"] = pa.array(np.repeat(np.array(self._dates, dtype="datetime64[ns]")[kept], n))
        data["city"] = pa.array(np.tile(np.array(self.place_ids, dtype=object), len(kept)), type=pa.string())
        for name in TABLE_COLUMNS[3:]:
            values = np.asarray(self._columns[name])[kept].reshape(-1)
            if name in INTEGER_COLUMNS:
                values = values.astype(np.int64)
            elif name == "is_capital":
                values = values.astype(bool)
            data[name] = pa.array(values)
        return pa.table(data)


INTEGER_COLUMNS = ("firms", "productions", "entered", "exited", "moved_in", "moved_out", "policy_shocks")


def build_table(place_ids: list[str], dates: list[pd.Timestamp], column) -> pd.DataFrame:
    """The long city table from `column(name)`, a (months, L) array per column of TABLE_COLUMNS."""
    months, n = len(dates), len(place_ids)
    if months == 0:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    data = {
        "step": np.repeat(np.arange(1, months + 1), n),
        "date": np.repeat(np.array(dates, dtype="datetime64[ns]"), n),
        "city": np.tile(np.array(place_ids, dtype=object), months),
    }
    for name in TABLE_COLUMNS[3:]:
        data[name] = np.asarray(column(name)).reshape(-1)
    table = pd.DataFrame(data, columns=TABLE_COLUMNS)
    for name in INTEGER_COLUMNS:
        table[name] = table[name].astype(np.int64)
    table["is_capital"] = table["is_capital"].astype(bool)
    return table

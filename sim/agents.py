"""Mesa agents: production companies and cities.

Agents are thin views: their state lives in the model's NumPy columns
(`model.firms`, `model.city_state`) so each phase runs in one pass over all
firms; an agent reads and writes its own row. Iterate, filter and inspect
them as with any Mesa agents (`model.agents_by_type[Firm]`). Firm agents
are made when first asked for (`model.agents`, `model.agents_by_type`), not
on the hot path, and brought up to date whenever they are asked for again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.firms import PREMIUM

if TYPE_CHECKING:
    from sim.model import ContestModel


class Firm(mesa.Agent):
    """A micro-short-drama production company."""

    def __init__(self, model: ContestModel, firm_id: int):
        super().__init__(model)
        self.firm_id = firm_id

    @property
    def row(self) -> int:
        """The firm's row in `model.firms` now (rows shift up when other firms exit)."""
        row = self.model.firms.row_of(self.firm_id)
        if row < 0:
            raise LookupError(f"firm {self.firm_id} has exited")
        return row

    @property
    def city(self) -> City:
        """The city the firm works in now."""
        return self.model.cities[int(self.model.firms.city[self.row])]

    @property
    def crew(self) -> float:
        return float(self.model.firms.crew[self.row])

    @property
    def tier(self) -> str:
        return "premium" if self.model.firms.tier[self.row] == PREMIUM else "traffic"

    @property
    def rate(self) -> float:
        """Base productions per month (before agglomeration and rationing)."""
        return float(self.model.firms.rate[self.row])

    @property
    def capital(self) -> float:
        return float(self.model.firms.capital[self.row])

    @capital.setter
    def capital(self, value: float) -> None:
        self.model.firms.capital[self.row] = value

    @property
    def profit(self) -> float:
        """Last month's profit, yuan."""
        return float(self.model.firms.profit[self.row])

    @property
    def productions(self) -> int:
        """Last month's productions."""
        return int(self.model.firms.productions[self.row])

    def __repr__(self) -> str:
        return f"Firm({self.unique_id}, {self.tier}, in {self.city.city_id}, capital={self.capital:,.0f})"


class City(mesa.Agent):
    """A city competing for the industry; its state is column `index` of `model.city_state`."""

    def __init__(self, model: ContestModel, index: int, city_id: str, name: str, lon: float, lat: float):
        super().__init__(model)
        self.index = index
        self.city_id = city_id
        self.name = name or city_id
        self.lon = lon
        self.lat = lat

    def _get(self, column: str) -> float:
        return float(getattr(self.model.city_state, column)[self.index])

    @property
    def firms(self) -> int:
        return int(self._get("firms"))

    @property
    def reward_rate(self) -> float:
        return float(self.model.policy.reward_rate[self.index])

    @property
    def budget_left(self) -> float:
        """What the city's fund can still pay this period (money on hand and releases to come)."""
        return float(self.model.funds.budget_left(self.model.policy)[self.index])

    @property
    def talent(self) -> float:
        return self._get("talent")

    @property
    def capacity(self) -> float:
        return self._get("capacity")

    @property
    def share(self) -> float:
        """Share of last month's national productions."""
        return self._get("share")

    def __repr__(self) -> str:
        return f"City({self.city_id}, firms={self.firms}, share={self.share:.2f})"

"""The contest model: cities and production companies, one step per month."""

from __future__ import annotations

from dataclasses import dataclass, fields

import mesa
import numpy as np
import pandas as pd

from sim import economics, market
from sim.agents import City, Firm
from sim.choice import logit_choice
from sim.firms import PREMIUM, FirmTable
from sim.metrics import CapitalTracker, cost_per_job
from sim.params import CityParams, RunParams, ScenarioParams
from sim.strategies import REVISERS, StrategyContext, is_review_month
from sim.subsidy import PolicyArrays, category_probabilities, claim_per_production, ration

TABLE_COLUMNS = [
    "step", "date", "city", "firms", "productions", "share", "trailing_share", "employment",
    "subsidy_paid", "subsidy_total", "budget_left", "wage", "rent", "talent", "capacity",
    "reward_rate", "revenue", "tax", "tourism", "aigc_spent", "outlay_total", "cost_per_job",
    "jobs_created", "cost_per_job_created",
    "entered", "exited", "moved_in", "moved_out", "is_capital",
]


@dataclass
class CityState:
    """Per-city state columns (length J); `City` agents are views on one column."""

    base_wage: np.ndarray
    base_rent: np.ndarray
    culture: np.ndarray
    ecommerce: np.ndarray
    approval: np.ndarray
    wage: np.ndarray
    rent: np.ndarray
    talent: np.ndarray
    capacity: np.ndarray
    budget_left: np.ndarray
    firms: np.ndarray
    util: np.ndarray
    productions: np.ndarray
    share: np.ndarray
    employment: np.ndarray
    revenue: np.ndarray
    claims: np.ndarray
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

    @classmethod
    def initial(cls, cities: tuple[CityParams, ...]) -> CityState:
        """Endowments from the params; flows and counts start at zero."""
        col = lambda name: np.array([float(getattr(c, name)) for c in cities])  # noqa: E731
        zeros = lambda: np.zeros(len(cities))  # noqa: E731
        state = {f.name: zeros() for f in fields(cls)}
        state.update(
            base_wage=col("wage"), base_rent=col("rent"), wage=col("wage"), rent=col("rent"),
            culture=col("culture"), ecommerce=col("ecommerce"), approval=col("approval"),
            talent=col("talent"), capacity=col("studio_capacity"), util=np.ones(len(cities)),
        )
        return cls(**state)

    def reset_flows(self) -> None:
        """Zero this month's flows before a step."""
        for name in ("productions", "revenue", "claims", "subsidy_paid", "talent_spent", "studio_spent", "aigc_spent",
                     "tax", "tourism", "entered", "exited", "moved_in", "moved_out", "employment"):
            getattr(self, name)[:] = 0.0


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else value


class StudioProject:
    """Studio space under construction; Mesa's event list calls `complete` after the lag."""

    def __init__(self, model: ContestModel, city: int, teams: float):
        self.model, self.city, self.teams = model, city, teams

    def complete(self) -> None:
        """Add the space and forget the project."""
        self.model.city_state.capacity[self.city] += self.teams
        self.model._building.remove(self)


class ContestModel(mesa.Model):
    """Cities compete with subsidies and endowments; production companies choose where to work.

    `params` is a validated `RunParams` (see `sim.load_config` for building
    one from the YAML scenarios). Each `step()` is one month.
    """

    def __init__(self, params: RunParams):
        super().__init__(rng=params.seed)
        self.params = params
        sc: ScenarioParams = params.scenario
        self.scenario_params = sc
        self.start_year, self.start_month = (int(x) for x in params.start.split("-"))
        self.city_ids = [c.id for c in sc.cities]
        self.n_cities = len(sc.cities)
        self.policy = PolicyArrays.from_params([c.policy for c in sc.cities])
        self.city_state = CityState.initial(sc.cities)
        self.cities = [City(self, j, c.id, c.name, c.lon, c.lat) for j, c in enumerate(sc.cities)]
        self.firms = FirmTable(capacity=2 * sum(c.firms for c in sc.cities) + 64)
        self._firm_agents: list[Firm | None] = []
        self._building: list[StudioProject] = []  # strong refs: Mesa events hold weak ones
        self._search_direction = np.ones(self.n_cities)
        self._share_history: list[np.ndarray] = []
        self._objective_history: list[np.ndarray] = []
        self._records: list[dict] = []
        self.capital = CapitalTracker(self.city_ids, params.capital_threshold, params.capital_window)
        self.firms_at_start = 0
        self.entered_total = 0
        self.exited_total = 0
        self.moved_total = 0
        self.employment_at_start: np.ndarray | None = None  # jobs in the first month, the base for jobs created
        self._month: dict[str, np.ndarray] = {}
        self._place_initial_firms()
        self._rev_per_weight = self._expected_revenue_per_weight()

    # ------------------------------------------------------------------ calendar
    def month_index(self) -> int:
        """Months since the start for the step under way (0 for the first)."""
        return max(self.steps - 1, 0)

    def year_month(self, m: int | None = None) -> tuple[int, int]:
        """Calendar year and month of month index m (default: the step under way)."""
        m = self.month_index() if m is None else m
        total = self.start_month - 1 + m
        return self.start_year + total // 12, total % 12 + 1

    # ------------------------------------------------------------------ schedule
    def step(self) -> None:
        """One month, in named phases."""
        self.city_state.reset_flows()
        self.open_budgets()
        self.set_policies()
        self.produce_and_earn()
        self.pay_subsidies()
        self.settle_accounts()
        self.relocate_firms()
        self.enter_firms()
        self.update_cities()
        self.collect()

    def open_budgets(self) -> None:
        """Refill each city's fund at the start of its budget period (the first month, then Januaries)."""
        year, month = self.year_month()
        for j, c in enumerate(self.scenario_params.cities):
            period = c.policy.budget_period_years
            if self.month_index() == 0 or (month == 1 and (year - self.start_year) % period == 0):
                self.city_state.budget_left[j] = c.policy.annual_budget * period

    def set_policies(self) -> None:
        """Cities review their policy by their strategy."""
        done = self.month_index()
        if done == 0:
            return
        ctx = StrategyContext(
            share=np.array(self._share_history), objective=np.array(self._objective_history),
            budget_left=self.city_state.budget_left, policy=self.policy, direction=self._search_direction,
        )
        for j, c in enumerate(self.scenario_params.cities):
            if is_review_month(done, c.strategy):
                REVISERS[c.strategy.kind](j, c.strategy, ctx)

    def produce_and_earn(self) -> None:
        """Firms shoot with the studio space and crews they get and earn from the national market."""
        sc, cs, f = self.scenario_params, self.city_state, self.firms
        idx = f.idx
        c = f.city[idx]
        crew, rate, tier = f.crew[idx], f.rate[idx], f.tier[idx]
        n_j, crew_j = self._cluster_sizes()
        cs.util[:] = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        prod_j = economics.productivity(n_j, cs.approval, sc.behaviour)
        effective_rate = rate * prod_j[c]
        productions = self.rng.poisson(effective_rate * cs.util[c])

        year, _ = self.year_month()
        weights = (productions * self._tier_weights()[tier]
                   * (1.0 + sc.behaviour.ecommerce_uplift * cs.ecommerce[c]))
        pool = market.producer_pool(sc.market, year)
        revenue = market.share_by_attention(pool, weights)
        if weights.sum() > 0:
            self._rev_per_weight = pool / weights.sum()

        aigc = self.policy.aigc_support[c]
        shooting = economics.shooting_cost(cs.wage[c], cs.rent[c], crew, cs.util[c])
        cost = shooting * (1.0 - aigc) + sc.firms.overhead
        cs.aigc_spent[:] = np.bincount(c, weights=shooting * aigc, minlength=self.n_cities)
        per_production = economics.cost_per_production(cs.wage[c], cs.rent[c], crew, effective_rate,
                                                       sc.firms.overhead, aigc)
        categories = self.rng.multinomial(productions, self._category_probabilities(tier, c))
        claims = (categories * claim_per_production(per_production, c, self.policy)).sum(axis=1)

        self._month = {"idx": idx, "city": c, "productions": productions, "revenue": revenue,
                       "cost": cost, "claims": claims}
        cs.productions[:] = np.bincount(c, weights=productions, minlength=self.n_cities)
        cs.employment[:] = crew_j * cs.util
        cs.revenue[:] = np.bincount(c, weights=revenue, minlength=self.n_cities)
        cs.tax[:] = sc.economy.tax_rate * cs.revenue
        culture_made = np.bincount(c, weights=categories[:, 2] + categories[:, 3], minlength=self.n_cities)
        cs.tourism[:] = sc.economy.tourism_per_culture_production * culture_made
        total = cs.productions.sum()
        cs.share[:] = cs.productions / total if total > 0 else 0.0

    def pay_subsidies(self) -> None:
        """Cities pay the month's claims while their budget lasts (pro rata when it runs short)."""
        cs, mo = self.city_state, self._month
        cs.claims[:] = np.bincount(mo["city"], weights=mo["claims"], minlength=self.n_cities)
        ratio = ration(cs.claims, cs.budget_left)
        mo["paid"] = mo["claims"] * ratio[mo["city"]]
        cs.subsidy_paid[:] = np.bincount(mo["city"], weights=mo["paid"], minlength=self.n_cities)
        cs.budget_left[:] = np.maximum(cs.budget_left - cs.subsidy_paid, 0.0)
        cs.subsidy_total += cs.subsidy_paid

    def settle_accounts(self) -> None:
        """Profits update capital; firms with sustained losses or no capital exit."""
        f, mo, fp = self.firms, self._month, self.scenario_params.firms
        idx = mo["idx"]
        profit = mo["revenue"] + mo["paid"] - mo["cost"]
        f.profit[idx] = profit
        f.productions[idx] = mo["productions"]
        f.capital[idx] += profit
        f.loss_streak[idx] = np.where(profit < 0, f.loss_streak[idx] + 1, 0)
        leaving = idx[(f.loss_streak[idx] >= fp.exit_patience) | (f.capital[idx] < 0)]
        self._month["margin"] = profit.sum() / max(mo["cost"].sum(), 1.0)
        self.city_state.exited[:] = np.bincount(f.city[leaving], minlength=self.n_cities)
        self._remove_firms(leaving)

    def relocate_firms(self) -> None:
        """A random share of firms compare all cities and move by a logit choice."""
        f, b = self.firms, self.scenario_params.behaviour
        idx = f.idx
        rows = idx[self.rng.random(len(idx)) < b.reconsider_rate]
        if len(rows) == 0:
            return
        here = f.city[rows]
        utility = self.location_utility(f.crew[rows], f.tier[rows], f.rate[rows], here)
        there = logit_choice(utility, b.logit_scale, self.rng)
        moving = there != here
        movers = rows[moving]
        f.capital[movers] -= b.moving_cost
        self.city_state.moved_out[:] = np.bincount(here[moving], minlength=self.n_cities)
        self.city_state.moved_in[:] = np.bincount(there[moving], minlength=self.n_cities)
        f.city[movers] = there[moving]
        self.moved_total += int(moving.sum())

    def enter_firms(self) -> None:
        """New firms enter while the market pays; they choose a city as movers do."""
        sc = self.scenario_params
        fp = sc.firms
        margin = self._entry_margin()
        if margin <= 0:
            return
        n_firms = len(self.firms.idx)
        k = int(self.rng.poisson(fp.entry_rate * n_firms * min(margin, 1.0) + fp.entry_floor))
        if k == 0:
            return
        crew, tier, rate = self._draw_firms(k)
        utility = self.location_utility(crew, tier, rate, np.full(k, -1))
        city = logit_choice(utility, sc.behaviour.logit_scale, self.rng)
        self._add_firms(city, crew, tier, rate)
        self.city_state.entered[:] = np.bincount(city, minlength=self.n_cities)
        self.entered_total += k

    def update_cities(self) -> None:
        """Crews move in to fill shortages and programmes train more, studios get built, rents and wages follow demand."""
        sc, cs = self.scenario_params, self.city_state
        b = sc.behaviour
        n_j, crew_j = self._cluster_sizes()
        for j, c in enumerate(sc.cities):
            p = c.policy
            cs.talent_spent[j] = p.talent_programme / 12.0
            cs.studio_spent[j] = p.studio_investment / 12.0
            if cs.studio_spent[j] > 0:
                project = StudioProject(self, j, cs.studio_spent[j] / p.studio_cost_per_team)
                self._building.append(project)
                # Due half a month before the step `lag` months on, so it is usable in that month.
                self.schedule_event(project.complete, after=p.studio_lag_months - 0.5)
        cs.talent[:] = economics.next_talent(cs.talent, crew_j, cs.talent_spent / b.trainee_cost, b)
        cs.capacity[:] = economics.next_private_capacity(cs.capacity, n_j, b)
        cs.wage[:] = economics.wage_level(cs.base_wage, crew_j, cs.talent, b)
        cs.rent[:] = economics.rent_level(cs.base_rent, n_j, cs.capacity, b)
        cs.firms[:] = n_j
        cs.outlay_total += self._outlay()

    def collect(self) -> None:
        """Record the month's city accounts and update the capital test."""
        cs = self.city_state
        self._share_history.append(cs.share.copy())
        value = np.array([c.strategy.job_value for c in self.scenario_params.cities])
        self._objective_history.append(
            value * cs.employment + cs.tax + cs.tourism - self._outlay())
        trailing = self.capital.update(self.steps, cs.productions)
        if self.employment_at_start is None:
            self.employment_at_start = cs.employment.copy()
        created = cs.employment - self.employment_at_start
        year, month = self.year_month()
        date = pd.Timestamp(year=year, month=month, day=1)
        for j, city_id in enumerate(self.city_ids):
            employment = float(cs.employment[j])
            self._records.append({
                "step": self.steps, "date": date, "city": city_id,
                "firms": int(cs.firms[j]), "productions": int(cs.productions[j]),
                "share": float(cs.share[j]), "trailing_share": float(trailing[j]),
                "employment": employment, "subsidy_paid": float(cs.subsidy_paid[j]),
                "subsidy_total": float(cs.subsidy_total[j]), "budget_left": float(cs.budget_left[j]),
                "wage": float(cs.wage[j]), "rent": float(cs.rent[j]), "talent": float(cs.talent[j]),
                "capacity": float(cs.capacity[j]), "reward_rate": float(self.policy.reward_rate[j]),
                "revenue": float(cs.revenue[j]), "tax": float(cs.tax[j]), "tourism": float(cs.tourism[j]),
                "outlay_total": float(cs.outlay_total[j]),
                "aigc_spent": float(cs.aigc_spent[j]),
                "cost_per_job": _nan_if_none(cost_per_job(cs.outlay_total[j], employment)),
                "jobs_created": float(created[j]),
                "cost_per_job_created": _nan_if_none(cost_per_job(cs.outlay_total[j], created[j])),
                "entered": int(cs.entered[j]), "exited": int(cs.exited[j]),
                "moved_in": int(cs.moved_in[j]), "moved_out": int(cs.moved_out[j]),
                "is_capital": self.capital.current == city_id,
            })

    # ------------------------------------------------------------------ choice
    def location_utility(self, crew: np.ndarray, tier: np.ndarray, rate: np.ndarray,
                         current: np.ndarray) -> np.ndarray:
        """Deterministic utility of every city (columns) for each chooser (rows), million yuan.

        Expected profit over the planning horizon (market income by tier,
        expected subsidy given the budget left, wages and rent there), minus
        the moving cost for a city other than `current` (-1: entrant), plus
        the pull of the cluster, of spare talent and of spare studio space.
        """
        sc, cs = self.scenario_params, self.city_state
        b = sc.behaviour
        n_j, crew_j = self._cluster_sizes()
        profit = self._expected_profit(crew, tier, rate, n_j)
        utility = (b.horizon_months * profit - b.moving_cost * (np.arange(self.n_cities)[None, :] != current[:, None])) / 1e6
        spare_talent = np.maximum(cs.talent - crew_j, 0.0) / sc.firms.crew_mean
        spare_slots = np.maximum(cs.capacity - n_j, 0.0)
        utility += (b.cluster_pull * np.log1p(n_j) + b.talent_pull * np.log1p(spare_talent)
                    + b.facility_pull * np.log1p(spare_slots))[None, :]
        return utility

    def _expected_profit(self, crew: np.ndarray, tier: np.ndarray, rate: np.ndarray,
                         n_j: np.ndarray) -> np.ndarray:
        """Expected monthly profit (n, J) for firms of these kinds in each city."""
        sc, cs = self.scenario_params, self.city_state
        n, J = len(crew), self.n_cities
        effective_rate = rate[:, None] * economics.productivity(n_j, cs.approval, sc.behaviour)[None, :]
        output = effective_rate * cs.util[None, :]
        income = (self._rev_per_weight * self._tier_weights()[tier][:, None]
                  * (1.0 + sc.behaviour.ecommerce_uplift * cs.ecommerce)[None, :])
        aigc = self.policy.aigc_support[None, :]
        per_production = economics.cost_per_production(cs.wage[None, :], cs.rent[None, :], crew[:, None],
                                                       effective_rate, sc.firms.overhead, aigc)
        city = np.broadcast_to(np.arange(J), (n, J)).ravel()
        claims = claim_per_production(per_production.ravel(), city, self.policy)
        probs = self._category_probabilities(np.repeat(tier, J), city)
        expected_claim = (claims * probs).sum(axis=1).reshape(n, J)
        cost = economics.monthly_cost(cs.wage[None, :], cs.rent[None, :], crew[:, None], cs.util[None, :],
                                      sc.firms.overhead, aigc)
        return output * (income + expected_claim * self._payout_outlook()[None, :]) - cost

    def _payout_outlook(self) -> np.ndarray:
        """Share of claims a city is expected to pay: its budget left over the claims still to come this period."""
        cs = self.city_state
        year, month = self.year_month()
        months_left = np.array([
            12 * (c.policy.budget_period_years - (year - self.start_year) % c.policy.budget_period_years) - (month - 1)
            for c in self.scenario_params.cities], dtype=float)
        upcoming = cs.claims * months_left
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # results are clipped
            outlook = np.where(upcoming > 0, cs.budget_left / upcoming, (cs.budget_left > 0).astype(float))
        return np.clip(outlook, 0.0, 1.0)

    def _entry_margin(self) -> float:
        """Profit margin that draws entrants: the incumbents' realised margin this month.

        With no incumbents, the expected margin of a typical new traffic firm
        in its best city.
        """
        if len(self._month.get("idx", ())) > 0:
            return float(self._month["margin"])
        fp = self.scenario_params.firms
        crew, tier, rate = np.array([fp.crew_mean]), np.array([0]), np.array([fp.rate_traffic])
        n_j, _ = self._cluster_sizes()
        profit = self._expected_profit(crew, tier, rate, n_j)[0]
        cs = self.city_state
        cost = economics.monthly_cost(cs.wage, cs.rent, crew[0], cs.util, fp.overhead, self.policy.aigc_support)
        return float(np.max(profit / cost))

    # ------------------------------------------------------------------ firms
    def _outlay(self) -> np.ndarray:
        """The month's treasury spending per city: subsidies, AIGC support, talent and studio programmes."""
        cs = self.city_state
        return cs.subsidy_paid + cs.aigc_spent + cs.talent_spent + cs.studio_spent

    def _cluster_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Live firms and their crews per city now."""
        f = self.firms
        idx = f.idx
        n_j = np.bincount(f.city[idx], minlength=self.n_cities).astype(float)
        crew_j = np.bincount(f.city[idx], weights=f.crew[idx], minlength=self.n_cities)
        return n_j, crew_j

    def _draw_firms(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Crew, tier and base rate of k new firms."""
        fp = self.scenario_params.firms
        tier = (self.rng.random(k) < fp.premium_share).astype(np.int8)
        sigma = fp.crew_spread
        crew = np.maximum(1.0, fp.crew_mean * self.rng.lognormal(-0.5 * sigma**2, sigma, size=k))
        rate = np.where(tier == PREMIUM, fp.rate_premium, fp.rate_traffic)
        return crew, tier, rate

    def _add_firms(self, city: np.ndarray, crew: np.ndarray, tier: np.ndarray, rate: np.ndarray) -> None:
        fp, cs = self.scenario_params.firms, self.city_state
        start_cost = economics.monthly_cost(cs.wage[city], cs.rent[city], crew, 1.0, fp.overhead,
                                            self.policy.aigc_support[city])
        rows = self.firms.add(city, crew, tier, rate, capital=fp.start_capital_months * start_cost)
        self._firm_agents.extend(Firm(self, int(r)) for r in rows)

    def _remove_firms(self, rows: np.ndarray) -> None:
        self.firms.alive[rows] = False
        for r in rows:
            self._firm_agents[r].remove()
            self._firm_agents[r] = None
        self.exited_total += len(rows)

    def _place_initial_firms(self) -> None:
        counts = [c.firms for c in self.scenario_params.cities]
        city = np.repeat(np.arange(self.n_cities), counts)
        crew, tier, rate = self._draw_firms(len(city))
        self._add_firms(city, crew, tier, rate)
        self.firms_at_start = len(city)
        self.city_state.firms[:] = counts

    def _expected_revenue_per_weight(self) -> float:
        """Before the first month: the pool over the attention the starting firms would earn."""
        sc, cs, f = self.scenario_params, self.city_state, self.firms
        idx = f.idx
        c = f.city[idx]
        n_j, crew_j = self._cluster_sizes()
        util = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        output = f.rate[idx] * economics.productivity(n_j, cs.approval, sc.behaviour)[c] * util[c]
        weights = output * self._tier_weights(0)[f.tier[idx]] * (1.0 + sc.behaviour.ecommerce_uplift * cs.ecommerce[c])
        year, _ = self.year_month(0)
        return market.producer_pool(sc.market, year) / max(weights.sum(), 1e-9)

    def _tier_weights(self, m: int | None = None) -> np.ndarray:
        """Attention per production by tier in month index m; the quality shift counts from 2024-01."""
        year, month = self.year_month(m)
        return market.tier_weights(self.scenario_params.market, max((year - 2024) + (month - 1) / 12.0, 0.0))

    def _category_probabilities(self, tier: np.ndarray, city: np.ndarray) -> np.ndarray:
        fp = self.scenario_params.firms
        p_award = np.where(tier == PREMIUM, fp.award_prob_premium, fp.award_prob_traffic)
        p_culture = fp.culture_theme_max * self.city_state.culture[city]
        return category_probabilities(p_award, p_culture)

    # ------------------------------------------------------------------ results
    @property
    def firm_agents(self) -> list[Firm]:
        """The live Firm agents."""
        return [a for a in self._firm_agents if a is not None]

    @property
    def n_firms(self) -> int:
        """Firms alive now."""
        return int(self.firms.alive[: len(self.firms)].sum())

    def run(self, steps: int | None = None) -> ContestModel:
        """Run `steps` months (default: the params' steps); returns self."""
        for _ in range(self.params.steps if steps is None else steps):
            self.step()
        return self

    def city_table(self) -> pd.DataFrame:
        """One row per step per city (the columns of cities.parquet)."""
        return pd.DataFrame.from_records(self._records, columns=TABLE_COLUMNS)

    def summary(self) -> dict:
        """The outcome so far (the keys of summary.json)."""
        from sim.metrics import summarise

        return summarise(self)

"""The contest model: cities and production companies, one step per month."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim import economics, market
from sim.agents import City, Firm
from sim.choice import logit_choice
from sim.cities import TABLE_COLUMNS, CityRecorder, CityState
from sim.economics import FirmKinds, Places
from sim.firms import PREMIUM, TRAFFIC, FirmTable, as_tier, draw_firms
from sim.memory import reuse_freed_memory
from sim.metrics import CapitalTracker
from sim.outcomes import summarise
from sim.params import OUTSIDE_ID, STRATEGY_LEVERS, ParamError, PolicyShock, RunParams, ScenarioParams, month_offset
from sim.policy import (Funds, PolicyArrays, expected_claim, monthly_programmes, outlay, payout_outlook,
                        review_productions)
from sim.strategies import REVISERS, StrategyContext, is_review_month

__all__ = ["ContestModel", "TABLE_COLUMNS"]

# Each random phase draws from its own stream, seeded by (run root, month, phase): a change in one
# phase's draws (or in a counterfactual's policy) leaves the other phases' numbers where they were.
PHASES = {"produce": 1, "relocate": 2, "enter": 3, "exit": 4}


@dataclass
class FirmMonth:
    """One month of every live firm, in the firm table's row order: what the production phase hands to payment and
    settlement."""

    city: np.ndarray  # place index of each firm
    productions: np.ndarray  # productions made this month
    revenue: np.ndarray  # yuan from the market
    cost: np.ndarray  # yuan paid (crews, studio, overhead, spend)
    claims: np.ndarray  # yuan of rewards claimed (passed review)
    support: np.ndarray  # yuan of AIGC support claimed
    paid: np.ndarray | None = None  # yuan the city's fund paid of claims and support (set by `pay_subsidies`)


class StudioProject:
    """Studio space under construction; Mesa's event list calls `complete` after the lag."""

    def __init__(self, model: ContestModel, city: int, teams: float):
        self.model, self.city, self.teams = model, city, teams

    def complete(self) -> None:
        """Add the space and forget the project."""
        cs = self.model.city_state
        cs.capacity[self.city] += self.teams
        cs.endowed_capacity[self.city] += self.teams
        self.model._building.remove(self)


class ContestModel(mesa.Model):
    """Cities compete with subsidies and endowments; production companies choose where to work.

    `params` is a validated `RunParams` (see `sim.load_config` for building
    one from the YAML scenarios). Each `step()` is one month. Places are
    the scenario's cities and, when the scenario models it, the rest of the
    country (`place_ids[-1] == "rest"`), which firms may choose but which
    has no policy and cannot become the capital.
    """

    def __init__(self, params: RunParams):
        reuse_freed_memory()
        super().__init__(rng=params.seed)
        self.params = params
        sc: ScenarioParams = params.scenario
        self.scenario_params = sc
        self.start_year, self.start_month = (int(x) for x in params.start.split("-"))
        self.city_ids = [c.id for c in sc.cities]
        self.n_cities = len(sc.cities)
        outside = sc.outside if sc.outside.enabled else None
        self.place_ids = self.city_ids + ([OUTSIDE_ID] if outside else [])
        self.n_places = len(self.place_ids)
        self.policy = PolicyArrays.from_params([c.policy for c in sc.cities], no_policy=self.n_places - self.n_cities)
        self.announced = self.policy.copy()
        self._shocks: dict[int, list] = {}  # month index -> the shocks applied at its start, in the order given
        for shock in params.shocks:
            self._shocks.setdefault(month_offset(params.start, shock.at), []).append(shock)
        self.funds = Funds.empty(self.n_places)
        self.city_state = CityState.initial(sc.cities, outside)
        self.cities = [City(self, j, c.id, c.name, c.lon, c.lat) for j, c in enumerate(sc.cities)]
        self.move_cost = economics.moving_costs(self._distances(), sc.behaviour)
        self.firms = FirmTable(capacity=2 * (sum(c.firms for c in sc.cities) + (outside.firms if outside else 0)) + 64)
        self._firm_views: dict[int, Firm] = {}  # Firm agents by firm id, made when first asked for
        self._views_version = -1
        self._building: list[StudioProject] = []  # strong refs: Mesa events hold weak ones
        self._root = int(self.rng.integers(2**63))
        self._search_direction = np.ones((self.n_places, len(STRATEGY_LEVERS)))
        self._search_turn = np.zeros(self.n_places, dtype=int)
        self._objective_history: list[np.ndarray] = []
        self._job_value = np.array([c.strategy.job_value for c in sc.cities] + [0.0] * (self.n_places - self.n_cities))
        self.recorder = CityRecorder(self.place_ids)
        self.capital = CapitalTracker(self.place_ids, params.capital_threshold, params.capital_window,
                                      eligible=~self.city_state.outside, margin=params.capital_margin)
        self.firms_at_start = 0
        self.entered_total = 0
        self.exited_total = 0
        self.moved_total = 0
        self.employment_at_start: np.ndarray | None = None  # jobs in the first month, the base for jobs created
        self._month: FirmMonth | None = None  # this month's per-firm production and money (set by `produce_and_earn`)
        self._view: Places | None = None  # what choosers see this month (set by `survey_places`)
        self._rev_per_weight = 0.0  # yuan of the pool per unit of attention last produced
        self._pool = 0.0  # yuan of the month's producer pool
        self._place_initial_firms(outside.firms if outside else 0)

    # ------------------------------------------------------------------ calendar
    def month_index(self) -> int:
        """Months since the start for the step under way (0 for the first)."""
        return max(self.steps - 1, 0)

    def year_month(self, m: int | None = None) -> tuple[int, int]:
        """Calendar year and month of month index m (default: the step under way)."""
        m = self.month_index() if m is None else m
        total = self.start_month - 1 + m
        return self.start_year + total // 12, total % 12 + 1

    def _phase_rng(self, phase: str) -> np.random.Generator:
        """This month's generator for one phase (derived from the model's own generator at start)."""
        return np.random.default_rng([self._root, self.steps, PHASES[phase]])

    # ------------------------------------------------------------------ schedule
    def step(self) -> None:
        """One month, in named phases."""
        self.apply_policy_shocks()
        self.open_budgets()
        self.set_policies()
        self.produce_and_earn()
        self.pay_subsidies()
        self.settle_accounts()
        self.survey_places()
        self.relocate_firms()
        self.enter_firms()
        self.update_cities()
        self.collect()

    def apply_policy_shocks(self) -> None:
        """The planner's changes due this month (`params.shocks`) become the cities' policy and announced policy."""
        cs = self.city_state
        cs.shocks[:] = 0
        for shock in self._shocks.get(self.month_index(), ()):
            j = self.city_ids.index(shock.city)
            getattr(self.policy, shock.lever)[j] = shock.value
            getattr(self.announced, shock.lever)[j] = shock.value
            cs.shocks[j] += 1

    def add_shock(self, shock: PolicyShock) -> None:
        """Change a city's policy while the model runs: `shock` applies from its month, which must still be to come.

        The run's params record it (`params.shocks`), so they still describe
        the whole run: a model built from them makes the same table.
        """
        if month_offset(self.params.start, shock.at) < self.steps:
            year, month = self.year_month(self.steps)
            raise ParamError("shocks.at", f"{shock.at} has been simulated already; the next month is {year}-{month:02d}")
        self.params = dataclasses.replace(self.params, shocks=(*self.params.shocks, shock))  # validates the city
        self._shocks.setdefault(month_offset(self.params.start, shock.at), []).append(shock)

    def open_budgets(self) -> None:
        """Zero the month's flows; open the funds whose period starts now and release a month's money."""
        self.city_state.reset_flows()
        year, month = self.year_month()
        self.funds.open_and_release(self.policy, self.month_index(), year - self.start_year, month)

    def set_policies(self) -> None:
        """Cities review their policy by their strategy."""
        done = self.month_index()
        reviewing = [j for j, c in enumerate(self.scenario_params.cities) if done > 0 and is_review_month(done, c.strategy)]
        if not reviewing:
            return
        rec = self.recorder
        ctx = StrategyContext(
            share=rec.column("share"), objective=np.array(self._objective_history),
            claims=rec.column("claims"), paid=rec.column("subsidy_paid"), policy=self.policy,
            announced=self.announced, direction=self._search_direction, turn=self._search_turn,
            n_cities=self.n_cities,
        )
        for j in reviewing:
            c = self.scenario_params.cities[j]
            REVISERS[c.strategy.kind](j, c.strategy, ctx)

    def produce_and_earn(self) -> None:
        """Firms shoot with the studio space and crews they get, earn from the national market and file claims."""
        sc, cs, f, pol = self.scenario_params, self.city_state, self.firms, self.policy
        rng = self._phase_rng("produce")
        c, crew, tier, spend = f.city, f.crew, f.tier, f.spend
        n_j, crew_j = self._cluster_sizes()
        cs.util[:] = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        util = cs.util[c]
        effective_rate = f.rate * self._productivity(n_j)[c]
        productions = rng.poisson(effective_rate * util)

        year, month = self.year_month()
        weights = productions * self._tier_weights()[tier] * (1.0 + sc.behaviour.ecommerce_uplift * cs.ecommerce)[c]
        pool = market.producer_pool(sc.market, year, month)
        hits = market.hit_factors(productions, sc.market.hit_spread, rng)
        revenue = market.share_by_attention(pool, weights * hits)
        self._pool = pool
        if weights.sum() > 0:
            self._rev_per_weight = pool / weights.sum()

        wage, rent = cs.wage[c], cs.rent[c]
        shooting = economics.shooting_cost(wage, rent, crew, util)
        cost = economics.monthly_cost(shooting, sc.firms.overhead, spend, productions)
        support = economics.aigc_claim(shooting, pol.aigc_support[c])  # claimed from the city's fund with rewards
        per_production = economics.cost_per_production(wage, rent, crew, effective_rate, sc.firms.overhead, spend)
        # The city's review passes some productions; those claim by category (award, local theme).
        claims, culture_made = review_productions(productions, per_production, c, self._award_probability(tier),
                                                  self._culture_probability()[c], pol, rng)

        self._month = FirmMonth(city=c, productions=productions, revenue=revenue, cost=cost, claims=claims,
                                support=support)
        cs.productions[:] = np.bincount(c, weights=productions, minlength=self.n_places)
        cs.employment[:] = crew_j * cs.util
        cs.revenue[:] = np.bincount(c, weights=revenue, minlength=self.n_places)
        cs.tax[:] = sc.economy.tax_rate * cs.revenue
        cs.tourism[:] = sc.economy.tourism_per_culture_production * np.bincount(
            c, weights=culture_made, minlength=self.n_places)
        total = cs.productions.sum()
        cs.share[:] = cs.productions / total if total > 0 else 0.0

    def pay_subsidies(self) -> None:
        """Each city pays the month's reward and AIGC-support claims from the money its fund has released (pro rata
        when short): every cash instrument is bounded by the fund the city committed."""
        cs, mo = self.city_state, self._month
        cs.claims[:] = np.bincount(mo.city, weights=mo.claims, minlength=self.n_places)
        support = np.bincount(mo.city, weights=mo.support, minlength=self.n_places)
        ratio = self.funds.pay(cs.claims + support)
        mo.paid = (mo.claims + mo.support) * ratio[mo.city]
        cs.subsidy_paid[:] = cs.claims * ratio
        cs.aigc_spent[:] = support * ratio
        cs.subsidy_total += cs.subsidy_paid

    def settle_accounts(self) -> None:
        """Profits update capital; firms with sustained losses or no capital exit."""
        f, mo, fp, cs = self.firms, self._month, self.scenario_params.firms, self.city_state
        profit = mo.revenue + mo.paid - mo.cost
        f.profit = profit
        f.productions = mo.productions
        f.capital += profit
        # Works arrive in lumps (a premium drama takes months): judge the trend, not a single month.
        f.profit_trend += (profit - f.profit_trend) / fp.exit_patience
        f.loss_streak = np.where(f.profit_trend < 0, f.loss_streak + 1, 0)
        cs.profit[:] = np.bincount(mo.city, weights=profit, minlength=self.n_places)
        # Closing is a hazard, not a date: when a whole market is overcrowded, companies closing one by one
        # lift the survivors' profits, and those that are earning again this month stay.
        tired = (f.loss_streak >= fp.exit_patience) & (profit < 0)
        closes = tired & (self._phase_rng("exit").random(len(f)) < fp.exit_hazard)
        leaving = np.flatnonzero(closes | (f.capital < 0))
        cs.exited[:] = np.bincount(f.city[leaving], minlength=self.n_places)
        self.firms.remove(leaving)
        self.exited_total += len(leaving)

    def survey_places(self) -> None:
        """Take the view of every place that this month's movers and entrants decide on (one view: they choose at once)."""
        self._view = self._places()

    def relocate_firms(self) -> None:
        """A random share of firms compare every place and move by a logit choice, paying the move; each stays
        attached to its home place."""
        f, b = self.firms, self.scenario_params.behaviour
        rng = self._phase_rng("relocate")
        rows = np.flatnonzero(rng.random(len(f)) < b.reconsider_rate)
        if len(rows) == 0:
            return
        places = self._view
        here = f.city[rows]
        profit = economics.expected_profit(self._kinds(rows), places, self.policy, self._rev_per_weight,
                                           self.scenario_params.firms.overhead)
        utility = economics.location_utility(profit, b.horizon_months, self.move_cost[here], places.pull,
                                             f.home[rows], b.home_pull)
        there = logit_choice(utility, b.logit_scale, rng)
        moving = there != here
        movers = rows[moving]
        f.capital[movers] -= self.move_cost[here[moving], there[moving]]
        self.city_state.moved_out[:] = np.bincount(here[moving], minlength=self.n_places)
        self.city_state.moved_in[:] = np.bincount(there[moving], minlength=self.n_places)
        f.city[movers] = there[moving]
        self.moved_total += int(moving.sum())

    def enter_firms(self) -> None:
        """Would-be entrants are founded where the industry's people are; each picks where it would work, then enters
        if it expects to recover the entry cost there better than its outside option."""
        sc, cs = self.scenario_params, self.city_state
        fp, b = sc.firms, sc.behaviour
        rng = self._phase_rng("enter")
        k = int(rng.poisson(fp.entry_rate * len(self.firms) + fp.entry_floor))
        if k == 0:
            return
        crew, drawn, rate, spend = draw_firms(fp, k, rng)
        _, crew_j = self._cluster_sizes()
        born = economics.founders_weights(crew_j, cs.talent, cs.outside, sc.outside.idle_share)
        home = rng.choice(self.n_places, size=k, p=born)
        places = self._view
        # A new company picks the tier that pays better (the market's shift to quality steers entry), and the
        # place by the profit of its better tier there; a company keeps its tier for life.
        options = []
        for tier in (TRAFFIC, PREMIUM):
            t = np.full(k, tier, dtype=np.int8)
            r, s = as_tier(fp, tier, spend, drawn)
            kinds = FirmKinds(crew, r, s, self._tier_weights()[t], self._award_probability(t))
            options.append((kinds, economics.expected_profit(kinds, places, self.policy, self._rev_per_weight,
                                                             fp.overhead)))
        premium_pays = options[PREMIUM][1] > options[TRAFFIC][1]
        profit = np.where(premium_pays, options[PREMIUM][1], options[TRAFFIC][1])
        utility = economics.location_utility(profit, b.horizon_months, self.move_cost[home], places.pull,
                                             home, b.home_pull)
        city = logit_choice(utility, b.logit_scale, rng)
        rows = np.arange(k)
        expected = profit[rows, city]
        tier = premium_pays[rows, city].astype(np.int8)
        rate, spend = (np.where(tier == PREMIUM, options[PREMIUM][0].rate, options[TRAFFIC][0].rate),
                       np.where(tier == PREMIUM, options[PREMIUM][0].spend, options[TRAFFIC][0].spend))
        kinds = FirmKinds(crew, rate, spend, self._tier_weights()[tier], self._award_probability(tier))
        attention = economics.expected_attention(kinds, places, city)
        hurdle = fp.entry_cost + self.move_cost[home, city]
        rho, chance = economics.entry_expectation(expected, attention, self._rev_per_weight, self._pool,
                                                  b.horizon_months, hurdle, b.logit_scale)
        expected = expected + attention * (rho - self._rev_per_weight)
        enter = rng.random(k) < chance
        city, home = city[enter], home[enter]
        self._add_firms(city, crew[enter], tier[enter], rate[enter], spend[enter], expected[enter], home)
        cs.entered[:] = np.bincount(city, minlength=self.n_places)
        self.entered_total += int(enter.sum())

    def update_cities(self) -> None:
        """Programmes train crews and build studios; crews move in to fill shortages; rents and wages follow demand."""
        sc, cs, pol = self.scenario_params, self.city_state, self.policy
        b = sc.behaviour
        n_j, crew_j = self._cluster_sizes()
        cs.talent_spent[:], cs.studio_spent[:] = monthly_programmes(pol)
        for j in np.flatnonzero(cs.studio_spent > 0):
            project = StudioProject(self, int(j), cs.studio_spent[j] / pol.studio_cost_per_team[j])
            self._building.append(project)
            # Due half a month before the step `lag` months on, so it is usable in that month.
            self.schedule_event(project.complete, after=float(pol.studio_lag_months[j]) - 0.5)
        trained = cs.talent_spent / b.trainee_cost
        city = ~cs.outside
        cs.endowed_talent[city] += trained[city]
        cs.talent[city] = economics.next_talent(cs.talent, crew_j, trained, b)[city]
        cs.capacity[city] = economics.next_private_capacity(cs.capacity, n_j, b)[city]
        cs.wage[city] = economics.wage_level(cs.base_wage, crew_j, cs.endowed_talent, b)[city]
        cs.rent[city] = economics.rent_level(cs.base_rent, n_j, cs.endowed_capacity, b)[city]
        cs.firms[:] = n_j
        cs.outlay_total += self._outlay()

    def collect(self) -> None:
        """Record the month's city accounts and update the capital test."""
        cs = self.city_state
        self._objective_history.append(self._job_value * cs.employment + cs.tax + cs.tourism - self._outlay())
        trailing = self.capital.update(self.steps, cs.productions)
        if self.employment_at_start is None:
            self.employment_at_start = cs.employment.copy()
        created = cs.employment - self.employment_at_start
        year, month = self.year_month()
        per_job = np.full(self.n_places, np.nan)
        np.divide(cs.outlay_total, cs.employment, out=per_job, where=cs.employment >= 1.0)
        per_created = np.full(self.n_places, np.nan)
        np.divide(cs.outlay_total, created, out=per_created, where=created >= 1.0)
        capital = np.array([pid == self.capital.current for pid in self.place_ids])
        units = self.scenario_params.units
        self.recorder.record(pd.Timestamp(year=year, month=month, day=1), {
            "firms": cs.firms, "related_enterprises": cs.firms * units.enterprises_per_company,
            "productions": cs.productions, "share": cs.share, "trailing_share": trailing,
            "employment": cs.employment, "direct_jobs": cs.employment * units.direct_jobs_per_crew, "claims": cs.claims, "subsidy_paid": cs.subsidy_paid,
            "subsidy_total": cs.subsidy_total, "budget_left": self.funds.budget_left(self.policy),
            "annual_budget": self.policy.annual_budget, "payout_outlook": cs.outlook,
            "wage": cs.wage, "rent": cs.rent, "talent": np.where(cs.outside, np.nan, cs.talent),
            "capacity": np.where(cs.outside, np.nan, cs.capacity), "reward_rate": self.policy.reward_rate,
            "revenue": cs.revenue, "profit": cs.profit, "tax": cs.tax, "tourism": cs.tourism,
            "aigc_spent": cs.aigc_spent, "talent_spent": cs.talent_spent, "studio_spent": cs.studio_spent,
            "outlay_total": cs.outlay_total, "cost_per_job": per_job,
            "jobs_created": created, "cost_per_job_created": per_created,
            "entered": cs.entered, "exited": cs.exited, "moved_in": cs.moved_in, "moved_out": cs.moved_out,
            "is_capital": capital, "policy_shocks": cs.shocks,
        })

    # ------------------------------------------------------------------ what choosers see
    def _places(self) -> Places:
        """Every place as a chooser sees it now, with the payout outlook of each fund under its announced rules."""
        sc, cs = self.scenario_params, self.city_state
        b = sc.behaviour
        n_j, crew_j = self._cluster_sizes()
        util = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        cs.expected_claims[:] = self._expected_claims_at_home(n_j, util)
        cs.outlook[:] = payout_outlook(self.funds, self.policy, cs.expected_claims)
        cluster = self._cluster_for_output(n_j)
        spare_talent = np.where(cs.outside, 0.0, np.maximum(cs.talent - crew_j, 0.0) / sc.firms.crew_mean)
        spare_slots = np.where(cs.outside, 0.0, np.maximum(cs.capacity - n_j, 0.0))
        pull = (b.cluster_pull * np.log1p(cluster) + b.talent_pull * np.log1p(spare_talent)
                + b.facility_pull * np.log1p(spare_slots))
        # The rest of the country is many places at once: its logsum (McFadden 1978) over `places` alike ones.
        pull = pull + np.where(cs.outside, b.logit_scale * np.log(sc.outside.places), 0.0)
        return Places(wage=cs.wage, rent=cs.rent, util=util, productivity=self._productivity(n_j),
                      revenue_uplift=1.0 + b.ecommerce_uplift * cs.ecommerce, outlook=cs.outlook, pull=pull,
                      p_culture=self._culture_probability())

    def _kinds(self, rows: np.ndarray) -> FirmKinds:
        f = self.firms
        tier = f.tier[rows]
        return FirmKinds(f.crew[rows], f.rate[rows], f.spend[rows], self._tier_weights()[tier],
                         self._award_probability(tier))

    def _expected_claims_at_home(self, n_j: np.ndarray, util: np.ndarray) -> np.ndarray:
        """Yuan a month each city's rules draw from its current firms, in expectation (n_j firms, util per place)."""
        sc, cs, f = self.scenario_params, self.city_state, self.firms
        c = f.city
        rate = f.rate * self._productivity(n_j)[c]
        per_production = economics.cost_per_production(cs.wage[c], cs.rent[c], f.crew, rate, sc.firms.overhead,
                                                       f.spend)
        claim = expected_claim(per_production, c, self._award_probability(f.tier), self._culture_probability()[c],
                               self.policy)
        support = economics.aigc_claim(economics.shooting_cost(cs.wage[c], cs.rent[c], f.crew, util[c]),
                                       self.policy.aigc_support[c])
        return np.bincount(c, weights=claim * rate * util[c] + support, minlength=self.n_places)

    def _cluster_for_output(self, n_j: np.ndarray) -> np.ndarray:
        """Cluster size behind agglomeration: the firms of a city; the rest of the country is many clusters of its typical size."""
        return np.where(self.city_state.outside, self.scenario_params.outside.cluster, n_j)

    def _productivity(self, n_j: np.ndarray) -> np.ndarray:
        return economics.productivity(self._cluster_for_output(n_j), self.city_state.approval, self.scenario_params.behaviour)

    def _distances(self) -> np.ndarray:
        """Km between places; the rest of the country sits at its typical distance from every city."""
        sc = self.scenario_params
        lon = np.array([c.lon for c in sc.cities])
        lat = np.array([c.lat for c in sc.cities])
        d = np.full((self.n_places, self.n_places), sc.outside.distance_km)
        d[: self.n_cities, : self.n_cities] = economics.distances_km(lon, lat)
        np.fill_diagonal(d, 0.0)
        return d

    # ------------------------------------------------------------------ firms
    def _outlay(self) -> np.ndarray:
        """The month's treasury spending per place."""
        cs = self.city_state
        return outlay(cs.subsidy_paid, cs.aigc_spent, cs.talent_spent, cs.studio_spent)

    def _cluster_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Live firms and their crews per place now."""
        f = self.firms
        n_j = np.bincount(f.city, minlength=self.n_places).astype(float)
        crew_j = np.bincount(f.city, weights=f.crew, minlength=self.n_places)
        return n_j, crew_j

    def _add_firms(self, city: np.ndarray, crew: np.ndarray, tier: np.ndarray, rate: np.ndarray,
                   spend: np.ndarray, expected_profit: np.ndarray | None = None,
                   home: np.ndarray | None = None) -> None:
        """New firms in `city` with their starting capital and a profit trend at what they expect there.

        Entrants bring the profit they expected when they chose; the starting
        firms are valued once they are all in place (themselves counted).
        """
        fp, cs = self.scenario_params.firms, self.city_state
        start_cost = economics.monthly_cost(economics.shooting_cost(cs.wage[city], cs.rent[city], crew, 1.0),
                                            fp.overhead, spend, rate)
        rows = self.firms.add(city, crew, tier, rate, spend, capital=fp.start_capital_months * start_cost, home=home)
        if expected_profit is None:
            expected_profit = economics.expected_profit(self._kinds(rows), self._places(), self.policy,
                                                        self._rev_per_weight, fp.overhead, at=city)
        # A new firm's profit trend starts at what it expected where it settled, not at zero.
        self.firms.profit_trend[rows] = expected_profit

    def _place_initial_firms(self, outside_firms: int) -> None:
        counts = [c.firms for c in self.scenario_params.cities] + ([outside_firms] if self.n_places > self.n_cities else [])
        city = np.repeat(np.arange(self.n_places), counts)
        crew, tier, rate, spend = draw_firms(self.scenario_params.firms, len(city), self.rng)
        self._rev_per_weight = self._expected_revenue_per_weight(city, tier, rate, crew)
        self._add_firms(city, crew, tier, rate, spend)
        self.firms_at_start = len(city)
        self.city_state.firms[:] = counts

    def _expected_revenue_per_weight(self, c: np.ndarray, tier: np.ndarray, rate: np.ndarray, crew: np.ndarray) -> float:
        """Before the first month: the pool over the attention the starting firms (place, tier, rate, crew) would earn."""
        sc, cs = self.scenario_params, self.city_state
        n_j = np.bincount(c, minlength=self.n_places).astype(float)
        crew_j = np.bincount(c, weights=crew, minlength=self.n_places)
        util = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        output = rate * self._productivity(n_j)[c] * util[c]
        weights = output * self._tier_weights(0)[tier] * (1.0 + sc.behaviour.ecommerce_uplift * cs.ecommerce[c])
        year, month = self.year_month(0)
        return market.producer_pool(sc.market, year, month) / max(weights.sum(), 1e-9)

    def _tier_weights(self, m: int | None = None) -> np.ndarray:
        """Revenue weight per production by tier in month index m; the quality shift counts from 2024-01."""
        year, month = self.year_month(m)
        return market.tier_weights(self.scenario_params.market, max((year - 2024) + (month - 1) / 12.0, 0.0))

    def _award_probability(self, tier: np.ndarray) -> np.ndarray:
        fp = self.scenario_params.firms
        return np.where(tier == PREMIUM, fp.award_prob_premium, fp.award_prob_traffic)

    def _culture_probability(self) -> np.ndarray:
        """Chance a production made in each place has a local-culture theme."""
        return self.scenario_params.firms.culture_theme_max * self.city_state.culture

    # ------------------------------------------------------------------ results
    @property
    def n_firms(self) -> int:
        """Firms alive now."""
        return len(self.firms)

    # ------------------------------------------------------------------ agents
    @property
    def agents(self):
        """All agents (Mesa's AgentSet), the Firm views brought up to date first."""
        self._sync_firm_views()
        return super().agents

    @property
    def agents_by_type(self):
        """Agents by type (Mesa's dict of AgentSets), the Firm views brought up to date first."""
        self._sync_firm_views()
        return super().agents_by_type

    def _sync_firm_views(self) -> None:
        """Make a Firm agent for every live firm without one and remove those of firms that exited.

        Firms live in the NumPy table, so no phase makes or removes Python
        objects; the agents are made when someone first asks for them (and
        again after firms come and go), in the order the firms were created.
        """
        f = getattr(self, "firms", None)  # Mesa may ask before the table exists
        if f is None or f.version == self._views_version:
            return
        live = f.id.tolist()
        gone = self._firm_views.keys() - set(live)
        for firm_id in sorted(gone):
            self._firm_views.pop(firm_id).remove()
        for firm_id in live:
            if firm_id not in self._firm_views:
                self._firm_views[firm_id] = Firm(self, firm_id)
        self._views_version = f.version

    def run(self, steps: int | None = None) -> ContestModel:
        """Run `steps` months (default: the params' steps); returns self."""
        for _ in range(self.params.steps if steps is None else steps):
            self.step()
        return self

    def city_table(self) -> pd.DataFrame:
        """One row per month per place (the columns of cities.parquet)."""
        return self.recorder.table()

    def summary(self) -> dict:
        """The outcome so far (the keys of summary.json)."""
        return summarise(self)

"""`Ensemble`: runs of one scenario structure advanced together, each month one NumPy pass over all their companies.

The phases, their order and every formula are the reference model's
(sim/model.py); what differs is the layout. Places are global: place j of
run r is row r x L + j of every place array, so the per-place formulas of
sim/economics.py and sim/policy.py apply unchanged, with each run's own
parameters spread over its places (`self.bp`) or its companies. Sums over a
run (the market's pool, the share of output) are `bincount`s by run.
Choosers see their own run's places: an (n, L) block of global indices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.special import ndtri

from sim import economics, market
from sim.choice import choose_with
from sim.cities import TABLE_COLUMNS, CityState
from sim.economics import FirmKinds, Places
from sim.ensemble import kernels
from sim.ensemble.capital import EnsembleCapital
from sim.ensemble.firms import EnsembleFirms
from sim.ensemble.streams import RunStreams, per_run
from sim.firms import PREMIUM, TRAFFIC, draw_firms
from sim.memory import reuse_freed_memory
from sim.params import OUTSIDE_ID, STRATEGY_LEVERS, ParamError, PolicyShock, RunParams, StrategyKind, month_offset
from sim.policy import Funds, PolicyArrays, monthly_programmes, outlay, payout_outlook
from sim.strategies import REVISERS, StrategyContext, is_review_month

RECORDED = TABLE_COLUMNS[3:]  # the city table's columns a month records (step, date and city are laid out later)


def stacked(objects: Sequence) -> SimpleNamespace:
    """One array per numeric field of a params dataclass, a value per run."""
    first = objects[0]
    out = {}
    for f in dataclasses.fields(first):
        value = getattr(first, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f.name] = np.array([getattr(o, f.name) for o in objects], dtype=float)
    return SimpleNamespace(**out)


def spread(values: SimpleNamespace, index: np.ndarray) -> SimpleNamespace:
    """Each field's value at `index` (runs -> places or companies)."""
    return SimpleNamespace(**{k: v[index] for k, v in vars(values).items()})


def structure(params: RunParams) -> tuple:
    """What runs must share to be advanced together: their places, start and length."""
    sc = params.scenario
    return (tuple(c.id for c in sc.cities), sc.outside.enabled, params.start, params.steps)


class Ensemble:
    """Runs advanced together (see the module docstring). `run()` then `view(i)` for run i's results."""

    def __init__(self, runs: Sequence[RunParams]):
        reuse_freed_memory()
        runs = list(runs)
        if not runs:
            raise ParamError("runs", "an ensemble needs at least one run")
        shape = structure(runs[0])
        for p in runs[1:]:
            if structure(p) != shape:
                raise ParamError("runs", f"every run of an ensemble shares its places, start and steps; "
                                         f"{structure(p)} differs from {shape}")
        self.runs = runs
        first = runs[0]
        self.start_year, self.start_month = (int(x) for x in first.start.split("-"))
        self.city_ids = [c.id for c in first.scenario.cities]
        self.n_cities = len(self.city_ids)
        self.outside_on = first.scenario.outside.enabled
        self.place_ids = self.city_ids + ([OUTSIDE_ID] if self.outside_on else [])
        R, L = len(runs), len(self.place_ids)
        self.R, self.L, self.months = R, L, first.steps
        self.place_run = np.repeat(np.arange(R), L)
        self.place_local = np.tile(np.arange(L), R)
        scs = [p.scenario for p in runs]
        self.b, self.fp = stacked([sc.behaviour for sc in scs]), stacked([sc.firms for sc in scs])
        self.economy, self.units = stacked([sc.economy for sc in scs]), stacked([sc.units for sc in scs])
        self.out = stacked([sc.outside for sc in scs])
        self.bp = spread(self.b, self.place_run)  # behaviour by place, for the per-place formulas
        self._firm_params = [sc.firms for sc in scs]
        outside = lambda sc: sc.outside if sc.outside.enabled else None  # noqa: E731
        no_policy = L - self.n_cities
        self.policy = _concat_policies([PolicyArrays.from_params([c.policy for c in sc.cities], no_policy=no_policy)
                                        for sc in scs])
        self.announced = self.policy.copy()
        self.funds = Funds.empty(R * L)
        self.cs = _concat_states([CityState.initial(sc.cities, outside(sc)) for sc in scs])
        self.move_cost = np.stack([economics.moving_costs(_distances(sc, L), sc.behaviour) for sc in scs])
        self.streams = RunStreams([p.seed for p in runs])
        self._hit_spread = np.array([sc.market.hit_spread for sc in scs])
        self._pools, self._tier_weights = _market_paths(scs, self.start_year, self.start_month, self.months)
        self._shocks: dict[int, list[tuple[int, int, str, float]]] = {}
        for r, p in enumerate(runs):
            for shock in p.shocks:
                self._shocks.setdefault(month_offset(p.start, shock.at), []).append(
                    (r, self.city_ids.index(shock.city), shock.lever, shock.value))
        self._revisers = [(r, j, c.strategy) for r, sc in enumerate(scs) for j, c in enumerate(sc.cities)
                          if c.strategy.kind is not StrategyKind.fixed]
        self._job_value = np.concatenate([[c.strategy.job_value for c in sc.cities] + [0.0] * no_policy for sc in scs])
        self._direction = np.ones((R, L, len(STRATEGY_LEVERS)))
        self._turn = np.zeros((R, L), dtype=int)
        self._building = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0))  # due step, place, teams
        self.capital = EnsembleCapital(R, L, np.array([p.capital_threshold for p in runs]),
                                       np.array([p.capital_window for p in runs]),
                                       np.array([p.capital_margin for p in runs]), ~self.cs.outside, self.months)
        self.records = {name: np.zeros((self.months, R * L)) for name in RECORDED}
        self._objective = np.zeros((self.months, R * L))
        self.dates: list[pd.Timestamp] = []
        self.steps = 0
        self.firms = EnsembleFirms(L, R)
        self.firms_at_start = np.zeros(R, dtype=int)
        self.entered_total = np.zeros(R, dtype=int)
        self.exited_total = np.zeros(R, dtype=int)
        self.moved_total = np.zeros(R, dtype=int)
        self.employment_at_start: np.ndarray | None = None
        self.rpw = np.zeros(R)  # yuan of the pool per unit of attention last produced, per run
        self.pool = np.zeros(R)
        self._month: SimpleNamespace | None = None
        self._view: Places | None = None
        self._place_initial_firms([[c.firms for c in sc.cities] + ([sc.outside.firms] if self.outside_on else [])
                                   for sc in scs])

    # ------------------------------------------------------------------ calendar
    def month_index(self) -> int:
        return max(self.steps - 1, 0)

    def year_month(self, m: int | None = None) -> tuple[int, int]:
        m = self.month_index() if m is None else m
        total = self.start_month - 1 + m
        return self.start_year + total // 12, total % 12 + 1

    # ------------------------------------------------------------------ schedule
    def run(self, steps: int | None = None) -> Ensemble:
        """Advance `steps` months (default: the runs' length); returns self."""
        for _ in range(self.months - self.steps if steps is None else steps):
            self.step()
        return self

    def step(self) -> None:
        """One month of every run, in the reference model's phases."""
        if self.steps >= self.months:
            raise ParamError("steps", f"the ensemble's runs are {self.months} months long")
        self.steps += 1
        self.complete_studios()
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

    def complete_studios(self) -> None:
        """Studio space whose lag has passed opens before the month's work (as the reference's Mesa events)."""
        due, place, teams = self._building
        now = due == self.steps
        if now.any():
            np.add.at(self.cs.capacity, place[now], teams[now])
            np.add.at(self.cs.endowed_capacity, place[now], teams[now])
            self._building = (due[~now], place[~now], teams[~now])

    def apply_policy_shocks(self) -> None:
        cs = self.cs
        cs.shocks[:] = 0
        for r, j, lever, value in self._shocks.get(self.month_index(), ()):
            g = r * self.L + j
            getattr(self.policy, lever)[g] = value
            getattr(self.announced, lever)[g] = value
            cs.shocks[g] += 1

    def add_shock(self, shock: PolicyShock, runs: Sequence[int] | None = None) -> None:
        """Change a city's policy while the runs go on (`ContestModel.add_shock` for runs `runs`, default all): from
        `shock.at`, which must still be to come. Each run's params record it, so a view's params describe its run."""
        chosen = range(self.R) if runs is None else runs
        if month_offset(self.runs[0].start, shock.at) < self.steps:
            year, month = self.year_month(self.steps)
            raise ParamError("shocks.at", f"{shock.at} has been simulated already; the next month is {year}-{month:02d}")
        for r in chosen:
            self.runs[r] = dataclasses.replace(self.runs[r], shocks=(*self.runs[r].shocks, shock))  # validates the city
            self._shocks.setdefault(month_offset(self.runs[r].start, shock.at), []).append(
                (r, self.city_ids.index(shock.city), shock.lever, shock.value))

    def open_budgets(self) -> None:
        self.cs.reset_flows()
        year, month = self.year_month()
        self.funds.open_and_release(self.policy, self.month_index(), year - self.start_year, month)

    def set_policies(self) -> None:
        """Cities with a strategy review their policy (a loop over the few that have one)."""
        done = self.month_index()
        reviewing = [(r, j, s) for r, j, s in self._revisers if done > 0 and is_review_month(done, s)]
        L = self.L
        for r, j, s in reviewing:
            cols = slice(r * L, (r + 1) * L)
            ctx = StrategyContext(
                share=self.records["share"][:done, cols], objective=self._objective[:done, cols],
                claims=self.records["claims"][:done, cols], paid=self.records["subsidy_paid"][:done, cols],
                policy=_policy_view(self.policy, cols), announced=_policy_view(self.announced, cols),
                direction=self._direction[r], turn=self._turn[r], n_cities=self.n_cities)
            REVISERS[s.kind](j, s, ctx)

    def produce_and_earn(self) -> None:
        """Companies shoot, earn from their run's market and file claims (sim/ensemble/kernels.py: one pass each)."""
        cs, f, pol, L, R = self.cs, self.firms, self.policy, self.L, self.R
        gens = self.streams.at("produce", self.steps)
        c, run = f.city, f.run
        counts = np.bincount(run, minlength=R)
        n_j, crew_j = self._cluster_sizes()
        cs.util[:] = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        u = per_run(gens, counts, lambda g, r, n: g.random(n))
        effective = f.rate * self._productivity(n_j)[c]
        mean = effective * cs.util[c]
        productions = kernels.shoot(mean, np.exp(-mean), u)
        self._draw_giants(gens, productions, mean, run)
        made = np.flatnonzero(productions > 0)  # hits and flops: a normal for each company that made something
        z = per_run(gens, np.bincount(run[made], minlength=R), lambda g, r, n: g.standard_normal(n))
        hits = np.ones(len(c))
        k = productions[made]
        # market.hit_factors: the mean of k log-normal factors as one log-normal (Fenton-Wilkinson), by run and k
        sigma2 = np.log1p(np.expm1(self._hit_spread**2)[:, None] / np.arange(1, max(k.max(initial=0), 1) + 1))
        sigma2 = sigma2[run[made], k - 1]
        hits[made] = np.exp(np.sqrt(sigma2) * z - 0.5 * sigma2)
        weight = self._tier_weights[:, self.month_index(), :].reshape(-1)[2 * run + f.tier]
        uplift = 1.0 + self.bp.ecommerce_uplift * cs.ecommerce
        pool = self._pools[:, self.month_index()]
        revenue, cost, support, per_production, produced = kernels.earn(
            c, run, productions, effective, f.crew, f.spend, weight, hits, cs.util, uplift, cs.wage, cs.rent,
            pol.aigc_support, self.fp.overhead, pool, R)
        self.pool = pool
        self.rpw = np.divide(pool, produced, out=self.rpw.copy(), where=produced > 0)
        works = np.bincount(run, weights=productions, minlength=R).astype(np.int64)
        u = per_run(gens, works, lambda g, r, n: g.random((3, n))).reshape(3, -1)
        claims, culture_made = kernels.review(productions, c, per_production, f.p_award, self._culture_probability(),
                                              u, pol.eligible_share, pol.min_investment, pol.reward_rate,
                                              pol.award_bonus, pol.reward_cap, pol.culture_rate, pol.culture_cap,
                                              pol.stack)
        self._month = SimpleNamespace(city=c, productions=productions, revenue=revenue, cost=cost, claims=claims,
                                      support=support, paid=None)
        RL = R * L
        cs.productions[:] = np.bincount(c, weights=productions, minlength=RL)
        cs.employment[:] = crew_j * cs.util
        cs.revenue[:] = np.bincount(c, weights=revenue, minlength=RL)
        cs.tax[:] = self.economy.tax_rate[self.place_run] * cs.revenue
        cs.tourism[:] = self.economy.tourism_per_culture_production[self.place_run] * np.bincount(
            c, weights=culture_made, minlength=RL)
        national = np.bincount(self.place_run, weights=cs.productions, minlength=R)[self.place_run]
        cs.share[:] = np.divide(cs.productions, national, out=np.zeros(RL), where=national > 0)

    def _draw_giants(self, gens, productions: np.ndarray, mean: np.ndarray, run: np.ndarray) -> None:
        """Productions of companies whose mean is beyond inversion (`kernels.shoot` marked them -1): NumPy's
        sampler, from the same run's stream."""
        giants = np.flatnonzero(productions < 0)
        if len(giants):
            counts = np.bincount(run[giants], minlength=self.R)
            offsets = np.concatenate([[0], np.cumsum(counts)])
            productions[giants] = per_run(gens, counts, lambda g, r, n: g.poisson(mean[giants[offsets[r]:offsets[r + 1]]]))

    def pay_subsidies(self) -> None:
        cs, mo, RL = self.cs, self._month, self.R * self.L
        cs.claims[:] = np.bincount(mo.city, weights=mo.claims, minlength=RL)
        support = np.bincount(mo.city, weights=mo.support, minlength=RL)
        ratio = self.funds.pay(cs.claims + support)
        mo.paid = (mo.claims + mo.support) * ratio[mo.city]
        cs.subsidy_paid[:] = cs.claims * ratio
        cs.aigc_spent[:] = support * ratio
        cs.subsidy_total += cs.subsidy_paid

    def settle_accounts(self) -> None:
        """Profits update capital; companies with sustained losses (by the hazard) or no capital exit."""
        f, mo, cs = self.firms, self._month, self.cs
        run = f.run
        gens = self.streams.at("exit", self.steps)
        u = per_run(gens, np.bincount(run, minlength=self.R), lambda g, r, n: g.random(n))
        profit, closing = kernels.settle(mo.revenue, mo.paid, mo.cost, f.capital, f.profit_trend, f.loss_streak,
                                         self.fp.exit_patience[run], self.fp.exit_hazard[run], u)
        cs.profit[:] = np.bincount(mo.city, weights=profit, minlength=self.R * self.L)
        leaving = np.flatnonzero(closing)
        cs.exited[:] = np.bincount(f.city[leaving], minlength=self.R * self.L)
        self.exited_total += np.bincount(run[leaving], minlength=self.R)
        f.remove(leaving)

    def survey_places(self) -> None:
        self._view = self._places()

    def relocate_firms(self) -> None:
        f, b, L = self.firms, self.b, self.L
        gens = self.streams.at("relocate", self.steps)
        run = f.run
        u = per_run(gens, np.bincount(run, minlength=self.R), lambda g, r, n: g.random(n))
        rows = np.flatnonzero(u < b.reconsider_rate[run])
        if len(rows) == 0:
            return
        rr = run[rows]
        here = f.city[rows] - rr * L
        u = per_run(gens, np.bincount(rr, minlength=self.R), lambda g, r, n: g.random(n))
        column = lambda x: x[:, None]  # noqa: E731 - one option per company: its own tier
        k = self._kinds(rows)
        there, _, _ = self._choose(rr, k.crew, column(k.rate), column(k.spend), column(k.weight), column(k.p_award),
                                   here, f.home[rows] - rr * L, u)
        moving = there != here
        movers = rows[moving]
        f.capital[movers] -= self.move_cost[rr[moving], here[moving], there[moving]]
        RL = self.R * L
        self.cs.moved_out[:] = np.bincount(f.city[movers], minlength=RL)
        self.cs.moved_in[:] = np.bincount(rr[moving] * L + there[moving], minlength=RL)
        f.city[movers] = rr[moving] * L + there[moving]
        self.moved_total += np.bincount(rr[moving], minlength=self.R)

    def enter_firms(self) -> None:
        cs, fp, b, L, R = self.cs, self.fp, self.b, self.L, self.R
        gens = self.streams.at("enter", self.steps)
        expected_k = fp.entry_rate * np.bincount(self.firms.run, minlength=R) + fp.entry_floor
        k = np.array([gens[r].poisson(expected_k[r]) for r in range(R)], dtype=np.int64)
        if k.sum() == 0:
            return
        # One block of uniforms per run and would-be entrant: tier, crew size, spend, home, place taste, entry.
        u = per_run(gens, k, lambda g, r, n: g.random((6, n))).reshape(6, -1)
        rr = np.repeat(np.arange(R), k)
        crew, drawn_tier, spend = self._draw_entrants(u[:3], rr)
        _, crew_j = self._cluster_sizes()
        born = np.cumsum(self._founders_weights(crew_j).reshape(R, L), axis=1)[rr]
        home = np.minimum(np.count_nonzero(born <= (u[3] * born[:, -1])[:, None], axis=1), L - 1)
        places = self._view
        both = lambda traffic, premium: np.stack([traffic, premium], axis=1)  # noqa: E731 - options by tier
        (rate_t, spend_t), (rate_p, spend_p) = (self._as_tier(t, spend, drawn_tier, rr) for t in (TRAFFIC, PREMIUM))
        weights = self._tier_weights[rr, self.month_index(), :]
        city, expected, tier = self._choose(
            rr, crew, both(rate_t, rate_p), both(spend_t, spend_p), weights,
            both(self.fp.award_prob_traffic[rr], self.fp.award_prob_premium[rr]), home, home, u[4])
        tier = tier.astype(np.int8)
        rate, spend = np.where(tier == PREMIUM, rate_p, rate_t), np.where(tier == PREMIUM, spend_p, spend_t)
        kinds = FirmKinds(crew, rate, spend, self._tier_weights[rr, self.month_index(), tier],
                          self._award_probability(tier, rr))
        where = rr * L + city
        attention = economics.expected_attention(kinds, places, where)
        hurdle = fp.entry_cost[rr] + self.move_cost[rr, home, city]
        rho, chance = self._entry_expectation(expected, attention, rr, hurdle)
        expected = expected + attention * (rho[rr] - self.rpw[rr])
        enter = u[5] < chance
        self._add_firms(where[enter], crew[enter], tier[enter], rate[enter], spend[enter], expected[enter],
                        rr[enter] * L + home[enter])
        cs.entered[:] = np.bincount(where[enter], minlength=R * L)
        self.entered_total += np.bincount(rr[enter], minlength=R)

    def update_cities(self) -> None:
        cs, pol, bp = self.cs, self.policy, self.bp
        n_j, crew_j = self._cluster_sizes()
        cs.talent_spent[:], cs.studio_spent[:] = monthly_programmes(pol)
        building = np.flatnonzero(cs.studio_spent > 0)
        if len(building):
            due, place, teams = self._building
            self._building = (np.concatenate([due, self.steps + pol.studio_lag_months[building].astype(int)]),
                              np.concatenate([place, building]),
                              np.concatenate([teams, cs.studio_spent[building] / pol.studio_cost_per_team[building]]))
        trained = cs.talent_spent / bp.trainee_cost
        city = ~cs.outside
        cs.endowed_talent[city] += trained[city]
        cs.talent[city] = economics.next_talent(cs.talent, crew_j, trained, bp)[city]
        cs.capacity[city] = economics.next_private_capacity(cs.capacity, n_j, bp)[city]
        cs.wage[city] = economics.wage_level(cs.base_wage, crew_j, cs.endowed_talent, bp)[city]
        cs.rent[city] = economics.rent_level(cs.base_rent, n_j, cs.endowed_capacity, bp)[city]
        cs.firms[:] = n_j
        cs.outlay_total += self._outlay()

    def collect(self) -> None:
        cs, m = self.cs, self.steps - 1
        self._objective[m] = self._job_value * cs.employment + cs.tax + cs.tourism - self._outlay()
        trailing = self.capital.update(self.steps, cs.productions)
        if self.employment_at_start is None:
            self.employment_at_start = cs.employment.copy()
        created = cs.employment - self.employment_at_start
        year, month = self.year_month()
        self.dates.append(pd.Timestamp(year=year, month=month, day=1))
        per_job = np.full(len(created), np.nan)
        np.divide(cs.outlay_total, cs.employment, out=per_job, where=cs.employment >= 1.0)
        per_created = np.full(len(created), np.nan)
        np.divide(cs.outlay_total, created, out=per_created, where=created >= 1.0)
        capital = self.place_local == self.capital.current[self.place_run]
        enterprises, jobs = self.units.enterprises_per_company[self.place_run], self.units.direct_jobs_per_crew[self.place_run]
        row = {
            "firms": cs.firms, "related_enterprises": cs.firms * enterprises, "productions": cs.productions,
            "share": cs.share, "trailing_share": trailing, "employment": cs.employment,
            "direct_jobs": cs.employment * jobs, "claims": cs.claims, "subsidy_paid": cs.subsidy_paid,
            "subsidy_total": cs.subsidy_total, "budget_left": self.funds.budget_left(self.policy),
            "annual_budget": self.policy.annual_budget, "payout_outlook": cs.outlook,
            "wage": cs.wage, "rent": cs.rent, "talent": np.where(cs.outside, np.nan, cs.talent),
            "capacity": np.where(cs.outside, np.nan, cs.capacity), "reward_rate": self.policy.reward_rate,
            "revenue": cs.revenue, "profit": cs.profit, "tax": cs.tax, "tourism": cs.tourism,
            "aigc_spent": cs.aigc_spent, "talent_spent": cs.talent_spent, "studio_spent": cs.studio_spent,
            "outlay_total": cs.outlay_total, "cost_per_job": per_job, "jobs_created": created,
            "cost_per_job_created": per_created, "entered": cs.entered, "exited": cs.exited,
            "moved_in": cs.moved_in, "moved_out": cs.moved_out, "is_capital": capital, "policy_shocks": cs.shocks,
        }
        for name, values in row.items():
            self.records[name][m] = values

    # ------------------------------------------------------------------ what choosers see
    def _places(self) -> Places:
        cs, bp, R, L = self.cs, self.bp, self.R, self.L
        n_j, crew_j = self._cluster_sizes()
        util = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        cs.expected_claims[:] = self._expected_claims_at_home(n_j, util)
        cs.outlook[:] = payout_outlook(self.funds, self.policy, cs.expected_claims)
        cluster = self._cluster_for_output(n_j)
        crew_mean = self.fp.crew_mean[self.place_run]
        spare_talent = np.where(cs.outside, 0.0, np.maximum(cs.talent - crew_j, 0.0) / crew_mean)
        spare_slots = np.where(cs.outside, 0.0, np.maximum(cs.capacity - n_j, 0.0))
        pull = (bp.cluster_pull * np.log1p(cluster) + bp.talent_pull * np.log1p(spare_talent)
                + bp.facility_pull * np.log1p(spare_slots))
        pull = pull + np.where(cs.outside, bp.logit_scale * np.log(self.out.places[self.place_run]), 0.0)
        return Places(wage=cs.wage, rent=cs.rent, util=util, productivity=self._productivity(n_j),
                      revenue_uplift=1.0 + bp.ecommerce_uplift * cs.ecommerce, outlook=cs.outlook, pull=pull,
                      p_culture=self._culture_probability())

    def _choose(self, rr, crew, rate, spend, weight, p_award, origin, home, u) -> tuple[np.ndarray, ...]:
        """Choosers of runs `rr` pick a place of their run (kernels.choose_places, on this month's view)."""
        v, pol, b = self._view, self.policy, self.b
        return kernels.choose_places(rr, crew, rate, spend, weight, p_award, origin, home, u, self.L, v.util,
                                     v.productivity, v.wage, v.rent, v.revenue_uplift, v.outlook, v.p_culture,
                                     pol.eligible_share, pol.min_investment, pol.reward_rate, pol.award_bonus,
                                     pol.reward_cap, pol.culture_rate, pol.culture_cap, pol.stack, pol.aigc_support,
                                     self.rpw, self.fp.overhead, b.horizon_months, self.move_cost, v.pull, b.home_pull,
                                     b.logit_scale)

    def _kinds(self, rows: np.ndarray) -> FirmKinds:
        f = self.firms
        tier, run = f.tier[rows], f.run[rows]
        return FirmKinds(f.crew[rows], f.rate[rows], f.spend[rows],
                         self._tier_weights[run, self.month_index(), tier], f.p_award[rows])

    def _expected_claims_at_home(self, n_j: np.ndarray, util: np.ndarray) -> np.ndarray:
        cs, f, pol = self.cs, self.firms, self.policy
        return kernels.expected_claims_at_home(
            f.city, f.rate, f.crew, f.spend, f.p_award, util, self._productivity(n_j), cs.wage, cs.rent,
            self.fp.overhead, f.run, self._culture_probability(), pol.eligible_share, pol.min_investment,
            pol.reward_rate, pol.award_bonus, pol.reward_cap, pol.culture_rate, pol.culture_cap, pol.stack,
            pol.aigc_support, self.R * self.L)

    def _entry_expectation(self, profit: np.ndarray, attention: np.ndarray, rr: np.ndarray,
                           hurdle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`economics.entry_expectation` for every run at once: one bisection, a root per run."""
        rpw, pool, b = self.rpw, self.pool, self.b
        horizon, scale = b.horizon_months[rr], b.logit_scale[rr]
        solvable = (rpw > 0.0) & (pool > 0.0)
        incumbents = np.divide(pool, rpw, out=np.zeros(self.R), where=solvable)
        at_zero = profit - attention * rpw[rr]

        def excess(rho: np.ndarray) -> np.ndarray:  # rises with rho: negative below the root, positive above
            chance = economics.entry_probability(at_zero + attention * rho[rr], horizon, hurdle, scale)
            return rho * (incumbents + np.bincount(rr, weights=chance * attention, minlength=self.R)) - pool

        # The Illinois variant of regula falsi (Dowell & Jarratt 1971), for all runs at once: the root bracketed in
        # [0, rho_0] as in the reference's bisection, to the same 2^-40 of rho_0 in a few evaluations instead of 40.
        lo, hi = np.zeros(self.R), rpw.copy()
        g_lo, g_hi = -pool, np.where(solvable, excess(hi), 1.0)
        side = np.zeros(self.R)
        rho = hi.copy()
        for _ in range(60):
            open_ = solvable & (hi - lo > rpw * 2.0**-40)
            if not open_.any():
                break
            denominator = g_hi - g_lo
            rho = np.where(open_ & (denominator > 0), (lo * g_hi - hi * g_lo) / np.where(denominator > 0, denominator, 1.0),
                           0.5 * (lo + hi))
            rho = np.clip(rho, lo, hi)
            g = excess(rho)
            below = open_ & (g < 0)
            above = open_ & (g > 0)
            lo, g_lo = np.where(below, rho, lo), np.where(below, g, g_lo)
            hi, g_hi = np.where(above, rho, hi), np.where(above, g, g_hi)
            g_hi = np.where(below & (side < 0), 0.5 * g_hi, g_hi)  # the same end kept twice: halve the other's value
            g_lo = np.where(above & (side > 0), 0.5 * g_lo, g_lo)
            side = np.where(below, -1.0, np.where(above, 1.0, side))
            done = open_ & (g == 0)
            lo, hi = np.where(done, rho, lo), np.where(done, rho, hi)
        rho = np.where(solvable, 0.5 * (lo + hi), rpw)
        return rho, economics.entry_probability(profit + attention * (rho[rr] - rpw[rr]), horizon, hurdle, scale)

    def _draw_entrants(self, u: np.ndarray, rr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`sim.firms.draw_firms` from uniforms (tier, crew, spend: u[0], u[1], u[2]), each with its run's params:
        premium with `premium_share`, crew and spend the tier's means times mean-one log-normal factors."""
        fp = self.fp
        tier = (u[0] < fp.premium_share[rr]).astype(np.int8)
        s_crew, s_spend = fp.crew_spread[rr], fp.spend_spread[rr]
        crew = np.maximum(1.0, fp.crew_mean[rr] * np.exp(s_crew * ndtri(u[1]) - 0.5 * s_crew**2))
        factor = np.exp(s_spend * ndtri(u[2]) - 0.5 * s_spend**2)
        spend = np.where(tier == PREMIUM, fp.spend_premium[rr], fp.spend_traffic[rr])
        return crew, tier, factor * spend

    def _founders_weights(self, crew_j: np.ndarray) -> np.ndarray:
        """`economics.founders_weights` per run: where each run's would-be entrants are born."""
        cs = self.cs
        idle = np.where(cs.outside, self.out.idle_share[self.place_run] * crew_j, np.maximum(cs.talent - crew_j, 0.0))
        people = crew_j + idle
        total = np.bincount(self.place_run, weights=people, minlength=self.R)[self.place_run]
        return np.divide(people, total, out=np.full(len(people), 1.0 / self.L), where=total > 0)

    def _as_tier(self, tier: int, spend: np.ndarray, drawn: np.ndarray, rr: np.ndarray) -> tuple[np.ndarray, ...]:
        """`sim.firms.as_tier` with each entrant's own run's firm parameters."""
        fp = self.fp
        tier_spend = np.where(drawn == PREMIUM, fp.spend_premium[rr], fp.spend_traffic[rr])
        mean = (fp.spend_premium if tier == PREMIUM else fp.spend_traffic)[rr]
        factor = np.divide(spend, tier_spend, out=np.ones_like(spend), where=tier_spend > 0)
        return (fp.rate_premium if tier == PREMIUM else fp.rate_traffic)[rr], factor * mean

    def _cluster_for_output(self, n_j: np.ndarray) -> np.ndarray:
        return np.where(self.cs.outside, self.out.cluster[self.place_run], n_j)

    def _productivity(self, n_j: np.ndarray) -> np.ndarray:
        return economics.productivity(self._cluster_for_output(n_j), self.cs.approval, self.bp)

    def _award_probability(self, tier: np.ndarray, run: np.ndarray) -> np.ndarray:
        return np.where(tier == PREMIUM, self.fp.award_prob_premium[run], self.fp.award_prob_traffic[run])

    def _culture_probability(self) -> np.ndarray:
        return self.fp.culture_theme_max[self.place_run] * self.cs.culture

    def _outlay(self) -> np.ndarray:
        cs = self.cs
        return outlay(cs.subsidy_paid, cs.aigc_spent, cs.talent_spent, cs.studio_spent)

    def _cluster_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        f, RL = self.firms, self.R * self.L
        return (np.bincount(f.city, minlength=RL).astype(float), np.bincount(f.city, weights=f.crew, minlength=RL))

    # ------------------------------------------------------------------ companies
    def _add_firms(self, city, crew, tier, rate, spend, expected, home) -> None:
        """New companies with starting capital and a profit trend at what they expect (as the reference)."""
        cs, fp = self.cs, self.fp
        run = city // self.L
        start_cost = economics.monthly_cost(economics.shooting_cost(cs.wage[city], cs.rent[city], crew, 1.0),
                                            fp.overhead[run], spend, rate)
        self.firms.insert({"city": city, "home": home, "crew": crew, "tier": tier, "rate": rate, "spend": spend,
                           "p_award": self._award_probability(tier, run),
                           "capital": fp.start_capital_months[run] * start_cost, "profit_trend": expected})

    def _place_initial_firms(self, counts: list[list[int]]) -> None:
        """The starting companies; each run's draws come from its own stream. Their profit trend starts at what
        they expect once all are in place, themselves counted (as the reference)."""
        counts = np.asarray(counts, dtype=np.int64).reshape(-1)
        city = np.repeat(np.arange(self.R * self.L), counts)
        per = np.bincount(self.place_run, weights=counts, minlength=self.R).astype(np.int64)
        gens = self.streams.at("init", 0)
        drawn = [draw_firms(self._firm_params[r], int(per[r]), gens[r]) for r in range(self.R)]
        crew, tier, rate, spend = (np.concatenate([d[i] for d in drawn]) for i in range(4))
        self.rpw = self._expected_revenue_per_weight(city, tier, rate, crew)
        self._add_firms(city, crew, tier, rate, spend, np.zeros(len(city)), city)
        run = city // self.L
        kinds = FirmKinds(crew, rate, spend, self._tier_weights[run, 0, tier], self._award_probability(tier, run))
        self.firms.profit_trend = economics.expected_profit(kinds, self._places(), self.policy, self.rpw[run],
                                                            self.fp.overhead[run], at=city)
        self.firms_at_start = per
        self.cs.firms[:] = counts

    def _expected_revenue_per_weight(self, c, tier, rate, crew) -> np.ndarray:
        cs, RL = self.cs, self.R * self.L
        n_j = np.bincount(c, minlength=RL).astype(float)
        crew_j = np.bincount(c, weights=crew, minlength=RL)
        util = economics.utilisation(n_j, crew_j, cs.capacity, cs.talent)
        run = c // self.L
        output = rate * self._productivity(n_j)[c] * util[c]
        weights = output * self._tier_weights[run, 0, tier] * (1.0 + self.b.ecommerce_uplift[run] * cs.ecommerce[c])
        return self._pools[:, 0] / np.maximum(np.bincount(run, weights=weights, minlength=self.R), 1e-9)

    # ------------------------------------------------------------------ results
    def view(self, i: int):
        """Run i, read like a finished `ContestModel` (sim/ensemble/views.py)."""
        from sim.ensemble.views import RunView

        return RunView(self, i)


def run_ensemble(runs: Sequence[RunParams]) -> list:
    """Advance `runs` together to their end; returns each run's view, in order."""
    ensemble = Ensemble(runs).run()
    return [ensemble.view(i) for i in range(len(runs))]


# ---------------------------------------------------------------------- building blocks


def _concat_policies(policies: list[PolicyArrays]) -> PolicyArrays:
    return PolicyArrays(**{f.name: np.concatenate([getattr(p, f.name) for p in policies])
                           for f in dataclasses.fields(PolicyArrays)})


def _policy_view(policy: PolicyArrays, cols: slice) -> PolicyArrays:
    """One run's columns of the policy arrays, as views: a strategy's edits write through."""
    return PolicyArrays(**{f.name: getattr(policy, f.name)[cols] for f in dataclasses.fields(PolicyArrays)})


def _concat_states(states: list[CityState]) -> CityState:
    return CityState(**{f.name: np.concatenate([getattr(s, f.name) for s in states])
                        for f in dataclasses.fields(CityState)})


def _distances(sc, L: int) -> np.ndarray:
    """Km between places, as the reference model's `_distances`."""
    lon = np.array([c.lon for c in sc.cities])
    lat = np.array([c.lat for c in sc.cities])
    d = np.full((L, L), sc.outside.distance_km)
    n = len(sc.cities)
    d[:n, :n] = economics.distances_km(lon, lat)
    np.fill_diagonal(d, 0.0)
    return d


def _market_paths(scs, start_year: int, start_month: int, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Each run's producer pool (R, months) and tier weights (R, months, 2), computed once per distinct market."""
    cache: dict = {}
    pools, weights = [], []
    for sc in scs:
        key = sc.market
        if key not in cache:
            pool, tw = np.zeros(max(months, 1)), np.zeros((max(months, 1), 2))
            for m in range(max(months, 1)):
                total = start_month - 1 + m
                year, month = start_year + total // 12, total % 12 + 1
                pool[m] = market.producer_pool(sc.market, year, month)
                tw[m] = market.tier_weights(sc.market, max((year - 2024) + (month - 1) / 12.0, 0.0))
            cache[key] = (pool, tw)
        pools.append(cache[key][0])
        weights.append(cache[key][1])
    return np.stack(pools), np.stack(weights)


"""The per-agent reference: the model's location rule written the idiomatic Mesa way, one firm at a time.

Each `ReferenceFirm.step()` decides whether to reconsider its city and, if it
does, computes its utility of every place in plain Python from the same
quantities the model's one NumPy pass uses (`sim.economics.expected_profit`,
`location_utility`, `sim.policy.expected_claim`), then draws a logit choice
with Gumbel taste shocks. It exists to measure what the vectorised phase
saves (`make bench`) and is tested to make statistically the same choices
(tests/test_bench.py). It is not used by the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa

from sim.economics import FirmKinds, Places
from sim.model import ContestModel


@dataclass
class PlaceRow:
    """One place as a firm sees it (plain floats)."""

    wage: float
    rent: float
    util: float
    productivity: float
    revenue_uplift: float
    outlook: float
    pull: float
    p_culture: float
    aigc: float
    reward_rate: float
    reward_cap: float
    stack: bool
    min_investment: float
    eligible_share: float
    award_bonus: float
    culture_rate: float
    culture_cap: float


class ReferenceFirm(mesa.Agent):
    """A production company that computes its own location choice."""

    def __init__(self, model: ReferenceModel, row: int, crew: float, rate: float, spend: float, weight: float,
                 p_award: float, city: int):
        super().__init__(model)
        self.row, self.crew, self.rate, self.spend = row, crew, rate, spend
        self.weight, self.p_award, self.city = weight, p_award, city

    def expected_profit(self, j: int) -> float:
        """Expected monthly profit in place j, yuan (the formula of `sim.economics.expected_profit`)."""
        m, p = self.model, self.model.places[j]
        rate = self.rate * p.productivity
        shooting = p.wage * self.crew + p.rent  # a month's crews and studio, before any AIGC support
        per_production = (shooting + m.overhead) / max(rate, 1e-9) + self.spend  # the investment a threshold tests
        qualifies = per_production >= p.min_investment
        reward = p.reward_rate * per_production if qualifies else 0.0
        award = reward * (1.0 + p.award_bonus)
        culture = min(p.culture_rate * per_production, p.culture_cap) if qualifies else 0.0
        if p.stack:
            claims = (reward, award, reward + culture, award + culture)
        else:
            claims = (reward, award, max(reward, culture), max(award, culture))
        plain, won, local, both = (min(c, p.reward_cap) for c in claims)
        a, c = self.p_award, p.p_culture
        mix = (1 - a) * (1 - c) * plain + a * (1 - c) * won + (1 - a) * c * local + a * c * both
        claim = p.eligible_share * mix
        income = m.revenue_per_weight * self.weight * p.revenue_uplift
        support = p.util * shooting * p.aigc * p.outlook  # AIGC support, paid as far as the fund goes
        return rate * p.util * (income - self.spend + claim * p.outlook) - p.util * shooting - m.overhead + support

    def utility(self, j: int) -> float:
        """Million yuan: profit over the horizon, less the move, plus the place's pull."""
        m = self.model
        return (m.horizon * self.expected_profit(j) - m.move_cost[self.city][j]) / 1e6 + m.places[j].pull

    def step(self) -> None:
        """Reconsider with the model's reconsider rate; if so, move to the place of highest utility plus taste shock."""
        m = self.model
        if m.random.random() >= m.reconsider_rate:
            return
        best, best_u = self.city, -math.inf
        for j in range(len(m.places)):
            u = self.utility(j) - m.scale * math.log(-math.log(m.random.random()))  # Gumbel(0, scale) shock
            if u > best_u:
                best, best_u = j, u
        self.city = best


class ReferenceModel(mesa.Model):
    """A snapshot of a ContestModel's firms and places as Mesa agents and Python rows, for the location step."""

    def __init__(self, source: ContestModel, seed: int = 0):
        super().__init__(rng=seed)
        sc, pol = source.scenario_params, source.policy
        b = sc.behaviour
        view: Places = source._places()
        self.places = [PlaceRow(
            wage=float(view.wage[j]), rent=float(view.rent[j]), util=float(view.util[j]),
            productivity=float(view.productivity[j]), revenue_uplift=float(view.revenue_uplift[j]),
            outlook=float(view.outlook[j]), pull=float(view.pull[j]), p_culture=float(view.p_culture[j]),
            aigc=float(pol.aigc_support[j]), reward_rate=float(pol.reward_rate[j]), reward_cap=float(pol.reward_cap[j]),
            stack=bool(pol.stack[j]), min_investment=float(pol.min_investment[j]),
            eligible_share=float(pol.eligible_share[j]), award_bonus=float(pol.award_bonus[j]),
            culture_rate=float(pol.culture_rate[j]), culture_cap=float(pol.culture_cap[j]),
        ) for j in range(source.n_places)]
        self.view = view
        self.move_cost = source.move_cost.tolist()
        self.overhead = sc.firms.overhead
        self.horizon, self.scale, self.reconsider_rate = b.horizon_months, b.logit_scale, b.reconsider_rate
        self.revenue_per_weight = source._rev_per_weight
        kinds: FirmKinds = source._kinds(slice(None))
        f = source.firms
        for r in range(len(f)):
            ReferenceFirm(self, r, float(kinds.crew[r]), float(kinds.rate[r]), float(kinds.spend[r]),
                          float(kinds.weight[r]), float(kinds.p_award[r]), int(f.city[r]))

    def step(self) -> None:
        """Every firm's location step, in random order (Mesa's idiom)."""
        self.agents.shuffle_do("step")

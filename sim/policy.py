"""City policy at run time: every instrument as an array, the reward funds, claims, payout outlook and outlay.

This is the one home of policy behaviour. `PolicyArrays` holds each place's
current instruments (strategies edit them while the model runs); `Funds`
opens, releases and pays each city's reward fund; the functions below say
what a production may claim and what a firm should expect to be paid.

Places are the scenario's cities followed, when the scenario models it, by
the rest of the country, which has no city policy (all instruments zero).

Claims are computed per production category, because awards and
local-culture themes are drawn per production:
0 plain, 1 award-winning, 2 local-culture, 3 both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.params import PolicyParams, Stacking


@dataclass
class PolicyArrays:
    """Each place's current policy as arrays indexed by place (strategies edit them in place)."""

    reward_rate: np.ndarray
    reward_cap: np.ndarray
    stack: np.ndarray  # bool: instruments add up (True) or only the largest pays
    min_investment: np.ndarray
    eligible_share: np.ndarray
    award_bonus: np.ndarray
    culture_rate: np.ndarray
    culture_cap: np.ndarray
    aigc_support: np.ndarray
    annual_budget: np.ndarray
    budget_period_years: np.ndarray
    talent_programme: np.ndarray
    studio_investment: np.ndarray
    studio_cost_per_team: np.ndarray
    studio_lag_months: np.ndarray

    @classmethod
    def from_params(cls, policies: list[PolicyParams], no_policy: int = 0) -> PolicyArrays:
        """Stack the cities' starting policies, then `no_policy` places without any (the rest of the country)."""
        none = PolicyParams(reward_rate=0.0, reward_cap=0.0, eligible_share=0.0, annual_budget=0.0)
        rows = [*policies, *([none] * no_policy)]
        data = {}
        for f in fields(cls):
            if f.name == "stack":
                data["stack"] = np.array([p.stacking is Stacking.stack for p in rows])
            else:
                data[f.name] = np.array([float(getattr(p, f.name)) for p in rows])
        return cls(**data)

    def copy(self) -> PolicyArrays:
        """An independent copy (the announced policy kept beside the one strategies edit)."""
        return PolicyArrays(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


# --------------------------------------------------------------------------- claims


def category_claims(cost: np.ndarray, place: np.ndarray | slice, pol: PolicyArrays) -> tuple[np.ndarray, ...]:
    """Yuan one production that passed the city's review may claim in each category: (plain, award, culture, both).

    cost: the production's cost (its investment), yuan. place: the index of
    the place where each production is made (same shape as cost), or
    `slice(None)` when cost's last axis runs over all places. A production
    qualifies when it costs at least `min_investment`. The reward is
    reward_rate x cost, raised by award_bonus for award winners; the
    local-culture bonus is culture_rate x cost, "up to" culture_cap. Stacking
    adds the two, largest-only pays the bigger; either way the total is
    capped at reward_cap. (AIGC support is claimed apart, as a share of
    the month's shooting cost: `sim.economics.aigc_claim`; the fund pays both.) Without a culture bonus
    anywhere, the culture categories are the plain ones (the same arrays).
    """
    # Fast paths skip the arrays a policy makes constant: every production qualifies without a minimum, and
    # when every place stacks (or none does) one formula serves all.
    qualifies = cost >= pol.min_investment[place] if pol.min_investment.any() else True
    reward = pol.reward_rate[place] * cost * qualifies
    award = reward * (1.0 + pol.award_bonus[place])
    cap = pol.reward_cap[place]
    plain, award_claim = np.minimum(reward, cap), np.minimum(award, cap)
    if not pol.culture_rate.any():
        return plain, award_claim, plain, award_claim
    culture = np.minimum(pol.culture_rate[place] * cost, pol.culture_cap[place]) * qualifies
    if pol.stack.all():
        culture_claim, both_claim = reward + culture, award + culture
    elif not pol.stack.any():
        culture_claim, both_claim = np.maximum(reward, culture), np.maximum(award, culture)
    else:
        stack = pol.stack[place]
        culture_claim = np.where(stack, reward + culture, np.maximum(reward, culture))
        both_claim = np.where(stack, award + culture, np.maximum(award, culture))
    culture_claim, both_claim = np.minimum(culture_claim, cap), np.minimum(both_claim, cap)
    return plain, award_claim, culture_claim, both_claim


def expected_claim(cost: np.ndarray, place: np.ndarray | slice, p_award: np.ndarray, p_culture: np.ndarray,
                   pol: PolicyArrays) -> np.ndarray:
    """Expected yuan claimed per production under the announced rules: review pass rate x category mix x claim.

    Awards (chance p_award) and local-culture themes (p_culture) are independent.
    """
    plain, award, culture, both = category_claims(cost, place, pol)
    mix = plain + p_award * (award - plain)
    if culture is not plain:
        mix = mix + p_culture * (culture + p_award * (both - culture) - mix)
    return pol.eligible_share[place] * mix


def review_productions(productions: np.ndarray, cost: np.ndarray, place: np.ndarray, p_award: np.ndarray,
                       p_culture: np.ndarray, pol: PolicyArrays,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's month of reviews: yuan claimed, and local-culture works made (passed or not).

    Every production (firm i made productions[i], each costing cost[i] in
    place[i]) passes the city's review with its eligible share, wins an award
    with p_award[i] and has a local-culture theme with p_culture[i], all
    independently; claims follow its category. Drawn per production, so a
    month's few eligible works cost little to price.
    """
    maker = np.repeat(np.arange(len(productions)), productions)
    return review_with(rng.random((3, len(maker))), maker, cost, place, p_award, p_culture, pol)


def review_with(u: np.ndarray, maker: np.ndarray, cost: np.ndarray, place: np.ndarray, p_award: np.ndarray,
                p_culture: np.ndarray, pol: PolicyArrays) -> tuple[np.ndarray, np.ndarray]:
    """`review_productions` with its uniforms given: u (3, productions) for review, award and theme; maker[i] is
    the firm that made production i (firms in order). The ensemble draws u per run from that run's own stream."""
    n = len(cost)
    culture = u[2] < p_culture[maker]
    passed = np.flatnonzero(u[0] < pol.eligible_share[place[maker]])
    firm = maker[passed]
    plain, award, local, both = category_claims(cost[firm], place[firm], pol)
    won, themed = u[1][passed] < p_award[firm], culture[passed]
    claim = np.where(won, np.where(themed, both, award), np.where(themed, local, plain))
    claims = np.bincount(firm, weights=claim, minlength=n)
    culture_made = np.bincount(maker[culture], minlength=n)
    return claims, culture_made


def ration(claims: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Share of each city's claims it can pay this month (pro rata when the money on hand is short)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # results are clipped
        ratio = np.where(claims > 0.0, available / claims, 1.0)
    return np.clip(ratio, 0.0, 1.0)


# --------------------------------------------------------------------------- funds


@dataclass
class Funds:
    """Each city's fund over its budget period: it pays the rewards and the AIGC support.

    A period opens in the first month and then every `budget_period_years`
    Januaries. Each month releases one month's worth of the (current) annual
    budget; money not claimed carries over to later months of the period
    and lapses at its end. Claims beyond the money on hand are paid pro rata
    and the rest lapses, so a fund can never be spent in its first month.
    """

    released: np.ndarray  # released so far this period, yuan
    paid: np.ndarray  # paid so far this period, yuan
    months_left: np.ndarray  # releases still to come in this period

    @classmethod
    def empty(cls, n: int) -> Funds:
        return cls(np.zeros(n), np.zeros(n), np.zeros(n))

    def open_and_release(self, pol: PolicyArrays, month_index: int, year_offset: int, month: int) -> None:
        """Open the periods that start this month, then release this month's money."""
        period = pol.budget_period_years
        opening = (month_index == 0) | ((month == 1) & (year_offset % period == 0))
        self.released[opening] = 0.0
        self.paid[opening] = 0.0
        # The first period may open mid-year; it still ends at a January.
        self.months_left[opening] = (12 * period - (month - 1))[opening]
        self.released += pol.annual_budget / 12.0
        self.months_left = np.maximum(self.months_left - 1, 0.0)

    @property
    def on_hand(self) -> np.ndarray:
        """Money that can be paid this month: released and not yet paid."""
        return np.maximum(self.released - self.paid, 0.0)

    def budget_left(self, pol: PolicyArrays) -> np.ndarray:
        """What the period can still pay: money on hand plus the releases still to come (at the current budget)."""
        return self.on_hand + pol.annual_budget / 12.0 * self.months_left

    def pay(self, claims: np.ndarray) -> np.ndarray:
        """Pay this month's claims by city from the money on hand; returns the share of each city's claims paid."""
        ratio = ration(claims, self.on_hand)
        self.paid += claims * ratio
        return ratio


def payout_outlook(funds: Funds, pol: PolicyArrays, expected_claims: np.ndarray) -> np.ndarray:
    """Share of claims firms expect a city to pay: the money it can spend per month over the claims its rules draw.

    Firms read the announced rules, not only today's balance: a fund that
    will be oversubscribed pays each claim in part; one that is spent pays
    nothing until its next period opens.
    """
    # Money per month for the rest of the period; in its last month, the next period's release.
    per_month = np.where(funds.months_left >= 1, funds.budget_left(pol) / np.maximum(funds.months_left, 1.0),
                         pol.annual_budget / 12.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # results are clipped
        outlook = np.where(expected_claims > 0, per_month / expected_claims, (per_month > 0).astype(float))
    return np.clip(outlook, 0.0, 1.0)


def monthly_programmes(pol: PolicyArrays) -> tuple[np.ndarray, np.ndarray]:
    """Yuan spent this month on talent programmes and on building studios, per place."""
    return pol.talent_programme / 12.0, pol.studio_investment / 12.0


def outlay(subsidy_paid: np.ndarray, aigc_spent: np.ndarray, talent_spent: np.ndarray,
           studio_spent: np.ndarray) -> np.ndarray:
    """A month's treasury spending per place: rewards paid, AIGC support, talent and studio programmes."""
    return subsidy_paid + aigc_spent + talent_spent + studio_spent


def has_policy(p: PolicyParams) -> bool:
    """Whether a city's announced policy can spend anything (if not, its no-policy counterfactual is the run itself)."""
    rewards = p.eligible_share > 0 and (p.reward_rate > 0 or p.culture_rate > 0)
    pays_from_fund = p.annual_budget > 0 and (rewards or p.aigc_support > 0)  # AIGC support is paid from the fund too
    return pays_from_fund or p.talent_programme > 0 or p.studio_investment > 0

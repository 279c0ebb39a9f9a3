"""Subsidy rules: what one production can claim, and rationing by budget.

Claims are computed per production category, because awards and
local-culture themes are drawn per production:
0 plain, 1 award-winning, 2 local-culture, 3 both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import PolicyParams, Stacking

N_CATEGORIES = 4


@dataclass
class PolicyArrays:
    """Each city's current policy as arrays indexed by city (strategies edit them)."""

    reward_rate: np.ndarray
    reward_cap: np.ndarray
    stack: np.ndarray  # bool: instruments add up (True) or only the largest pays
    min_investment: np.ndarray
    award_bonus: np.ndarray
    culture_bonus: np.ndarray
    aigc_support: np.ndarray

    @classmethod
    def from_params(cls, policies: list[PolicyParams]) -> PolicyArrays:
        """Stack the cities' starting policies."""
        col = lambda name: np.array([float(getattr(p, name)) for p in policies])  # noqa: E731
        return cls(
            reward_rate=col("reward_rate"),
            reward_cap=col("reward_cap"),
            stack=np.array([p.stacking is Stacking.stack for p in policies]),
            min_investment=col("min_investment"),
            award_bonus=col("award_bonus"),
            culture_bonus=col("culture_bonus"),
            aigc_support=col("aigc_support"),
        )


def claim_per_production(cost: np.ndarray, city: np.ndarray, pol: PolicyArrays) -> np.ndarray:
    """Yuan one production may claim, shape (n, 4) by category.

    cost: the production's cost (its investment), yuan; city: index of the
    city where it is made. The production reward is reward_rate x cost for
    productions costing at least min_investment, raised by award_bonus for
    award winners; the culture bonus is a fixed sum. Stacking adds the two
    instruments, largest-only pays the bigger; either way the total is
    capped at reward_cap. (AIGC support is not a claim: it lowers the cost
    itself, see `economics.monthly_cost`.)
    """
    eligible = cost >= pol.min_investment[city]
    reward = np.where(eligible, pol.reward_rate[city] * cost, 0.0)
    award = reward * (1.0 + pol.award_bonus[city])
    culture = pol.culture_bonus[city]
    rewards = np.stack([reward, award, reward, award], axis=1)
    cultures = np.stack([np.zeros_like(culture), np.zeros_like(culture), culture, culture], axis=1)
    stacked = rewards + cultures
    largest = np.maximum(rewards, cultures)
    claim = np.where(pol.stack[city][:, None], stacked, largest)
    return np.minimum(claim, pol.reward_cap[city][:, None])


def category_probabilities(p_award: np.ndarray, p_culture: np.ndarray) -> np.ndarray:
    """Chance of each category (n, 4), awards and culture themes independent."""
    a, c = p_award, p_culture
    return np.stack([(1 - a) * (1 - c), a * (1 - c), (1 - a) * c, a * c], axis=1)


def ration(claims_by_city: np.ndarray, budget_left: np.ndarray) -> np.ndarray:
    """Share of each city's claims it can pay this month (pro rata when the budget is short)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # results are clipped
        ratio = np.where(claims_by_city > 0.0, budget_left / claims_by_city, 1.0)
    return np.clip(ratio, 0.0, 1.0)

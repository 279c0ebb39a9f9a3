"""The national market: how big the revenue pool is each month and how it is shared."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sim.params import MarketParams


@lru_cache(maxsize=256)
def annual_revenue(market: MarketParams, year: int) -> float:
    """National micro-short-drama revenue in `year`, yuan.

    2024 and 2025 are the published figures; from 2026 the market grows
    logistically toward `saturation`: the 2025-26 growth is `growth_after`,
    and growth slows in proportion to the room left below the ceiling.
    Years before 2024 are taken at the 2024 level.
    """
    if year <= 2024:
        return market.revenue_2024
    if year == 2025:
        return market.revenue_2025
    room_2025 = 1.0 - market.revenue_2025 / market.saturation
    previous = annual_revenue(market, year - 1)
    if room_2025 <= 0.0:  # already at (or above) the ceiling: no growth either way
        return previous
    growth = market.growth_after * max(1.0 - previous / market.saturation, 0.0) / room_2025
    return previous * (1.0 + growth)


def monthly_revenue(market: MarketParams, year: int, month: int) -> float:
    """National revenue in one month, yuan: the year's total spread over its months so that it grows smoothly
    toward the next year's (geometrically, at the twelfth root of the year-on-year growth) and sums to the year's
    total. A market that stepped up each January would draw a burst of entrants every New Year."""
    total = annual_revenue(market, year)
    growth = annual_revenue(market, year + 1) / total if total > 0.0 else 1.0
    if growth <= 0.0 or abs(growth - 1.0) < 1e-12:
        return total / 12.0
    weights = growth ** (np.arange(12) / 12.0)
    return float(total * weights[month - 1] / weights.sum())


def producer_pool(market: MarketParams, year: int, month: int) -> float:
    """Yuan in that month left for the modelled places' producers after the platforms' cut."""
    return monthly_revenue(market, year, month) * market.producer_share * market.coverage


def tier_weights(market: MarketParams, years_elapsed: float) -> np.ndarray:
    """Revenue weight per production by tier [traffic, premium], `years_elapsed` after 2024-01; premium gains as quality pays more."""
    years = min(years_elapsed, market.quality_shift_years)
    return np.array([1.0, market.premium_weight * (1.0 + market.quality_shift) ** years])


def hit_factors(productions: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Each firm's month of hits and flops: the mean of its productions' log-normal revenue factors (mean 1).

    The mean of k independent factors is drawn as one log-normal with the
    same mean and variance (Fenton-Wilkinson), so a firm with many
    productions a month varies less than one with a single work. Firms that
    made nothing draw nothing (their factor is 1 and earns nothing).
    """
    hits = np.ones(len(productions))
    made = np.flatnonzero(productions > 0)
    if len(made) == 0:
        return hits
    k = productions[made]
    sigma2 = np.log1p(np.expm1(spread**2) / np.arange(1, k.max() + 1))[k - 1]  # by k, looked up
    hits[made] = np.exp(np.sqrt(sigma2) * rng.standard_normal(len(made)) - 0.5 * sigma2)
    return hits


def share_by_attention(pool: float, weights: np.ndarray) -> np.ndarray:
    """Split `pool` in proportion to attention `weights` (all zero -> nobody earns)."""
    total = weights.sum()
    if total <= 0.0:
        return np.zeros_like(weights, dtype=float)
    return pool * weights / total

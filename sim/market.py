"""The national market: how big the revenue pool is each month and how it is shared."""

from __future__ import annotations

import numpy as np

from sim.params import MarketParams


def annual_revenue(market: MarketParams, year: int) -> float:
    """National micro-short-drama revenue in `year`, yuan.

    2024 and 2025 are the published figures; later years grow at
    `growth_after`; years before 2024 are taken at the 2024 level.
    """
    if year <= 2024:
        return market.revenue_2024
    if year == 2025:
        return market.revenue_2025
    return market.revenue_2025 * (1.0 + market.growth_after) ** (year - 2025)


def producer_pool(market: MarketParams, year: int) -> float:
    """Yuan a month left for the modelled cities' producers after the platforms' cut."""
    return annual_revenue(market, year) / 12.0 * market.producer_share * market.coverage


def tier_weights(market: MarketParams, years_elapsed: float) -> np.ndarray:
    """Attention per production by tier [traffic, premium], `years_elapsed` after 2024-01; premium gains as quality pays more."""
    return np.array([1.0, market.premium_weight * (1.0 + market.quality_shift) ** years_elapsed])


def share_by_attention(pool: float, weights: np.ndarray) -> np.ndarray:
    """Split `pool` in proportion to attention `weights` (all zero -> nobody earns)."""
    total = weights.sum()
    if total <= 0.0:
        return np.zeros_like(weights, dtype=float)
    return pool * weights / total

"""Uncertainty of the numbers a planner reads: binomial intervals for chances, bands for continuous outcomes.

A chance estimated from n runs is a binomial proportion; its interval is
Wilson's score interval (Wilson 1927), which stays inside [0, 1] and keeps
its coverage near 0 and 1 and at small n, where the normal approximation
fails (Brown, Cai & DasGupta 2001). SciPy computes it.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

CONFIDENCE = 0.95  # of every binomial interval the tools report


def wilson(successes: int, runs: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a chance seen `successes` times in `runs` runs; (nan, nan) with no runs."""
    if runs <= 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(runs)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def chance_text(successes: int, runs: int, confidence: float = CONFIDENCE) -> str:
    """'72% (95% interval 66-78%, 200 runs)'."""
    low, high = wilson(successes, runs, confidence)
    return (f"{successes / runs:.0%} ({confidence:.0%} interval {100 * low:.0f}-{high:.0%}, {runs} runs)" if runs
            else "no runs")


def band(values: np.ndarray, width: float = 0.9) -> tuple[float, float]:
    """The central `width` band of a sample (the 5th and 95th percentiles by default); (nan, nan) when empty."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = 50.0 * (1.0 - width)
    return float(np.percentile(values, tail)), float(np.percentile(values, 100.0 - tail))

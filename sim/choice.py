"""Conditional-logit location choice (McFadden 1974), for all choosers at once."""

from __future__ import annotations

import numpy as np


def logit_choice(utility: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Index of the chosen alternative per row, drawn with the logit probabilities exp(U/scale) / sum exp(U/scale).

    One uniform per row against the cumulative probabilities (inverse CDF),
    computed in place: the same choice distribution as argmax(U + scale x
    Gumbel) at one draw per chooser instead of one per alternative.
    """
    n = utility.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return choose_with(utility, scale, rng.random((n, 1)))


def choose_with(utility: np.ndarray, scale: float | np.ndarray, u: np.ndarray) -> np.ndarray:
    """`logit_choice` with its uniforms given: u of shape (n, 1) in [0, 1); scale a number or one per row (n, 1).

    The ensemble (sim.ensemble) draws each run's uniforms from that run's own stream, then chooses for all at once.
    """
    weight = utility - utility.max(axis=1, keepdims=True)
    weight *= 1.0 / scale
    np.exp(weight, out=weight)
    np.cumsum(weight, axis=1, out=weight)  # running totals; the last column is the row's total
    u = u * weight[:, -1:]
    return np.count_nonzero(weight <= u, axis=1)  # alternatives whose running total u has passed


def logit_probabilities(utility: np.ndarray, scale: float) -> np.ndarray:
    """Choice probabilities per row (for analysis and tests)."""
    z = utility / scale
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)

"""Conditional-logit location choice (McFadden 1974), for all choosers at once."""

from __future__ import annotations

import numpy as np


def logit_choice(utility: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Index of the chosen alternative per row: argmax(U + scale x Gumbel).

    Drawing i.i.d. Gumbel(0, scale) taste shocks and taking the argmax gives
    exactly the logit probabilities exp(U/scale) / sum exp(U/scale).
    """
    if utility.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    shocks = rng.gumbel(0.0, scale, size=utility.shape)
    return np.argmax(utility + shocks, axis=1)


def logit_probabilities(utility: np.ndarray, scale: float) -> np.ndarray:
    """Choice probabilities per row (for analysis and tests)."""
    z = utility / scale
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)

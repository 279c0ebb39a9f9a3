"""The NumPy floor of a location step: the least work any vectorised logit location model does per month.

For N firms and M places with a share of the firms reconsidering: draw who
reconsiders, build their utility matrix (a firm term times a place term,
less the move from where each firm is, plus the place's pull) and draw a
logit choice with `sim.choice.logit_choice`, the model's own draw. The model
step is compared with this (`floor_ratio_100k_50` in `make bench`): what the
model does beyond it is production, accounts, entry, exit and records.
"""

from __future__ import annotations

import numpy as np

from sim.choice import logit_choice


class NumpyFloor:
    """Inputs for N firms x M places, made once; `step()` is the timed part."""

    def __init__(self, firms: int, places: int, mover_share: float, scale: float = 0.5, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.rng, self.share, self.scale = rng, mover_share, scale
        self.firm_term = rng.normal(1.0, 0.3, firms)
        self.place_term = rng.normal(1.0, 0.3, places)
        self.pull = rng.normal(0.0, 1.0, places)
        self.move = rng.uniform(0.5, 1.5, (places, places))
        np.fill_diagonal(self.move, 0.0)
        self.here = rng.integers(0, places, firms)

    def step(self) -> np.ndarray:
        """One month's location choice for the reconsidering firms; returns their chosen places."""
        rows = np.flatnonzero(self.rng.random(len(self.here)) < self.share)
        utility = np.multiply.outer(self.firm_term[rows], self.place_term)
        utility -= self.move[self.here[rows]]
        utility += self.pull
        return logit_choice(utility, self.scale, self.rng)

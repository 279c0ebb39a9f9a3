"""Each run's own random streams, one per phase, restarted every month.

A run's draws in month m and phase p come from its own PCG64 stream for p,
advanced to month m's block: the same run draws the same numbers whatever
other runs share its ensemble, and, as in the reference model, a change in
one phase's draws (or in a counterfactual's policy) leaves the other
phases' numbers, and the next months', where they were (common random
numbers). Restarting a stream is a state copy and a jump, about 2 us.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

PHASES = {"init": 0, "produce": 1, "relocate": 2, "enter": 3, "exit": 4}
MONTH_BLOCK = 1 << 40  # draws one phase of one run may make in a month, at most: far more than any month needs


class RunStreams:
    """One generator per run, re-pointed at (phase, month) by `at`."""

    def __init__(self, seeds: Sequence[int]):
        self._states = [[np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(phase,))).state
                         for phase in range(len(PHASES))] for seed in seeds]
        self.generators = [np.random.Generator(np.random.PCG64()) for _ in seeds]

    def at(self, phase: str, month: int) -> list[np.random.Generator]:
        """Every run's generator, each at the start of its stream for `phase` in `month`."""
        p = PHASES[phase]
        for g, states in zip(self.generators, self._states):
            bits = g.bit_generator
            bits.state = states[p]
            bits.advance(month * MONTH_BLOCK)
        return self.generators


def per_run(generators: list[np.random.Generator], counts: np.ndarray,
            draw: Callable[[np.random.Generator, int, int], np.ndarray]) -> np.ndarray:
    """Concatenate `draw(generator, run, count)` over runs with a nonzero count (rows are grouped by run, in order).

    Skipping a run with nothing to draw leaves its stream where it was, as drawing nothing would.
    """
    parts = [draw(generators[r], r, int(counts[r])) for r in np.flatnonzero(counts)]
    return np.concatenate(parts, axis=-1) if parts else np.zeros(0)

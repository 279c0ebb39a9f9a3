"""The fast path: many runs of one scenario structure advanced together, as one array axis.

`Ensemble(runs)` takes a list of `RunParams` that share their places, start
and length (their numbers, seeds and policies may all differ) and advances
them month by month in one NumPy pass over every run's companies, so a
month costs Python's overhead once, not once per run. Each run draws from
its own random streams (sim/ensemble/streams.py), so its numbers never
depend on which runs share its batch. `ensemble.view(i)` is run i finished,
read like a `ContestModel` by the outcome registry, the counterfactual and
the facts.

The single run, `sim.model.ContestModel` (a Mesa model), stays the
reference: the two share every formula in sim/economics.py, sim/policy.py
and sim/market.py, and tests/test_ensemble.py checks that they agree, over
replicates, on every outcome of the registry.
"""

from sim.ensemble.model import Ensemble, run_ensemble
from sim.ensemble.views import RunView

__all__ = ["Ensemble", "RunView", "run_ensemble"]

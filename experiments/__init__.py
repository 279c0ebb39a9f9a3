"""Batch experiments: designs, evaluators (local processes or Dask) and tidy results.

`run_once(params, seed)` evaluates one point and can be driven by any tool
(the EMA Workbench, Optuna, a notebook); `.venv/bin/drama sweep
experiment=<name>` runs a whole design with replicates.
"""

from experiments.batch.runs import run_once

__all__ = ["run_once"]

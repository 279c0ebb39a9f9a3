"""Evaluators: run tasks in parallel and yield results as they finish.

Both share one interface, `evaluator.map(tasks) -> iterator of RunResult`
(in completion order), and both build models inside the workers from a
plain base-config dict sent once per worker: models never cross processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from experiments.evaluate import RunResult, RunTask, evaluate

BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_worker: dict = {}


def _init_worker(base: Mapping, outcomes: tuple[str, ...], keep_every: int) -> None:
    os.environ.update(BLAS_ENV)
    one_blas_thread()
    _worker.update(base=base, outcomes=outcomes, keep_every=keep_every)


def one_blas_thread() -> None:
    """Limit every BLAS loaded in this process to one thread (some ignore OPENBLAS_NUM_THREADS)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _evaluate_in_worker(task: RunTask) -> RunResult:
    return evaluate(task, _worker["base"], _worker["outcomes"], _worker["keep_every"])


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LocalEvaluator:
    """A pool of worker processes on this machine, one BLAS thread each."""

    name = "local"

    def __init__(self, base: Mapping, outcomes: tuple[str, ...], keep_every: int, workers: int = 0):
        self.base, self.outcomes, self.keep_every = base, outcomes, keep_every
        self.workers = workers or default_workers()

    def map(self, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Yield each task's result as soon as it finishes."""
        # spawn: fresh interpreters that read the BLAS settings at numpy import
        for key, value in BLAS_ENV.items():
            os.environ.setdefault(key, value)
        pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                   initargs=(self.base, self.outcomes, self.keep_every))
        try:
            futures = [pool.submit(_evaluate_in_worker, t) for t in tasks]
            for future in as_completed(futures):
                yield future.result()
        finally:  # on any stop (an error, Ctrl-C, the consumer giving up): drop the runs not started
            pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        return f"local process pool, {self.workers} workers"


class DaskEvaluator:
    """Dask distributed: a LocalCluster, or an existing cluster at `address` (tcp://host:8786)."""

    name = "dask"

    def __init__(self, base: Mapping, outcomes: tuple[str, ...], keep_every: int, workers: int = 0,
                 address: str | None = None):
        self.base, self.outcomes, self.keep_every = base, outcomes, keep_every
        self.workers = workers or default_workers()
        self.address = address

    def map(self, tasks: Iterable[RunTask]) -> Iterator[RunResult]:
        """Yield each task's result as soon as it finishes on any worker."""
        from dask.distributed import Client, LocalCluster, as_completed as dask_completed

        for key, value in BLAS_ENV.items():
            os.environ.setdefault(key, value)
        cluster = None
        if self.address:
            client = Client(self.address)
        else:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            base = client.scatter(dict(self.base), broadcast=True)
            # pure=False: Dask makes a unique key per task, so sweeps sharing a cluster never share results
            futures = [client.submit(evaluate, t, base, self.outcomes, self.keep_every, pure=False) for t in tasks]
            for future in dask_completed(futures):
                yield future.result()
                future.release()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def describe(self) -> str:
        return f"dask at {self.address}" if self.address else f"dask LocalCluster, {self.workers} workers"


def make_evaluator(backend: str, base: Mapping, outcomes: tuple[str, ...], keep_every: int, workers: int = 0,
                   address: str | None = None):
    """The evaluator for `backend` ('local' or 'dask')."""
    if backend == "local":
        return LocalEvaluator(base, outcomes, keep_every, workers)
    if backend == "dask":
        return DaskEvaluator(base, outcomes, keep_every, workers, address)
    raise ValueError(f"backend: {backend!r} is not allowed; choose local or dask")

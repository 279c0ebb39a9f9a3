"""Evaluators: run tasks in parallel and yield results as they finish.

Both share one interface. An evaluator is a context manager that holds its
process pool or Dask cluster open, so a calibration's rounds reuse one pool
instead of starting one per round; `evaluator.map(tasks, outcomes,
keep_every)` yields each RunResult in completion order. Models are built
inside the workers from a plain base-config dict sent once per worker:
models never cross processes. Used without `with`, `map` opens and closes
the pool itself.

A worker process that dies (a crash in native code, an `os._exit`, the
out-of-memory killer) takes no run with it silently: the runs that were in
flight are run again one at a time, and the one that kills its worker again
is recorded as failed with the reason, while the sweep goes on.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
from collections import deque
from functools import partial
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from experiments.batch.runs import RunResult, RunTask, batch_function, evaluate_each
from sim.params import ParamError

BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WORKER_DIED = "worker process died while running this point (it was run again alone and died again)"

_worker: dict = {}


def _init_worker(base: Mapping, function: Callable, parent: int) -> None:
    if hasattr(signal, "pthread_sigmask"):  # started inside signals_deferred: a worker inherits the held signals
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    die_with_parent(parent)
    os.environ.update(BLAS_ENV)
    one_blas_thread()
    _worker.update(base=base, function=function)


def die_with_parent(parent: int) -> None:
    """End this worker as soon as the process that started it is gone (even by kill -9).

    An orphaned worker would keep running for minutes, holding the command's
    stdout and stderr open, so a caller reading them would hang. A daemon
    thread polls the parent pid (portable, and unlike Linux's PR_SET_PDEATHSIG
    it does not fire when merely the thread that started the worker ends).
    """
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def one_blas_thread() -> None:
    """Limit every BLAS loaded in this process to one thread (some ignore OPENBLAS_NUM_THREADS)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _evaluate_in_worker(batch: list[RunTask], outcomes: tuple[str, ...], keep_every: int) -> list[RunResult]:
    return _worker["function"](batch, _worker["base"], outcomes, keep_every)


BATCH_RUNS = 32  # tasks sent to a worker at once, at most: on the fast path they run as one ensemble


def batches(tasks: list[RunTask], workers: int) -> list[list[RunTask]]:
    """Tasks in batches: large enough that a worker runs many at once, small enough that every worker gets
    eight or more (the last batches finish together, and the progress bar moves)."""
    size = max(1, min(BATCH_RUNS, -(-len(tasks) // (8 * max(workers, 1)))))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def as_batch_function(function: Callable | None, path: str) -> Callable:
    """The batch function workers call: `path`'s, or `function` (one task at a time: a test's own) when given."""
    return batch_function(path) if function is None else partial(evaluate_each, function)


@contextmanager
def signals_deferred():
    """Hold Ctrl-C and kill -TERM until the block ends (then they act at once).

    ProcessPoolExecutor starts a worker inside `submit`, writing the worker's
    start-up data to its pipe; a stop raised halfway through that write leaves
    the new worker reading a cut pipe, which prints an EOFError traceback into
    the command's output as the command ends.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def died(task: RunTask, reason: str = WORKER_DIED) -> RunResult:
    """The failed result of a run whose worker process died."""
    return RunResult(task.run_id, {"run_id": task.run_id, "status": "failed", "error": reason}, None)


class _Pooled:
    """Open on `with` (or per `map` call when not entered)."""

    def __enter__(self):
        self._open()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            self._abort()  # stopped (an error, Ctrl-C, kill -TERM): do not wait for the runs in flight
        self._close()

    def _abort(self) -> None:
        """Stop the workers at once (a subclass that can)."""

    def map(self, tasks: Iterable[RunTask], outcomes: tuple[str, ...], keep_every: int) -> Iterator[RunResult]:
        """Yield each task's result as soon as it finishes."""
        if self._is_open():
            yield from self._map(list(tasks), outcomes, keep_every)
            return
        with self:
            yield from self._map(list(tasks), outcomes, keep_every)


class LocalEvaluator(_Pooled):
    """A pool of worker processes on this machine, one BLAS thread each."""

    def __init__(self, base: Mapping, workers: int = 0, function: Callable | None = None, path: str = "fast"):
        self.base = base
        self.workers = workers or default_workers()
        self.path = path
        # evaluate(task, base, outcomes, keep_every) one task at a time when given (tests pass one that crashes)
        self.function = as_batch_function(function, path)
        self._pool: ProcessPoolExecutor | None = None

    def _open(self) -> None:
        # spawn: fresh interpreters that read the BLAS settings at numpy import
        for key, value in BLAS_ENV.items():
            os.environ.setdefault(key, value)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                         initargs=(self.base, self.function, os.getpid()))

    def _is_open(self) -> bool:
        return self._pool is not None

    def _close(self) -> None:
        if self._pool is not None:  # on any stop (an error, Ctrl-C, the consumer giving up): drop runs not started
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _abort(self) -> None:
        # ProcessPoolExecutor has no public terminate before Python 3.14; its worker table is the only handle.
        for process in list(getattr(self._pool, "_processes", {}).values()):
            process.terminate()

    def _map(self, tasks: list[RunTask], outcomes: tuple[str, ...], keep_every: int) -> Iterator[RunResult]:
        queue, suspects = deque(batches(tasks, self.workers)), deque()
        window = 2 * self.workers  # batches in flight: enough to keep every worker busy, few to re-run after a death
        while queue or suspects:
            alone = not queue  # after a death, the runs that were in flight are retried one at a time
            source = queue if queue else suspects
            in_flight: dict = {}
            try:
                while source or in_flight:
                    while source and len(in_flight) < (1 if alone else window):
                        batch = source.popleft()
                        with signals_deferred():  # a submit may start a worker: never cut its start in half
                            in_flight[self._pool.submit(_evaluate_in_worker, batch, outcomes, keep_every)] = batch
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        results = future.result()  # raises BrokenProcessPool when a worker died
                        del in_flight[future]
                        yield from results
            except BrokenProcessPool:
                lost = [task for batch in in_flight.values() for task in batch]
                if alone:
                    yield from (died(t) for t in lost)  # it ran by itself and killed its worker again
                else:
                    suspects.extend([t] for t in lost)
                self._close_broken()
                self._open()

    def _close_broken(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def describe(self) -> str:
        return f"local process pool, {self.workers} workers, {self.path} path"


class DaskEvaluator(_Pooled):
    """Dask distributed: a LocalCluster, or an existing cluster at `address` (tcp://host:8786).

    A worker lost mid-run is Dask's to handle: the scheduler reruns its tasks
    on another worker, and a task that kills `distributed.scheduler.allowed-failures`
    + 1 workers fails (KilledWorker, or a cancelled future); the run is then
    recorded as failed with that reason, never dropped.
    """

    def __init__(self, base: Mapping, workers: int = 0, address: str | None = None, function: Callable | None = None,
                 path: str = "fast"):
        self.base = base
        self.workers = workers or default_workers()
        self.address = address
        self.path = path
        # evaluate(task, base, outcomes, keep_every) one task at a time when given (tests pass one that crashes)
        self.function = as_batch_function(function, path)
        self._client = self._cluster = self._base = None

    def _open(self) -> None:
        from dask.distributed import Client, LocalCluster

        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker",
                     "distributed.core", "distributed.http.proxy"):
            logging.getLogger(name).setLevel(logging.WARNING)  # importing distributed resets them to INFO
        for key, value in BLAS_ENV.items():
            os.environ.setdefault(key, value)
        if self.address:
            try:
                self._client = Client(self.address, timeout=CONNECT_TIMEOUT)
            except (OSError, ValueError) as err:  # TimeoutError is an OSError: nothing answered there
                raise ParamError("address", f"no Dask scheduler answered at {self.address} within {CONNECT_TIMEOUT} "
                                            f"({type(err).__name__}); start one with `dask scheduler`, or drop address "
                                            "to use a LocalCluster") from None
        else:
            import dask

            # Saturation 1: a worker holds only the run it is running, so a worker that dies takes no queued
            # runs with it (each would count a death against it and might be failed for another's crash).
            with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
                # Workers' own logs are silenced below CRITICAL: a run's error reaches the sweep through its future
                # (recorded in runs.parquet), a dead worker through KilledWorker; what the workers log themselves
                # is noise, e.g. a heartbeat that misses the scheduler while the cluster shuts down on a busy machine.
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.CRITICAL)
            self._client = Client(self._cluster)
        # The base config travels with each task (a few kB), not scattered once: scattered data dies with the
        # workers that hold it, and every run needing it would be cancelled ("lost dependencies").
        self._base = dict(self.base)

    def _is_open(self) -> bool:
        return self._client is not None

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = self._base = None

    def _map(self, tasks: list[RunTask], outcomes: tuple[str, ...], keep_every: int) -> Iterator[RunResult]:
        from dask.distributed import KilledWorker, as_completed as dask_completed

        def submit(batch: list[RunTask]):
            # pure=False: Dask makes a unique key per task, so sweeps sharing a cluster never share results
            future = self._client.submit(self.function, batch, self._base, outcomes, keep_every, pure=False)
            owner[future.key] = batch
            return future

        owner: dict = {}
        attempts: dict[tuple, int] = {}
        pending = dask_completed([submit(b) for b in batches(tasks, self.workers)])
        for future in pending:
            batch = owner.pop(future.key)
            key = tuple(t.run_id for t in batch)
            try:
                results = future.result()
            except KilledWorker as err:
                if len(batch) > 1:  # one of them killed the workers: each runs alone, so only that one fails
                    for task in batch:
                        pending.add(submit([task]))
                    future.release()
                    continue
                results = [died(batch[0], f"Dask lost every worker that ran this point ({err})")]
            except Exception as err:  # noqa: BLE001 - a batch never raises: the cluster lost the batch's results
                attempts[key] = attempts.get(key, 0) + 1
                if attempts[key] <= 3:
                    pending.add(submit(batch))  # run it again (a lost worker's results are gone with it)
                    future.release()
                    continue
                results = [died(t, f"Dask could not finish this point in 4 attempts ({type(err).__name__}: {err})")
                           for t in batch]
            yield from results
            future.release()

    def describe(self) -> str:
        return f"dask at {self.address}" if self.address else f"dask LocalCluster, {self.workers} workers"


ADDRESS = re.compile(r"((tcp|tls|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")
CONNECT_TIMEOUT = "10s"


def check_address(address: str | None) -> None:
    """A Dask scheduler address must read as [protocol://]host:port before anything is started."""
    if address and not ADDRESS.fullmatch(address):
        raise ParamError("address", f"{address!r} is not a scheduler address; write tcp://host:port "
                                    "(e.g. tcp://10.0.0.5:8786), or null for a LocalCluster")


def make_evaluator(backend: str, base: Mapping, workers: int = 0, address: str | None = None, path: str = "fast"):
    """The evaluator for `backend` ('local' or 'dask'), running runs on `path` ('fast': ensembles of runs,
    sim.ensemble; 'reference': one Mesa model per run)."""
    batch_function(path)  # refuses an unknown path in one line
    if backend == "local":
        return LocalEvaluator(base, workers, path=path)
    if backend == "dask":
        return DaskEvaluator(base, workers, address, path=path)
    raise ValueError(f"backend: {backend!r} is not allowed; choose local or dask")

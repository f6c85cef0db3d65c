"""Run training jobs in single-threaded worker processes, one per core.

Small networks train fastest with one XLA thread each: a 2 -> 104 -> 1 step
is too small for XLA's thread pool to pay off, so the toolkit runs one
single-threaded process per core instead. Workers start with the ``spawn``
method (a fresh interpreter, no inherited JAX state), receive
``XLA_FLAGS`` that turn off XLA's CPU thread pool before JAX first runs,
and pin themselves to one core with ``os.sched_setaffinity`` where the OS
has it.

Jobs are handed out longest first from one shared queue, so the longest job
starts at once and short ones fill the gaps. A job function runs as
``function(payload, report)``, where ``report(done, total)`` sends progress
to the parent. Its return value travels back by pickle, so it should be
plain Python and numpy values, not JAX arrays.
"""

import contextlib
import logging
import os
import queue
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("falsestruct")

SINGLE_THREAD_XLA_FLAGS = (
    "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
_POLL_SECONDS = 0.5

# on_progress(job_id, done, total), called in the parent process.
ProgressHandler = Callable[[str, int, int], None]
# on_result(job_id), called in the parent process when a job's result arrives.
ResultHandler = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    """One unit of work for a worker process.

    ``function`` must be a module-level function (so that ``spawn`` can
    import it by name) taking ``(payload, report)``. ``cost`` orders the
    jobs, largest first; optimiser steps are a good measure.
    """

    job_id: str
    cost: float
    function: Callable[[Any, Callable[[int, int], None]], Any]
    payload: Any


class WorkerError(RuntimeError):
    """A job raised in its worker, or a worker process died."""


def usable_cores() -> list[int]:
    """Return the ids of the cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def default_workers() -> int:
    """Return the number of usable cores, the default worker count."""
    return len(usable_cores())


def _pin_to_core(core: int | None) -> None:
    if core is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


def _worker_main(core, tasks, results) -> None:
    """Take jobs from `tasks` until a None arrives; send every outcome to `results`."""
    _pin_to_core(core)
    while (job := tasks.get()) is not None:

        def report(done: int, total: int, job_id: str = job.job_id) -> None:
            results.put(("progress", job_id, int(done), int(total)))

        try:
            value = job.function(job.payload, report)
        except BaseException:  # noqa: BLE001 - sent to the parent, which raises
            results.put(("error", job.job_id, traceback.format_exc()))
            return
        results.put(("done", job.job_id, value))


@contextlib.contextmanager
def _environment(**variables: str) -> Iterator[None]:
    """Set environment variables for the processes started inside the block."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start_workers(context, count: int, tasks, results) -> list:
    cores = usable_cores()
    pin = count <= len(cores)
    processes = []
    with _environment(XLA_FLAGS=SINGLE_THREAD_XLA_FLAGS):
        for index in range(count):
            core = cores[index] if pin else None
            process = context.Process(
                target=_worker_main, args=(core, tasks, results), daemon=True
            )
            process.start()
            processes.append(process)
    return processes


def _check_workers(processes: list, pending: int) -> None:
    """Raise WorkerError if a worker died, or all exited with jobs left."""
    for process in processes:
        if process.exitcode not in (None, 0):
            raise WorkerError(
                f"a worker process (pid {process.pid}) exited with code "
                f"{process.exitcode} before its job finished (a negative code "
                "is the signal that stopped it, -9 often the out-of-memory killer)"
            )
    if pending and all(process.exitcode is not None for process in processes):
        raise WorkerError(f"all worker processes exited with {pending} jobs left")


def _collect(processes, results, jobs, on_progress, on_result) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    while len(outcomes) < len(jobs):
        try:
            message = results.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            _check_workers(processes, len(jobs) - len(outcomes))
            continue
        kind, job_id = message[0], message[1]
        if kind == "progress" and on_progress is not None:
            on_progress(job_id, message[2], message[3])
        elif kind == "done":
            outcomes[job_id] = message[2]
            if on_result is not None:
                on_result(job_id)
        elif kind == "error":
            raise WorkerError(f"job {job_id} failed in its worker:\n{message[2]}")
    return outcomes


def run_jobs(
    jobs: list[Job],
    *,
    workers: int,
    on_progress: ProgressHandler | None = None,
    on_result: ResultHandler | None = None,
) -> dict[str, Any]:
    """Run `jobs` on up to `workers` processes; return job id -> result.

    Jobs start in order of decreasing ``cost``. Progress messages reach
    `on_progress` in this process as they arrive, and `on_result` is called
    with the id of each finished job. If a job raises or a worker dies, the
    other workers are stopped and WorkerError is raised.
    """
    if workers < 1:
        raise ValueError(f"`workers` must be >= 1, got {workers}")
    ids = [job.job_id for job in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"job ids must be unique, got {ids}")
    if not jobs:
        return {}
    if min(workers, len(jobs)) == 1:
        return _run_in_process(jobs, on_progress, on_result)
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    count = min(workers, len(jobs))
    for job in sorted(jobs, key=lambda job: -job.cost):
        tasks.put(job)
    for _ in range(count):
        tasks.put(None)
    processes = _start_workers(context, count, tasks, results)
    logger.info("started %d worker processes for %d jobs", count, len(jobs))
    try:
        outcomes = _collect(processes, results, jobs, on_progress, on_result)
    except BaseException:
        _stop_workers(processes, wait=0.0)
        raise
    _stop_workers(processes, wait=5.0)
    return outcomes


def _run_in_process(
    jobs: list[Job],
    on_progress: ProgressHandler | None,
    on_result: ResultHandler | None,
) -> dict[str, Any]:
    """Run the jobs one after another in this process.

    With a single worker a child process buys nothing, and running here
    lets scripts call the training without an ``if __name__ ==
    "__main__":`` guard, which ``spawn`` requires. A job's exception
    propagates unchanged.
    """
    outcomes = {}
    for job in sorted(jobs, key=lambda job: -job.cost):

        def report(done: int, total: int, job_id: str = job.job_id) -> None:
            if on_progress is not None:
                on_progress(job_id, done, total)

        outcomes[job.job_id] = job.function(job.payload, report)
        if on_result is not None:
            on_result(job.job_id)
    return outcomes


def _stop_workers(processes: list, wait: float) -> None:
    """Join the workers, terminating any still alive after `wait` seconds."""
    for process in processes:
        process.join(timeout=wait)
        if process.is_alive():
            process.terminate()
            process.join()

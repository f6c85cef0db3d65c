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

``run_jobs_dask`` runs the same jobs on the workers of a Dask
``distributed`` scheduler instead, for runs that outgrow one machine. Those
workers are processes started by the user, so they cannot be given
``XLA_FLAGS`` from here: start them with ``SINGLE_THREAD_XLA_FLAGS`` in their
environment and one thread each (see ``docs/distributed.md``).
"""

import contextlib
import logging
import os
import queue
import re
import traceback
import uuid
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
    _check_job_ids(jobs)
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


def _check_job_ids(jobs: list[Job]) -> None:
    ids = [job.job_id for job in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"job ids must be unique, got {ids}")


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


# --- Dask distributed --------------------------------------------------------

DASK_CONNECT_TIMEOUT_SECONDS = 10.0
_SCHEDULER_ADDRESS = re.compile(
    r"(?:tcp://)?(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})"
)


def scheduler_address(address: str, name: str = "`scheduler`") -> str:
    """Return a Dask scheduler address in the form ``tcp://HOST:PORT``.

    Accepts ``tcp://HOST:PORT`` and ``HOST:PORT``, where HOST is a name, an
    IPv4 address or a bracketed IPv6 address. Raises ValueError naming the
    option `name` for anything else.
    """
    match = _SCHEDULER_ADDRESS.fullmatch(address.strip())
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ValueError(
            f"{name} must be an address like tcp://HOST:PORT or HOST:PORT with a "
            f"port from 1 to 65535, got {address!r}"
        )
    return f"tcp://{match['host']}:{int(match['port'])}"


def run_jobs_dask(
    jobs: list[Job],
    *,
    scheduler: str,
    on_progress: ProgressHandler | None = None,
    on_result: ResultHandler | None = None,
) -> dict[str, Any]:
    """Run `jobs` on the workers of the Dask scheduler at `scheduler`.

    Returns job id -> result, like ``run_jobs``, and runs the same job
    functions, so the results equal those of ``run_jobs`` on workers with
    the same software and ``XLA_FLAGS``. Jobs are submitted with their
    ``cost`` as Dask priority, so the longest start first. Each job's
    ``report`` puts ``(job_id, done, total)`` on a named ``distributed.Queue``
    that this process drains into `on_progress`; a job's progress always
    arrives before its `on_result` call. Raises ValueError naming the address
    if connecting to the scheduler times out after
    ``DASK_CONNECT_TIMEOUT_SECONDS``. Raises WorkerError naming the job if a
    job fails, after cancelling the other jobs.
    """
    _check_job_ids(jobs)
    address = scheduler_address(scheduler)
    if not jobs:
        return {}
    distributed = _import_distributed()
    client = _connect(distributed, address)
    # as_current makes Dask's module-level helpers (as_completed, wait) use
    # this client without making it the default client of the whole process.
    try:
        with client.as_current():
            _log_worker_environment(client, address)
            return _run_on_dask(distributed, client, jobs, on_progress, on_result)
    finally:
        client.close()


def _import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "running jobs on a Dask scheduler needs the `distributed` package; "
            "install falsestruct[dask]"
        ) from error
    return distributed


def _connect(distributed, address: str):
    """Connect to the scheduler at `address`; ValueError if that times out."""
    try:
        return distributed.Client(
            address, timeout=DASK_CONNECT_TIMEOUT_SECONDS, set_as_default=False
        )
    except OSError as error:
        logger.debug("connecting to the Dask scheduler failed: %s", error)
        raise ValueError(
            f"connecting to the Dask scheduler at {address} timed out after "
            f"{DASK_CONNECT_TIMEOUT_SECONDS:g} s; check the address and that "
            "`dask scheduler` runs there"
        ) from error


def _worker_environment() -> tuple[str | None, str]:
    """Return this worker's XLA_FLAGS and falsestruct version (runs on the worker)."""
    from falsestruct import __version__

    return os.environ.get("XLA_FLAGS"), __version__


def _log_worker_environment(client, address: str) -> None:
    """Warn about missing workers, multi-threaded XLA and other package versions."""
    from falsestruct import __version__

    try:
        facts = client.run(_worker_environment)
    except Exception as error:  # noqa: BLE001 - the jobs report the same failure
        logger.warning("could not inspect the Dask workers at %s: %s", address, error)
        return
    logger.info("Dask scheduler %s has %d workers", address, len(facts))
    if not facts:
        logger.warning(
            "no workers are connected to the Dask scheduler at %s; the jobs wait "
            "until one connects",
            address,
        )
    threaded = sorted(
        worker
        for worker, (flags, _) in facts.items()
        if "--xla_cpu_multi_thread_eigen=false" not in (flags or "")
    )
    if threaded:
        logger.warning(
            "%d of %d Dask workers run without single-thread XLA_FLAGS (%s), so "
            "each uses XLA's thread pool; start them with XLA_FLAGS=%r and "
            "--nthreads 1",
            len(threaded),
            len(facts),
            ", ".join(threaded[:3]),
            SINGLE_THREAD_XLA_FLAGS,
        )
    others = {version for _, version in facts.values()} - {__version__}
    if others:
        logger.warning(
            "Dask workers run falsestruct %s, this process %s; install the same "
            "version on every worker",
            ", ".join(sorted(others)),
            __version__,
        )


def _run_dask_job(job: Job, queue_name: str) -> Any:
    """Run `job` on a Dask worker, sending its progress to the named queue."""
    from distributed import Queue

    progress = Queue(queue_name)

    def report(done: int, total: int) -> None:
        progress.put([job.job_id, int(done), int(total)])

    try:
        return job.function(job.payload, report)
    finally:
        progress.close()


def _run_on_dask(distributed, client, jobs, on_progress, on_result) -> dict:
    token = uuid.uuid4().hex[:12]
    progress = distributed.Queue(f"falsestruct-progress-{token}", client=client)
    futures = {}
    for job in sorted(jobs, key=lambda job: -job.cost):
        future = client.submit(
            _run_dask_job,
            job,
            progress.name,
            key=f"falsestruct-{job.job_id}-{token}",
            priority=job.cost,
            pure=False,
        )
        futures[future] = job.job_id
    logger.info("submitted %d jobs to the Dask scheduler", len(jobs))
    try:
        return _gather_dask(futures, progress, on_progress, on_result)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        progress.close()


def _gather_dask(futures, progress, on_progress, on_result) -> dict:
    """Collect results as jobs finish, passing progress on while waiting."""
    import distributed

    outcomes: dict[str, Any] = {}
    completed = distributed.as_completed(list(futures))
    while not completed.is_empty():
        finished = completed.next_batch(block=False)
        if not finished:
            # A blocking Queue.get with a timeout would log an error on the
            # scheduler at every timeout, so wait on the futures instead.
            _wait_for_any(distributed, futures, outcomes)
        # The queue already contains all progress of the finished jobs,
        # because a worker's put returns before its job can finish.
        _pass_progress(progress, on_progress)
        for future in finished:
            job_id = futures[future]
            outcomes[job_id] = _dask_result(future, job_id)
            if on_result is not None:
                on_result(job_id)
    return outcomes


def _wait_for_any(distributed, futures, outcomes) -> None:
    """Return when a job without outcome finishes, or after the poll interval."""
    pending = [future for future, job_id in futures.items() if job_id not in outcomes]
    with contextlib.suppress(TimeoutError):
        distributed.wait(pending, timeout=_POLL_SECONDS, return_when="FIRST_COMPLETED")


def _pass_progress(progress, on_progress) -> None:
    """Hand the queued progress messages to `on_progress`."""
    try:
        messages = progress.get(batch=True)
    except OSError as error:
        raise WorkerError(
            f"lost the connection to the Dask scheduler: {error}"
        ) from error
    for job_id, done, total in messages:
        if on_progress is not None:
            on_progress(job_id, done, total)


def _dask_result(future, job_id: str) -> Any:
    """Return the future's result; WorkerError with the remote error otherwise."""
    if future.status == "finished":
        return future.result()
    if future.status != "error":
        raise WorkerError(f"job {job_id} ended with Dask status {future.status!r}")
    error = future.exception()
    remote = "".join(traceback.format_tb(future.traceback()))
    raise WorkerError(
        f"job {job_id} failed on a Dask worker: {type(error).__name__}: {error}\n"
        f"{remote}"
    )

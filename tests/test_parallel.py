"""Worker processes: results, progress, failures and job order."""

import os

import pytest

from falsestruct._parallel import (
    SINGLE_THREAD_XLA_FLAGS,
    Job,
    WorkerError,
    default_workers,
    run_jobs,
)


def report_environment(payload, report):
    """Report two progress steps; return the XLA flags and core set seen."""
    report(1, 2)
    report(2, 2)
    return {
        "payload": payload,
        "xla_flags": os.environ.get("XLA_FLAGS"),
        "cores": sorted(os.sched_getaffinity(0)),
    }


def fail(payload, report):
    raise ArithmeticError(f"bad payload {payload}")


def test_run_jobs_results_and_progress():
    jobs = [
        Job(f"job{i}", cost=i, function=report_environment, payload=i) for i in range(3)
    ]
    progress, finished = [], []
    outcomes = run_jobs(
        jobs,
        workers=2,
        on_progress=lambda *args: progress.append(args),
        on_result=finished.append,
    )
    assert sorted(outcomes) == ["job0", "job1", "job2"]
    assert outcomes["job1"]["payload"] == 1
    assert outcomes["job0"]["xla_flags"] == SINGLE_THREAD_XLA_FLAGS
    assert len(outcomes["job0"]["cores"]) == 1
    assert sorted(finished) == ["job0", "job1", "job2"]
    assert ("job2", 2, 2) in progress
    assert len(progress) == 6


def test_run_jobs_raises_worker_error():
    jobs = [Job("ok", 1, report_environment, 0), Job("broken", 2, fail, 7)]
    with pytest.raises(WorkerError, match="broken") as info:
        run_jobs(jobs, workers=2)
    assert "bad payload 7" in str(info.value)


def test_run_jobs_single_worker_in_process():
    jobs = [Job("ok", 1, report_environment, 0), Job("broken", 2, fail, 7)]
    with pytest.raises(ArithmeticError, match="bad payload 7"):
        run_jobs(jobs, workers=1)


def test_run_jobs_rejects_bad_arguments():
    with pytest.raises(ValueError, match="workers"):
        run_jobs([], workers=0)
    twice = [Job("a", 1, fail, 0), Job("a", 1, fail, 0)]
    with pytest.raises(ValueError, match="unique"):
        run_jobs(twice, workers=1)
    assert run_jobs([], workers=1) == {}
    assert default_workers() >= 1

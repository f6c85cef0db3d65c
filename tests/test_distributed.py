"""Training jobs on a real Dask scheduler and workers, all on 127.0.0.1."""

import json
import socket
import sys
import time

import numpy as np
import pytest

from falsestruct import cli
from falsestruct._exp1 import Exp1Config, _train_job, make_jobs, train_all
from falsestruct._parallel import (
    SINGLE_THREAD_XLA_FLAGS,
    Job,
    WorkerError,
    run_jobs,
    run_jobs_dask,
    scheduler_address,
)

distributed = pytest.importorskip("distributed")

CONFIG = Exp1Config(nets=("Psi1",), seeds=2, epochs=50)
WEIGHT_KEYS = ("dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias")


@pytest.fixture(scope="module")
def scheduler():
    """Address of a local scheduler with two single-threaded worker processes."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        env={"XLA_FLAGS": SINGLE_THREAD_XLA_FLAGS},
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def local_outcomes():
    """Results of the Psi1 jobs of CONFIG trained by run_jobs in this process."""
    return run_jobs(make_jobs(CONFIG), workers=1)


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def record_start(payload, report):
    """Sleep briefly; return when the job started (system-wide monotonic clock)."""
    started = time.monotonic()
    time.sleep(0.3)
    return started


def assert_same_weights(arrays: dict, expected: dict) -> None:
    for key in WEIGHT_KEYS:
        assert np.array_equal(arrays[key], expected[key]), key


def test_dask_weights_equal_local(scheduler, local_outcomes):
    progress, finished = [], []
    outcomes = run_jobs_dask(
        make_jobs(CONFIG),
        scheduler=scheduler,
        on_progress=lambda *message: progress.append(message),
        on_result=finished.append,
    )
    assert sorted(outcomes) == ["Psi1/0", "Psi1/1"]
    for job_id, outcome in outcomes.items():
        expected = local_outcomes[job_id][0]
        assert outcome[0]["final_loss"] == expected["final_loss"]
        assert_same_weights(outcome[0]["arrays"], expected["arrays"])
    assert ("Psi1/0", 50, 50) in progress
    assert ("Psi1/1", 50, 50) in progress
    assert sorted(finished) == ["Psi1/0", "Psi1/1"]


def test_train_all_with_scheduler(scheduler, local_outcomes):
    config = Exp1Config(nets=("Psi1",), seeds=2, epochs=50, scheduler=scheduler)
    trained = train_all(config)
    assert [item.seed for item in trained] == [0, 1]
    for item in trained:
        expected = local_outcomes[f"Psi1/{item.seed}"][0]
        assert_same_weights(item.arrays, expected["arrays"])


def test_dask_job_failure_names_job(scheduler):
    payload = {
        "net": "Psi9",
        "seeds": [0],
        "params": CONFIG.params.to_dict(),
        "epochs": 5,
        "shuffle": "batches",
    }
    jobs = [Job("Psi9/0", 1, _train_job, payload)]
    with pytest.raises(WorkerError, match="Psi9/0") as info:
        run_jobs_dask(jobs, scheduler=scheduler)
    assert "unknown network 'Psi9'" in str(info.value)


def test_dask_starts_costly_jobs_first(scheduler):
    jobs = [Job(f"cost{cost}", cost, record_start, None) for cost in (1, 2, 3, 4)]
    starts = run_jobs_dask(jobs, scheduler=scheduler)
    # Two workers run the four jobs in two waves of 0.3 s each. The costliest
    # job must start in the first wave and the cheapest in the second.
    assert starts["cost4"] + 0.2 < starts["cost1"]


def test_cli_reproduce_with_scheduler(scheduler, local_outcomes, tmp_path, capsys):
    argv = ["reproduce", "experiment1", "--exp1-nets", "psi1", "--exp1-epochs"]
    argv += ["50", "--seeds", "2", "--scheduler", scheduler]
    argv += ["--out", str(tmp_path), "--quiet"]
    assert cli.main(argv) == 0
    (run_dir,) = tmp_path.glob("run-*")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["experiment1"]["scheduler"] == scheduler
    for seed in (0, 1):
        with np.load(run_dir / f"experiment1/weights/psi1-seed{seed}.npz") as saved:
            expected = local_outcomes[f"Psi1/{seed}"][0]["arrays"]
            assert_same_weights(dict(saved), expected)


def test_cli_unreachable_scheduler(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{free_port()}"
    argv = ["reproduce", "experiment1", "--exp1-nets", "psi1", "--exp1-epochs"]
    argv += ["5", "--scheduler", address, "--out", str(tmp_path), "--quiet"]
    started = time.monotonic()
    code = cli.main(argv)
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2
    assert elapsed < 20
    assert err.count("\n") == 1
    assert address in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text", ["http://127.0.0.1:8786", "127.0.0.1", "127.0.0.1:0", "host:99999", ""]
)
def test_cli_rejects_bad_scheduler_address(text, tmp_path, capsys):
    argv = ["reproduce", "experiment1", "--scheduler", text, "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("falsestruct: error: --scheduler must be an address")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_scheduler_address_forms():
    assert scheduler_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert scheduler_address("tcp://node-7.cluster:8786") == "tcp://node-7.cluster:8786"
    assert scheduler_address(" [::1]:8786 ") == "tcp://[::1]:8786"
    with pytest.raises(ValueError, match="`scheduler`"):
        Exp1Config(scheduler="tls://127.0.0.1:8786")


def test_run_jobs_dask_without_distributed(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    jobs = [Job("a", 1, record_start, None)]
    with pytest.raises(ImportError, match=r"falsestruct\[dask\]"):
        run_jobs_dask(jobs, scheduler="tcp://127.0.0.1:8786")
    assert run_jobs_dask([], scheduler="tcp://127.0.0.1:8786") == {}

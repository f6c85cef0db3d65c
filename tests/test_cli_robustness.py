"""Bad input and interruptions at the command line: one-line errors, no leftovers."""

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from falsestruct import cli


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """Run the CLI; return (exit code, stdout, stderr), argparse exits included."""
    try:
        code = cli.main(argv)
    except SystemExit as error:
        code = error.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_relu_arrays(path: Path, width: int, scale: float = 1.0) -> Path:
    np.savez(
        path,
        **{
            "dense.kernel": np.full((2, width), scale),
            "dense.bias": np.zeros(width),
            "dense_1.kernel": np.full((width, 1), scale),
            "dense_1.bias": np.zeros(1),
        },
    )
    return path


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("falsestruct: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# --- weight files ----------------------------------------------------------------


def test_diagnose_rejects_npy_file(tmp_path, capsys):
    path = tmp_path / "plain.npy"
    np.save(path, np.zeros(3))
    code, _, err = run_cli(["diagnose", "experiment1", str(path)], capsys)
    assert_one_line_error(code, err, "not an .npz file")


def test_diagnose_rejects_text_file(tmp_path, capsys):
    path = tmp_path / "text.npz"
    path.write_text("hello")
    code, _, err = run_cli(["diagnose", "experiment1", str(path)], capsys)
    assert_one_line_error(code, err, "not an .npz file")
    assert "pickled" not in err


def test_diagnose_rejects_folder(tmp_path, capsys):
    code, _, err = run_cli(["diagnose", "experiment1", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "is a folder")


def test_diagnose_rejects_zero_width(tmp_path, capsys):
    path = write_relu_arrays(tmp_path / "w0.npz", width=0)
    code, _, err = run_cli(["diagnose", "experiment1", str(path)], capsys)
    assert_one_line_error(code, err, "'dense.kernel'", "width >= 1")


def test_diagnose_rejects_overflowing_network(tmp_path, capsys):
    path = write_relu_arrays(tmp_path / "huge.npz", width=104, scale=1e308)
    code, _, err = run_cli(["diagnose", "experiment1", str(path)], capsys)
    assert_one_line_error(code, err, "not finite")


def test_diagnose_names_parameter_options(tmp_path, capsys):
    path = write_relu_arrays(tmp_path / "net.npz", width=8)
    code, _, err = run_cli(["diagnose", "experiment1", str(path), "--K", "5"], capsys)
    assert_one_line_error(code, err, "--K must be > --a = 20", "got 5")


def test_diagnose_experiment2_rejects_negative_seed(tmp_path, capsys):
    path = tmp_path / "missing.npz"
    code, _, err = run_cli(["diagnose", "experiment2", str(path), "--seed=-1"], capsys)
    assert_one_line_error(code, err, "--seed", "-1")


# --- reproduce options ---------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--out", ""], ("--out is empty",)),
        (["experiment2", "--seeds", "0"], ("--seeds", "got 0")),
        (["experiment1", "--exp2-test-size", "10000000000"], ("--exp2-test-size",)),
    ],
)
def test_reproduce_rejects_option(argv, fragments, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    full = ["reproduce", *argv]
    if "--out" not in argv:
        full += ["--out", str(tmp_path / "runs")]
    code, _, err = run_cli(full, capsys)
    assert_one_line_error(code, err, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_reproduce_rejects_file_as_out(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("")
    code, _, err = run_cli(["reproduce", "experiment1", "--out", str(target)], capsys)
    assert_one_line_error(code, err, "is an existing file, not a folder")


# --- check options -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--samples", "1"], "--samples must be >= 1000"),
        (["--seed=-1"], "--seed must be an integer >= 0"),
        (["--K", "5"], "--K must be > --a = 20"),
        (["--eta", "nan"], "--eta must be a finite number > 0"),
    ],
)
def test_check_rejects_option(argv, fragment, capsys):
    code, _, err = run_cli(["check", "experiment1", *argv], capsys)
    assert_one_line_error(code, err, fragment)


# --- run directories -------------------------------------------------------------


def short_run(tmp_path, capsys, *extra) -> Path:
    out = tmp_path / "runs"
    argv = ["reproduce", "experiment1", "--exp1-nets", "psi1", "--exp1-epochs", "5"]
    code, _, err = run_cli([*argv, *extra, "--quiet", "--out", str(out)], capsys)
    assert code == 0, err
    (run_dir,) = out.iterdir()
    return run_dir


def test_run_files_follow_umask(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        run_dir = short_run(tmp_path, capsys)
    finally:
        os.umask(old)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o755
    for name in ("config.json", "metrics.json", "experiment1/weights/psi1-seed0.npz"):
        assert stat.S_IMODE((run_dir / name).stat().st_mode) == 0o644, name


def test_report_title_is_final_run_name(tmp_path, capsys):
    run_dir = short_run(tmp_path, capsys)
    page = (run_dir / "report.html").read_text()
    assert f"<title>falsestruct report: {run_dir.name}" in page
    assert ".run-partial-" not in page


def test_epochs_override_is_noted(tmp_path, capsys):
    import json

    run_dir = short_run(tmp_path, capsys)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    note = metrics["experiments"]["experiment1"]["note"]
    assert "--exp1-epochs" in note


def test_other_parameters_not_compared(tmp_path, capsys):
    import json

    run_dir = short_run(tmp_path, capsys, "--exp1-a", "10", "--exp1-K", "12")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    experiment = metrics["experiments"]["experiment1"]
    assert experiment["networks"][0]["paper_verdict"] is None
    assert "differ from the paper's" in experiment["note"]


def test_sigterm_leaves_no_partial_run(tmp_path):
    out = tmp_path / "runs"
    argv = [sys.executable, "-m", "falsestruct.cli", "reproduce", "experiment1"]
    argv += ["--protocol", "paper", "--quiet", "--out", str(out)]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.glob(".run-partial-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(out.glob(".run-partial-*")), "the run never started"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "terminated; no run directory was written" in err
    assert list(out.iterdir()) == []

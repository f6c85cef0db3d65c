"""Experiment I: diagnosis, the authors' networks, the CLI and a short reproduce."""

import json
from pathlib import Path

import numpy as np
import pytest

from falsestruct import _exp1_cli, cli
from falsestruct._exp1 import (
    VERDICT_RULE,
    Exp1Config,
    classify,
    diagnose_network,
    train_all,
    train_net_seeds,
)
from falsestruct._exp1_cli import (
    REFERENCE_FILES,
    diagnose_reference,
    find_reference_dir,
    tf_shape_spec,
)
from falsestruct._exp1_data import Exp1Params
from falsestruct._weights import load_weights, save_weights

# Numbers of the authors' published networks (an independent evaluation of
# their weights on the same grid) and the paper's conclusion for each.
PUBLISHED = {
    "Psi1": (0.422, 1.000, 0.000, "false_structure"),
    "Psi2": (0.888, 0.888, 0.466, "neither"),
    "Psi3": (0.422, 1.000, 0.000, "false_structure"),
    "Psi4": (1.000, 1.000, 0.578, "original"),
}
TOLERANCE = 0.005


def random_arrays(width: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "dense.kernel": rng.normal(size=(2, width)),
        "dense.bias": rng.normal(size=(width,)),
        "dense_1.kernel": rng.normal(size=(width, 1)),
        "dense_1.bias": rng.normal(size=(1,)),
    }


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """Run the CLI; return (exit code, stdout, stderr), argparse exits included."""
    try:
        code = cli.main(argv)
    except SystemExit as error:
        code = error.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- verdict rule -------------------------------------------------------------


def test_classify_thresholds():
    assert classify(0.42, 0.99, 0.01) == "false_structure"
    assert classify(0.42, 0.989, 0.0) == "neither"
    assert classify(0.42, 1.0, 0.011) == "neither"
    assert classify(0.99, 0.99, 0.58) == "original"
    assert classify(0.98, 1.0, 0.58) == "neither"
    assert "0.99" in VERDICT_RULE
    assert "0.01" in VERDICT_RULE


def test_diagnose_any_width():
    for width in (3, 104, 250):
        result = diagnose_network(random_arrays(width))
        assert set(result) == {
            "agreement_c0",
            "agreement_c_delta",
            "ones_share_c0",
            "verdict",
        }
        assert 0 <= result["agreement_c0"] <= 1


def test_diagnose_perfect_and_false_nets():
    # Logit = +1 where f_a should be 1 in S_eps is not a ReLU net, so test the
    # rule on a net that only reads x2: it learns g exactly.
    arrays = {
        "dense.kernel": np.array([[0.0], [1.0]]),
        "dense.bias": np.array([0.0]),
        "dense_1.kernel": np.array([[1.0]]),
        "dense_1.bias": np.array([-1e-6]),
    }
    result = diagnose_network(arrays)
    assert result["ones_share_c0"] == 0.0
    assert result["agreement_c_delta"] == 1.0
    assert result["verdict"] == "false_structure"


# --- the authors' networks ------------------------------------------------------


@pytest.mark.parametrize("net", list(PUBLISHED))
def test_reference_network_verdicts(net, shared_dir):
    path = shared_dir / "reference-networks" / REFERENCE_FILES[net]
    result = diagnose_network(load_weights(path, tf_shape_spec()))
    agreement_c0, agreement_c_delta, ones_share_c0, verdict = PUBLISHED[net]
    assert result["verdict"] == verdict
    assert result["agreement_c0"] == pytest.approx(agreement_c0, abs=TOLERANCE)
    assert result["agreement_c_delta"] == pytest.approx(
        agreement_c_delta, abs=TOLERANCE
    )
    assert result["ones_share_c0"] == pytest.approx(ones_share_c0, abs=TOLERANCE)


# --- diagnose CLI ---------------------------------------------------------------


def test_diagnose_cli_text(shared_dir, capsys):
    path = shared_dir / "reference-networks" / REFERENCE_FILES["Psi1"]
    code, out, _ = run_cli(["diagnose", "experiment1", str(path)], capsys)
    assert code == 0
    assert "hidden width 104" in out
    assert "0.4217" in out
    assert "verdict: false_structure" in out


def test_diagnose_cli_json(tmp_path, capsys):
    path = save_weights(tmp_path / "net.npz", random_arrays(7))
    code, out, _ = run_cli(["diagnose", "experiment1", str(path), "--json"], capsys)
    result = json.loads(out)
    assert code == 0
    assert set(result) == {
        "verdict",
        "agreement_c0",
        "agreement_c_delta",
        "ones_share_c0",
    }
    assert result == diagnose_network(random_arrays(7))


def _write_npz(path: Path, arrays: dict, **kwargs) -> Path:
    np.savez(path, **arrays, **kwargs)
    return path


BAD_FILES = {
    "missing key": (
        lambda a: {k: v for k, v in a.items() if k != "dense.bias"},
        ["'dense.bias'", "(width,)"],
    ),
    "wrong shape": (
        lambda a: a | {"dense_1.kernel": np.ones((5, 2))},
        ["'dense_1.kernel'", "(width, 1)"],
    ),
    "nan": (lambda a: a | {"dense.bias": np.full(5, np.nan)}, ["'dense.bias'", "NaN"]),
    "pickled": (lambda a: a | {"dense.bias": np.array([object()] * 5)}, ["pickled"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_diagnose_rejects_bad_file(case, tmp_path, capsys):
    change, expected = BAD_FILES[case]
    path = _write_npz(tmp_path / "bad.npz", change(random_arrays(5)))
    code, out, err = run_cli(["diagnose", "experiment1", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("falsestruct: error: ")
    for text in expected:
        assert text in err


# --- reproduce: bad input ---------------------------------------------------------

BAD_OPTIONS = {
    "K <= a": (["--exp1-K", "20"], "--exp1-K"),
    "eps too large": (["--exp1-eps", "0.02"], "--exp1-eps"),
    "delta >= eps": (["--exp1-delta", "0.01"], "--exp1-delta"),
    "delta <= 0": (["--exp1-delta", "0"], "--exp1-delta"),
    "seeds 0": (["--seeds", "0"], "--seeds"),
    "epochs 0": (["--exp1-epochs", "0"], "--exp1-epochs"),
    "workers 0": (["--workers", "0"], "--workers"),
    "unknown net": (["--exp1-nets", "psi5"], "psi5"),
    "unknown protocol": (["--protocol", "fast"], "fast"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_reproduce_rejects_bad_option(case, tmp_path, capsys):
    options, named = BAD_OPTIONS[case]
    out_dir = tmp_path / "runs"
    argv = ["reproduce", "experiment1", "--out", str(out_dir), "--quiet", *options]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("falsestruct: error: ")
    assert named in err
    assert not out_dir.exists()


def test_reproduce_rejects_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a regular file")
    out_dir = blocker / "runs"
    argv = ["reproduce", "experiment1", "--out", str(out_dir), "--quiet"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "--out" in err
    assert blocker.read_text() == "a regular file"


# --- training ---------------------------------------------------------------------


def test_same_seed_bit_identical_weights():
    params = Exp1Params()
    first = train_net_seeds("Psi1", [3], params, 50, "batches")
    second = train_net_seeds("Psi1", [3], params, 50, "batches")
    other = train_net_seeds("Psi1", [4], params, 50, "batches")
    for key, value in first[0]["arrays"].items():
        np.testing.assert_array_equal(value, second[0]["arrays"][key])
    assert not np.array_equal(
        first[0]["arrays"]["dense.kernel"], other[0]["arrays"]["dense.kernel"]
    )


SHORT_RUN = "reproduce experiment1 --quiet --exp1-nets psi1 --exp1-epochs 200"
RUN_FILES = [
    "config.json",
    "command.txt",
    "metrics.json",
    "report.html",
    "experiment1/figure2.png",
    "experiment1/summary.md",
    "experiment1/weights/psi1-seed0.npz",
    "experiment1/weights/psi1-seed1.npz",
]
NETWORK_FIELDS = {
    "net",
    "training_set",
    "r",
    "seed",
    "agreement_c0",
    "agreement_c_delta",
    "ones_share_c0",
    "verdict",
    "paper_verdict",
    "final_loss",
    "weights",
}


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> Path:
    """Reproduce Psi1 for 2 seeds and 200 epochs; return the run folder."""
    out_dir = tmp_path_factory.mktemp("runs")
    argv = SHORT_RUN.split() + ["--seeds", "2", "--workers", "1", "--out", str(out_dir)]
    code = cli.main(argv)
    assert code == 0
    (run_dir,) = out_dir.iterdir()
    return run_dir


def test_short_run_files(short_run):
    for relative in RUN_FILES:
        assert (short_run / relative).is_file(), relative
    summary = (short_run / "experiment1/summary.md").read_text()
    assert "| Psi1 | T^7_delta | 200 |" in summary


def test_short_run_metrics(short_run):
    metrics = json.loads((short_run / "metrics.json").read_text())
    experiment = metrics["experiments"]["experiment1"]
    assert experiment["protocol"] == "paper"
    assert experiment["rule"] == VERDICT_RULE
    assert experiment["figures"] == {"figure2": "experiment1/figure2.png"}
    assert sum(experiment["verdict_counts"]["Psi1"].values()) == 2
    assert [entry["seed"] for entry in experiment["networks"]] == [0, 1]

    entry = experiment["networks"][0]
    assert set(entry) >= NETWORK_FIELDS
    assert entry["training_set"] == "T^7_delta"
    assert entry["r"] == 7
    assert entry["paper_verdict"] == "false_structure"


def test_short_run_weights_match_verdict(short_run):
    metrics = json.loads((short_run / "metrics.json").read_text())
    for entry in metrics["experiments"]["experiment1"]["networks"]:
        weights = load_weights(short_run / entry["weights"], tf_shape_spec())
        assert diagnose_network(weights)["verdict"] == entry["verdict"]
        assert diagnose_network(weights)["agreement_c0"] == entry["agreement_c0"]


def test_reference_entries_in_metrics(shared_dir, monkeypatch):
    folder = shared_dir / "reference-networks"
    monkeypatch.setenv("FALSESTRUCT_REFERENCE_DIR", str(folder))
    assert find_reference_dir() == folder

    reference = diagnose_reference(Exp1Params())
    assert [entry["net"] for entry in reference] == list(PUBLISHED)
    for entry in reference:
        published = entry["published"]
        assert entry["verdict"] == entry["paper_verdict"]
        assert (
            abs(entry["agreement_c0"] - published["agreement_c0"])
            <= published["tolerance"]
        )


def test_reference_null_when_missing(monkeypatch):
    monkeypatch.setattr(_exp1_cli, "find_reference_dir", lambda: None)
    assert _exp1_cli.diagnose_reference(Exp1Params()) is None


def test_reference_null_for_other_params():
    assert _exp1_cli.diagnose_reference(Exp1Params(a=10, K=12, eps=0.01)) is None


@pytest.mark.parametrize("seeds", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_quick_protocol_finds_false_structure(seeds):
    config = Exp1Config(protocol="quick", seeds=seeds, nets=("Psi1", "Psi3"), workers=2)
    trained = train_all(config)
    assert len(trained) == 2 * seeds
    for item in trained:
        verdict = diagnose_network(item.arrays)["verdict"]
        assert verdict == "false_structure", (item.net.name, item.seed)

"""Experiment II: training, Table 1, the authors' network and the command line."""

import json

import jax
import numpy as np
import pytest
from conftest import TABLE1

from falsestruct import cli
from falsestruct._cnn import (
    StripeCNN,
    stripe_cnn_from_tf_arrays,
    stripe_cnn_tf_shapes,
    stripe_cnn_to_tf_arrays,
)
from falsestruct._exp2 import (
    PAPER_ROWS,
    Exp2Config,
    reference_table1,
    table1_rows,
    train_stripe_cnn,
)
from falsestruct._stripes import training_set
from falsestruct._weights import load_weights, save_weights

REFERENCE_FILE = "reference-networks/exp2_phi_stripes.npz"


@pytest.fixture(scope="module")
def trained_seed0():
    """Phi trained on the authors' set from seed 0 with the paper's protocol."""
    images, labels = training_set(0.01, "authors")
    return train_stripe_cnn(images, labels, seed=0, spec=Exp2Config().train_spec)


@pytest.fixture
def reference_path(shared_dir):
    path = shared_dir / REFERENCE_FILE
    if not path.is_file():
        pytest.skip(f"the authors' network {path} not found")
    return path


def test_table1_rows_fine():
    rows = table1_rows("fine")
    assert len(rows) == 18
    assert rows[:4] == PAPER_ROWS
    assert rows[8] == (0.001, 0.002)
    assert rows[9] == (0.0009, 0.001)
    assert rows[-1] == (0.0001, 0.0002)
    widths = [round(c - b, 6) for b, c in rows]
    assert widths == [0.001] * 9 + [0.0001] * 9


def test_table1_rows_paper():
    assert table1_rows("paper") == PAPER_ROWS
    assert [(b, c) for b, c, _, _ in TABLE1] == list(PAPER_ROWS)


def test_training_is_deterministic(trained_seed0):
    model, losses = trained_seed0
    images, labels = training_set(0.01, "authors")
    again, again_losses = train_stripe_cnn(
        images, labels, seed=0, spec=Exp2Config().train_spec
    )
    first, second = stripe_cnn_to_tf_arrays(model), stripe_cnn_to_tf_arrays(again)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    np.testing.assert_array_equal(losses, again_losses)


def test_training_lowers_loss(trained_seed0):
    _, losses = trained_seed0
    assert losses.shape == (10,)
    assert losses[-1] < losses[0]
    # Ten steps on the authors' set fit it: C-tilde's colour code is learned.
    images, labels = training_set(0.01, "authors")
    model, _ = trained_seed0
    predictions = np.asarray(model(images)) > 0
    assert np.mean(predictions == labels) == 1.0


def test_authors_network_reproduces_table1(reference_path):
    model = stripe_cnn_from_tf_arrays(
        load_weights(reference_path, stripe_cnn_tf_shapes())
    )
    rows = reference_table1(model, Exp2Config(test_size=1000, rows="paper"))
    for row, (b, c, tilde, hat) in zip(rows, TABLE1, strict=True):
        assert (row["b"], row["c"]) == (b, c)
        assert abs(row["accuracy_tilde"] - tilde) <= 0.015, row
        assert abs(row["accuracy_hat"] - hat) <= 0.015, row


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seeds": 0}, r"`seeds` must be >= 1, got 0"),
        ({"test_size": 0}, r"`test_size` must be >= 1, got 0"),
        ({"offset": 0.5}, r"`offset` must lie in \(0, 0.5\), got 0.5"),
        ({"variants": ("paper", "mine")}, r"`variants` must be a non-empty"),
        ({"variants": ()}, r"`variants` must be a non-empty"),
        ({"rows": "coarse"}, r"`rows` must be one of paper, fine, got 'coarse'"),
        ({"epochs": 0}, r"`epochs` must be >= 1, got 0"),
    ],
)
def test_config_rejects_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Exp2Config(**kwargs)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--exp2-seeds", "0", "--exp2-seeds must be an integer >= 1, got 0"),
        ("--exp2-test-size", "-5", "--exp2-test-size must be an integer >= 1, got -5"),
        ("--exp2-offset", "0.6", "--exp2-offset must lie in (0, 0.5), got 0.6"),
        ("--exp2-offset", "0", "--exp2-offset must lie in (0, 0.5), got 0"),
    ],
)
def test_reproduce_rejects_bad_option(tmp_path, capsys, option, value, message):
    out = tmp_path / "runs"
    argv = ["reproduce", "experiment2", option, value, "--out", str(out), "--quiet"]
    assert cli.main(argv) == 2
    stderr = capsys.readouterr().err
    assert stderr == f"falsestruct: error: {message}\n"
    assert not out.exists() or not any(out.iterdir())


def test_diagnose_json_keys(tmp_path, capsys, reference_path):
    argv = [
        "diagnose",
        "experiment2",
        str(reference_path),
        "--json",
        "--test-size",
        "200",
    ]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_size"] == 200
    assert [(row["b"], row["c"]) for row in result["table1"]] == list(PAPER_ROWS)
    for row in result["table1"]:
        assert {"b", "c", "accuracy_tilde", "accuracy_hat"} <= set(row)
        assert 0.0 <= row["accuracy_tilde"] <= 1.0
    assert result["table1"][0]["accuracy_hat"] == 0.0


def test_diagnose_text_table(tmp_path, capsys):
    path = save_weights(
        tmp_path / "phi.npz", stripe_cnn_to_tf_arrays(StripeCNN(key=jax.random.key(0)))
    )
    argv = ["diagnose", "experiment2", str(path), "--test-size", "20"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "C-tilde" in lines[1]
    assert len(lines) == 2 + len(PAPER_ROWS)


def test_diagnose_bad_file_names_key(tmp_path, capsys):
    arrays = stripe_cnn_to_tf_arrays(StripeCNN(key=jax.random.key(0)))
    arrays["conv2d_1.kernel"] = arrays["conv2d_1.kernel"][:3]
    path = save_weights(tmp_path / "bad.npz", arrays)
    assert cli.main(["diagnose", "experiment2", str(path)]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("falsestruct: error: ")
    assert "'conv2d_1.kernel'" in stderr
    assert "expected (5, 5, 24, 48)" in stderr
    assert stderr.count("\n") == 1


def test_diagnose_missing_file(tmp_path, capsys):
    path = tmp_path / "absent.npz"
    assert cli.main(["diagnose", "experiment2", str(path)]) == 2
    assert "weight file not found" in capsys.readouterr().err


def test_reproduce_writes_run_directory(tmp_path, capsys):
    out = tmp_path / "runs"
    argv = [
        "reproduce", "experiment2", "--exp2-seeds", "1", "--exp2-test-size", "40",
        "--exp2-rows", "paper", "--out", str(out), "--quiet",
    ]  # fmt: skip
    assert cli.main(argv) == 0
    (run_dir,) = list(out.iterdir())
    metrics = json.loads((run_dir / "metrics.json").read_text())["experiments"]
    exp2 = metrics["experiment2"]
    assert exp2["seeds"] == 1
    assert exp2["test_size"] == 40
    assert set(exp2["variants"]) == {"paper", "authors"}
    for variant in exp2["variants"].values():
        row = variant["table1"][0]
        assert {"b", "c", "published_tilde", "published_hat", "tilde", "hat"} <= set(
            row
        )
        assert {"share_tilde_100", "share_hat_0", "per_seed"} <= set(row)
        assert set(row["tilde"]) == {"mean", "std", "min", "max"}
        assert len(row["per_seed"]) == 1
    for relative in exp2["figures"].values():
        assert (run_dir / relative).is_file(), relative
    assert (run_dir / "experiment2/weights/paper-seed0.npz").is_file()
    assert (run_dir / "experiment2/table1.csv").read_text().startswith("variant,b,c")
    assert "Experiment II" in capsys.readouterr().out


def test_quick_protocol_uses_fewer_seeds():
    from falsestruct._exp2_cli import build_config

    parser = cli.build_parser()
    args = parser.parse_args(["reproduce", "experiment2", "--protocol", "quick"])
    config = build_config(args)
    assert (config.seeds, config.test_size) == (4, 500)
    args = parser.parse_args(
        ["reproduce", "experiment2", "--protocol", "quick", "--exp2-seeds", "16"]
    )
    assert build_config(args).seeds == 16


@pytest.mark.slow
def test_matches_train_ensemble():
    from falsestruct._training import make_ensemble, train_ensemble

    images, labels = training_set(0.01, "paper")
    spec = Exp2Config(epochs=3).train_spec
    model, _ = train_stripe_cnn(images, labels, seed=0, spec=spec)
    ensemble = make_ensemble(lambda key: StripeCNN(key=key), [0])
    result = train_ensemble(
        ensemble, images[None], labels[None], spec, schedule_seeds=[0]
    )
    ours = stripe_cnn_to_tf_arrays(model)
    theirs = stripe_cnn_to_tf_arrays(
        jax.tree_util.tree_map(lambda a: a[0], result.models)
    )
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-9, atol=1e-12)

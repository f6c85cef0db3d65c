"""Shared fixtures: the reference data folder and synthetic run directories."""

import copy
import json
import shutil
from pathlib import Path

import pytest

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"

# Table 1 of Thesing, Antun, Hansen, arXiv:1906.01478, as rows (b, c,
# accuracy on C-tilde, accuracy on C-hat). For the authors' Experiment I
# networks: training set, agreement on C_0 and C_delta, share of 1s on C_0
# (from an independent evaluation of their published weights) and the
# paper's conclusion.
TABLE1 = [
    (0.009, 0.010, 1.000, 0.000),
    (0.008, 0.009, 1.000, 0.000),
    (0.007, 0.008, 0.987, 0.000),
    (0.006, 0.007, 0.985, 0.006),
]
EXP1_REFERENCE = {
    "Psi1": ("T^7_delta", 0.422, 1.000, 0.000, "false_structure"),
    "Psi2": ("T^5000_0", 0.888, 0.888, 0.466, "neither"),
    "Psi3": ("T^5000_delta", 0.422, 1.000, 0.000, "false_structure"),
    "Psi4": ("T^10000_0", 1.000, 1.000, 0.578, "original"),
}


@pytest.fixture
def shared_dir() -> Path:
    """The folder with the paper and the authors' reference networks."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"reference data folder {SHARED_DIR} not found")
    return SHARED_DIR


@pytest.fixture(scope="session")
def make_synthetic_metrics():
    """Factory of fresh copies of a metrics dict with every documented field.

    The numbers are made up for a 2-seed run. Psi2 seed 1, the authors' Psi2
    agreement on C_0 and the authors' Table 1 row [0.007, 0.008] on C-tilde
    differ from the paper on purpose.
    """
    return lambda: copy.deepcopy(_SYNTHETIC_METRICS)


@pytest.fixture
def synthetic_metrics(make_synthetic_metrics) -> dict:
    """A fresh synthetic metrics dict (see ``make_synthetic_metrics``)."""
    return make_synthetic_metrics()


@pytest.fixture(scope="session")
def synthetic_figures_dir(tmp_path_factory) -> Path:
    """A folder with the synthetic PNGs, drawn once per test session."""
    folder = tmp_path_factory.mktemp("synthetic-figures")
    write_synthetic_figures(folder)
    return folder


@pytest.fixture
def synthetic_run_dir(tmp_path, synthetic_metrics, synthetic_figures_dir):
    """Factory: write a run directory with metrics, config, command and PNGs.

    ``make(metrics=None, figures=True, name="run-synthetic")`` returns the
    folder. `metrics` defaults to the ``synthetic_metrics`` dict.
    """

    def make(metrics=None, figures=True, name="run-synthetic") -> Path:
        run_dir = tmp_path / name
        run_dir.mkdir()
        metrics = synthetic_metrics if metrics is None else metrics
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
        (run_dir / "config.json").write_text(json.dumps(_CONFIG, indent=2))
        (run_dir / "command.txt").write_text(
            metrics.get("command", "falsestruct") + "\n"
        )
        if figures:
            shutil.copytree(synthetic_figures_dir, run_dir, dirs_exist_ok=True)
        return run_dir

    return make


def write_synthetic_figures(run_dir: Path) -> None:
    """Draw small stand-in PNGs at the figure paths of the synthetic metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x1 = np.linspace(20 / 27, 1, 400)
    f_a = np.ceil(20 / x1) % 2
    paths = [
        "experiment1/figure2.png",
        "experiment2/figure3-paper.png",
        "experiment2/figure3-authors.png",
        "experiment2/figure4.png",
    ]
    for index, relative in enumerate(paths):
        path = run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 2), dpi=80)
        ax.step(x1, f_a if index == 0 else np.roll(f_a, 40 * index), where="post")
        ax.set_title(f"synthetic stand-in for {relative}")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def _exp1_networks() -> list[dict]:
    networks = []
    for net, (training_set, c0, c_delta, ones, paper) in EXP1_REFERENCE.items():
        for seed in (0, 1):
            verdict = paper
            if net == "Psi2" and seed == 1:
                verdict = "false_structure"
            networks.append(
                {
                    "net": net,
                    "training_set": training_set,
                    "r": int(training_set.split("^")[1].split("_")[0]),
                    "seed": seed,
                    "agreement_c0": round(c0 - 0.01 * seed, 4),
                    "agreement_c_delta": c_delta,
                    "ones_share_c0": ones,
                    "verdict": verdict,
                    "paper_verdict": paper,
                    "final_loss": 1.5e-4 * (seed + 1),
                    "weights": f"experiment1/weights/{net}-seed{seed}.npz",
                }
            )
    return networks


def _exp1_reference() -> list[dict]:
    entries = []
    for index, (net, values) in enumerate(EXP1_REFERENCE.items()):
        _, c0, c_delta, ones, paper = values
        measured_c0 = 0.870 if net == "Psi2" else c0
        entries.append(
            {
                "net": net,
                "file": f"exp1_psi{index + 1}.npz",
                "agreement_c0": measured_c0,
                "agreement_c_delta": c_delta,
                "ones_share_c0": ones,
                "verdict": paper,
                "paper_verdict": paper,
                "published": {
                    "agreement_c0": c0,
                    "agreement_c_delta": c_delta,
                    "ones_share_c0": ones,
                    "tolerance": 0.005,
                },
            }
        )
    return entries


def _stats(values: list[float]) -> dict:
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return {"mean": mean, "std": std, "min": min(values), "max": max(values)}


def _variant_rows(tilde_by_seed, hat_by_seed) -> list[dict]:
    rows = []
    for index, (b, c, published_tilde, published_hat) in enumerate(TABLE1):
        tilde = [t - 0.004 * index for t in tilde_by_seed]
        hat = [min(h + 0.002 * index, 1.0) for h in hat_by_seed]
        rows.append(
            {
                "b": b,
                "c": c,
                "published_tilde": published_tilde,
                "published_hat": published_hat,
                "tilde": _stats(tilde),
                "hat": _stats(hat),
                "share_tilde_100": sum(t >= 1.0 for t in tilde) / len(tilde),
                "share_hat_0": sum(h <= 0.0 for h in hat) / len(hat),
                "per_seed": [
                    {"seed": seed, "accuracy_tilde": t, "accuracy_hat": h}
                    for seed, (t, h) in enumerate(zip(tilde, hat, strict=True))
                ],
            }
        )
    return rows


def _table1_reference() -> list[dict]:
    rows = []
    for b, c, published_tilde, published_hat in TABLE1:
        measured_tilde = 0.962 if b == 0.007 else published_tilde
        rows.append(
            {
                "b": b,
                "c": c,
                "accuracy_tilde": measured_tilde,
                "accuracy_hat": published_hat,
                "published_tilde": published_tilde,
                "published_hat": published_hat,
                "tolerance": 0.015,
            }
        )
    return rows


_CONFIG = {
    "experiment1": {"protocol": "quick", "seeds": 2, "epochs": 300},
    "experiment2": {"protocol": "quick", "seeds": 2, "test_size": 1000},
}

_SYNTHETIC_METRICS = {
    "schema_version": 1,
    "falsestruct_version": "0.1.0",
    "git_revision": "0123456789ab",
    "command": "falsestruct reproduce all --protocol quick --seeds 2 --out runs",
    "started": "2026-12-04T16:00:00+00:00",
    "machine": {
        "cpu": "Synthetic CPU @ 2.0GHz",
        "cores": 2,
        "platform": "Linux-6.1-x86_64",
        "python": "3.11.9",
    },
    "stages": [
        {"name": "experiment1 training", "seconds": 41.23},
        {"name": "experiment2 training", "seconds": 12.05},
        {"name": "report", "seconds": 0.31},
    ],
    "wall_seconds": 54.2,
    "experiments": {
        "experiment1": {
            "protocol": "quick",
            "seeds": 2,
            "epochs": {"Psi1": 200000, "Psi2": 3000, "Psi3": 3000, "Psi4": 3000},
            "note": "Protocol quick: short training, so verdicts may differ.",
            "rule": "false structure g: agreement on C_delta >= 0.99 and share of 1 "
            "on C_0 <= 0.01; original f_a: agreement on C_0 and C_delta >= 0.99; "
            "otherwise neither",
            "networks": _exp1_networks(),
            "verdict_counts": {
                "Psi1": {"false_structure": 2, "original": 0, "neither": 0},
                "Psi2": {"false_structure": 1, "original": 0, "neither": 1},
                "Psi3": {"false_structure": 2, "original": 0, "neither": 0},
                "Psi4": {"false_structure": 0, "original": 2, "neither": 0},
            },
            "reference": _exp1_reference(),
            "figures": {"figure2": "experiment1/figure2.png"},
        },
        "experiment2": {
            "protocol": "quick",
            "seeds": 2,
            "test_size": 1000,
            "variants": {
                "paper": {
                    "description": "60 images of M-tilde, a = 0.01, true vertical "
                    "stripes",
                    "table1": _variant_rows([1.0, 1.0], [0.982, 0.995]),
                },
                "authors": {
                    "description": "the authors' generator: both classes drawn "
                    "with horizontal stripes",
                    "table1": _variant_rows([1.0, 0.977], [0.0, 0.31]),
                },
            },
            "reference": {
                "file": "exp2_phi_stripes.npz",
                "table1": _table1_reference(),
            },
            "figures": {
                "figure3_paper": "experiment2/figure3-paper.png",
                "figure3_authors": "experiment2/figure3-authors.png",
                "figure4": "experiment2/figure4.png",
            },
        },
    },
}

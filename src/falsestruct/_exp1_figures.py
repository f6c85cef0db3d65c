"""Figure 2 of Thesing, Antun, Hansen (arXiv:1906.01478): f_a against the nets.

Each column is one network Psi_i with its training set as title; the top row
evaluates it on C_0 = {(x1, 0)}, the bottom row on C_delta =
{(x1, delta f_a(x1))}, both over x1 in [b, 1]. The black line is f_a and
the orange line the rounded network output, round(sigmoid(Psi(x))). Grey
bands mark the points outside S_eps, which the diagnosis leaves out.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._exp1_data import Exp1Params

ROWS = (("pred_c0", "C_0"), ("pred_c_delta", "C_delta"))


def _shade_unstable(axis, x1: np.ndarray, stable: np.ndarray) -> None:
    """Draw a grey band over each run of grid points outside S_eps."""
    edges = np.flatnonzero(np.diff(np.concatenate([[1], stable.astype(int), [1]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        axis.axvspan(x1[start], x1[stop - 1], color="0.88", linewidth=0)


def _draw_panel(axis, probes: dict, key: str) -> None:
    _shade_unstable(axis, probes["x1"], probes["stable"])
    axis.step(
        probes["x1"], probes["f_a"], where="post", color="black", lw=1.2, label="f_a"
    )
    axis.step(
        probes["x1"],
        probes[key],
        where="post",
        color="tab:orange",
        lw=1.2,
        ls="--",
        label="round(sigmoid(Psi))",
    )
    axis.set_ylim(-0.15, 1.15)
    axis.set_yticks([0, 1])


def plot_figure2(
    panels: Sequence[tuple[str, dict]],
    params: Exp1Params,
    path: Path,
    *,
    caption: str = "",
) -> Path:
    """Draw Figure 2 as a PNG at `path` and return the path.

    `panels` contains one (column title, probes) pair per network, where probes
    is the dict returned by ``falsestruct._exp1.predict_on_probes``.
    `caption` is drawn under the grid (for example which seed is shown).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = len(panels)
    fig, axes = plt.subplots(
        2,
        columns,
        figsize=(3.2 * columns, 4.6),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for column, (title, probes) in enumerate(panels):
        for row, (key, label) in enumerate(ROWS):
            axis = axes[row, column]
            _draw_panel(axis, probes, key)
            if row == 0:
                axis.set_title(title, fontsize=10)
            if column == 0:
                axis.set_ylabel(f"on {label}")
            if row == 1:
                axis.set_xlabel("x1")
    axes[0, 0].legend(loc="lower left", fontsize=7, framealpha=0.9)
    fig.suptitle(f"Figure 2: f_a (a={params.a}, K={params.K}) and the nets' output")
    if caption:
        fig.text(0.5, 0.01, caption, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.04 if caption else 0, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

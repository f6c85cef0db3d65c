"""Figures 3 and 4 of Experiment II, drawn with matplotlib's Agg backend.

Figure 3 shows images of C-tilde and C-hat at b = 0.009, c = 0.010 with a
network's label under each. The grey scale is clipped to [0, 1], so the
offset of +/-0.01 is invisible, as it is to a human reader. Figure 4 shows the
two colour codes with an exaggerated offset so that the grey levels differ visibly.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ._stripes import LABEL_HORIZONTAL, stripe_images  # noqa: E402

FIGURE3_RANGE = (0.009, 0.010)
FIGURE4_OFFSET = 0.15  # exaggerated from 0.01 so the grey levels differ visibly
CODE_TITLES = {"tilde": "C̃ (M̃ colour code)", "hat": "Ĉ (M̂ colour code)"}


def _label_text(label: int) -> str:
    return "horizontal" if label == LABEL_HORIZONTAL else "vertical"


def figure3_images(seed: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Draw two horizontal and two vertical images per colour code.

    Returns ``{code: (images (4, 32, 32), labels (4,))}`` for ``"tilde"`` and
    ``"hat"``, with a ~ U[0.009, 0.010) and positions from `seed`.
    """
    rng = np.random.default_rng(seed)
    directions = np.array([1, 0, 1, 0])
    result = {}
    for code in ("tilde", "hat"):
        positions = rng.integers(0, 30, 4)
        offsets = rng.uniform(*FIGURE3_RANGE, 4)
        images = stripe_images(directions, positions, offsets, code)
        result[code] = (images, directions.astype(np.float64))
    return result


def plot_figure3(
    path: Path,
    images: dict[str, tuple[np.ndarray, np.ndarray]],
    predictions: dict[str, np.ndarray],
    title: str,
) -> Path:
    """Draw Figure 3: one row per colour code, the predicted label under each.

    A prediction that differs from the stripe direction is printed in red.
    """
    fig, axes = plt.subplots(2, 4, figsize=(8, 4.6), dpi=100)
    for row, code in enumerate(("tilde", "hat")):
        pictures, labels = images[code]
        for column, ax in enumerate(axes[row]):
            ax.imshow(pictures[column], cmap="gray", vmin=0.0, vmax=1.0)
            predicted = int(predictions[code][column])
            wrong = predicted != int(labels[column])
            ax.set_xlabel(
                f"Φ: {_label_text(predicted)}", color="red" if wrong else "black"
            )
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(CODE_TITLES[code])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _swatch(ax, code: str, direction: int) -> None:
    a = FIGURE4_OFFSET
    image = stripe_images([direction], [14], [a], code, size=32, width=3)[0]
    ax.imshow(image, cmap="gray", vmin=-a, vmax=1 + a)
    background = image[0, 0]  # row 0 and column 0 lie off the stripe
    sign = "+" if background > 0 else "-"
    ax.set_xlabel(
        f"{_label_text(direction)}: stripe 1 {sign} a\nbackground {sign}a", fontsize=8
    )
    ax.set_xticks([])
    ax.set_yticks([])


def plot_figure4(path: Path) -> Path:
    """Draw Figure 4: the colour codes of M-tilde (left) and M-hat (right)."""
    fig, axes = plt.subplots(1, 4, figsize=(8, 2.8), dpi=100)
    panels = [("tilde", 1), ("tilde", 0), ("hat", 1), ("hat", 0)]
    for ax, (code, direction) in zip(axes, panels, strict=True):
        _swatch(ax, code, direction)
        ax.set_title("M̃" if code == "tilde" else "M̂")
    fig.suptitle(
        f"Colour codes (offset a drawn as {FIGURE4_OFFSET} for visibility; "
        "the paper trains at a = 0.01)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path

"""Stripe images of Experiment II: one light stripe, horizontal or vertical.

Each image is a ``size`` x ``size`` grey image (32 x 32 in the paper) with a
stripe ``width`` pixels wide (3 in the paper) at one of ``size - width + 1``
positions (30 in the paper). The original structure is the stripe direction.
Labels follow the authors' code: horizontal = 1, vertical = 0.

Two colour codes with offset ``a > 0`` (Thesing, Antun, Hansen, "What do AI
algorithms actually learn? On false structures in deep learning",
arXiv:1906.01478, 2019, Figure 4):

- ``"tilde"`` (the set M-tilde): a horizontal stripe is 1 - a on background
  -a, and a vertical stripe is 1 + a on background +a.
- ``"hat"`` (the set M-hat): a horizontal stripe is 1 + a on background +a,
  and a vertical stripe is 1 - a on background -a.

On M-tilde a horizontal image sums to ``size * width - size**2 * a`` and a
vertical one to ``size * width + size**2 * a`` (96 -/+ 1024 a for the paper's
sizes), so the pixel sum alone separates the classes: the false structure of
Proposition 3.4. M-hat swaps the two colour codes and so reverses that rule.

``a`` must lie in (0, 0.5): at a = 0.5 the stripe of one class has the
background value of the other.
"""

import numpy as np

LABEL_HORIZONTAL = 1
LABEL_VERTICAL = 0
CODES: tuple[str, ...] = ("tilde", "hat")
VARIANTS: tuple[str, ...] = ("paper", "authors")
MAX_OFFSET = 0.5


def _check_geometry(size: int, width: int) -> None:
    if width < 1:
        raise ValueError(f"`width` must be >= 1, got {width}")
    if size < width:
        raise ValueError(f"`size` must be >= `width` = {width}, got {size}")


def _check_code(code: str) -> None:
    if code not in CODES:
        raise ValueError(f"`code` must be one of {', '.join(CODES)}, got {code!r}")


def _check_offsets(offsets: np.ndarray, name: str = "offsets") -> None:
    bad = (offsets <= 0) | (offsets >= MAX_OFFSET) | ~np.isfinite(offsets)
    if np.any(bad):
        value = float(offsets[np.argmax(bad)])
        raise ValueError(f"`{name}` must lie in (0, {MAX_OFFSET}), got {value!r}")


def _check_stripes(directions, positions, size: int, width: int) -> None:
    if directions.ndim != 1 or positions.shape != directions.shape:
        raise ValueError(
            "`directions` and `positions` must be 1-D of equal length, got shapes "
            f"{directions.shape} and {positions.shape}"
        )
    if np.any((directions != 0) & (directions != 1)):
        raise ValueError(
            "`directions` must contain only 1 (horizontal) and 0 (vertical), "
            f"got {np.unique(directions)}"
        )
    bad = (positions < 0) | (positions > size - width)
    if np.any(bad):
        raise ValueError(
            f"`positions` must lie in [0, {size - width}] for size {size} and "
            f"width {width}, got {positions[np.argmax(bad)]}"
        )


def _paint(horizontal, positions, background, size: int, width: int) -> np.ndarray:
    """Draw stripes of value 1 + background on the background, (n, size, size).

    ``horizontal`` picks the stripe's orientation per image. It is separate
    from the colour code so that the authors' generator can be reproduced.
    """
    pixels = np.arange(size)
    band = (pixels >= positions[:, None]) & (pixels < positions[:, None] + width)
    # band[:, :, None] marks whole rows, band[:, None, :] whole columns.
    mask = np.where(horizontal[:, None, None], band[:, :, None], band[:, None, :])
    return np.add(mask, background[:, None, None], dtype=np.float64)


def _backgrounds(directions, offsets, code: str) -> np.ndarray:
    """Background value per image: -a or +a as the colour code assigns it."""
    sign = np.where(directions == LABEL_HORIZONTAL, -1.0, 1.0)
    if code == "hat":
        sign = -sign
    return sign * offsets


def stripe_images(
    directions, positions, offsets, code: str, *, size: int = 32, width: int = 3
) -> np.ndarray:
    """Draw stripe images in the colour code ``"tilde"`` or ``"hat"``.

    Args:
        directions: (n,) ints, 1 for a horizontal stripe, 0 for a vertical one.
        positions: (n,) ints in [0, size - width], the first row (horizontal)
            or column (vertical) of the stripe.
        offsets: (n,) floats in (0, 0.5), the colour offset a of each image.
        code: ``"tilde"`` for M-tilde or ``"hat"`` for M-hat (module docstring).

    Returns:
        (n, size, size) float64 images.
    """
    _check_geometry(size, width)
    _check_code(code)
    directions = np.asarray(directions)
    positions = np.asarray(positions)
    offsets = np.broadcast_to(np.asarray(offsets, np.float64), directions.shape)
    _check_stripes(directions, positions, size, width)
    _check_offsets(offsets)
    background = _backgrounds(directions, offsets, code)
    return _paint(directions == LABEL_HORIZONTAL, positions, background, size, width)


def training_set(
    a: float = 0.01, variant: str = "paper", *, size: int = 32, width: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Build the training set T: every distinct image of M-tilde at offset `a`.

    The horizontal images come first, by position, then the vertical ones, as
    in the authors' generator before its one-time shuffle (which cannot
    matter here because the whole set is one batch).

    ``variant="paper"`` draws true vertical stripes, as the paper describes.
    ``variant="authors"`` reproduces the published generator
    (github.com/vegarant/false_structures, ``stripe/Data_loader.py``), which
    indexes rows where it meant columns: its vertical class contains horizontal
    stripes in the vertical colour code (1 + a on +a), so the two classes
    differ only in the colour code.

    Returns:
        images (2 * (size - width + 1), size, size) and labels (same length,)
        as float64, horizontal = 1.
    """
    if variant not in VARIANTS:
        raise ValueError(
            f"`variant` must be one of {', '.join(VARIANTS)}, got {variant!r}"
        )
    _check_geometry(size, width)
    _check_offsets(np.asarray([a], np.float64), "a")
    positions = np.tile(np.arange(size - width + 1), 2)
    directions = np.repeat([LABEL_HORIZONTAL, LABEL_VERTICAL], size - width + 1)
    background = _backgrounds(directions, np.full(directions.shape, a), "tilde")
    horizontal = directions == LABEL_HORIZONTAL
    if variant == "authors":
        horizontal = np.ones_like(horizontal)
    images = _paint(horizontal, positions, background, size, width)
    return images, directions.astype(np.float64)


def test_set(
    n: int,
    b: float,
    c: float,
    code: str,
    *,
    seed: int,
    size: int = 32,
    width: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the test set C-tilde_{b,c} (``code="tilde"``) or C-hat_{b,c}.

    Direction and position are uniform and the offset a ~ U[b, c), all from
    ``numpy.random.default_rng(seed)``, so one seed gives one set.

    Returns:
        images (n, size, size) and labels (n,) as float64, horizontal = 1.
    """
    if n < 1:
        raise ValueError(f"`n` must be >= 1, got {n}")
    if not 0 < b < c <= MAX_OFFSET:
        raise ValueError(
            f"the offset range must satisfy 0 < b < c <= {MAX_OFFSET}, "
            f"got b={b!r}, c={c!r}"
        )
    _check_geometry(size, width)
    _check_code(code)
    rng = np.random.default_rng(seed)
    directions = rng.integers(0, 2, n)
    positions = rng.integers(0, size - width + 1, n)
    offsets = rng.uniform(b, c, n)
    images = stripe_images(directions, positions, offsets, code, size=size, width=width)
    return images, directions.astype(np.float64)


# The name starts with "test", so keep pytest from collecting it when a test
# module imports it.
test_set.__test__ = False

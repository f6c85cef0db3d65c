"""Propositions 3.2 and 3.4 checked on samples, with their severity.

Source: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms actually
learn? On false structures in deep learning", arXiv:1906.01478 (2019).

- Prop. 3.2 (Experiment I): g(x) = 0 iff x2 = 0 is a false structure for
  f_a(x) = ceil(a / x1) mod 2 relative to T^r_delta = {(x1, delta f_a(x1))}.
- Prop. 3.4 (Experiment II): the pixel-sum rule (g = vertical iff the pixel
  sum is > 96, horizontal iff it is <= 96) is a false structure for the
  stripe direction relative to M-tilde.

Class numbers follow the package: f_a's value in Experiment I, and
horizontal = 1, vertical = 0 in Experiment II as in the authors' code. The
paper numbers Experiment II the other way round (alpha_0 horizontal,
beta_0 "sum <= 96"); the predicates pair up the same way.
"""

from dataclasses import dataclass

import numpy as np

from ._exp1_data import Exp1Params, f_a, stable_intervals, training_set
from ._severity import SeverityEstimate, severity
from ._stripes import LABEL_HORIZONTAL, stripe_images
from ._stripes import training_set as stripe_training_set
from ._structures import (
    VERDICT_FALSE,
    FalseStructureReport,
    Sampler,
    Structure,
    check_false_structure,
    finite_set_membership,
)

# Experiment I ------------------------------------------------------------


def exp1_original_structure(params: Exp1Params) -> Structure:
    """Build the original structure (f_a, [f_a = 0, f_a = 1]) on points (n, 2)."""
    return Structure(
        "f_a",
        [
            ("f_a(x1) = 0", lambda x: f_a(x[:, 0], params.a) == 0),
            ("f_a(x1) = 1", lambda x: f_a(x[:, 0], params.a) == 1),
        ],
    )


def exp1_false_structure() -> Structure:
    """Build the false structure of Prop. 3.2: class 0 iff x2 = 0."""
    return Structure(
        "x2 = 0 rule",
        [("x2 = 0", lambda x: x[:, 1] == 0), ("x2 != 0", lambda x: x[:, 1] != 0)],
    )


def _uniform_s_eps(n: int, params: Exp1Params, rng: np.random.Generator):
    """Draw x1 uniformly on S_eps: an interval by its length, then a point in it."""
    bounds = stable_intervals(params)
    lengths = bounds[:, 1] - bounds[:, 0]
    k = rng.choice(len(lengths), size=n, p=lengths / lengths.sum())
    return rng.uniform(bounds[k, 0], bounds[k, 1])


def uniform_stable_sampler(params: Exp1Params) -> Sampler:
    """Return a sampler of the uniform measure on S_eps x [0, 1], points (n, 2)."""

    def draw(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.stack([_uniform_s_eps(n, params, rng), rng.uniform(0, 1, n)], axis=1)

    return draw


def probe_c0_sampler(params: Exp1Params) -> Sampler:
    """Return a sampler of the probe set C_0 on S_eps: x1 uniform on S_eps, x2 = 0."""

    def draw(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.stack([_uniform_s_eps(n, params, rng), np.zeros(n)], axis=1)

    return draw


def exp1_exact_severity(params: Exp1Params) -> dict[str, float]:
    """Return P(C) for Prop. 3.2 computed from interval lengths, per measure.

    Under the uniform measure on S_eps x [0, 1], x2 = 0 has probability
    zero, so g = 1 almost surely and C = {f_a = 0} up to a null set: P(C) is
    the share of S_eps's length where f_a = 0 (k odd). On the probe set C_0
    (x2 = 0) g is 0 everywhere, so C is where f_a = 1 (k even).
    """
    bounds = stable_intervals(params)
    lengths = bounds[:, 1] - bounds[:, 0]
    k = np.arange(params.a, params.K + 1)
    share_zero = lengths[(k + 1) % 2 == 0].sum() / lengths.sum()
    return {"uniform": float(share_zero), "c0": float(1 - share_zero)}


def _mixture(first: Sampler, second: Sampler) -> Sampler:
    """Return a sampler that draws about half of the samples from each sampler."""

    def draw(n: int, rng: np.random.Generator) -> np.ndarray:
        count = rng.binomial(n, 0.5)
        return rng.permutation(
            np.concatenate([first(count, rng), second(n - count, rng)])
        )

    return draw


@dataclass(frozen=True, eq=False)
class Prop32Result:
    """Prop. 3.2 decided on samples, and the severity of g under two measures.

    ``report`` uses T^r_delta as T and, as M \\ T, a half-and-half mixture
    of the uniform measure on S_eps x [0, 1] and of C_0, so that both kinds
    of points in C show up as witnesses: (x1, x2 > 0) with f_a = 0, and the
    proof's (x1, 0) with f_a = 1. ``exact`` contains the values of P(C) from
    ``exp1_exact_severity``.
    """

    params: Exp1Params
    r: int
    report: FalseStructureReport
    severity_uniform: SeverityEstimate
    severity_c0: SeverityEstimate
    exact: dict

    @property
    def holds(self) -> bool:
        """g is a false structure on the samples and both measures give C draws."""
        return (
            self.report.verdict == VERDICT_FALSE
            and self.severity_uniform.hits > 0
            and self.severity_c0.hits > 0
        )

    def summary(self) -> str:
        return "\n".join(
            [
                f"Prop. 3.2: x2 = 0 rule vs f_a relative to T^{self.r}_delta "
                f"(a={self.params.a}, K={self.params.K}, eps={self.params.eps:g}, "
                f"delta={self.params.delta:g}): {'holds' if self.holds else 'FAILS'}",
                self.report.summary(),
                "  severity, uniform on S_eps x [0, 1]: "
                + self.severity_uniform.summary()
                + f"; exact {self.exact['uniform']:.6f}",
                "  severity, probe set C_0 on S_eps: "
                + self.severity_c0.summary()
                + f"; exact {self.exact['c0']:.6f}",
            ]
        )

    def to_dict(self) -> dict:
        return {
            "holds": self.holds,
            "params": self.params.to_dict(),
            "r": self.r,
            "report": self.report.to_dict(),
            "severity_uniform": self.severity_uniform.to_dict(),
            "severity_c0": self.severity_c0.to_dict(),
            "exact_severity": self.exact,
        }


def check_prop32(
    params: Exp1Params,
    *,
    r: int = 10_000,
    n_samples: int = 100_000,
    seed: int = 0,
    n_witnesses: int = 3,
) -> Prop32Result:
    """Check Prop. 3.2 on a drawn T^r_delta and n_samples draws of each measure."""
    rng = np.random.default_rng(seed)
    train, _ = training_set(r, params, rng, with_delta=True)
    in_train = finite_set_membership(train)
    original, candidate = exp1_original_structure(params), exp1_false_structure()
    uniform, c0 = uniform_stable_sampler(params), probe_c0_sampler(params)
    report = check_false_structure(
        original,
        candidate,
        train,
        _mixture(uniform, c0),
        n_outside=n_samples,
        in_train=in_train,
        seed=rng,
        n_witnesses=n_witnesses,
    )
    common = {"in_train": in_train, "seed": rng}
    by_uniform = severity(original, candidate, uniform, n_samples, **common)
    by_c0 = severity(original, candidate, c0, n_samples, **common)
    return Prop32Result(
        params, r, report, by_uniform, by_c0, exp1_exact_severity(params)
    )


# Experiment II -----------------------------------------------------------


def _rows_constant(x: np.ndarray) -> np.ndarray:
    return np.all(x == x[:, :, :1], axis=(1, 2))


def _columns_constant(x: np.ndarray) -> np.ndarray:
    return np.all(x == x[:, :1, :], axis=(1, 2))


def is_horizontal(x: np.ndarray) -> np.ndarray:
    """True for images (n, rows, columns) with constant rows, not all equal."""
    return _rows_constant(x) & ~_columns_constant(x)


def is_vertical(x: np.ndarray) -> np.ndarray:
    """True for images (n, rows, columns) with constant columns, not all equal."""
    return _columns_constant(x) & ~_rows_constant(x)


def exp2_original_structure() -> Structure:
    """Build the stripe direction structure: class 0 vertical, class 1 horizontal."""
    return Structure(
        "stripe direction",
        [("vertical stripe", is_vertical), ("horizontal stripe", is_horizontal)],
    )


def pixel_sum_structure(size: int = 32, width: int = 3) -> Structure:
    """Build the false structure of Prop. 3.4: horizontal iff pixel sum <= size * width.

    size * width (96 for 32 x 32 images with 3-pixel stripes) is the pixel
    sum of a stripe image with offset a = 0, the threshold the paper uses.
    """
    threshold = float(size * width)
    return Structure(
        "pixel-sum rule",
        [
            (f"pixel sum > {threshold:g}", lambda x: x.sum(axis=(1, 2)) > threshold),
            (f"pixel sum <= {threshold:g}", lambda x: x.sum(axis=(1, 2)) <= threshold),
        ],
    )


def in_m_tilde(x: np.ndarray) -> np.ndarray:
    """True for stripe images in the colour code of M-tilde.

    In M-tilde a horizontal stripe lies on the background -a < 0 and a
    vertical one on +a > 0; the background is the smallest pixel value.
    """
    background = x.min(axis=(1, 2))
    return (is_horizontal(x) & (background < 0)) | (is_vertical(x) & (background > 0))


def stripe_sampler(
    code: str, a_min: float, a_max: float, *, size: int = 32, width: int = 3
) -> Sampler:
    """Return a sampler of stripe images (n, size, size).

    Direction and position are uniform and the offset a ~ U[a_min, a_max).
    """
    if not 0 < a_min < a_max < 0.5:
        raise ValueError(
            f"the offset range must satisfy 0 < a_min < a_max < 0.5, "
            f"got a_min={a_min!r}, a_max={a_max!r}"
        )

    def draw(n: int, rng: np.random.Generator) -> np.ndarray:
        directions = rng.integers(0, 2, n)
        positions = rng.integers(0, size - width + 1, n)
        offsets = rng.uniform(a_min, a_max, n)
        return stripe_images(
            directions, positions, offsets, code, size=size, width=width
        )

    return draw


def describe_stripe_image(image: np.ndarray) -> str:
    """Describe a stripe image (rows, columns) by direction, position and values."""
    batch = image[None]
    if is_horizontal(batch)[0]:
        direction, profile = "horizontal", image[:, 0]
    elif is_vertical(batch)[0]:
        direction, profile = "vertical", image[0, :]
    else:
        return f"image of shape {image.shape} with no single stripe"
    position = int(np.argmax(profile))
    return (
        f"{direction} stripe at {position}, background {image.min():+.6f}, "
        f"stripe {image.max():+.6f}, pixel sum {image.sum():.4f}"
    )


@dataclass(frozen=True, eq=False)
class Prop34Result:
    """Prop. 3.4 decided on samples, with the severity on M-tilde and M-hat.

    ``report`` uses draws of M-tilde as T and draws of M-hat as M \\ T.
    ``training_set_mismatches`` counts the images of the paper's 60-image
    training set (offset 0.01) on which the pixel-sum rule and the stripe
    direction differ.
    """

    a_min: float
    a_max: float
    report: FalseStructureReport
    severity_tilde: SeverityEstimate
    severity_hat: SeverityEstimate
    training_set_mismatches: int

    @property
    def holds(self) -> bool:
        """A false structure on the samples, P(C) = 0 on M-tilde and 1 on M-hat."""
        return (
            self.report.verdict == VERDICT_FALSE
            and self.training_set_mismatches == 0
            and self.severity_tilde.hits == 0
            and self.severity_hat.hits == self.severity_hat.n
        )

    def summary(self) -> str:
        offsets = f"a ~ U[{self.a_min:g}, {self.a_max:g}]"
        return "\n".join(
            [
                f"Prop. 3.4: pixel-sum rule vs stripe direction relative to M-tilde "
                f"({offsets}): {'holds' if self.holds else 'FAILS'}",
                self.report.summary(describe_stripe_image),
                f"  paper's training set (60 images, a = 0.01): "
                f"{self.training_set_mismatches} images where g != f",
                "  severity, uniform on M-tilde: " + self.severity_tilde.summary(),
                "  severity, uniform on M-hat: " + self.severity_hat.summary(),
            ]
        )

    def to_dict(self) -> dict:
        return {
            "holds": self.holds,
            "offset_range": [self.a_min, self.a_max],
            "report": self.report.to_dict(),
            "training_set_mismatches": self.training_set_mismatches,
            "severity_tilde": self.severity_tilde.to_dict(),
            "severity_hat": self.severity_hat.to_dict(),
        }


def check_prop34(
    *,
    n_samples: int = 100_000,
    seed: int = 0,
    a_min: float = 0.001,
    a_max: float = 0.01,
    n_witnesses: int = 3,
) -> Prop34Result:
    """Check Prop. 3.4 on n_samples draws each of M-tilde and M-hat."""
    rng = np.random.default_rng(seed)
    tilde = stripe_sampler("tilde", a_min, a_max)
    hat = stripe_sampler("hat", a_min, a_max)
    original, candidate = exp2_original_structure(), pixel_sum_structure()
    report = check_false_structure(
        original,
        candidate,
        tilde,
        hat,
        n_train=n_samples,
        n_outside=n_samples,
        in_train=in_m_tilde,
        seed=rng,
        n_witnesses=n_witnesses,
    )
    common = {"in_train": in_m_tilde, "seed": rng}
    on_tilde = severity(original, candidate, tilde, n_samples, **common)
    on_hat = severity(original, candidate, hat, n_samples, **common)
    return Prop34Result(
        a_min, a_max, report, on_tilde, on_hat, _training_set_mismatches()
    )


def _training_set_mismatches() -> int:
    images, labels = stripe_training_set(0.01, "paper")
    labels = (labels == LABEL_HORIZONTAL).astype(np.int64)
    g = pixel_sum_structure().label(images)
    return int(np.sum(labels != g))

"""Severity of a false structure: P(C) estimated by sampling, with a Wilson interval.

Thesing, Antun, Hansen, "What do AI algorithms actually learn? On false
structures in deep learning", arXiv:1906.01478 (2019), Remark 2.4: for a
probability measure P on M, P(C) with C = {x in M \\ T : f(x) != g(x)}
measures how bad it is to learn g in place of f. Here P is given as a
sampler ``(n, rng) -> samples`` and P(C) is estimated by the share of draws
in C, with the Wilson score interval (E. B. Wilson, "Probable inference, the
law of succession, and statistical inference", JASA 22, 1927).
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ._structures import (
    DEFAULT_CHUNK,
    Predicate,
    Sampler,
    Structure,
    check_comparable,
    draw_chunks,
    train_membership,
)


def wilson_interval(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval for a binomial share hits / n.

    With p = hits / n and z the two-sided normal quantile of ``confidence``,
    the interval is (p + z^2/(2n) -/+ z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n).
    Unlike the normal (Wald) interval it stays inside [0, 1] and is not empty
    when hits is 0 or n.
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"`n` must be an integer >= 1, got {n!r}")
    if not isinstance(hits, int | np.integer) or not 0 <= hits <= n:
        raise ValueError(
            f"`hits` must be an integer in [0, n] = [0, {n}], got {hits!r}"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must lie in (0, 1), got {confidence!r}")
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = hits / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    # The ends are exactly 0 at hits = 0 and 1 at hits = n; set them so that
    # rounding leaves no 1e-17 residue.
    low = 0.0 if hits == 0 else (centre - half) / scale
    high = 1.0 if hits == n else (centre + half) / scale
    return low, high


@dataclass(frozen=True)
class SeverityEstimate:
    """P(C) estimated from ``n`` draws of a measure on M.

    ``hits`` counts draws in C; ``n_in_train`` counts draws that lay in T and
    so cannot be in C. ``low`` and ``high`` bound the Wilson score interval
    at level ``confidence``.
    """

    hits: int
    n: int
    n_in_train: int
    confidence: float
    low: float
    high: float

    @property
    def estimate(self) -> float:
        """The share of draws in C."""
        return self.hits / self.n

    def summary(self) -> str:
        level = f"{100 * self.confidence:g} %"
        return (
            f"P(C) ~ {self.estimate:.6f} ({self.hits} of {self.n} draws in C), "
            f"{level} Wilson interval [{self.low:.6f}, {self.high:.6f}]; "
            f"{self.n_in_train} draws lay in T"
        )

    def to_dict(self) -> dict:
        return {
            "hits": self.hits,
            "n": self.n,
            "n_in_train": self.n_in_train,
            "estimate": self.estimate,
            "confidence": self.confidence,
            "interval": [self.low, self.high],
            "method": "wilson",
        }


def severity(
    original: Structure,
    candidate: Structure,
    sampler: Sampler,
    n: int,
    *,
    in_train: Predicate | None = None,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
) -> SeverityEstimate:
    """Estimate P(C) for the measure that ``sampler`` draws from (Remark 2.4).

    A draw counts in C when f and g label it differently and ``in_train``
    (the membership predicate of T, if given) is false for it. Draws are made
    ``chunk_size`` at a time, so n may exceed what fits in memory at once.
    """
    check_comparable(original, candidate)
    rng = np.random.default_rng(seed)
    hits = in_train_count = 0
    for x in draw_chunks(sampler, n, rng, chunk_size):
        inside = train_membership(in_train, x)
        differ = original.label(x) != candidate.label(x)
        hits += int(np.sum(differ & ~inside))
        in_train_count += int(np.sum(inside))
    low, high = wilson_interval(hits, n, confidence)
    return SeverityEstimate(hits, n, in_train_count, confidence, low, high)


__all__ = ["SeverityEstimate", "severity", "wilson_interval"]

"""Data of Experiment I: f_a, the stable region S_eps, training and probe sets.

Source: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms actually
learn? On false structures in deep learning", arXiv:1906.01478 (2019),
section 3.1, equations (9) to (13). Names follow the paper:

- ``f_a(x1) = ceil(a / x1) mod 2`` on M = [b, 1] x [0, 1], b = a / (K + 1);
  f_a is constant on each interval a/(k+1) <= x1 < a/k and equals 1 iff k
  is even.
- ``S_eps``: the union over k = a..K of (a/(k+1) + eps, a/k - eps), the
  points at least eps away from every jump of f_a. It is empty in some
  interval unless eps < b^2 / (2 (a - b)).
- ``T^r_0 = {(x1_i, 0)}`` and ``T^r_delta = {(x1_i, delta f_a(x1_i))}`` with
  x1_i in S_eps, 0 < delta < eps.
- ``C_0 = {(x1, 0)}`` and ``C_delta = {(x1, delta f_a(x1))}`` for x1 in
  [b, 1]: the probe sets.
- ``g(x) = 0 iff x2 = 0``: the false structure of Prop. 3.2.
"""

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Exp1Params:
    """Parameters of f_a and its data sets; defaults are the paper's values."""

    a: int = 20
    K: int = 26
    eps: float = 1e-2
    delta: float = 1e-4

    def __post_init__(self):
        if not isinstance(self.a, int) or self.a < 1:
            raise ValueError(f"`a` must be an integer >= 1, got {self.a!r}")
        if not isinstance(self.K, int) or self.K <= self.a:
            raise ValueError(f"`K` must be an integer > a = {self.a}, got {self.K!r}")
        eps_max = eps_upper_bound(self.a, self.K)
        if not (0 < self.eps < eps_max):
            raise ValueError(
                f"`eps` must lie in (0, b^2/(2(a-b))) = (0, {eps_max:.6g}) "
                f"for a={self.a}, K={self.K}, got {self.eps!r}"
            )
        if not (0 < self.delta < self.eps):
            raise ValueError(
                f"`delta` must lie in (0, eps) = (0, {self.eps:g}), got {self.delta!r}"
            )

    @property
    def b(self) -> float:
        """Left end of M's first coordinate, b = a / (K + 1)."""
        return self.a / (self.K + 1)

    @property
    def n_intervals(self) -> int:
        """Number of intervals of constancy of f_a in [b, 1), K - a + 1."""
        return self.K - self.a + 1

    def to_dict(self) -> dict:
        return asdict(self)


def f_a(x1: np.ndarray, a: int) -> np.ndarray:
    """Evaluate f_a(x1) = ceil(a / x1) mod 2 as an int array (equation 9)."""
    return (np.ceil(a / np.asarray(x1, dtype=np.float64)) % 2).astype(np.int64)


def interval_bounds(params: Exp1Params) -> np.ndarray:
    """Return the (K - a + 1, 2) array of [a/(k+1), a/k) for k = a..K."""
    k = np.arange(params.a, params.K + 1, dtype=np.float64)
    return np.stack([params.a / (k + 1), params.a / k], axis=1)


def stable_intervals(params: Exp1Params) -> np.ndarray:
    """Return the (K - a + 1, 2) open intervals (a/(k+1) + eps, a/k - eps) of S_eps."""
    return interval_bounds(params) + np.array([params.eps, -params.eps])


def in_S_eps(x1: np.ndarray, params: Exp1Params) -> np.ndarray:
    """Return a bool mask: which x1 lie in S_eps (equation 10)."""
    x1 = np.asarray(x1, dtype=np.float64)[..., None]
    bounds = stable_intervals(params)
    return np.any((x1 > bounds[:, 0]) & (x1 < bounds[:, 1]), axis=-1)


def _sample_beta_in_S_eps(count: int, params: Exp1Params, rng: np.random.Generator):
    """Draw x1 = b + Beta(1, 3), keeping only draws inside S_eps."""
    kept = np.empty(0)
    while kept.size < count:
        draws = params.b + rng.beta(1.0, 3.0, size=max(10 * (count - kept.size), 64))
        kept = np.concatenate([kept, draws[in_S_eps(draws, params)]])
    return kept[:count]


def sample_x1(r: int, params: Exp1Params, rng: np.random.Generator) -> np.ndarray:
    """Draw r first coordinates in S_eps as the authors' data loader does.

    Each of the K - a + 1 intervals of S_eps gets floor(r / (K - a + 1))
    uniform draws; the remainder comes from b + Beta(1, 3) restricted to
    S_eps. For r = K - a + 1 (7 at the paper's values) every sample lies in
    a different interval. The result is shuffled once.
    """
    if not isinstance(r, int | np.integer) or r < 1:
        raise ValueError(f"`r` (training set size) must be an integer >= 1, got {r!r}")
    per_interval = r // params.n_intervals
    bounds = stable_intervals(params)
    uniform = rng.uniform(
        bounds[:, 0, None], bounds[:, 1, None], size=(params.n_intervals, per_interval)
    ).ravel()
    rest = _sample_beta_in_S_eps(r - uniform.size, params, rng)
    return rng.permutation(np.concatenate([uniform, rest]))


def training_set(
    r: int, params: Exp1Params, rng: np.random.Generator, *, with_delta: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Draw T^r_delta (``with_delta=True``) or T^r_0 (equation 11).

    Returns inputs of shape (r, 2) and labels f_a(x1) of shape (r,), float64.
    """
    x1 = sample_x1(r, params, rng)
    labels = f_a(x1, params.a).astype(np.float64)
    x2 = params.delta * labels if with_delta else np.zeros_like(x1)
    return np.stack([x1, x2], axis=1), labels


def probe_grid(params: Exp1Params, n_points: int = 20_001) -> np.ndarray:
    """Return n_points equally spaced x1 in [b, 1], both ends included."""
    if n_points < 2:
        raise ValueError(f"`n_points` must be >= 2, got {n_points}")
    return np.linspace(params.b, 1.0, n_points)


def probe_sets(x1: np.ndarray, params: Exp1Params) -> tuple[np.ndarray, np.ndarray]:
    """Return C_0 and C_delta at the given x1, each of shape (n, 2) (equation 13)."""
    x1 = np.asarray(x1, dtype=np.float64)
    c_0 = np.stack([x1, np.zeros_like(x1)], axis=1)
    c_delta = np.stack([x1, params.delta * f_a(x1, params.a)], axis=1)
    return c_0, c_delta


def g(x: np.ndarray) -> np.ndarray:
    """Evaluate the false structure of Prop. 3.2: 0 iff x2 = 0, else 1."""
    return (np.asarray(x)[..., 1] != 0).astype(np.int64)


def eps_upper_bound(a: int, K: int) -> float:
    """Return b^2 / (2 (a - b)), the bound eps must stay below."""
    b = a / (K + 1)
    return b**2 / (2 * (a - b))


__all__ = [
    "Exp1Params",
    "f_a",
    "g",
    "in_S_eps",
    "interval_bounds",
    "stable_intervals",
    "sample_x1",
    "training_set",
    "probe_grid",
    "probe_sets",
    "eps_upper_bound",
]

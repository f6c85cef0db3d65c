"""Prop. 3.3: a stable, accurate network for f_a, as printed and corrected.

Source: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms actually
learn? On false structures in deep learning", arXiv:1906.01478 (2019),
Prop. 3.3 and its proof in section 5.1.2, equations (12), (15) and (16).

The proof builds, for each interval a/(k+1) <= x1 < a/k (k = a..K), a
trapezoid of four ReLUs in x1 (equation 15) with c = a/(k+1) + eps and
d = a/k - eps, the edges of the interval's part of S_eps:

    printed:   phi(x) = rho(u + 1/2) - rho(u - 1/2) - rho(v + 1/2) + rho(v - 1/2),
               u = (x1 - c) / (2 eps),  v = (x1 - d) / (2 eps).

It sums them over the intervals where f_a = 1 (k even), Phi = sum_k
((-1)^k + 1)/2 phi_k (equation 16), and scales Psi = 2 N Phi - N. The proof
claims phi = 1 on [c, d], but the printed ramps are centred on c and d: phi
rises from 0 at c - eps to 1 at c + eps and is only 1/2 at the edges of
S_eps. On an interval of width w = a/(k(k+1)) < 4 eps the two ramps meet and
the peak is w/(2 eps) - 1; below w = 3 eps it stays under 1/2 on the whole
interval, which is then misclassified. At a = 20, K = 26, eps = 0.01 this
hits k = 26 (w = 0.02849, peak 0.4245).

The corrected trapezoid has ramps of width eps that end at the interval's
edges, rising from 0 at a/(k+1) = c - eps to 1 at c and falling from 1 at d
to 0 at d + eps = a/k:

    corrected: phi(x) = rho(u' + 1) - rho(u') - rho(v') + rho(v' - 1),
               u' = (x1 - c) / eps,  v' = (x1 - d) / eps.

rho(u' + 1) - rho(u') is clip(u' + 1, 0, 1) and rho(v') - rho(v' - 1) is
clip(v', 0, 1), so phi = 1 on [c, d] and phi = 0 outside [a/(k+1), a/k],
which needs c <= d, i.e. 2 eps <= a/(k(k+1)); the condition
eps < b^2 / (2 (a - b)) = a / (2 K (K + 1)) guarantees it for every k. On
S_eps, Phi is then exactly f_a, so |Psi| = N there.

N comes from eta and r (equation 12 summed over r samples): each sample
must cost less than eta / r, i.e. log(1 + exp(-N)) < eta / r, which holds
for N > N* = -log(exp(eta / r) - 1). The proof's N1 and -N2 have the same
bound, so N = max(N*, 0) + margin with a small ``margin`` > 0.

Both networks are the package's 2 -> 4K -> 1 ``ReluNet``: 4 hidden units per
interval for the K - a + 1 intervals, the remaining units and every x2
weight zero.
"""

import functools
import math
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._exp1_data import Exp1Params, f_a, in_S_eps, interval_bounds, probe_grid
from ._models import ReluNet
from ._propositions import uniform_stable_sampler

FORMS = ("printed", "corrected")
# (offset, centre) of the four units of one trapezoid, pre-activation
# (x1 - centre) / ramp + offset, and the sign each unit enters phi with.
_UNITS = {
    "printed": ((0.5, "c"), (-0.5, "c"), (0.5, "d"), (-0.5, "d")),
    "corrected": ((1.0, "c"), (0.0, "c"), (0.0, "d"), (-1.0, "d")),
}
_SIGNS = np.array([1.0, -1.0, -1.0, 1.0])


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"`form` must be one of {', '.join(FORMS)}, got {form!r}")


def logit_scale(eta: float, r: int, margin: float = 1e-3) -> float:
    """Return N = max(-log(exp(eta / r) - 1), 0) + margin (module docstring)."""
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"`eta` must be a finite number > 0, got {eta!r}")
    if not isinstance(r, int | np.integer) or r < 1:
        raise ValueError(f"`r` must be an integer >= 1, got {r!r}")
    if not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"`margin` must be a finite number > 0, got {margin!r}")
    bound = -math.log(math.expm1(eta / r))
    return max(bound, 0.0) + margin


def trapezoid_units(params: Exp1Params, form: str) -> tuple[np.ndarray, ...]:
    """Return the hidden weights, biases and output coefficients of Phi.

    Each array has shape (4 (K - a + 1),): four units per interval k = a..K.
    A unit computes relu(weight * x1 + bias); Phi is the coefficient-weighted
    sum, with coefficient 0 on intervals where f_a = 0 (equation 16).
    """
    _check_form(form)
    k = np.arange(params.a, params.K + 1, dtype=np.float64)
    edges = {"c": params.a / (k + 1) + params.eps, "d": params.a / k - params.eps}
    ramp = 2 * params.eps if form == "printed" else params.eps
    weights, biases = [], []
    for offset, centre in _UNITS[form]:
        weights.append(np.full_like(k, 1 / ramp))
        biases.append(offset - edges[centre] / ramp)
    interval_coefficient = ((-1.0) ** k + 1) / 2
    coefficients = interval_coefficient[:, None] * _SIGNS
    return (
        np.stack(weights, 1).ravel(),
        np.stack(biases, 1).ravel(),
        coefficients.ravel(),
    )


def trapezoid_network(
    params: Exp1Params, form: str = "corrected", width: int | None = None
) -> ReluNet:
    """Build Phi of equation (16) as a ReluNet of hidden width 4K (default)."""
    return _relu_net(params, form, width, output_scale=1.0, output_bias=0.0)


def prop33_network(
    params: Exp1Params,
    *,
    eta: float,
    r: int,
    form: str = "corrected",
    margin: float = 1e-3,
    width: int | None = None,
) -> ReluNet:
    """Build Psi = 2 N Phi - N with N = logit_scale(eta, r, margin).

    ``form="corrected"`` (the default) has ramps of width eps ending at the
    interval edges; ``form="printed"`` follows equation (15) as printed.
    """
    scale = logit_scale(eta, r, margin)
    return _relu_net(params, form, width, output_scale=2 * scale, output_bias=-scale)


def _relu_net(params, form, width, *, output_scale, output_bias) -> ReluNet:
    weights, biases, coefficients = trapezoid_units(params, form)
    width = 4 * params.K if width is None else width
    if width < len(weights):
        raise ValueError(
            f"`width` must be >= 4 (K - a + 1) = {len(weights)}, got {width}"
        )
    hidden_weight = np.zeros((width, 2))
    hidden_weight[: len(weights), 0] = weights  # column 1 (x2) stays zero
    hidden_bias = np.zeros(width)
    hidden_bias[: len(biases)] = biases
    output_weight = np.zeros((1, width))
    output_weight[0, : len(coefficients)] = output_scale * coefficients
    return _with_weights(width, hidden_weight, hidden_bias, output_weight, output_bias)


def _with_weights(width, hidden_weight, hidden_bias, output_weight, output_bias):
    model = _template(width)
    return eqx.tree_at(
        lambda m: (m.hidden.weight, m.hidden.bias, m.output.weight, m.output.bias),
        model,
        (
            jnp.asarray(hidden_weight),
            jnp.asarray(hidden_bias),
            jnp.asarray(output_weight),
            jnp.asarray([output_bias], jnp.float64),
        ),
    )


@functools.lru_cache(maxsize=8)
def _template(width: int) -> ReluNet:
    """Build a ReluNet to copy weights into, cached because its init is slow."""
    return ReluNet(width, key=jax.random.key(0))


@eqx.filter_jit
def _logits(model: ReluNet, x: jax.Array) -> jax.Array:
    return model(x)


def evaluate(model: ReluNet, x: np.ndarray) -> np.ndarray:
    """Return the network's logits on points of shape (n, 2) as float64 (n,).

    Inputs are padded to a power of two so that few shapes get compiled.
    """
    x = np.asarray(x, np.float64)
    padded = np.zeros((max(16, 1 << (len(x) - 1).bit_length()), x.shape[1]))
    padded[: len(x)] = x
    return np.asarray(_logits(model, jnp.asarray(padded)))[: len(x)]


def printed_peak(params: Exp1Params, k: np.ndarray) -> np.ndarray:
    """Return the maximum of the printed trapezoid of interval k: min(1, w/(2 eps) - 1).

    w = a / (k (k + 1)) is the interval's width; w > 2 eps under the
    constraint on eps, so the peak is positive.
    """
    width = params.a / (k * (k + 1.0))
    return np.minimum(1.0, width / (2 * params.eps) - 1)


def interval_peaks(model: ReluNet, params: Exp1Params) -> np.ndarray:
    """Return the exact maximum of a piecewise linear model over each interval.

    The model is linear in x1 between the kinks of its hidden units, so the
    maximum over [a/(k+1), a/k] is attained at a kink or an end point.
    Returns an array of shape (K - a + 1,) for k = a..K.
    """
    weight = np.asarray(model.hidden.weight)[:, 0]
    bias = np.asarray(model.hidden.bias)
    active = weight != 0
    kinks = -bias[active] / weight[active]
    peaks = []
    for lower, upper in interval_bounds(params):
        inside = kinks[(kinks >= lower) & (kinks <= upper)]
        x1 = np.concatenate([[lower, upper], inside])
        peaks.append(evaluate(model, np.stack([x1, np.zeros_like(x1)], 1)).max())
    return np.array(peaks)


@dataclass(frozen=True)
class Prop33Config:
    """Settings of the Prop. 3.3 check; defaults follow the paper's Experiment I.

    ``x2_values`` defaults to (0, delta, 0.5, 1). ``r`` defaults to 10 000,
    the largest training set of the paper's Experiment I.
    """

    params: Exp1Params = field(default_factory=Exp1Params)
    eta: float = 1e-2
    r: int = 10_000
    margin: float = 1e-3
    n_grid: int = 20_001
    x2_values: tuple[float, ...] | None = None
    n_random_sets: int = 5
    seed: int = 0

    def __post_init__(self):
        logit_scale(self.eta, self.r, self.margin)  # validates eta, r, margin
        if not isinstance(self.n_grid, int) or self.n_grid < 2:
            raise ValueError(f"`n_grid` must be an integer >= 2, got {self.n_grid!r}")
        if self.n_random_sets < 0:
            raise ValueError(f"`n_random_sets` must be >= 0, got {self.n_random_sets}")
        for value in self.grid_x2:
            if not 0 <= value <= 1:
                raise ValueError(f"`x2_values` must lie in [0, 1], got {value!r}")

    @property
    def grid_x2(self) -> tuple[float, ...]:
        if self.x2_values is None:
            return (0.0, self.params.delta, 0.5, 1.0)
        return tuple(self.x2_values)


@dataclass(frozen=True, eq=False)
class NetworkCheck:
    """One form of the Prop. 3.3 network evaluated on S_eps x [0, 1].

    Grid counts cover every (x1, x2) pair: the S_eps part of ``n_grid``
    equally spaced x1 in [b, 1] times each x2 value. ``peaks`` contains the
    exact maximum of Phi over each interval k = a..K and
    ``misclassified_per_interval`` the grid points of each interval where
    the prediction (Psi > 0, i.e. round(sigmoid(Psi)) with ties to 0)
    differs from f_a. ``worst_case_ce`` is r times the largest per-point
    cross-entropy on the grid, an upper bound of equation (12) over every
    r-point subset of the grid; ``random_ce`` contains equation (12) on random
    sets of r uniform points of S_eps x [0, 1].
    """

    form: str
    k: np.ndarray
    peaks: np.ndarray
    misclassified_per_interval: np.ndarray
    grid_points_per_interval: np.ndarray
    x2_max_change: float
    x2_weights_zero: bool
    worst_case_ce: float
    random_ce: tuple[float, ...]

    @property
    def misclassified(self) -> int:
        return int(self.misclassified_per_interval.sum())

    @property
    def grid_points(self) -> int:
        return int(self.grid_points_per_interval.sum())

    @property
    def agreement(self) -> float:
        """Share of grid points where the prediction equals f_a."""
        return 1 - self.misclassified / self.grid_points

    @property
    def worst_interval(self) -> int:
        """The k whose f_a = 1 interval has the lowest trapezoid peak."""
        ones = (self.k % 2) == 0
        return int(self.k[ones][np.argmin(self.peaks[ones])])

    @property
    def ignores_x2(self) -> bool:
        return self.x2_weights_zero and self.x2_max_change == 0

    def to_dict(self) -> dict:
        return {
            "form": self.form,
            "k": self.k.tolist(),
            "peaks": self.peaks.tolist(),
            "misclassified_per_interval": self.misclassified_per_interval.tolist(),
            "misclassified": self.misclassified,
            "grid_points_per_interval": self.grid_points_per_interval.tolist(),
            "grid_points": self.grid_points,
            "agreement": self.agreement,
            "worst_interval": self.worst_interval,
            "ignores_x2": self.ignores_x2,
            "worst_case_ce": self.worst_case_ce,
            "random_ce": list(self.random_ce),
        }


def _grid(config: Prop33Config) -> np.ndarray:
    """Return the S_eps x x2 grid as points of shape (n_x1 * n_x2, 2), x2 slowest."""
    x1 = probe_grid(config.params, config.n_grid)
    x1 = x1[in_S_eps(x1, config.params)]
    x2 = np.asarray(config.grid_x2, np.float64)
    return np.stack([np.tile(x1, len(x2)), np.repeat(x2, len(x1))], axis=1)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-point sigmoid cross-entropy of equation (12), computed stably."""
    sign = 2.0 * labels - 1.0
    return np.logaddexp(0.0, -sign * logits)


def _x2_max_change(model: ReluNet, grid: np.ndarray) -> float:
    logits = evaluate(model, grid)
    at_zero = evaluate(model, np.stack([grid[:, 0], np.zeros(len(grid))], 1))
    return float(np.max(np.abs(logits - at_zero)))


def _interval_index(x1: np.ndarray, params: Exp1Params) -> np.ndarray:
    """Return k - a for the interval a/(k+1) < x1 < a/k holding each x1 of S_eps."""
    return np.ceil(params.a / x1).astype(np.int64) - 1 - params.a


def _per_interval(mask: np.ndarray, grid: np.ndarray, params) -> np.ndarray:
    index = _interval_index(grid[:, 0], params)
    return np.bincount(index[mask], minlength=params.n_intervals)


def _misclassified(model: ReluNet, grid: np.ndarray, params) -> np.ndarray:
    prediction = (evaluate(model, grid) > 0).astype(np.int64)
    return prediction != f_a(grid[:, 0], params.a)


def _random_ce(model, config: Prop33Config) -> tuple[float, ...]:
    rng = np.random.default_rng(config.seed)
    draw = uniform_stable_sampler(config.params)
    totals = []
    for _ in range(config.n_random_sets):
        x = draw(config.r, rng)
        labels = f_a(x[:, 0], config.params.a)
        totals.append(float(cross_entropy(evaluate(model, x), labels).sum()))
    return tuple(totals)


def check_network(form: str, config: Prop33Config) -> NetworkCheck:
    """Evaluate one form of the Prop. 3.3 network on the grid and random sets."""
    params = config.params
    psi = prop33_network(
        params, eta=config.eta, r=config.r, form=form, margin=config.margin
    )
    grid = _grid(config)
    point_loss = cross_entropy(evaluate(psi, grid), f_a(grid[:, 0], params.a))
    return NetworkCheck(
        form=form,
        k=np.arange(params.a, params.K + 1),
        peaks=interval_peaks(trapezoid_network(params, form), params),
        misclassified_per_interval=_per_interval(
            _misclassified(psi, grid, params), grid, params
        ),
        grid_points_per_interval=_per_interval(np.ones(len(grid), bool), grid, params),
        x2_max_change=_x2_max_change(psi, grid),
        x2_weights_zero=bool(np.all(np.asarray(psi.hidden.weight)[:, 1] == 0)),
        worst_case_ce=float(config.r * point_loss.max()),
        random_ce=_random_ce(psi, config),
    )


@dataclass(frozen=True, eq=False)
class Prop33Result:
    """Both forms of the Prop. 3.3 network checked against what each should do.

    The corrected network must equal f_a on every grid point, ignore x2, keep
    equation (12) at most eta in the worst case over the grid and on every
    random set, and have peak 1 on every f_a = 1 interval. The printed
    network must match the erratum: peak ``printed_peak`` on each f_a = 1
    interval, and misclassify exactly the grid points of the f_a = 1
    intervals whose peak is at most 1/2.
    """

    config: Prop33Config
    scale: float
    printed: NetworkCheck
    corrected: NetworkCheck
    expected_printed_peaks: np.ndarray

    @property
    def f_a_ones(self) -> np.ndarray:
        """Mask over k = a..K of the intervals where f_a = 1."""
        return self.corrected.k % 2 == 0

    @property
    def corrected_holds(self) -> bool:
        check = self.corrected
        return (
            check.misclassified == 0
            and check.ignores_x2
            and check.worst_case_ce <= self.config.eta
            and all(ce <= self.config.eta for ce in check.random_ce)
            and bool(np.allclose(check.peaks[self.f_a_ones], 1.0, rtol=0, atol=1e-9))
        )

    @property
    def predicted_misclassified(self) -> np.ndarray:
        """Mask over k = a..K of the intervals the printed network must miss."""
        return self.f_a_ones & (self.expected_printed_peaks <= 0.5)

    @property
    def printed_matches_erratum(self) -> bool:
        check = self.printed
        peaks = check.peaks[self.f_a_ones]
        expected = self.expected_printed_peaks[self.f_a_ones]
        missed = np.where(
            self.predicted_misclassified, check.grid_points_per_interval, 0
        )
        return bool(
            np.allclose(peaks, expected, rtol=0, atol=1e-9)
            and np.array_equal(check.misclassified_per_interval, missed)
        )

    @property
    def holds(self) -> bool:
        return self.corrected_holds and self.printed_matches_erratum

    def summary(self) -> str:
        config = self.config
        verdict = "holds with the erratum" if self.holds else "FAILS"
        return "\n".join(
            [
                f"Prop. 3.3 (eta={config.eta:g}, r={config.r}, N={self.scale:.6f}): "
                f"{verdict}",
                self._printed_summary(),
                self._corrected_summary(),
            ]
        )

    def _printed_summary(self) -> str:
        check = self.printed
        index = check.worst_interval - self.config.params.a
        verdict = "matches" if self.printed_matches_erratum else "DOES NOT match"
        return (
            f"  printed network (equation 15): worst interval "
            f"k={check.worst_interval}, "
            f"peak of its trapezoid {check.peaks[index]:.6f} (formula "
            f"{self.expected_printed_peaks[index]:.6f}); {check.misclassified} of "
            f"{check.grid_points} grid points misclassified (agreement "
            f"{check.agreement:.6f}); misclassified per interval "
            f"k={check.k.tolist()}: {check.misclassified_per_interval.tolist()}; "
            f"worst-case cross-entropy {check.worst_case_ce:.6g}; {verdict} the "
            "erratum"
        )

    def _corrected_summary(self) -> str:
        check, config = self.corrected, self.config
        verdict = "holds" if self.corrected_holds else "FAILS"
        random_max = max(check.random_ce, default=float("nan"))
        return (
            f"  corrected network: agreement with f_a {check.agreement:.6f} on "
            f"{check.grid_points} grid points ({len(config.grid_x2)} x2 values), "
            f"ignores x2: {'yes' if check.ignores_x2 else 'NO'}, cross-entropy "
            f"worst case {check.worst_case_ce:.6g}, max over "
            f"{len(check.random_ce)} random sets {random_max:.6g}, "
            f"eta {config.eta:g}: {verdict}"
        )

    def to_dict(self) -> dict:
        return {
            "holds": self.holds,
            "params": self.config.params.to_dict(),
            "eta": self.config.eta,
            "r": self.config.r,
            "scale": self.scale,
            "x2_values": list(self.config.grid_x2),
            "printed": self.printed.to_dict(),
            "printed_expected_peaks": self.expected_printed_peaks.tolist(),
            "printed_matches_erratum": self.printed_matches_erratum,
            "corrected": self.corrected.to_dict(),
            "corrected_holds": self.corrected_holds,
        }


def check_prop33(config: Prop33Config | None = None) -> Prop33Result:
    """Build and evaluate the printed and the corrected network of Prop. 3.3."""
    config = Prop33Config() if config is None else config
    k = np.arange(config.params.a, config.params.K + 1)
    return Prop33Result(
        config=config,
        scale=logit_scale(config.eta, config.r, config.margin),
        printed=check_network("printed", config),
        corrected=check_network("corrected", config),
        expected_printed_peaks=printed_peak(config.params, k),
    )

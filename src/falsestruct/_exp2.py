"""Experiment II: stripe images, Table 1 and Figures 3 and 4.

Source: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms actually
learn? On false structures in deep learning", arXiv:1906.01478 (2019),
sections 3.2 and 5.2.2.

Names and the symbols they stand for:

- ``tilde`` / ``hat``: the colour codes of M-tilde and M-hat and the test sets
  C-tilde_{b,c} and C-hat_{b,c} drawn from them (``falsestruct._stripes``).
- ``a``: the training offset (0.01).
- ``b``, ``c``: the test offset range, a ~ U[b, c).
- Phi: the convolutional network (``falsestruct._cnn.StripeCNN``).

Protocol: Phi is trained on the 60 images of M-tilde at offset a with sigmoid
cross-entropy and Adam in TensorFlow 1's form (learning rate 1e-3), batch 60,
10 epochs and no shuffling, so 10 full-batch steps, in float64.

Two training sets (``variant``): ``"paper"`` has true vertical stripes as the
paper describes. ``"authors"`` is the set the published generator produced,
in which both classes carry horizontal stripes and differ only in the colour
code. Both are trained with the same seeds and tested on the same test sets.

Table 1 rows. The paper prints four offset ranges, [0.009, 0.010] down to
[0.006, 0.007]. The authors' evaluation loop (github.com/vegarant/
false_structures, ``stripe/Demo_evaluate_net.py``) printed 18 ranges: nine
of width 0.01 from [0.09, 0.10] down to [0.01, 0.02] and nine of width 0.001
from [0.009, 0.010] down to [0.001, 0.002]. The ``"fine"`` set here keeps the
same two-decade pattern shifted one decade down, towards smaller offsets:
nine ranges of width 0.001 from [0.009, 0.010] down to [0.001, 0.002], then
nine of width 0.0001 from [0.0009, 0.0010] down to [0.0001, 0.0002]. It
contains the paper's four rows. ``"paper"`` is those four rows alone.

Training runs one seed after another, each as a Python loop over a jitted
full-batch step, rather than through the ``lax.scan`` and ``vmap`` of
``falsestruct._training.train_ensemble``. On XLA's CPU backend (jax 0.10.2)
convolutions inside a ``scan`` ran about 10 times slower than the same step
outside it. ``vmap`` over the kernels turns them into grouped convolutions,
which ran 10 to 17 times slower than training the networks one at a time.
The optimiser, the loss and their order of operations are the same as in
``train_ensemble``.
"""

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._adam import tf1_adam
from ._cnn import StripeCNN
from ._stripes import CODES, VARIANTS, test_set, training_set
from ._training import TrainSpec, sigmoid_cross_entropy

logger = logging.getLogger("falsestruct")

PAPER_ROWS: tuple[tuple[float, float], ...] = (
    (0.009, 0.010),
    (0.008, 0.009),
    (0.007, 0.008),
    (0.006, 0.007),
)
# Table 1 as published: accuracy on C-tilde and on C-hat, 1000 images each.
PUBLISHED: dict[tuple[float, float], tuple[float, float]] = {
    (0.009, 0.010): (1.000, 0.000),
    (0.008, 0.009): (1.000, 0.000),
    (0.007, 0.008): (0.987, 0.000),
    (0.006, 0.007): (0.985, 0.006),
}
# The authors' network meets Table 1 to within this on each entry. Fresh
# 1000-image test sets move its accuracies by about 0.5 points.
REFERENCE_TOLERANCE = 0.015
ROW_SETS: tuple[str, ...] = ("paper", "fine")
VARIANT_DESCRIPTIONS = {
    "paper": "The 60 images of M-tilde at offset a, with true vertical stripes "
    "as the paper describes",
    "authors": "The published generator's 60 images: the vertical class is drawn "
    "with horizontal stripes in the vertical colour code, so the classes differ "
    "only in the colour code",
}
EVAL_BATCH = 250  # test images per forward pass, to bound memory

SeedCallback = Callable[[int], None]


def _decade(step: float) -> tuple[tuple[float, float], ...]:
    """Nine ranges [k step, (k + 1) step] for k = 9 down to 1, rounded exactly."""
    digits = int(round(-np.log10(step))) + 1
    return tuple(
        (round(k * step, digits), round((k + 1) * step, digits))
        for k in range(9, 0, -1)
    )


def table1_rows(kind: str = "fine") -> tuple[tuple[float, float], ...]:
    """Return the Table 1 offset ranges (b, c): ``"paper"`` or ``"fine"``."""
    if kind == "paper":
        return PAPER_ROWS
    if kind == "fine":
        return _decade(0.001) + _decade(0.0001)
    raise ValueError(f"`rows` must be one of {', '.join(ROW_SETS)}, got {kind!r}")


@dataclass(frozen=True)
class Exp2Config:
    """Settings of Experiment II, with the paper's protocol as defaults.

    ``seeds`` networks are trained per training-set variant, with model seeds
    0 .. seeds - 1. ``test_seed`` seeds the test sets, and every network is
    measured on the same test sets.
    """

    seeds: int = 16
    test_size: int = 1000
    offset: float = 0.01
    variants: tuple[str, ...] = VARIANTS
    rows: str = "fine"
    epochs: int = 10
    batch_size: int = 60
    test_seed: int = 20190604
    protocol: str = "paper"

    def __post_init__(self):
        if self.seeds < 1:
            raise ValueError(f"`seeds` must be >= 1, got {self.seeds}")
        if self.test_size < 1:
            raise ValueError(f"`test_size` must be >= 1, got {self.test_size}")
        if not 0 < self.offset < 0.5:
            raise ValueError(f"`offset` must lie in (0, 0.5), got {self.offset}")
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise ValueError(
                f"`variants` must be a non-empty selection of {', '.join(VARIANTS)}, "
                f"got {self.variants!r}"
            )
        table1_rows(self.rows)
        _ = self.train_spec  # TrainSpec validates epochs and batch_size

    @property
    def train_spec(self) -> TrainSpec:
        return TrainSpec(epochs=self.epochs, batch_size=self.batch_size, shuffle="none")


# --- training ------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _make_step(spec: TrainSpec):
    """Build the jitted step (model, opt_state, x, y) -> (model, opt_state, loss)."""
    optimizer = tf1_adam(spec.learning_rate, spec.b1, spec.b2, spec.eps)

    @eqx.filter_jit
    def step(model, opt_state, x, y):
        def loss_fn(params):
            logits = eqx.combine(params, static)(x)
            return jnp.mean(sigmoid_cross_entropy(logits, y))

        params, static = eqx.partition(model, eqx.is_array)
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state)
        return (
            eqx.combine(optax.apply_updates(params, updates), static),
            opt_state,
            loss,
        )

    return optimizer, step


def train_stripe_cnn(
    images: np.ndarray, labels: np.ndarray, *, seed: int, spec: TrainSpec
) -> tuple[StripeCNN, np.ndarray]:
    """Train one Phi from ``jax.random.key(seed)`` with fixed, unshuffled batches.

    Args:
        images: (n, size, size) training images.
        labels: (n,) labels, horizontal = 1.
        seed: seed of the glorot-uniform initialisation.
        spec: epochs and batch size; only ``shuffle="none"`` is supported.

    Returns:
        The trained network and its mean loss per epoch, shape (epochs,).
    """
    if spec.shuffle != "none":
        raise NotImplementedError(
            f"Experiment II trains with shuffle='none' only, got {spec.shuffle!r}"
        )
    optimizer, step = _make_step(spec)
    model = StripeCNN(key=jax.random.key(seed), image_size=images.shape[-1])
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    # Fixed batches in order, the last one kept when smaller (TensorFlow's batch).
    starts = range(0, len(labels), spec.batch_size)
    batches = [
        (
            jnp.asarray(images[i : i + spec.batch_size]),
            jnp.asarray(labels[i : i + spec.batch_size]),
        )
        for i in starts
    ]
    epoch_loss = np.zeros(spec.epochs)
    for epoch in range(spec.epochs):
        losses = []
        for x, y in batches:
            model, opt_state, loss = step(model, opt_state, x, y)
            losses.append(loss)
        epoch_loss[epoch] = float(np.mean(losses))
    return model, epoch_loss


def train_variant(
    variant: str,
    config: Exp2Config,
    on_seed: SeedCallback | None = None,
) -> tuple[list[StripeCNN], np.ndarray]:
    """Train ``config.seeds`` networks on one training-set variant.

    Returns the networks (seed order) and their epoch losses (seeds, epochs).
    ``on_seed(k)`` is called after the k-th network (1-based) has finished.
    """
    images, labels = training_set(config.offset, variant)
    models, losses = [], []
    for seed in range(config.seeds):
        model, loss = train_stripe_cnn(
            images, labels, seed=seed, spec=config.train_spec
        )
        models.append(model)
        losses.append(loss)
        if on_seed is not None:
            on_seed(seed + 1)
    return models, np.stack(losses)


# --- evaluation ------------------------------------------------------------------


@eqx.filter_jit
def _logits(model: StripeCNN, x: jax.Array) -> jax.Array:
    return model(x)


def predict(model: StripeCNN, images: np.ndarray) -> np.ndarray:
    """Return predicted labels (n,) in {0, 1}: 1 where sigma(logit) rounds to 1.

    TensorFlow rounds sigma = 0.5 to 0 (half to even), so the label is 1
    exactly where the logit is positive. Images go through in padded batches
    of ``EVAL_BATCH`` so that one compiled shape serves every call.
    """
    n = len(images)
    padded = -(-n // EVAL_BATCH) * EVAL_BATCH
    x = np.concatenate([images, np.zeros((padded - n,) + images.shape[1:])])
    logits = [
        np.asarray(_logits(model, jnp.asarray(x[i : i + EVAL_BATCH])))
        for i in range(0, padded, EVAL_BATCH)
    ]
    return (np.concatenate(logits)[:n] > 0).astype(np.int64)


def accuracy(model: StripeCNN, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose predicted label equals `labels`."""
    return float(np.mean(predict(model, images) == labels))


def _test_seed(base: int, row: int, code: str) -> int:
    return base + 10 * row + CODES.index(code)


def table1_test_set(config: Exp2Config, row: int, code: str):
    """Draw the test set of row `row` (index into the config's rows) for `code`."""
    b, c = table1_rows(config.rows)[row]
    seed = _test_seed(config.test_seed, row, code)
    return test_set(config.test_size, b, c, code, seed=seed)


def evaluate_table1(
    models: Sequence[StripeCNN],
    config: Exp2Config,
    on_row: SeedCallback | None = None,
) -> np.ndarray:
    """Measure accuracy on C-tilde and C-hat for every row and network.

    Returns accuracies of shape (networks, rows, 2), the last axis ordered
    (tilde, hat). Each test set is drawn once and shared by all networks.
    ``on_row(k)`` is called after the k-th row (1-based).
    """
    rows = table1_rows(config.rows)
    result = np.zeros((len(models), len(rows), len(CODES)))
    for row in range(len(rows)):
        for code_index, code in enumerate(CODES):
            images, labels = table1_test_set(config, row, code)
            for index, model in enumerate(models):
                result[index, row, code_index] = accuracy(model, images, labels)
        if on_row is not None:
            on_row(row + 1)
    return result


def _stats(values: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "min": float(np.min(values)),
        "max": float(np.max(values)),
    }


def summarise_table1(accuracies: np.ndarray, config: Exp2Config) -> list[dict]:
    """Turn (seeds, rows, 2) accuracies into the metrics rows of one variant.

    Each row contains b, c, the published numbers (None off the paper's rows),
    mean/std/min/max over seeds for tilde and hat, the share of seeds at
    100 % on C-tilde and at 0 % on C-hat, and the per-seed accuracies.
    """
    summary = []
    for row, (b, c) in enumerate(table1_rows(config.rows)):
        tilde, hat = accuracies[:, row, 0], accuracies[:, row, 1]
        published = PUBLISHED.get((b, c), (None, None))
        summary.append(
            {
                "b": b,
                "c": c,
                "published_tilde": published[0],
                "published_hat": published[1],
                "tilde": _stats(tilde),
                "hat": _stats(hat),
                "share_tilde_100": float(np.mean(tilde >= 1.0)),
                "share_hat_0": float(np.mean(hat <= 0.0)),
                "per_seed": [
                    {"seed": seed, "accuracy_tilde": float(t), "accuracy_hat": float(h)}
                    for seed, (t, h) in enumerate(zip(tilde, hat, strict=True))
                ],
            }
        )
    return summary


def reference_table1(model: StripeCNN, config: Exp2Config) -> list[dict]:
    """Evaluate one network (the authors' Phi) on the config's Table 1 rows.

    Rows contain b, c, ``accuracy_tilde``, ``accuracy_hat`` and, on the paper's
    four rows, ``published_tilde``, ``published_hat`` and ``tolerance``.
    """
    accuracies = evaluate_table1([model], config)[0]
    rows = []
    for (b, c), (tilde, hat) in zip(table1_rows(config.rows), accuracies, strict=True):
        published = PUBLISHED.get((b, c), (None, None))
        rows.append(
            {
                "b": b,
                "c": c,
                "accuracy_tilde": float(tilde),
                "accuracy_hat": float(hat),
                "published_tilde": published[0],
                "published_hat": published[1],
                "tolerance": REFERENCE_TOLERANCE if (b, c) in PUBLISHED else None,
            }
        )
    return rows

"""The compiled training loop shared by both experiments.

A run is one flat ``lax.scan`` over a precomputed schedule of batch indices,
compiled once under ``jit`` and called once per chunk of epochs so that the
schedule stays small in memory and a progress callback fires between chunks.
An ensemble of S independent networks trains at once under ``vmap``: every
array below carries a leading seed axis of size S.

Loss: sigmoid cross-entropy averaged over the real samples of the batch
(TensorFlow's ``sigmoid_cross_entropy_with_logits`` form). Optimiser: Adam in
TensorFlow 1's form (see ``falsestruct._adam``).

Batching modes (``shuffle``):

- ``"batches"``: the samples are shuffled once, cut into fixed batches, and
  the order of the batches is redrawn every epoch. This is what the authors'
  ``Dataset.batch(b).repeat().shuffle(r)`` pipeline does to within its
  buffer, and the default.
- ``"samples"``: a fresh permutation of all samples every epoch, so batch
  contents change too (the textbook form of "shuffle each epoch").
- ``"none"``: fixed batches in their original order every epoch (the
  authors' setting for full-batch and for Experiment II).

A last batch with fewer than ``batch_size`` samples is kept, as in
TensorFlow's ``batch``, and padded with masked-out entries.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._adam import tf1_adam

ShuffleMode = Literal["batches", "samples", "none"]
SHUFFLE_MODES: tuple[str, ...] = ("batches", "samples", "none")

# Called after each chunk with (epochs done, total epochs).
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class TrainSpec:
    """How to train: epochs, batching and TensorFlow 1 Adam settings."""

    epochs: int
    batch_size: int
    shuffle: ShuffleMode = "batches"
    learning_rate: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    chunk_steps: int = 250_000  # optimiser steps per compiled call, roughly

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"`epochs` must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1, got {self.batch_size}")
        if self.shuffle not in SHUFFLE_MODES:
            raise ValueError(
                f"`shuffle` must be one of {', '.join(SHUFFLE_MODES)}, "
                f"got {self.shuffle!r}"
            )


@dataclass(frozen=True)
class TrainResult:
    """Trained ensemble (leading seed axis) and its mean loss per epoch."""

    models: eqx.Module
    epoch_loss: np.ndarray  # (S, epochs)


def sigmoid_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Elementwise max(x, 0) - x z + log(1 + exp(-|x|)), as TensorFlow computes it."""
    return (
        jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    )


def _batch_layout(n: int, batch_size: int) -> tuple[int, np.ndarray]:
    """Return the batch count and a (n_batches * batch_size,) padding mask."""
    n_batches = -(-n // batch_size)
    mask = np.zeros(n_batches * batch_size)
    mask[:n] = 1.0
    return n_batches, mask


def _fixed_batches(x: np.ndarray, y: np.ndarray, batch_size: int):
    """Cut (S, n, ...) data into (S, n_batches, batch_size, ...) with a mask."""
    seeds, n = y.shape
    n_batches, mask = _batch_layout(n, batch_size)
    pad = n_batches * batch_size - n
    x = np.concatenate([x, np.zeros((seeds, pad) + x.shape[2:], x.dtype)], axis=1)
    y = np.concatenate([y, np.zeros((seeds, pad), y.dtype)], axis=1)
    shape = (seeds, n_batches, batch_size)
    mask = np.broadcast_to(mask.reshape(1, n_batches, batch_size), shape)
    return x.reshape(shape + x.shape[2:]), y.reshape(shape), np.array(mask)


def _schedule_chunk(
    rngs: list[np.random.Generator], mode: str, epochs: int, n: int, batch_size: int
) -> np.ndarray:
    """Draw the next `epochs` epochs of indices for every ensemble member.

    Returns (S, epochs * n_batches) batch indices, or for ``"samples"`` mode
    (S, epochs * n_batches, batch_size) sample indices with -1 as padding.
    """
    n_batches, _ = _batch_layout(n, batch_size)
    if mode == "none":
        order = np.tile(np.arange(n_batches, dtype=np.int32), epochs)
        return np.broadcast_to(order, (len(rngs), order.size)).copy()
    if mode == "batches":
        base = np.tile(np.arange(n_batches, dtype=np.int32), (epochs, 1))
        return np.stack([rng.permuted(base, axis=1).ravel() for rng in rngs])
    pad = n_batches * batch_size - n
    rows = []
    for rng in rngs:
        perm = rng.permuted(np.tile(np.arange(n, dtype=np.int32), (epochs, 1)), axis=1)
        perm = np.concatenate([perm, np.full((epochs, pad), -1, np.int32)], axis=1)
        rows.append(perm.reshape(epochs * n_batches, batch_size))
    return np.stack(rows)


@functools.lru_cache(maxsize=16)
def _make_chunk_fn(static, spec: TrainSpec, n_batches: int):
    """Build the jitted, vmapped function that runs one chunk of steps.

    Cached, so that repeated runs with the same model structure and settings
    reuse the compiled code instead of compiling again.
    """
    optimizer = tf1_adam(spec.learning_rate, spec.b1, spec.b2, spec.eps)

    def loss_fn(params, xb, yb, mask):
        model = eqx.combine(params, static)
        losses = sigmoid_cross_entropy(model(xb), yb)
        return jnp.sum(losses * mask) / jnp.sum(mask)

    grad_fn = jax.value_and_grad(loss_fn)

    def run_one(params, opt_state, data, schedule):
        def step(carry, index):
            params, opt_state = carry
            if spec.shuffle == "samples":
                x, y = data
                mask = (index >= 0).astype(y.dtype)
                safe = jnp.maximum(index, 0)
                xb, yb = x[safe], y[safe]
            else:
                xb_all, yb_all, mask_all = data
                xb, yb, mask = xb_all[index], yb_all[index], mask_all[index]
            loss, grads = grad_fn(params, xb, yb, mask)
            updates, opt_state = optimizer.update(grads, opt_state)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), schedule)
        return params, opt_state, losses.reshape(-1, n_batches).mean(axis=1)

    return jax.jit(jax.vmap(run_one))


def train_ensemble(
    models: eqx.Module,
    x: np.ndarray,
    y: np.ndarray,
    spec: TrainSpec,
    *,
    schedule_seeds: list[int],
    progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train S networks at once, each on its own data and batch order.

    Args:
        models: S stacked models (every array leaf has a leading axis S), for
            example from ``eqx.filter_vmap(make_model)(keys)``. Called on a
            batch (batch, ...) the unstacked model returns logits (batch,).
        x: inputs, shape (S, n, ...).
        y: labels in {0, 1}, shape (S, n).
        spec: epochs, batch size, batching mode and Adam settings.
        schedule_seeds: S integers seeding the one-time shuffle and the
            per-epoch batch order of each member.
        progress: called after each chunk with (epochs done, total epochs).

    The same inputs and seeds give bit-identical weights on the same machine.
    """
    x = np.asarray(x)
    y = np.asarray(y, dtype=x.dtype)
    seeds, n = y.shape
    if x.shape[:2] != (seeds, n):
        raise ValueError(
            f"`x` must have shape (S, n, ...) = ({seeds}, {n}, ...), got {x.shape}"
        )
    if len(schedule_seeds) != seeds:
        raise ValueError(
            f"`schedule_seeds` needs {seeds} entries, one per model, "
            f"got {len(schedule_seeds)}"
        )
    rngs = [np.random.default_rng(seed) for seed in schedule_seeds]
    if spec.shuffle == "batches":
        # Shuffle once before cutting fixed batches, as the authors' data
        # pipeline does when it draws the set.
        order = np.stack([rng.permutation(n) for rng in rngs])
        x = np.take_along_axis(x, order.reshape(order.shape + (1,) * (x.ndim - 2)), 1)
        y = np.take_along_axis(y, order, 1)

    n_batches, _ = _batch_layout(n, spec.batch_size)
    if spec.shuffle == "samples":
        data = (jnp.asarray(x), jnp.asarray(y))
    else:
        data = tuple(jnp.asarray(a) for a in _fixed_batches(x, y, spec.batch_size))

    params, static = eqx.partition(models, eqx.is_array)
    opt_state = jax.vmap(tf1_adam().init)(params)
    chunk_fn = _make_chunk_fn(static, spec, n_batches)

    chunk_epochs = max(1, min(spec.epochs, spec.chunk_steps // n_batches))
    done, losses = 0, []
    while done < spec.epochs:
        epochs = min(chunk_epochs, spec.epochs - done)
        schedule = _schedule_chunk(rngs, spec.shuffle, epochs, n, spec.batch_size)
        params, opt_state, chunk_loss = chunk_fn(params, opt_state, data, schedule)
        losses.append(np.asarray(chunk_loss))
        done += epochs
        if progress is not None:
            progress(done, spec.epochs)
    return TrainResult(eqx.combine(params, static), np.concatenate(losses, axis=1))


def make_ensemble(make_model: Callable[[jax.Array], eqx.Module], seeds: list[int]):
    """Initialise one model per seed and stack them along a leading axis."""
    keys = jnp.stack([jax.random.key_data(jax.random.key(s)) for s in seeds])
    return eqx.filter_vmap(lambda k: make_model(jax.random.wrap_key_data(k)))(keys)


def unstack(models: eqx.Module, index: int) -> eqx.Module:
    """Return member `index` of a stacked ensemble."""
    params, static = eqx.partition(models, eqx.is_array)
    return eqx.combine(jax.tree_util.tree_map(lambda a: a[index], params), static)

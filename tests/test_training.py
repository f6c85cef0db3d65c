"""The compiled training loop: determinism, batching modes and convergence."""

import jax
import numpy as np
import pytest

from falsestruct._models import ReluNet
from falsestruct._training import (
    TrainSpec,
    _schedule_chunk,
    make_ensemble,
    train_ensemble,
    unstack,
)


def toy_data(seeds: int, n: int):
    """Linearly separable 2-D points per seed: (S, n, 2) inputs, (S, n) labels."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(seeds, n, 2))
    y = (x[..., 0] + x[..., 1] > 0).astype(np.float64)
    return x, y


def train(spec: TrainSpec, seeds=(0, 1), n=23):
    x, y = toy_data(len(seeds), n)
    models = make_ensemble(lambda key: ReluNet(8, key=key), list(seeds))
    return train_ensemble(models, x, y, spec, schedule_seeds=list(seeds))


def leaves(models) -> list[np.ndarray]:
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(models)]


@pytest.mark.parametrize("shuffle", ["batches", "samples", "none"])
def test_same_seed_bit_identical(shuffle):
    spec = TrainSpec(epochs=5, batch_size=5, shuffle=shuffle)
    first, second = train(spec), train(spec)
    for a, b in zip(leaves(first.models), leaves(second.models), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.epoch_loss, second.epoch_loss)


def test_seeds_give_different_weights():
    result = train(TrainSpec(epochs=3, batch_size=5))
    w0 = np.asarray(unstack(result.models, 0).hidden.weight)
    w1 = np.asarray(unstack(result.models, 1).hidden.weight)
    assert not np.array_equal(w0, w1)


@pytest.mark.parametrize("shuffle", ["batches", "samples", "none"])
def test_loss_decreases(shuffle):
    result = train(
        TrainSpec(epochs=60, batch_size=5, shuffle=shuffle, learning_rate=1e-2)
    )
    assert result.epoch_loss.shape == (2, 60)
    assert (result.epoch_loss[:, -1] < 0.5 * result.epoch_loss[:, 0]).all()


def test_partial_last_batch_kept():
    # 23 samples in batches of 5: 5 batches per epoch, the last with 3 samples.
    rngs = [np.random.default_rng(0)]
    samples = _schedule_chunk(rngs, "samples", 2, 23, 5)
    assert samples.shape == (1, 10, 5)
    for epoch in samples[0].reshape(2, 25):
        real = epoch[epoch >= 0]
        assert sorted(real) == list(range(23))
        assert np.sum(epoch < 0) == 2
    batches = _schedule_chunk(rngs, "batches", 3, 23, 5)
    assert batches.shape == (1, 15)
    for epoch in batches[0].reshape(3, 5):
        assert sorted(epoch) == list(range(5))


def test_shuffle_modes_order():
    rngs = [np.random.default_rng(1)]
    fixed = _schedule_chunk(rngs, "none", 3, 20, 5)
    np.testing.assert_array_equal(fixed[0], np.tile(np.arange(4), 3))
    shuffled = _schedule_chunk(rngs, "batches", 20, 20, 5)[0].reshape(20, 4)
    assert len({tuple(row) for row in shuffled}) > 1


def test_full_batch_equals_one_step_per_epoch():
    result = train(TrainSpec(epochs=4, batch_size=23, shuffle="none"), seeds=(3,))
    assert result.epoch_loss.shape == (1, 4)


def test_spec_rejects_bad_values():
    with pytest.raises(ValueError, match="epochs"):
        TrainSpec(epochs=0, batch_size=5)
    with pytest.raises(ValueError, match="batch_size"):
        TrainSpec(epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="shuffle"):
        TrainSpec(epochs=1, batch_size=5, shuffle="random")

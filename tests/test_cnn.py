"""The stripe CNN Phi: shapes, initialisation, TensorFlow layout, forward pass."""

import jax
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from falsestruct._cnn import (
    StripeCNN,
    stripe_cnn_from_tf_arrays,
    stripe_cnn_tf_shapes,
    stripe_cnn_to_tf_arrays,
)
from falsestruct._weights import WeightFileError, load_weights, save_weights


@pytest.fixture(scope="module")
def model() -> StripeCNN:
    return StripeCNN(key=jax.random.key(3))


def _numpy_conv_same(h: np.ndarray, kernel: np.ndarray, bias: np.ndarray):
    """'same' convolution (cross-correlation) of NHWC `h` with an HWIO kernel."""
    pad = kernel.shape[0] // 2
    padded = np.pad(h, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = sliding_window_view(padded, kernel.shape[:2], axis=(1, 2))
    return np.einsum("nhwcij,ijco->nhwo", windows, kernel) + bias


def _numpy_max_pool(h: np.ndarray) -> np.ndarray:
    n, rows, cols, c = h.shape
    return h.reshape(n, rows // 2, 2, cols // 2, 2, c).max(axis=(2, 4))


def _numpy_forward(arrays: dict, images: np.ndarray) -> np.ndarray:
    """Phi written out in NumPy, flattening (row, column, channel) as Keras does."""
    h = images[..., None]
    h = _numpy_max_pool(
        np.maximum(
            _numpy_conv_same(h, arrays["conv2d.kernel"], arrays["conv2d.bias"]), 0
        )
    )
    h = _numpy_max_pool(
        np.maximum(
            _numpy_conv_same(h, arrays["conv2d_1.kernel"], arrays["conv2d_1.bias"]), 0
        )
    )
    h = h.reshape(len(h), -1) @ arrays["dense.kernel"] + arrays["dense.bias"]
    return (h @ arrays["dense_1.kernel"] + arrays["dense_1.bias"])[:, 0]


def _random_arrays(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: rng.normal(0, 0.2, shape)
        for name, shape in stripe_cnn_tf_shapes().items()
    }


@pytest.mark.parametrize("batch", [1, 7, 60])
def test_logits_shape_and_dtype(model, batch):
    logits = model(np.zeros((batch, 32, 32)))
    assert logits.shape == (batch,)
    assert logits.dtype == np.float64


def test_shapes_match_tensorflow_layout(model):
    arrays = stripe_cnn_to_tf_arrays(model)
    expected = {
        "conv2d.kernel": (5, 5, 1, 24),
        "conv2d.bias": (24,),
        "conv2d_1.kernel": (5, 5, 24, 48),
        "conv2d_1.bias": (48,),
        "dense.kernel": (3072, 10),
        "dense.bias": (10,),
        "dense_1.kernel": (10, 1),
        "dense_1.bias": (1,),
    }
    assert {name: value.shape for name, value in arrays.items()} == expected
    assert stripe_cnn_tf_shapes() == expected


@pytest.mark.parametrize(
    "name, fan_in, fan_out",
    [
        ("conv2d.kernel", 25, 600),
        ("conv2d_1.kernel", 600, 1200),
        ("dense.kernel", 3072, 10),
        ("dense_1.kernel", 10, 1),
    ],
)
def test_glorot_uniform_limits(model, name, fan_in, fan_out):
    kernel = stripe_cnn_to_tf_arrays(model)[name]
    limit = np.sqrt(6 / (fan_in + fan_out))
    assert np.abs(kernel).max() <= limit
    # Large kernels fill the range: the extreme draws reach past 90 % of it.
    if kernel.size > 1000:
        assert np.abs(kernel).max() > 0.9 * limit


def test_biases_start_at_zero(model):
    arrays = stripe_cnn_to_tf_arrays(model)
    for name in ("conv2d.bias", "conv2d_1.bias", "dense.bias", "dense_1.bias"):
        assert not np.any(arrays[name]), name


def test_different_keys_different_weights():
    first = stripe_cnn_to_tf_arrays(StripeCNN(key=jax.random.key(0)))
    second = stripe_cnn_to_tf_arrays(StripeCNN(key=jax.random.key(1)))
    assert not np.array_equal(first["conv2d.kernel"], second["conv2d.kernel"])


def test_forward_matches_numpy_nhwc_reference():
    arrays = _random_arrays(0)
    images = np.random.default_rng(1).uniform(-0.1, 1.1, (3, 32, 32))
    model = stripe_cnn_from_tf_arrays(arrays)
    np.testing.assert_allclose(
        np.asarray(model(images)),
        _numpy_forward(arrays, images),
        rtol=1e-10,
        atol=1e-10,
    )


def test_tf_arrays_round_trip(tmp_path, model):
    path = save_weights(tmp_path / "phi.npz", stripe_cnn_to_tf_arrays(model))
    loaded = stripe_cnn_from_tf_arrays(load_weights(path, stripe_cnn_tf_shapes()))
    for name, value in stripe_cnn_to_tf_arrays(model).items():
        np.testing.assert_array_equal(stripe_cnn_to_tf_arrays(loaded)[name], value)
    images = np.random.default_rng(2).uniform(0, 1, (4, 32, 32))
    np.testing.assert_array_equal(np.asarray(loaded(images)), np.asarray(model(images)))


def test_wrong_shape_names_key(tmp_path, model):
    arrays = stripe_cnn_to_tf_arrays(model)
    arrays["dense.kernel"] = arrays["dense.kernel"][:100]
    path = save_weights(tmp_path / "bad.npz", arrays)
    with pytest.raises(WeightFileError, match=r"'dense.kernel'.*expected \(3072, 10\)"):
        load_weights(path, stripe_cnn_tf_shapes())


def test_invalid_image_size_raises():
    with pytest.raises(ValueError, match="`image_size` must be >= 1, got 0"):
        StripeCNN(key=jax.random.key(0), image_size=0)

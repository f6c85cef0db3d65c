"""The convolutional network Phi of Experiment II.

Layers, as in the authors' ``conv3_net`` (TensorFlow 1.13, Keras layers):
conv 5x5, 24 filters, 'same', ReLU -> max-pool 2x2 'same' -> conv 5x5,
48 filters, 'same', ReLU -> max-pool 2x2 'same' -> flatten -> dense 10 (no
activation) -> dense 1, which returns the logit. For 32 x 32 images the
flattened features number 8 * 8 * 48 = 3072.

The parameters are stored in TensorFlow's layout, so the authors' weights load
unchanged and the flatten runs over (row, column, channel) as in NHWC:

| key | shape |
|---|---|
| ``conv2d.kernel`` | (5, 5, 1, 24), (height, width, in, out) |
| ``conv2d.bias`` | (24,) |
| ``conv2d_1.kernel`` | (5, 5, 24, 48) |
| ``conv2d_1.bias`` | (48,) |
| ``dense.kernel`` | (3072, 10), (in, out) |
| ``dense.bias`` | (10,) |
| ``dense_1.kernel`` | (10, 1) |
| ``dense_1.bias`` | (1,) |

Initialisation follows Keras: glorot-uniform kernels with fan_in =
kh * kw * in and fan_out = kh * kw * out for convolutions, zero biases.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._models import glorot_uniform

KERNEL_SIZE = 5
FILTERS = (24, 48)
HIDDEN_UNITS = 10
_DIMENSIONS = ("NHWC", "HWIO", "NHWC")
TF_NAMES: dict[str, str] = {
    "conv2d.kernel": "conv1_kernel",
    "conv2d.bias": "conv1_bias",
    "conv2d_1.kernel": "conv2_kernel",
    "conv2d_1.bias": "conv2_bias",
    "dense.kernel": "dense1_kernel",
    "dense.bias": "dense1_bias",
    "dense_1.kernel": "dense2_kernel",
    "dense_1.bias": "dense2_bias",
}


def _pooled_side(image_size: int) -> int:
    """Side length after two 2x2 max-pools with 'same' padding (ceil halving)."""
    after_first = math.ceil(image_size / 2)
    return math.ceil(after_first / 2)


def stripe_cnn_tf_shapes(image_size: int = 32) -> dict[str, tuple[int, ...]]:
    """Return the TensorFlow-layout shape of every parameter, for ``load_weights``."""
    flat = _pooled_side(image_size) ** 2 * FILTERS[1]
    k = KERNEL_SIZE
    return {
        "conv2d.kernel": (k, k, 1, FILTERS[0]),
        "conv2d.bias": (FILTERS[0],),
        "conv2d_1.kernel": (k, k, FILTERS[0], FILTERS[1]),
        "conv2d_1.bias": (FILTERS[1],),
        "dense.kernel": (flat, HIDDEN_UNITS),
        "dense.bias": (HIDDEN_UNITS,),
        "dense_1.kernel": (HIDDEN_UNITS, 1),
        "dense_1.bias": (1,),
    }


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's fan_in and fan_out: receptive field times in or out channels."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return receptive * shape[-2], receptive * shape[-1]


def _conv_same(x: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
    y = jax.lax.conv_general_dilated(
        x, kernel, (1, 1), "SAME", dimension_numbers=_DIMENSIONS
    )
    return y + bias


def _max_pool_same(x: jax.Array) -> jax.Array:
    """2x2 max-pool, stride 2, 'same' padding: padded cells count as -inf."""
    window = (1, 2, 2, 1)
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, window, window, "SAME")


class StripeCNN(eqx.Module):
    """Phi: (batch, size, size) images to (batch,) logits; horizontal = 1.

    One field per parameter (``TF_NAMES`` maps TensorFlow's names to them),
    each in TensorFlow's layout.
    """

    conv1_kernel: jax.Array  # (5, 5, 1, 24)
    conv1_bias: jax.Array
    conv2_kernel: jax.Array  # (5, 5, 24, 48)
    conv2_bias: jax.Array
    dense1_kernel: jax.Array  # (3072, 10) for 32 x 32 images
    dense1_bias: jax.Array
    dense2_kernel: jax.Array  # (10, 1)
    dense2_bias: jax.Array

    def __init__(self, *, key: jax.Array, image_size: int = 32, dtype=jnp.float64):
        if image_size < 1:
            raise ValueError(f"`image_size` must be >= 1, got {image_size}")
        shapes = stripe_cnn_tf_shapes(image_size)
        keys = jax.random.split(key, len(shapes))
        for subkey, (name, shape) in zip(keys, shapes.items(), strict=True):
            if name.endswith(".bias"):
                value = jnp.zeros(shape, dtype)
            else:
                value = glorot_uniform(subkey, *_fans(shape), shape, dtype)
            setattr(self, TF_NAMES[name], value)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images (batch, size, size) to logits (batch,)."""
        h = x[..., None]  # (batch, size, size, 1), NHWC
        h = jax.nn.relu(_conv_same(h, self.conv1_kernel, self.conv1_bias))
        h = _max_pool_same(h)
        h = jax.nn.relu(_conv_same(h, self.conv2_kernel, self.conv2_bias))
        h = _max_pool_same(h).reshape(h.shape[0], -1)  # (row, column, channel)
        h = h @ self.dense1_kernel + self.dense1_bias
        return (h @ self.dense2_kernel + self.dense2_bias)[:, 0]


def stripe_cnn_to_tf_arrays(model: StripeCNN) -> dict[str, np.ndarray]:
    """Return copies of the weights under TensorFlow's names and layout."""
    return {name: np.array(getattr(model, field)) for name, field in TF_NAMES.items()}


def stripe_cnn_from_tf_arrays(arrays: dict[str, np.ndarray]) -> StripeCNN:
    """Build a StripeCNN from TensorFlow-layout arrays (see the module docstring).

    The arrays must already be validated, for example by ``load_weights`` with
    ``stripe_cnn_tf_shapes()``; extra keys are ignored.
    """
    side = int(round(np.sqrt(arrays["dense.kernel"].shape[0] / FILTERS[1])))
    model = StripeCNN(key=jax.random.key(0), image_size=4 * side)
    values = tuple(jnp.asarray(arrays[name], jnp.float64) for name in TF_NAMES)
    return eqx.tree_at(
        lambda m: tuple(getattr(m, field) for field in TF_NAMES.values()),
        model,
        values,
    )

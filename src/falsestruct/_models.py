"""The fully connected network of Experiment I, NN_{[1, 4K, 2]}.

The paper writes layer widths output first: N = [1, 4K, 2] is input 2,
one hidden ReLU layer of width 4K and a single logit. Weights start as
TensorFlow 1's ``tf.layers.dense`` starts them: glorot-uniform kernels
and zero biases (equinox's own default is a different uniform range and
non-zero biases).

Weight files use TensorFlow's layout and names, so the authors' networks load
unchanged: ``dense.kernel`` (2, width), ``dense.bias`` (width,),
``dense_1.kernel`` (width, 1), ``dense_1.bias`` (1,).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def glorot_uniform(key: jax.Array, fan_in: int, fan_out: int, shape, dtype):
    """Draw from U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).

    Reference: X. Glorot, Y. Bengio, "Understanding the difficulty of training
    deep feedforward neural networks", AISTATS 2010, equation 16.
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, dtype, minval=-limit, maxval=limit)


def _glorot_linear(key, in_features: int, out_features: int, dtype) -> eqx.nn.Linear:
    layer = eqx.nn.Linear(in_features, out_features, key=key, dtype=dtype)
    weight = glorot_uniform(
        key, in_features, out_features, (out_features, in_features), dtype
    )
    layer = eqx.tree_at(lambda lin: lin.weight, layer, weight)
    return eqx.tree_at(lambda lin: lin.bias, layer, jnp.zeros(out_features, dtype))


class ReluNet(eqx.Module):
    """Two-layer ReLU network x -> W2 relu(W1 x + b1) + b2, returning logits."""

    hidden: eqx.nn.Linear
    output: eqx.nn.Linear

    def __init__(
        self,
        width: int,
        *,
        key: jax.Array,
        in_features: int = 2,
        dtype=jnp.float64,
    ):
        if width < 1:
            raise ValueError(f"`width` must be >= 1, got {width}")
        hidden_key, output_key = jax.random.split(key)
        self.hidden = _glorot_linear(hidden_key, in_features, width, dtype)
        self.output = _glorot_linear(output_key, width, 1, dtype)

    @property
    def width(self) -> int:
        return self.hidden.out_features

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map inputs of shape (batch, in_features) to logits of shape (batch,)."""
        h = jax.nn.relu(x @ self.hidden.weight.T + self.hidden.bias)
        return (h @ self.output.weight.T + self.output.bias)[..., 0]


def relu_net_to_tf_arrays(model: ReluNet) -> dict[str, np.ndarray]:
    """Return the weights under TensorFlow's names, kernels as (in, out)."""
    return {
        "dense.kernel": np.asarray(model.hidden.weight).T.copy(),
        "dense.bias": np.asarray(model.hidden.bias).copy(),
        "dense_1.kernel": np.asarray(model.output.weight).T.copy(),
        "dense_1.bias": np.asarray(model.output.bias).copy(),
    }


def relu_net_from_tf_arrays(arrays: dict[str, np.ndarray]) -> ReluNet:
    """Build a ReluNet from TensorFlow-layout arrays (see the module docstring).

    The arrays must already be validated (``falsestruct.load_weights`` does
    that); the hidden width is read from ``dense.kernel``.
    """
    in_features, width = arrays["dense.kernel"].shape
    model = ReluNet(width, key=jax.random.key(0), in_features=in_features)
    model = eqx.tree_at(
        lambda m: (m.hidden.weight, m.hidden.bias, m.output.weight, m.output.bias),
        model,
        (
            jnp.asarray(arrays["dense.kernel"].T, jnp.float64),
            jnp.asarray(arrays["dense.bias"], jnp.float64),
            jnp.asarray(arrays["dense_1.kernel"].T, jnp.float64),
            jnp.asarray(arrays["dense_1.bias"], jnp.float64),
        ),
    )
    return model


def relu_net_tf_shapes(width: int, in_features: int = 2) -> dict[str, tuple]:
    """Expected TensorFlow-layout shapes for a ReluNet of the given width."""
    return {
        "dense.kernel": (in_features, width),
        "dense.bias": (width,),
        "dense_1.kernel": (width, 1),
        "dense_1.bias": (1,),
    }

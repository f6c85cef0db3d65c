"""Adam in the form TensorFlow 1 implements it.

TensorFlow 1.13's ``tf.train.AdamOptimizer`` folds both bias corrections into
the step size and adds epsilon to the uncorrected second moment:

    m_t = b1 m_{t-1} + (1 - b1) g
    v_t = b2 v_{t-1} + (1 - b2) g^2
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
    theta_t = theta_{t-1} - lr_t m_t / (sqrt(v_t) + eps_hat)

``optax.adam`` corrects m and v first and adds epsilon to sqrt(v_hat), which
scales the effective epsilon by sqrt(1 - b2^t) and changes the trajectory of
the paper's networks. The authors trained with this form (TensorFlow 1.13.1,
default arguments), so the toolkit uses it everywhere.

Reference: D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization",
ICLR 2015, arXiv:1412.6980, Algorithm 1 and the "epsilon hat" variant at the
end of its section 2.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class TF1AdamState(NamedTuple):
    """Step count and the first and second moment estimates."""

    count: jax.Array  # int32 scalar, steps taken so far
    mu: optax.Updates
    nu: optax.Updates


def tf1_adam(
    learning_rate: float = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
) -> optax.GradientTransformation:
    """Build TensorFlow 1's Adam as an optax transformation.

    The defaults are TensorFlow 1's (``lr=0.001, beta1=0.9, beta2=0.999,
    epsilon=1e-8``). The returned updates are to be added to the parameters,
    as with every optax optimiser.
    """
    if learning_rate <= 0:
        raise ValueError(f"`learning_rate` must be > 0, got {learning_rate}")
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"`b1` and `b2` must lie in [0, 1), got {b1}, {b2}")
    if eps <= 0:
        raise ValueError(f"`eps` must be > 0, got {eps}")

    def init_fn(params: optax.Params) -> TF1AdamState:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return TF1AdamState(jnp.zeros([], jnp.int32), zeros, zeros)

    def update_fn(updates, state, params=None):
        del params
        count = state.count + 1
        mu = jax.tree_util.tree_map(
            lambda m, g: b1 * m + (1 - b1) * g, state.mu, updates
        )
        nu = jax.tree_util.tree_map(
            lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, updates
        )
        t = count.astype(jnp.result_type(float))
        step_size = learning_rate * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        new_updates = jax.tree_util.tree_map(
            lambda m, v: (-step_size * m / (jnp.sqrt(v) + eps)).astype(m.dtype),
            mu,
            nu,
        )
        return new_updates, TF1AdamState(count, mu, nu)

    return optax.GradientTransformation(init_fn, update_fn)

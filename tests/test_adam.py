"""TensorFlow 1's Adam: hand-computed steps and the difference from optax.adam."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from falsestruct._adam import tf1_adam


def numpy_tf1_adam(grads, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Apply TF1's Adam to a sequence of gradients; return the parameter deltas."""
    m = v = 0.0
    deltas = []
    for t, grad in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad**2
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        deltas.append(-lr_t * m / (np.sqrt(v) + eps))
    return np.array(deltas)


def test_first_step_by_hand():
    # t = 1, g = 0.5: m = 0.05, v = 0.00025, lr_1 = 1e-3 sqrt(0.001) / 0.1.
    optimizer = tf1_adam()
    params = jnp.array([1.0])
    state = optimizer.init(params)
    updates, _ = optimizer.update(jnp.array([0.5]), state)
    expected = -(1e-3 * np.sqrt(0.001) / 0.1) * 0.05 / (np.sqrt(0.00025) + 1e-8)
    assert float(updates[0]) == pytest.approx(expected, rel=1e-12)
    assert float(updates[0]) == pytest.approx(-1e-3, rel=1e-5)


def test_steps_match_numpy():
    grads = np.array([0.3, -1.2, 2e-6, 0.7, -0.05, 1e-9, 3.0])
    optimizer = tf1_adam(learning_rate=0.01)
    state = optimizer.init(jnp.zeros(1))
    deltas = []
    for grad in grads:
        updates, state = optimizer.update(jnp.array([grad]), state)
        deltas.append(float(updates[0]))
    np.testing.assert_allclose(deltas, numpy_tf1_adam(grads, lr=0.01), rtol=1e-12)


def test_differs_from_optax_adam():
    # optax adds eps to sqrt(v_hat): for tiny gradients the two forms diverge.
    grads = [jnp.array([1e-9])] * 3
    tf1, plain = tf1_adam(), optax.adam(1e-3, eps=1e-8)
    tf1_state, plain_state = tf1.init(jnp.zeros(1)), plain.init(jnp.zeros(1))
    for grad in grads:
        tf1_update, tf1_state = tf1.update(grad, tf1_state)
        plain_update, plain_state = plain.update(grad, plain_state)
    ratio = float(tf1_update[0] / plain_update[0])
    assert abs(ratio - 1) > 0.1


def test_rejects_invalid_settings():
    with pytest.raises(ValueError, match="learning_rate"):
        tf1_adam(learning_rate=0.0)
    with pytest.raises(ValueError, match="b1"):
        tf1_adam(b1=1.0)
    with pytest.raises(ValueError, match="eps"):
        tf1_adam(eps=-1.0)

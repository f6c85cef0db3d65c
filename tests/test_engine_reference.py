"""The compiled training loop against an independent NumPy implementation."""

import jax
import numpy as np

from falsestruct._exp1 import (
    _derived_seed,
    draw_training_set,
    net_spec,
    train_net_seeds,
)
from falsestruct._exp1_data import Exp1Params
from falsestruct._models import ReluNet, relu_net_to_tf_arrays
from falsestruct._training import make_ensemble, unstack


def _numpy_full_batch_adam(x, y, arrays, steps, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Train a 2 -> H -> 1 ReLU net full batch with TensorFlow 1's Adam, in NumPy.

    Gradients of the mean sigmoid cross-entropy are written out by hand, so
    this shares no code with the JAX path.
    """
    names = ("dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias")
    params = [arrays[name].copy() for name in names]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        w1, c1, w2, c2 = params
        pre = x @ w1 + c1
        hidden = np.maximum(pre, 0)
        logits = (hidden @ w2 + c2)[:, 0]
        dlogits = (1 / (1 + np.exp(-logits)) - y) / len(y)
        dhidden = dlogits[:, None] * w2[:, 0][None, :] * (pre > 0)
        grads = [x.T @ dhidden, dhidden.sum(0), hidden.T @ dlogits[:, None]]
        grads.append(np.array([dlogits.sum()]))
        step = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        for i, grad in enumerate(grads):
            first[i] = b1 * first[i] + (1 - b1) * grad
            second[i] = b2 * second[i] + (1 - b2) * grad * grad
            params[i] -= step * first[i] / (np.sqrt(second[i]) + eps)
    return dict(zip(names, params, strict=True))


def test_psi1_training_matches_numpy():
    params = Exp1Params()
    net = net_spec("Psi1")
    seed, epochs = 1, 500
    x, y = draw_training_set(net, params, seed)
    init_seed = _derived_seed(seed, net, 1) % 2**31
    models = make_ensemble(lambda key: ReluNet(4 * params.K, key=key), [init_seed])
    initial = relu_net_to_tf_arrays(jax.device_get(unstack(models, 0)))

    expected = _numpy_full_batch_adam(x, y, initial, epochs)
    trained = train_net_seeds("Psi1", [seed], params, epochs, "batches")[0]["arrays"]

    for name, value in expected.items():
        np.testing.assert_allclose(trained[name], value, rtol=0, atol=1e-11)

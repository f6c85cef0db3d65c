"""Experiment I data: f_a, S_eps, the authors' sampler and the probe sets."""

import numpy as np
import pytest

from falsestruct._exp1_data import (
    Exp1Params,
    f_a,
    g,
    in_S_eps,
    interval_bounds,
    probe_grid,
    probe_sets,
    sample_x1,
    stable_intervals,
    training_set,
)

PARAMS = Exp1Params()


def test_f_a_at_interval_edges():
    # Inside (a/(k+1), a/k) ceil(a/x1) = k + 1, so f_a = 1 iff k is even. At the
    # right edge x1 = a/k, a/x1 = k exactly and f_a = k mod 2.
    for k in range(PARAMS.a, PARAMS.K + 1):
        left, right = PARAMS.a / (k + 1), PARAMS.a / k
        inside = 0.5 * (left + right)
        assert f_a(np.array([inside]), PARAMS.a)[0] == int(k % 2 == 0)
        assert f_a(np.array([right]), PARAMS.a)[0] == k % 2


def test_f_a_known_values():
    assert f_a(np.array([1.0]), 20)[0] == 0  # ceil(20) = 20, even
    assert f_a(np.array([20 / 20.5]), 20)[0] == 1  # ceil(20.5) = 21
    assert f_a(np.array([20 / 26.5]), 20)[0] == 1  # ceil(26.5) = 27


def test_interval_bounds_cover_b_to_1():
    bounds = interval_bounds(PARAMS)
    assert bounds.shape == (PARAMS.n_intervals, 2)
    assert bounds[:, 1].max() == pytest.approx(1.0)
    assert bounds[:, 0].min() == pytest.approx(PARAMS.b)


def test_S_eps_excludes_jumps():
    jumps = PARAMS.a / np.arange(PARAMS.a, PARAMS.K + 2)
    assert not in_S_eps(jumps, PARAMS).any()
    assert not in_S_eps(jumps + 0.99 * PARAMS.eps, PARAMS).any()
    assert in_S_eps(stable_intervals(PARAMS).mean(axis=1), PARAMS).all()


def test_params_reject_invalid_values():
    with pytest.raises(ValueError, match="K"):
        Exp1Params(a=20, K=20)
    with pytest.raises(ValueError, match="eps"):
        Exp1Params(eps=0.1)
    with pytest.raises(ValueError, match="delta"):
        Exp1Params(delta=0.02)
    with pytest.raises(ValueError, match="delta"):
        Exp1Params(delta=0.0)


def test_sampler_equal_count_per_interval():
    rng = np.random.default_rng(0)
    x1 = sample_x1(700, PARAMS, rng)
    bounds = stable_intervals(PARAMS)
    counts = [np.sum((x1 > lo) & (x1 < hi)) for lo, hi in bounds]
    assert x1.shape == (700,)
    assert counts == [100] * PARAMS.n_intervals


def test_sampler_r7_one_per_interval():
    x1 = sample_x1(7, PARAMS, np.random.default_rng(3))
    bounds = stable_intervals(PARAMS)
    counts = [int(np.sum((x1 > lo) & (x1 < hi))) for lo, hi in bounds]
    assert counts == [1] * 7


def test_sampler_remainder_in_S_eps():
    x1 = sample_x1(5000, PARAMS, np.random.default_rng(1))
    assert x1.shape == (5000,)
    assert in_S_eps(x1, PARAMS).all()
    bounds = stable_intervals(PARAMS)
    counts = np.array([np.sum((x1 > lo) & (x1 < hi)) for lo, hi in bounds])
    # 5000 = 7 * 714 + 2: at least 714 per interval, 2 extra from Beta(1, 3).
    assert counts.min() >= 714
    assert counts.sum() == 5000


def test_sampler_rejects_bad_r():
    with pytest.raises(ValueError, match="r"):
        sample_x1(0, PARAMS, np.random.default_rng(0))


def test_training_set_delta_and_zero():
    x, y = training_set(70, PARAMS, np.random.default_rng(2), with_delta=True)
    assert x.shape == (70, 2)
    assert y.shape == (70,)
    np.testing.assert_array_equal(y, f_a(x[:, 0], PARAMS.a))
    np.testing.assert_array_equal(x[:, 1], PARAMS.delta * y)
    x0, _ = training_set(70, PARAMS, np.random.default_rng(2), with_delta=False)
    assert (x0[:, 1] == 0).all()


def test_probe_sets_c0_and_c_delta():
    x1 = probe_grid(PARAMS)
    assert x1.shape == (20_001,)
    assert x1[0] == pytest.approx(PARAMS.b)
    assert x1[-1] == 1.0
    c_0, c_delta = probe_sets(x1, PARAMS)
    assert (c_0[:, 1] == 0).all()
    np.testing.assert_array_equal(c_delta[:, 1], PARAMS.delta * f_a(x1, PARAMS.a))
    np.testing.assert_array_equal(g(c_0), 0)
    np.testing.assert_array_equal(g(c_delta), f_a(x1, PARAMS.a))

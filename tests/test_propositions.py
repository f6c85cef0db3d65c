"""Props. 3.2 and 3.4 checked on samples, and their severity."""

import numpy as np
import pytest

from falsestruct._exp1_data import Exp1Params, f_a, in_S_eps, training_set
from falsestruct._propositions import (
    check_prop32,
    check_prop34,
    describe_stripe_image,
    exp1_exact_severity,
    exp1_false_structure,
    exp1_original_structure,
    exp2_original_structure,
    in_m_tilde,
    is_horizontal,
    is_vertical,
    pixel_sum_structure,
    probe_c0_sampler,
    stripe_sampler,
    uniform_stable_sampler,
)
from falsestruct._stripes import stripe_images
from falsestruct._stripes import training_set as stripe_training_set
from falsestruct._structures import VERDICT_FALSE, VERDICT_NONE, check_false_structure

PARAMS = Exp1Params()


def _within(estimate, exact: float, sigmas: float = 4.0) -> bool:
    return abs(estimate.estimate - exact) < sigmas * np.sqrt(0.25 / estimate.n)


# Experiment I --------------------------------------------------------------


@pytest.fixture(scope="module")
def prop32():
    return check_prop32(PARAMS, r=500, n_samples=4000, seed=1)


def test_prop32_holds(prop32):
    assert prop32.holds
    assert prop32.report.verdict == VERDICT_FALSE
    assert prop32.report.train_mismatches == 0
    assert prop32.report.n_train == 500


def test_prop32_witnesses_in_c(prop32):
    witnesses = prop32.report.c_witnesses
    assert len(witnesses) == 3
    labels = f_a(witnesses[:, 0], PARAMS.a)
    g = (witnesses[:, 1] != 0).astype(np.int64)
    assert np.all(labels != g)
    assert np.all(in_S_eps(witnesses[:, 0], PARAMS))


def test_prop32_fails_on_t_zero():
    # On T^r_0 all x2 are 0, so g = 0 differs from f_a wherever f_a = 1.
    train, labels = training_set(
        200, PARAMS, np.random.default_rng(2), with_delta=False
    )
    report = check_false_structure(
        exp1_original_structure(PARAMS),
        exp1_false_structure(),
        train,
        uniform_stable_sampler(PARAMS),
        n_outside=500,
    )
    assert report.verdict == VERDICT_NONE
    assert report.train_mismatches == int(labels.sum())


def test_exact_severity_from_lengths():
    # Interval lengths a/(k(k+1)) - 2 eps, f_a = 0 for odd k = 21, 23, 25.
    k = np.arange(20, 27)
    lengths = 20 / (k * (k + 1.0)) - 0.02
    share_zero = lengths[k % 2 == 1].sum() / lengths.sum()
    exact = exp1_exact_severity(PARAMS)
    assert exact["uniform"] == pytest.approx(share_zero, abs=1e-12)
    assert exact["uniform"] == pytest.approx(0.421696, abs=1e-6)
    assert exact["c0"] == pytest.approx(1 - share_zero, abs=1e-12)


def test_prop32_severity_near_exact(prop32):
    assert _within(prop32.severity_uniform, prop32.exact["uniform"])
    assert _within(prop32.severity_c0, prop32.exact["c0"])
    assert prop32.severity_uniform.n_in_train == 0


def test_samplers_stay_in_s_eps():
    rng = np.random.default_rng(3)
    uniform = uniform_stable_sampler(PARAMS)(2000, rng)
    probe = probe_c0_sampler(PARAMS)(2000, rng)
    assert uniform.shape == (2000, 2)
    assert np.all(in_S_eps(uniform[:, 0], PARAMS))
    assert np.all((uniform[:, 1] >= 0) & (uniform[:, 1] < 1))
    assert np.all(in_S_eps(probe[:, 0], PARAMS))
    assert np.all(probe[:, 1] == 0)


def test_prop32_summary_and_dict(prop32):
    assert "Prop. 3.2" in prop32.summary()
    assert "Wilson interval" in prop32.summary()
    as_dict = prop32.to_dict()
    assert as_dict["holds"] is True
    assert as_dict["report"]["verdict"] == VERDICT_FALSE
    assert len(as_dict["report"]["c_witnesses"]) == 3


# Experiment II -------------------------------------------------------------


def _images(code: str, a: float = 0.005):
    directions = np.array([1, 1, 0, 0])
    positions = np.array([0, 29, 0, 29])
    return stripe_images(directions, positions, a, code), directions


def test_direction_predicates_match_stripes():
    for code in ("tilde", "hat"):
        images, directions = _images(code)
        assert is_horizontal(images).tolist() == (directions == 1).tolist()
        assert is_vertical(images).tolist() == (directions == 0).tolist()


def test_constant_image_is_a_gap():
    flat = np.zeros((1, 32, 32))
    assert not is_horizontal(flat)[0]
    assert not is_vertical(flat)[0]


def test_in_m_tilde_tells_codes_apart():
    assert in_m_tilde(_images("tilde")[0]).all()
    assert not in_m_tilde(_images("hat")[0]).any()


def test_pixel_sum_labels_tilde_right_hat_wrong():
    rule = pixel_sum_structure()
    for code, expected_equal in (("tilde", True), ("hat", False)):
        images, directions = _images(code)
        agrees = rule.label(images) == directions
        assert agrees.all() if expected_equal else not agrees.any()


def test_original_labels_match_training_set():
    images, labels = stripe_training_set(0.01, "paper")
    assert (
        exp2_original_structure().label(images).tolist() == labels.astype(int).tolist()
    )


def test_prop34_holds():
    result = check_prop34(n_samples=400, seed=5)
    assert result.holds
    assert result.report.verdict == VERDICT_FALSE
    assert result.report.c_count == 400
    assert result.training_set_mismatches == 0
    assert result.severity_tilde.hits == 0
    assert result.severity_tilde.n_in_train == 400
    assert result.severity_hat.hits == 400
    assert result.severity_hat.low > 0.99


def test_prop34_summary_describes_witnesses():
    text = check_prop34(n_samples=50, seed=6).summary()
    assert "witness in C: " in text
    assert "stripe at" in text


def test_describe_stripe_image():
    images, _ = _images("hat", a=0.01)
    text = describe_stripe_image(images[0])
    assert text.startswith("horizontal stripe at 0, background +0.010000")
    assert "pixel sum 106.2400" in text  # 96 + 1024 * 0.01


def test_stripe_sampler_rejects_bad_range():
    with pytest.raises(ValueError, match="a_min=0.02, a_max=0.01"):
        stripe_sampler("tilde", 0.02, 0.01)

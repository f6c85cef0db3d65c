"""Stripe images of Experiment II: colour codes, pixel sums, the authors' set."""

import numpy as np
import pytest

from falsestruct import _stripes as stripes

SIZE, WIDTH = 32, 3


@pytest.mark.parametrize("a", [0.01, 0.003, 0.2])
def test_training_set_pixel_sums(a):
    images, labels = stripes.training_set(a)
    sums = images.sum(axis=(1, 2))
    np.testing.assert_allclose(sums[labels == 1], 96 - 1024 * a, rtol=1e-12)
    np.testing.assert_allclose(sums[labels == 0], 96 + 1024 * a, rtol=1e-12)


def test_training_set_shape_and_order():
    images, labels = stripes.training_set()
    assert images.shape == (60, SIZE, SIZE)
    assert images.dtype == np.float64
    np.testing.assert_array_equal(labels, np.repeat([1.0, 0.0], 30))
    assert len({image.tobytes() for image in images}) == 60


def test_training_set_paper_has_vertical_stripes():
    images, labels = stripes.training_set(0.01, "paper")
    vertical = images[labels == 0]
    # Every row of a vertical-stripe image is the same.
    assert np.all(vertical == vertical[:, :1, :])
    assert not np.all(vertical == vertical[:, :, :1])
    np.testing.assert_allclose(vertical[0, 0, :3], 1.01)
    np.testing.assert_allclose(vertical[0, 0, 3:], 0.01)


def test_training_set_authors_bug():
    paper, labels = stripes.training_set(0.01, "paper")
    authors, authors_labels = stripes.training_set(0.01, "authors")
    np.testing.assert_array_equal(labels, authors_labels)
    np.testing.assert_array_equal(authors[labels == 1], paper[labels == 1])
    vertical_class = authors[labels == 0]
    # The vertical class is drawn with horizontal stripes: every column equal.
    assert np.all(vertical_class == vertical_class[:, :, :1])
    np.testing.assert_allclose(vertical_class[0, :3, 0], 1.01)
    np.testing.assert_allclose(vertical_class[0, 3:, 0], 0.01)
    # So the two classes differ only in the colour code, by 2a per pixel.
    np.testing.assert_allclose(vertical_class - authors[labels == 1], 0.02)


@pytest.mark.parametrize(
    "code, direction, stripe, background",
    [
        ("tilde", 1, 1 - 0.05, -0.05),
        ("tilde", 0, 1 + 0.05, 0.05),
        ("hat", 1, 1 + 0.05, 0.05),
        ("hat", 0, 1 - 0.05, -0.05),
    ],
)
def test_stripe_images_colour_codes(code, direction, stripe, background):
    image = stripes.stripe_images([direction], [4], [0.05], code)[0]
    on_stripe = image[4:7, :] if direction == 1 else image[:, 4:7]
    off_stripe = image[10:, :] if direction == 1 else image[:, 10:]
    np.testing.assert_allclose(on_stripe, stripe, rtol=1e-14)
    np.testing.assert_allclose(off_stripe, background, rtol=1e-14)
    assert np.count_nonzero(np.isclose(image, stripe)) == SIZE * WIDTH


def test_stripe_images_positions_at_edges():
    images = stripes.stripe_images([1, 0], [0, 29], [0.01, 0.01], "tilde")
    np.testing.assert_allclose(images[0, :3, :], 0.99)
    np.testing.assert_allclose(images[1, :, 29:], 1.01)


def test_test_set_draws():
    images, labels = stripes.test_set(2000, 0.006, 0.007, "tilde", seed=5)
    assert images.shape == (2000, SIZE, SIZE)
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert 0.45 < labels.mean() < 0.55
    # The pixel sum recovers each offset: 96 -/+ 1024 a on M-tilde.
    sums = images.sum(axis=(1, 2))
    offsets = np.where(labels == 1, 96 - sums, sums - 96) / 1024
    assert offsets.min() >= 0.006
    assert offsets.max() < 0.007 + 1e-12


def test_test_set_hat_reverses_sum_rule():
    images, labels = stripes.test_set(500, 0.009, 0.010, "hat", seed=1)
    sums = images.sum(axis=(1, 2))
    assert np.all(sums[labels == 1] > 96)
    assert np.all(sums[labels == 0] < 96)


def test_test_set_same_seed_same_images():
    first = stripes.test_set(100, 0.009, 0.010, "tilde", seed=7)
    second = stripes.test_set(100, 0.009, 0.010, "tilde", seed=7)
    third = stripes.test_set(100, 0.009, 0.010, "tilde", seed=8)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], third[0])


def test_test_set_ten_thousand_images():
    # A speed sanity check without a timing assert: this runs in well under a
    # second on one core and uses about 80 MB.
    images, labels = stripes.test_set(10_000, 0.0001, 0.0002, "hat", seed=0)
    assert images.shape == (10_000, SIZE, SIZE)
    assert labels.shape == (10_000,)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: stripes.training_set(0.0), r"`a` must lie in \(0, 0.5\), got 0.0"),
        (lambda: stripes.training_set(-0.01), r"`a` must lie in \(0, 0.5\)"),
        (lambda: stripes.training_set(0.5), r"`a` must lie in \(0, 0.5\), got 0.5"),
        (lambda: stripes.training_set(0.01, "typo"), r"`variant` must be one of"),
        (lambda: stripes.training_set(size=2, width=3), r"`size` must be >= `width`"),
        (lambda: stripes.training_set(width=0), r"`width` must be >= 1, got 0"),
        (lambda: stripes.test_set(0, 0.1, 0.2, "hat", seed=0), r"`n` must be >= 1"),
        (lambda: stripes.test_set(5, 0.2, 0.1, "hat", seed=0), r"0 < b < c"),
        (lambda: stripes.test_set(5, 0.1, 0.1, "hat", seed=0), r"got b=0.1, c=0.1"),
        (lambda: stripes.test_set(5, 0.0, 0.1, "hat", seed=0), r"0 < b < c"),
        (lambda: stripes.test_set(5, 0.1, 0.6, "hat", seed=0), r"c <= 0.5"),
        (lambda: stripes.test_set(5, 0.1, 0.2, "bar", seed=0), r"`code` must be"),
        (
            lambda: stripes.stripe_images([1], [30], [0.01], "tilde"),
            r"`positions` must lie in \[0, 29\]",
        ),
        (
            lambda: stripes.stripe_images([2], [0], [0.01], "tilde"),
            r"`directions` must contain only 1",
        ),
        (
            lambda: stripes.stripe_images([1, 0], [0], [0.01], "tilde"),
            r"1-D of equal length",
        ),
        (
            lambda: stripes.stripe_images([1], [0], [0.7], "tilde"),
            r"`offsets` must lie in \(0, 0.5\), got 0.7",
        ),
    ],
)
def test_invalid_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()

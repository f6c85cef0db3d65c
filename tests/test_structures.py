"""Structures, Definition 2.2 on samples, severity and the Wilson interval."""

import re
from pathlib import Path

import numpy as np
import pytest

from falsestruct._severity import severity, wilson_interval
from falsestruct._structures import (
    NO_CLASS,
    VERDICT_FALSE,
    VERDICT_NONE,
    VERDICT_PARTIAL,
    Structure,
    check_false_structure,
    draw_chunks,
    finite_set_membership,
    labels_from_truth,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "structures.md"


def _threshold(name: str, column: int, cut: float) -> Structure:
    """Binary structure on points (n, 2): class 1 iff x[:, column] > cut."""
    return Structure(
        name,
        [
            (f"x{column} <= {cut}", lambda x: x[:, column] <= cut),
            (f"x{column} > {cut}", lambda x: x[:, column] > cut),
        ],
    )


def _uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 1, (n, 2))


def _planted_train(n: int = 200, seed: int = 1) -> np.ndarray:
    """Points whose x1 equals f(x) = [x0 > 0.5], so 'x1 > 0.5' fits T."""
    x = np.random.default_rng(seed).uniform(0, 1, (n, 2))
    x[:, 1] = (x[:, 0] > 0.5).astype(np.float64)
    return x


def _thirds(x: np.ndarray) -> np.ndarray:
    return np.minimum((x[:, 0] * 3).astype(np.int64), 2)


def _three_class_original() -> Structure:
    return Structure(
        "thirds of x0",
        [(f"x0 in third {j}", lambda x, j=j: _thirds(x) == j) for j in range(3)],
    )


def _three_class_partial() -> Structure:
    """Class 2 as the original; classes 0 and 1 split by x1 instead of x0."""
    low = lambda x: _thirds(x) < 2  # noqa: E731
    return Structure(
        "x1 split",
        [
            ("x0 < 2/3 and x1 < 0.5", lambda x: low(x) & (x[:, 1] < 0.5)),
            ("x0 < 2/3 and x1 >= 0.5", lambda x: low(x) & (x[:, 1] >= 0.5)),
            ("x0 in third 2", lambda x: _thirds(x) == 2),
        ],
    )


# Wilson score interval -----------------------------------------------------


def test_wilson_half_of_ten():
    # By hand: z = 1.959964, z^2/n = 0.3841459, centre 0.692073,
    # half width 0.364594, both divided by 1.3841459.
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.236593, abs=1e-6)
    assert high == pytest.approx(0.763407, abs=1e-6)


def test_wilson_zero_hits():
    # hits = 0: the upper end is z^2 / (n + z^2) = 3.841459 / 13.841459.
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.277533, abs=1e-6)


def test_wilson_all_hits_mirrors_zero():
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(1 - 0.277533, abs=1e-6)
    assert high == 1.0


def test_wilson_confidence_99():
    # z = 2.575829 at 99 %: upper end z^2 / (n + z^2) with n = 100.
    z2 = 2.575829**2
    _, high = wilson_interval(0, 100, confidence=0.99)
    assert high == pytest.approx(z2 / (100 + z2), abs=1e-6)


@pytest.mark.parametrize(
    ("hits", "n", "confidence", "match"),
    [
        (1, 0, 0.95, "`n`"),
        (11, 10, 0.95, "`hits`"),
        (-1, 10, 0.95, "`hits`"),
        (1, 10, 1.0, "`confidence`"),
    ],
)
def test_wilson_rejects_bad_input(hits, n, confidence, match):
    with pytest.raises(ValueError, match=match):
        wilson_interval(hits, n, confidence)


# Structures and partitions -------------------------------------------------


def test_labels_from_truth_marks_overlaps_and_gaps():
    truth = np.array([[True, False], [False, True], [True, True], [False, False]])
    assert labels_from_truth(truth).tolist() == [0, 1, NO_CLASS, NO_CLASS]


def test_structure_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2"):
        Structure("one", [("all", lambda x: np.ones(len(x), bool))])


def test_predicate_wrong_shape_rejected():
    broken = Structure("broken", [("a", lambda x: x[:, 0] > 0), ("b", lambda x: x > 0)])
    with pytest.raises(ValueError, match="'b' of structure 'broken' must return shape"):
        broken.truth_table(np.zeros((4, 2)))


def test_predicate_wrong_dtype_rejected():
    broken = Structure(
        "broken", [("a", lambda x: x[:, 0]), ("b", lambda x: x[:, 1] > 0)]
    )
    with pytest.raises(ValueError, match="must return a bool array"):
        broken.truth_table(np.zeros((4, 2)))


def test_class_count_mismatch_rejected():
    with pytest.raises(ValueError, match="equal class counts"):
        check_false_structure(
            _threshold("f", 0, 0.5),
            _three_class_partial(),
            _planted_train(),
            _uniform,
            n_outside=10,
        )


# Definition 2.2 ------------------------------------------------------------


def test_planted_feature_is_false_structure():
    original, candidate = _threshold("f", 0, 0.5), _threshold("g", 1, 0.5)
    report = check_false_structure(
        original, candidate, _planted_train(), _uniform, n_outside=1000, n_witnesses=4
    )
    assert report.verdict == VERDICT_FALSE
    assert report.condition_1
    assert report.condition_2
    assert report.differing_classes == (0, 1)
    assert report.n_train == 200
    assert report.n_outside == 1000
    # About half of the uniform points have f != g.
    assert 400 < report.c_count < 600


def test_witnesses_lie_in_c():
    original, candidate = _threshold("f", 0, 0.5), _threshold("g", 1, 0.5)
    train = _planted_train()
    report = check_false_structure(
        original,
        candidate,
        train,
        _uniform,
        n_outside=1000,
        n_witnesses=4,
        in_train=finite_set_membership(train),
    )
    witnesses = report.c_witnesses
    assert witnesses.shape == (4, 2)
    assert np.all(original.label(witnesses) != candidate.label(witnesses))
    assert not np.any(finite_set_membership(train)(witnesses))


def test_witness_count_limited():
    original, candidate = _threshold("f", 0, 0.5), _threshold("g", 1, 0.5)
    report = check_false_structure(
        original,
        candidate,
        _planted_train(),
        _uniform,
        n_outside=5000,
        n_witnesses=2,
        chunk_size=100,
    )
    assert len(report.c_witnesses) == 2


def test_partial_false_structure():
    rng = np.random.default_rng(2)
    train = rng.uniform(0, 1, (300, 2))
    # Plant x1 so that the x1 split agrees with the thirds of x0 on T.
    train[:, 1] = np.where(_thirds(train) == 1, 0.75, 0.25)
    report = check_false_structure(
        _three_class_original(), _three_class_partial(), train, _uniform, n_outside=2000
    )
    assert report.verdict == VERDICT_PARTIAL
    assert report.differing_classes == (0, 1)
    assert report.predicate_differences[2] == 0


def test_identical_structure_is_not_false():
    report = check_false_structure(
        _threshold("f", 0, 0.5),
        _threshold("same as f", 0, 0.5),
        _planted_train(),
        _uniform,
        n_outside=500,
    )
    assert report.verdict == VERDICT_NONE
    assert not report.condition_2
    assert report.differing_classes == ()
    assert "no sample of M \\ T lies in C" in report.reasons


def test_disagreement_on_train_fails_condition_1():
    train = _planted_train()
    train[:10, 1] = 1 - train[:10, 1]  # ten points where x1 no longer equals f
    report = check_false_structure(
        _threshold("f", 0, 0.5), _threshold("g", 1, 0.5), train, _uniform, n_outside=500
    )
    assert report.verdict == VERDICT_NONE
    assert report.train_mismatches == 10
    assert len(report.train_mismatch_witnesses) == 5
    assert "g != f on 10 samples of T" in report.reasons


def test_overlaps_and_gaps_reported():
    sloppy = Structure(
        "sloppy",
        [("x0 < 0.6", lambda x: x[:, 0] < 0.6), ("x0 > 0.8", lambda x: x[:, 0] > 0.8)],
    )
    overlapping = Structure(
        "overlapping",
        [("x1 < 0.6", lambda x: x[:, 1] < 0.6), ("x1 > 0.4", lambda x: x[:, 1] > 0.4)],
    )
    outside = np.array([[0.7, 0.5], [0.1, 0.5], [0.9, 0.1], [0.65, 0.9]])
    report = check_false_structure(sloppy, overlapping, outside[:1], outside[1:])
    assert report.original_partition.gaps == 2  # x0 = 0.7 and x0 = 0.65
    assert report.original_partition.overlaps == 0
    assert report.candidate_partition.overlaps == 2  # x1 = 0.5 twice
    assert report.candidate_partition.gaps == 0
    np.testing.assert_array_equal(
        report.candidate_partition.overlap_witnesses[:, 1], 0.5
    )
    assert report.verdict == VERDICT_NONE
    assert any("'sloppy' are not a partition" in r for r in report.reasons)


def test_labelling_mismatch_reported():
    wrong = Structure(
        "wrong labels",
        [
            ("x1 <= 0.5", lambda x: x[:, 1] <= 0.5),
            ("x1 > 0.5", lambda x: x[:, 1] > 0.5),
        ],
        labelling=lambda x: np.zeros(len(x), np.int64),
    )
    report = check_false_structure(
        _threshold("f", 0, 0.5), wrong, _planted_train(), _uniform, n_outside=100
    )
    assert report.candidate_partition.labelling_mismatches > 0
    assert not report.candidate_partition.holds


def test_outside_samples_in_train_skipped():
    train = _planted_train()
    outside = np.concatenate([train, np.random.default_rng(3).uniform(0, 1, (50, 2))])
    report = check_false_structure(
        _threshold("f", 0, 0.5),
        _threshold("g", 1, 0.5),
        train,
        outside,
        in_train=finite_set_membership(train),
    )
    assert report.n_outside == 250
    assert report.n_outside_in_train == 200


def test_summary_names_verdict_and_counts():
    report = check_false_structure(
        _threshold("f", 0, 0.5),
        _threshold("g", 1, 0.5),
        _planted_train(),
        _uniform,
        n_outside=100,
    )
    text = report.summary()
    assert "'g' vs original 'f': false structure" in text
    assert "0 of 200 samples of T differ" in text
    assert "witness in C:" in text


def test_sampler_wrong_count_rejected():
    with pytest.raises(ValueError, match="asked for 5 samples returned shape"):
        list(
            draw_chunks(lambda n, rng: np.zeros((n + 1, 2)), 5, np.random.default_rng())
        )


def test_sampler_needs_count():
    with pytest.raises(ValueError, match="sample count must be >= 1"):
        list(draw_chunks(_uniform, None, np.random.default_rng()))


# Severity ------------------------------------------------------------------


def test_severity_of_known_band():
    # f: x0 > 0.5, g: x0 > 0.7, so C = {0.5 < x0 <= 0.7} and P(C) = 0.2.
    estimate = severity(
        _threshold("f", 0, 0.5),
        _threshold("g", 0, 0.7),
        _uniform,
        20_000,
        seed=4,
        chunk_size=3000,
    )
    assert estimate.n == 20_000
    assert abs(estimate.estimate - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 20_000)
    assert estimate.low < estimate.estimate < estimate.high
    assert (estimate.low, estimate.high) == wilson_interval(estimate.hits, 20_000)


def test_severity_excludes_train():
    estimate = severity(
        _threshold("f", 0, 0.5),
        _threshold("g", 0, 0.7),
        _uniform,
        1000,
        in_train=lambda x: np.ones(len(x), bool),
    )
    assert estimate.hits == 0
    assert estimate.n_in_train == 1000


# The documented example ----------------------------------------------------


def test_docs_example_runs():
    code = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    assert code, f"no python code block in {DOCS}"
    namespace: dict = {}
    exec(compile(code[0], str(DOCS), "exec"), namespace)
    assert namespace["report"].verdict == VERDICT_FALSE
    assert 0.45 < namespace["estimate"].estimate < 0.55

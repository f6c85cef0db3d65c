"""Prop. 3.3: the printed network of the proof, the corrected one, and the CLI."""

import argparse
import json
import math

import numpy as np
import pytest

from falsestruct import _check_cli
from falsestruct._exp1_data import (
    Exp1Params,
    f_a,
    in_S_eps,
    interval_bounds,
    probe_grid,
)
from falsestruct._prop33 import (
    Prop33Config,
    check_prop33,
    cross_entropy,
    evaluate,
    logit_scale,
    printed_peak,
    prop33_network,
    trapezoid_network,
)
from falsestruct._propositions import uniform_stable_sampler

PARAMS = Exp1Params()


@pytest.fixture(scope="module")
def paper_result():
    return check_prop33(Prop33Config(n_random_sets=2))


def _phi(form: str, x1) -> np.ndarray:
    x1 = np.asarray(x1, np.float64)
    points = np.stack([x1, np.zeros_like(x1)], axis=1)
    return evaluate(trapezoid_network(PARAMS, form), points)


# Network layout ------------------------------------------------------------


@pytest.mark.parametrize("form", ["printed", "corrected"])
def test_network_layout(form):
    psi = prop33_network(PARAMS, eta=0.01, r=100, form=form)
    weight = np.asarray(psi.hidden.weight)
    assert weight.shape == (104, 2)  # hidden width 4K
    assert np.all(weight[:, 1] == 0)  # x2 is ignored
    assert np.all(weight[28:] == 0)  # 4 units for each of 7 intervals
    assert np.all(np.asarray(psi.output.weight)[0, 28:] == 0)


def test_width_below_units_rejected():
    with pytest.raises(ValueError, match="`width` must be >= 4 \\(K - a \\+ 1\\) = 28"):
        trapezoid_network(PARAMS, "corrected", width=20)


def test_unknown_form_rejected():
    with pytest.raises(ValueError, match="`form` must be one of printed, corrected"):
        trapezoid_network(PARAMS, "paper")


# Trapezoid shapes ----------------------------------------------------------


def test_printed_half_at_s_eps_edges():
    # k = 20 is wide enough for a plateau: 1/2 at c and d, 1 only from c + eps.
    c, d = 20 / 21 + 0.01, 1.0 - 0.01
    values = _phi("printed", [c, c + 0.01, d - 0.01, d])
    np.testing.assert_allclose(values, [0.5, 1.0, 1.0, 0.5], atol=1e-12)


def test_corrected_ramps_end_at_interval_edges():
    for k in (20, 22, 24, 26):
        lower, upper = 20 / (k + 1), 20 / k
        values = _phi("corrected", [lower, lower + 0.01, upper - 0.01, upper])
        np.testing.assert_allclose(values, [0, 1, 1, 0], atol=1e-12)


def test_corrected_zero_on_odd_intervals():
    for lower, upper in interval_bounds(PARAMS)[1::2]:  # k = 21, 23, 25
        x1 = np.linspace(lower, upper, 101)
        np.testing.assert_allclose(_phi("corrected", x1), 0, atol=1e-12)


def test_printed_peak_k26(paper_result):
    # w = 20 / (26 * 27) = 0.028490, peak w / (2 eps) - 1 = 0.424501.
    peak = paper_result.printed.peaks[26 - 20]
    assert peak == pytest.approx(0.425, abs=1e-3)
    assert peak == pytest.approx(20 / (26 * 27) / 0.02 - 1, abs=1e-9)
    assert peak < 0.5
    assert paper_result.printed.worst_interval == 26


def test_printed_peaks_follow_formula(paper_result):
    k = np.arange(20, 27)
    ones = k % 2 == 0
    expected = printed_peak(PARAMS, k)
    np.testing.assert_allclose(
        paper_result.printed.peaks[ones], expected[ones], atol=1e-9
    )
    np.testing.assert_allclose(paper_result.printed.peaks[~ones], 0, atol=1e-12)


# Classification on the grid ------------------------------------------------


def test_printed_misses_only_k26(paper_result):
    printed = paper_result.printed
    per_interval = printed.misclassified_per_interval
    assert per_interval[:6].tolist() == [0] * 6
    assert per_interval[6] == printed.grid_points_per_interval[6]
    assert per_interval[6] > 0
    assert paper_result.printed_matches_erratum


def test_corrected_equals_f_a_on_grid(paper_result):
    corrected = paper_result.corrected
    assert corrected.misclassified == 0
    assert corrected.agreement == 1.0
    # The S_eps part of 20 001 grid points in [b, 1], times 4 values of x2.
    x1 = probe_grid(PARAMS, 20_001)
    assert corrected.grid_points == 4 * int(in_S_eps(x1, PARAMS).sum())


def test_corrected_ignores_x2(paper_result):
    assert paper_result.corrected.x2_max_change == 0
    assert paper_result.corrected.ignores_x2


def test_corrected_peaks_are_one(paper_result):
    np.testing.assert_allclose(paper_result.corrected.peaks[::2], 1, atol=1e-12)


def test_paper_values_hold(paper_result):
    assert paper_result.corrected_holds
    assert paper_result.holds


# Cross-entropy bound -------------------------------------------------------


@pytest.mark.parametrize(
    ("eta", "r"), [(0.01, 10_000), (1e-3, 7), (1.0, 1), (50.0, 10)]
)
def test_logit_scale_bounds_point_loss(eta, r):
    scale = logit_scale(eta, r)
    assert math.log1p(math.exp(-scale)) < eta / r
    assert scale > 0


def test_logit_scale_is_tight():
    # Without the margin of 0.001 the bound would be an equality.
    scale = logit_scale(0.01, 10_000, margin=1e-3)
    assert scale == pytest.approx(-math.log(math.expm1(1e-6)) + 1e-3, rel=1e-12)


@pytest.mark.parametrize(
    ("eta", "r", "match"),
    [
        (0.0, 10, "`eta`"),
        (float("inf"), 10, "`eta`"),
        (0.1, 0, "`r`"),
        (0.1, 2.5, "`r`"),
    ],
)
def test_logit_scale_rejects_bad_input(eta, r, match):
    with pytest.raises(ValueError, match=match):
        logit_scale(eta, r)


def test_worst_case_cross_entropy_below_eta(paper_result):
    assert paper_result.corrected.worst_case_ce <= 0.01
    assert paper_result.printed.worst_case_ce > 0.01


@pytest.mark.parametrize(("eta", "r"), [(1e-3, 7), (0.01, 5000), (2.0, 300)])
def test_random_sets_below_eta(eta, r):
    psi = prop33_network(PARAMS, eta=eta, r=r)
    rng = np.random.default_rng(r)
    for _ in range(3):
        x = uniform_stable_sampler(PARAMS)(r, rng)
        total = cross_entropy(evaluate(psi, x), f_a(x[:, 0], PARAMS.a)).sum()
        assert total <= eta


def test_smaller_eps_printed_still_matches_erratum():
    # eps = 0.003: every interval is wider than 3 eps, so nothing is missed.
    config = Prop33Config(
        params=Exp1Params(eps=0.003), n_grid=4001, n_random_sets=1, r=100
    )
    result = check_prop33(config)
    assert result.printed.misclassified == 0
    assert result.printed_matches_erratum
    assert result.corrected_holds


def test_config_rejects_bad_x2():
    with pytest.raises(ValueError, match="`x2_values` must lie in \\[0, 1\\]"):
        Prop33Config(x2_values=(0.0, 2.0))


# falsestruct check ---------------------------------------------------------


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="falsestruct check")
    experiments = parser.add_subparsers(dest="experiment", required=True)
    for name in ("experiment1", "experiment2"):
        sub = experiments.add_parser(name)
        _check_cli.add_check_options(sub, name)
    return parser


def test_check_experiment1_text(capsys):
    args = _check_parser().parse_args(
        ["experiment1", "--samples", "2000", "--r", "500"]
    )
    assert _check_cli.check(args) == 0
    text = capsys.readouterr().out
    assert "worst interval k=26, peak of its trapezoid 0.424501" in text
    assert "agreement with f_a 1.000000" in text
    assert "experiment1: all checks hold" in text


def test_check_experiment2_json(capsys):
    args = _check_parser().parse_args(["experiment2", "--samples", "1000", "--json"])
    assert _check_cli.check(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["holds"] is True
    assert result["prop34"]["severity_tilde"]["hits"] == 0
    assert result["prop34"]["severity_hat"]["hits"] == 1000


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["experiment1", "--eps", "0.05"], "--eps must lie in"),
        (["experiment1", "--eta", "-1"], "--eta must be"),
        (["experiment1", "--samples", "0"], "--samples must be >= 1000, so that"),
        (["experiment2", "--offset-max", "0.6"], "0 < min < max < 0.5"),
    ],
)
def test_check_rejects_bad_options(argv, match):
    args = _check_parser().parse_args(argv)
    with pytest.raises(ValueError, match=match):
        _check_cli.build_config(args)


def test_check_through_main(capsys):
    pytest.importorskip("falsestruct._exp2_cli", reason="experiment modules missing")
    from falsestruct.cli import main

    assert main(["check", "experiment1", "--eps", "0.05"]) == 2
    assert "falsestruct: error: --eps must lie in" in capsys.readouterr().err

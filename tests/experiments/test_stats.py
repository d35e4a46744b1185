"""Confidence intervals over seeds: Student's t quantile against published table values, the
t-interval by hand, and the overlap rule for calling a result better."""

from __future__ import annotations

import math

import pytest

from octopus.experiments.stats import Interval, compare, interval, t_quantile


@pytest.mark.parametrize("df, table", [
    # t(0.975, df) from any statistics table (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2)
    (1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (9, 2.262), (29, 2.045), (100, 1.984),
])
def test_t_quantile_matches_the_table(df, table):
    """The 97.5% quantile equals the table to its three decimals; the 2.5% one is its
    negative."""
    assert t_quantile(0.975, df) == pytest.approx(table, abs=5e-4)
    assert t_quantile(0.025, df) == pytest.approx(-t_quantile(0.975, df))


def test_t_quantile_tends_to_the_normal():
    """With many degrees of freedom the quantile approaches the normal's 1.95996."""
    assert t_quantile(0.975, 100_000) == pytest.approx(1.959964, abs=1e-4)


def test_interval_by_hand():
    """Five values 1..5: mean 3, s = sqrt(2.5), half width t(0.975, 4) * s / sqrt(5)."""
    ci = interval([1, 2, 3, 4, 5])
    half = t_quantile(0.975, 4) * math.sqrt(2.5) / math.sqrt(5)
    assert (ci.mean, ci.n) == (3.0, 5)
    assert ci.low == pytest.approx(3 - half) and ci.high == pytest.approx(3 + half)
    assert ci.half_width == pytest.approx(half)
    assert interval([2.0, 2.0, 2.0]) == Interval(2.0, 2.0, 2.0, 3)
    assert interval([7.0]) == Interval(7.0, 7.0, 7.0, 1)


def test_a_lower_confidence_gives_a_narrower_interval():
    assert interval([1, 2, 3, 4], 0.8).half_width < interval([1, 2, 3, 4], 0.95).half_width


def test_better_needs_intervals_that_do_not_overlap():
    """Only disjoint intervals decide; touching or overlapping ones tie."""
    a, b = Interval(10, 9, 11, 5), Interval(7, 6, 8, 5)
    assert compare(a, b) == "better" and compare(b, a) == "worse"
    assert compare(a, Interval(8.5, 7, 9, 5)) == "tie"
    assert compare(a, a) == "tie"


@pytest.mark.parametrize("values, confidence, match", [
    ([], 0.95, "no values"), ([1.0, math.inf], 0.95, "finite"), ([1.0, 2.0], 1.0, "confidence"),
])
def test_bad_input_raises(values, confidence, match):
    with pytest.raises(ValueError, match=match):
        interval(values, confidence)


def test_bad_quantile_arguments_raise():
    with pytest.raises(ValueError, match="p must"):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError, match="degrees"):
        t_quantile(0.9, 0)

"""Scores with their uncertainty: Wilson intervals, McNemar's exact test, paired differences."""

from __future__ import annotations

import pytest

from codenook.assist.eval.fim import edit_similarity
from codenook.assist.eval.stats import binomial_two_sided, compare, wilson


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0
    assert wilson(0, 0) == (0.0, 0.0)


def test_mcnemar_exact_p_values() -> None:
    assert binomial_two_sided(0, 8) == pytest.approx(2 / 256)
    assert binomial_two_sided(3, 6) == 1.0
    assert binomial_two_sided(1, 10) == pytest.approx(22 / 1024)
    assert binomial_two_sided(0, 0) == 1.0


def test_paired_comparison_uses_only_common_tasks() -> None:
    a = {f"t{i}": (i < 6, float(i < 6)) for i in range(10)}
    b = {f"t{i}": (i < 2, float(i < 2)) for i in range(12)}
    c = compare(a, b, graded=False)
    assert (c.common, c.only_a, c.only_b) == (10, 4, 0)
    assert c.difference == pytest.approx(0.4) and c.low < 0.4 < c.high
    assert c.p_value == pytest.approx(2 / 16)
    assert "+40.0 points" in c.sentence() and "could be chance" in c.sentence()
    same = compare(a, a, graded=False)
    assert (same.difference, same.p_value) == (0.0, 1.0)


def test_graded_comparison_of_scores() -> None:
    a = {f"t{i}": (False, 0.9) for i in range(20)}
    b = {f"t{i}": (False, 0.5 + 0.01 * i) for i in range(20)}
    c = compare(a, b, graded=True)
    assert c.measure == "mean score"
    assert c.difference == pytest.approx(0.9 - 0.595) and c.p_value < 0.001


def test_edit_similarity() -> None:
    assert edit_similarity("return x", "return x") == 1.0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("", "abc") == 0.0


def test_an_all_one_way_difference_keeps_a_real_interval() -> None:
    a = {f"t{i}": (True, 1.0) for i in range(5)}
    b = {f"t{i}": (False, 0.0) for i in range(5)}
    c = compare(a, b, graded=False)
    assert c.difference == 1.0
    assert 0.2 < c.low < 0.8 and c.high == 1.0  # five tasks cannot prove a sure thing

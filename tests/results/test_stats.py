"""A/B and lift statistics against values worked out another way (the chi-square of the 2x2 table; by hand)."""

import math

import pytest

from reengage.results import stats
from tests.support.results import chi_square_p


@pytest.mark.parametrize(("a", "b"), [((120, 1000), (150, 1000)), ((30, 400), (31, 410)), ((5, 40), (14, 38)),
                                      ((800, 5000), (700, 5000))])
def test_the_p_value_equals_the_chi_square_tests(a, b):
    compared = stats.compare(*a, *b)
    assert compared.p_value == pytest.approx(chi_square_p(*a, *b), rel=1e-9)


def test_verdicts_read_plainly():
    assert stats.compare(120, 1000, 150, 1000).verdict == "B is better with 95% confidence"
    assert stats.compare(30, 400, 31, 410).verdict == "no difference yet"
    assert stats.compare(800, 5000, 700, 5000).verdict == "A is better with 99.4% confidence"
    assert stats.compare(0, 0, 3, 10).verdict == "no difference yet"
    assert stats.compare(0, 10, 0, 10).p_value is None


def test_lift_over_the_holdout_with_its_interval():
    lifted = stats.lift(90, 600, 10, 200)  # 15% treated, 5% held out
    assert lifted.absolute == pytest.approx(0.10) and lifted.relative == pytest.approx(2.0)
    margin = 1.959963984540054 * math.sqrt(0.15 * 0.85 / 600 + 0.05 * 0.95 / 200)
    assert (lifted.low, lifted.high) == (pytest.approx(0.10 - margin), pytest.approx(0.10 + margin))
    assert stats.lift(5, 50, 0, 0).absolute is None and stats.lift(5, 50, 0, 20).relative is None

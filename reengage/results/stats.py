"""The statistics results are judged by: two proportions compared (A/B), and lift over a holdout group.

Both use the normal approximation: the two-proportion z-test with a pooled rate for A/B, and a
Wald interval for the difference of two rates for lift. Fine at the sizes where a verdict matters;
with few contacts the verdict stays "no difference yet" and the interval is wide.
"""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal
ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    rate_a: float | None
    rate_b: float | None
    z: float | None
    p_value: float | None
    verdict: str


@dataclass(frozen=True)
class Lift:
    treated_rate: float | None
    held_out_rate: float | None
    absolute: float | None
    relative: float | None
    low: float | None
    high: float | None


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def compare(hits_a: int, total_a: int, hits_b: int, total_b: int, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """A against B: each rate, the pooled z statistic, its two-sided p-value and a plain verdict naming the better."""
    rate_a, rate_b = _rate(hits_a, total_a), _rate(hits_b, total_b)
    if rate_a is None or rate_b is None:
        return Comparison(rate_a, rate_b, None, None, "no difference yet")
    pooled = (hits_a + hits_b) / (total_a + total_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / total_a + 1 / total_b))
    if spread == 0:
        return Comparison(rate_a, rate_b, None, None, "no difference yet")
    z = (rate_b - rate_a) / spread
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return Comparison(rate_a, rate_b, z, p_value, verdict(z, p_value, names))


def verdict(z: float, p_value: float, names: tuple[str, str] = ("A", "B")) -> str:
    """'no difference yet', or which of the two is better and with what confidence."""
    if p_value >= ALPHA:
        return "no difference yet"
    better = names[1] if z > 0 else names[0]
    return f"{better} is better with {math.floor((1 - p_value) * 1000) / 10:g}% confidence"


def lift(treated_hits: int, treated: int, held_hits: int, held: int) -> Lift:
    """The treated rate over the held-out rate: absolute and relative lift, and a 95% interval of the absolute."""
    treated_rate, held_rate = _rate(treated_hits, treated), _rate(held_hits, held)
    if treated_rate is None or held_rate is None:
        return Lift(treated_rate, held_rate, None, None, None, None)
    absolute = treated_rate - held_rate
    margin = Z95 * math.sqrt(treated_rate * (1 - treated_rate) / treated + held_rate * (1 - held_rate) / held)
    relative = absolute / held_rate if held_rate else None
    return Lift(treated_rate, held_rate, absolute, relative, absolute - margin, absolute + margin)

"""Scores with their uncertainty: a Wilson interval for one run, a paired test for two."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The 95% Wilson score interval of a pass rate (0, 0 for no tasks)."""
    if total <= 0:
        return 0.0, 0.0
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n trials at p = 1/2 (McNemar's exact test)."""
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(0, min(k, n - k) + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Comparison:
    """Run A against run B on the tasks both finished."""

    common: int
    a_score: float
    b_score: float
    #: Tasks only A passed, and only B passed (the discordant pairs).
    only_a: int
    only_b: int
    difference: float
    low: float
    high: float
    p_value: float
    #: "pass rate" (paired McNemar) or "mean score" (paired normal interval).
    measure: str

    def sentence(self) -> str:
        """One line: the difference, its interval, and whether it could be chance."""
        pct = self.measure == "pass rate"
        fmt = (lambda v: f"{100 * v:+.1f} points") if pct else (lambda v: f"{v:+.3f}")
        verdict = "likely real" if self.p_value < 0.05 else "could be chance"
        return (
            f"A - B = {fmt(self.difference)} on {self.common} common tasks "
            f"(95% interval {fmt(self.low)} to {fmt(self.high)}; p = {self.p_value:.3g}, "
            f"{verdict})"
        )


def compare(
    a: Mapping[str, tuple[bool, float]], b: Mapping[str, tuple[bool, float]], *, graded: bool
) -> Comparison:
    """Compare two runs' (passed, score) per task id, paired on the tasks both hold.

    Pass/fail suites: McNemar's exact test on the discordant pairs and the Agresti-Min
    interval of the paired difference. Graded suites (``graded``: edit similarity): the mean paired
    difference of scores with a normal interval.
    """
    common = sorted(set(a) & set(b))
    n = len(common)
    if n == 0:
        return Comparison(0, 0.0, 0.0, 0, 0, 0.0, 0.0, 0.0, 1.0, "pass rate")
    only_a = sum(1 for t in common if a[t][0] and not b[t][0])
    only_b = sum(1 for t in common if b[t][0] and not a[t][0])
    if not graded:
        a_rate = sum(a[t][0] for t in common) / n
        b_rate = sum(b[t][0] for t in common) / n
        d = (only_a - only_b) / n
        # Agresti-Min: half a task added to each cell of the paired table, so that the
        # interval does not shrink to a point when all discordant tasks go one way.
        p10, p01 = (only_a + 0.5) / (n + 2), (only_b + 0.5) / (n + 2)
        centre = p10 - p01
        half = Z95 * math.sqrt(max(p10 + p01 - centre**2, 0.0) / (n + 2))
        low, high = max(-1.0, centre - half), min(1.0, centre + half)
        p = binomial_two_sided(only_a, only_a + only_b)
        return Comparison(n, a_rate, b_rate, only_a, only_b, d, low, high, p, "pass rate")
    diffs = [a[t][1] - b[t][1] for t in common]
    mean = sum(diffs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in diffs) / (n - 1)) if n > 1 else 0.0
    half = Z95 * sd / math.sqrt(n)
    z = mean / (sd / math.sqrt(n)) if sd > 0 else (0.0 if mean == 0 else math.inf)
    p = math.erfc(abs(z) / math.sqrt(2)) if math.isfinite(z) else 0.0
    a_mean = sum(a[t][1] for t in common) / n
    b_mean = sum(b[t][1] for t in common) / n
    return Comparison(n, a_mean, b_mean, only_a, only_b, mean, mean - half, mean + half, p,
                      "mean score")  # fmt: skip

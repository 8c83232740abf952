"""Confidence intervals for an audience size estimated from a sample of profiles.

The sample is ``n`` whole profiles out of ``N`` (chosen by a hash of the profile id, which given
``n`` is a simple random sample without replacement), of which ``m`` match. The proportion's
interval is the **Wilson** score interval, or the exact **Clopper-Pearson** interval when few
profiles match (or few do not), where Wilson's coverage drops below the nominal level. Both use
a finite-population correction: a sample that is a large share of the store is worth more than
the same number drawn from an infinite one. The correction is applied through the effective
sample size ``n * (N - 1) / (N - n)`` (the sample size whose binomial variance equals the
hypergeometric one), which collapses the interval to the exact count when the whole store is
read. No scipy: the beta quantile Clopper-Pearson needs is computed here by Newton's method,
safeguarded by bisection, on the regularized incomplete beta function (a continued fraction,
Lentz's method).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["FEW_MATCHES", "Interval", "beta_quantile", "interval", "regularized_beta"]

#: Below this many matching (or non-matching) profiles, Clopper-Pearson replaces Wilson.
FEW_MATCHES = 10


@dataclass(frozen=True)
class Interval:
    """A proportion's estimate and confidence interval, and the method that gave it."""

    proportion: float
    lower: float
    upper: float
    standard_error: float
    method: str  # "wilson", "clopper-pearson" or "exact" (the whole store was read)


def interval(matched: int, read: int, total: int, *, confidence: float = 0.95,
             method: str = "auto") -> Interval:
    """The interval for the share of ``total`` profiles matching, from ``matched`` of ``read``.

    ``method`` is ``auto`` (Wilson, Clopper-Pearson when fewer than :data:`FEW_MATCHES` profiles
    match or fail to match), ``wilson`` or ``clopper-pearson``.
    """
    if method not in ("auto", "wilson", "clopper-pearson"):
        raise ValueError(f"unknown interval method {method!r}")
    if not 0 <= matched <= read <= total:
        raise ValueError(f"need 0 <= matched ({matched}) <= read ({read}) <= total ({total})")
    if read == 0:
        return Interval(0.0, 0.0, 1.0, math.nan, method if method != "auto" else "wilson")
    p = matched / read
    if read >= total:
        return Interval(p, p, p, 0.0, "exact")
    fpc2 = (total - read) / (total - 1) if total > 1 else 0.0
    n_eff = read / fpc2
    m_eff = p * n_eff
    standard_error = math.sqrt(p * (1 - p) / read * fpc2)
    few = min(matched, read - matched) < FEW_MATCHES
    chosen = ("clopper-pearson" if few else "wilson") if method == "auto" else method
    if chosen == "wilson":
        lower, upper = _wilson(m_eff, n_eff, confidence)
    else:
        lower, upper = _clopper_pearson(m_eff, n_eff, confidence)
    # the store holds at least the profiles seen to match and at most all but those seen not to
    lower = max(lower, matched / total)
    upper = min(upper, 1 - (read - matched) / total)
    return Interval(p, lower, upper, standard_error, chosen)


def _wilson(m: float, n: float, confidence: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = m / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _clopper_pearson(m: float, n: float, confidence: float) -> tuple[float, float]:
    alpha = 1 - confidence
    lower = 0.0 if m <= 0 else beta_quantile(alpha / 2, m, n - m + 1)
    upper = 1.0 if m >= n else beta_quantile(1 - alpha / 2, m + 1, n - m)
    return lower, upper


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function (the Beta(a, b) CDF at x)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # the continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry beyond
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for k in range(1, 500):
        for numerator in (k * (b - k) * x / ((a + 2 * k - 1) * (a + 2 * k)),
                          -(a + k) * (a + b + k) * x / ((a + 2 * k) * (a + 2 * k + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def beta_quantile(q: float, a: float, b: float) -> float:
    """The ``q`` quantile of Beta(a, b): Newton's method on the CDF, kept inside a bracket
    that bisection narrows whenever a Newton step would leave it (to 1e-12 relative)."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    lo, hi = 0.0, 1.0
    x = a / (a + b)
    for _ in range(200):
        error = regularized_beta(x, a, b) - q
        if error < 0:
            lo = x
        else:
            hi = x
        density = math.exp(log_norm + (a - 1) * math.log(x) + (b - 1) * math.log1p(-x))
        step = error / density if density > 0 else math.inf
        nxt = x - step
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - x) <= 1e-12 * nxt or hi - lo <= 1e-12 * lo:
            return nxt
        x = nxt
    return x

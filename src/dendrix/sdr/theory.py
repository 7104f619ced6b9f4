r"""Closed-form theory of dendritic pattern recognition on sparse distributed representations.

A population of ``n`` cells carries a sparse distributed representation (SDR) in which ``a``
cells are active. A dendritic segment has ``s`` synapses onto distinct cells and fires when at
least ``theta`` of them see active cells. The overlap ``b`` between a segment and an SDR is
hypergeometric, which gives the three results of Ahmad & Hawkins (2016):

False match — a random SDR (``a`` of ``n`` cells, uniformly) fires the segment::

    P_fm(n, a, s, theta) = sum_{b=theta}^{min(s, a)} C(s, b) * C(n - s, a - b) / C(n, a)

False negative under noise — the segment's ``s`` synapses sample a stored pattern of ``a``
cells; ``v`` of those ``a`` cells are replaced by ``v`` cells outside the pattern, so only
``a - v`` of the stored cells stay active, and the segment fails to fire::

    P_fn(a, s, theta, v) = sum_{b=0}^{theta-1} C(s, b) * C(a - s, a - v - b) / C(a, a - v)

Union — one segment stores ``M`` patterns by holding the synapses of ``M`` random ``s``-subsets
of the ``n`` cells; the expected number of distinct synapses is::

    s_u(n, s, M) = n * (1 - (1 - s / n) ** M)

and the union's false-match probability is ``P_fm`` with ``s_u`` in place of ``s``.

Symbols: ``n`` cells in the population; ``a`` active cells per SDR; ``s`` synapses on the
segment; ``theta`` the firing threshold (number of synapses that must see active cells);
``v`` the number of active cells of a stored pattern replaced by noise; ``M`` (argument ``m``)
the number of patterns unioned on one segment; ``b`` the overlap (synapses that see active
cells); ``C(x, y)`` the binomial coefficient.

Numerics: every probability is computed exactly as a ratio of Python integers (``math.comb``
and exact integer sums) and divided once at the end; Python's ``int / int`` is correctly
rounded, so results keep full relative precision down to the smallest subnormal double
(about 4.9e-324). A true value below that returns ``0.0``; the ``log_*`` functions return its
natural logarithm instead. Monte Carlo simulators (``simulate_*``) build random SDRs and
segments as sets of cell indices with an explicit :class:`torch.Generator` and count overlaps,
which checks the formulas without sampling any hypergeometric variate.

Reference: Ahmad S, Hawkins J. 2016. How do neurons operate on sparse distributed
representations? A mathematical theory of sparsity, neurons and active dendrites.
arXiv:1601.00720.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import comb
from typing import Any

import numpy as np
import torch

from dendrix._validation import check_float, check_int

__all__ = [
    "MonteCarloEstimate",
    "false_match_probability",
    "false_negative_probability",
    "log_false_match_probability",
    "log_false_negative_probability",
    "optimal_threshold",
    "simulate_false_match",
    "simulate_false_negative",
    "simulate_union_false_match",
    "union_false_match_probability",
    "union_synapses",
]

_LN2 = math.log(2.0)
# Elements per random matrix in one Monte Carlo chunk (bounds memory to a few tens of MB).
_CHUNK_ELEMENTS = 1 << 21


# --------------------------------------------------------------------------------------------
# Exact integer kernels
# --------------------------------------------------------------------------------------------


def _hyper_terms(big_n: int, k: int, d: int, lo: int, hi: int) -> list[int]:
    """Return ``C(k, b) * C(big_n - k, d - b)`` for ``b = lo..hi`` (zeros off the support).

    Consecutive terms follow from exact integer recurrences, so the cost is one ``comb`` pair
    plus small-integer multiplications and divisions per term.
    """
    if hi < lo:
        return []
    out = [0] * (hi - lo + 1)
    first = max(lo, 0, d - (big_n - k))
    last = min(hi, k, d)
    if first > last:
        return out
    c1 = comb(k, first)
    c2 = comb(big_n - k, d - first)
    for b in range(first, last + 1):
        out[b - lo] = c1 * c2
        c1 = c1 * (k - b) // (b + 1)
        c2 = c2 * (d - b) // (big_n - k - d + b + 1)
    return out


@functools.lru_cache(maxsize=4096)
def _fm_counts(n: int, a: int, s: int, theta: int) -> tuple[int, int]:
    """Exact numerator and denominator of P_fm; ``theta > s`` gives a zero numerator."""
    return sum(_hyper_terms(n, s, a, theta, s)), comb(n, a)


@functools.lru_cache(maxsize=4096)
def _fn_counts(a: int, s: int, theta: int, v: int) -> tuple[int, int]:
    """Exact numerator and denominator of P_fn."""
    return sum(_hyper_terms(a, s, a - v, 0, theta - 1)), comb(a, v)


def _log_ratio(num: int, den: int) -> float:
    """Natural log of ``num / den`` for positive integers of any size (``-inf`` if num == 0)."""
    if num == 0:
        return -math.inf
    shift = den.bit_length() - num.bit_length() + 64
    q = (num << shift) // den if shift >= 0 else num // (den << -shift)
    return math.log(q) - shift * _LN2


@functools.lru_cache(maxsize=8)
def _log_factorials(n: int) -> np.ndarray:
    out = np.array([math.lgamma(i + 1.0) for i in range(n + 1)], dtype=np.float64)
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=256)
def _occupancy_log_pmf(n: int, s: int, m: int) -> np.ndarray:
    """log P(K = k), k = 0..min(n, m*s), for K = |union of m uniform random s-subsets of n|.

    Dynamic programme over the patterns: adding an ``s``-subset to a union of ``k`` cells brings
    ``j`` new cells with probability ``C(n - k, j) * C(k, s - j) / C(n, s)``. Computed in log
    space with ``lgamma`` log-factorials (all terms positive, no cancellation).
    """
    kmax = min(n, m * s)
    lf = _log_factorials(n)
    logp = np.full(kmax + 1, -np.inf)
    logp[s] = 0.0
    log_total = lf[n] - lf[s] - lf[n - s]
    for _ in range(m - 1):
        new = np.full(kmax + 1, -np.inf)
        support = np.flatnonzero(np.isfinite(logp))
        for j in range(s + 1):
            k = support[(n - support >= j) & (support >= s - j) & (support + j <= kmax)]
            if k.size == 0:
                continue
            log_t = (
                lf[n - k] - lf[j] - lf[n - k - j] + lf[k] - lf[s - j] - lf[k - s + j] - log_total
            )
            new[k + j] = np.logaddexp(new[k + j], logp[k] + log_t)
        logp = new
    logp.setflags(write=False)
    return logp


# --------------------------------------------------------------------------------------------
# Argument handling and broadcasting
# --------------------------------------------------------------------------------------------


def _int_at_least(minimum: int) -> Callable[[str, object], int]:
    return lambda label, value: check_int(label, value, minimum=minimum)


def _zero_d(value: object) -> np.ndarray:
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def _as_grid(name: str, value: object, check: Callable[[str, object], Any]) -> np.ndarray:
    """Validate a scalar or array-like element by element; return an object array."""
    if isinstance(value, torch.Tensor):
        if value.ndim == 0:
            return _zero_d(check(name, value))
        value = value.detach().cpu().numpy()
    try:
        ndim = np.ndim(value)
        arr = np.asarray(value) if ndim else None
    except (ValueError, TypeError) as exc:
        raise TypeError(
            f"{name} must be a number or a rectangular array-like of numbers, got "
            f"{type(value).__name__} that NumPy cannot turn into an array ({exc})."
        ) from exc
    if arr is None:
        if isinstance(value, np.ndarray):
            value = value[()]
        return _zero_d(check(name, value))
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = check(f"{name}[{', '.join(map(str, idx))}]", arr[idx])
    return out


def _vectorise(
    kernel: Callable[..., Any],
    spec: list[tuple[str, object, Callable[[str, object], Any]]],
    dtype: type = np.float64,
) -> Any:
    """Check each argument, broadcast them and call ``kernel(where, **values)`` per element.

    ``where`` is ``""`` for all-scalar input (the scalar result is returned as is) or
    ``" at broadcast index (i, j)"`` so cross-argument errors can point at the element.
    """
    grids = {name: _as_grid(name, value, check) for name, value, check in spec}
    if all(g.ndim == 0 for g in grids.values()):
        return kernel("", **{name: g[()] for name, g in grids.items()})
    try:
        shape = np.broadcast_shapes(*(g.shape for g in grids.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {g.shape}" for name, g in grids.items())
        raise ValueError(
            f"Arguments cannot be broadcast together (NumPy rules); got shapes {shapes}. "
            "Give each argument a shape that broadcasts, e.g. n[:, None] against theta[None, :]."
        ) from None
    views = {name: np.broadcast_to(g, shape) for name, g in grids.items()}
    out = np.empty(shape, dtype=dtype)
    for idx in np.ndindex(shape):
        out[idx] = kernel(f" at broadcast index {idx}", **{k: v[idx] for k, v in views.items()})
    return out


def _check_fm(n: int, a: int, s: int, theta: int, where: str, union_of: int | None = None) -> None:
    check_int(
        f"a{where}", a, minimum=1, maximum=n, hint=f"a counts active cells among n={n} cells."
    )
    check_int(
        f"s{where}",
        s,
        minimum=1,
        maximum=n,
        hint=f"The segment's s synapses contact distinct cells among n={n} cells.",
    )
    if union_of is None:
        top = s
        hint = f"A segment with s={s} synapses never sees more active cells; use 1 <= theta <= s."
    else:
        top = min(n, union_of * s)
        hint = (
            f"A union of m={union_of} patterns of s={s} synapses among n={n} cells has at most "
            f"{top} synapses; use 1 <= theta <= {top}."
        )
    check_int(f"theta{where}", theta, minimum=1, maximum=top, hint=hint)


def _check_fn(a: int, s: int, theta: int, v: int, where: str) -> None:
    check_int(
        f"s{where}",
        s,
        minimum=1,
        maximum=a,
        hint=f"The segment's s synapses sample the stored pattern of a={a} cells, so s <= a.",
    )
    check_int(
        f"theta{where}",
        theta,
        minimum=1,
        maximum=s,
        hint=f"A segment with s={s} synapses never sees more active cells; use 1 <= theta <= s.",
    )
    check_int(
        f"v{where}",
        v,
        minimum=0,
        maximum=a,
        hint=f"v counts replaced cells of the a={a}-cell pattern, so 0 <= v <= a.",
    )


def _check_union_s(n: int, s: int, where: str) -> None:
    check_int(
        f"s{where}",
        s,
        minimum=1,
        maximum=n,
        hint=f"The segment's s synapses contact distinct cells among n={n} cells.",
    )


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be a torch.Generator (the global RNG is never used), got "
            f"{type(generator).__name__}. Pass e.g. generator=torch.Generator().manual_seed(0)."
        )
    return generator


# --------------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------------


def false_match_probability(n: Any, a: Any, s: Any, theta: Any) -> Any:
    """Probability that a random SDR of ``a`` active cells out of ``n`` fires the segment.

    ``P_fm = sum_{b=theta}^{min(s,a)} C(s,b) C(n-s,a-b) / C(n,a)``, computed exactly (see the
    module docstring); values below the float64 range return ``0.0``.

    Args:
        n: cells in the population, ``n >= 1``.
        a: active cells per SDR, ``1 <= a <= n``.
        s: synapses on the segment, ``1 <= s <= n``.
        theta: firing threshold, ``1 <= theta <= s``.

    All arguments are ints or integer array-likes and broadcast (NumPy rules). Returns a float
    for scalar input, otherwise a float64 array of the broadcast shape.

    Example:
        >>> f"{false_match_probability(4000, 128, 24, 12):.3g}"
        '1.34e-12'
        >>> false_match_probability(2048, 40, 20, [8, 10, 12]).shape
        (3,)
    """

    def kernel(where: str, n: int, a: int, s: int, theta: int) -> float:
        _check_fm(n, a, s, theta, where)
        num, den = _fm_counts(n, a, s, theta)
        return num / den

    return _vectorise(
        kernel,
        [
            ("n", n, _int_at_least(1)),
            ("a", a, _int_at_least(1)),
            ("s", s, _int_at_least(1)),
            ("theta", theta, _int_at_least(1)),
        ],
    )


def log_false_match_probability(n: Any, a: Any, s: Any, theta: Any) -> Any:
    """Natural log of :func:`false_match_probability`, finite even far below 1e-308.

    Args:
        n, a, s, theta: as in :func:`false_match_probability` (broadcast the same way).

    Returns ``-inf`` only where the probability is exactly zero (``theta > min(s, a)``).

    Example:
        >>> round(log_false_match_probability(10**6, 10**4, 300, 250) / math.log(10))
        -444
    """

    def kernel(where: str, n: int, a: int, s: int, theta: int) -> float:
        _check_fm(n, a, s, theta, where)
        return _log_ratio(*_fm_counts(n, a, s, theta))

    return _vectorise(
        kernel,
        [
            ("n", n, _int_at_least(1)),
            ("a", a, _int_at_least(1)),
            ("s", s, _int_at_least(1)),
            ("theta", theta, _int_at_least(1)),
        ],
    )


def false_negative_probability(a: Any, s: Any, theta: Any, v: Any) -> Any:
    """Probability that a stored pattern with ``v`` of its ``a`` cells replaced misses.

    The segment's ``s`` synapses sample the stored pattern; after noise ``a - v`` of the pattern
    cells stay active and the segment fails if fewer than ``theta`` synapses see them:
    ``P_fn = sum_{b=0}^{theta-1} C(s,b) C(a-s,a-v-b) / C(a,a-v)`` (exact; independent of n).

    Args:
        a: active cells of the stored pattern, ``a >= 1``.
        s: synapses on the segment, ``1 <= s <= a``.
        theta: firing threshold, ``1 <= theta <= s``.
        v: pattern cells replaced by noise, ``0 <= v <= a``.

    Broadcasts like :func:`false_match_probability`.

    Example:
        >>> round(false_negative_probability(128, 30, 12, 64), 4)
        0.0717
        >>> false_negative_probability(128, 30, 12, 0)
        0.0
    """

    def kernel(where: str, a: int, s: int, theta: int, v: int) -> float:
        _check_fn(a, s, theta, v, where)
        num, den = _fn_counts(a, s, theta, v)
        return num / den

    return _vectorise(
        kernel,
        [
            ("a", a, _int_at_least(1)),
            ("s", s, _int_at_least(1)),
            ("theta", theta, _int_at_least(1)),
            ("v", v, _int_at_least(0)),
        ],
    )


def log_false_negative_probability(a: Any, s: Any, theta: Any, v: Any) -> Any:
    """Natural log of :func:`false_negative_probability` (``-inf`` where it is exactly zero).

    Args:
        a, s, theta, v: as in :func:`false_negative_probability`.

    Example:
        >>> round(log_false_negative_probability(128, 30, 12, 64), 3)
        -2.635
    """

    def kernel(where: str, a: int, s: int, theta: int, v: int) -> float:
        _check_fn(a, s, theta, v, where)
        return _log_ratio(*_fn_counts(a, s, theta, v))

    return _vectorise(
        kernel,
        [
            ("a", a, _int_at_least(1)),
            ("s", s, _int_at_least(1)),
            ("theta", theta, _int_at_least(1)),
            ("v", v, _int_at_least(0)),
        ],
    )


def _union_synapses(n: int, s: int, m: int) -> float:
    if m == 1:
        return float(s)
    if s == n:
        return float(n)
    return n * -math.expm1(m * math.log1p(-s / n))


def union_synapses(n: Any, s: Any, m: Any) -> Any:
    """Expected number of distinct synapses when ``m`` random ``s``-subsets of ``n`` are unioned.

    ``s_u = n * (1 - (1 - s/n) ** m)`` (each cell is missed by one subset with probability
    ``1 - s/n``), evaluated as ``-n * expm1(m * log1p(-s/n))`` for accuracy.

    Args:
        n: cells in the population, ``n >= 1``.
        s: synapses per stored pattern, ``1 <= s <= n``.
        m: patterns in the union, ``m >= 1``.

    Broadcasts; returns a float for scalar input, else a float64 array.

    Example:
        >>> union_synapses(10, 5, 2)
        7.5
    """

    def kernel(where: str, n: int, s: int, m: int) -> float:
        _check_union_s(n, s, where)
        return _union_synapses(n, s, m)

    return _vectorise(
        kernel,
        [("n", n, _int_at_least(1)), ("s", s, _int_at_least(1)), ("m", m, _int_at_least(1))],
    )


def _union_fm_interpolated(n: int, a: int, s: int, theta: int, m: int) -> float:
    s_u = min(max(_union_synapses(n, s, m), float(s)), float(min(n, m * s)))
    nearest = round(s_u)
    if abs(s_u - nearest) <= 1e-9 * s_u:
        s_u = float(nearest)
    lo = math.floor(s_u)
    w = s_u - lo
    p_lo = _fm_counts(n, a, lo, theta)
    p = p_lo[0] / p_lo[1]
    if w == 0.0:
        return p
    p_hi = _fm_counts(n, a, lo + 1, theta)
    return (1.0 - w) * p + w * (p_hi[0] / p_hi[1])


def _union_fm_exact(n: int, a: int, s: int, theta: int, m: int) -> float:
    if m == 1:
        num, den = _fm_counts(n, a, s, theta)
        return num / den
    logp = _occupancy_log_pmf(n, s, m)
    terms = [
        logp[k] + _log_ratio(*_fm_counts(n, a, k, theta))
        for k in range(theta, logp.size)
        if math.isfinite(logp[k])
    ]
    terms = [t for t in terms if math.isfinite(t)]
    if not terms:
        return 0.0
    top = max(terms)
    return math.exp(top + math.log(math.fsum(math.exp(t - top) for t in terms)))


def union_false_match_probability(
    n: Any, a: Any, s: Any, theta: Any, m: Any, *, exact: bool = False
) -> Any:
    """False-match probability of a segment that stores the union of ``m`` patterns.

    The union holds ``s_u = union_synapses(n, s, m)`` distinct synapses in expectation.

    * ``exact=False`` (default): ``P_fm(n, a, s_u, theta)`` as in the paper. ``s_u`` is not an
      integer, so ``P_fm`` is evaluated exactly at ``floor(s_u)`` and ``floor(s_u) + 1`` and
      interpolated linearly in ``s`` (``s_u`` within 1e-9 relative of an integer is snapped to
      it, so ``m = 1`` reproduces :func:`false_match_probability`).
    * ``exact=True``: average of ``P_fm(n, a, K, theta)`` over the exact distribution of the
      number ``K`` of distinct synapses when ``m`` independent uniform random ``s``-subsets are
      unioned (occupancy distribution, by a dynamic programme over the patterns in log space;
      each ``P_fm`` is exact, the mixture is accurate to about 1e-9 relative or better). Cost
      grows like ``m * s * min(n, m*s)``.

    Args:
        n: cells in the population, ``n >= 1``.
        a: active cells per SDR, ``1 <= a <= n``.
        s: synapses per stored pattern, ``1 <= s <= n``.
        theta: firing threshold, ``1 <= theta <= min(n, m*s)`` (the largest possible union).
        m: patterns in the union, ``m >= 1``.
        exact: average over the occupancy distribution instead of interpolating at ``s_u``.

    Broadcasts over ``n, a, s, theta, m``; returns a float for scalar input, else an array.

    Example:
        >>> p = union_false_match_probability(2048, 40, 20, 10, 5)
        >>> q = union_false_match_probability(2048, 40, 20, 10, 5, exact=True)
        >>> 1e-6 < p < q < 1e-4
        True
    """
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be True or False, got {exact!r} ({type(exact).__name__}).")

    def kernel(where: str, n: int, a: int, s: int, theta: int, m: int) -> float:
        _check_fm(n, a, s, theta, where, union_of=m)
        if exact:
            return _union_fm_exact(n, a, s, theta, m)
        return _union_fm_interpolated(n, a, s, theta, m)

    return _vectorise(
        kernel,
        [
            ("n", n, _int_at_least(1)),
            ("a", a, _int_at_least(1)),
            ("s", s, _int_at_least(1)),
            ("theta", theta, _int_at_least(1)),
            ("m", m, _int_at_least(1)),
        ],
    )


def _optimal_threshold_scalar(n: int, a: int, s: int, v: int, bound: float | None) -> int:
    # Numerators over the shared denominators C(n, a) and C(a, v): exact comparisons.
    fm_terms = _hyper_terms(n, s, a, 0, s)  # b = 0..s
    fn_terms = _hyper_terms(a, s, a - v, 0, s)
    den_fm, den_fn = comb(n, a), comb(a, v)
    fm_tail = [0] * (s + 2)  # fm_tail[t] = sum_{b >= t} fm_terms[b]
    for b in range(s, -1, -1):
        fm_tail[b] = fm_tail[b + 1] + fm_terms[b]
    if bound is not None:
        p, q = Fraction(bound).as_integer_ratio()
        for theta in range(1, s + 1):
            if fm_tail[theta] * q <= p * den_fm:
                return theta
        raise ValueError(
            f"max_false_match={bound!r} cannot be met: even theta=s={s} gives P_fm="
            f"{fm_tail[s] / den_fm:.3g} for n={n}, a={a}. Raise max_false_match or use more "
            "synapses s."
        )
    best_theta, best = 0, None
    fn_head = 0  # sum_{b < theta} fn_terms[b]
    for theta in range(1, s + 1):
        fn_head += fn_terms[theta - 1]
        total = fm_tail[theta] * den_fn + fn_head * den_fm
        if best is None or total < best:
            best_theta, best = theta, total
    return best_theta


def optimal_threshold(n: Any, a: Any, s: Any, v: Any = 0, *, max_false_match: Any = None) -> Any:
    """Threshold ``theta`` in ``[1, s]`` that minimises ``P_fm + P_fn``.

    Total error ``P_fm(n, a, s, theta) + P_fn(a, s, theta, v)`` is compared exactly (integer
    arithmetic), and ties go to the smallest ``theta`` (the most noise-tolerant). With ``v = 0``
    there is no false negative, so the answer is ``s``.

    With ``max_false_match`` given, returns instead the smallest ``theta`` whose
    ``P_fm <= max_false_match``; ``P_fn`` grows with ``theta``, so this is the ``theta`` with the
    fewest false negatives under that false-match budget, for any ``v``. Raises ``ValueError`` if
    even ``theta = s`` exceeds the bound.

    Args:
        n: cells in the population, ``n >= 1``.
        a: active cells per SDR, ``1 <= a <= n``.
        s: synapses on the segment, ``1 <= s <= a`` (they sample a stored pattern).
        v: pattern cells replaced by noise, ``0 <= v <= a`` (default 0).
        max_false_match: optional bound on ``P_fm`` in ``[0, 1]``.

    Broadcasts over all arguments; returns an int for scalar input, else an int64 array.

    Example:
        >>> optimal_threshold(2048, 40, 20, 10)
        10
        >>> optimal_threshold(2048, 40, 20, max_false_match=1e-9)
        9
    """

    def kernel(
        where: str, n: int, a: int, s: int, v: int, max_false_match: float | None = None
    ) -> int:
        check_int(
            f"a{where}", a, minimum=1, maximum=n, hint=f"a counts active cells among n={n} cells."
        )
        _check_fn(a, s, 1, v, where)
        return _optimal_threshold_scalar(n, a, s, v, max_false_match)

    spec: list[tuple[str, object, Callable[[str, object], Any]]] = [
        ("n", n, _int_at_least(1)),
        ("a", a, _int_at_least(1)),
        ("s", s, _int_at_least(1)),
        ("v", v, _int_at_least(0)),
    ]
    if max_false_match is not None:
        spec.append(
            (
                "max_false_match",
                max_false_match,
                lambda label, x: check_float(label, x, minimum=0.0, maximum=1.0),
            )
        )
    return _vectorise(kernel, spec, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo probability estimate: ``probability = hits / trials``.

    Example:
        >>> MonteCarloEstimate(0.25, 25, 100).std_error
        0.04330127018922193
    """

    probability: float
    hits: int
    trials: int

    @property
    def std_error(self) -> float:
        """Binomial standard error ``sqrt(p (1 - p) / trials)`` of the estimate."""
        p = self.probability
        return math.sqrt(p * (1.0 - p) / self.trials)


def _chunks(trials: int, chunk_size: int | None, row_elements: int) -> list[int]:
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // max(1, row_elements))
    sizes = [chunk_size] * (trials // chunk_size)
    if trials % chunk_size:
        sizes.append(trials % chunk_size)
    return sizes


def _random_subsets(
    rows: int, n: int, k: int, generator: torch.Generator, *, ordered: bool = False
) -> torch.Tensor:
    """Rows of ``k`` distinct uniformly random cell indices out of ``n``.

    The cells holding the ``k`` largest of ``n`` i.i.d. uniform keys form a uniform random
    ``k``-subset; with ``ordered=True`` they come in key order, i.e. as the first ``k`` entries of
    a uniform random permutation.
    """
    keys = torch.rand(rows, n, generator=generator, device=generator.device, dtype=torch.float64)
    return keys.topk(k, dim=1, sorted=ordered).indices


def _check_mc(
    trials: object, chunk_size: object, generator: object
) -> tuple[int, int | None, torch.Generator]:
    trials = check_int("trials", trials, minimum=1, hint="Use at least one Monte Carlo trial.")
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    return trials, chunk_size, _check_generator(generator)


def simulate_false_match(
    n: int,
    a: int,
    s: int,
    theta: int,
    trials: int,
    *,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of :func:`false_match_probability` from explicit random sets.

    Each trial draws a random segment (``s`` distinct cells of ``n``) and a random SDR (``a``
    distinct cells of ``n``) from random permutations, marks the SDR's cells active, counts the
    synapses on active cells and scores a hit when the count is ``>= theta``. Scalar arguments
    only; trials run in chunks of ``chunk_size`` rows (default: about 2M random numbers).

    Args:
        n, a, s, theta: as in :func:`false_match_probability`.
        trials: number of independent trials, ``>= 1``.
        generator: the :class:`torch.Generator` to draw from (required; its device is used).
        chunk_size: trials per chunk, ``>= 1``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> est = simulate_false_match(64, 16, 8, 3, 2000, generator=g)
        >>> abs(est.probability - false_match_probability(64, 16, 8, 3)) < 4 * est.std_error
        True
    """
    n = check_int("n", n, minimum=1)
    a, s, theta = (check_int(k, x, minimum=1) for k, x in (("a", a), ("s", s), ("theta", theta)))
    _check_fm(n, a, s, theta, "")
    trials, chunk_size, generator = _check_mc(trials, chunk_size, generator)
    hits = 0
    for rows in _chunks(trials, chunk_size, n):
        pattern = _random_subsets(rows, n, a, generator)
        segment = _random_subsets(rows, n, s, generator)
        active = torch.zeros(rows, n, dtype=torch.bool, device=generator.device)
        active.scatter_(1, pattern, True)
        overlap = active.gather(1, segment).sum(dim=1)
        hits += int((overlap >= theta).sum())
    return MonteCarloEstimate(hits / trials, hits, trials)


def simulate_false_negative(
    a: int,
    s: int,
    theta: int,
    v: int,
    trials: int,
    *,
    n: int | None = None,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of :func:`false_negative_probability` from explicit random sets.

    Each trial: a random permutation of ``n`` cells gives the stored pattern (first ``a``) and a
    pool of outside cells; the segment's ``s`` synapses are ``s`` random pattern cells; ``v``
    random pattern cells are switched off and ``v`` outside cells switched on; a hit is scored
    when fewer than ``theta`` synapses still see active cells.

    Args:
        a, s, theta, v: as in :func:`false_negative_probability`.
        trials: number of independent trials, ``>= 1``.
        n: population size, ``n >= a + v`` (default ``2 * a``; the result does not depend on it).
        generator: the :class:`torch.Generator` to draw from (required).
        chunk_size: trials per chunk, ``>= 1``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> est = simulate_false_negative(64, 16, 8, 32, 2000, generator=g)
        >>> abs(est.probability - false_negative_probability(64, 16, 8, 32)) < 4 * est.std_error
        True
    """
    a = check_int("a", a, minimum=1)
    s = check_int("s", s, minimum=1)
    theta = check_int("theta", theta, minimum=1)
    v = check_int("v", v, minimum=0)
    _check_fn(a, s, theta, v, "")
    if n is None:
        n = 2 * a
    n = check_int(
        "n",
        n,
        minimum=a + v,
        hint=f"The population needs the a={a} pattern cells plus v={v} replacement cells.",
    )
    trials, chunk_size, generator = _check_mc(trials, chunk_size, generator)
    hits = 0
    for rows in _chunks(trials, chunk_size, n):
        perm = _random_subsets(rows, n, a + v, generator, ordered=True)
        pattern, outside = perm[:, :a], perm[:, a:]
        synapse_pos = _random_subsets(rows, a, s, generator)
        removed_pos = _random_subsets(rows, a, v, generator)
        segment = pattern.gather(1, synapse_pos)
        removed = pattern.gather(1, removed_pos)
        active = torch.zeros(rows, n, dtype=torch.bool, device=generator.device)
        active.scatter_(1, pattern, True)
        active.scatter_(1, removed, False)
        active.scatter_(1, outside, True)
        seen = active.gather(1, segment).sum(dim=1)
        hits += int((seen < theta).sum())
    return MonteCarloEstimate(hits / trials, hits, trials)


def simulate_union_false_match(
    n: int,
    a: int,
    s: int,
    theta: int,
    m: int,
    trials: int,
    *,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of the union false-match probability from explicit random sets.

    Each trial unions ``m`` independent random ``s``-subsets of ``n`` cells into one segment,
    draws a random SDR of ``a`` cells and scores a hit when ``>= theta`` of the union's synapses
    see active cells. Estimates ``union_false_match_probability(..., exact=True)``.

    Args:
        n, a, s, theta, m: as in :func:`union_false_match_probability`.
        trials: number of independent trials, ``>= 1``.
        generator: the :class:`torch.Generator` to draw from (required).
        chunk_size: trials per chunk, ``>= 1``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> est = simulate_union_false_match(64, 8, 4, 3, 4, 2000, generator=g)
        >>> p = union_false_match_probability(64, 8, 4, 3, 4, exact=True)
        >>> abs(est.probability - p) < 4 * est.std_error
        True
    """
    n = check_int("n", n, minimum=1)
    a, s, theta, m = (
        check_int(k, x, minimum=1) for k, x in (("a", a), ("s", s), ("theta", theta), ("m", m))
    )
    _check_fm(n, a, s, theta, "", union_of=m)
    trials, chunk_size, generator = _check_mc(trials, chunk_size, generator)
    hits = 0
    for rows in _chunks(trials, chunk_size, n * m):
        subsets = _random_subsets(rows * m, n, s, generator).reshape(rows, m * s)
        segment = torch.zeros(rows, n, dtype=torch.bool, device=generator.device)
        segment.scatter_(1, subsets, True)
        pattern = _random_subsets(rows, n, a, generator)
        overlap = segment.gather(1, pattern).sum(dim=1)
        hits += int((overlap >= theta).sum())
    return MonteCarloEstimate(hits / trials, hits, trials)

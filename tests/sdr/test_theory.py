"""Tests for dendrix.sdr.theory: published values, brute force, Monte Carlo, numerics, errors."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import torch

from dendrix.sdr.theory import (
    MonteCarloEstimate,
    false_match_probability,
    false_negative_probability,
    log_false_match_probability,
    log_false_negative_probability,
    optimal_threshold,
    simulate_false_match,
    simulate_false_negative,
    simulate_union_false_match,
    union_false_match_probability,
    union_synapses,
)

# --------------------------------------------------------------------------------------------
# Independent references (enumeration over actual sets; log-space via lgamma)
# --------------------------------------------------------------------------------------------


def brute_overlap_counts(n: int, a: int, segment: frozenset[int]) -> Counter[int]:
    """Overlap of a fixed segment with every pattern of a active cells out of n."""
    return Counter(len(segment.intersection(p)) for p in itertools.combinations(range(n), a))


def brute_false_match(n: int, a: int, s: int) -> dict[int, Fraction]:
    """theta -> exact fraction of all C(n, a) patterns that put >= theta active cells on s."""
    segment = frozenset(range(n - s, n))  # any fixed set of s cells
    counts = brute_overlap_counts(n, a, segment)
    total = sum(counts.values())
    return {
        theta: Fraction(sum(c for b, c in counts.items() if b >= theta), total)
        for theta in range(1, s + 1)
    }


def brute_false_negative(a: int, s: int, v: int) -> dict[int, Fraction]:
    """theta -> exact fraction of the ways to replace v of a pattern cells that drop below theta."""
    pattern = frozenset(range(a))
    segment = frozenset(range(a - s, a))  # any fixed s cells of the pattern
    outside = frozenset(range(a, a + v))  # replacement cells, not in the pattern
    seen = Counter(
        len(segment & ((pattern - frozenset(removed)) | outside))
        for removed in itertools.combinations(sorted(pattern), v)
    )
    total = sum(seen.values())
    return {
        theta: Fraction(sum(c for b, c in seen.items() if b < theta), total)
        for theta in range(1, s + 1)
    }


def brute_union_false_match(n: int, a: int, s: int, m: int) -> dict[int, Fraction]:
    """theta -> exact probability over all ordered m-tuples of s-subsets and all patterns."""
    unions = Counter(
        frozenset().union(*subsets)
        for subsets in itertools.product(itertools.combinations(range(n), s), repeat=m)
    )
    n_tuples = sum(unions.values())
    n_patterns = math.comb(n, a)
    hits: Counter[int] = Counter()
    for union, weight in unions.items():
        for b, c in brute_overlap_counts(n, a, union).items():
            hits[b] += weight * c
    return {
        theta: Fraction(sum(c for b, c in hits.items() if b >= theta), n_tuples * n_patterns)
        for theta in range(1, min(n, m * s) + 1)
    }


def lgamma_log_false_match(n: int, a: int, s: int, theta: int) -> float:
    def log_comb(x: int, y: int) -> float:
        return math.lgamma(x + 1) - math.lgamma(y + 1) - math.lgamma(x - y + 1)

    terms = [
        log_comb(s, b) + log_comb(n - s, a - b) - log_comb(n, a)
        for b in range(theta, min(s, a) + 1)
    ]
    top = max(terms)
    return top + math.log(math.fsum(math.exp(t - top) for t in terms))


# --------------------------------------------------------------------------------------------
# 1. Published values (Ahmad & Hawkins 2016)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "args", "published"),
    [
        (false_match_probability, (4000, 128, 24, 12), 1.34e-12),
        (false_match_probability, (2048, 40, 20, 10), 3.9e-13),
        (false_negative_probability, (128, 30, 12, 64), 0.0717),
    ],
)
def test_published_values_are_reproduced_within_one_percent(func, args, published):
    assert func(*args) == pytest.approx(published, rel=0.01)


# --------------------------------------------------------------------------------------------
# 2. Brute-force enumeration over actual sets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "a", "s"),
    [(8, 3, 4), (10, 4, 6), (12, 5, 3), (12, 3, 8), (16, 6, 5), (16, 4, 10), (16, 8, 8)],
)
def test_false_match_equals_enumeration_of_all_patterns(n, a, s):
    for theta, exact in brute_false_match(n, a, s).items():
        # Both sides are the correctly rounded float of the same rational number.
        assert false_match_probability(n, a, s, theta) == float(exact), theta


@pytest.mark.parametrize(("a", "s"), [(8, 4), (10, 6), (12, 5), (12, 12), (9, 1)])
def test_false_negative_equals_enumeration_of_all_replacements(a, s):
    for v in range(a + 1):
        for theta, exact in brute_false_negative(a, s, v).items():
            assert false_negative_probability(a, s, theta, v) == float(exact), (v, theta)


@pytest.mark.parametrize(("n", "s", "m"), [(8, 2, 2), (8, 3, 2), (7, 2, 3), (6, 3, 3)])
def test_union_exact_equals_enumeration_of_all_unions(n, s, m):
    for a in (2, 3, 4):
        for theta, exact in brute_union_false_match(n, a, s, m).items():
            got = union_false_match_probability(n, a, s, theta, m, exact=True)
            assert got == pytest.approx(float(exact), rel=1e-10, abs=0.0), (a, theta)


def test_union_synapses_equals_enumerated_mean_union_size():
    n, s, m = 6, 2, 3
    sizes = [
        len(frozenset().union(*subsets))
        for subsets in itertools.product(itertools.combinations(range(n), s), repeat=m)
    ]
    assert union_synapses(n, s, m) == pytest.approx(float(Fraction(sum(sizes), len(sizes))))


@pytest.mark.parametrize(
    ("n", "s", "m", "lower", "weight"),
    [(10, 5, 2, 7, Fraction(1, 2)), (10, 2, 2, 3, Fraction(3, 5)), (8, 3, 3, 6, Fraction(3, 64))],
)
def test_union_interpolates_linearly_between_neighbouring_synapse_counts(n, s, m, lower, weight):
    # s_u = n * (1 - (1 - s/n)**m) = lower + weight, worked out by hand:
    # 10 * 3/4 = 7.5; 10 * (1 - 0.64) = 3.6; 8 * (1 - 125/512) = 387/64 = 6 + 3/64.
    a, theta = 4, 2
    at_lo = brute_false_match(n, a, lower)[theta]
    at_hi = brute_false_match(n, a, lower + 1)[theta]
    expected = float((1 - weight) * at_lo + weight * at_hi)
    assert union_false_match_probability(n, a, s, theta, m) == pytest.approx(expected, rel=1e-12)


def test_union_of_one_pattern_is_the_single_segment():
    exact = brute_false_match(12, 4, 5)[2]
    for flag in (False, True):
        assert union_false_match_probability(12, 4, 5, 2, 1, exact=flag) == float(exact)


@pytest.mark.parametrize(("n", "a", "s", "v"), [(12, 6, 4, 3), (16, 8, 6, 0), (16, 8, 8, 4)])
def test_optimal_threshold_minimises_enumerated_total_error(n, a, s, v):
    fm = brute_false_match(n, a, s)
    fn = brute_false_negative(a, s, v)
    totals = {theta: fm[theta] + fn[theta] for theta in range(1, s + 1)}
    best = min(totals.values())
    expected = min(theta for theta, total in totals.items() if total == best)
    assert optimal_threshold(n, a, s, v) == expected


def test_optimal_threshold_with_bound_is_smallest_theta_meeting_it():
    fm = brute_false_match(16, 6, 6)
    for bound in (0.5, 0.1, 0.01, 1e-3, float(fm[6]) * (1 + 1e-12)):
        expected = min(theta for theta, p in fm.items() if p <= Fraction(bound))
        assert optimal_threshold(16, 6, 6, 2, max_false_match=bound) == expected


def test_optimal_threshold_without_noise_is_s():
    assert optimal_threshold(2048, 40, 20) == 20


# --------------------------------------------------------------------------------------------
# 3. Monte Carlo over explicit random sets agrees with theory
# --------------------------------------------------------------------------------------------

TRIALS = 30_000


def assert_within_4_sigma(estimate: MonteCarloEstimate, p: float) -> None:
    assert p >= 1e-3
    assert estimate.trials == TRIALS
    assert estimate.probability == estimate.hits / estimate.trials
    sigma = math.sqrt(p * (1 - p) / estimate.trials)
    assert abs(estimate.probability - p) <= 4 * sigma, (estimate, p)


@pytest.mark.parametrize(
    ("n", "a", "s", "theta"),
    [(64, 16, 8, 3), (128, 20, 16, 4), (128, 32, 20, 7), (256, 64, 32, 12), (256, 24, 24, 6)],
)
def test_simulated_false_match_agrees_with_theory(n, a, s, theta):
    g = torch.Generator().manual_seed(1000 + n + a + s + theta)
    est = simulate_false_match(n, a, s, theta, TRIALS, generator=g)
    assert_within_4_sigma(est, false_match_probability(n, a, s, theta))


@pytest.mark.parametrize(
    ("a", "s", "theta", "v"),
    [(64, 16, 8, 32), (64, 20, 16, 6), (40, 20, 12, 14), (128, 32, 24, 48)],
)
def test_simulated_false_negative_agrees_with_theory(a, s, theta, v):
    g = torch.Generator().manual_seed(2000 + a + s + theta + v)
    est = simulate_false_negative(a, s, theta, v, TRIALS, n=3 * a, generator=g)
    assert_within_4_sigma(est, false_negative_probability(a, s, theta, v))


@pytest.mark.parametrize(
    ("n", "a", "s", "theta", "m"),
    [(64, 8, 4, 3, 4), (128, 16, 8, 4, 3), (128, 20, 12, 8, 6)],
)
def test_simulated_union_agrees_with_exact_union_theory(n, a, s, theta, m):
    g = torch.Generator().manual_seed(3000 + n + a + s + theta + m)
    est = simulate_union_false_match(n, a, s, theta, m, TRIALS, generator=g)
    assert_within_4_sigma(est, union_false_match_probability(n, a, s, theta, m, exact=True))


def test_simulation_distinguishes_neighbouring_thresholds():
    g = torch.Generator().manual_seed(7)
    est = simulate_false_match(128, 32, 20, 7, TRIALS, generator=g)
    wrong = false_match_probability(128, 32, 20, 8)
    assert abs(est.probability - wrong) > 4 * math.sqrt(wrong * (1 - wrong) / TRIALS)


def test_simulation_is_reproducible_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    runs = [
        simulate_false_negative(32, 8, 4, 12, 500, generator=torch.Generator().manual_seed(5))
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert torch.equal(torch.get_rng_state(), state)


def test_chunked_simulation_runs_every_trial():
    g = torch.Generator().manual_seed(0)
    est = simulate_union_false_match(32, 6, 3, 2, 2, 1001, generator=g, chunk_size=100)
    assert est.trials == 1001
    assert 0 <= est.hits <= 1001


def test_std_error_is_binomial():
    assert MonteCarloEstimate(0.2, 20, 100).std_error == pytest.approx(0.04)


# --------------------------------------------------------------------------------------------
# 4. Tiny probabilities and monotonicity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "a", "s", "theta"), [(20000, 200, 80, 60), (20000, 200, 100, 70)])
def test_tiny_probabilities_match_independent_lgamma_computation(n, a, s, theta):
    p = false_match_probability(n, a, s, theta)
    reference = math.exp(lgamma_log_false_match(n, a, s, theta))
    assert 0.0 < p < 1e-100
    assert p == pytest.approx(reference, rel=1e-9)


def test_probability_below_float_range_is_zero_but_log_is_finite():
    args = (10**6, 10**4, 300, 250)
    assert false_match_probability(*args) == 0.0
    assert log_false_match_probability(*args) == pytest.approx(
        lgamma_log_false_match(*args), rel=1e-9
    )


def test_log_probabilities_are_minus_inf_where_impossible():
    assert log_false_match_probability(100, 5, 10, 6) == -math.inf  # theta > a
    assert log_false_negative_probability(20, 10, 4, 0) == -math.inf  # no noise
    assert log_false_negative_probability(128, 30, 12, 64) == pytest.approx(
        math.log(0.0717), abs=2e-3
    )


def test_false_match_decreases_with_theta():
    p = false_match_probability(2048, 40, 20, np.arange(1, 21))
    assert np.all(np.diff(p) < 0)


def test_false_match_decreases_with_n():
    p = false_match_probability(np.arange(100, 5000, 250), 40, 20, 10)
    assert np.all(np.diff(p) < 0)


def test_false_negative_increases_with_noise():
    p = false_negative_probability(128, 30, 12, np.arange(0, 129))
    assert np.all(np.diff(p) >= 0)
    assert np.all(np.diff(p[(p > 0) & (p < 1)]) > 0)
    assert p[0] == 0.0 and p[-1] == 1.0


def test_union_false_match_increases_with_patterns():
    for flag in (False, True):
        p = union_false_match_probability(2048, 40, 20, 10, np.arange(1, 12), exact=flag)
        assert np.all(np.diff(p) > 0)


# --------------------------------------------------------------------------------------------
# 5. Vectorisation
# --------------------------------------------------------------------------------------------


def test_false_match_grid_equals_scalar_calls():
    n = np.array([[1000], [2000], [4000]])
    theta = np.arange(1, 25)
    grid = false_match_probability(n, 128, 24, theta)
    assert isinstance(grid, np.ndarray) and grid.dtype == np.float64
    assert grid.shape == (3, 24)
    for i, j in itertools.product(range(3), range(24)):
        assert grid[i, j] == false_match_probability(int(n[i, 0]), 128, 24, int(theta[j]))


@pytest.mark.parametrize(
    ("func", "args", "varying"),
    [
        (false_negative_probability, [128, 30, 12, [0, 32, 64, 96]], 3),
        (log_false_match_probability, [4000, 128, 24, [6, 12, 18]], 3),
        (union_synapses, [2048, 20, [1, 2, 5, 50]], 2),
        (union_false_match_probability, [2048, 40, 20, 10, [1, 3, 7]], 4),
        (optimal_threshold, [2048, 40, 20, [0, 5, 10, 20]], 3),
    ],
)
def test_list_input_equals_scalar_calls(func, args, varying):
    out = func(*args)
    assert isinstance(out, np.ndarray) and out.shape == (len(args[varying]),)
    for k, value in enumerate(args[varying]):
        scalar_args = [*args[:varying], value, *args[varying + 1 :]]
        assert out[k] == func(*scalar_args)


def test_exact_union_grid_equals_scalar_calls():
    grid = union_false_match_probability(512, [[16], [32]], 10, [4, 6], 3, exact=True)
    assert grid.shape == (2, 2)
    for i, a in enumerate((16, 32)):
        for j, theta in enumerate((4, 6)):
            assert grid[i, j] == union_false_match_probability(512, a, 10, theta, 3, exact=True)


def test_scalar_inputs_give_python_scalars():
    assert type(false_match_probability(np.int64(2048), 40, 20, 10)) is float
    assert type(false_negative_probability(np.array(128), 30, 12, 64)) is float
    assert type(union_synapses(torch.tensor(2048), 20, 3)) is float
    assert type(optimal_threshold(2048, 40, 20, 5)) is int


def test_threshold_grid_is_int64_and_bound_broadcasts():
    out = optimal_threshold(2048, 40, 20, max_false_match=[1e-3, 1e-6, 1e-9])
    assert out.dtype == np.int64
    assert np.all(np.diff(out) > 0)


def test_tensor_and_huge_integer_inputs_are_accepted():
    out = false_match_probability(torch.tensor([2048, 4096]), 40, 20, 10)
    assert out.shape == (2,) and out[0] > out[1] > 0
    assert 0.0 < false_match_probability(10**12, 10**3, 20, 20) < 1e-100


# --------------------------------------------------------------------------------------------
# 6. Bad input
# --------------------------------------------------------------------------------------------

GEN = torch.Generator().manual_seed(0)


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "error", "match"),
    [
        (false_match_probability, (100, 101, 10, 5), {}, ValueError, "^a must"),
        (false_match_probability, (100, 10, 101, 5), {}, ValueError, "^s must"),
        (false_match_probability, (100, 10, 20, 0), {}, ValueError, "^theta must"),
        (false_match_probability, (100, 10, 20, 21), {}, ValueError, "^theta must"),
        (false_match_probability, (-5, 10, 20, 5), {}, ValueError, "^n must"),
        (false_match_probability, (100.0, 10, 20, 5), {}, TypeError, "^n must be an integer"),
        (false_match_probability, (100, 10, 20, True), {}, TypeError, "^theta must"),
        (false_match_probability, (100, float("nan"), 20, 5), {}, TypeError, "^a must"),
        (false_match_probability, (100, 10, "20", 5), {}, TypeError, "^s must"),
        (false_match_probability, (100, 10, 20, [3, 0, 5]), {}, ValueError, r"^theta\[1\]"),
        (false_match_probability, (100, 10, 20, [3.0, 4.0]), {}, TypeError, r"^theta\[0\]"),
        (
            false_match_probability,
            (100, 10, [20, 5], [3, 6]),
            {},
            ValueError,
            r"^theta at .*\(1,\)",
        ),
        (false_match_probability, (100, 10, 20, [[1, 2], [3]]), {}, TypeError, "^theta"),
        (false_match_probability, ([100, 200, 300], 10, 20, [1, 2]), {}, ValueError, "broadcast"),
        (false_negative_probability, (30, 12, 5, 31), {}, ValueError, "^v must"),
        (false_negative_probability, (30, 12, 5, -1), {}, ValueError, "^v must"),
        (false_negative_probability, (30, 31, 5, 3), {}, ValueError, "^s must"),
        (false_negative_probability, (30, 12, 13, 3), {}, ValueError, "^theta must"),
        (union_synapses, (100, 10, 0), {}, ValueError, "^m must"),
        (union_false_match_probability, (100, 10, 10, 5, 0), {}, ValueError, "^m must"),
        (union_false_match_probability, (100, 10, 10, 31, 3), {}, ValueError, "^theta must"),
        (union_false_match_probability, (100, 10, 10, 5, 2), {"exact": 1}, TypeError, "^exact"),
        (optimal_threshold, (100, 10, 11), {}, ValueError, "^s must"),
        (optimal_threshold, (100, 10, 5, 11), {}, ValueError, "^v must"),
        (optimal_threshold, (100, 10, 5), {"max_false_match": 2.0}, ValueError, "^max_false"),
        (optimal_threshold, (100, 10, 5), {"max_false_match": float("nan")}, ValueError, "^max"),
        (optimal_threshold, (100, 10, 5), {"max_false_match": 0.0}, ValueError, "max_false_match"),
        (simulate_false_match, (100, 10, 10, 3, 0), {"generator": GEN}, ValueError, "^trials"),
        (simulate_false_match, (100, 10, 10, 3, 10), {}, TypeError, "^generator"),
        (simulate_false_match, (100, 10, 10, 3, 10), {"generator": 0}, TypeError, "^generator"),
        (simulate_false_match, (100, 10, 10, 11, 10), {"generator": GEN}, ValueError, "^theta"),
        (
            simulate_false_match,
            (100, 10, 10, 3, 10),
            {"generator": GEN, "chunk_size": 0},
            ValueError,
            "^chunk_size",
        ),
        (simulate_false_negative, (10, 5, 3, 4, 10), {"n": 13, "generator": GEN}, ValueError, "^n"),
        (simulate_false_negative, (10, 5, 3, 11, 10), {"generator": GEN}, ValueError, "^v must"),
        (simulate_union_false_match, (50, 5, 5, 3, 0, 10), {"generator": GEN}, ValueError, "^m"),
        (simulate_union_false_match, (50, 5, 5, 3, 2, 10), {"generator": None}, TypeError, "^gen"),
    ],
)
def test_bad_argument_raises_naming_it(func, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        func(*args, **kwargs)

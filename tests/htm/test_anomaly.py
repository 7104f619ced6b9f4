"""Behavioural tests for dendrix.htm.anomaly: raw score, likelihood, log form, spatial rule.

Expected values are derived by hand in each test from the equations of the module docstring
(Ahmad, Lavin, Purdy & Agha 2017, Neurocomputing 262; NuPIC/NAB constants). The optional NAB
check reproduces the stored ``anomaly_score`` columns of NAB's HTM ("numenta") detector.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

from dendrix.data import DataNotFoundError, dataset_path
from dendrix.htm.anomaly import (
    NULL_FIT,
    AnomalyLikelihood,
    AnomalyLikelihoodConfig,
    NormalFit,
    SpatialAnomaly,
    estimate_normal,
    log_likelihood,
    nab_anomaly_scores,
    raw_anomaly_score,
    tail_probability,
)
from dendrix.sdr import SDR


def q_upper(x: float, mean: float, stdev: float) -> float:
    """Hand reference: Q(x) = 0.5 erfc((x - mean) / (stdev * 1.4142)), NuPIC's sqrt(2)."""
    return 0.5 * math.erfc((x - mean) / (stdev * 1.4142))


def feed(lik: AnomalyLikelihood, scores, values=None) -> list[float]:
    values = [None] * len(scores) if values is None else values
    return [lik.update(s, v) for s, v in zip(scores, values, strict=True)]


# --------------------------------------------------------------------------------------------
# Raw anomaly score
# --------------------------------------------------------------------------------------------


def test_raw_score_all_predicted_is_zero():
    assert raw_anomaly_score([3, 7, 9, 12], [3, 7, 9, 12, 40]) == 0.0


def test_raw_score_none_predicted_is_one():
    assert raw_anomaly_score([3, 7, 9, 12], [0, 1, 2]) == 1.0
    assert raw_anomaly_score([3, 7, 9, 12], []) == 1.0


def test_raw_score_half_predicted_is_half():
    assert raw_anomaly_score([3, 7, 9, 12], [7, 12, 13]) == 0.5


def test_raw_score_without_active_columns_is_zero():
    assert raw_anomaly_score([], [1, 2, 3]) == 0.0
    assert raw_anomaly_score([], []) == 0.0


def test_raw_score_counts_one_of_four_unpredicted():
    # |A| = 4, A \ P = {5} -> 1/4.
    assert raw_anomaly_score([1, 2, 3, 5], [1, 2, 3]) == 0.25


def test_raw_score_accepts_sdr_tensor_and_array_forms():
    active, predicted = [1, 4, 6, 8], [4, 8, 9]  # 2 of 4 unpredicted
    forms = [
        (SDR.from_indices(active, size=10), SDR.from_indices(predicted, size=10)),
        (torch.tensor(active), torch.tensor(predicted)),
        (np.array(active), np.array(predicted, dtype=np.int32)),
        (tuple(active), SDR.from_indices(predicted, size=10)),
    ]
    for a, p in forms:
        assert raw_anomaly_score(a, p) == 0.5


def test_raw_score_counts_duplicate_indices_once():
    assert raw_anomaly_score([2, 2, 5, 5], [5]) == 0.5


@pytest.mark.parametrize(
    ("active", "predicted", "name", "error"),
    [
        ([1.5, 2], [1], "active_columns", TypeError),
        ([1, 2], [-1], "predicted_columns", ValueError),
        (torch.tensor([[1, 2]]), [1], "active_columns", ValueError),
        (torch.tensor([1.0, 2.0]), [1], "active_columns", TypeError),
        ([1, 2], np.array([0.5]), "predicted_columns", TypeError),
        ("12", [1], "active_columns", TypeError),
        (SDR.from_indices([[1], [2]], size=4), [1], "active_columns", ValueError),
        (SDR.from_indices([1], size=4), SDR.from_indices([1], size=5), "same size", ValueError),
    ],
)
def test_raw_score_rejects_bad_columns(active, predicted, name, error):
    with pytest.raises(error, match=name):
        raw_anomaly_score(active, predicted)


# --------------------------------------------------------------------------------------------
# Normal fit and tail probability
# --------------------------------------------------------------------------------------------


def test_estimate_normal_is_mean_and_population_variance():
    # 0.2, 0.4, 0.6: mean 0.4, variance (0.04 + 0 + 0.04) / 3.
    fit = estimate_normal([0.2, 0.4, 0.6])
    assert fit.mean == pytest.approx(0.4, abs=1e-15)
    assert fit.variance == pytest.approx(0.08 / 3, abs=1e-15)
    assert fit.stdev == pytest.approx(math.sqrt(0.08 / 3), abs=1e-15)


def test_estimate_normal_floors_mean_and_variance():
    assert estimate_normal([0.0, 0.0]) == NormalFit(0.03, 0.0003, math.sqrt(0.0003))
    # Only the variance is floored when the mean is large enough.
    fit = estimate_normal([0.5, 0.52])
    assert fit.mean == pytest.approx(0.51, abs=1e-15)
    assert (fit.variance, fit.stdev) == (0.0003, math.sqrt(0.0003))
    # Without floors the raw statistics are returned.
    assert estimate_normal([0.0, 0.0], floors=False) == NormalFit(0.0, 0.0, 0.0)


def test_tail_probability_upper_tail_and_two_sided_mirror():
    fit = NormalFit(0.3, 0.01, 0.1)
    assert tail_probability(0.3, fit) == 0.5
    assert tail_probability(0.5, fit) == pytest.approx(q_upper(0.5, 0.3, 0.1), rel=1e-12)
    # Below the mean: upper tail P(X >= x) = 1 - Q(mirror) > 0.5; two-sided gives Q(mirror).
    assert tail_probability(0.1, fit) == pytest.approx(1 - q_upper(0.5, 0.3, 0.1), rel=1e-12)
    assert tail_probability(0.1, fit, two_sided=True) == pytest.approx(
        q_upper(0.5, 0.3, 0.1), rel=1e-12
    )


# --------------------------------------------------------------------------------------------
# Anomaly likelihood
# --------------------------------------------------------------------------------------------


def test_likelihood_is_half_during_learning_and_estimation():
    lik = AnomalyLikelihood(learning_period=6, estimation_samples=4)
    scores = [1.0, 0.0, 0.7, 1.0, 0.0, 0.3, 1.0, 1.0, 0.0, 0.9]  # 10 = 6 + 4 records
    assert feed(lik, scores) == [0.5] * 10
    assert lik.distribution is None
    assert lik.update(1.0) != 0.5  # record 10 is the first one scored


def test_default_probation_is_388_records():
    lik = AnomalyLikelihood()
    assert lik.probationary_period == 388
    assert set(feed(lik, [0.1, 0.9] * 194)) == {0.5}
    assert lik.update(1.0) != 0.5


def test_likelihood_matches_hand_fit_and_skips_learning_records():
    # averaging_window=1: smoothed = raw. The 4 learning records (1.0) are left out of the fit;
    # the 10 estimation records alternate 0.2 / 0.4 -> mean 0.3, variance 0.01, sigma 0.1.
    lik = AnomalyLikelihood(learning_period=4, estimation_samples=10, averaging_window=1)
    feed(lik, [1.0] * 4 + [0.2, 0.4] * 5)
    L = lik.update(0.55)
    fit = lik.distribution
    assert fit.mean == pytest.approx(0.3, abs=1e-12)
    assert fit.variance == pytest.approx(0.01, abs=1e-12)
    assert L == pytest.approx(1 - q_upper(0.55, 0.3, 0.1), rel=1e-9)  # z = 2.5: L ~ 0.9938


def test_likelihood_below_mean_is_under_half_and_two_sided_is_not():
    scores = [0.2, 0.4] * 5
    upper = AnomalyLikelihood(learning_period=0, estimation_samples=10, averaging_window=1)
    two = AnomalyLikelihood(
        learning_period=0, estimation_samples=10, averaging_window=1, two_sided=True
    )
    feed(upper, scores)
    feed(two, scores)
    # x = 0.15 is 1.5 sigma below 0.3; its mirror 0.45 is 1.5 sigma above.
    assert upper.update(0.15) == pytest.approx(q_upper(0.45, 0.3, 0.1), rel=1e-9)
    assert two.update(0.15) == pytest.approx(1 - q_upper(0.45, 0.3, 0.1), rel=1e-9)


def test_burst_after_constant_low_scores_gives_likelihood_near_one_then_yellow():
    # 20 records of 0.1 (learning 10 + estimation 10), window W = 10: smoothed 0.1 throughout,
    # so the fit is mean 0.1 and the variance floor 0.0003. A burst of 1.0 moves the smoothed
    # score to 0.19 (z = 0.09 / sqrt(0.0003) = 5.2) and then 0.28, 0.37, ...
    lik = AnomalyLikelihood(learning_period=10, estimation_samples=10)
    feed(lik, [0.1] * 20)
    burst = feed(lik, [1.0] * 4)
    sigma = math.sqrt(0.0003)
    assert lik.distribution.mean == pytest.approx(0.1, abs=1e-12)
    assert lik.distribution.variance == 0.0003
    # First red-zone record: L = 1 - Q(0.19), about 1 - 1e-7.
    assert 1 - burst[0] == pytest.approx(q_upper(0.19, 0.1, sigma), rel=1e-6)
    assert burst[0] > 0.99999
    # Following red-zone records are filtered to the yellow level 0.999.
    assert burst[1:] == pytest.approx([0.999] * 3, abs=1e-15)


def test_red_zone_filter_applies_only_after_a_red_record():
    # averaging_window=1, fit mean 0.3 / sigma 0.1. Scores 0.9 (z=6, red), 0.3 (not red),
    # 0.9 (red again, after a non-red record: kept), 0.9 (red after red: yellow).
    lik = AnomalyLikelihood(learning_period=0, estimation_samples=10, averaging_window=1)
    feed(lik, [0.2, 0.4] * 5)
    out = feed(lik, [0.9, 0.3, 0.9, 0.9])
    red = 1 - q_upper(0.9, 0.3, 0.1)
    assert out[0] == pytest.approx(red, abs=1e-15)
    assert out[1] == pytest.approx(0.5, abs=1e-12)
    assert out[2] == pytest.approx(red, abs=1e-15)
    assert out[3] == pytest.approx(0.999, abs=1e-15)


def test_mean_and_variance_floors_apply_to_the_fit():
    # All-zero scores: mean floored to 0.03, variance to 0.0003.
    lik = AnomalyLikelihood(learning_period=0, estimation_samples=5, averaging_window=1)
    feed(lik, [0.0] * 5)
    L = lik.update(0.05)
    assert lik.distribution == NormalFit(0.03, 0.0003, math.sqrt(0.0003))
    assert L == pytest.approx(1 - q_upper(0.05, 0.03, math.sqrt(0.0003)), rel=1e-12)


def test_refit_happens_at_multiples_of_reestimation_period_only():
    # Probation 7, R = 5: fits at record 7 (first), then 10, 15, 20; scores keep changing so
    # every refit gives a new fit.
    lik = AnomalyLikelihood(
        learning_period=2, estimation_samples=5, reestimation_period=5, averaging_window=1
    )
    scores = [(i % 7) / 10 for i in range(23)]
    changed, last = [], None
    for t, s in enumerate(scores):
        lik.update(s)
        if lik.distribution != last:
            changed.append(t)
            last = lik.distribution
    assert changed == [7, 10, 15, 20]
    # The fit made at record 20 uses records 2..19 (before 20, learning records 0, 1 skipped).
    assert lik.distribution == estimate_normal(scores[2:20])


def test_fit_uses_history_window_and_skips_learning_records_still_in_it():
    # H = 6, learning 4 (scores 1.0), R = 1 (refit every record), W = 1. The fit at record t
    # covers the last 6 records before t minus the learning records still among them, i.e.
    # records max(4, t-6) .. t-1.
    lik = AnomalyLikelihood(
        learning_period=4,
        estimation_samples=2,
        historic_window_size=6,
        reestimation_period=1,
        averaging_window=1,
    )
    scores = [1.0] * 4 + [0.05 * k for k in range(1, 11)]
    for t, s in enumerate(scores):
        lik.update(s)
        if t >= 6:
            first = max(4, t - 6)
            assert lik.distribution == estimate_normal(scores[first:t]), t


def test_flat_metric_values_give_the_null_fit():
    scores = [0.2, 0.4] * 5
    flat = AnomalyLikelihood(learning_period=0, estimation_samples=10, averaging_window=1)
    feed(flat, scores, [3.0] * 10)
    L = flat.update(1.0, 3.0)
    assert flat.distribution == NULL_FIT
    assert L == pytest.approx(1 - q_upper(1.0, 0.5, 1e3), rel=1e-12)  # about 0.5002
    # Varying values (or no values at all) keep the fitted distribution.
    for values in ([3.0, 3.1] * 5, None):
        lik = AnomalyLikelihood(learning_period=0, estimation_samples=10, averaging_window=1)
        feed(lik, scores, values)
        lik.update(1.0, None if values is None else 3.0)
        assert lik.distribution.mean == pytest.approx(0.3, abs=1e-12)


def test_state_round_trip_gives_identical_outputs():
    rng = np.random.default_rng(7)
    scores = rng.random(400).round(3).tolist()
    values = rng.normal(size=400).tolist()
    kwargs = dict(learning_period=20, estimation_samples=30, historic_window_size=90)
    kwargs.update(reestimation_period=25)
    a = AnomalyLikelihood(**kwargs)
    feed(a, scores[:233], values[:233])  # mid-way between refits, window full
    state = json.loads(json.dumps(a.state_dict()))
    b = AnomalyLikelihood(**state["config"])
    b.load_state_dict(state)
    assert b is not a
    assert feed(b, scores[233:], values[233:]) == feed(a, scores[233:], values[233:])


def test_load_state_dict_refuses_other_configuration():
    state = AnomalyLikelihood(learning_period=5).state_dict()
    with pytest.raises(ValueError, match="learning_period"):
        AnomalyLikelihood(learning_period=6).load_state_dict(state)


def test_reset_restores_a_fresh_stream():
    lik = AnomalyLikelihood(learning_period=2, estimation_samples=3)
    first = feed(lik, [0.1, 0.3, 0.2, 0.1, 0.0, 0.9, 1.0])
    lik.reset()
    assert lik.iteration == 0 and lik.distribution is None
    assert feed(lik, [0.1, 0.3, 0.2, 0.1, 0.0, 0.9, 1.0]) == first


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"learning_period": -1}, "learning_period"),
        ({"learning_period": 2.5}, "learning_period"),
        ({"estimation_samples": 0}, "estimation_samples"),
        ({"historic_window_size": 50}, "historic_window_size"),
        ({"reestimation_period": 0}, "reestimation_period"),
        ({"averaging_window": 0}, "averaging_window"),
        ({"averaging_window": True}, "averaging_window"),
        ({"two_sided": "yes"}, "two_sided"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        AnomalyLikelihood(**kwargs)


@pytest.mark.parametrize(
    ("raw_score", "value", "name"),
    [
        (float("nan"), None, "raw_score"),
        (float("inf"), None, "raw_score"),
        (-0.1, None, "raw_score"),
        (1.1, None, "raw_score"),
        ("0.5", None, "raw_score"),
        (0.5, float("nan"), "value"),
        (0.5, "3", "value"),
    ],
)
def test_update_rejects_bad_inputs(raw_score, value, name):
    with pytest.raises((TypeError, ValueError), match=name):
        AnomalyLikelihood().update(raw_score, value)


def test_nab_config_derives_learning_period_from_probation():
    # N = 1127: P = floor(169.05) = 169 -> 84 + 85. N = 10320: P = min(1548, 750) = 750.
    assert AnomalyLikelihoodConfig.nab(1127) == AnomalyLikelihoodConfig(
        learning_period=84, estimation_samples=85
    )
    assert AnomalyLikelihoodConfig.nab(10320) == AnomalyLikelihoodConfig(
        learning_period=375, estimation_samples=375
    )
    with pytest.raises(ValueError, match="file_length"):
        AnomalyLikelihoodConfig.nab(5)


# --------------------------------------------------------------------------------------------
# Log likelihood
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("likelihood", "expected"),
    [
        # ln(1.0000000001 - L) / ln(1 - 0.9999999999), the denominator -23.02585084720009.
        (0.5, math.log(0.5000000001) / -23.02585084720009),  # 0.0301029996659 (stored by NAB)
        (0.999, math.log(0.0010000001) / -23.02585084720009),  # ~0.3
        (0.99999, math.log(0.0000100001) / -23.02585084720009),  # ~0.5
        (1.0, 1.0),
    ],
)
def test_log_likelihood_hand_values(likelihood, expected):
    assert log_likelihood(likelihood) == pytest.approx(expected, rel=1e-9)


def test_log_likelihood_known_decimals():
    assert round(log_likelihood(0.5), 13) == 0.0301029996659
    assert log_likelihood(0.999) == pytest.approx(0.3, abs=1e-8)
    assert log_likelihood(0.99999) == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), "0.5"])
def test_log_likelihood_rejects_bad_input(bad):
    with pytest.raises((TypeError, ValueError), match="likelihood"):
        log_likelihood(bad)


# --------------------------------------------------------------------------------------------
# Spatial anomaly
# --------------------------------------------------------------------------------------------


def test_spatial_anomaly_fires_only_outside_padded_range():
    # After 10 and 20 the range is [10, 20]; padding 0.05 * 10 = 0.5 -> allowed [9.5, 20.5].
    for probe, fires in [(20.5, False), (9.5, False), (20.51, True), (9.49, True)]:
        sp = SpatialAnomaly()
        assert [sp.update(v) for v in (10.0, 20.0)] == [False, False]
        assert sp.update(probe) is fires, probe


def test_spatial_anomaly_rule():
    sp = SpatialAnomaly()
    out = [sp.update(v) for v in (10.0, 20.0, 20.5, 21.2, 9.0, 9.1)]
    # 10, 20: no range yet / degenerate range -> no test.
    # 20.5: range [10, 20], limits [9.5, 20.5] -> inside (boundary).
    # 21.2: range [10, 20.5], pad 0.525, limit 21.025 -> fires.
    # 9.0: range [10, 21.2], pad 0.56, limit 9.44 -> fires.
    # 9.1: range [9, 21.2], pad 0.61, limit 8.39 -> inside.
    assert out == [False, False, False, True, True, False]
    assert (sp.minimum, sp.maximum) == (9.0, 21.2)


def test_spatial_anomaly_silent_while_range_is_degenerate():
    sp = SpatialAnomaly()
    assert [sp.update(v) for v in (5.0, 5.0, 5.0)] == [False] * 3
    assert sp.update(1e6) is False  # m == M: no range to compare against yet
    assert sp.update(-1e6) is True


def test_spatial_anomaly_state_round_trip():
    a = SpatialAnomaly(tolerance=0.1)
    for v in (1.0, 3.0, 2.0):
        a.update(v)
    b = SpatialAnomaly()
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    probe = [3.19, 3.21, 0.7, 0.5]
    assert [b.update(v) for v in probe] == [a.update(v) for v in probe]


@pytest.mark.parametrize(("arg", "bad"), [("tolerance", -0.1), ("value", float("inf"))])
def test_spatial_anomaly_rejects_bad_input(arg, bad):
    with pytest.raises(ValueError, match=arg):
        if arg == "tolerance":
            SpatialAnomaly(tolerance=bad)
        else:
            SpatialAnomaly().update(bad)


# --------------------------------------------------------------------------------------------
# Optional: reproduce NAB's stored HTM detector scores
# --------------------------------------------------------------------------------------------

NAB_FILES = [
    "realKnownCause/nyc_taxi.csv",  # the reference file
    "artificialNoAnomaly/art_flatline.csv",  # flat metric -> null fit
    "realKnownCause/machine_temperature_system_failure.csv",  # > 8640 records: window slides
    "realTweets/Twitter_volume_AAPL.csv",
]


def _nab_root():
    try:
        return dataset_path("nab")
    except DataNotFoundError as err:
        pytest.skip(f"NAB data set not available: {err}")


def _check_nab_file(root, key: str) -> float:
    category, name = key.split("/")
    result_path = root / "results" / "numenta" / category / f"numenta_{name}"
    if not result_path.is_file():
        pytest.skip(f"NAB HTM results not available: {result_path}")
    with open(root / "data" / category / name, newline="") as fh:
        values = [float(r["value"]) for r in csv.DictReader(fh)]
    with open(result_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    raw = [float(r["raw_score"]) for r in rows]
    stored = np.array([float(r["anomaly_score"]) for r in rows])
    got = nab_anomaly_scores(raw, values)
    return float(np.max(np.abs(got - stored)))


@pytest.mark.parametrize("key", NAB_FILES)
def test_reproduces_nab_htm_anomaly_scores(key):
    # The stored scores are printed with 12 significant digits; the match is to ~5e-12.
    assert _check_nab_file(_nab_root(), key) < 1e-9


@pytest.mark.slow
def test_reproduces_nab_htm_anomaly_scores_on_whole_corpus():
    root = _nab_root()
    keys = sorted(
        f"{p.parent.name}/{p.name[len('numenta_') :]}"
        for p in (root / "results" / "numenta").glob("*/numenta_*.csv")
    )
    if len(keys) < 58:
        pytest.skip("NAB HTM results incomplete")
    worst = {key: _check_nab_file(root, key) for key in keys}
    assert max(worst.values()) < 1e-9, {k: v for k, v in worst.items() if v >= 1e-9}

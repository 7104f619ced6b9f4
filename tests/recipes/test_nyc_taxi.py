"""Recipe nyc-taxi: error measures, baselines, causality of the online predictions, a small run."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dendrix.data.timeseries import bundled_series, read_csv_series
from dendrix.recipes.nyc_taxi import (
    NycTaxiConfig,
    baselines,
    mape,
    mape_mean_ratio,
    nrmse,
    predict_series,
    run,
)

SMALL = NycTaxiConfig(
    records=1_500,
    windows=(1_000, 500),
    columns=512,
    num_active_columns=16,
    cells_per_column=8,
    activation_threshold=6,
    min_threshold=4,
    max_new_synapse_count=10,
    max_synapses_per_segment=32,
    max_segments_per_cell=32,
)


def test_error_measures_match_hand_computed_values():
    y, yhat = [1.0, 2.0, 4.0], [1.0, 3.0, 2.0]  # errors 0, 1, 2
    assert nrmse(y, yhat, scale=2.0) == pytest.approx(math.sqrt(5 / 3) / 2)
    assert mape(y, yhat) == pytest.approx(100 * 3 / 7)  # sum |e| / sum |y|
    assert mape_mean_ratio(y, yhat) == pytest.approx(100 * (0 + 0.5 + 0.5) / 3)
    assert nrmse(y, y, scale=1.0) == 0.0
    with pytest.raises(ValueError):
        nrmse(y, yhat[:2], scale=1.0)
    with pytest.raises(ValueError):
        mape_mean_ratio([0.0, 1.0], [1.0, 1.0])


def test_baselines_predict_from_the_past_only():
    y = np.arange(400.0)
    base = baselines(y, steps=5)
    assert np.array_equal(base["persistence"], y)  # made at t: y_t
    seasonal = base["seasonal_naive"]  # made at t for t + 5: y_{t + 5 - 336}
    assert np.isnan(seasonal[:331]).all()
    assert seasonal[331] == 0.0 and seasonal[399] == 68.0


def test_predictions_made_up_to_record_k_ignore_later_records():
    series = read_csv_series(bundled_series("nyc_taxi"))
    stamps, y = series.timestamps[:700], series.values[:700]
    k = 450
    changed = y.copy()
    changed[k + 1 :] = changed[k + 1 :] * 0.3 + 5_000.0
    first = predict_series(stamps, y, SMALL)
    second = predict_series(stamps, changed, SMALL)
    np.testing.assert_array_equal(first[: k + 1], second[: k + 1])
    assert not np.array_equal(first[k + 1 :], second[k + 1 :])  # the change does matter
    assert np.isfinite(first[1:]).all()  # a bucket is known from record 0 on


def test_small_run_reports_finite_metrics_and_a_baseline_claim():
    result = run(SMALL)
    m = result.metrics
    assert m["records"] == 1_500
    for start in SMALL.windows:
        assert m[f"scored_from_{start}"] == 1_500 - 5 - start
        for key in ("nrmse", "mape", "mape_mean_ratio"):
            for prefix in ("", "persistence_", "seasonal_naive_"):
                value = m[f"{prefix}{key}_from_{start}"]
                assert math.isfinite(value) and value >= 0.0
    assert all(math.isfinite(v) for v in m.values())
    # no window starts at record 10,000, so only the persistence claim is made
    [claim] = result.claims
    assert claim.metric == "nrmse_from_500"
    assert claim.paper == m["persistence_nrmse_from_500"]
    assert set(result.figures) == {"predictions"}


def test_window_outside_the_series_is_refused():
    with pytest.raises(ValueError, match="window start"):
        run(dataclasses.replace(SMALL, records=600, windows=(700,)))

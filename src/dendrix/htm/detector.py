"""HTM streaming anomaly detector: encoders -> spatial pooler -> temporal memory -> likelihood.

For each record (t_k, x_k) of a univariate time series:

1. encode: e_k = [RDSE(x_k) ; time-of-day(t_k)], a binary vector of size n_e, where the random
   distributed scalar encoder (RDSE) uses resolution
   r = max(r_min, (x_max - x_min) (1 + 2 p) / B) over the value range padded by p = 20 % on
   each side, B = 130 buckets, r_min = 0.001;
2. pool: a_k = SP(e_k), the active columns (40 of 2048);
3. predict: the temporal memory's raw anomaly s_k = |a_k - pi_{k-1}| / |a_k|, where pi_{k-1}
   are the columns it predicted at step k-1. The memory is NuPIC's backtracking one by default
   (:mod:`dendrix.htm.backtracking_tm`, the algorithm of NAB's published HTM detector), or
   htm.core's (:mod:`dendrix.htm.temporal_memory`, ``temporal_memory="htm"``);
4. score: L_k = the anomaly likelihood of s_k (:class:`~dendrix.htm.anomaly.AnomalyLikelihood`),
   reported as y_k = ln(1.0000000001 - L_k) / ln(1 - 0.9999999999), or y_k = 1 when x_k leaves
   the value range seen so far by more than 5 % (:class:`~dendrix.htm.anomaly.SpatialAnomaly`).

The default parameters are those of the HTM detector of the Numenta Anomaly Benchmark
(algorithms.md section 4; Ahmad S, Lavin A, Purdy S, Agha Z (2017) Unsupervised real-time
anomaly detection for streaming data. Neurocomputing 262:134-147), fixed before any run on the
corpus; NAB lets a detector know each file's value range and length in advance, and the
detector uses both (the range for the encoder, the length for the likelihood's probation).

Example:
    >>> import datetime as dt
    >>> cfg = HTMDetectorConfig(value_min=0.0, value_max=10.0, columns=256,
    ...                         num_active_columns=8, cells_per_column=4)
    >>> det = HTMDetector(cfg)
    >>> start = dt.datetime(2024, 1, 1)
    >>> out = [det.step(start + dt.timedelta(hours=i), float(i % 5)) for i in range(20)]
    >>> 0.0 <= out[-1].raw <= 1.0
    True
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dendrix._io import load_state, save_state
from dendrix._validation import check_choice, check_float, check_int
from dendrix.htm.anomaly import (
    AnomalyLikelihood,
    AnomalyLikelihoodConfig,
    SpatialAnomaly,
    log_likelihood,
)
from dendrix.htm.backtracking_tm import BacktrackingTemporalMemory
from dendrix.htm.spatial_pooler import SpatialPooler
from dendrix.htm.temporal_memory_fast import FastTemporalMemory
from dendrix.sdr.encoders import DateEncoder, RandomDistributedScalarEncoder

__all__ = ["TEMPORAL_MEMORIES", "DetectorOutput", "HTMDetector", "HTMDetectorConfig"]

#: Temporal memories the detector can use: htm.core's ("htm", :mod:`dendrix.htm.temporal_memory`)
#: and NuPIC's backtracking one ("backtracking", :mod:`dendrix.htm.backtracking_tm`).
TEMPORAL_MEMORIES = ("htm", "backtracking")

_FORMAT = "dendrix.htm.HTMDetector/1"


@dataclass(frozen=True)
class HTMDetectorConfig:
    """Parameters of :class:`HTMDetector`; defaults are NAB's HTM detector.

    Attributes:
        value_min, value_max: expected value range (NAB gives each file's min and max).
        num_buckets, range_padding, min_resolution: RDSE resolution rule (module docstring).
        value_size, value_active_bits: RDSE size and active bits.
        time_of_day_bits, time_of_day_radius: time-of-day field (hours); bits None = off.
        columns ... boost_strength: spatial pooler (global inhibition).
        cells_per_column ... predicted_segment_decrement: temporal memory.
        temporal_memory: which one (:data:`TEMPORAL_MEMORIES`): "backtracking" (default) is
            NuPIC's original algorithm, that of NAB's ``numenta`` detector (70.1); "htm" is
            htm.core's, that of NAB's ``numentaTM`` detector (64.6). The backtracking memory
            has no predicted_segment_decrement rule.
        pam_length ... max_seq_length: the backtracking memory's own parameters.
        seed: seeds the encoder hash, the spatial pooler and the temporal memory.
    """

    value_min: float
    value_max: float
    num_buckets: int = 130
    range_padding: float = 0.2
    min_resolution: float = 0.001
    value_size: int = 400
    value_active_bits: int = 21
    time_of_day_bits: int | None = 21
    time_of_day_radius: float = 9.49
    columns: int = 2048
    num_active_columns: int = 40
    potential_pct: float = 0.8
    syn_perm_connected: float = 0.2
    syn_perm_active_inc: float = 0.003
    syn_perm_inactive_dec: float = 0.0005
    boost_strength: float = 0.0
    cells_per_column: int = 32
    activation_threshold: int = 13
    min_threshold: int = 10
    max_new_synapse_count: int = 20
    max_segments_per_cell: int = 128
    max_synapses_per_segment: int = 32
    initial_permanence: float = 0.21
    connected_permanence: float = 0.5
    permanence_increment: float = 0.1
    permanence_decrement: float = 0.1
    predicted_segment_decrement: float = 0.0
    temporal_memory: str = "backtracking"
    pam_length: int = 3
    max_inf_backtrack: int = 10
    max_lrn_backtrack: int = 5
    max_seq_length: int = 32
    seed: int = 1956

    def __post_init__(self) -> None:
        lo = check_float("value_min", self.value_min)
        hi = check_float("value_max", self.value_max)
        if hi < lo:
            raise ValueError(f"value_max={hi} is below value_min={lo}; swap them.")
        check_int("num_buckets", self.num_buckets, minimum=1)
        check_float("range_padding", self.range_padding, minimum=0.0)
        check_float("min_resolution", self.min_resolution, minimum=0.0, open_min=True)
        check_choice("temporal_memory", self.temporal_memory, TEMPORAL_MEMORIES)

    @property
    def resolution(self) -> float:
        """RDSE resolution r = max(r_min, padded range / B)."""
        span = abs(self.value_max - self.value_min)
        return max(self.min_resolution, span * (1 + 2 * self.range_padding) / self.num_buckets)

    @classmethod
    def for_values(
        cls, values: Sequence[float] | np.ndarray, **overrides: Any
    ) -> HTMDetectorConfig:
        """The config for a series whose whole value range is known (as in NAB)."""
        arr = np.asarray(values, dtype=np.float64)
        if arr.size == 0 or not np.isfinite(arr).all():
            raise ValueError("values must be a non-empty series of finite numbers.")
        return cls(value_min=float(arr.min()), value_max=float(arr.max()), **overrides)


class DetectorOutput(NamedTuple):
    """Scores of one record: raw anomaly, likelihood L, log-likelihood and reported score."""

    raw: float
    likelihood: float
    log_likelihood: float
    score: float


class HTMDetector:
    """Streaming anomaly detector (module docstring), one record at a time.

    Args:
        config: the detector's parameters.
        likelihood: the likelihood's schedule; ``AnomalyLikelihoodConfig.nab(n)`` reproduces
            NAB's for a file of n records; the default is NuPIC's (288 + 100 records).
    """

    def __init__(
        self, config: HTMDetectorConfig, likelihood: AnomalyLikelihoodConfig | None = None
    ) -> None:
        if not isinstance(config, HTMDetectorConfig):
            raise TypeError(f"config must be an HTMDetectorConfig, got {type(config).__name__}.")
        self.config = config
        self.likelihood_config = likelihood or AnomalyLikelihoodConfig()
        c = config
        self._value_encoder = RandomDistributedScalarEncoder(
            size=c.value_size, active_bits=c.value_active_bits, resolution=c.resolution, seed=c.seed
        )
        self._time_encoder = (
            DateEncoder(
                time_of_day=c.time_of_day_bits,
                time_of_day_radius=c.time_of_day_radius,
                day_of_week=None,
                weekend=None,
            )
            if c.time_of_day_bits is not None
            else None
        )
        input_size = c.value_size + (self._time_encoder.size if self._time_encoder else 0)
        self.spatial_pooler = SpatialPooler(
            input_size,
            c.columns,
            potential_pct=c.potential_pct,
            num_active_columns=c.num_active_columns,
            syn_perm_connected=c.syn_perm_connected,
            syn_perm_active_inc=c.syn_perm_active_inc,
            syn_perm_inactive_dec=c.syn_perm_inactive_dec,
            boost_strength=c.boost_strength,
            seed=c.seed,
        )
        shared = dict(  # the parameters both temporal memories take
            columns=c.columns,
            cells_per_column=c.cells_per_column,
            activation_threshold=c.activation_threshold,
            min_threshold=c.min_threshold,
            initial_permanence=c.initial_permanence,
            connected_permanence=c.connected_permanence,
            permanence_increment=c.permanence_increment,
            permanence_decrement=c.permanence_decrement,
            max_segments_per_cell=c.max_segments_per_cell,
            max_synapses_per_segment=c.max_synapses_per_segment,
            seed=c.seed,
        )
        self.temporal_memory: FastTemporalMemory | BacktrackingTemporalMemory
        if c.temporal_memory == "backtracking":
            self.temporal_memory = BacktrackingTemporalMemory(
                **shared,
                new_synapse_count=c.max_new_synapse_count,
                pam_length=c.pam_length,
                max_inf_backtrack=c.max_inf_backtrack,
                max_lrn_backtrack=c.max_lrn_backtrack,
                max_seq_length=c.max_seq_length,
            )
        else:  # the compiled temporal memory: identical results to the reference, ~10x faster
            self.temporal_memory = FastTemporalMemory(
                **shared,
                max_new_synapse_count=c.max_new_synapse_count,
                predicted_segment_decrement=c.predicted_segment_decrement,
            )
        self.likelihood = AnomalyLikelihood.from_config(self.likelihood_config)
        self.spatial = SpatialAnomaly()
        self.records = 0

    # -- encoding -------------------------------------------------------------------------
    def encode(
        self, timestamps: Sequence[_dt.datetime] | np.ndarray, values: Sequence[float]
    ) -> np.ndarray:
        """Encoder output for a batch of records, bool ``[N, input_size]``."""
        vals = np.asarray(values, dtype=np.float64)
        parts = [self._value_encoder.encode(vals).dense.numpy()]
        if self._time_encoder is not None:
            parts.append(self._time_encoder.encode(list(timestamps)).dense.numpy())
        return np.concatenate(parts, axis=-1)

    # -- streaming ------------------------------------------------------------------------
    def _advance(self, encoding: np.ndarray, value: float, learn: bool) -> DetectorOutput:
        columns = self.spatial_pooler.compute(encoding, learn)
        self.temporal_memory.compute(columns, learn=learn)
        raw = float(self.temporal_memory.anomaly)
        likelihood = self.likelihood.update(raw, value)
        log_l = log_likelihood(likelihood)
        score = 1.0 if self.spatial.update(value) else log_l
        self.records += 1
        return DetectorOutput(raw, likelihood, log_l, score)

    def step(self, timestamp: _dt.datetime, value: float, *, learn: bool = True) -> DetectorOutput:
        """Score one record (and learn from it unless ``learn=False``)."""
        value = check_float("value", value)
        encoding = self.encode([timestamp], [value])[0]
        return self._advance(encoding, value, learn)

    def run(
        self,
        timestamps: Sequence[_dt.datetime] | np.ndarray,
        values: Sequence[float] | np.ndarray,
        *,
        learn: bool = True,
        progress: Any = None,
    ) -> dict[str, np.ndarray]:
        """Score a whole series in order; returns arrays ``raw``, ``likelihood``,
        ``log_likelihood`` and ``score`` of length N.

        Args:
            progress: optional callable ``progress(n)`` called after every record (e.g. a
                tqdm bar's ``update``).
        """
        vals = np.asarray(values, dtype=np.float64)
        if vals.ndim != 1 or len(timestamps) != vals.size:
            raise ValueError(
                f"timestamps and values must be 1-D of equal length, got {len(timestamps)} "
                f"and shape {vals.shape}."
            )
        if not np.isfinite(vals).all():
            bad = int(np.flatnonzero(~np.isfinite(vals))[0])
            raise ValueError(f"values[{bad}] = {vals[bad]} is not finite.")
        encodings = self.encode(timestamps, vals)
        out = np.empty((vals.size, 4), dtype=np.float64)
        for k in range(vals.size):
            out[k] = self._advance(encodings[k], float(vals[k]), learn)
            if progress is not None:
                progress(1)
        return {name: out[:, i].copy() for i, name in enumerate(DetectorOutput._fields)}

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "config": dataclasses.asdict(self.config),
            "likelihood_config": dataclasses.asdict(self.likelihood_config),
            "records": self.records,
            "spatial_pooler": self.spatial_pooler.state_dict(),
            "temporal_memory": self.temporal_memory.state_dict(),
            "likelihood": self.likelihood.state_dict(),
            "spatial": self.spatial.state_dict(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> HTMDetector:
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"state is not an HTMDetector state ({_FORMAT} expected).")
        config = dict(state["config"])
        # detectors saved before the backtracking memory existed all used htm.core's
        config.setdefault("temporal_memory", "htm")
        det = cls(
            HTMDetectorConfig(**config),
            AnomalyLikelihoodConfig(**state["likelihood_config"]),
        )
        det.spatial_pooler.load_state_dict(state["spatial_pooler"])
        det.temporal_memory.load_state_dict(state["temporal_memory"])
        det.likelihood.load_state_dict(state["likelihood"])
        det.spatial.load_state_dict(state["spatial"])
        det.records = int(state["records"])
        return det

    def save(self, path: str | Path) -> Path:
        """Write the whole detector state to ``path`` (``.npz``), atomically."""
        return save_state(path, self.state_dict())

    @classmethod
    def load(cls, path: str | Path) -> HTMDetector:
        """A detector equal to the one saved at ``path``; the stream resumes where it was."""
        return cls.from_state_dict(load_state(path))

r"""Raw anomaly score, anomaly likelihood and the NAB spatial-anomaly rule.

Equations (Ahmad, Lavin, Purdy & Agha 2017, "Unsupervised real-time anomaly detection for
streaming data", Neurocomputing 262:134-147; constants and edge cases as in
NuPIC's ``nupic/algorithms/anomaly_likelihood.py`` and NAB's ``numenta_detector.py``, which
produced the published NAB results; this is an independent implementation).

* Raw anomaly score. With :math:`A_t` the set of active columns at record :math:`t` and
  :math:`\Pi_{t-1}` the set of columns that held a predictive cell at :math:`t-1`,

  .. math:: s_t = |A_t \setminus \Pi_{t-1}| \,/\, |A_t| \in [0, 1], \qquad s_t = 0
     \text{ when } A_t = \emptyset.

* Smoothing. :math:`\tilde s_t = \frac{1}{W'} \sum_{j=t-W'+1}^{t} s_j`, the mean of the last
  :math:`W' = \min(W, \text{records seen})` raw scores, :math:`W` = ``averaging_window`` (10).
* Normal fit. At record :math:`t \ge T_p = T_\ell + T_e` (``learning_period`` +
  ``estimation_samples``; records are numbered from 0) when there is no fit yet or
  :math:`t \bmod R = 0` (:math:`R` = ``reestimation_period``), the smoothed scores are
  recomputed over the last :math:`H` (``historic_window_size``) records *before* :math:`t`,
  the first :math:`k = \min(t, \max(0, T_\ell - \max(0, t - H)))` of them (the part of the
  learning period still in the window) are dropped, and a normal distribution is fitted to the
  rest:
  :math:`\mu = \max(\operatorname{mean}, 0.03)`, :math:`\sigma^2 = \max(\operatorname{var},
  0.0003)` (population variance), :math:`\sigma = \sqrt{\sigma^2}`. When no record is left, or
  when the metric values of those records are all given and have variance below
  :math:`1.5 \times 10^{-5}` (a flat metric), the broad null fit :math:`\mu = 0.5,
  \sigma = 1000` is used instead (every score is then unremarkable).
* Tail probability (Gaussian Q function, the upper tail, as in Ahmad et al. 2017):
  :math:`Q(x) = P(X \ge x) = \tfrac12 \operatorname{erfc}\!\big((x - \mu) / (\sigma \cdot
  1.4142)\big)`, so :math:`Q > 0.5` and :math:`L < 0.5` for a smoothed score below the mean.
  1.4142 is NuPIC's truncated :math:`\sqrt2`, kept so published scores are reproduced. For
  :math:`x < \mu` it is evaluated by mirroring, :math:`Q(x) = 1 - Q(2\mu - x)`, as NuPIC did.
  This one-sided form is what produced the published NAB results (checked: the stored
  ``anomaly_score`` columns of all 58 files are reproduced to 5e-12). Later NuPIC releases
  made it two-sided, :math:`Q(x) = Q(2\mu - x)` below the mean (so :math:`L \ge 0.5`); that
  variant is available as ``two_sided=True``.
* Filter. With :math:`r = 1 - 0.99999` (red zone) and :math:`y = 1 - 0.999` (yellow zone): if
  :math:`Q(\tilde s_t) \le r` and the previous record's tail probability (under the current
  fit) is also :math:`\le r`, use :math:`\hat Q_t = y`; otherwise :math:`\hat Q_t = Q(\tilde
  s_t)`. Only the first record of a run of red-zone records stays red.
* Likelihood. :math:`L_t = 0.5` for :math:`t < T_p`, else :math:`L_t = 1 - \hat Q_t`.
* Log likelihood: :math:`\lambda = \ln(1.0000000001 - L) / \ln(1 - 0.9999999999)` (the
  denominator is NuPIC's constant :math:`-23.02585084720009`, :math:`\ln` of the float
  :math:`1 - 0.9999999999 \approx 1.0000000827 \times 10^{-10}`); :math:`\lambda(0.5) \approx
  0.0301`, :math:`\lambda(0.99999) \approx 0.5`, :math:`\lambda(1) = 1`, :math:`\lambda(0) \approx
  -4 \times 10^{-12}` (slightly negative, as in NuPIC).
* NAB spatial anomaly. With :math:`m_t, M_t` the minimum and maximum of the metric values
  before record :math:`t`: when :math:`m_t \ne M_t` and :math:`v_t \notin [m_t - 0.05 (M_t -
  m_t), M_t + 0.05 (M_t - m_t)]` the record is a spatial anomaly and the NAB score is 1.0;
  otherwise it is :math:`\lambda(L_t)`. NAB sets :math:`T_\ell = \lfloor P/2 \rfloor` and
  :math:`T_e = P - T_\ell` from the file's probation :math:`P = \min(\lfloor 0.15 N \rfloor,
  750)`, :math:`R = 100`, other parameters at their defaults.

The maths lives in the pure functions :func:`raw_anomaly_score`, :func:`estimate_normal`,
:func:`tail_probability` and :func:`log_likelihood`; :class:`AnomalyLikelihood` and
:class:`SpatialAnomaly` hold the streaming state (plain data, see ``state_dict``).

Example:
    >>> from dendrix.htm.anomaly import AnomalyLikelihood, log_likelihood, raw_anomaly_score
    >>> raw_anomaly_score([1, 2, 3, 4], [3, 4, 9])
    0.5
    >>> lik = AnomalyLikelihood(learning_period=2, estimation_samples=3)
    >>> [lik.update(0.1) for _ in range(5)]
    [0.5, 0.5, 0.5, 0.5, 0.5]
    >>> lik.update(1.0) > 0.9999
    True
    >>> round(log_likelihood(0.5), 4)
    0.0301
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from dendrix._validation import check_float, check_int
from dendrix.htm.nab import PROBATIONARY_PERCENT, probation_length
from dendrix.sdr import SDR

__all__ = [
    "FLAT_METRIC_VARIANCE",
    "MEAN_FLOOR",
    "NULL_FIT",
    "RED_ZONE",
    "SPATIAL_TOLERANCE",
    "VARIANCE_FLOOR",
    "YELLOW_ZONE",
    "AnomalyLikelihood",
    "AnomalyLikelihoodConfig",
    "NormalFit",
    "SpatialAnomaly",
    "estimate_normal",
    "log_likelihood",
    "nab_anomaly_scores",
    "raw_anomaly_score",
    "tail_probability",
]

#: Lower bound on the fitted mean of the smoothed scores.
MEAN_FLOOR = 0.03
#: Lower bound on the fitted variance of the smoothed scores.
VARIANCE_FLOOR = 0.0003
#: Metric values with a (population) variance below this are "flat": the null fit is used.
FLAT_METRIC_VARIANCE = 1.5e-5
#: Tail probability at or below which a record is in the red zone (likelihood >= 0.99999).
RED_ZONE = 1.0 - 0.99999
#: Tail probability that replaces a red-zone value following another one (likelihood 0.999).
YELLOW_ZONE = 1.0 - 0.999
#: Tolerance of the NAB spatial-anomaly rule, as a fraction of the range seen so far.
SPATIAL_TOLERANCE = 0.05

_ERFC_SQRT2 = 1.4142  # NuPIC's truncated sqrt(2) in the Q function
_LOG_OFFSET = 1.0000000001
_LOG_DENOMINATOR = math.log(1.0 - 0.9999999999)  # == -23.02585084720009 in float64


class NormalFit(NamedTuple):
    """A fitted normal distribution of smoothed anomaly scores (dimensionless)."""

    mean: float
    variance: float
    stdev: float


#: The broad fit used before any score can be fitted, or for a flat metric.
NULL_FIT = NormalFit(mean=0.5, variance=1e6, stdev=1e3)


# --------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------


def _column_set(name: str, columns: object) -> set[int]:
    if isinstance(columns, SDR):
        if columns.dense.ndim != 1:
            raise ValueError(
                f"{name} must be a single SDR, got a batch of shape {columns.batch_shape}. "
                "Score each sample separately (e.g. sdr[i])."
            )
        return set(columns.indices.tolist())
    if isinstance(columns, (torch.Tensor, np.ndarray)):
        if columns.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array of column indices, got shape {tuple(columns.shape)}."
            )
        is_int = (
            not (columns.is_floating_point() or columns.is_complex() or columns.dtype == torch.bool)
            if isinstance(columns, torch.Tensor)
            else np.issubdtype(columns.dtype, np.integer)
        )
        if not is_int:
            raise TypeError(
                f"{name} must hold integer column indices, got dtype {columns.dtype}. "
                "Pass indices (e.g. torch.nonzero(mask).flatten()) or an SDR."
            )
        columns = columns.tolist()
    if not isinstance(columns, Iterable) or isinstance(columns, (str, bytes)):
        raise TypeError(
            f"{name} must be an SDR or a sequence of integer column indices, got "
            f"{type(columns).__name__}."
        )
    out: set[int] = set()
    for c in columns:
        try:
            if isinstance(c, bool):
                raise TypeError
            i = operator.index(c)
        except TypeError:
            raise TypeError(
                f"{name} must hold integer column indices, got {c!r} ({type(c).__name__})."
            ) from None
        if i < 0:
            raise ValueError(f"{name} must hold non-negative column indices, got {i}.")
        out.add(i)
    return out


def raw_anomaly_score(
    active_columns: SDR | Sequence[int] | torch.Tensor | np.ndarray,
    predicted_columns: SDR | Sequence[int] | torch.Tensor | np.ndarray,
) -> float:
    r"""Fraction of active columns that were not predicted: :math:`|A \setminus \Pi| / |A|`.

    :math:`A` is the set of active columns at record :math:`t`, :math:`\Pi` the set of columns
    holding at least one predictive cell at :math:`t-1`; the score is 0 when :math:`A` is empty
    (Ahmad et al. 2017). Duplicated indices count once.

    Args:
        active_columns: active columns at t: an unbatched :class:`~dendrix.sdr.SDR`
            ``[n_columns]`` or column indices ``[w]`` (sequence, tensor or array).
        predicted_columns: predicted columns from t-1, same forms.

    Example:
        >>> raw_anomaly_score([0, 1, 2, 3], [2, 3])
        0.5
    """
    active = _column_set("active_columns", active_columns)
    predicted = _column_set("predicted_columns", predicted_columns)
    if (
        isinstance(active_columns, SDR)
        and isinstance(predicted_columns, SDR)
        and active_columns.size != predicted_columns.size
    ):
        raise ValueError(
            f"active_columns and predicted_columns must have the same size, got "
            f"{active_columns.size} and {predicted_columns.size}."
        )
    if not active:
        return 0.0
    return len(active - predicted) / len(active)


def estimate_normal(samples: Sequence[float] | np.ndarray, *, floors: bool = True) -> NormalFit:
    r"""Fit :math:`\mu` = mean and :math:`\sigma^2` = population variance of ``samples``.

    With ``floors`` (used for anomaly scores): :math:`\mu \leftarrow \max(\mu, 0.03)` and
    :math:`\sigma^2 \leftarrow \max(\sigma^2, 0.0003)` (NuPIC ``estimateNormal``), so a model
    that has learned its stream perfectly does not turn the smallest blip into an alarm.
    :math:`\sigma = \sqrt{\sigma^2}` (0 when the variance is 0).

    Args:
        samples: the values ``[n]``, ``n >= 1``.
        floors: apply :data:`MEAN_FLOOR` and :data:`VARIANCE_FLOOR`.

    Example:
        >>> estimate_normal([0.0, 0.0, 0.0])
        NormalFit(mean=0.03, variance=0.0003, stdev=0.017320508075688773)
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim != 1 or data.size == 0:
        raise ValueError(f"samples must be a non-empty 1-D sequence, got shape {data.shape}.")
    mean = float(np.mean(data))
    variance = float(np.var(data))
    if floors:
        if mean < MEAN_FLOOR:
            mean = MEAN_FLOOR
        if variance < VARIANCE_FLOOR:
            variance = VARIANCE_FLOOR
    stdev = math.sqrt(variance) if variance > 0 else 0.0
    return NormalFit(mean, variance, stdev)


def tail_probability(x: float, fit: NormalFit, *, two_sided: bool = False) -> float:
    r"""Gaussian upper-tail probability :math:`Q(x) = P(X \ge x)` of ``x`` under ``fit``.

    :math:`Q(x) = \tfrac12 \operatorname{erfc}((x - \mu) / (1.4142\,\sigma))` (Ahmad et al.
    2017; NuPIC's truncated :math:`\sqrt2 \approx 1.4142` is kept). Below the mean it is
    evaluated by mirroring, :math:`Q(x) = 1 - Q(2\mu - x)`, which is what the NAB results
    were computed with. ``two_sided=True`` gives later NuPIC's variant :math:`Q(x) = Q(2\mu -
    x)` below the mean: the probability of a sample at least as far from :math:`\mu` on the
    same side, never above 0.5.

    Args:
        x: the smoothed anomaly score.
        fit: the distribution; ``fit.stdev`` must be positive.
        two_sided: mirror without complementing below the mean.

    Example:
        >>> fit = NormalFit(0.5, 0.01, 0.1)
        >>> tail_probability(0.5, fit)
        0.5
        >>> round(tail_probability(0.3, fit), 4)  # two sigma below the mean
        0.9773
        >>> round(tail_probability(0.3, fit, two_sided=True), 4)
        0.0227
    """
    mean, stdev = fit.mean, fit.stdev
    if not stdev > 0:
        raise ValueError(f"fit.stdev must be positive, got {stdev}. Fit with floors=True.")
    if x < mean:
        mirrored = tail_probability(2 * mean - x, fit)
        return mirrored if two_sided else 1.0 - mirrored
    return 0.5 * math.erfc((x - mean) / stdev / _ERFC_SQRT2)


def log_likelihood(likelihood: float) -> float:
    r"""Log-scaled likelihood :math:`\ln(1.0000000001 - L) / \ln(1 - 0.9999999999)`.

    Spreads the interesting region :math:`L \to 1` over :math:`[0, 1]`: 0.5 maps to 0.0301,
    0.999 to 0.3, 0.99999 to 0.5, 1 to 1 (NuPIC ``computeLogLikelihood``; the NAB HTM detector
    reports this value).

    Args:
        likelihood: the anomaly likelihood :math:`L \in [0, 1]`.

    Example:
        >>> round(log_likelihood(0.999), 6)
        0.3
    """
    L = check_float("likelihood", likelihood, minimum=0.0, maximum=1.0)
    return math.log(_LOG_OFFSET - L) / _LOG_DENOMINATOR


def _filtered_tail(previous: float, current: float) -> float:
    """Red-zone filter: a red value right after a red value becomes yellow."""
    if current <= RED_ZONE and previous <= RED_ZONE:
        return YELLOW_ZONE
    return current


def _push(buf: list[float], total: float, score: float, window: int) -> float:
    """Append ``score`` to the moving-average buffer ``buf`` (in place); return the new total.

    The total is kept incrementally (subtract the value leaving, add the one entering): the
    same floating-point sequence as NuPIC's ``MovingAverage``, so fits reproduce bit for bit.
    """
    if len(buf) == window:
        total -= buf.pop(0)
    buf.append(score)
    return total + score


def _smooth(scores: Iterable[float], window: int) -> tuple[list[float], list[float], float]:
    """Moving means of ``scores`` over ``window``; returns (means, last window, its total)."""
    means: list[float] = []
    buf: list[float] = []
    total = 0.0
    for s in scores:
        total = _push(buf, total, s, window)
        means.append(total / len(buf))
    return means, buf, total


# --------------------------------------------------------------------------------------------
# Anomaly likelihood
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnomalyLikelihoodConfig:
    """Parameters of :class:`AnomalyLikelihood` (record counts; see the module equations).

    Args:
        learning_period: :math:`T_\\ell`, records whose scores are left out of the fit (the
            model is still learning).
        estimation_samples: :math:`T_e \\ge 1`, further records before the first fit;
            :math:`L = 0.5` for the first :math:`T_\\ell + T_e` records.
        historic_window_size: :math:`H \\ge T_e`, records kept for refitting.
        reestimation_period: :math:`R`, refit at records whose index is a multiple of it.
        averaging_window: :math:`W`, length of the moving average of raw scores.
        two_sided: use the two-sided tail of later NuPIC releases instead of the upper tail
            of the paper and of the published NAB results (:func:`tail_probability`).
    """

    learning_period: int = 288
    estimation_samples: int = 100
    historic_window_size: int = 8640
    reestimation_period: int = 100
    averaging_window: int = 10
    two_sided: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "learning_period", check_int("learning_period", self.learning_period, minimum=0))
        set_(
            self,
            "estimation_samples",
            check_int(
                "estimation_samples",
                self.estimation_samples,
                minimum=1,
                hint="At least one score is needed for the first fit.",
            ),
        )
        set_(
            self,
            "historic_window_size",
            check_int(
                "historic_window_size",
                self.historic_window_size,
                minimum=self.estimation_samples,
                hint="It must hold the estimation samples (>= estimation_samples).",
            ),
        )
        set_(
            self,
            "reestimation_period",
            check_int("reestimation_period", self.reestimation_period, minimum=1),
        )
        set_(
            self,
            "averaging_window",
            check_int("averaging_window", self.averaging_window, minimum=1),
        )
        if not isinstance(self.two_sided, bool):
            raise TypeError(f"two_sided must be a bool, got {self.two_sided!r}.")

    @property
    def probationary_period(self) -> int:
        """:math:`T_\\ell + T_e`: records for which the likelihood is 0.5."""
        return self.learning_period + self.estimation_samples

    @classmethod
    def nab(
        cls, file_length: int, probationary_percent: float = PROBATIONARY_PERCENT
    ) -> AnomalyLikelihoodConfig:
        """NAB HTM detector setting for an ``file_length``-record file.

        Probation :math:`P = \\min(\\lfloor 0.15 N \\rfloor, 750)`
        (:func:`dendrix.htm.nab.probation_length`), ``learning_period`` = :math:`\\lfloor P/2
        \\rfloor`, ``estimation_samples`` = :math:`P - \\lfloor P/2 \\rfloor`,
        ``reestimation_period`` = 100, others default.

        Args:
            file_length: number of records N in the file (at least 7, so that P >= 1).
            probationary_percent: NAB's ``probationaryPercent`` (0.15).
        """
        n = check_int("file_length", file_length, minimum=1)
        p = probation_length(n, probationary_percent)
        if p < 1:
            raise ValueError(
                f"file_length={n} gives a probation of {p} records; NAB needs at least 1 "
                "(use a longer file or a larger probationary_percent)."
            )
        return cls(learning_period=p // 2, estimation_samples=p - p // 2, reestimation_period=100)


class AnomalyLikelihood:
    """Streaming anomaly likelihood :math:`L_t` of raw anomaly scores.

    Implements the likelihood of the module docstring (Ahmad et al. 2017): smooth,
    fit a normal every ``reestimation_period`` records, report :math:`1 - \\hat Q` of the
    smoothed score, 0.5 during the first ``learning_period + estimation_samples`` records. The
    maths is in :func:`estimate_normal` and :func:`tail_probability`; this class keeps the
    stream's state. :meth:`update` is NuPIC's ``AnomalyLikelihood.anomalyProbability(value,
    anomalyScore, timestamp)`` (the timestamp never affected the output and is not taken).

    Args:
        learning_period, estimation_samples, historic_window_size, reestimation_period,
        averaging_window, two_sided: see :class:`AnomalyLikelihoodConfig` (defaults: 288, 100,
            8640, 100, 10, NuPIC's; upper tail).

    Example:
        >>> lik = AnomalyLikelihood.from_config(AnomalyLikelihoodConfig.nab(1000))
        >>> lik.probationary_period
        150
        >>> lik.update(0.2, value=3.5)
        0.5
    """

    def __init__(
        self,
        learning_period: int = 288,
        estimation_samples: int = 100,
        historic_window_size: int = 8640,
        reestimation_period: int = 100,
        averaging_window: int = 10,
        two_sided: bool = False,
    ) -> None:
        self._config = AnomalyLikelihoodConfig(
            learning_period=learning_period,
            estimation_samples=estimation_samples,
            historic_window_size=historic_window_size,
            reestimation_period=reestimation_period,
            averaging_window=averaging_window,
            two_sided=two_sided,
        )
        self.reset()

    @classmethod
    def from_config(cls, config: AnomalyLikelihoodConfig) -> AnomalyLikelihood:
        """Build from a :class:`AnomalyLikelihoodConfig` (e.g. the ``nab`` preset)."""
        if not isinstance(config, AnomalyLikelihoodConfig):
            raise TypeError(
                f"config must be an AnomalyLikelihoodConfig, got {type(config).__name__}."
            )
        return cls(**asdict(config))

    def reset(self) -> None:
        """Forget the stream: back to the state of a fresh instance."""
        H = self._config.historic_window_size
        self._iteration = 0
        self._scores: deque[float] = deque(maxlen=H)  # raw scores of the last H records
        self._values: deque[float | None] = deque(maxlen=H)  # their metric values
        self._fit: NormalFit | None = None
        self._window: list[float] = []  # last W raw scores (moving average)
        self._total = 0.0
        self._previous_tail = 1.0  # tail probability of the previous record, current fit

    # -- read-only views ----------------------------------------------------------------------
    @property
    def config(self) -> AnomalyLikelihoodConfig:
        return self._config

    @property
    def iteration(self) -> int:
        """Number of records seen."""
        return self._iteration

    @property
    def probationary_period(self) -> int:
        return self._config.probationary_period

    @property
    def distribution(self) -> NormalFit | None:
        """The current normal fit (``None`` before the first one)."""
        return self._fit

    # -- the step -----------------------------------------------------------------------------
    def _refit(self) -> None:
        c = self._config
        t = self._iteration
        skip = min(t, max(0, c.learning_period - max(0, t - c.historic_window_size)))
        means, self._window, self._total = _smooth(self._scores, c.averaging_window)
        if len(means) <= skip:
            fit = NULL_FIT
        else:
            fit = estimate_normal(means[skip:])
            values = list(self._values)
            if all(v is not None for v in values):
                flat = estimate_normal(np.asarray(values[skip:], dtype=np.float64), floors=False)
                if flat.variance < FLAT_METRIC_VARIANCE:
                    fit = NULL_FIT
        self._fit = fit
        self._previous_tail = tail_probability(means[-1], fit, two_sided=c.two_sided)

    def update(self, raw_score: float, value: float | None = None) -> float:
        """Consume one record; return its anomaly likelihood :math:`L_t \\in [0, 1]`.

        Args:
            raw_score: raw anomaly score :math:`s_t \\in [0, 1]` (:func:`raw_anomaly_score`).
            value: the metric value of the record, or ``None``. Values only serve the
                flat-metric rule (null fit when the fitted records' values are constant); it
                applies only when every record in the history window has a value.
        """
        s = check_float(
            "raw_score",
            raw_score,
            minimum=0.0,
            maximum=1.0,
            hint="Raw anomaly scores are fractions of active columns (raw_anomaly_score).",
        )
        v = None if value is None else check_float("value", value)
        c = self._config
        if self._iteration < c.probationary_period:
            likelihood = 0.5
        else:
            if self._fit is None or self._iteration % c.reestimation_period == 0:
                self._refit()
            assert self._fit is not None
            self._total = _push(self._window, self._total, s, c.averaging_window)
            tail = tail_probability(
                self._total / len(self._window), self._fit, two_sided=c.two_sided
            )
            likelihood = 1.0 - _filtered_tail(self._previous_tail, tail)
            self._previous_tail = tail
        self._scores.append(s)
        self._values.append(v)
        self._iteration += 1
        return likelihood

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The stream state as plain data (ints, floats, ``None``, lists; JSON-serialisable).

        ``load_state_dict`` on an instance with the same configuration resumes the stream
        with identical outputs.
        """
        return {
            "config": asdict(self._config),
            "iteration": self._iteration,
            "scores": list(self._scores),
            "values": list(self._values),
            "fit": None if self._fit is None else list(self._fit),
            "window": list(self._window),
            "total": self._total,
            "previous_tail": self._previous_tail,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (the configurations must match).

        To restore into a fresh object: ``AnomalyLikelihood(**state["config"])`` first.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {type(state).__name__}.")
        missing = {
            "config",
            "iteration",
            "scores",
            "values",
            "fit",
            "window",
            "total",
            "previous_tail",
        } - set(state)
        if missing:
            raise ValueError(f"state is missing keys {sorted(missing)}; pass a state_dict().")
        config = AnomalyLikelihoodConfig(**state["config"])
        if config != self._config:
            raise ValueError(
                f"state was saved with {config}, this instance has {self._config}. Build it "
                'with AnomalyLikelihood(**state["config"]) first.'
            )
        H = config.historic_window_size
        scores = [
            check_float("state['scores']", s, minimum=0.0, maximum=1.0) for s in state["scores"]
        ]
        values = [None if v is None else check_float("state['values']", v) for v in state["values"]]
        if len(scores) != len(values) or len(scores) > H:
            raise ValueError(
                "state['scores'] and state['values'] must have equal lengths <= "
                f"historic_window_size={H}, got {len(scores)} and {len(values)}."
            )
        fit = state["fit"]
        self._iteration = check_int("state['iteration']", state["iteration"], minimum=0)
        self._scores = deque(scores, maxlen=H)
        self._values = deque(values, maxlen=H)
        self._fit = None if fit is None else NormalFit(*(float(x) for x in fit))
        self._window = [float(x) for x in state["window"]]
        self._total = float(state["total"])
        self._previous_tail = float(state["previous_tail"])


# --------------------------------------------------------------------------------------------
# NAB spatial anomaly and the NAB detector score
# --------------------------------------------------------------------------------------------


class SpatialAnomaly:
    r"""NAB's spatial-anomaly rule: a value outside the padded range seen so far.

    With :math:`m, M` the minimum and maximum of all earlier values, record value :math:`v` is
    a spatial anomaly when :math:`m \ne M` and :math:`v < m - \tau (M - m)` or :math:`v > M +
    \tau (M - m)`, :math:`\tau` = ``tolerance`` (NAB ``SPATIAL_TOLERANCE`` = 0.05). The range is
    then widened to include :math:`v`. Nothing fires before two distinct values have been seen.
    NAB's HTM detector (``numenta_detector.py``, Ahmad et al. 2017) reports 1.0 for such a
    record instead of its log likelihood, to account for human labellers marking values beyond
    the range seen so far.

    Args:
        tolerance: :math:`\tau \ge 0`, padding as a fraction of the range.

    Example:
        >>> sp = SpatialAnomaly()
        >>> [sp.update(v) for v in [10.0, 20.0, 20.4, 21.0]]
        [False, False, False, True]
    """

    def __init__(self, tolerance: float = SPATIAL_TOLERANCE) -> None:
        self.tolerance = check_float("tolerance", tolerance, minimum=0.0)
        self.reset()

    def reset(self) -> None:
        self.minimum: float | None = None
        self.maximum: float | None = None

    def update(self, value: float) -> bool:
        """Test ``value`` against the padded range of earlier values, then include it.

        Args:
            value: the metric value (finite).
        """
        v = check_float("value", value)
        anomaly = False
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None and lo != hi:
            pad = (hi - lo) * self.tolerance
            anomaly = v > hi + pad or v < lo - pad
        if hi is None or v > hi:
            self.maximum = v
        if lo is None or v < lo:
            self.minimum = v
        return anomaly

    def state_dict(self) -> dict[str, Any]:
        """Plain-data state: tolerance and the range seen so far."""
        return {"tolerance": self.tolerance, "minimum": self.minimum, "maximum": self.maximum}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`."""
        self.tolerance = check_float("state['tolerance']", state["tolerance"], minimum=0.0)
        lo, hi = state["minimum"], state["maximum"]
        if (lo is None) != (hi is None):
            raise ValueError("state['minimum'] and state['maximum'] must both be None or both set.")
        self.minimum = None if lo is None else check_float("state['minimum']", lo)
        self.maximum = None if hi is None else check_float("state['maximum']", hi)


def nab_anomaly_scores(
    raw_scores: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    *,
    probationary_percent: float = PROBATIONARY_PERCENT,
) -> np.ndarray:
    r"""The NAB HTM detector's reported score for a whole file from its raw scores and values.

    :math:`a_t = 1` when record :math:`t` is a :class:`SpatialAnomaly`, else
    :math:`\lambda(L_t)` (:func:`log_likelihood`) with :math:`L_t` from
    :class:`AnomalyLikelihood` configured by :meth:`AnomalyLikelihoodConfig.nab` for the
    file's length (NAB ``numenta_detector.py``; Ahmad et al. 2017).

    Args:
        raw_scores: raw anomaly scores ``[N]`` in [0, 1].
        values: metric values ``[N]``.
        probationary_percent: NAB's ``probationaryPercent`` (0.15).

    Returns:
        float64 array ``[N]`` of scores (in [0, 1] up to :math:`\lambda(0) \approx -4e-12`).

    Example:
        >>> values = [1.0, 2.0] * 10 + [5.0]
        >>> scores = nab_anomaly_scores([0.0] * 21, values)
        >>> round(float(scores[0]), 4)  # L = 0.5 during the probation
        0.0301
        >>> float(scores[-1])  # 5 leaves [1 - 0.05, 2 + 0.05]
        1.0
    """
    raw = np.asarray(raw_scores, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    if raw.ndim != 1 or vals.shape != raw.shape:
        raise ValueError(
            f"raw_scores and values must be 1-D of equal length, got shapes {raw.shape} and "
            f"{vals.shape}."
        )
    likelihood = AnomalyLikelihood.from_config(
        AnomalyLikelihoodConfig.nab(raw.size, probationary_percent)
    )
    spatial = SpatialAnomaly()
    out = np.empty(raw.size, dtype=np.float64)
    for t, (s, v) in enumerate(zip(raw.tolist(), vals.tolist(), strict=True)):
        fired = spatial.update(v)
        L = likelihood.update(s, v)
        out[t] = 1.0 if fired else log_likelihood(L)
    return out

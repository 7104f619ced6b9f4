r"""SDR classifier: online softmax k-step-ahead prediction of value buckets from active cells.

The HTM "SDR classifier" reads the temporal memory's active cells and predicts, for every
prediction step :math:`k`, which value bucket the input will fall in :math:`k` records later.
It is one single-layer softmax network per step, trained online by stochastic gradient descent
on the log-loss (Cui, Ahmad & Hawkins 2016; NuPIC's ``SDRClassifier``, htm.core's
``Predictor``). This is an independent implementation of that description.

Symbols::

    n                 number of cells in the input pattern (``size``)
    x(t) ⊂ {0..n-1}   active cells at record t (the pattern passed with record t)
    K                 the prediction steps (``steps``), positive integers
    B                 number of buckets known so far: 1 + the largest bucket index seen
    W_k in R^{n x B}  weights of step k, all 0 at construction
    b(t)              bucket index of the input at record t; v(t) its actual value
    alpha             learning rate (``alpha``); beta the actual-value rate (``act_value_alpha``)

Inference for step k (``infer``)::

    a_k = sum_{i in x} W_k[i, :]                     (a vector over the B buckets)
    p_k = softmax(a_k),   p_k[b] = exp(a_k[b] - max a_k) / sum_c exp(a_k[c] - max a_k)

Learning at record t (``learn(t, x(t), b(t), v(t))``), for every k in K such that the pattern
of record t - k is held (it was passed exactly k records earlier and no ``reset`` came since)::

    y         = one-hot(b(t)) over the B buckets
    p         = softmax(sum_{i in x(t-k)} W_k[i, :])          (current weights, before the update)
    W_k[i, :] <- W_k[i, :] + alpha (y - p)                    for every i in x(t-k)

``y - p`` is minus the gradient of the log-loss :math:`-\log p[b(t)]` with respect to
:math:`a_k`, so each step is one SGD step of multinomial logistic regression.

Buckets grow on demand: a bucket index b >= B appends b + 1 - B zero columns to every W_k
*before* the update, so the new bucket takes part in that record's softmax. Buckets below b
that were never seen also get a column; they carry probability mass until learning pushes it
down, as in NuPIC and htm.core.

Actual values (``predict_value``). Each bucket keeps a running value::

    m[b] <- v                                  the first time bucket b is seen with a value
    m[b] <- (1 - beta) m[b] + beta v           afterwards

(NuPIC's ``actValueAlpha``, default 0.3.) The predicted value for step k is the value of the
most probable bucket, :math:`m[\arg\max_b p_k[b]]` (``method="most_likely"``, the default),
the argmax taken over buckets that have a value (ties: lowest index). This is NuPIC's
``multiStepBestPredictions``, the prediction scored in the NYC-taxi experiments of Cui et al.
2016 (htmresearch ``run_tm_model.py``). ``method="expectation"`` gives
:math:`\sum_b p_k[b] m[b] / \sum_b p_k[b]` over the same buckets instead.

Record numbers and gaps. ``t`` must increase strictly from call to call. Only the pattern of
record t - k is ever used for step k: after a gap (missing records, e.g. t jumps from 7 to 10)
a step whose source record is missing learns nothing, and the others still learn from their
exact source. This is how htm.core's ``Predictor`` and NuPIC's classifier treat missing records
(both match stored record numbers, neither clears the history on a gap); with
``steps=(1,)`` a gap therefore acts as a reset. ``reset()`` forgets the history (use it at sequence
boundaries); after it, ``t`` may start again from any value.

Defaults and sources:

* ``alpha = 0.001``: NuPIC ``SDRClassifier`` and htm.core ``Predictor``/``Classifier``. The
  NYC-taxi script of Cui et al. 2016 (htmresearch ``nyc_taxi_model_params.yaml``) used
  ``alpha = 0.01`` with ``steps = (5,)``; pass those to reproduce it.
* ``act_value_alpha = 0.3``: NuPIC ``actValueAlpha``. (htm.core's ``Predictor`` keeps no
  actual values; it returns bucket probabilities only.)
* ``steps = (1, 5)``: one-step and the five-step horizon of the taxi experiments.

Differences from NuPIC / htm.core: one bucket per record (no multi-label targets); ``t`` must
increase strictly (NuPIC allows a repeated record number for several labels); the pattern size
n is fixed at construction; inference and learning are separate calls (NuPIC's ``compute``
infers first, then learns, which is what calling ``infer`` before ``learn`` reproduces); before
any bucket is known ``infer`` returns empty arrays and ``predict_value`` NaN.

Reference:
    Y. Cui, S. Ahmad and J. Hawkins, "Continuous online sequence learning with an unsupervised
    neural network model", Neural Computation 28(11):2474-2504 (2016). Softmax output and
    training: J. S. Bridle (1990), "Probabilistic interpretation of feedforward classification
    network outputs".

Example:
    >>> from dendrix.htm.predictor import Predictor
    >>> pred = Predictor(size=12, steps=(1, 2), alpha=0.5)
    >>> seq = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    >>> for t in range(40):
    ...     pred.learn(t, seq[t % 4], bucket=t % 4, value=10.0 * (t % 4))
    >>> probs = pred.infer([3, 4, 5])
    >>> int(probs[1].argmax()), int(probs[2].argmax())
    (2, 3)
    >>> pred.predict_value([3, 4, 5])
    {1: 20.0, 2: 30.0}
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from dendrix._validation import check_choice, check_float, check_int
from dendrix.sdr import SDR

__all__ = [
    "Predictor",
    "PredictorConfig",
    "softmax",
]

_METHODS = ("most_likely", "expectation")
_STATE_KEYS = ("config", "weights", "bucket_values", "history_t", "history_patterns")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def softmax(activation: np.ndarray) -> np.ndarray:
    r"""Numerically stable softmax over the last axis.

    :math:`p[b] = \exp(a[b] - \max a) / \sum_c \exp(a[c] - \max a)`; an empty last axis gives
    an empty result.

    Args:
        activation: real array ``[..., B]``.

    Returns:
        float64 array ``[..., B]`` summing to 1 along the last axis (when ``B > 0``).

    Example:
        >>> softmax(np.array([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    a = np.asarray(activation, dtype=np.float64)
    if a.shape[-1] == 0:
        return a.copy()
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_steps(steps: object) -> tuple[int, ...]:
    hint = "Pass prediction horizons as positive integers, e.g. steps=(1, 5)."
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
        raise TypeError(f"steps must be a sequence of positive integers, got {steps!r}. {hint}")
    out = [check_int("steps", s, minimum=1, hint=hint) for s in steps]
    if not out:
        raise ValueError(f"steps must hold at least one prediction step, got {steps!r}. {hint}")
    if len(set(out)) != len(out):
        raise ValueError(f"steps must not repeat a step, got {steps!r}. {hint}")
    return tuple(sorted(out))


def _pattern_indices(name: str, pattern: object, size: int) -> np.ndarray:
    """Active-cell indices of ``pattern`` as a sorted int64 array, validated against ``size``."""
    if isinstance(pattern, SDR):
        if pattern.dense.ndim != 1:
            raise ValueError(
                f"{name} must be a single SDR, got a batch of shape {pattern.batch_shape}. "
                "Pass one sample at a time (e.g. sdr[i])."
            )
        if pattern.size != size:
            raise ValueError(
                f"{name} is an SDR of size {pattern.size} but this predictor has size={size}; "
                "pass the active cells of the population it was built for."
            )
        return pattern.indices.cpu().numpy().astype(np.int64)
    if isinstance(pattern, torch.Tensor):
        if pattern.is_floating_point() or pattern.is_complex() or pattern.dtype == torch.bool:
            raise TypeError(
                f"{name} must hold integer cell indices, got a tensor of dtype {pattern.dtype}. "
                "Pass indices (e.g. torch.nonzero(mask).flatten()) or an SDR."
            )
        pattern = pattern.detach().cpu().numpy()
    if isinstance(pattern, np.ndarray):
        if pattern.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D array of cell indices, got shape {pattern.shape}."
            )
        if pattern.size and not np.issubdtype(pattern.dtype, np.integer):
            raise TypeError(
                f"{name} must hold integer cell indices, got dtype {pattern.dtype}. Pass "
                "indices (e.g. np.flatnonzero(mask)) or an SDR."
            )
        idx = pattern.astype(np.int64)
    else:
        if isinstance(pattern, (str, bytes)) or not isinstance(pattern, Sequence):
            raise TypeError(
                f"{name} must be an SDR or a sequence of integer cell indices, got "
                f"{type(pattern).__name__}."
            )
        values = []
        for v in pattern:
            try:
                if isinstance(v, bool):
                    raise TypeError
                values.append(operator.index(v))
            except TypeError:
                raise TypeError(
                    f"{name} must hold integer cell indices, got {v!r} ({type(v).__name__})."
                ) from None
        idx = np.asarray(values, dtype=np.int64)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"{name} holds {bad}, outside [0, size={size}). Cell indices address cells "
                "0..size-1; check the size or the index source."
            )
    uniq = np.unique(idx)
    if uniq.size != idx.size:
        values, counts = np.unique(idx, return_counts=True)
        raise ValueError(
            f"{name} holds cell {int(values[counts > 1][0])} more than once; a pattern is a set "
            "of active cells. Remove duplicates (e.g. np.unique) first."
        )
    return uniq


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictorConfig:
    """Frozen constructor arguments of :class:`Predictor`, validated on creation.

    Args:
        size: number of input cells n (e.g. columns x cells per column of the temporal memory).
        steps: prediction steps K, distinct positive integers (stored sorted).
        alpha: learning rate of the softmax weights, in (0, 1].
        act_value_alpha: rate beta of the per-bucket running actual value, in [0, 1]
            (0 keeps the first value seen, 1 the latest).
    """

    size: int
    steps: tuple[int, ...] = (1, 5)
    alpha: float = 0.001
    act_value_alpha: float = 0.3

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put(
            "size",
            check_int("size", self.size, minimum=1, hint="It is the number of input cells n."),
        )
        put("steps", _check_steps(self.steps))
        put(
            "alpha",
            check_float(
                "alpha",
                self.alpha,
                minimum=0.0,
                maximum=1.0,
                open_min=True,
                hint="It is the learning rate of the softmax weights (NuPIC default 0.001).",
            ),
        )
        put(
            "act_value_alpha",
            check_float(
                "act_value_alpha",
                self.act_value_alpha,
                minimum=0.0,
                maximum=1.0,
                hint="It is the moving-average rate of bucket values (NuPIC default 0.3).",
            ),
        )


# --------------------------------------------------------------------------------------------
# Predictor
# --------------------------------------------------------------------------------------------


class Predictor:
    """Online k-step-ahead SDR classifier (the equations are in the module docstring).

    Args:
        size: number of input cells n; every pattern is a subset of ``range(size)``.
        steps: prediction steps K (distinct positive integers). Default ``(1, 5)``.
        alpha: learning rate in (0, 1]. Default 0.001 (NuPIC, htm.core).
        act_value_alpha: running-average rate of bucket values in [0, 1]. Default 0.3 (NuPIC).

    Patterns (``pattern`` arguments) are the active cells at one record: a 1-D sequence, NumPy
    array or tensor of distinct integer indices in ``[0, size)`` (any order), or an unbatched
    :class:`~dendrix.sdr.SDR` of size ``size``. No randomness is involved.

    Example:
        >>> pred = Predictor(size=6, steps=(1,), alpha=0.1)
        >>> pred.learn(0, [0, 1], bucket=1)
        >>> pred.learn(1, [2, 3], bucket=0)
        >>> pred.weights[1][[0, 1]].tolist()   # rows of x(0) moved by alpha * (y - p)
        [[0.05, -0.05], [0.05, -0.05]]
        >>> pred.infer([0, 1])[1].round(4).tolist()
        [0.5498, 0.4502]
    """

    def __init__(
        self,
        size: int,
        steps: Sequence[int] = (1, 5),
        alpha: float = 0.001,
        act_value_alpha: float = 0.3,
    ) -> None:
        self._config = PredictorConfig(
            size=size,
            steps=steps,  # type: ignore[arg-type]
            alpha=alpha,
            act_value_alpha=act_value_alpha,
        )
        n = self._config.size
        self._weights: dict[int, np.ndarray] = {
            k: np.zeros((n, 0), dtype=np.float64) for k in self._config.steps
        }
        self._values = np.zeros(0, dtype=np.float64)  # NaN: bucket never seen with a value
        self.reset()

    @classmethod
    def from_config(cls, config: PredictorConfig) -> Predictor:
        """Build from a :class:`PredictorConfig`."""
        if not isinstance(config, PredictorConfig):
            raise TypeError(f"config must be a PredictorConfig, got {type(config).__name__}.")
        return cls(**asdict(config))

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Predictor:
        """Build a predictor from :meth:`state_dict` output (configuration included)."""
        if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
            raise TypeError("state must be a dict from Predictor.state_dict().")
        pred = cls(**state["config"])
        pred.load_state_dict(state)
        return pred

    def reset(self) -> None:
        """Forget the pattern history (sequence boundary); weights and bucket values are kept.

        After a reset no step learns until k more records have been passed, and ``t`` may
        restart from any value.
        """
        self._history_t: list[int] = []
        self._history: list[np.ndarray] = []

    # -- read-only views ----------------------------------------------------------------------
    @property
    def config(self) -> PredictorConfig:
        return self._config

    @property
    def size(self) -> int:
        """Number of input cells n."""
        return self._config.size

    @property
    def steps(self) -> tuple[int, ...]:
        """Prediction steps K, sorted."""
        return self._config.steps

    @property
    def num_buckets(self) -> int:
        """B, the number of buckets known (1 + the largest bucket index learned)."""
        return int(self._values.shape[0])

    @property
    def weights(self) -> dict[int, np.ndarray]:
        """Read-only views of the weights, ``{k: W_k}`` with ``W_k`` of shape ``[size, B]``."""
        out = {}
        for k, w in self._weights.items():
            view = w.view()
            view.flags.writeable = False
            out[k] = view
        return out

    @property
    def bucket_values(self) -> np.ndarray:
        """Running actual value m[b] of each bucket, ``[B]``; NaN where none was seen (copy)."""
        return self._values.copy()

    # -- inference ----------------------------------------------------------------------------
    def infer(
        self, pattern: SDR | Sequence[int] | np.ndarray | torch.Tensor
    ) -> dict[int, np.ndarray]:
        """Bucket probabilities p_k for every step k, from the active cells ``pattern``.

        Args:
            pattern: active cells at the current record (see the class docstring).

        Returns:
            ``{k: p_k}`` with ``p_k`` a float64 NumPy array ``[B]`` summing to 1 (empty before
            any bucket is known). Uniform (1/B each) while the rows of the active cells in W_k
            are all 0, e.g. before step k has learned.
        """
        idx = _pattern_indices("pattern", pattern, self._config.size)
        return {k: softmax(w[idx].sum(axis=0)) for k, w in self._weights.items()}

    def predict_value(
        self,
        pattern: SDR | Sequence[int] | np.ndarray | torch.Tensor,
        *,
        method: str = "most_likely",
    ) -> dict[int, float]:
        """Predicted actual value for every step k, from the per-bucket running values m.

        Args:
            pattern: active cells at the current record (see the class docstring).
            method: ``"most_likely"`` (default): m[b*] with b* the most probable bucket among
                those that have a value (ties: lowest index); NuPIC's best prediction.
                ``"expectation"``: sum_b p_k[b] m[b] / sum_b p_k[b] over the same buckets.

        Returns:
            ``{k: value}``; NaN for every step while no bucket has a value.
        """
        check_choice("method", method, _METHODS)
        known = ~np.isnan(self._values)
        probs = self.infer(pattern)
        out: dict[int, float] = {}
        for k, p in probs.items():
            if not known.any():
                out[k] = float("nan")
            elif method == "most_likely":
                masked = np.where(known, p, -np.inf)
                out[k] = float(self._values[int(np.argmax(masked))])
            else:
                q = p[known]
                out[k] = float(np.dot(q, self._values[known]) / q.sum())
        return out

    # -- learning -----------------------------------------------------------------------------
    def learn(
        self,
        t: int,
        pattern: SDR | Sequence[int] | np.ndarray | torch.Tensor,
        bucket: int,
        value: float | None = None,
    ) -> None:
        """Consume record ``t``: train every step k on the pattern of record t - k, if held.

        Args:
            t: record number, a non-negative integer larger than that of the previous call
                (since construction or the last :meth:`reset`). Gaps mark missing records.
            pattern: active cells x(t) at this record (see the class docstring); stored as
                the source of the predictions learned at records t + k.
            bucket: bucket index b(t) >= 0 of the input at this record (the target).
            value: actual value v(t) (finite) to average into bucket b(t), or ``None``.
        """
        t = check_int(
            "t", t, minimum=0, hint="It is the record number (0, 1, 2, ...; gaps allowed)."
        )
        if self._history_t and t <= self._history_t[-1]:
            raise ValueError(
                f"t must increase from call to call: got t={t} after t={self._history_t[-1]}. "
                "Number records 0, 1, 2, ... (gaps mark missing records), or call reset() "
                "to start a new sequence."
            )
        idx = _pattern_indices("pattern", pattern, self._config.size)
        bucket = check_int(
            "bucket",
            bucket,
            minimum=0,
            hint="Bucket indices are non-negative integers (an encoder's bucket index).",
        )
        v = None if value is None else check_float("value", value, hint="Pass None if unknown.")

        # Grow every W_k (and the value table) so that `bucket` exists.
        grow = bucket + 1 - self.num_buckets
        if grow > 0:
            n = self._config.size
            for k, w in self._weights.items():
                self._weights[k] = np.concatenate([w, np.zeros((n, grow), w.dtype)], axis=1)
            self._values = np.concatenate([self._values, np.full(grow, np.nan)])

        # Running actual value of the bucket.
        if v is not None:
            old = self._values[bucket]
            if np.isnan(old):
                self._values[bucket] = v
            else:
                beta = self._config.act_value_alpha
                self._values[bucket] = (1.0 - beta) * old + beta * v

        # One SGD step per step k whose source record t - k is held.
        target = np.zeros(self.num_buckets, dtype=np.float64)
        target[bucket] = 1.0
        alpha = self._config.alpha
        sources = dict(zip(self._history_t, self._history, strict=True))
        for k, w in self._weights.items():
            source = sources.get(t - k)
            if source is None or source.size == 0:
                continue
            p = softmax(w[source].sum(axis=0))
            w[source] += alpha * (target - p)

        # Store x(t); keep only records that can still be a source (t - t' <= max K).
        horizon = t - self._config.steps[-1]
        keep = [i for i, r in enumerate(self._history_t) if r >= horizon]
        self._history_t = [self._history_t[i] for i in keep] + [t]
        self._history = [self._history[i] for i in keep] + [idx]

    # -- persistence --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The full state as plain Python / NumPy data (copies).

        Keys: ``config`` (dict of :class:`PredictorConfig` fields), ``weights`` (``{k: float64
        array [size, B]}``), ``bucket_values`` (float64 ``[B]``, NaN = no value yet),
        ``history_t`` (list of int record numbers, oldest first) and ``history_patterns`` (list
        of int64 index arrays, one per entry of ``history_t``).
        """
        return {
            "config": asdict(self._config),
            "weights": {k: w.copy() for k, w in self._weights.items()},
            "bucket_values": self._values.copy(),
            "history_t": list(self._history_t),
            "history_patterns": [p.copy() for p in self._history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace this predictor's state by ``state`` (from :meth:`state_dict`, same config).

        Args:
            state: dict with the keys of :meth:`state_dict`. Use :meth:`from_state_dict` to
                build a predictor with the saved configuration.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {type(state).__name__}.")
        missing = sorted(set(_STATE_KEYS) - state.keys())
        if missing:
            raise KeyError(f"state lacks {missing}; pass the dict from Predictor.state_dict().")
        config = state["config"]
        if not isinstance(config, dict):
            raise TypeError("state['config'] must be a dict (asdict of PredictorConfig).")
        saved = PredictorConfig(**config)
        if saved != self._config:
            raise ValueError(
                f"state was saved with {saved}, this predictor has {self._config}; use "
                "Predictor.from_state_dict(state) instead."
            )
        n = saved.size
        values = np.asarray(state["bucket_values"])
        if values.ndim != 1 or not np.issubdtype(values.dtype, np.floating):
            raise ValueError("state['bucket_values'] must be a 1-D float array.")
        if np.isinf(values).any():
            raise ValueError("state['bucket_values'] must be finite or NaN (no value yet).")
        b = values.shape[0]
        weights_in = state["weights"]
        if not isinstance(weights_in, dict) or set(weights_in) != set(saved.steps):
            raise ValueError(f"state['weights'] must be a dict with keys {list(saved.steps)}.")
        weights = {}
        for k in saved.steps:
            w = np.asarray(weights_in[k])
            if w.shape != (n, b) or not np.issubdtype(w.dtype, np.floating):
                raise ValueError(
                    f"state['weights'][{k}] must be a float array of shape {(n, b)}, got "
                    f"{w.dtype} {w.shape}."
                )
            if not np.isfinite(w).all():
                raise ValueError(f"state['weights'][{k}] contains NaN or infinite values.")
            weights[k] = w.astype(np.float64, copy=True)
        hist_t = [check_int("state['history_t']", r, minimum=0) for r in state["history_t"]]
        if len(hist_t) > 1 and bool(np.any(np.diff(hist_t) <= 0)):
            raise ValueError("state['history_t'] must be strictly increasing.")
        patterns = state["history_patterns"]
        if not isinstance(patterns, (list, tuple)) or len(patterns) != len(hist_t):
            raise ValueError(
                "state['history_patterns'] must be a list with one pattern per entry of "
                "state['history_t']."
            )
        history = [
            _pattern_indices(f"state['history_patterns'][{i}]", p, n).copy()
            for i, p in enumerate(patterns)
        ]
        self._weights = weights
        self._values = values.astype(np.float64, copy=True)
        self._history_t = hist_t
        self._history = history

    def __repr__(self) -> str:
        c = self._config
        return (
            f"Predictor(size={c.size}, steps={c.steps}, alpha={c.alpha}, "
            f"act_value_alpha={c.act_value_alpha}, buckets={self.num_buckets})"
        )

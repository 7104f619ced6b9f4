r"""HTM spatial pooler with global inhibition (NumPy, one sample per step).

The spatial pooler maps an input SDR over ``N`` bits onto a sparse set of ``C`` active columns
and learns, online and without labels, which input bits each column should respond to.
Every quantity below is dimensionless (counts, fractions or permanences).

Symbols::

    x_j  in {0, 1}      input bit j is active (j = 0..N-1)
    Pi_i                potential pool of column i: the inputs it may ever connect to,
                        |Pi_i| = round(potential_pct * N) (half up), drawn at construction
    p_ij in [0, 1]      permanence of the synapse from input j to column i; p_ij = 0 off Pi_i
    theta_c             syn_perm_connected;  eps = 1e-6 (htm.core's float tolerance)
    c_ij                connected: j in Pi_i and p_ij >= theta_c - eps
    b_i  > 0            boost factor of column i (1 while boost_strength = 0)
    k                   winners kept by inhibition: round(local_area_density * C)
                        (half up), or num_active_columns
    s                   target density: local_area_density, or k / C
    theta_s             stimulus_threshold
    d+ / d-             syn_perm_active_inc / syn_perm_inactive_dec
    a_i, u_i in [0, 1]  active and overlap duty cycles of column i
    t                   learning steps taken (``iteration``);  T = duty_cycle_period
    mu, beta            min_pct_overlap_duty_cycles, boost_strength

One step, ``compute(x, learn)``::

    o_i  = sum_j c_ij x_j                              overlap (connected synapses on active bits)
    W    = the k columns with the largest b_i o_i;     ties: the higher column index wins
    W   <- {i in W : b_i o_i >= theta_s}               drop sub-threshold winners

and, when ``learn`` is true, in this order::

    1. learn    p_ij <- clip(p_ij + d+ x_j - d- (1 - x_j), 0, 1)   for i in W, j in Pi_i
                then raise-to-threshold (below) on every winner
    2. duty     t <- t + 1;  P = min(T, t)
                a_i <- a_i (P - 1)/P + [i in W]/P;   u_i <- u_i (P - 1)/P + [o_i > 0]/P
    3. weak     if u_i < mu * max_l u_l:  p_ij <- min(p_ij + theta_c / 10, 1)   for j in Pi_i
    4. boost    b_i = exp(beta (s - a_i))               (skipped, b_i = 1, while beta = 0)

Raise-to-threshold (htm.core's ``raisePermanencesToThreshold``; applied to every column at
construction and to every winner after learning; nothing happens while theta_s = 0). With
m_i = min(theta_s, |Pi_i|) and q_i the m_i-th largest permanence in Pi_i: if fewer than m_i
synapses of column i are connected, p_ij <- min(p_ij + (theta_c - q_i), 1) for j in Pi_i, so at
least m_i synapses are connected afterwards and the column can reach the stimulus threshold.

Initialisation (htm.core's ``initPermanence_`` with its fixed ``initConnectedPct_ = 0.5``):
each column's pool is a uniform sample without replacement of round(potential_pct * N) inputs;
each potential synapse is connected with probability 0.5, p ~ U[theta_c, 1), otherwise
p ~ U[0, theta_c). All draws come from one ``numpy.random.Generator(PCG64(seed))``; the tie
rule is deterministic, so after construction the generator is not consumed (its state is still
saved by :meth:`SpatialPooler.state_dict`).

Scope and deliberate differences from htm.core (``src/htm/algorithms/SpatialPooler.cpp``):

* Global inhibition only, flat 1-D input and column indices. Local inhibition, topology and
  ``potentialRadius`` are omitted; every column samples its pool from the whole input (htm.core
  with ``potentialRadius >= N``). ``global_inhibition=False`` is refused with a ValueError.
* k = round(density * C) as in the project specification; htm.core truncates
  (``int(density * C)``: 0.02 * 2048 gives 40 there, 41 here). Pass ``num_active_columns`` to
  fix k exactly.
* The weak-column floor mu * max u is recomputed every learning step; htm.core refreshes it
  every 50 iterations (``updatePeriod_``) and starts from a floor of 0.
* ``iteration`` (t) counts learning steps only, so ``learn=False`` changes nothing; htm.core
  also counts inference calls in the duty-cycle period.
* Raise-to-threshold lifts q_i to theta_c; htm.core lifts it to theta_c - eps (1e-6 lower).
* Like htm.core (and unlike NuPIC's Python pooler) no permanence is trimmed to 0 below a trim
  threshold; a potential synapse stays in the pool at any permanence, 0 included.
* Like htm.core, the stimulus threshold is compared with the boosted overlap b_i o_i, and boost
  factors are applied when ``learn`` is false too.

References:
    Y. Cui, S. Ahmad and J. Hawkins, "The HTM spatial pooler - a neocortical algorithm for
    online sparse distributed coding", Frontiers in Computational Neuroscience 11:111 (2017).
    htm.core (HTM community edition of NuPIC), ``SpatialPooler`` and ``Connections``.

Example:
    >>> import numpy as np
    >>> from dendrix.htm.spatial_pooler import SpatialPooler
    >>> sp = SpatialPooler(100, 64, num_active_columns=4, seed=7)
    >>> active = sp.compute(np.arange(0, 100, 5), learn=True)
    >>> len(active), sp.iteration
    (4, 1)
    >>> bool(np.all(np.diff(active) > 0))
    True
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from dendrix._validation import check_float, check_int
from dendrix.sdr import SDR

__all__ = [
    "CONNECTED_EPSILON",
    "INIT_CONNECTED_PCT",
    "SpatialPooler",
    "SpatialPoolerConfig",
    "adapt_permanences",
    "boost_factors",
    "inhibit_global",
    "raise_permanences_to_threshold",
    "update_duty_cycle",
]

CONNECTED_EPSILON = 1e-6
"""Tolerance eps of the connected test p >= theta_c - eps (htm.core's ``htm::Epsilon``)."""

INIT_CONNECTED_PCT = 0.5
"""Fraction of potential synapses that start connected (htm.core's ``initConnectedPct_``)."""

_DEFAULT_DENSITY = 0.02


def _round_half_up(value: float) -> int:
    """``round`` as C's ``std::round`` does it for non-negative values (2.5 -> 3)."""
    return math.floor(value + 0.5)


# --------------------------------------------------------------------------------------------
# Pure phases
# --------------------------------------------------------------------------------------------


def inhibit_global(scores: np.ndarray, k: int, stimulus_threshold: float = 0.0) -> np.ndarray:
    """Global inhibition: the ``k`` columns with the largest score, minus sub-threshold ones.

    Ties at the k-th score go to the higher column index (htm.core's rule); afterwards winners
    whose score is below ``stimulus_threshold`` are dropped, so fewer than ``k`` may remain.

    Args:
        scores: boosted overlaps ``b_i o_i``, shape ``[C]``.
        k: number of winners before the threshold, ``1 <= k <= C``.
        stimulus_threshold: minimum score of a winner.

    Returns:
        Sorted int64 indices of the winning columns.
    """
    n = scores.shape[0]
    if k >= n:
        winners = np.arange(n, dtype=np.int64)
    else:
        kth = np.partition(scores, n - k)[n - k]  # the k-th largest score
        above = np.flatnonzero(scores > kth)
        ties = np.flatnonzero(scores == kth)
        winners = np.concatenate((above, ties[ties.size - (k - above.size) :]))
        winners.sort()
    if stimulus_threshold > 0:
        winners = winners[scores[winners] >= stimulus_threshold]
    return winners


def adapt_permanences(
    permanences: np.ndarray,
    pools: np.ndarray,
    active_inputs: np.ndarray,
    increment: float,
    decrement: float,
) -> np.ndarray:
    """Hebbian update of some columns' rows: ``clip(p + d+ x - d- (1 - x), 0, 1)`` on the pool.

    Args:
        permanences: float32 rows ``[R, N]`` of the columns to update.
        pools: boolean potential pools of the same rows ``[R, N]``.
        active_inputs: boolean input ``x`` ``[N]``.
        increment: ``d+``, added where ``x_j = 1``.
        decrement: ``d-``, subtracted where ``x_j = 0``.

    Returns:
        New float32 rows ``[R, N]``, 0 outside the pools.
    """
    delta = np.where(active_inputs, np.float32(increment), np.float32(-decrement))  # [N]
    out = permanences + delta
    np.clip(out, 0.0, 1.0, out=out)
    out *= pools
    return out


def raise_permanences_to_threshold(
    permanences: np.ndarray,
    pools: np.ndarray,
    threshold: int,
    connected_threshold: float,
) -> np.ndarray:
    """Lift whole pools uniformly so that each row has ``min(threshold, |pool|)`` connections.

    For a row with fewer connected synapses than ``m = min(threshold, |pool|)``, every pool
    permanence is raised by ``theta_c - q`` (``q`` the m-th largest pool permanence) and clipped
    at 1. Rows that already satisfy the requirement are returned unchanged.

    Args:
        permanences: float32 rows ``[R, N]``.
        pools: boolean potential pools ``[R, N]``.
        threshold: ``theta_s``, the wanted number of connected synapses (0: no-op).
        connected_threshold: ``theta_c``.

    Returns:
        New float32 rows ``[R, N]``.
    """
    out = permanences.copy()
    if threshold <= 0 or out.shape[0] == 0:
        return out
    connected = (out >= connected_threshold - CONNECTED_EPSILON) & pools
    want = np.minimum(threshold, pools.sum(axis=1))  # [R]
    rows = np.flatnonzero(connected.sum(axis=1) < want)
    if rows.size == 0:
        return out
    masked = np.where(pools[rows], out[rows], -np.inf)  # [r, N]
    ordered = -np.sort(-masked, axis=1)  # descending per row
    q = ordered[np.arange(rows.size), want[rows] - 1]  # m-th largest pool permanence, [r]
    raised = out[rows] + (np.float32(connected_threshold) - q.astype(np.float32))[:, None]
    np.clip(raised, 0.0, 1.0, out=raised)
    out[rows] = raised * pools[rows]
    return out


def update_duty_cycle(duty_cycles: np.ndarray, values: np.ndarray, period: int) -> np.ndarray:
    """Running mean ``d <- d (P - 1)/P + v / P``.

    Args:
        duty_cycles: current duty cycles ``[C]``.
        values: this step's indicators (bool or 0/1) ``[C]``.
        period: ``P = min(duty_cycle_period, iteration) >= 1``.

    Returns:
        New float64 duty cycles ``[C]``.
    """
    return duty_cycles * ((period - 1) / period) + values / period


def boost_factors(
    active_duty_cycles: np.ndarray, target_density: float, boost_strength: float
) -> np.ndarray:
    """Boost factors ``b_i = exp(beta (s - a_i))`` (htm.core's exponential rule).

    Args:
        active_duty_cycles: ``a_i`` ``[C]``.
        target_density: ``s``.
        boost_strength: ``beta >= 0``.

    Returns:
        float64 boost factors ``[C]``.
    """
    return np.exp((target_density - active_duty_cycles) * boost_strength)


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpatialPoolerConfig:
    """Frozen constructor arguments of :class:`SpatialPooler`, validated on creation.

    Field meanings and defaults are those of :class:`SpatialPooler`.
    """

    input_size: int
    columns: int
    potential_pct: float = 0.5
    global_inhibition: bool = True
    local_area_density: float | None = None
    num_active_columns: int | None = None
    stimulus_threshold: int = 0
    syn_perm_inactive_dec: float = 0.008
    syn_perm_active_inc: float = 0.05
    syn_perm_connected: float = 0.1
    min_pct_overlap_duty_cycles: float = 0.001
    duty_cycle_period: int = 1000
    boost_strength: float = 0.0
    seed: int = 1

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("input_size", check_int("input_size", self.input_size, minimum=1))
        put("columns", check_int("columns", self.columns, minimum=1))
        pct = check_float(
            "potential_pct",
            self.potential_pct,
            minimum=0.0,
            maximum=1.0,
            open_min=True,
            hint="It is the fraction of the input each column may connect to (0.5-0.8 usual).",
        )
        if _round_half_up(pct * self.input_size) < 1:
            raise ValueError(
                f"potential_pct={pct} gives an empty potential pool for input_size="
                f"{self.input_size}; use potential_pct >= {0.5 / self.input_size:.3g}."
            )
        put("potential_pct", pct)
        if not isinstance(self.global_inhibition, (bool, np.bool_)):
            raise TypeError(
                f"global_inhibition must be a bool, got {type(self.global_inhibition).__name__}."
            )
        if not self.global_inhibition:
            raise ValueError(
                "global_inhibition=False (local inhibition with column topology) is not "
                "implemented; use global_inhibition=True."
            )
        put("global_inhibition", True)
        if self.local_area_density is not None and self.num_active_columns is not None:
            raise ValueError(
                "give at most one of local_area_density and num_active_columns (they are two "
                "ways to set the number of winners); set the other to None."
            )
        if self.num_active_columns is not None:
            put(
                "num_active_columns",
                check_int(
                    "num_active_columns",
                    self.num_active_columns,
                    minimum=1,
                    maximum=self.columns,
                    hint="It is the number of winning columns per step.",
                ),
            )
        if self.local_area_density is not None:
            density = check_float(
                "local_area_density",
                self.local_area_density,
                minimum=0.0,
                maximum=1.0,
                open_min=True,
                hint="It is the fraction of columns active per step (e.g. 0.02).",
            )
            if _round_half_up(density * self.columns) < 1:
                raise ValueError(
                    f"local_area_density={density} gives no active column for columns="
                    f"{self.columns}; use local_area_density >= {0.5 / self.columns:.3g} or "
                    "num_active_columns."
                )
            put("local_area_density", density)
        put(
            "stimulus_threshold",
            check_int(
                "stimulus_threshold",
                self.stimulus_threshold,
                minimum=0,
                hint="It is a number of active connected synapses.",
            ),
        )
        for name in ("syn_perm_inactive_dec", "syn_perm_active_inc", "syn_perm_connected"):
            put(name, check_float(name, getattr(self, name), minimum=0.0, maximum=1.0))
        put(
            "min_pct_overlap_duty_cycles",
            check_float(
                "min_pct_overlap_duty_cycles",
                self.min_pct_overlap_duty_cycles,
                minimum=0.0,
                maximum=1.0,
            ),
        )
        put(
            "duty_cycle_period",
            check_int("duty_cycle_period", self.duty_cycle_period, minimum=1),
        )
        put(
            "boost_strength",
            check_float(
                "boost_strength",
                self.boost_strength,
                minimum=0.0,
                hint="0 disables boosting.",
            ),
        )
        put(
            "seed",
            check_int("seed", self.seed, minimum=0, hint="Seeds must be non-negative integers."),
        )

    @property
    def num_active(self) -> int:
        """k, the number of winners kept by inhibition before the stimulus threshold."""
        if self.num_active_columns is not None:
            return self.num_active_columns
        density = _DEFAULT_DENSITY if self.local_area_density is None else self.local_area_density
        return max(1, _round_half_up(density * self.columns))

    @property
    def target_density(self) -> float:
        """s, the activity each column's boost steers towards."""
        if self.num_active_columns is not None:
            return self.num_active_columns / self.columns
        return _DEFAULT_DENSITY if self.local_area_density is None else self.local_area_density


# --------------------------------------------------------------------------------------------
# Module
# --------------------------------------------------------------------------------------------


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


class SpatialPooler:
    """HTM spatial pooler with global inhibition; the rules are in the module docstring.

    Args:
        input_size: number of input bits N.
        columns: number of columns C.
        potential_pct: fraction of the input in each column's potential pool, in (0, 1].
        global_inhibition: must be True (local inhibition is not implemented).
        local_area_density: fraction of columns that win, k = round(density * C) (half up).
            Default (when ``num_active_columns`` is also None): 0.02, with k at least 1.
        num_active_columns: alternatively, k directly. Give at most one of the two.
        stimulus_threshold: minimum boosted overlap of a winner; also the number of connected
            synapses raise-to-threshold guarantees each column.
        syn_perm_inactive_dec: d-, subtracted from a winner's synapses on inactive inputs.
        syn_perm_active_inc: d+, added to a winner's synapses on active inputs.
        syn_perm_connected: theta_c, permanence at which a synapse counts as connected.
        min_pct_overlap_duty_cycles: mu; a column whose overlap duty cycle is below mu times the
            largest one has its whole pool raised by theta_c / 10 each learning step.
        duty_cycle_period: T, the longest averaging period of the duty cycles.
        boost_strength: beta >= 0; 0 disables boosting.
        seed: seed of the one ``numpy.random.Generator(PCG64(seed))`` used to build the pools
            and initial permanences.

    Defaults follow htm.core's C++ ``SpatialPooler`` constructor (potentialPct 0.5,
    stimulusThreshold 0, synPermInactiveDec 0.008, synPermActiveInc 0.05, synPermConnected 0.1,
    minPctOverlapDutyCycles 0.001, dutyCyclePeriod 1000, boostStrength 0, seed 1), except the
    density: 0.02 as in htm.core's Python binding (the C++ constructor has 0.05). htm.core's
    Python binding also uses synPermInactiveDec 0.01 and synPermActiveInc 0.1.

    Inputs to :meth:`compute` may be an index sequence or integer array (any order, no
    duplicates), a boolean dense array ``[N]`` (NumPy or torch), or an unbatched
    :class:`~dendrix.sdr.SDR` of size N.
    """

    def __init__(
        self,
        input_size: int,
        columns: int,
        *,
        potential_pct: float = 0.5,
        global_inhibition: bool = True,
        local_area_density: float | None = None,
        num_active_columns: int | None = None,
        stimulus_threshold: int = 0,
        syn_perm_inactive_dec: float = 0.008,
        syn_perm_active_inc: float = 0.05,
        syn_perm_connected: float = 0.1,
        min_pct_overlap_duty_cycles: float = 0.001,
        duty_cycle_period: int = 1000,
        boost_strength: float = 0.0,
        seed: int = 1,
    ) -> None:
        cfg = SpatialPoolerConfig(
            input_size=input_size,
            columns=columns,
            potential_pct=potential_pct,
            global_inhibition=global_inhibition,
            local_area_density=local_area_density,
            num_active_columns=num_active_columns,
            stimulus_threshold=stimulus_threshold,
            syn_perm_inactive_dec=syn_perm_inactive_dec,
            syn_perm_active_inc=syn_perm_active_inc,
            syn_perm_connected=syn_perm_connected,
            min_pct_overlap_duty_cycles=min_pct_overlap_duty_cycles,
            duty_cycle_period=duty_cycle_period,
            boost_strength=boost_strength,
            seed=seed,
        )
        self._config = cfg
        self._k = cfg.num_active
        self._target = cfg.target_density
        self._threshold = float(cfg.syn_perm_connected) - CONNECTED_EPSILON
        self._rng = np.random.Generator(np.random.PCG64(cfg.seed))
        n, c = cfg.input_size, cfg.columns

        # Potential pools: round(potential_pct * N) inputs per column, without replacement.
        n_pool = _round_half_up(cfg.potential_pct * n)
        scores = self._rng.random((c, n))  # [C, N]
        chosen = np.argpartition(scores, n_pool - 1, axis=1)[:, :n_pool]  # [C, n_pool]
        pools = np.zeros((c, n), dtype=bool)
        np.put_along_axis(pools, chosen, True, axis=1)

        # Permanences: connected with probability INIT_CONNECTED_PCT, p ~ U[theta_c, 1);
        # otherwise p ~ U[0, theta_c).
        theta = cfg.syn_perm_connected
        starts_connected = self._rng.random((c, n)) <= INIT_CONNECTED_PCT  # [C, N]
        u = self._rng.random((c, n))  # [C, N]
        perm = np.where(starts_connected, theta + (1.0 - theta) * u, theta * u)
        perm = np.where(pools, perm, 0.0).astype(np.float32)
        perm = raise_permanences_to_threshold(perm, pools, cfg.stimulus_threshold, theta)

        self._set_state(
            permanences=perm,
            pools=pools,
            active_duty=np.zeros(c),
            overlap_duty=np.zeros(c),
            boost=np.ones(c),
            iteration=0,
        )

    @classmethod
    def from_config(cls, config: SpatialPoolerConfig) -> SpatialPooler:
        """Build a pooler from a :class:`SpatialPoolerConfig`."""
        if not isinstance(config, SpatialPoolerConfig):
            raise TypeError(f"config must be a SpatialPoolerConfig, got {type(config).__name__}.")
        return cls(**asdict(config))

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> SpatialPooler:
        """Rebuild a pooler from :meth:`state_dict` output (config included)."""
        if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
            raise TypeError("state must be a dict from SpatialPooler.state_dict().")
        pooler = cls.from_config(SpatialPoolerConfig(**state["config"]))
        pooler.load_state_dict(state)
        return pooler

    # -- internal state ---------------------------------------------------------------------
    def _set_state(
        self,
        *,
        permanences: np.ndarray,
        pools: np.ndarray,
        active_duty: np.ndarray,
        overlap_duty: np.ndarray,
        boost: np.ndarray,
        iteration: int,
    ) -> None:
        self._perm = np.ascontiguousarray(permanences, dtype=np.float32)  # [C, N]
        self._pools = np.ascontiguousarray(pools, dtype=bool)  # [C, N]
        # Connected synapses, transposed, as uint8 [N, C]: the overlap of a sparse input is a
        # sum of a few contiguous rows.
        self._connected_t = np.ascontiguousarray(self._connected_rows(self._perm, self._pools).T)
        self._connected_t = self._connected_t.view(np.uint8)
        self._active_duty = np.array(active_duty, dtype=np.float64)
        self._overlap_duty = np.array(overlap_duty, dtype=np.float64)
        self._boost = np.array(boost, dtype=np.float64)
        self._iteration = int(iteration)

    def _connected_rows(self, perm: np.ndarray, pools: np.ndarray) -> np.ndarray:
        return (perm >= self._threshold) & pools

    def _write_rows(self, rows: np.ndarray, new_perm: np.ndarray) -> None:
        """Store new permanences for ``rows`` and refresh their connected flags."""
        self._perm[rows] = new_perm
        self._connected_t[:, rows] = self._connected_rows(new_perm, self._pools[rows]).T

    # -- read-only views ----------------------------------------------------------------------
    @property
    def config(self) -> SpatialPoolerConfig:
        return self._config

    @property
    def input_size(self) -> int:
        return self._config.input_size

    @property
    def columns(self) -> int:
        return self._config.columns

    @property
    def num_active(self) -> int:
        """k, winners kept by inhibition before the stimulus threshold."""
        return self._k

    @property
    def target_density(self) -> float:
        """s, the density the boost factors steer each column towards."""
        return self._target

    @property
    def permanences(self) -> np.ndarray:
        """float32 ``[C, N]`` (read-only view), 0 outside the potential pools."""
        return _read_only(self._perm)

    @property
    def potential_pools(self) -> np.ndarray:
        """bool ``[C, N]`` (read-only view): True where input j is in column i's pool."""
        return _read_only(self._pools)

    @property
    def connected(self) -> np.ndarray:
        """bool ``[C, N]`` (a new array): pool synapses with p >= theta_c - 1e-6."""
        return self._connected_t.T.astype(bool)

    @property
    def active_duty_cycles(self) -> np.ndarray:
        """float64 ``[C]`` (read-only view): a_i, running fraction of steps column i won."""
        return _read_only(self._active_duty)

    @property
    def overlap_duty_cycles(self) -> np.ndarray:
        """float64 ``[C]`` (read-only view): u_i, running fraction of steps with o_i > 0."""
        return _read_only(self._overlap_duty)

    @property
    def boost_factors(self) -> np.ndarray:
        """float64 ``[C]`` (read-only view): b_i."""
        return _read_only(self._boost)

    @property
    def iteration(self) -> int:
        """t, the number of learning steps taken."""
        return self._iteration

    def __repr__(self) -> str:
        return (
            f"SpatialPooler(input_size={self.input_size}, columns={self.columns}, "
            f"num_active={self._k}, iteration={self._iteration})"
        )

    # -- input handling -----------------------------------------------------------------------
    def _active_inputs(self, input_sdr: object) -> tuple[np.ndarray, np.ndarray]:
        """Return (dense bool [N], sorted int64 indices) of the active input bits."""
        n = self._config.input_size
        if isinstance(input_sdr, SDR):
            if input_sdr.batch_shape or input_sdr.size != n:
                raise ValueError(
                    f"input_sdr must be an unbatched SDR of size input_size={n}, got "
                    f"{input_sdr!r}. Feed batches one sample at a time (sdr[i])."
                )
            dense = input_sdr.dense.detach().cpu().numpy()
            return dense, np.flatnonzero(dense)
        if isinstance(input_sdr, torch.Tensor):
            array = input_sdr.detach().cpu().numpy()
        elif isinstance(input_sdr, np.ndarray):
            array = input_sdr
        elif isinstance(input_sdr, Sequence) and not isinstance(input_sdr, (str, bytes)):
            if len(input_sdr) == 0:
                array = np.zeros(0, dtype=np.int64)
            elif all(isinstance(v, (bool, np.bool_)) for v in input_sdr):
                array = np.asarray(input_sdr, dtype=bool)
            elif all(
                isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
                for v in input_sdr
            ):
                array = np.asarray(input_sdr, dtype=np.int64)
            else:
                raise TypeError(
                    "input_sdr must hold integer indices or booleans only, got "
                    f"{[type(v).__name__ for v in input_sdr][:5]}..."
                )
        else:
            raise TypeError(
                "input_sdr must be active-bit indices (sequence or integer array), a boolean "
                f"dense array [input_size] or an SDR, got {type(input_sdr).__name__}."
            )
        if array.ndim != 1:
            raise ValueError(
                f"input_sdr must be 1-D (indices [w] or dense [input_size={n}]), got shape "
                f"{array.shape}. The pooler takes one sample per step."
            )
        if array.dtype == np.bool_:
            if array.shape[0] != n:
                raise ValueError(
                    f"input_sdr is a dense boolean array of length {array.shape[0]}, but "
                    f"input_size={n}; pass one bit per input."
                )
            return array, np.flatnonzero(array)
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(
                f"input_sdr must have an integer (indices) or bool (dense) dtype, got "
                f"{array.dtype}. Convert 0/1 values with x.astype(bool)."
            )
        idx = np.sort(array.astype(np.int64, copy=False))
        if idx.size:
            if idx[0] < 0 or idx[-1] >= n:
                bad = int(idx[0] if idx[0] < 0 else idx[-1])
                raise ValueError(
                    f"input_sdr holds index {bad}, outside [0, input_size={n}); check the "
                    "input size or the encoder."
                )
            dup = np.flatnonzero(idx[1:] == idx[:-1])
            if dup.size:
                raise ValueError(
                    f"input_sdr holds index {int(idx[dup[0]])} more than once; active bits form "
                    "a set. Remove duplicates (np.unique) first."
                )
        dense = np.zeros(n, dtype=bool)
        dense[idx] = True
        return dense, idx

    # -- computation --------------------------------------------------------------------------
    def _overlap_counts(self, active_idx: np.ndarray) -> np.ndarray:
        # [w, C] rows of connected flags summed over the active inputs -> [C]
        return self._connected_t[active_idx].sum(axis=0, dtype=np.int32)

    def overlaps(self, input_sdr: object) -> np.ndarray:
        """Raw overlaps o_i (connected synapses on active inputs), int32 ``[C]``; no learning.

        Args:
            input_sdr: the input, in any form :meth:`compute` accepts.
        """
        _, idx = self._active_inputs(input_sdr)
        return self._overlap_counts(idx)

    def compute(self, input_sdr: object, learn: bool) -> np.ndarray:
        """Run one step: overlap, inhibition and, if ``learn``, the learning phases.

        Args:
            input_sdr: active input bits: indices ``[w]`` (sequence or integer array, any order,
                no duplicates), a boolean array ``[input_size]`` or an unbatched SDR.
            learn: update permanences, duty cycles and boost factors.

        Returns:
            Sorted int64 indices of the active columns ``[<= k]``.
        """
        if not isinstance(learn, (bool, np.bool_)):
            raise TypeError(f"learn must be a bool, got {type(learn).__name__}.")
        dense, idx = self._active_inputs(input_sdr)
        overlaps = self._overlap_counts(idx)  # [C]
        cfg = self._config
        scores = overlaps * self._boost if cfg.boost_strength > 0 else overlaps
        winners = inhibit_global(scores, self._k, cfg.stimulus_threshold)
        if learn:
            self._learn(dense, overlaps, winners)
        return winners

    def compute_sdr(self, input_sdr: object, learn: bool) -> SDR:
        """:meth:`compute`, returning the active columns as an :class:`~dendrix.sdr.SDR`."""
        winners = self.compute(input_sdr, learn)
        mask = np.zeros(self._config.columns, dtype=bool)
        mask[winners] = True
        return SDR(torch.from_numpy(mask))

    def _learn(self, dense: np.ndarray, overlaps: np.ndarray, winners: np.ndarray) -> None:
        cfg = self._config
        # 1. Hebbian learning on the winners, then raise-to-threshold on them.
        if winners.size:
            rows = adapt_permanences(
                self._perm[winners],
                self._pools[winners],
                dense,
                cfg.syn_perm_active_inc,
                cfg.syn_perm_inactive_dec,
            )
            rows = raise_permanences_to_threshold(
                rows, self._pools[winners], cfg.stimulus_threshold, cfg.syn_perm_connected
            )
            self._write_rows(winners, rows)
        # 2. Duty cycles.
        self._iteration += 1
        period = min(cfg.duty_cycle_period, self._iteration)
        won = np.zeros(cfg.columns, dtype=bool)
        won[winners] = True
        self._active_duty = update_duty_cycle(self._active_duty, won, period)
        self._overlap_duty = update_duty_cycle(self._overlap_duty, overlaps > 0, period)
        # 3. Weak columns: raise the whole pool by theta_c / 10.
        floor = cfg.min_pct_overlap_duty_cycles * float(self._overlap_duty.max())
        weak = np.flatnonzero(self._overlap_duty < floor)
        if weak.size:
            bumped = self._perm[weak] + np.float32(cfg.syn_perm_connected / 10.0)
            np.clip(bumped, 0.0, 1.0, out=bumped)
            bumped *= self._pools[weak]
            self._write_rows(weak, bumped)
        # 4. Boost factors.
        if cfg.boost_strength > 0:
            self._boost = boost_factors(self._active_duty, self._target, cfg.boost_strength)

    # -- persistence --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue identically: plain Python and NumPy values (copies)."""
        return {
            "config": asdict(self._config),
            "permanences": self._perm.copy(),
            "potential_pools": self._pools.copy(),
            "active_duty_cycles": self._active_duty.copy(),
            "overlap_duty_cycles": self._overlap_duty.copy(),
            "boost_factors": self._boost.copy(),
            "iteration": self._iteration,
            "rng_state": copy.deepcopy(self._rng.bit_generator.state),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace this pooler's state by ``state`` (from :meth:`state_dict`, same config).

        Args:
            state: dict with the keys of :meth:`state_dict`. Permanences must lie in [0, 1] and be
                0 outside the potential pools.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, got {type(state).__name__}.")
        missing = sorted(set(_STATE_KEYS) - state.keys())
        if missing:
            raise KeyError(f"state lacks {missing}; pass the dict from SpatialPooler.state_dict().")
        config = state["config"]
        if not isinstance(config, dict):
            raise TypeError("state['config'] must be a dict (asdict of SpatialPoolerConfig).")
        mine = asdict(self._config)
        for f in fields(SpatialPoolerConfig):
            if config.get(f.name) != mine[f.name]:
                raise ValueError(
                    f"state['config'][{f.name!r}] is {config.get(f.name)!r} but this pooler has "
                    f"{mine[f.name]!r}; use SpatialPooler.from_state_dict(state) instead."
                )
        c, n = self._config.columns, self._config.input_size
        pools = _check_array(state, "potential_pools", (c, n), "bool")
        perm = _check_array(state, "permanences", (c, n), "floating")
        if perm.size and (perm.min() < 0.0 or perm.max() > 1.0):
            raise ValueError("state['permanences'] must lie in [0, 1].")
        if np.any(perm[~pools] != 0):
            raise ValueError(
                "state['permanences'] must be 0 outside state['potential_pools']; a synapse "
                "off the pool cannot exist."
            )
        active = _check_array(state, "active_duty_cycles", (c,), "floating")
        overlap = _check_array(state, "overlap_duty_cycles", (c,), "floating")
        boost = _check_array(state, "boost_factors", (c,), "floating")
        if np.any(boost <= 0):
            raise ValueError("state['boost_factors'] must be positive.")
        iteration = check_int("state['iteration']", state["iteration"], minimum=0)
        rng = np.random.Generator(np.random.PCG64())
        try:
            rng.bit_generator.state = copy.deepcopy(state["rng_state"])
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(
                f"state['rng_state'] is not a PCG64 state ({err}); pass the dict from "
                "SpatialPooler.state_dict()."
            ) from None
        self._rng = rng
        self._set_state(
            permanences=perm,
            pools=pools,
            active_duty=active,
            overlap_duty=overlap,
            boost=boost,
            iteration=iteration,
        )


_STATE_KEYS = (
    "config",
    "permanences",
    "potential_pools",
    "active_duty_cycles",
    "overlap_duty_cycles",
    "boost_factors",
    "iteration",
    "rng_state",
)


def _check_array(state: dict[str, Any], key: str, shape: tuple[int, ...], kind: str) -> np.ndarray:
    value = state[key]
    if not isinstance(value, np.ndarray):
        raise TypeError(f"state[{key!r}] must be a numpy array, got {type(value).__name__}.")
    if value.shape != shape:
        raise ValueError(f"state[{key!r}] must have shape {shape}, got {value.shape}.")
    if kind == "bool" and value.dtype != np.bool_:
        raise TypeError(f"state[{key!r}] must have dtype bool, got {value.dtype}.")
    if kind == "floating":
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"state[{key!r}] must have a floating dtype, got {value.dtype}.")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"state[{key!r}] contains NaN or infinite values.")
    return value.copy()

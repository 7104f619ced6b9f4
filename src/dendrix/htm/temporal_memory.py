r"""HTM temporal memory (sequence memory): the readable reference implementation.

Rules. The memory has ``C`` columns (``columns``) of ``K`` cells (``cells_per_column``); cell
``i`` of column ``c`` has index ``c * K + i``. Every cell owns distal dendrite *segments*; a
segment owns *synapses*, each a presynaptic cell ``j`` with a permanence ``p`` in [0, 1]
(dimensionless). A synapse is *connected* when ``p >= P_conn`` (``connected_permanence``; as in
htm.core the test is ``p >= P_conn - eps`` with ``eps = 1e-6``, so that float round-off such as
``0.3 - 0.1 = 0.19999999999999998`` still connects at ``P_conn = 0.2``). ``A(t)`` and ``W(t)``
are the active and winner cells of step ``t``, ``X(t)`` the active columns given to
:meth:`TemporalMemory.compute`.

1. Dendrites (the predictions made at ``t-1``). For every segment ``s``: ``a_s`` = number of
   *connected* synapses from cells in ``A(t-1)``, ``m_s`` = number of synapses of any permanence
   from cells in ``A(t-1)``. ``s`` is *active* if ``a_s >= theta_act`` (``activation_threshold``)
   and *matching* if ``m_s >= theta_min`` (``min_threshold``). A cell with an active segment is
   *predictive*; a column with a predictive cell is *predicted*.
2. Raw anomaly: ``anomaly(t) = |{c in X(t): c not predicted}| / |X(t)|`` (0 if ``X(t)`` is empty).
3. Cells, column by column in increasing column index:

   * active and predicted: the predictive cells become active and winners;
   * active, not predicted (*burst*): all ``K`` cells become active. The winner is the cell of
     the best matching segment of the column (largest ``m_s``; ties: lowest cell, then oldest
     segment) or, if none matches, the *least used* cell (fewest segments; ties: lowest cell);
   * not active: no cell becomes active.

4. Learning (``learn=True``), with ``J = A(t-1)`` and ``U = W(t-1)``:

   * *reinforce* each active segment of an active predicted column, and the best matching
     segment of a bursting column: ``p <- clip(p + dp_inc)`` if ``j in J`` else
     ``clip(p - dp_dec)`` (``permanence_increment``, ``permanence_decrement``; ``clip`` to
     [0, 1]); then *grow* ``N_new - m_s`` synapses (``max_new_synapse_count``) if positive;
   * a bursting column without a matching segment gets a *new segment* on its winner cell, grown
     with ``min(N_new, |U|)`` synapses (no segment at all if ``U`` is empty);
   * *punish* every matching segment of a column that is not active, if
     ``dp_pred = predicted_segment_decrement > 0``: ``p <- clip(p - dp_pred)`` for ``j in J``,
     other synapses unchanged;
   * *prune*: a synapse whose updated value ``p + delta`` falls below ``eps`` is destroyed; an
     adapted segment left with fewer than ``theta_min`` synapses is destroyed;
   * *grow(s, n)*: the candidates are the cells of ``U`` that ``s`` has no synapse from (sorted);
     ``k = min(n, #candidates)``. If ``s`` would exceed ``S_max`` synapses
     (``max_synapses_per_segment``) it first destroys its lowest-permanence synapses whose
     presynaptic cell is not in ``U`` (ties: lower presynaptic cell first) and ``k`` shrinks to
     the room made. ``k`` candidates chosen at random (all of them if ``k`` equals their number)
     get a synapse of permanence ``p_init`` (``initial_permanence``);
   * a new segment on a cell that already has ``G_max`` segments (``max_segments_per_cell``)
     first destroys that cell's least useful segment: smallest ``sum_j p_j^2`` (ties: oldest).

After :meth:`TemporalMemory.compute`, :attr:`TemporalMemory.predictive_cells` are the cells
predicted for the *next* step (rule 1 applied to ``A(t)``).

Random numbers. The memory owns one ``numpy.random.Generator(numpy.random.PCG64(seed))`` and
draws from it at exactly one point: growth, only when ``k < len(candidates)`` and only while
learning, with :func:`sample_without_replacement` on the sorted candidates ``c[0..m-1]``: a
partial Fisher-Yates shuffle driven by ``k`` uniform doubles ``u_i = rng.random()`` (NumPy's
``next_double``: 53 random bits times ``2**-53``, so ``u_i`` in [0, 1))::

    for i in 0 .. k-1:  r = i + floor(u_i * (m - i));  swap c[i], c[r]
    chosen = c[0 .. k-1]

(``u_i * (m - i)`` rounds below ``m - i`` for every ``m < 2**53``, so ``r <= m - 1``.) The
synapses are created in the chosen order. The algorithm is spelled out rather than delegated to
``rng.choice`` so that a compiled implementation can run it on the same bit generator and stay
bit-identical (``rng.choice`` uses an internal, version-dependent algorithm). The draws follow
the processing order: increasing column index; inside a predicted column, active segments in
(cell, segment id) order. Nothing else is random, and no outcome depends on the iteration order
of a dict or set, so an implementation that makes the same draws in the same order reproduces
this one exactly (:class:`dendrix.htm.temporal_memory_fast.FastTemporalMemory` does). Permanences
are Python floats (float64); a bit-exact fast path must use float64 too.

Choices where htm.core (``TemporalMemory.cpp``, ``Connections.cpp``) is ambiguous or differs:

* segment ids are never reused, so "oldest" means lowest id (htm.core recycles ids of destroyed
  segments and breaks ties by flat index);
* least used cell ties go to the lowest cell index. htm.core shuffles the column's cells with
  its RNG but its comparison then picks the lowest index anyway, so this is its actual
  behaviour, and the one that reproduces its learning curve on a repeating ``A B C D``
  (perfect from the 5th repetition): the winners of an element seen without context (``A``
  after nothing, then after ``D``) stay the same cells. A uniform random tie-break (NuPIC)
  changes them, and the same sequence then keeps bursting one element every few repetitions.
  Some htm.core versions also reuse a previous winner cell of a bursting column; this
  reference does not;
* growth excludes cells the segment already has a synapse from *before* sampling and before
  making room (as NuPIC did); htm.core samples all of ``U`` and skips duplicates, which can
  destroy more old synapses than the growth needs. Room is never made at the expense of
  synapses from ``U``;
* the least-useful-segment heuristic is summed with :func:`math.fsum` (exactly rounded, so
  independent of synapse order); htm.core sums in float32;
* no least-recently-used bookkeeping: current htm.core prunes by ``sum p^2``, not by last use;
* ``min_threshold <= activation_threshold`` is required (htm.core checks it too), and
  ``max_new_synapse_count <= max_synapses_per_segment`` (htm.core asserts it when growing);
* :meth:`TemporalMemory.reset` sets ``anomaly`` to 0.0 (htm.core sets -1).

References: J. Hawkins and S. Ahmad, "Why neurons have thousands of synapses, a theory of
sequence memory in neocortex", Front. Neural Circuits 10:23 (2016); Y. Cui, S. Ahmad and
J. Hawkins, "Continuous online sequence learning with an unsupervised neural network model",
Neural Computation 28(11):2474-2504 (2016). Semantics follow the maintained C++ library
htm.core (implemented here from its description, not its code).

Example:
    >>> tm = TemporalMemory(columns=64, cells_per_column=4, activation_threshold=3,
    ...                     min_threshold=2, max_new_synapse_count=4)
    >>> sequence = [[0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18, 19]]  # A B C, repeated
    >>> for repetition in range(1, 7):
    ...     anomalies = []
    ...     for columns in sequence:
    ...         tm.compute(columns, learn=True)
    ...         anomalies.append(tm.anomaly)
    ...     print(repetition, anomalies)
    1 [1.0, 1.0, 1.0]
    2 [1.0, 1.0, 1.0]
    3 [1.0, 1.0, 1.0]
    4 [1.0, 1.0, 1.0]
    5 [1.0, 0.0, 0.0]
    6 [0.0, 0.0, 0.0]
    >>> tm.active_cells.tolist()  # C, one cell per column: C in the context of B
    [64, 68, 72, 76]
    >>> tm.predictive_cells.tolist()  # A, in the context of C
    [0, 4, 8, 12]
"""

from __future__ import annotations

import math
import numbers
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from dendrix._validation import check_float, check_int, check_tensor
from dendrix.sdr.sdr import SDR

__all__ = [
    "EPSILON",
    "Connections",
    "TemporalMemory",
    "TemporalMemoryConfig",
    "sample_without_replacement",
]

EPSILON = 1e-6
"""htm.core's permanence tolerance: the connected test and the pruning threshold use it."""

CellIdx = int
"""Index of a cell, ``column * cells_per_column + i``."""
SegmentId = int
"""Id of a segment: creation order, never reused."""
Permanence = float
"""Synapse permanence in [0, 1]."""


def sample_without_replacement(
    population: Sequence[int], k: int, rng: np.random.Generator
) -> list[int]:
    """``k`` distinct items of ``population``, drawn by the partial Fisher-Yates shuffle of the
    module docstring: ``k`` draws ``u_i = rng.random()``, ``r = i + floor(u_i * (m - i))``, swap
    items ``i`` and ``r``; returns the first ``k`` items in that order.

    Args:
        population: the ``m`` items to draw from (not modified).
        k: how many to draw, ``0 <= k <= m``.
        rng: the generator; exactly ``k`` doubles are drawn from it.
    """
    items = list(population)
    m = len(items)
    if not 0 <= k <= m:
        raise ValueError(f"k must be in [0, len(population)={m}], got {k}.")
    for i, u in enumerate(rng.random(k).tolist()):
        r = i + int(u * (m - i))
        items[i], items[r] = items[r], items[i]
    return items[:k]


# --------------------------------------------------------------------------------------------
# Connections: cells -> segments -> synapses, with a presynaptic index
# --------------------------------------------------------------------------------------------


class Connections:
    """The synapse store of a temporal memory: explicit dicts and sets, no arrays.

    Args:
        num_cells: number of cells that own segments (and may be presynaptic).
        connected_permanence: ``P_conn``; a synapse counts as connected when
            ``p >= P_conn - EPSILON``.

    Layout (all plain Python):

    * ``_cell_segments[cell]``: list of segment ids of ``cell`` in creation order (created on
      demand);
    * ``_segment_cell[s]``: the cell owning segment ``s``;
    * ``_synapses[s]``: dict presynaptic cell -> permanence (one synapse per presynaptic cell);
    * ``_presynaptic_all[j]`` / ``_presynaptic_connected[j]``: set of segments with a synapse
      (respectively a connected synapse) from cell ``j``, for fast dendrite activation.

    Every mutation goes through :meth:`create_segment`, :meth:`destroy_segment`,
    :meth:`create_synapse`, :meth:`destroy_synapse` or :meth:`set_permanence`, which keep the
    indices consistent and bump :attr:`version`.
    """

    def __init__(self, num_cells: int, connected_permanence: float) -> None:
        self.num_cells = check_int("num_cells", num_cells, minimum=1)
        self.connected_permanence = check_float(
            "connected_permanence", connected_permanence, minimum=0.0, maximum=1.0
        )
        self.connected_threshold = self.connected_permanence - EPSILON
        self.version = 0
        self._clear()

    def _clear(self) -> None:
        self.version += 1
        self.next_segment_id = 0
        self._cell_segments: dict[CellIdx, list[SegmentId]] = {}
        self._segment_cell: dict[SegmentId, CellIdx] = {}
        self._synapses: dict[SegmentId, dict[CellIdx, Permanence]] = {}
        self._presynaptic_all: dict[CellIdx, set[SegmentId]] = {}
        self._presynaptic_connected: dict[CellIdx, set[SegmentId]] = {}

    # -- queries ------------------------------------------------------------------------------
    def num_segments(self, cell: int | None = None) -> int:
        """Number of segments of ``cell``, or of all cells."""
        if cell is None:
            return len(self._segment_cell)
        return len(self._cell_segments.get(self._cell(cell), ()))

    def num_synapses(self, segment: int | None = None) -> int:
        """Number of synapses of ``segment``, or of all segments."""
        if segment is None:
            return sum(len(syn) for syn in self._synapses.values())
        return len(self._synapses[self._segment(segment)])

    def segments_for_cell(self, cell: int) -> list[SegmentId]:
        """Segment ids of ``cell`` in creation order."""
        return list(self._cell_segments.get(self._cell(cell), ()))

    def cell_for_segment(self, segment: int) -> CellIdx:
        return self._segment_cell[self._segment(segment)]

    def segment_exists(self, segment: int) -> bool:
        return segment in self._segment_cell

    def synapses_for_segment(self, segment: int) -> dict[CellIdx, Permanence]:
        """Presynaptic cell -> permanence of ``segment``, in increasing presynaptic cell order."""
        syn = self._synapses[self._segment(segment)]
        return {j: syn[j] for j in sorted(syn)}

    def permanence(self, segment: int, presynaptic_cell: int) -> Permanence:
        """Permanence of the synapse from ``presynaptic_cell`` on ``segment`` (KeyError if none)."""
        return self._synapses[self._segment(segment)][presynaptic_cell]

    def segments(self) -> list[tuple[SegmentId, CellIdx]]:
        """Every segment as ``(segment id, cell)``, in creation order."""
        return sorted(self._segment_cell.items())

    def snapshot(self) -> tuple[tuple[SegmentId, CellIdx, tuple[tuple[CellIdx, float], ...]], ...]:
        """Canonical, comparable view: ``(segment id, cell, ((presynaptic, permanence), ...))``
        per segment in creation order, synapses by increasing presynaptic cell."""
        return tuple(
            (s, cell, tuple(sorted(self._synapses[s].items())))
            for s, cell in sorted(self._segment_cell.items())
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Connections):
            return NotImplemented
        return (
            self.num_cells == other.num_cells
            and self.connected_permanence == other.connected_permanence
            and self.next_segment_id == other.next_segment_id
            and self.snapshot() == other.snapshot()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Connections(num_cells={self.num_cells}, segments={self.num_segments()}, "
            f"synapses={self.num_synapses()})"
        )

    # -- activity -----------------------------------------------------------------------------
    def compute_activity(self, active_cells: Iterable[int]) -> tuple[Counter, Counter]:
        """Count, per segment, the synapses from ``active_cells``.

        Returns:
            ``(connected, potential)``: Counters segment id -> number of active connected
            synapses ``a_s`` / active synapses of any permanence ``m_s`` (segments with a zero
            count are absent).
        """
        connected: Counter = Counter()
        potential: Counter = Counter()
        index_all, index_connected = self._presynaptic_all, self._presynaptic_connected
        for j in active_cells:
            segs = index_all.get(j)
            if segs:
                potential.update(segs)
                segs = index_connected.get(j)
                if segs:
                    connected.update(segs)
        return connected, potential

    # -- mutation -----------------------------------------------------------------------------
    def create_segment(self, cell: int, max_segments_per_cell: int) -> SegmentId:
        """Add a segment to ``cell``; at ``max_segments_per_cell`` segments, first destroy the
        least useful one (smallest sum of squared permanences; ties: oldest)."""
        cell = self._cell(cell)
        max_segments_per_cell = check_int("max_segments_per_cell", max_segments_per_cell, minimum=1)
        own = self._cell_segments.setdefault(cell, [])
        while len(own) >= max_segments_per_cell:
            self.destroy_segment(min(own, key=lambda s: (self._usefulness(s), s)))
        segment = self.next_segment_id
        self.next_segment_id += 1
        own.append(segment)
        self._segment_cell[segment] = cell
        self._synapses[segment] = {}
        self.version += 1
        return segment

    def destroy_segment(self, segment: int) -> None:
        segment = self._segment(segment)
        for j in list(self._synapses[segment]):
            self.destroy_synapse(segment, j)
        cell = self._segment_cell.pop(segment)
        del self._synapses[segment]
        own = self._cell_segments[cell]
        own.remove(segment)
        if not own:
            del self._cell_segments[cell]
        self.version += 1

    def create_synapse(
        self, segment: int, presynaptic_cell: int, permanence: float
    ) -> tuple[CellIdx, Permanence]:
        """Add a synapse from ``presynaptic_cell``; if the segment already has one, it keeps the
        larger of the two permanences (never a duplicate). Returns ``(presynaptic cell, p)``."""
        segment = self._segment(segment)
        j = self._cell(presynaptic_cell, "presynaptic_cell")
        p = check_float("permanence", permanence, minimum=0.0, maximum=1.0)
        syn = self._synapses[segment]
        if j in syn:
            if p > syn[j]:
                self.set_permanence(segment, j, p)
            return j, syn[j]
        syn[j] = p
        self._presynaptic_all.setdefault(j, set()).add(segment)
        if p >= self.connected_threshold:
            self._presynaptic_connected.setdefault(j, set()).add(segment)
        self.version += 1
        return j, p

    def destroy_synapse(self, segment: int, presynaptic_cell: int) -> None:
        p = self._synapses[segment].pop(presynaptic_cell)
        self._discard(self._presynaptic_all, presynaptic_cell, segment)
        if p >= self.connected_threshold:
            self._discard(self._presynaptic_connected, presynaptic_cell, segment)
        self.version += 1

    def set_permanence(self, segment: int, presynaptic_cell: int, permanence: float) -> None:
        """Set an existing synapse's permanence, clipped to [0, 1]."""
        p = min(1.0, max(0.0, permanence))
        syn = self._synapses[segment]
        was = syn[presynaptic_cell] >= self.connected_threshold
        syn[presynaptic_cell] = p
        now = p >= self.connected_threshold
        if was != now:
            if now:
                self._presynaptic_connected.setdefault(presynaptic_cell, set()).add(segment)
            else:
                self._discard(self._presynaptic_connected, presynaptic_cell, segment)
        self.version += 1

    # -- learning primitives ------------------------------------------------------------------
    def adapt_segment(
        self,
        segment: SegmentId,
        active_presynaptic: set[int] | frozenset[int],
        increment: float,
        decrement: float,
        segment_threshold: int,
    ) -> bool:
        """``p <- clip(p + increment)`` for synapses from ``active_presynaptic``, else
        ``clip(p - decrement)``; destroy synapses whose ``p + delta < EPSILON`` and then the
        segment if it keeps fewer than ``segment_threshold`` synapses.

        Returns:
            whether the segment still exists.
        """
        syn = self._synapses[segment]
        doomed = []
        for j, p in list(syn.items()):
            new = p + increment if j in active_presynaptic else p - decrement
            if new < EPSILON:
                doomed.append(j)
            else:
                self.set_permanence(segment, j, new)
        for j in doomed:
            self.destroy_synapse(segment, j)
        if len(syn) < segment_threshold:
            self.destroy_segment(segment)
            return False
        return True

    def destroy_min_permanence_synapses(
        self, segment: SegmentId, count: int, exclude: set[int] | frozenset[int]
    ) -> None:
        """Destroy up to ``count`` synapses of lowest permanence (ties: lower presynaptic cell
        first), never one from a cell in ``exclude``."""
        syn = self._synapses[segment]
        candidates = sorted((p, j) for j, p in syn.items() if j not in exclude)
        for _, j in candidates[:count]:
            self.destroy_synapse(segment, j)

    def grow_synapses(
        self,
        segment: SegmentId,
        winners: Sequence[int],
        winner_set: set[int] | frozenset[int],
        n_desired: int,
        initial_permanence: float,
        max_synapses_per_segment: int,
        rng: np.random.Generator,
    ) -> None:
        """Grow up to ``n_desired`` synapses from cells of ``winners`` (sorted) that the segment
        does not reach yet, at ``initial_permanence``, making room at
        ``max_synapses_per_segment`` (see the module docstring for the exact rule and draws)."""
        syn = self._synapses[segment]
        candidates = [j for j in winners if j not in syn]
        k = min(n_desired, len(candidates))
        if k <= 0:
            return
        overrun = len(syn) + k - max_synapses_per_segment
        if overrun > 0:
            self.destroy_min_permanence_synapses(segment, overrun, winner_set)
            k = min(k, max_synapses_per_segment - len(syn))
            if k <= 0:
                return
        if k < len(candidates):
            chosen = sample_without_replacement(candidates, k, rng)
        else:
            chosen = candidates
        connected = initial_permanence >= self.connected_threshold
        for j in chosen:
            syn[j] = initial_permanence
            self._presynaptic_all.setdefault(j, set()).add(segment)
            if connected:
                self._presynaptic_connected.setdefault(j, set()).add(segment)
        self.version += 1

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Flat NumPy arrays: segments in creation order, their synapses by presynaptic cell."""
        snap = self.snapshot()
        syn_segment, syn_pre, syn_perm = [], [], []
        for s, _, synapses in snap:
            for j, p in synapses:
                syn_segment.append(s)
                syn_pre.append(j)
                syn_perm.append(p)
        return {
            "next_segment_id": self.next_segment_id,
            "segment_ids": np.array([s for s, _, _ in snap], dtype=np.int64),
            "segment_cells": np.array([c for _, c, _ in snap], dtype=np.int64),
            "synapse_segments": np.array(syn_segment, dtype=np.int64),
            "synapse_presynaptic_cells": np.array(syn_pre, dtype=np.int64),
            "synapse_permanences": np.array(syn_perm, dtype=np.float64),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace every segment and synapse by those of ``state`` (from :meth:`state_dict`)."""
        self._clear()
        for s, cell in zip(
            np.asarray(state["segment_ids"]).tolist(),
            np.asarray(state["segment_cells"]).tolist(),
            strict=True,
        ):
            self._cell(cell, "segment_cells")
            self._cell_segments.setdefault(cell, []).append(s)
            self._segment_cell[s] = cell
            self._synapses[s] = {}
        for s, j, p in zip(
            np.asarray(state["synapse_segments"]).tolist(),
            np.asarray(state["synapse_presynaptic_cells"]).tolist(),
            np.asarray(state["synapse_permanences"]).tolist(),
            strict=True,
        ):
            self.create_synapse(s, j, p)
        self.next_segment_id = int(state["next_segment_id"])
        if self._segment_cell and max(self._segment_cell) >= self.next_segment_id:
            raise ValueError(
                "state['next_segment_id'] must exceed every segment id; the state is corrupt."
            )

    # -- helpers --------------------------------------------------------------------------------
    def _usefulness(self, segment: SegmentId) -> float:
        return math.fsum(p * p for p in self._synapses[segment].values())

    def _cell(self, cell: object, name: str = "cell") -> int:
        return check_int(name, cell, minimum=0, maximum=self.num_cells - 1)

    def _segment(self, segment: object) -> int:
        if isinstance(segment, bool) or not isinstance(segment, numbers.Integral):
            raise TypeError(f"segment must be an integer segment id, got {segment!r}.")
        if segment not in self._segment_cell:
            raise KeyError(
                f"segment {segment} does not exist (destroyed or never created); list the live "
                "ones with connections.segments()."
            )
        return int(segment)

    @staticmethod
    def _discard(index: dict[int, set[int]], key: int, segment: int) -> None:
        segs = index[key]
        segs.discard(segment)
        if not segs:
            del index[key]


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporalMemoryConfig:
    """Constructor arguments of :class:`TemporalMemory` (see there for their meaning)."""

    columns: int = 2048
    cells_per_column: int = 32
    activation_threshold: int = 13
    initial_permanence: float = 0.21
    connected_permanence: float = 0.5
    min_threshold: int = 10
    max_new_synapse_count: int = 20
    permanence_increment: float = 0.1
    permanence_decrement: float = 0.1
    predicted_segment_decrement: float = 0.0
    max_segments_per_cell: int = 255
    max_synapses_per_segment: int = 255
    seed: int = 42

    def __post_init__(self) -> None:
        ints = {
            "columns": "the number of columns, e.g. 2048.",
            "cells_per_column": "the number of cells per column, e.g. 32.",
            "activation_threshold": "connected active synapses for an active segment, e.g. 13.",
            "min_threshold": "active synapses that make a segment matching, e.g. 10.",
            "max_new_synapse_count": "synapses grown per learning segment, e.g. 20.",
            "max_segments_per_cell": "e.g. 255.",
            "max_synapses_per_segment": "e.g. 255.",
        }
        for name, hint in ints.items():
            object.__setattr__(
                self, name, check_int(name, getattr(self, name), minimum=1, hint=hint)
            )
        object.__setattr__(
            self, "seed", check_int("seed", self.seed, minimum=0, hint="NumPy seeds are >= 0.")
        )
        for name in (
            "initial_permanence",
            "connected_permanence",
            "permanence_increment",
            "permanence_decrement",
            "predicted_segment_decrement",
        ):
            value = check_float(
                name,
                getattr(self, name),
                minimum=0.0,
                maximum=1.0,
                hint="Permanences and their increments are fractions in [0, 1].",
            )
            object.__setattr__(self, name, value)
        if self.min_threshold > self.activation_threshold:
            raise ValueError(
                f"min_threshold must be <= activation_threshold={self.activation_threshold}, got "
                f"{self.min_threshold}: a segment that is active must also be matching. Lower "
                "min_threshold or raise activation_threshold."
            )
        if self.max_new_synapse_count > self.max_synapses_per_segment:
            raise ValueError(
                "max_new_synapse_count must be <= max_synapses_per_segment="
                f"{self.max_synapses_per_segment}, got {self.max_new_synapse_count}: a new "
                "segment could not hold its synapses. Lower max_new_synapse_count or raise "
                "max_synapses_per_segment."
            )

    def check_state(self, state: object, implementation: str) -> None:
        """Refuse a state dict that is not a dict or was saved with another configuration.

        Args:
            state: a ``state_dict()`` of either temporal-memory implementation.
            implementation: class name quoted in the advice of the error message.
        """
        if not isinstance(state, dict) or "config" not in state:
            raise TypeError(
                "state must be a dict produced by TemporalMemory.state_dict() or "
                "FastTemporalMemory.state_dict()."
            )
        mine = asdict(self)
        for f in fields(TemporalMemoryConfig):
            if state["config"].get(f.name) != mine[f.name]:
                raise ValueError(
                    f"state config {f.name}={state['config'].get(f.name)!r} differs from this "
                    f"memory's {f.name}={mine[f.name]!r}; build the memory with "
                    f"{implementation}(**state['config']) first."
                )


# --------------------------------------------------------------------------------------------
# Temporal memory
# --------------------------------------------------------------------------------------------


def _column_indices(active_columns: object, columns: int) -> list[int]:
    """Active column indices as a sorted list of Python ints, checked."""
    name = "active_columns"
    hint = "Pass sorted unique column indices (e.g. np.unique(x)) or an SDR of size columns."
    if isinstance(active_columns, SDR):
        if active_columns.batch_shape != () or active_columns.size != columns:
            raise ValueError(
                f"{name} as an SDR must be a single SDR of size columns={columns}, got shape "
                f"{active_columns.shape}."
            )
        return active_columns.indices.tolist()
    if isinstance(active_columns, torch.Tensor):
        check_tensor(name, active_columns, kind="integer", ndim=1, hint=hint)
        values = active_columns.tolist()
    elif isinstance(active_columns, np.ndarray):
        if active_columns.ndim != 1 or active_columns.dtype.kind not in "iu":
            raise TypeError(
                f"{name} must be a 1-D integer array, got dtype {active_columns.dtype} and shape "
                f"{active_columns.shape}. {hint}"
            )
        values = active_columns.tolist()
    elif isinstance(active_columns, Sequence) and not isinstance(active_columns, (str, bytes)):
        values = []
        for v in active_columns:
            if isinstance(v, bool):
                raise TypeError(f"{name} must hold integers, got {v!r} (bool). {hint}")
            try:
                values.append(operator.index(v))
            except TypeError:
                raise TypeError(
                    f"{name} must hold integers, got {v!r} ({type(v).__name__}). {hint}"
                ) from None
    else:
        raise TypeError(
            f"{name} must be a sequence, array or tensor of column indices or an SDR, got "
            f"{type(active_columns).__name__}. {hint}"
        )
    previous = -1
    for v in values:
        if v < 0 or v >= columns:
            raise ValueError(f"{name} holds {v}, outside [0, columns={columns}). {hint}")
        if v <= previous:
            raise ValueError(
                f"{name} must be sorted and unique, but {v} follows {previous}. {hint}"
            )
        previous = v
    return values


class TemporalMemory:
    """HTM temporal memory over ``columns * cells_per_column`` cells (rules: module docstring).

    Args:
        columns: number of columns ``C``.
        cells_per_column: cells per column ``K``.
        activation_threshold: ``theta_act``, active connected synapses for an active segment.
        initial_permanence: ``p_init`` of grown synapses, in [0, 1].
        connected_permanence: ``P_conn``, the permanence at which a synapse connects.
        min_threshold: ``theta_min <= theta_act``, active synapses (any permanence) for a
            matching segment; also the fewest synapses an adapted segment may keep.
        max_new_synapse_count: ``N_new``, the active synapses a learning segment grows towards.
        permanence_increment: ``dp_inc`` for synapses from previously active cells.
        permanence_decrement: ``dp_dec`` for the other synapses of a learning segment.
        predicted_segment_decrement: ``dp_pred``, punishment of matching segments in inactive
            columns (0 disables it).
        max_segments_per_cell: ``G_max``.
        max_synapses_per_segment: ``S_max >= N_new``.
        seed: seed of the memory's own ``numpy.random.Generator(PCG64(seed))``.

    Outputs after :meth:`compute` (sorted ``int64`` arrays of cell indices): :attr:`active_cells`,
    :attr:`winner_cells`, :attr:`predictive_cells` (for the next step); :attr:`anomaly` (float).
    """

    def __init__(
        self,
        columns: int = 2048,
        cells_per_column: int = 32,
        activation_threshold: int = 13,
        initial_permanence: float = 0.21,
        connected_permanence: float = 0.5,
        min_threshold: int = 10,
        max_new_synapse_count: int = 20,
        permanence_increment: float = 0.1,
        permanence_decrement: float = 0.1,
        predicted_segment_decrement: float = 0.0,
        max_segments_per_cell: int = 255,
        max_synapses_per_segment: int = 255,
        seed: int = 42,
    ) -> None:
        self.config = TemporalMemoryConfig(
            columns=columns,
            cells_per_column=cells_per_column,
            activation_threshold=activation_threshold,
            initial_permanence=initial_permanence,
            connected_permanence=connected_permanence,
            min_threshold=min_threshold,
            max_new_synapse_count=max_new_synapse_count,
            permanence_increment=permanence_increment,
            permanence_decrement=permanence_decrement,
            predicted_segment_decrement=predicted_segment_decrement,
            max_segments_per_cell=max_segments_per_cell,
            max_synapses_per_segment=max_synapses_per_segment,
            seed=seed,
        )
        cfg = self.config
        self.columns = cfg.columns
        self.cells_per_column = cfg.cells_per_column
        self.num_cells = cfg.columns * cfg.cells_per_column
        self.connections = Connections(self.num_cells, cfg.connected_permanence)
        self.rng = np.random.Generator(np.random.PCG64(cfg.seed))
        self._active_cells: list[CellIdx] = []
        self._winner_cells: list[CellIdx] = []
        self.anomaly = 0.0
        self._dendrites_key: tuple[int, int] | None = None
        self._dendrites: tuple[list[SegmentId], list[SegmentId], Counter] = ([], [], Counter())
        self._state_token = 0  # bumped whenever the active cells change

    @classmethod
    def from_config(cls, config: TemporalMemoryConfig) -> TemporalMemory:
        if not isinstance(config, TemporalMemoryConfig):
            raise TypeError(f"config must be a TemporalMemoryConfig, got {type(config).__name__}.")
        return cls(**asdict(config))

    # -- outputs ------------------------------------------------------------------------------
    @property
    def active_cells(self) -> np.ndarray:
        """Cells active at the last step, sorted ``int64``."""
        return np.array(self._active_cells, dtype=np.int64)

    @property
    def winner_cells(self) -> np.ndarray:
        """Winner cells of the last step (one per active column), sorted ``int64``."""
        return np.array(self._winner_cells, dtype=np.int64)

    @property
    def predictive_cells(self) -> np.ndarray:
        """Cells with an active segment given the current active cells: the prediction for the
        next step. Sorted ``int64``."""
        active, _, _ = self._activate_dendrites()
        cell_of = self.connections._segment_cell
        return np.array(sorted({cell_of[s] for s in active}), dtype=np.int64)

    @property
    def active_segments(self) -> list[SegmentId]:
        """Active segments given the current active cells, sorted by (cell, segment id)."""
        return list(self._activate_dendrites()[0])

    @property
    def matching_segments(self) -> list[SegmentId]:
        """Matching segments given the current active cells, sorted by (cell, segment id)."""
        return list(self._activate_dendrites()[1])

    def column_for_cell(self, cell: int) -> int:
        return (
            check_int("cell", cell, minimum=0, maximum=self.num_cells - 1) // self.cells_per_column
        )

    # -- hand wiring (tests, inspection) ------------------------------------------------------
    def create_segment(self, cell: int) -> SegmentId:
        """Add a segment to ``cell`` (respecting ``max_segments_per_cell``)."""
        return self.connections.create_segment(cell, self.config.max_segments_per_cell)

    def create_synapse(self, segment: int, presynaptic_cell: int, permanence: float) -> None:
        """Add a synapse (a repeat keeps the larger permanence)."""
        self.connections.create_synapse(segment, presynaptic_cell, permanence)

    # -- the step -----------------------------------------------------------------------------
    def compute(self, active_columns: object, learn: bool = True) -> None:
        """One time step: dendrites, anomaly, then cell activation and learning.

        Args:
            active_columns: the active columns ``X(t)``: sorted unique column indices (sequence,
                1-D integer array or tensor ``[w]``) or an :class:`~dendrix.sdr.SDR` of size
                ``columns``.
            learn: adapt, grow, create and punish (``True``) or only infer (``False``: neither
                the connections nor the RNG change).
        """
        columns = _column_indices(active_columns, self.columns)
        if not isinstance(learn, (bool, np.bool_)):
            raise TypeError(f"learn must be a bool, got {learn!r} ({type(learn).__name__}).")
        active_segments, matching_segments, potential = self._activate_dendrites()
        self.anomaly = self._anomaly(columns, active_segments)
        self._activate_cells(columns, active_segments, matching_segments, potential, bool(learn))

    def _activate_dendrites(self) -> tuple[list[SegmentId], list[SegmentId], Counter]:
        """Rule 1 for the current active cells, cached until the cells or connections change.

        Returns:
            ``(active, matching, potential)``: active and matching segments sorted by (cell,
            segment id), and the Counter of active potential synapses ``m_s``.
        """
        key = (self._state_token, self.connections.version)
        if key == self._dendrites_key:
            return self._dendrites
        cfg = self.config
        connected, potential = self.connections.compute_activity(self._active_cells)
        cell_of = self.connections._segment_cell

        def order(s: SegmentId) -> tuple[int, int]:
            return cell_of[s], s

        theta_act, theta_min = cfg.activation_threshold, cfg.min_threshold
        active = sorted((s for s, n in connected.items() if n >= theta_act), key=order)
        matching = sorted((s for s, n in potential.items() if n >= theta_min), key=order)
        self._dendrites = (active, matching, potential)
        self._dendrites_key = key
        return self._dendrites

    def _anomaly(self, columns: list[int], active_segments: list[SegmentId]) -> float:
        """Rule 2: fraction of active columns without a predictive cell."""
        if not columns:
            return 0.0
        k = self.cells_per_column
        cell_of = self.connections._segment_cell
        predicted = {cell_of[s] // k for s in active_segments}
        missed = sum(1 for c in columns if c not in predicted)
        return missed / len(columns)

    def _activate_cells(
        self,
        columns: list[int],
        active_segments: list[SegmentId],
        matching_segments: list[SegmentId],
        potential: Counter,
        learn: bool,
    ) -> None:
        """Rules 3 and 4, column by column in increasing index."""
        k = self.cells_per_column
        cell_of = self.connections._segment_cell
        by_column_active: dict[int, list[SegmentId]] = {}
        for s in active_segments:
            by_column_active.setdefault(cell_of[s] // k, []).append(s)
        by_column_matching: dict[int, list[SegmentId]] = {}
        for s in matching_segments:
            by_column_matching.setdefault(cell_of[s] // k, []).append(s)

        prev_active = frozenset(self._active_cells)
        prev_winners = self._winner_cells
        prev_winner_set = frozenset(prev_winners)
        context = (prev_active, prev_winners, prev_winner_set)
        new_active: list[CellIdx] = []
        new_winners: list[CellIdx] = []
        active_set = set(columns)
        touched = sorted(active_set.union(by_column_active, by_column_matching))
        for column in touched:
            if column in active_set:
                if column in by_column_active:
                    cells = self._activate_predicted_column(
                        by_column_active[column], potential, context, learn
                    )
                    new_active.extend(cells)
                    new_winners.extend(cells)
                else:
                    winner = self._burst_column(
                        column, by_column_matching.get(column, []), potential, context, learn
                    )
                    new_active.extend(range(column * k, column * k + k))
                    new_winners.append(winner)
            elif learn:
                self._punish_predicted_column(by_column_matching.get(column, []), prev_active)
        self._active_cells = new_active
        self._winner_cells = new_winners
        self._state_token += 1

    def _activate_predicted_column(
        self,
        segments: list[SegmentId],
        potential: Counter,
        context: tuple[frozenset[int], list[int], frozenset[int]],
        learn: bool,
    ) -> list[CellIdx]:
        """Predicted active column: its predictive cells fire and win; reinforce and grow."""
        cell_of = self.connections._segment_cell
        cells: list[CellIdx] = []
        for s in segments:  # sorted by (cell, id): a cell's segments are adjacent
            cell = cell_of[s]
            if not cells or cells[-1] != cell:
                cells.append(cell)
            if learn:
                self._learn_on_segment(s, potential[s], context)
        return cells

    def _burst_column(
        self,
        column: int,
        matching: list[SegmentId],
        potential: Counter,
        context: tuple[frozenset[int], list[int], frozenset[int]],
        learn: bool,
    ) -> CellIdx:
        """Unpredicted active column: pick the winner; learn on its best matching segment or on
        a new segment. Returns the winner cell."""
        cfg = self.config
        conn = self.connections
        best: SegmentId | None = None
        for s in matching:  # sorted by (cell, id): the first maximum wins ties
            if best is None or potential[s] > potential[best]:
                best = s
        winner = conn._segment_cell[best] if best is not None else self._least_used_cell(column)
        if learn:
            if best is not None:
                self._learn_on_segment(best, potential[best], context)
            else:
                _, prev_winners, prev_winner_set = context
                n = min(cfg.max_new_synapse_count, len(prev_winners))
                if n > 0:
                    segment = conn.create_segment(winner, cfg.max_segments_per_cell)
                    conn.grow_synapses(
                        segment,
                        prev_winners,
                        prev_winner_set,
                        n,
                        cfg.initial_permanence,
                        cfg.max_synapses_per_segment,
                        self.rng,
                    )
        return winner

    def _learn_on_segment(
        self,
        segment: SegmentId,
        n_potential: int,
        context: tuple[frozenset[int], list[int], frozenset[int]],
    ) -> None:
        """Reinforce ``segment`` towards the previous activity, then grow towards N_new."""
        cfg = self.config
        prev_active, prev_winners, prev_winner_set = context
        alive = self.connections.adapt_segment(
            segment,
            prev_active,
            cfg.permanence_increment,
            cfg.permanence_decrement,
            cfg.min_threshold,
        )
        n_grow = cfg.max_new_synapse_count - n_potential
        if alive and n_grow > 0:
            self.connections.grow_synapses(
                segment,
                prev_winners,
                prev_winner_set,
                n_grow,
                cfg.initial_permanence,
                cfg.max_synapses_per_segment,
                self.rng,
            )

    def _punish_predicted_column(
        self, matching: list[SegmentId], prev_active: frozenset[int]
    ) -> None:
        """Predicted but inactive column: weaken the matching segments' active synapses."""
        decrement = self.config.predicted_segment_decrement
        if decrement > 0.0:
            for s in matching:
                self.connections.adapt_segment(
                    s, prev_active, -decrement, 0.0, self.config.min_threshold
                )

    def _least_used_cell(self, column: int) -> CellIdx:
        """The cell of ``column`` with the fewest segments; ties: the lowest index."""
        k = self.cells_per_column
        segments_of = self.connections._cell_segments
        counts = [len(segments_of.get(cell, ())) for cell in range(column * k, column * k + k)]
        return column * k + counts.index(min(counts))

    # -- sequence state -----------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the sequence context: no active or winner cells, hence no active or matching
        segments, so the next input bursts. The connections are kept."""
        self._active_cells = []
        self._winner_cells = []
        self.anomaly = 0.0
        self._state_token += 1

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-exactly: config, connections, sequence state and
        RNG state, as plain Python and NumPy values."""
        state = {"config": asdict(self.config)}
        state.update({f"connections.{k}": v for k, v in self.connections.state_dict().items()})
        state["active_cells"] = self.active_cells
        state["winner_cells"] = self.winner_cells
        state["anomaly"] = float(self.anomaly)
        state["rng_state"] = self.rng.bit_generator.state
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load a :meth:`state_dict` of a memory with the same configuration."""
        self.config.check_state(state, "TemporalMemory")
        prefix = "connections."
        self.connections.load_state_dict(
            {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        )
        self._active_cells = [int(c) for c in np.asarray(state["active_cells"]).tolist()]
        self._winner_cells = [int(c) for c in np.asarray(state["winner_cells"]).tolist()]
        self.anomaly = float(state["anomaly"])
        self.rng.bit_generator.state = state["rng_state"]
        self._state_token += 1
        self._dendrites_key = None

    def __repr__(self) -> str:
        return (
            f"TemporalMemory(columns={self.columns}, cells_per_column={self.cells_per_column}, "
            f"segments={self.connections.num_segments()}, "
            f"synapses={self.connections.num_synapses()})"
        )

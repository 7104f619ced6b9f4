r"""HTM temporal memory, fast path: the reference's rules as compiled kernels, bit for bit.

:class:`FastTemporalMemory` is a drop-in for :class:`~dendrix.htm.temporal_memory.TemporalMemory`
(same constructor, :attr:`config`, :meth:`compute`, :attr:`anomaly`, :attr:`active_cells`,
:attr:`winner_cells`, :attr:`predictive_cells`, :meth:`reset`, hand wiring, and a
:meth:`state_dict` in the reference's format, so state moves freely between the two). The rules,
tie-breaks and random draws are the reference's; read its module docstring for them. Given the
same seed and inputs both produce identical active, winner and predictive cells, anomalies,
segments (cells and ids), synapses (presynaptic cells and float64 permanences) and generator
state; ``tests/htm/test_temporal_memory_fast.py`` checks this over thousands of steps.
:func:`make_temporal_memory` picks an implementation by name; the fast one is the default for
applications (the NAB detector), the reference is for reading and for tests.

Why compiled code. A step visits a data-dependent set of segments and synapses: the synapses of
the active cells (rule 1), a few learning segments, growth and pruning with their tie-breaks.
Each touches tens of numbers, so NumPy's array calls cost more in dispatch than they compute,
and the reference spends its time in Python dict and set operations. ``numba`` compiles the
loops (:mod:`dendrix.htm._tm_kernels`) to machine code at first use while keeping them plain
Python source: unlike a C++ or Cython extension, ``pip install`` needs no compiler and there is
one source of truth to read, and ``cache=True`` stores the machine code next to the module, so
only the first use on a machine pays the compile (seconds).

Layout. Connections live in flat, growable NumPy arrays, described in full in
:mod:`dendrix.htm._tm_kernels`: a table of segment slots (cell, creation id, synapse count,
neighbours in the cell's segment list), one ``[segment slots, W]`` block each for presynaptic
cells (int32), permanences (float64, as in the reference, so sums and comparisons round
identically) and back-pointers, and a per-cell table. ``W`` starts at ``2 * N_new`` and grows
towards ``S_max`` only as segments need it (segments hold tens of synapses; ``S_max`` is often
255). Rule 1 needs, for each active cell, the synapses it feeds: scanning every synapse at every
step would read ~10^6 entries to find ~10^3, so a presynaptic index maps each cell to a
contiguous chunk of ``(segment slot, synapse slot, connected bit)`` entries in a shared pool,
and rule 1 reads nothing else (the connected bit is flipped when a permanence crosses
``P_conn - EPSILON``). Removal swaps the chunk's last entry in; a full chunk moves to the
pool's end at twice the size; synapses point back into their chunk by offset, so a move touches
no synapse. The step then costs in proportion to the synapses of the active cells. Destroyed
segments' slots go on a free stack; ids are never reused, so the reference's ids and orders are
kept exactly. Arrays never grow inside a kernel: before each step the Python side checks bounds
on what one step can add (one segment per active column, ``N_new`` synapses per learning
segment; see :func:`dendrix.htm._tm_kernels.step`) and reallocates (doubling, compacting the
pool) when needed.

Random numbers. The memory owns a ``numpy.random.Generator(PCG64(seed))`` like the reference,
and the kernels draw from it, with its lock held, through the bit generator's own C
``next_double`` (the function behind ``Generator.random()``), in the reference's order and with
its :func:`~dendrix.htm.temporal_memory.sample_without_replacement` algorithm. So the
generator's state is the reference's after every step, and :attr:`rng` is an ordinary
generator (a copy or an unpickled memory draws from its own).

Example:
    >>> tm = FastTemporalMemory(columns=64, cells_per_column=4, activation_threshold=3,
    ...                         min_threshold=2, max_new_synapse_count=4)
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
    >>> tm.predictive_cells.tolist()  # A, in the context of C
    [0, 4, 8, 12]
"""

from __future__ import annotations

import ctypes
import numbers
from dataclasses import asdict
from typing import Any

import numpy as np

from dendrix._validation import check_choice, check_float, check_int
from dendrix.htm.temporal_memory import (
    Connections,
    TemporalMemory,
    TemporalMemoryConfig,
    _column_indices,
)

try:
    from dendrix.htm import _tm_kernels as _k
except ImportError as error:  # numba is a declared dependency; this only guards broken installs
    if error.name not in {"numba", "llvmlite"}:
        raise
    _k = None
    _KERNEL_IMPORT_ERROR: ImportError | None = error
else:
    _KERNEL_IMPORT_ERROR = None

__all__ = ["IMPLEMENTATIONS", "FastTemporalMemory", "make_temporal_memory"]

IMPLEMENTATIONS = ("fast", "reference")
"""Names accepted by :func:`make_temporal_memory`."""

_INITIAL_SEGMENTS = 1024
_INITIAL_POOL = 1 << 16


def _require_numba() -> None:
    if _k is None:
        raise ImportError(
            "FastTemporalMemory needs numba, a dependency of dendrix that failed to import "
            f"({_KERNEL_IMPORT_ERROR}). Install it with `pip install 'numba>=0.60'`, or use the "
            "reference dendrix.htm.temporal_memory.TemporalMemory (same results, slower)."
        )


def _rng_pointers(rng: np.random.Generator) -> np.ndarray:
    """``[address of next_double, address of the state]`` of ``rng``'s bit generator."""
    interface = rng.bit_generator.ctypes
    next_double = ctypes.cast(interface.next_double, ctypes.c_void_p).value
    return np.array([next_double, interface.state_address], dtype=np.int64)


class FastTemporalMemory:
    """Compiled HTM temporal memory, bit-identical to
    :class:`~dendrix.htm.temporal_memory.TemporalMemory` (design: module docstring).

    Args:
        columns, cells_per_column, activation_threshold, initial_permanence,
        connected_permanence, min_threshold, max_new_synapse_count, permanence_increment,
        permanence_decrement, predicted_segment_decrement, max_segments_per_cell,
        max_synapses_per_segment, seed: as for
        :class:`~dendrix.htm.temporal_memory.TemporalMemory` (validated by the same
        :class:`~dendrix.htm.temporal_memory.TemporalMemoryConfig`).

    Outputs after :meth:`compute` (sorted ``int64`` arrays of cell indices): :attr:`active_cells`,
    :attr:`winner_cells`, :attr:`predictive_cells` (for the next step); :attr:`anomaly` (float).

    Raises:
        ImportError: if numba cannot be imported.
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
        _require_numba()
        cfg = self.config
        self.columns = cfg.columns
        self.cells_per_column = cfg.cells_per_column
        self.num_cells = cfg.columns * cfg.cells_per_column
        # The reference's connected test, p >= P_conn - EPSILON, with its threshold.
        self._threshold = Connections(1, cfg.connected_permanence).connected_threshold
        self._iparams = np.zeros(6, dtype=np.int64)
        self._iparams[_k.I_CELLS_PER_COLUMN] = cfg.cells_per_column
        self._iparams[_k.I_THETA_ACT] = cfg.activation_threshold
        self._iparams[_k.I_THETA_MIN] = cfg.min_threshold
        self._iparams[_k.I_NEW] = cfg.max_new_synapse_count
        self._iparams[_k.I_MAX_SEG] = cfg.max_segments_per_cell
        self._iparams[_k.I_MAX_SYN] = cfg.max_synapses_per_segment
        self._fparams = np.zeros(5, dtype=np.float64)
        self._fparams[_k.F_INC] = cfg.permanence_increment
        self._fparams[_k.F_DEC] = cfg.permanence_decrement
        self._fparams[_k.F_PRED_DEC] = cfg.predicted_segment_decrement
        self._fparams[_k.F_INIT] = cfg.initial_permanence
        self._fparams[_k.F_CONNECTED] = self._threshold
        # (cell, id) is sorted as cell * next_id + id in int64.
        self._max_segment_id = (2**63 - 1) // self.num_cells
        self.rng = np.random.Generator(np.random.PCG64(cfg.seed))
        self.anomaly = 0.0
        self._allocate(
            _INITIAL_SEGMENTS, min(cfg.max_synapses_per_segment, 2 * cfg.max_new_synapse_count)
        )

    @classmethod
    def from_config(cls, config: TemporalMemoryConfig) -> FastTemporalMemory:
        if not isinstance(config, TemporalMemoryConfig):
            raise TypeError(f"config must be a TemporalMemoryConfig, got {type(config).__name__}.")
        return cls(**asdict(config))

    # -- storage ------------------------------------------------------------------------------
    def _allocate(self, segments: int, width: int) -> None:
        """Empty connections with room for ``segments`` segments of ``width`` synapses."""
        n = self.num_cells
        self._cells = np.zeros((n, _k.CELL_FIELDS), dtype=np.int64)
        self._cells[:, _k.C_HEAD] = -1
        self._pool = np.zeros((_INITIAL_POOL, 2), dtype=np.int32)
        self._member = np.zeros((n, 2), dtype=np.uint8)
        self._scal = np.zeros(_k.SCALARS, dtype=np.int64)
        self._act = np.zeros(n, dtype=np.int64)
        self._win = np.zeros(n, dtype=np.int64)
        self._scratch_cells = tuple(np.zeros(n, dtype=np.int64) for _ in range(4))
        self._segs = np.zeros((0, _k.SEG_FIELDS), dtype=np.int64)
        self._syn_pre = np.zeros((0, width), dtype=np.int32)
        self._syn_perm = np.zeros((0, width), dtype=np.float64)
        self._syn_rev = np.zeros((0, width), dtype=np.int32)
        self._free = np.zeros(0, dtype=np.int64)
        self._match = np.zeros((0, _k.MATCH_FIELDS), dtype=np.int64)
        self._resize(segments, width)
        self._dirty = False

    def _pack(self) -> None:
        """Rebuild the kernel argument tuples after an array was replaced."""
        self._store = (
            self._cells,
            self._segs,
            self._syn_pre,
            self._syn_perm,
            self._syn_rev,
            self._pool,
            self._free,
            self._member,
            self._scal,
        )
        new_act, new_win, cand, stamp = self._scratch_cells
        self._work = (
            self._match,
            self._act,
            self._win,
            new_act,
            new_win,
            cand,
            self._touched,
            self._keys,
            self._partials,
            self._counts,
            stamp,
        )

    def _resize(self, segments: int | None = None, width: int | None = None) -> None:
        """Reallocate the segment arrays to ``segments`` slots and/or rows of ``width``,
        keeping their content."""
        old_n, old_w = self._syn_pre.shape
        n = old_n if segments is None else segments
        w = old_w if width is None else width

        def grown(old: np.ndarray, shape: tuple[int, ...], fill: int = 0) -> np.ndarray:
            new = np.full(shape, fill, dtype=old.dtype)
            new[tuple(slice(0, k) for k in old.shape)] = old
            return new

        segs = grown(self._segs, (n, _k.SEG_FIELDS))
        segs[old_n:, _k.S_CELL] = -1
        self._segs = segs
        self._syn_pre = grown(self._syn_pre, (n, w))
        self._syn_perm = grown(self._syn_perm, (n, w))
        self._syn_rev = grown(self._syn_rev, (n, w))
        self._free = grown(self._free, (n,))
        self._match = grown(self._match, (n, _k.MATCH_FIELDS))
        self._touched = np.zeros(n, dtype=np.int64)
        self._keys = np.zeros(n, dtype=np.int64)
        self._counts = np.zeros((n, 2), dtype=np.int32)
        self._partials = np.zeros(w + 1, dtype=np.float64)
        self._pack()

    def _reserve_pool(self, free_entries: int) -> None:
        """Compact the presynaptic pool into one with at least ``free_entries`` free entries."""
        live = int(_k.pool_size_needed(self._store))
        size = max(_INITIAL_POOL, 2 * (live + free_entries))
        self._pool = np.zeros((size, 2), dtype=np.int32)
        self._pack()
        _k.rebuild_pool(self._store, self._threshold)

    def _ensure_capacity(self, new_segments: int, new_synapses_per_segment: int) -> None:
        """Room for a step that adds at most ``new_segments`` segments and at most
        ``new_synapses_per_segment`` synapses to each learning segment (the bounds are
        derived in ``_tm_kernels.step``)."""
        scal = self._scal.tolist()
        slots, width = self._syn_pre.shape
        live = scal[_k.K_SEG_HW] - scal[_k.K_NFREE]
        if live + new_segments > slots:
            self._resize(segments=max(2 * slots, live + new_segments))
        most = scal[_k.K_MAX_NSYN]
        needed = max(
            most, min(self.config.max_synapses_per_segment, most + new_synapses_per_segment)
        )
        if needed > width:
            self._resize(width=max(needed, min(self.config.max_synapses_per_segment, 2 * width)))
        pool_needed = scal[_k.K_NWIN] * (16 + 4 * scal[_k.K_MAX_PCAP]) + (
            4 * new_synapses_per_segment * (scal[_k.K_NACTSEG] + new_segments)
        )
        if scal[_k.K_POOL_END] + pool_needed > self._pool.shape[0]:
            self._reserve_pool(pool_needed)
        if scal[_k.K_NEXT_ID] + new_segments > self._max_segment_id:
            raise OverflowError(
                f"segment ids would exceed {self._max_segment_id}; this memory has created too "
                "many segments to keep (cell, id) order in int64."
            )

    def _refresh(self) -> None:
        """Recompute the dendrite cache after the connections changed outside a step."""
        _k.activate_dendrites(self._store, self._work, self._iparams)
        self._dirty = False

    # -- outputs ------------------------------------------------------------------------------
    @property
    def rng(self) -> np.random.Generator:
        """The memory's generator (``numpy.random.Generator(PCG64(seed))``); growth draws from
        it exactly as the reference's does."""
        return self._rng

    @rng.setter
    def rng(self, rng: np.random.Generator) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}.")
        self._rng = rng
        self._rng_ptr = _rng_pointers(rng)

    @property
    def active_cells(self) -> np.ndarray:
        """Cells active at the last step, sorted ``int64``."""
        return self._act[: self._scal[_k.K_NACT]].copy()

    @property
    def winner_cells(self) -> np.ndarray:
        """Winner cells of the last step (one per active column), sorted ``int64``."""
        return self._win[: self._scal[_k.K_NWIN]].copy()

    def _matching_rows(self) -> np.ndarray:
        """The dendrite cache: matching segments of the current active cells (``match``)."""
        if self._dirty:
            self._refresh()
        return self._match[: self._scal[_k.K_NMATCH]]

    @property
    def predictive_cells(self) -> np.ndarray:
        """Cells with an active segment given the current active cells: the prediction for the
        next step. Sorted ``int64``."""
        rows = self._matching_rows()
        return np.unique(rows[rows[:, _k.M_ACTIVE] != 0, _k.M_CELL])

    @property
    def active_segments(self) -> list[int]:
        """Active segments (ids) given the current active cells, sorted by (cell, segment id)."""
        rows = self._matching_rows()
        return self._segs[rows[rows[:, _k.M_ACTIVE] != 0, _k.M_SEG], _k.S_ID].tolist()

    @property
    def matching_segments(self) -> list[int]:
        """Matching segments (ids) given the current active cells, sorted by (cell, id)."""
        return self._segs[self._matching_rows()[:, _k.M_SEG], _k.S_ID].tolist()

    @property
    def connections(self) -> Connections:
        """A *copy* of the connections as the reference's
        :class:`~dendrix.htm.temporal_memory.Connections`, for inspection and comparison
        (changing it does not change this memory)."""
        conn = Connections(self.num_cells, self.config.connected_permanence)
        prefix = "connections."
        conn.load_state_dict(
            {k[len(prefix) :]: v for k, v in self.state_dict().items() if k.startswith(prefix)}
        )
        return conn

    def num_segments(self) -> int:
        """Number of live segments."""
        return int(self._scal[_k.K_SEG_HW] - self._scal[_k.K_NFREE])

    def num_synapses(self) -> int:
        """Number of live synapses."""
        return int(self._scal[_k.K_NSYNAPSES])

    def column_for_cell(self, cell: int) -> int:
        return (
            check_int("cell", cell, minimum=0, maximum=self.num_cells - 1) // self.cells_per_column
        )

    # -- hand wiring (tests, inspection) ------------------------------------------------------
    def _slot(self, segment: object) -> int:
        """Storage slot of the live segment with id ``segment``."""
        if isinstance(segment, bool) or not isinstance(segment, numbers.Integral):
            raise TypeError(f"segment must be an integer segment id, got {segment!r}.")
        segs = self._segs[: self._scal[_k.K_SEG_HW]]
        slots = np.flatnonzero((segs[:, _k.S_CELL] >= 0) & (segs[:, _k.S_ID] == int(segment)))
        if slots.size == 0:
            raise KeyError(
                f"segment {segment} does not exist (destroyed or never created); list the live "
                "ones with connections.segments()."
            )
        return int(slots[0])

    def create_segment(self, cell: int) -> int:
        """Add a segment to ``cell`` (respecting ``max_segments_per_cell``); returns its id."""
        cell = check_int("cell", cell, minimum=0, maximum=self.num_cells - 1)
        self._ensure_capacity(1, 0)
        slot = _k.create_segment(
            self._store, self._partials, cell, self.config.max_segments_per_cell
        )
        self._dirty = True
        return int(self._segs[slot, _k.S_ID])

    def create_synapse(self, segment: int, presynaptic_cell: int, permanence: float) -> None:
        """Add a synapse (a repeat keeps the larger permanence)."""
        slot = self._slot(segment)
        j = check_int("presynaptic_cell", presynaptic_cell, minimum=0, maximum=self.num_cells - 1)
        p = check_float("permanence", permanence, minimum=0.0, maximum=1.0)
        n = int(self._segs[slot, _k.S_NSYN])
        if n + 1 > self._syn_pre.shape[1]:  # hand wiring may exceed max_synapses_per_segment
            self._resize(width=max(n + 1, 2 * self._syn_pre.shape[1]))
        room = 16 + 4 * int(self._scal[_k.K_MAX_PCAP] + 1)
        if self._scal[_k.K_POOL_END] + room > self._pool.shape[0]:
            self._reserve_pool(room)
        _k.create_synapse(self._store, slot, j, p, self._threshold)
        self._dirty = True

    # -- the step -----------------------------------------------------------------------------
    def _column_array(self, active_columns: object) -> np.ndarray:
        """The active columns as a sorted int64 array, checked like the reference's."""
        if (
            type(active_columns) is np.ndarray
            and active_columns.ndim == 1
            and active_columns.dtype.kind in "iu"
        ):
            # (unsigned values >= 2**63 turn negative here and are refused)
            columns = np.ascontiguousarray(active_columns, dtype=np.int64)
            if _k.columns_ok(columns, self.columns):
                return columns
        # Everything else, and every error message: the reference's checks.
        return np.array(_column_indices(active_columns, self.columns), dtype=np.int64)

    def compute(self, active_columns: object, learn: bool = True) -> None:
        """One time step: dendrites, anomaly, then cell activation and learning.

        Args:
            active_columns: the active columns ``X(t)``: sorted unique column indices (sequence,
                1-D integer array or tensor ``[w]``) or an :class:`~dendrix.sdr.SDR` of size
                ``columns``.
            learn: adapt, grow, create and punish (``True``) or only infer (``False``: neither
                the connections nor the RNG change).
        """
        columns = self._column_array(active_columns)
        if not isinstance(learn, (bool, np.bool_)):
            raise TypeError(f"learn must be a bool, got {learn!r} ({type(learn).__name__}).")
        if self._dirty:
            self._refresh()
        n = columns.shape[0]
        self._ensure_capacity(n, self.config.max_new_synapse_count)
        with self._rng.bit_generator.lock:
            missed = _k.step(
                columns,
                bool(learn),
                self._store,
                self._work,
                self._iparams,
                self._fparams,
                self._rng_ptr,
            )
        self.anomaly = missed / n if n else 0.0

    # -- sequence state -----------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the sequence context: no active or winner cells, hence no active or matching
        segments, so the next input bursts. The connections are kept."""
        empty = np.zeros(0, dtype=np.int64)
        _k.set_cells(self._store, self._work, empty, empty)
        self._refresh()
        self.anomaly = 0.0

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-exactly, in the reference's format
        (:meth:`TemporalMemory.state_dict`): either implementation loads it."""
        segs = self._segs[: self._scal[_k.K_SEG_HW]]
        live = np.flatnonzero(segs[:, _k.S_CELL] >= 0)
        live = live[np.argsort(segs[live, _k.S_ID])]  # ids are unique: creation order
        counts = segs[live, _k.S_NSYN]
        in_row = np.arange(self._syn_pre.shape[1]) < counts[:, None]
        owner = np.repeat(segs[live, _k.S_ID], counts)
        pre = self._syn_pre[live][in_row].astype(np.int64)
        perm = self._syn_perm[live][in_row]
        order = np.lexsort((pre, np.repeat(np.arange(live.size), counts)))
        state: dict[str, Any] = {"config": asdict(self.config)}
        state["connections.next_segment_id"] = int(self._scal[_k.K_NEXT_ID])
        state["connections.segment_ids"] = segs[live, _k.S_ID]
        state["connections.segment_cells"] = segs[live, _k.S_CELL]
        state["connections.synapse_segments"] = owner[order]
        state["connections.synapse_presynaptic_cells"] = pre[order]
        state["connections.synapse_permanences"] = perm[order]
        state["active_cells"] = self.active_cells
        state["winner_cells"] = self.winner_cells
        state["anomaly"] = float(self.anomaly)
        state["rng_state"] = self._rng.bit_generator.state
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Load a :meth:`state_dict` (of either implementation) of a memory with the same
        configuration. Everything is checked before anything changes."""
        self.config.check_state(state, "FastTemporalMemory")
        n_cells = self.num_cells

        def ints(key: str) -> np.ndarray:
            a = np.asarray(state[key])
            if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
                raise TypeError(f"state[{key!r}] must be a 1-D integer array, got {a.dtype}.")
            return a.astype(np.int64)

        def cells_in_range(key: str, a: np.ndarray) -> np.ndarray:
            if a.size and (a.min() < 0 or a.max() >= n_cells):
                raise ValueError(
                    f"state[{key!r}] holds cells outside [0, {n_cells}); the state belongs to "
                    "another memory or is corrupt."
                )
            return a

        ids = ints("connections.segment_ids")
        owners = cells_in_range("connections.segment_cells", ints("connections.segment_cells"))
        syn_seg = ints("connections.synapse_segments")
        pre = cells_in_range(
            "connections.synapse_presynaptic_cells", ints("connections.synapse_presynaptic_cells")
        )
        perm = np.asarray(state["connections.synapse_permanences"], dtype=np.float64)
        next_id = check_int(
            "state['connections.next_segment_id']", state["connections.next_segment_id"], minimum=0
        )
        if ids.size != owners.size or not syn_seg.size == pre.size == perm.size:
            raise ValueError("state's segment and synapse arrays differ in length; it is corrupt.")
        order = np.argsort(ids, kind="stable")
        ids, owners = ids[order], owners[order]
        if ids.size and (ids[0] < 0 or ids[-1] >= next_id or bool((ids[1:] == ids[:-1]).any())):
            raise ValueError(
                "state['connections.segment_ids'] must be unique, >= 0 and below "
                "state['connections.next_segment_id']; the state is corrupt."
            )
        if next_id > self._max_segment_id:
            raise OverflowError(
                f"state['connections.next_segment_id'] exceeds {self._max_segment_id}."
            )
        slot = np.searchsorted(ids, syn_seg)
        known = (slot < ids.size) & (ids[np.minimum(slot, max(ids.size - 1, 0))] == syn_seg)
        if not bool(known.all()):
            missing = int(syn_seg[~known][0])
            raise KeyError(f"state has synapses on segment {missing}, which it does not list.")
        if perm.size and not bool(((perm >= 0.0) & (perm <= 1.0)).all()):
            raise ValueError("state['connections.synapse_permanences'] must lie in [0, 1].")
        # A repeated (segment, presynaptic cell) keeps the larger permanence, as in the
        # reference's create_synapse.
        by = np.lexsort((perm, pre, slot))
        slot, pre, perm = slot[by], pre[by], perm[by]
        last = np.ones(slot.size, dtype=bool)
        last[:-1] = (slot[1:] != slot[:-1]) | (pre[1:] != pre[:-1])
        slot, pre, perm = slot[last], pre[last], perm[last]
        active = cells_in_range("active_cells", ints("active_cells"))
        winners = cells_in_range("winner_cells", ints("winner_cells"))
        for key, a in (("active_cells", active), ("winner_cells", winners)):
            if np.unique(a).size != a.size:
                raise ValueError(f"state[{key!r}] repeats a cell; the state is corrupt.")
        anomaly = float(state["anomaly"])
        self.rng.bit_generator.state = state["rng_state"]  # validates the state itself

        counts = np.bincount(slot, minlength=ids.size)
        width = min(self.config.max_synapses_per_segment, 2 * self.config.max_new_synapse_count)
        width = max(width, int(counts.max()) if counts.size else 0)
        self._allocate(max(_INITIAL_SEGMENTS, 2 * ids.size), width)
        self._segs[: ids.size, _k.S_CELL] = owners
        self._segs[: ids.size, _k.S_ID] = ids
        self._segs[: ids.size, _k.S_NSYN] = counts
        starts = np.cumsum(counts) - counts
        position = np.arange(slot.size) - np.repeat(starts, counts)
        self._syn_pre[slot, position] = pre
        self._syn_perm[slot, position] = perm
        scal = self._scal
        scal[_k.K_NEXT_ID] = next_id
        scal[_k.K_SEG_HW] = ids.size
        scal[_k.K_MAX_NSYN] = int(counts.max()) if counts.size else 0
        scal[_k.K_NSYNAPSES] = slot.size
        _k.link_segments(self._store)
        self._reserve_pool(0)
        _k.set_cells(self._store, self._work, active, winners)
        self.anomaly = anomaly
        self._refresh()

    # -- copies -------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # The generator's C addresses belong to this process and this generator: a copy or an
        # unpickled memory recomputes them for its own generator.
        state = self.__dict__.copy()
        for key in ("_rng_ptr", "_store", "_work"):
            del state[key]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        _require_numba()
        self.__dict__.update(state)
        self._rng_ptr = _rng_pointers(self._rng)
        self._pack()

    def __repr__(self) -> str:
        return (
            f"FastTemporalMemory(columns={self.columns}, "
            f"cells_per_column={self.cells_per_column}, segments={self.num_segments()}, "
            f"synapses={self.num_synapses()})"
        )


def make_temporal_memory(
    implementation: str = "fast", **kwargs: Any
) -> FastTemporalMemory | TemporalMemory:
    """A temporal memory by implementation name, with the constructor arguments ``kwargs``.

    Args:
        implementation: ``"fast"`` (:class:`FastTemporalMemory`, compiled; for applications) or
            ``"reference"`` (:class:`~dendrix.htm.temporal_memory.TemporalMemory`, plain
            Python; for reading and tests). Both give identical results.
        **kwargs: :class:`~dendrix.htm.temporal_memory.TemporalMemory` arguments.
    """
    check_choice("implementation", implementation, IMPLEMENTATIONS)
    if implementation == "fast":
        return FastTemporalMemory(**kwargs)
    return TemporalMemory(**kwargs)

r"""Compiled kernels of :class:`dendrix.htm.temporal_memory_fast.FastTemporalMemory`.

The rules, tie-breaks and random draws are those of the reference
:mod:`dendrix.htm.temporal_memory` (read its module docstring first); each kernel says which
reference method it mirrors. This module only stores the same connections in flat arrays and
runs the same step as machine code. Every function is ``@njit(cache=True)`` and works in place
on arrays owned by the Python class, which also grows them between calls: a kernel never
allocates persistent storage (:func:`step` lists the room it relies on).

Storage, with ``N`` cells, ``S`` segment slots, row width ``W``, ``P`` pool entries. The
connections are the tuple ``store = (cells, segs, syn_pre, syn_perm, syn_rev, pool, free,
member, scal)``:

* ``cells`` int64 ``[N, CELL_FIELDS]``: ``C_NSEG`` number of segments of the cell, ``C_HEAD``
  first slot of its doubly linked segment list (-1: none), ``C_PSTART``/``C_PLEN``/``C_PCAP``
  start, length and capacity of its chunk of the presynaptic pool;
* ``segs`` int64 ``[S, SEG_FIELDS]``: ``S_CELL`` owner (-1: free slot), ``S_ID`` creation id
  (the reference's segment id; never reused), ``S_NSYN`` synapse count, ``S_NEXT``/``S_PREV``
  neighbours in the owner's list;
* ``syn_pre`` int32, ``syn_perm`` float64, ``syn_rev`` int32, each ``[S, W]``: synapse ``i < n``
  of slot ``s`` has presynaptic cell ``j = syn_pre[s, i]``, permanence ``syn_perm[s, i]`` and
  pool entry ``C_PSTART[j] + syn_rev[s, i]`` (an offset in ``j``'s chunk, so that moving a chunk
  touches no row). A row is unordered: destroying synapse ``i`` moves the last one in;
* ``pool`` int32 ``[P, 2]``, the presynaptic index: entries ``C_PSTART .. C_PSTART + C_PLEN - 1``
  of cell ``j`` are ``(s, 2 i + connected)`` for every synapse ``(s, i)`` from ``j``, where
  ``connected`` is ``p >= P_conn - EPSILON`` (kept up to date when a permanence crosses it), so
  that rule 1 reads nothing but the pool. Removal swaps the chunk's last entry in; a full chunk
  moves to the pool's end with twice the capacity, leaving garbage that :func:`rebuild_pool`
  (called from Python) compacts;
* ``free`` int64 ``[S]``: stack of free slots below the high-water mark;
* ``member`` uint8 ``[N, 2]``: ``IN_A``/``IN_W`` flag the current active and winner cells;
* ``scal`` int64 ``[SCALARS]``: counters, ``K_*`` below.

Cell state, the dendrite cache and scratch are the tuple ``work = (match, act, win, new_act,
new_win, cand, touched, keys, partials, counts, stamp)``: ``act``/``win`` int64 ``[N]`` hold
the active and winner cells in the reference's order (``K_NACT``, ``K_NWIN`` of them);
``match`` int64 ``[S, MATCH_FIELDS]`` holds what the reference's ``_activate_dendrites()``
returns for them, the matching segments sorted by (cell, id) with slot ``M_SEG``, ``M_CELL``,
``m_s`` (``M_POT``) and whether ``a_s >= theta_act`` (``M_ACTIVE``); ``counts`` int32
``[S, 2]`` (``m_s``, ``a_s`` while counting; zero between calls), ``stamp`` int64 ``[N]`` and
the rest are scratch.
``iparams`` int64 and ``fparams`` float64 hold the configuration (``I_*``, ``F_*``); ``rng_ptr``
int64 ``[2]`` the addresses of the generator's C ``next_double`` and of its state.

Random numbers: :func:`_next_double` calls the bit generator's own ``next_double`` (the C
function behind ``Generator.random()``) through its ``ctypes`` address, so the kernels and the
reference's :func:`~dendrix.htm.temporal_memory.sample_without_replacement` consume one stream.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from dendrix.htm.temporal_memory import EPSILON

__all__ = [
    "CELL_FIELDS",
    "MATCH_FIELDS",
    "SCALARS",
    "SEG_FIELDS",
    "activate_dendrites",
    "columns_ok",
    "create_segment",
    "create_synapse",
    "fsum_squares",
    "link_segments",
    "pool_size_needed",
    "rebuild_pool",
    "set_cells",
    "step",
]

Array = np.ndarray
"""A NumPy array (numba types the kernels at their first call)."""
Store = tuple[np.ndarray, ...]
"""``(cells, segs, syn_pre, syn_perm, syn_rev, pool, free, member, scal)``: the connections."""
Work = tuple[np.ndarray, ...]
"""``(match, act, win, new_act, new_win, cand, touched, keys, partials, counts, stamp)``."""

# cells[j, .]
C_NSEG, C_HEAD, C_PSTART, C_PLEN, C_PCAP = range(5)
CELL_FIELDS = 5
# segs[s, .]
S_CELL, S_ID, S_NSYN, S_NEXT, S_PREV = range(5)
SEG_FIELDS = 5
# member[j, .]
IN_A, IN_W = range(2)
# match[q, .]
M_SEG, M_CELL, M_POT, M_ACTIVE = range(4)
MATCH_FIELDS = 4
# scal[.]
K_NEXT_ID = 0  # next segment id
K_SEG_HW = 1  # slots ever used (high-water mark); slots >= K_SEG_HW are unused
K_NFREE = 2  # free slots below the high-water mark (on the ``free`` stack)
K_POOL_END = 3  # pool entries ever handed out; entries >= K_POOL_END are unused
K_MAX_NSYN = 4  # largest synapse count a segment has had (so W >= every current count)
K_MAX_PCAP = 5  # largest pool chunk capacity
K_NACT = 6  # number of active cells A(t)
K_NWIN = 7  # number of winner cells W(t)
K_NMATCH = 8  # rows of ``match``
K_NACTSEG = 9  # active segments among them
K_STAMP = 10  # last stamp used in ``stamp``
K_NSYNAPSES = 11  # live synapses
SCALARS = 12
# iparams[.] and fparams[.]
I_CELLS_PER_COLUMN, I_THETA_ACT, I_THETA_MIN, I_NEW, I_MAX_SEG, I_MAX_SYN = range(6)
F_INC, F_DEC, F_PRED_DEC, F_INIT, F_CONNECTED = range(5)

_EPS = EPSILON


@intrinsic
def _next_double(typingctx: object, fn_address: object, state_address: object) -> tuple:
    """``next_double(state)`` of a NumPy bit generator, from the two ``ctypes`` addresses."""
    signature = types.float64(types.int64, types.int64)

    def codegen(context: object, builder: ir.IRBuilder, sig: object, args: list) -> object:
        fnty = ir.FunctionType(ir.DoubleType(), [cgutils.voidptr_t])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        state = builder.inttoptr(args[1], cgutils.voidptr_t)
        return builder.call(fn, [state])

    return signature, codegen


@njit(cache=True)
def columns_ok(columns: Array, n_columns: int) -> bool:
    """Whether ``columns`` is sorted, unique and inside ``[0, n_columns)`` (the reference's
    checks give the error message when it is not)."""
    previous = -1
    for c in columns:
        if c <= previous or c >= n_columns:
            return False
        previous = c
    return True


# --------------------------------------------------------------------------------------------
# Presynaptic pool
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _pool_remove(cells: Array, pool: Array, syn_rev: Array, j: int, s: int, i: int) -> None:
    """Drop synapse (s, i) from cell j's chunk (the chunk's last entry fills the hole)."""
    start = cells[j, C_PSTART]
    o = syn_rev[s, i]
    last = cells[j, C_PLEN] - 1
    if o != last:
        s2 = pool[start + last, 0]
        packed = pool[start + last, 1]
        pool[start + o, 0] = s2
        pool[start + o, 1] = packed
        syn_rev[s2, packed >> 1] = o
    cells[j, C_PLEN] = last


@njit(cache=True)
def _pool_append(store: Store, j: int, s: int, i: int, connected: int) -> None:
    """Add synapse (s, i) to cell j's chunk; a full chunk first moves to the pool's end with
    capacity ``max(8, 2 * capacity)``."""
    cells, _, _, _, syn_rev, pool, _, _, scal = store
    n = cells[j, C_PLEN]
    cap = cells[j, C_PCAP]
    if n == cap:  # offsets inside the chunk (syn_rev) do not change
        new_cap = max(8, 2 * cap)
        start = scal[K_POOL_END]
        pool[start : start + n] = pool[cells[j, C_PSTART] : cells[j, C_PSTART] + n]
        cells[j, C_PSTART] = start
        cells[j, C_PCAP] = new_cap
        scal[K_POOL_END] = start + new_cap
        scal[K_MAX_PCAP] = max(scal[K_MAX_PCAP], new_cap)
    pos = cells[j, C_PSTART] + n
    pool[pos, 0] = s
    pool[pos, 1] = 2 * i + connected
    syn_rev[s, i] = n
    cells[j, C_PLEN] = n + 1


@njit(cache=True)
def pool_size_needed(store: Store) -> int:
    """Entries :func:`rebuild_pool` lays out: ``sum_j max(8, 2 * n_j)`` over the cells with
    ``n_j > 0`` outgoing synapses."""
    cells, segs, syn_pre, _, _, _, _, _, scal = store
    counts = np.zeros(cells.shape[0], dtype=np.int64)
    for s in range(scal[K_SEG_HW]):
        if segs[s, S_CELL] >= 0:
            for i in range(segs[s, S_NSYN]):
                counts[syn_pre[s, i]] += 1
    total = 0
    for j in range(counts.shape[0]):
        if counts[j] > 0:
            total += max(8, 2 * counts[j])
    return total


@njit(cache=True)
def rebuild_pool(store: Store, connected_threshold: float) -> None:
    """Lay the presynaptic index out afresh, without garbage: cell ``j``'s chunk gets capacity
    ``max(8, 2 * n_j)``. ``pool`` must hold :func:`pool_size_needed` entries."""
    cells, segs, syn_pre, syn_perm, syn_rev, pool, _, _, scal = store
    n_cells = cells.shape[0]
    for j in range(n_cells):
        cells[j, C_PLEN] = 0
    for s in range(scal[K_SEG_HW]):
        if segs[s, S_CELL] >= 0:
            for i in range(segs[s, S_NSYN]):
                cells[syn_pre[s, i], C_PLEN] += 1
    start = 0
    max_cap = 0
    for j in range(n_cells):
        n = cells[j, C_PLEN]
        cap = max(8, 2 * n) if n > 0 else 0
        cells[j, C_PSTART] = start
        cells[j, C_PCAP] = cap
        cells[j, C_PLEN] = 0
        start += cap
        max_cap = max(max_cap, cap)
    for s in range(scal[K_SEG_HW]):
        if segs[s, S_CELL] >= 0:
            for i in range(segs[s, S_NSYN]):
                j = syn_pre[s, i]
                pos = cells[j, C_PSTART] + cells[j, C_PLEN]
                pool[pos, 0] = s
                pool[pos, 1] = 2 * i + (1 if syn_perm[s, i] >= connected_threshold else 0)
                syn_rev[s, i] = cells[j, C_PLEN]
                cells[j, C_PLEN] += 1
    scal[K_POOL_END] = start
    scal[K_MAX_PCAP] = max_cap


# --------------------------------------------------------------------------------------------
# Synapses and segments
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _create_synapse(store: Store, s: int, j: int, p: float, connected: int) -> None:
    _, segs, syn_pre, syn_perm, _, _, _, _, scal = store
    i = segs[s, S_NSYN]
    syn_pre[s, i] = j
    syn_perm[s, i] = p
    _pool_append(store, j, s, i, connected)
    segs[s, S_NSYN] = i + 1
    scal[K_MAX_NSYN] = max(scal[K_MAX_NSYN], i + 1)
    scal[K_NSYNAPSES] += 1


@njit(cache=True)
def _destroy_synapse(store: Store, s: int, i: int) -> None:
    """Destroy synapse ``i`` of ``s``; the row's last synapse moves into slot ``i``."""
    cells, segs, syn_pre, syn_perm, syn_rev, pool, _, _, scal = store
    _pool_remove(cells, pool, syn_rev, syn_pre[s, i], s, i)
    last = segs[s, S_NSYN] - 1
    if i != last:
        j = syn_pre[s, last]
        syn_pre[s, i] = j
        syn_perm[s, i] = syn_perm[s, last]
        o = syn_rev[s, last]
        syn_rev[s, i] = o
        p = cells[j, C_PSTART] + o
        pool[p, 1] = 2 * i + (pool[p, 1] & 1)
    segs[s, S_NSYN] = last
    scal[K_NSYNAPSES] -= 1


@njit(cache=True)
def _destroy_segment(store: Store, s: int) -> None:
    cells, segs, syn_pre, _, syn_rev, pool, free, _, scal = store
    n = segs[s, S_NSYN]
    for i in range(n):  # one synapse per presynaptic cell: each sits in a different chunk
        _pool_remove(cells, pool, syn_rev, syn_pre[s, i], s, i)
    scal[K_NSYNAPSES] -= n
    segs[s, S_NSYN] = 0
    cell = segs[s, S_CELL]
    prev = segs[s, S_PREV]
    nxt = segs[s, S_NEXT]
    if prev >= 0:
        segs[prev, S_NEXT] = nxt
    else:
        cells[cell, C_HEAD] = nxt
    if nxt >= 0:
        segs[nxt, S_PREV] = prev
    cells[cell, C_NSEG] -= 1
    segs[s, S_CELL] = -1
    free[scal[K_NFREE]] = s
    scal[K_NFREE] += 1


@njit(cache=True)
def fsum_squares(perm: Array, n: int, partials: Array) -> float:
    """``math.fsum(p * p for p in perm[:n])``: CPython's exactly rounded sum (Shewchuk's
    partials and its final half-even correction), so that the least-useful-segment choice
    and its ties match the reference bit for bit. ``partials``: scratch, ``>= n + 1`` long."""
    m = 0
    for q in range(n):
        x = perm[q] * perm[q]
        k = 0
        for r in range(m):
            y = partials[r]
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            yr = hi - x
            lo = y - yr
            if lo != 0.0:
                partials[k] = lo
                k += 1
            x = hi
        m = k
        if x != 0.0:
            partials[m] = x
            m += 1
    hi = 0.0
    if m > 0:
        m -= 1
        hi = partials[m]
        lo = 0.0
        while m > 0:
            x = hi
            m -= 1
            y = partials[m]
            hi = x + y
            yr = hi - x
            lo = y - yr
            if lo != 0.0:
                break
        if m > 0 and ((lo < 0.0 and partials[m - 1] < 0.0) or (lo > 0.0 and partials[m - 1] > 0.0)):
            y = lo * 2.0
            x = hi + y
            yr = x - hi
            if y == yr:
                hi = x
    return hi


@njit(cache=True)
def _push_segment(cells: Array, segs: Array, cell: int, s: int) -> None:
    """Put segment slot ``s`` at the head of ``cell``'s segment list and count it."""
    head = cells[cell, C_HEAD]
    segs[s, S_PREV] = -1
    segs[s, S_NEXT] = head
    if head >= 0:
        segs[head, S_PREV] = s
    cells[cell, C_HEAD] = s
    cells[cell, C_NSEG] += 1


@njit(cache=True)
def create_segment(store: Store, partials: Array, cell: int, max_seg: int) -> int:
    """Reference ``Connections.create_segment``: a new segment on ``cell``; at ``max_seg``
    segments first destroy the least useful one (smallest ``fsum(p^2)``; ties: lowest id).
    Returns its slot."""
    cells, segs, _, syn_perm, _, _, free, _, scal = store
    while cells[cell, C_NSEG] >= max_seg:
        worst = -1
        worst_u = 0.0
        worst_id = 0
        s = cells[cell, C_HEAD]
        while s >= 0:
            u = fsum_squares(syn_perm[s], segs[s, S_NSYN], partials)
            sid = segs[s, S_ID]
            if worst < 0 or u < worst_u or (u == worst_u and sid < worst_id):
                worst, worst_u, worst_id = s, u, sid
            s = segs[s, S_NEXT]
        _destroy_segment(store, worst)
    if scal[K_NFREE] > 0:
        scal[K_NFREE] -= 1
        s = free[scal[K_NFREE]]
    else:
        s = scal[K_SEG_HW]
        scal[K_SEG_HW] += 1
    segs[s, S_CELL] = cell
    segs[s, S_ID] = scal[K_NEXT_ID]
    scal[K_NEXT_ID] += 1
    segs[s, S_NSYN] = 0
    _push_segment(cells, segs, cell, s)
    return s


@njit(cache=True)
def create_synapse(store: Store, s: int, j: int, p: float, connected_threshold: float) -> float:
    """Reference ``Connections.create_synapse``: a new synapse from ``j`` on ``s``, or, if
    there is one, the larger of the two permanences. Returns the synapse's permanence."""
    cells, segs, syn_pre, syn_perm, syn_rev, pool, _, _, _ = store
    for i in range(segs[s, S_NSYN]):
        if syn_pre[s, i] == j:
            if p > syn_perm[s, i]:
                syn_perm[s, i] = p
                pos = cells[j, C_PSTART] + syn_rev[s, i]
                pool[pos, 1] = 2 * i + (1 if p >= connected_threshold else 0)
            return syn_perm[s, i]
    _create_synapse(store, s, j, p, 1 if p >= connected_threshold else 0)
    return p


@njit(cache=True)
def _adapt(store: Store, s: int, inc: float, dec: float, theta_min: int, threshold: float) -> bool:
    """Reference ``Connections.adapt_segment``: ``p + inc`` for synapses from A(t-1), else
    ``p - dec``, clipped to [0, 1]; destroy synapses below EPSILON, then the segment if it
    keeps fewer than ``theta_min``. Returns whether the segment still exists."""
    cells, segs, syn_pre, syn_perm, syn_rev, pool, _, member, _ = store
    i = 0
    while i < segs[s, S_NSYN]:
        p = syn_perm[s, i]
        j = syn_pre[s, i]
        if member[j, IN_A] != 0:
            new = p + inc
        else:
            new = p - dec
        if new < _EPS:
            _destroy_synapse(store, s, i)  # the last synapse moves into i: visit i again
        else:
            new = min(1.0, max(0.0, new))
            syn_perm[s, i] = new
            if (new >= threshold) != (p >= threshold):
                pool[cells[j, C_PSTART] + syn_rev[s, i], 1] ^= 1
            i += 1
    if segs[s, S_NSYN] < theta_min:
        _destroy_segment(store, s)
        return False
    return True


@njit(cache=True)
def _grow(
    store: Store,
    work: Work,
    s: int,
    n_desired: int,
    iparams: Array,
    fparams: Array,
    rng_ptr: Array,
) -> None:
    """Reference ``Connections.grow_synapses`` from W(t-1) = ``win[:K_NWIN]``, including its
    partial Fisher-Yates draws."""
    _, segs, syn_pre, syn_perm, _, _, _, member, scal = store
    win = work[2]
    cand = work[5]
    stamp = work[10]
    max_syn = iparams[I_MAX_SYN]
    mark = scal[K_STAMP] + 1
    scal[K_STAMP] = mark
    for i in range(segs[s, S_NSYN]):
        stamp[syn_pre[s, i]] = mark
    m = 0
    for q in range(scal[K_NWIN]):
        j = win[q]
        if stamp[j] != mark:
            cand[m] = j
            m += 1
    k = min(n_desired, m)
    if k <= 0:
        return
    overrun = segs[s, S_NSYN] + k - max_syn
    if overrun > 0:
        # Destroy the `overrun` weakest synapses not from W(t-1), by (permanence, cell).
        for _ in range(overrun):
            best = -1
            best_p = 0.0
            best_j = 0
            for i in range(segs[s, S_NSYN]):
                j = syn_pre[s, i]
                if member[j, IN_W] != 0:
                    continue
                p = syn_perm[s, i]
                if best < 0 or p < best_p or (p == best_p and j < best_j):
                    best, best_p, best_j = i, p, j
            if best < 0:
                break
            _destroy_synapse(store, s, best)
        k = min(k, max_syn - segs[s, S_NSYN])
        if k <= 0:
            return
    if k < m:
        for i in range(k):
            u = _next_double(rng_ptr[0], rng_ptr[1])
            r = i + np.int64(u * (m - i))
            t = cand[i]
            cand[i] = cand[r]
            cand[r] = t
    init = fparams[F_INIT]
    connected = 1 if init >= fparams[F_CONNECTED] else 0
    for q in range(k):
        _create_synapse(store, s, cand[q], init, connected)


@njit(cache=True)
def _learn(
    store: Store,
    work: Work,
    s: int,
    n_potential: int,
    iparams: Array,
    fparams: Array,
    rng_ptr: Array,
) -> None:
    """Reference ``TemporalMemory._learn_on_segment``: reinforce ``s`` towards A(t-1), then
    grow towards ``N_new`` active synapses."""
    alive = _adapt(
        store, s, fparams[F_INC], fparams[F_DEC], iparams[I_THETA_MIN], fparams[F_CONNECTED]
    )
    n_grow = iparams[I_NEW] - n_potential
    if alive and n_grow > 0:
        _grow(store, work, s, n_grow, iparams, fparams, rng_ptr)


# --------------------------------------------------------------------------------------------
# Dendrites and the step
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def activate_dendrites(store: Store, work: Work, iparams: Array) -> None:
    """Reference ``TemporalMemory._activate_dendrites`` (rule 1) for the active cells
    ``act[:K_NACT]``: ``match`` gets the matching segments sorted by (cell, id), with ``m_s``
    and whether they are active."""
    cells, segs, _, _, _, pool, _, _, scal = store
    match, act, _, _, _, _, touched, keys, _, counts, _ = work
    theta_act = iparams[I_THETA_ACT]
    theta_min = iparams[I_THETA_MIN]
    n_touched = 0
    for q in range(scal[K_NACT]):
        j = act[q]
        start = cells[j, C_PSTART]
        for p in range(start, start + cells[j, C_PLEN]):
            s = pool[p, 0]
            if counts[s, 0] == 0:
                touched[n_touched] = s
                n_touched += 1
            counts[s, 0] += 1
            counts[s, 1] += pool[p, 1] & 1
    stride = scal[K_NEXT_ID]  # every id < stride: (cell, id) sorts as cell * stride + id
    n = 0
    for q in range(n_touched):
        s = touched[q]
        if counts[s, 0] >= theta_min:
            touched[n] = s
            keys[n] = segs[s, S_CELL] * stride + segs[s, S_ID]
            n += 1
        else:
            counts[s, 0] = 0
            counts[s, 1] = 0
    order = np.argsort(keys[:n])
    n_active = 0
    for q in range(n):
        s = touched[order[q]]
        match[q, M_SEG] = s
        match[q, M_CELL] = segs[s, S_CELL]
        match[q, M_POT] = counts[s, 0]
        is_active = 1 if counts[s, 1] >= theta_act else 0
        match[q, M_ACTIVE] = is_active
        n_active += is_active
        counts[s, 0] = 0
        counts[s, 1] = 0
    scal[K_NMATCH] = n
    scal[K_NACTSEG] = n_active


@njit(cache=True)
def step(
    columns: Array,
    learn: bool,
    store: Store,
    work: Work,
    iparams: Array,
    fparams: Array,
    rng_ptr: Array,
) -> int:
    """Reference ``TemporalMemory.compute`` on the sorted ``columns`` (anomaly, rules 3 and 4),
    then rule 1 for the new active cells. Returns the number of active columns without a
    predictive cell.

    Room the caller guarantees: ``S >= K_SEG_HW - K_NFREE + len(columns)`` (at most one new
    segment per active column); ``W >= min(S_max, K_MAX_NSYN + N_new)`` (a segment learns at
    most once per step and grows by at most ``N_new``); at least
    ``K_NWIN * (16 + 4 * K_MAX_PCAP) + 4 * N_new * (K_NACTSEG + len(columns))`` free pool
    entries (only W(t-1) cells get new entries, from at most ``K_NACTSEG + len(columns)``
    learning segments, and a cell of capacity ``c`` that gets ``a`` new entries moves chunks of
    total size at most ``16 + 4 * (c + a)``).
    """
    cells, _, _, _, _, _, _, member, scal = store
    match, act, win, new_act, new_win, _, _, _, partials, _, _ = work
    k_cells = iparams[I_CELLS_PER_COLUMN]
    n_new = iparams[I_NEW]
    pred_dec = fparams[F_PRED_DEC]
    n_cols = columns.shape[0]
    n_match = scal[K_NMATCH]
    n_win = scal[K_NWIN]
    beyond = np.int64(1) << 62
    na = 0
    nw = 0
    missed = 0
    ci = 0
    mi = 0
    while ci < n_cols or mi < n_match:  # columns that are active or have matching segments
        col_x = columns[ci] if ci < n_cols else beyond
        col_m = match[mi, M_CELL] // k_cells if mi < n_match else beyond
        column = min(col_x, col_m)
        m0 = mi
        while mi < n_match and match[mi, M_CELL] // k_cells == column:
            mi += 1
        if col_x != column:  # matching segments in an inactive column: punish them
            if learn and pred_dec > 0.0:
                for q in range(m0, mi):
                    _adapt(
                        store,
                        match[q, M_SEG],
                        -pred_dec,
                        0.0,
                        iparams[I_THETA_MIN],
                        fparams[F_CONNECTED],
                    )
            continue
        ci += 1
        predicted = False
        for q in range(m0, mi):
            if match[q, M_ACTIVE] != 0:
                predicted = True
                break
        if predicted:  # the predictive cells fire and win; their active segments learn
            last_cell = -1
            for q in range(m0, mi):
                if match[q, M_ACTIVE] == 0:
                    continue
                cell = match[q, M_CELL]
                if cell != last_cell:
                    new_act[na] = cell
                    na += 1
                    new_win[nw] = cell
                    nw += 1
                    last_cell = cell
                if learn:
                    _learn(store, work, match[q, M_SEG], match[q, M_POT], iparams, fparams, rng_ptr)
            continue
        missed += 1  # burst
        best = -1
        for q in range(m0, mi):  # best matching segment; ties: first in (cell, id) order
            if best < 0 or match[q, M_POT] > match[best, M_POT]:
                best = q
        if best >= 0:
            winner = match[best, M_CELL]
        else:  # least used cell; ties: lowest index
            winner = column * k_cells
            for cell in range(column * k_cells + 1, column * k_cells + k_cells):
                if cells[cell, C_NSEG] < cells[winner, C_NSEG]:
                    winner = cell
        for cell in range(column * k_cells, column * k_cells + k_cells):
            new_act[na] = cell
            na += 1
        new_win[nw] = winner
        nw += 1
        if learn:
            if best >= 0:
                _learn(
                    store, work, match[best, M_SEG], match[best, M_POT], iparams, fparams, rng_ptr
                )
            elif min(n_new, n_win) > 0:
                s = create_segment(store, partials, winner, iparams[I_MAX_SEG])
                _grow(store, work, s, min(n_new, n_win), iparams, fparams, rng_ptr)
    # A(t), W(t) replace A(t-1), W(t-1).
    for q in range(scal[K_NACT]):
        member[act[q], IN_A] = 0
    for q in range(n_win):
        member[win[q], IN_W] = 0
    for q in range(na):
        act[q] = new_act[q]
        member[act[q], IN_A] = 1
    for q in range(nw):
        win[q] = new_win[q]
        member[win[q], IN_W] = 1
    scal[K_NACT] = na
    scal[K_NWIN] = nw
    activate_dendrites(store, work, iparams)
    return missed


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def link_segments(store: Store) -> None:
    """Rebuild every cell's segment list and count from ``segs[:K_SEG_HW, S_CELL]``."""
    cells, segs, _, _, _, _, _, _, scal = store
    for j in range(cells.shape[0]):
        cells[j, C_NSEG] = 0
        cells[j, C_HEAD] = -1
    for s in range(scal[K_SEG_HW]):
        cell = segs[s, S_CELL]
        if cell < 0:
            continue
        _push_segment(cells, segs, cell, s)


@njit(cache=True)
def set_cells(store: Store, work: Work, active: Array, winners: Array) -> None:
    """Make the sorted ``active``/``winners`` the current A(t)/W(t); ``match`` is left to
    :func:`activate_dendrites`."""
    member = store[7]
    scal = store[8]
    act = work[1]
    win = work[2]
    for q in range(scal[K_NACT]):
        member[act[q], IN_A] = 0
    for q in range(scal[K_NWIN]):
        member[win[q], IN_W] = 0
    for q in range(active.shape[0]):
        act[q] = active[q]
        member[act[q], IN_A] = 1
    for q in range(winners.shape[0]):
        win[q] = winners[q]
        member[win[q], IN_W] = 1
    scal[K_NACT] = active.shape[0]
    scal[K_NWIN] = winners.shape[0]

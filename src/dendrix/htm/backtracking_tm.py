r"""Backtracking temporal memory: the sequence memory of NuPIC's original HTM anomaly detector.

The NAB score 70.1 of the published HTM detector (NAB's ``numenta`` detector; Ahmad et al. 2017)
was measured with NuPIC's *backtracking* temporal memory, not with the later ``TemporalMemory``
of :mod:`dendrix.htm.temporal_memory` (NAB scores that one as ``numentaTM``: 64.6). This module
implements the backtracking algorithm from its published description (NuPIC's documentation and
Hawkins et al. 2011, *HTM Cortical Learning Algorithms*, v0.2.1, with the pay-attention and
backtracking extensions); it is written from that description, shares no code with NuPIC, and
its random draws differ, so results agree statistically, not bit for bit.

Two cell states run side by side over ``C`` columns of ``K`` cells, cell ``(c, i)``:

*Inference* (what is reported). Given active columns ``A_t``:

1. phase 1: in each column of ``A_t`` the cells predicted at ``t-1`` become active; a column
   with none bursts (all ``K`` cells active). The input is *in sequence* if at least half of
   ``A_t`` was predicted;
2. phase 2: a segment is *confident* if it has at least ``theta_act`` synapses from active cells,
   counting synapses of *any* permanence, and *active* if ``theta_act`` of them are connected
   (permanence ``>= P_conn``). Cells with an active segment are predicted (they are the ones
   phase 1 activates next); columns with a confident segment form the prediction ``P_t`` the
   next anomaly is scored against (NuPIC's column confidence). The prediction is *confident
   enough* if at least half as many columns hold a predicted cell as an input has active
   columns (running mean ``d_t = 0.99 d_{t-1} + 0.01 |A_t|``);
3. backtracking: if either test fails, the last ``maxInfBacktrack`` inputs are replayed from
   their *start cells* (cell 0 of each active column), oldest first; the first start point from
   which every replayed step stays in sequence and confident up to now gives the state. With no
   such start point the bursting state of step 1 is kept. Start points that failed are dropped
   from the history.

The raw anomaly is ``s_t = 1 - |A_t \cap P_{t-1}| / |A_t|`` with ``P_{t-1}`` the columns holding
a confident segment after step ``t-1`` (0 when ``A_t`` is empty).

*Learning* (one learning cell per active column):

1. queued segment updates of cells whose column is now active are applied: their active
   synapses gain ``p_inc`` (capped at 1), the others lose ``p_dec`` (synapses reaching 0 are
   removed, then empty segments); new synapses start at ``p_init``. Updates of cells whose
   column stayed inactive are dropped (no punishment);
2. phase 1: a column whose learning cell was predicted activates it; otherwise the cell with
   the best segment over the previous learning cells (at least ``theta_min`` synapses, any
   permanence) is reinforced and grows synapses up to ``n_new`` active ones; otherwise a new
   segment with up to ``n_new`` synapses to previous learning cells grows on a random cell among
   ``1 .. K-1`` with fewer than ``S_max`` segments (when all are full, the column's segment with
   the lowest duty cycle is freed first). Cell 0 is the *start cell*, never given segments;
3. pay attention: a counter reset to ``pamLength`` whenever fewer than half of the columns were
   unpredicted counts down otherwise; when it expires, or when the learnt sequence reaches
   ``maxSeqLength`` steps, learning backtracks: the last ``maxLrnBacktrack`` inputs are replayed
   (read-only) from start cells, and the oldest start point that stays in sequence up to now is
   relearnt; failing that, the current input starts a new sequence on its start cells;
4. phase 2: in every column, the cell whose best segment has at least ``theta_act`` synapses
   from current learning cells becomes the predicted learning cell (one per column at most),
   and an update of that segment (reinforce its active synapses, grow up to ``n_new``) is
   queued for the next step.

Segments keep a duty cycle ``dc`` (the rate at which they are reinforced): before 100 learning
steps ``dc = n_pos / t``; afterwards an exponential average whose rate ``alpha`` falls in tiers
(0.0032 from step 100 ... 1e-6 from step 320,000), refreshed on every segment at tier changes.
It picks the segment freed when a column is full. Synapses per segment are capped at
``Syn_max``: growing beyond it first removes the lowest-permanence inactive synapses.

Defaults are the parameters of NAB's ``numenta`` detector: ``theta_act = 13``,
``theta_min = 10``, ``n_new = 20``, ``p_init = 0.21``, ``P_conn = 0.5``, ``p_inc = p_dec = 0.1``,
``S_max = 128``,
``Syn_max = 32``, ``pamLength = 3``, ``maxInfBacktrack = 10``, ``maxLrnBacktrack = 5``,
``maxSeqLength = 32``.

Why compiled code, and how. Phase 2 asks how many synapses each segment receives from the
active cells, and backtracking repeats it up to ``maxInfBacktrack`` times per step; a NAB file
grows tens of thousands of segments, and the corpus has 365,558 records. So each cell keeps the
list of segments it synapses onto (a presynaptic index, in chained blocks) and phase 2 reads only
the synapses of active cells. The kernels are plain Python on NumPy arrays compiled by numba
(``cache=True``): no compiler is needed at install time and there is one source to read.
``DENDRIX_BTM_PURE=1`` (read at import) runs the very same functions uncompiled; the tests
compare the two paths.

References:
    S. Ahmad, A. Lavin, S. Purdy, Z. Agha (2017) Unsupervised real-time anomaly detection for
    streaming data. Neurocomputing 262:134-147. J. Hawkins, S. Ahmad, D. Dubinsky (2011)
    Hierarchical temporal memory including HTM cortical learning algorithms, Numenta.

Example:
    >>> tm = BacktrackingTemporalMemory(columns=64, cells_per_column=4, activation_threshold=3,
    ...                                 min_threshold=2, new_synapse_count=4, seed=1)
    >>> seq = [[0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18, 19], [24, 25, 26, 27]]
    >>> for rep in range(6):
    ...     anomalies = []
    ...     for cols in seq:
    ...         tm.compute(cols, learn=True)
    ...         anomalies.append(tm.anomaly)
    >>> anomalies[1:]
    [0.0, 0.0, 0.0]
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dendrix._validation import check_float, check_int

__all__ = ["BacktrackingTMConfig", "BacktrackingTemporalMemory"]

try:  # numba is a core dependency; the guard keeps the pure path importable without it
    from numba import njit as _numba_njit
except ImportError:  # pragma: no cover
    _numba_njit = None

_PURE = os.environ.get("DENDRIX_BTM_PURE", "") == "1" or _numba_njit is None


def _jit(fn):
    """Compile with numba (cached) unless the pure path is requested."""
    if _PURE:
        return fn
    return _numba_njit(cache=True)(fn)


# -- layout -----------------------------------------------------------------------------------
# segment table seg_i int64 [S, 3]
G_CELL, G_NSYN, G_POS = 0, 1, 2
# segment duty cycle seg_d float64 [S, 2]: last value, iteration of that value
D_LAST, D_ITER = 0, 1
# cell-state rows of `st` uint8 [ROWS, N]
INF_ACT, INF_PRED, INF_PRED_T1, LRN_ACT, LRN_ACT_T1, LRN_PRED, LRN_PRED_T1 = range(7)
BAK_ACT, BAK_PRED, CAND_ACT, CAND_PRED, INF_CONF, CAND_CONF = range(7, 13)
ROWS = 13
# scalars `sc` int64
K_HW, K_NFREE, K_LRN_ITER, K_ITER, K_PAM, K_SEQLEN, K_RESET = range(7)
K_NINF, K_NLRN, K_NUPD, K_RNG, K_BHW, K_BNFREE = range(7, 13)
SCALARS = 13
# queued updates upd_i int64 [U, 4]: segment slot, cell, number of active synapse indices, new
U_SEG, U_CELL, U_NACT, U_NNEW = range(4)
# parameters `ip` int64
P_C, P_K, P_ACT, P_MIN, P_NEW, P_MAXSEG, P_MAXSYN, P_PAM, P_INFBT, P_LRNBT, P_MAXSEQ = range(11)
# float parameters `fp` float64: initial, increment, decrement, average input density (state),
# connected permanence
F_INIT, F_INC, F_DEC, F_DENSITY, F_CONN = range(5)

_TIERS = np.array([0, 100, 320, 1000, 3200, 10000, 32000, 100000, 320000], dtype=np.int64)
_ALPHAS = np.array([0.0, 0.0032, 0.0010, 0.00032, 0.00010, 0.000032, 0.00001, 0.0000032, 0.0000010])


# -- random numbers: xorshift64 (13, 7, 17), state in the bits of sc[K_RNG] ------------------
@_jit
def _rand_below(sc, n):
    """Uniform integer in ``[0, n)`` from the top 53 bits of a xorshift64 step."""
    bits = sc.view(np.uint64)
    x = bits[K_RNG]
    x ^= x >> np.uint64(13)
    x ^= x << np.uint64(7)
    x ^= x >> np.uint64(17)
    bits[K_RNG] = x
    u = np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    k = np.int64(u * n)
    return min(k, n - 1)


# -- duty cycle ---------------------------------------------------------------------------------
@_jit
def _duty_cycle(seg_i, seg_d, sc, s, active):
    """Segment ``s``'s duty cycle at the current learning step (module docstring); updates its
    cache, adding ``alpha`` when ``active``."""
    t = sc[K_LRN_ITER]
    if t <= _TIERS[1]:
        dc = seg_i[s, G_POS] / max(t, 1)
        seg_d[s, D_LAST] = dc
        seg_d[s, D_ITER] = t
        return dc
    age = t - np.int64(seg_d[s, D_ITER])
    if age == 0 and not active:
        return seg_d[s, D_LAST]
    alpha = 0.0
    for k in range(len(_TIERS) - 1, 0, -1):
        if t > _TIERS[k]:
            alpha = _ALPHAS[k]
            break
    dc = (1.0 - alpha) ** age * seg_d[s, D_LAST]
    if active:
        dc += alpha
    seg_d[s, D_LAST] = dc
    seg_d[s, D_ITER] = t
    return dc


# -- the presynaptic index ------------------------------------------------------------------------
# Phase 2 asks, for a set of active cells, how many synapses each segment receives from them.
# Scanning every synapse costs O(all synapses) per question; instead each cell keeps the list of
# segments it synapses onto (a segment never has two synapses from one cell), so a question
# costs O(synapses of the active cells). The list of cell j is a chain of blocks of BLOCK
# segment slots: rv[j] = (first block, last block, length); blk_link[b] = (next, previous).
BLOCK = 16


@_jit
def _take_slot(free, sc, k_nfree, k_hw):
    """A free slot: the top of the free stack ``free[:sc[k_nfree]]``, else a new one at the
    high-water mark ``sc[k_hw]`` (segments and index blocks both use this)."""
    if sc[k_nfree] > 0:
        sc[k_nfree] -= 1
        return free[sc[k_nfree]]
    sc[k_hw] += 1
    return sc[k_hw] - 1


@_jit
def _rv_append(store, j, s):
    rv, link, data, bfree, sc = store[11], store[12], store[13], store[14], store[17]
    n = rv[j, 2]
    if n % BLOCK == 0:  # the last block is full (or there is none): chain a new one
        b = _take_slot(bfree, sc, K_BNFREE, K_BHW)
        link[b, 0] = -1
        link[b, 1] = rv[j, 1]
        if n == 0:
            rv[j, 0] = b
        else:
            link[rv[j, 1], 0] = b
        rv[j, 1] = b
    data[rv[j, 1], n % BLOCK] = s
    rv[j, 2] = n + 1


@_jit
def _rv_remove(store, j, s):
    rv, link, data, bfree, sc = store[11], store[12], store[13], store[14], store[17]
    n = rv[j, 2]
    b = rv[j, 0]
    k = 0
    while data[b, k % BLOCK] != s:
        k += 1
        if k % BLOCK == 0:
            b = link[b, 0]
    last = rv[j, 1]
    data[b, k % BLOCK] = data[last, (n - 1) % BLOCK]
    n -= 1
    rv[j, 2] = n
    if n % BLOCK == 0:  # the last block emptied: give it back
        bfree[sc[K_BNFREE]] = last
        sc[K_BNFREE] += 1
        prev = link[last, 1]
        if n == 0:
            rv[j, 0] = -1
            rv[j, 1] = -1
        else:
            link[prev, 0] = -1
            rv[j, 1] = prev


@_jit
def _count(store, cells, n_cells):
    """counts[s] = synapses of segment s from ``cells[:n_cells]``; returns the number of touched
    segments, listed in ``touched`` (clear with :func:`_uncount`)."""
    rv, link, data, counts, touched = store[11], store[12], store[13], store[15], store[16]
    m = 0
    for k in range(n_cells):
        j = cells[k]
        b = rv[j, 0]
        n = rv[j, 2]
        for q in range(n):
            s = data[b, q % BLOCK]
            if counts[s] == 0:
                touched[m] = s
                m += 1
            counts[s] += 1
            if q % BLOCK == BLOCK - 1:
                b = link[b, 0]
    return m


@_jit
def _uncount(store, m):
    counts, touched = store[15], store[16]
    for k in range(m):
        counts[touched[k]] = 0


# -- segments and synapses -----------------------------------------------------------------------
@_jit
def _new_segment(store, cell):
    seg_i, seg_d, cell_segs, cell_nseg, free, sc = (
        store[0],
        store[1],
        store[4],
        store[5],
        store[6],
        store[17],
    )
    s = _take_slot(free, sc, K_NFREE, K_HW)
    seg_i[s, G_CELL] = cell
    seg_i[s, G_NSYN] = 0
    seg_i[s, G_POS] = 1
    t = max(sc[K_LRN_ITER], 1)
    seg_d[s, D_LAST] = 1.0 / t
    seg_d[s, D_ITER] = t
    cell_segs[cell, cell_nseg[cell]] = s
    cell_nseg[cell] += 1
    return s


@_jit
def _free_segment(store, s):
    """Destroy segment ``s`` (and its synapses); forget queued updates of it."""
    seg_i, syn_pre, cell_segs, cell_nseg, free, upd_i, sc = (
        store[0],
        store[2],
        store[4],
        store[5],
        store[6],
        store[7],
        store[17],
    )
    for q in range(seg_i[s, G_NSYN]):
        _rv_remove(store, syn_pre[s, q], s)
    cell = seg_i[s, G_CELL]
    n = cell_nseg[cell]
    j = 0
    while cell_segs[cell, j] != s:
        j += 1
    for k in range(j, n - 1):  # keep the cell's order (a list removal)
        cell_segs[cell, k] = cell_segs[cell, k + 1]
    cell_nseg[cell] = n - 1
    seg_i[s, G_CELL] = -1
    seg_i[s, G_NSYN] = 0
    free[sc[K_NFREE]] = s
    sc[K_NFREE] += 1
    for u in range(sc[K_NUPD]):
        if upd_i[u, U_SEG] == s:
            upd_i[u, U_SEG] = -2  # dead entry, skipped when processed


@_jit
def _trim(store, s):
    """Remove synapses whose permanence fell to 0, then the segment if it is empty."""
    seg_i, syn_pre, syn_perm = store[0], store[2], store[3]
    n = seg_i[s, G_NSYN]
    k = 0
    for q in range(n):
        if syn_perm[s, q] >= 0.00001:
            syn_pre[s, k] = syn_pre[s, q]
            syn_perm[s, k] = syn_perm[s, q]
            k += 1
        else:
            _rv_remove(store, syn_pre[s, q], s)
    seg_i[s, G_NSYN] = k
    if k == 0:
        _free_segment(store, s)


@_jit
def _active_list(state, out):
    """Write the indices of the cells on in ``state`` to ``out``, in order; return the count."""
    m = 0
    for j in range(len(state)):
        if state[j]:
            out[m] = j
            m += 1
    return m


@_jit
def _choose_sources(store, s, n, sources, n_sources, cand, out):
    """Up to ``n`` of ``sources[:n_sources]`` not yet presynaptic to ``s`` (``s < 0``: a new
    segment), drawn at random without replacement, in increasing order; returns the count."""
    seg_i, syn_pre, sc = store[0], store[2], store[17]
    if n <= 0:
        return 0
    m = 0
    for k in range(n_sources):
        j = sources[k]
        dup = False
        if s >= 0:
            for q in range(seg_i[s, G_NSYN]):
                if syn_pre[s, q] == j:
                    dup = True
                    break
        if not dup:
            cand[m] = j
            m += 1
    if m <= n:
        for k in range(m):
            out[k] = cand[k]
        return m
    for k in range(n):  # partial Fisher-Yates
        r = k + _rand_below(sc, m - k)
        tmp = cand[k]
        cand[k] = cand[r]
        cand[r] = tmp
    chosen = np.sort(cand[:n])
    for k in range(n):
        out[k] = chosen[k]
    return n


@_jit
def _adapt(store, ip, fp, s, act_idx, n_act, new_src, n_new):
    """Reinforce segment ``s``: synapses ``act_idx[:n_act]`` gain ``p_inc``, the others lose
    ``p_dec``; then ``new_src[:n_new]`` become synapses at ``p_init`` (freeing the weakest inactive
    synapses beyond ``Syn_max``). Returns True if a permanence reached 0."""
    seg_i, seg_d, syn_pre, syn_perm, sc = store[0], store[1], store[2], store[3], store[17]
    seg_i[s, G_POS] += 1
    _duty_cycle(seg_i, seg_d, sc, s, True)
    n = seg_i[s, G_NSYN]
    is_act = np.zeros(n, dtype=np.bool_)
    for k in range(n_act):
        is_act[act_idx[k]] = True
    hit_zero = False
    inc = np.float32(fp[F_INC])
    dec = np.float32(fp[F_DEC])
    for q in range(n):
        if is_act[q]:
            syn_perm[s, q] = min(syn_perm[s, q] + inc, np.float32(1.0))
        else:
            p = syn_perm[s, q] - dec
            if p <= 0:
                p = np.float32(0.0)
                hit_zero = True
            syn_perm[s, q] = p
    max_syn = ip[P_MAXSYN]
    excess = n + n_new - max_syn
    if excess > 0:  # free the lowest-permanence inactive synapses (then any) to make room
        keep = np.ones(n, dtype=np.bool_)
        for _ in range(min(excess, n)):
            best = -1
            for q in range(n):  # inactive ones first
                if keep[q] and not is_act[q]:
                    if best < 0 or syn_perm[s, q] < syn_perm[s, best]:
                        best = q
            if best < 0:
                for q in range(n):
                    if keep[q] and (best < 0 or syn_perm[s, q] < syn_perm[s, best]):
                        best = q
            keep[best] = False
            _rv_remove(store, syn_pre[s, best], s)
        k = 0
        for q in range(n):
            if keep[q]:
                syn_pre[s, k] = syn_pre[s, q]
                syn_perm[s, k] = syn_perm[s, q]
                k += 1
        n = k
    for k in range(min(n_new, max_syn - n)):
        syn_pre[s, n] = new_src[k]
        syn_perm[s, n] = np.float32(fp[F_INIT])
        _rv_append(store, new_src[k], s)
        n += 1
    seg_i[s, G_NSYN] = n
    return hit_zero


@_jit
def _create(store, fp, cell, src, n_src):
    seg_i, syn_pre, syn_perm = store[0], store[2], store[3]
    s = _new_segment(store, cell)
    for k in range(n_src):
        syn_pre[s, k] = src[k]
        syn_perm[s, k] = np.float32(fp[F_INIT])
        _rv_append(store, src[k], s)
    seg_i[s, G_NSYN] = n_src
    return s


@_jit
def _best_matching_cell(store, ip, c, threshold):
    """Cell of column ``c`` whose most active segment (``counts``, any permanence) has at least
    ``threshold`` synapses: later cells win ties, earlier segments within a cell.
    ``(-1, -1, 0)`` if none."""
    cell_segs, cell_nseg, counts = store[4], store[5], store[15]
    K = ip[P_K]
    best_act, best_seg, best_cell = threshold, -1, -1
    for i in range(K):
        cell = c * K + i
        seg_best_act, seg_best = 0, -1
        for j in range(cell_nseg[cell]):
            s = cell_segs[cell, j]
            if counts[s] > seg_best_act:
                seg_best_act, seg_best = counts[s], s
        if seg_best >= 0 and seg_best_act >= best_act:
            best_act, best_seg, best_cell = seg_best_act, seg_best, cell
    return best_cell, best_seg, best_act


# -- inference -----------------------------------------------------------------------------------
@_jit
def _inf_phase1(st, ip, cols, n_cols, use_start):
    K = ip[P_K]
    act = st[INF_ACT]
    act[:] = 0
    if use_start:
        for k in range(n_cols):
            act[cols[k] * K] = 1
        return True
    predicted = 0
    for k in range(n_cols):
        base = cols[k] * K
        any_pred = False
        for i in range(K):
            if st[INF_PRED_T1, base + i]:
                act[base + i] = 1
                any_pred = True
        if any_pred:
            predicted += 1
        else:
            for i in range(K):
                act[base + i] = 1
    return predicted >= 0.5 * n_cols


@_jit
def _inf_phase2(store, st, ip, fp):
    """Cells with a segment of at least theta_act active synapses of any permanence are
    *confident* (their columns are the prediction the anomaly is scored against); those whose
    segment also has theta_act active *connected* synapses are predicted (they become active if
    their column does). True if enough columns hold a predicted cell."""
    seg_i, syn_pre, syn_perm, counts, touched, scr = (
        store[0],
        store[2],
        store[3],
        store[15],
        store[16],
        store[10],
    )
    K, theta = ip[P_K], ip[P_ACT]
    conn = np.float32(fp[F_CONN])
    pred = st[INF_PRED]
    conf = st[INF_CONF]
    act = st[INF_ACT]
    pred[:] = 0
    conf[:] = 0
    active = scr[4]
    m = _count(store, active, _active_list(act, active))
    col_any = scr[0]
    n_pred_cols = 0
    for k in range(m):
        s = touched[k]
        if counts[s] >= theta:
            cell = seg_i[s, G_CELL]
            conf[cell] = 1
            if pred[cell]:
                continue
            n_conn = 0
            for q in range(seg_i[s, G_NSYN]):
                if syn_perm[s, q] >= conn and act[syn_pre[s, q]]:
                    n_conn += 1
            if n_conn >= theta:
                pred[cell] = 1
                c = cell // K
                if col_any[c] == 0:
                    col_any[c] = 1
                    n_pred_cols += 1
    for k in range(m):
        s = touched[k]
        if counts[s] >= theta:
            col_any[seg_i[s, G_CELL] // K] = 0
    _uncount(store, m)
    return n_pred_cols >= 0.5 * fp[F_DENSITY]


@_jit
def _inf_backtrack(store, st, ip, fp, hist, hist_n):
    sc = store[17]
    n_prev = sc[K_NINF]
    if n_prev <= 0:  # backtracking is off (maxInfBacktrack = 0): predict from the burst
        _inf_phase2(store, st, ip, fp)
        return
    current = n_prev - 1
    st[BAK_ACT, :] = st[INF_ACT, :]
    st[BAK_PRED, :] = st[INF_PRED_T1, :]
    bad = np.zeros(n_prev, dtype=np.bool_)
    cand = -1
    for start in range(n_prev):
        if start == current and cand >= 0:
            break
        ok = False
        for off in range(start, n_prev):
            st[INF_PRED_T1, :] = st[INF_PRED, :]
            ok = _inf_phase1(st, ip, hist[off], hist_n[off], off == start)
            if not ok:
                break
            ok = _inf_phase2(store, st, ip, fp)
            if not ok:
                break
        if not ok:
            bad[start] = True
            continue
        cand = start
        st[CAND_ACT, :] = st[INF_ACT, :]
        st[CAND_PRED, :] = st[INF_PRED, :]
        st[CAND_CONF, :] = st[INF_CONF, :]
        break
    if cand < 0:
        st[INF_ACT, :] = st[BAK_ACT, :]
        _inf_phase2(store, st, ip, fp)
    elif cand != current:
        st[INF_ACT, :] = st[CAND_ACT, :]
        st[INF_PRED, :] = st[CAND_PRED, :]
        st[INF_CONF, :] = st[CAND_CONF, :]
    drop = 0
    for i in range(n_prev):
        if bad[i] or (cand >= 0 and i <= cand):
            drop += 1
        else:
            break
    _pop_front(hist, hist_n, sc, K_NINF, drop)
    st[INF_PRED_T1, :] = st[BAK_PRED, :]


@_jit
def _pop_front(hist, hist_n, sc, key, count):
    n = sc[key]
    count = min(count, n)
    for k in range(n - count):
        hist[k] = hist[k + count]
        hist_n[k] = hist_n[k + count]
    sc[key] = n - count


@_jit
def _push(hist, hist_n, sc, key, limit, cols, n_cols):
    if sc[key] > limit:
        _pop_front(hist, hist_n, sc, key, 1)
    k = sc[key]
    hist[k, :n_cols] = cols[:n_cols]
    hist_n[k] = n_cols
    sc[key] = k + 1


# -- learning ------------------------------------------------------------------------------------
@_jit
def _process_updates(store, ip, fp, cols, n_cols):
    seg_i, upd_i, upd_act, upd_new, scr, sc = (
        store[0],
        store[7],
        store[8],
        store[9],
        store[10],
        store[17],
    )
    K = ip[P_K]
    col_active = scr[0]
    for k in range(n_cols):
        col_active[cols[k]] = 1
    n_upd = sc[K_NUPD]
    trims = np.empty(n_upd, dtype=np.int64)
    n_trim = 0
    for u in range(n_upd):
        s = upd_i[u, U_SEG]
        if s < 0 or not col_active[upd_i[u, U_CELL] // K]:
            continue
        if _adapt(store, ip, fp, s, upd_act[u], upd_i[u, U_NACT], upd_new[u], upd_i[u, U_NNEW]):
            trims[n_trim] = s
            n_trim += 1
    sc[K_NUPD] = 0
    for k in range(n_cols):
        col_active[cols[k]] = 0
    for k in range(n_trim):
        if seg_i[trims[k], G_CELL] >= 0:
            _trim(store, trims[k])


@_jit
def _cell_for_new_segment(store, ip, c):
    seg_i, seg_d, cell_segs, cell_nseg, sc = store[0], store[1], store[4], store[5], store[17]
    K, max_seg = ip[P_K], ip[P_MAXSEG]
    lo = 1 if K > 1 else 0
    n = 0
    options = np.empty(K, dtype=np.int64)
    for i in range(lo, K):
        if cell_nseg[c * K + i] < max_seg:
            options[n] = c * K + i
            n += 1
    if n > 0:
        return options[_rand_below(sc, n)]
    best_dc, best_seg, best_cell = 1.0, -1, -1
    for i in range(lo, K):
        cell = c * K + i
        for j in range(cell_nseg[cell]):
            s = cell_segs[cell, j]
            dc = _duty_cycle(seg_i, seg_d, sc, s, False)
            if dc < best_dc:
                best_dc, best_seg, best_cell = dc, s, cell
    if best_seg < 0:  # every duty cycle is 1: free the first segment of cell lo
        best_cell = c * K + lo
        best_seg = cell_segs[best_cell, 0]
    _free_segment(store, best_seg)
    return best_cell


@_jit
def _lrn_phase1(store, st, ip, fp, cols, n_cols, read_only):
    seg_i, syn_pre, scr = store[0], store[2], store[10]
    K = ip[P_K]
    act = st[LRN_ACT]
    prev = st[LRN_ACT_T1]
    act[:] = 0
    cand, src, idx, sources = scr[1], scr[2], scr[3], scr[4]
    n_sources = _active_list(prev, sources)
    # segment activity over the previous learning cells; phase 1 only changes segments of the
    # column it is working on, so the counts of the columns still to come stay exact
    m = 0 if read_only else _count(store, sources, n_sources)
    unpredicted = 0
    for k in range(n_cols):
        c = cols[k]
        chosen = -1
        for i in range(K):
            if st[LRN_PRED_T1, c * K + i]:
                chosen = c * K + i
                break
        if chosen >= 0:
            act[chosen] = 1
            continue
        unpredicted += 1
        if read_only:
            continue
        cell, s, _ = _best_matching_cell(store, ip, c, ip[P_MIN])
        if s >= 0:
            act[cell] = 1
            n_act = 0
            for q in range(seg_i[s, G_NSYN]):
                if prev[syn_pre[s, q]]:
                    idx[n_act] = q
                    n_act += 1
            n_new = _choose_sources(store, s, ip[P_NEW] - n_act, sources, n_sources, cand, src)
            if _adapt(store, ip, fp, s, idx, n_act, src, n_new):
                _trim(store, s)
        else:
            cell = _cell_for_new_segment(store, ip, c)
            act[cell] = 1
            n_new = _choose_sources(store, -1, ip[P_NEW], sources, n_sources, cand, src)
            if n_new > 0:  # a segment with no synapse could never become active
                _create(store, fp, cell, src, n_new)
    _uncount(store, m)
    return unpredicted < n_cols // 2


@_jit
def _lrn_phase2(store, st, ip, read_only):
    seg_i, syn_pre, upd_i, upd_act, upd_new, scr, counts, touched, sc = (
        store[0],
        store[2],
        store[7],
        store[8],
        store[9],
        store[10],
        store[15],
        store[16],
        store[17],
    )
    K = ip[P_K]
    pred = st[LRN_PRED]
    act = st[LRN_ACT]
    pred[:] = 0
    cand, sources, col_seen = scr[1], scr[4], scr[0]
    n_sources = _active_list(act, sources)
    m = _count(store, sources, n_sources)
    # columns holding a segment at the threshold, in increasing order
    n_c = 0
    cols = np.empty(m, dtype=np.int64)
    for k in range(m):
        s = touched[k]
        if counts[s] >= ip[P_ACT]:
            c = seg_i[s, G_CELL] // K
            if not col_seen[c]:
                col_seen[c] = 1
                cols[n_c] = c
                n_c += 1
    cols = np.sort(cols[:n_c])
    for c in cols:
        col_seen[c] = 0
        cell, s, n_active = _best_matching_cell(store, ip, c, ip[P_ACT])
        if cell < 0:
            continue
        pred[cell] = 1
        if read_only:
            continue
        u = sc[K_NUPD]
        n_act = 0
        for q in range(seg_i[s, G_NSYN]):
            if act[syn_pre[s, q]]:
                upd_act[u, n_act] = q
                n_act += 1
        n_new = 0
        if n_active < ip[P_NEW]:
            n_new = _choose_sources(
                store, s, ip[P_NEW] - n_act, sources, n_sources, cand, upd_new[u]
            )
        if n_act + n_new == 0:
            continue
        upd_i[u, U_SEG] = s
        upd_i[u, U_CELL] = cell
        upd_i[u, U_NACT] = n_act
        upd_i[u, U_NNEW] = n_new
        sc[K_NUPD] = u + 1
    _uncount(store, m)


@_jit
def _lrn_backtrack_from(store, st, ip, fp, hist, hist_n, start, read_only):
    sc = store[17]
    K = ip[P_K]
    n_prev = sc[K_NLRN]
    current = n_prev - 1
    if not read_only:
        sc[K_NUPD] = 0
    ok = True
    for off in range(start, n_prev):
        st[LRN_PRED_T1, :] = st[LRN_PRED, :]
        st[LRN_ACT_T1, :] = st[LRN_ACT, :]
        cols = hist[off]
        n_cols = hist_n[off]
        if not read_only:
            _process_updates(store, ip, fp, cols, n_cols)
        if off == start:
            st[LRN_ACT, :] = 0
            for k in range(n_cols):
                st[LRN_ACT, cols[k] * K] = 1
            ok = True
        else:
            ok = _lrn_phase1(store, st, ip, fp, cols, n_cols, read_only)
        if not ok or off == current:
            break
        _lrn_phase2(store, st, ip, read_only)
    return ok


@_jit
def _lrn_backtrack(store, st, ip, fp, hist, hist_n):
    """Returns the number of replayed steps (0: no start point worked)."""
    sc = store[17]
    n_prev = sc[K_NLRN] - 1
    if n_prev <= 0:
        return 0
    bad = np.zeros(n_prev, dtype=np.bool_)
    ok = False
    start = 0
    for start in range(n_prev):
        ok = _lrn_backtrack_from(store, st, ip, fp, hist, hist_n, start, True)
        if ok:
            break
        bad[start] = True
    if not ok:
        sc[K_NLRN] = 0
        return 0
    _lrn_backtrack_from(store, st, ip, fp, hist, hist_n, start, False)
    drop = 0
    for i in range(n_prev):
        if bad[i] or i <= start:
            drop += 1
        else:
            break
    _pop_front(hist, hist_n, sc, K_NLRN, drop)
    return n_prev - start


@_jit
def step(store, st, ip, fp, cols, n_cols, learn, hist_inf, hist_inf_n, hist_lrn, hist_lrn_n):
    """One input: inference (with backtracking), then learning (module docstring). Returns the
    raw anomaly of ``cols`` against the columns predicted at the previous step."""
    seg_i, seg_d, sc = store[0], store[1], store[17]
    K = ip[P_K]
    hit = 0  # raw anomaly against the previous (any-permanence) prediction
    for k in range(n_cols):
        base = cols[k] * K
        for i in range(K):
            if st[INF_CONF, base + i]:
                hit += 1
                break
    anomaly = 0.0 if n_cols == 0 else 1.0 - hit / n_cols
    if learn:
        sc[K_LRN_ITER] += 1
        t = sc[K_LRN_ITER]
        for k in range(1, len(_TIERS)):
            if t == _TIERS[k]:  # refresh every duty cycle when the rate changes
                for s in range(sc[K_HW]):
                    if seg_i[s, G_CELL] >= 0:
                        _duty_cycle(seg_i, seg_d, sc, s, False)
    sc[K_ITER] += 1
    if fp[F_DENSITY] < 0:
        fp[F_DENSITY] = n_cols
    else:
        fp[F_DENSITY] = 0.99 * fp[F_DENSITY] + 0.01 * n_cols
    reset = sc[K_RESET] != 0
    # -- inference
    st[INF_PRED_T1, :] = st[INF_PRED, :]
    if ip[P_INFBT] > 0:
        _push(hist_inf, hist_inf_n, sc, K_NINF, ip[P_INFBT], cols, n_cols)
    in_seq = _inf_phase1(st, ip, cols, n_cols, reset)
    if in_seq:
        in_seq = _inf_phase2(store, st, ip, fp)
    if not in_seq:
        _inf_backtrack(store, st, ip, fp, hist_inf, hist_inf_n)
    # -- learning
    if learn:
        st[LRN_PRED_T1, :] = st[LRN_PRED, :]
        st[LRN_ACT_T1, :] = st[LRN_ACT, :]
        if ip[P_LRNBT] > 0:
            _push(hist_lrn, hist_lrn_n, sc, K_NLRN, ip[P_LRNBT], cols, n_cols)
        _process_updates(store, ip, fp, cols, n_cols)
        if sc[K_PAM] > 0:
            sc[K_PAM] -= 1
        sc[K_SEQLEN] += 1
        if not reset:
            if _lrn_phase1(store, st, ip, fp, cols, n_cols, False):
                sc[K_PAM] = ip[P_PAM]
        if reset or sc[K_PAM] == 0 or (ip[P_MAXSEQ] != 0 and sc[K_SEQLEN] >= ip[P_MAXSEQ]):
            back = 0
            if not reset:
                back = _lrn_backtrack(store, st, ip, fp, hist_lrn, hist_lrn_n)
            if reset or back == 0:
                back = 0
                st[LRN_ACT, :] = 0
                for k in range(n_cols):
                    st[LRN_ACT, cols[k] * K] = 1
                sc[K_NLRN] = 0
            sc[K_PAM] = ip[P_PAM]
            sc[K_SEQLEN] = back
            sc[K_NUPD] = 0
        _lrn_phase2(store, st, ip, False)
    sc[K_RESET] = 0
    return anomaly


# -- Python side ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class BacktrackingTMConfig:
    """Parameters of :class:`BacktrackingTemporalMemory` (symbols in the module docstring).

    Attributes:
        columns, cells_per_column: C and K.
        activation_threshold: theta_act, active synapses that make a segment confident (any
            permanence; its column is predicted for the anomaly) or active (connected ones;
            its cell is predicted).
        min_threshold: theta_min, active synapses for a segment to be reinforced in phase 1.
        new_synapse_count: n_new, synapses a learning segment grows up to.
        initial_permanence, permanence_increment, permanence_decrement: p_init, p_inc, p_dec.
        connected_permanence: P_conn, the permanence from which a synapse counts for
            predicting a cell.
        max_segments_per_cell, max_synapses_per_segment: S_max and Syn_max.
        pam_length: steps learning stays on a sequence after it is lost.
        max_inf_backtrack, max_lrn_backtrack: inputs kept for backtracking.
        max_seq_length: learnt sequence length that triggers a restart (0: unbounded).
        seed: the generator of the random draws.
    """

    columns: int = 2048
    cells_per_column: int = 32
    activation_threshold: int = 13
    min_threshold: int = 10
    new_synapse_count: int = 20
    initial_permanence: float = 0.21
    connected_permanence: float = 0.5
    permanence_increment: float = 0.1
    permanence_decrement: float = 0.1
    max_segments_per_cell: int = 128
    max_synapses_per_segment: int = 32
    pam_length: int = 3
    max_inf_backtrack: int = 10
    max_lrn_backtrack: int = 5
    max_seq_length: int = 32
    seed: int = 42

    def __post_init__(self) -> None:
        check_int("columns", self.columns, minimum=1)
        check_int("cells_per_column", self.cells_per_column, minimum=1)
        check_int("activation_threshold", self.activation_threshold, minimum=1)
        check_int("min_threshold", self.min_threshold, minimum=1)
        check_int("new_synapse_count", self.new_synapse_count, minimum=1)
        check_int("max_segments_per_cell", self.max_segments_per_cell, minimum=1)
        check_int("max_synapses_per_segment", self.max_synapses_per_segment, minimum=1)
        check_int("pam_length", self.pam_length, minimum=1)
        check_int("max_inf_backtrack", self.max_inf_backtrack, minimum=0)
        check_int("max_lrn_backtrack", self.max_lrn_backtrack, minimum=0)
        check_int("max_seq_length", self.max_seq_length, minimum=0)
        check_int("seed", self.seed, minimum=0)
        for name in (
            "initial_permanence",
            "connected_permanence",
            "permanence_increment",
            "permanence_decrement",
        ):
            check_float(name, getattr(self, name), minimum=0.0, maximum=1.0)
        if self.new_synapse_count > self.max_synapses_per_segment:
            raise ValueError(
                f"new_synapse_count={self.new_synapse_count} exceeds max_synapses_per_segment="
                f"{self.max_synapses_per_segment}; lower it or allow more synapses per segment."
            )


_ARRAYS = ("seg_i", "seg_d", "syn_pre", "syn_perm", "cell_segs", "cell_nseg", "free", "rv",
           "blk_link", "blk_data", "blk_free", "upd_i", "upd_act", "upd_new", "st", "sc", "fp",
           "hist_inf", "hist_inf_n", "hist_lrn", "hist_lrn_n")  # fmt: skip
_FORMAT = "dendrix.htm.BacktrackingTemporalMemory/1"


class BacktrackingTemporalMemory:
    """NuPIC-style backtracking temporal memory (module docstring).

    Args: the fields of :class:`BacktrackingTMConfig`, by keyword.

    Attributes (after :meth:`compute`): :attr:`anomaly`, :attr:`active_cells` and
    :attr:`predictive_cells` (inference state), :attr:`winner_cells` (the learning cells),
    :attr:`predicted_columns`, all sorted index arrays.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.config = BacktrackingTMConfig(**kwargs)
        c = self.config
        C, K = c.columns, c.cells_per_column
        N = C * K
        S = max(1024, 4 * C)
        W = c.max_synapses_per_segment
        self.seg_i = np.full((S, 3), -1, dtype=np.int64)
        self.seg_d = np.zeros((S, 2), dtype=np.float64)
        self.syn_pre = np.zeros((S, W), dtype=np.int32)
        self.syn_perm = np.zeros((S, W), dtype=np.float32)
        self.cell_segs = np.zeros((N, c.max_segments_per_cell), dtype=np.int64)
        self.cell_nseg = np.zeros(N, dtype=np.int64)
        self.free = np.zeros(S, dtype=np.int64)
        B = max(1024, 4 * C)
        self.rv = np.full((N, 3), -1, dtype=np.int64)
        self.rv[:, 2] = 0
        self.blk_link = np.full((B, 2), -1, dtype=np.int64)
        self.blk_data = np.zeros((B, BLOCK), dtype=np.int64)
        self.blk_free = np.zeros(B, dtype=np.int64)
        self.upd_i = np.zeros((C, 4), dtype=np.int64)
        self.upd_act = np.zeros((C, W), dtype=np.int64)
        self.upd_new = np.zeros((C, W), dtype=np.int32)
        self.st = np.zeros((ROWS, N), dtype=np.uint8)
        self.sc = np.zeros(SCALARS, dtype=np.int64)
        seed_bits = np.random.SeedSequence(c.seed).generate_state(1, dtype=np.uint64)[0]
        self.sc[K_RNG] = np.int64(seed_bits | np.uint64(1))  # xorshift needs a non-zero state
        self.sc[K_PAM] = c.pam_length
        self.fp = np.array(
            [c.initial_permanence, c.permanence_increment, c.permanence_decrement, -1.0,
             c.connected_permanence]
        )  # fmt: skip
        self.hist_inf = np.zeros((c.max_inf_backtrack + 1, C), dtype=np.int64)
        self.hist_inf_n = np.zeros(c.max_inf_backtrack + 1, dtype=np.int64)
        self.hist_lrn = np.zeros((c.max_lrn_backtrack + 1, C), dtype=np.int64)
        self.hist_lrn_n = np.zeros(c.max_lrn_backtrack + 1, dtype=np.int64)
        self.ip = np.array(
            [C, K, c.activation_threshold, c.min_threshold, c.new_synapse_count,
             c.max_segments_per_cell, W, c.pam_length, c.max_inf_backtrack,
             c.max_lrn_backtrack, c.max_seq_length],
            dtype=np.int64,
        )  # fmt: skip
        self._scratch = np.zeros((5, N), dtype=np.int64)
        self._counts = np.zeros(S, dtype=np.int64)
        self._touched = np.zeros(S, dtype=np.int64)
        self.anomaly = 0.0

    # -- stepping ---------------------------------------------------------------------------
    def _ensure_room(self, n_cols: int) -> None:
        """Grow the arrays so that one step fits: with learning backtracking a step replays up
        to maxLrnBacktrack + 1 inputs, each adding at most one segment per active column and
        Syn_max synapses (index entries) per segment."""
        segments = (self.config.max_lrn_backtrack + 2) * max(n_cols, 1)
        blocks = segments * self.config.max_synapses_per_segment

        def grown(a: np.ndarray, size: int, fill: float) -> np.ndarray:
            out = np.full((size, *a.shape[1:]), fill, dtype=a.dtype)
            out[: a.shape[0]] = a
            return out

        S = self.seg_i.shape[0]
        if S - self.sc[K_HW] + self.sc[K_NFREE] < segments:
            new = max(2 * S, S + segments)
            self.seg_i = grown(self.seg_i, new, -1)
            self.seg_d = grown(self.seg_d, new, 0)
            self.syn_pre = grown(self.syn_pre, new, 0)
            self.syn_perm = grown(self.syn_perm, new, 0)
            self.free = grown(self.free, new, 0)
            self._counts = np.zeros(new, dtype=np.int64)
            self._touched = np.zeros(new, dtype=np.int64)
        B = self.blk_link.shape[0]
        if B - self.sc[K_BHW] + self.sc[K_BNFREE] < blocks:
            new = max(2 * B, B + blocks)
            self.blk_link = grown(self.blk_link, new, -1)
            self.blk_data = grown(self.blk_data, new, 0)
            self.blk_free = grown(self.blk_free, new, 0)

    def _columns(self, active_columns: object) -> np.ndarray:
        cols = np.asarray(active_columns)
        if cols.dtype == np.bool_:
            if cols.shape != (self.config.columns,):
                raise ValueError(
                    f"active_columns as a mask must have shape ({self.config.columns},), got "
                    f"{cols.shape}."
                )
            cols = np.flatnonzero(cols)
        if cols.ndim != 1 or (cols.size and not np.issubdtype(cols.dtype, np.integer)):
            raise ValueError(
                "active_columns must be a 1-D array of column indices (or a boolean mask), got "
                f"dtype {cols.dtype} and shape {cols.shape}."
            )
        cols = np.unique(cols.astype(np.int64))
        if cols.size and (cols[0] < 0 or cols[-1] >= self.config.columns):
            raise ValueError(
                f"active_columns must lie in [0, {self.config.columns}), got {cols[0]}..{cols[-1]}."
            )
        return cols

    def compute(self, active_columns: object, learn: bool = True) -> float:
        """Process one input (active column indices or a boolean mask); returns the anomaly."""
        cols = self._columns(active_columns)
        self._ensure_room(cols.size)
        padded = np.zeros(self.config.columns, dtype=np.int64)
        padded[: cols.size] = cols
        store = (
            self.seg_i, self.seg_d, self.syn_pre, self.syn_perm, self.cell_segs, self.cell_nseg,
            self.free, self.upd_i, self.upd_act, self.upd_new, self._scratch, self.rv,
            self.blk_link, self.blk_data, self.blk_free, self._counts, self._touched, self.sc,
        )  # fmt: skip
        self.anomaly = float(
            step(store, self.st, self.ip, self.fp, padded, cols.size, bool(learn),
                 self.hist_inf, self.hist_inf_n, self.hist_lrn, self.hist_lrn_n)
        )  # fmt: skip
        return self.anomaly

    def reset(self) -> None:
        """Start a new sequence: clear the cell states, histories and queued updates."""
        self.st[:] = 0
        self.sc[K_RESET] = 1
        self.sc[K_NINF] = self.sc[K_NLRN] = self.sc[K_NUPD] = 0
        self.sc[K_PAM] = self.config.pam_length
        self.sc[K_SEQLEN] = 0

    # -- views ------------------------------------------------------------------------------
    @property
    def active_cells(self) -> np.ndarray:
        return np.flatnonzero(self.st[INF_ACT])

    @property
    def predictive_cells(self) -> np.ndarray:
        return np.flatnonzero(self.st[INF_PRED])

    @property
    def winner_cells(self) -> np.ndarray:
        return np.flatnonzero(self.st[LRN_ACT])

    @property
    def predicted_columns(self) -> np.ndarray:
        """Columns with a confident cell: the prediction the next anomaly is scored against."""
        K = self.config.cells_per_column
        return np.flatnonzero(self.st[INF_CONF].reshape(-1, K).any(axis=1))

    def num_segments(self) -> int:
        """Live segments (as :meth:`FastTemporalMemory.num_segments`)."""
        return int(self.sc[K_HW] - self.sc[K_NFREE])

    def num_synapses(self) -> int:
        """Live synapses."""
        alive = self.seg_i[: self.sc[K_HW], G_CELL] >= 0
        return int(self.seg_i[: self.sc[K_HW], G_NSYN][alive].sum())

    def segments_of(self, cell: int) -> list[tuple[list[int], list[float]]]:
        """The segments of ``cell`` in order, each as (presynaptic cells, permanences)."""
        out = []
        for j in range(int(self.cell_nseg[cell])):
            s = int(self.cell_segs[cell, j])
            n = int(self.seg_i[s, G_NSYN])
            out.append((self.syn_pre[s, :n].tolist(), self.syn_perm[s, :n].tolist()))
        return out

    # -- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"format": _FORMAT, "config": asdict(self.config)}
        for name in _ARRAYS:
            state[name] = getattr(self, name).copy()
        state["anomaly"] = self.anomaly
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"state is not a BacktrackingTemporalMemory state ({_FORMAT}).")
        if BacktrackingTMConfig(**state["config"]) != self.config:
            raise ValueError(
                "state was saved by a memory with another config; build the memory with "
                f"{state['config']} first."
            )
        for name in _ARRAYS:
            a = np.asarray(state[name])
            mine = getattr(self, name)
            if a.dtype != mine.dtype or a.shape[1:] != mine.shape[1:]:
                raise ValueError(
                    f"state[{name!r}] has dtype {a.dtype} and shape {a.shape}; expected "
                    f"{mine.dtype} with trailing shape {mine.shape[1:]}."
                )
            setattr(self, name, a.copy())
        self._counts = np.zeros(self.seg_i.shape[0], dtype=np.int64)
        self._touched = np.zeros(self.seg_i.shape[0], dtype=np.int64)
        self.anomaly = float(state["anomaly"])

    def __repr__(self) -> str:
        c = self.config
        return (
            f"BacktrackingTemporalMemory(columns={c.columns}, cells_per_column="
            f"{c.cells_per_column}, segments={self.num_segments()}, synapses={self.num_synapses()})"
        )

"""NuPIC's backtracking temporal memory (dendrix.htm.backtracking_tm): one rule per test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dendrix.htm.backtracking_tm import (
    BLOCK,
    G_CELL,
    G_NSYN,
    BacktrackingTemporalMemory,
    BacktrackingTMConfig,
)

SMALL = {
    "columns": 64,
    "cells_per_column": 4,
    "activation_threshold": 3,
    "min_threshold": 2,
    "new_synapse_count": 4,
}
A, B, C, D = [0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18, 19], [24, 25, 26, 27]


def small(**kw):
    return BacktrackingTemporalMemory(**{**SMALL, "seed": 3, **kw})


def random_inputs(steps, columns=64, active=4, vocabulary=12, seed=0):
    rng = np.random.default_rng(seed)
    words = [np.sort(rng.choice(columns, active, replace=False)) for _ in range(vocabulary)]
    return [words[i] for i in rng.integers(0, vocabulary, steps)]


def segments(tm):
    """{slot: (cell, presynaptic cells, permanences)} of the live segments."""
    out = {}
    for s in range(int(tm.sc[0])):
        if tm.seg_i[s, G_CELL] >= 0:
            n = tm.seg_i[s, G_NSYN]
            out[s] = (int(tm.seg_i[s, G_CELL]), tm.syn_pre[s, :n].tolist(), tm.syn_perm[s, :n])
    return out


def index_lists(tm):
    """The presynaptic index, walked block by block: {cell: sorted segment slots}."""
    out = {}
    for j in range(tm.rv.shape[0]):
        n = int(tm.rv[j, 2])
        b, got = int(tm.rv[j, 0]), []
        for q in range(n):
            got.append(int(tm.blk_data[b, q % BLOCK]))
            if q % BLOCK == BLOCK - 1:
                b = int(tm.blk_link[b, 0])
        if got:
            out[j] = sorted(got)
    return out


def test_a_learnt_sequence_is_predicted_from_its_second_presentation():
    # any-permanence segments with n_new >= theta_act learn a transition in one presentation
    tm = small()
    history = []
    for _ in range(4):
        history.append([tm.compute(cols) for cols in (A, B, C, D)])
    assert history[0] == [1.0, 1.0, 1.0, 1.0]
    assert history[1][1:] == [0.0, 0.0, 0.0]
    assert history[3] == [0.0, 0.0, 0.0, 0.0]


def test_an_unpredicted_column_bursts_and_a_predicted_one_activates_only_its_predicted_cells():
    tm = small(max_inf_backtrack=0, connected_permanence=0.2)  # new synapses are connected
    tm.compute(A)
    assert tm.active_cells.tolist() == [c * 4 + i for c in A for i in range(4)]  # burst
    for cols in (B, A, B):
        tm.compute(cols)
    predicted = set(tm.predictive_cells.tolist())
    tm.compute(A)
    active = set(tm.active_cells.tolist())
    assert active and active <= predicted
    assert {cell // 4 for cell in active} == set(A)


def test_an_unpredicted_input_that_starts_a_learnt_sequence_backtracks_to_its_start_cells():
    tm = small(connected_permanence=0.2)
    for _ in range(3):
        tm.reset()
        for cols in (A, B, C):
            tm.compute(cols)
    tm.reset()
    tm.compute(D)  # nothing follows D
    tm.compute(A)  # unpredicted: the replay from A's start cells predicts B confidently
    assert tm.active_cells.tolist() == [c * 4 for c in A]
    assert {cell // 4 for cell in tm.predictive_cells} == set(B)
    assert tm.compute(B) == 0.0


def test_without_inference_backtracking_the_same_input_bursts():
    tm = small(max_inf_backtrack=0, connected_permanence=0.2)
    for _ in range(3):
        tm.reset()
        for cols in (A, B, C):
            tm.compute(cols)
    tm.reset()
    tm.compute(D)
    tm.compute(A)
    assert len(tm.active_cells) == 4 * len(A)


def test_any_permanence_segments_predict_columns_but_only_connected_ones_predict_cells():
    for conn, expect_cells in ((0.5, False), (0.2, True)):
        tm = small(connected_permanence=conn)
        tm.reset()
        for cols in (A, B):
            tm.compute(cols)
        tm.reset()
        tm.compute(A)  # B's segment: four synapses at 0.21 from A's start cells
        assert tm.predicted_columns.tolist() == B
        assert (len(tm.predictive_cells) > 0) == expect_cells
        assert tm.compute(B) == 0.0


def test_a_segment_predicts_its_cell_once_reinforced_past_the_connected_permanence():
    tm = small()  # 0.21 + 3 x 0.1 >= 0.5: the fourth presentation predicts a cell
    counts = []
    for _ in range(5):
        tm.reset()
        tm.compute(A)
        counts.append(len(tm.predictive_cells))
        tm.compute(B)
    assert counts[:4] == [0, 0, 0, 0]
    assert counts[4] == len(B)


def test_learning_keeps_one_learning_cell_per_active_column():
    tm = small()
    for cols in random_inputs(300):
        tm.compute(cols)
        assert sorted({c // 4 for c in tm.winner_cells}) == sorted(cols)
        assert len(tm.winner_cells) == len(cols)


def test_start_cells_never_grow_segments():
    tm = small()
    for cols in random_inputs(400):
        tm.compute(cols)
    cells = {cell for cell, _, _ in segments(tm).values()}
    assert cells and all(cell % 4 != 0 for cell in cells)


def test_a_new_segment_starts_at_the_initial_permanence_and_a_queued_update_reinforces_it():
    tm = small()
    tm.reset()
    for cols in (A, B):  # after a reset A learns on its start cells; B grows a segment from them
        tm.compute(cols)
    (b_cell,) = [int(c) for c in tm.winner_cells if c // 4 == B[0]]
    ((pre, perms),) = tm.segments_of(b_cell)
    assert sorted(pre) == [c * 4 for c in A]
    assert np.all(np.array(perms, dtype=np.float32) == np.float32(0.21))
    tm.reset()
    for cols in (A, B):  # A predicts b_cell: its segment's update is queued, applied at B
        tm.compute(cols)
    assert b_cell in tm.winner_cells
    ((pre2, perms2),) = tm.segments_of(b_cell)
    assert sorted(pre2) == sorted(pre)
    assert np.all(np.array(perms2, dtype=np.float32) == np.float32(0.21) + np.float32(0.1))


def test_a_reinforced_segment_loses_the_decrement_on_its_inactive_synapses():
    tm = small(new_synapse_count=4)
    tm.reset()
    for cols in (A, B):
        tm.compute(cols)
    (b_cell,) = [int(c) for c in tm.winner_cells if c // 4 == B[0]]
    tm.reset()
    for cols in ([*A[:3], 40], B):  # one of the four presynaptic start cells stays silent
        tm.compute(cols)
    ((pre, perms),) = tm.segments_of(b_cell)[:1]
    by_cell = dict(zip(pre, np.array(perms, dtype=np.float32), strict=True))
    assert by_cell[A[3] * 4] == np.float32(0.21) - np.float32(0.1)
    assert all(by_cell[c * 4] == np.float32(0.21) + np.float32(0.1) for c in A[:3])


def test_segment_and_synapse_limits_hold_and_no_segment_has_duplicate_synapses():
    tm = small(max_segments_per_cell=3, max_synapses_per_segment=6)
    for cols in random_inputs(1500, vocabulary=40, seed=1):
        tm.compute(cols)
    assert tm.cell_nseg.max() <= 3
    segs = segments(tm)
    assert segs
    for _, pre, perms in segs.values():
        assert 0 < len(pre) <= 6
        assert len(set(pre)) == len(pre)
        assert np.all((perms >= 0) & (perms <= 1))


def test_the_presynaptic_index_lists_exactly_the_synapses():
    tm = small(max_segments_per_cell=3, max_synapses_per_segment=6)
    for cols in random_inputs(800, vocabulary=30, seed=2):
        tm.compute(cols)
    expected: dict[int, list[int]] = {}
    for s, (_, pre, _) in segments(tm).items():
        for j in pre:
            expected.setdefault(j, []).append(s)
    assert index_lists(tm) == {j: sorted(v) for j, v in expected.items()}


def test_inference_without_learning_leaves_every_segment_unchanged():
    tm = small()
    for cols in random_inputs(200, vocabulary=20):
        tm.compute(cols)
    before = segments(tm)
    anomalies = [tm.compute(cols, learn=False) for cols in random_inputs(100, vocabulary=20)]
    after = segments(tm)
    assert before.keys() == after.keys()
    for s in before:
        assert before[s][:2] == after[s][:2]
        assert np.array_equal(before[s][2], after[s][2])
    assert min(anomalies) < 1.0  # it still predicts


def test_an_input_with_no_active_column_has_no_anomaly():
    tm = small()
    tm.compute(A)
    assert tm.compute([]) == 0.0


def test_the_same_seed_gives_the_same_memory_and_another_seed_another():
    runs = []
    for seed in (7, 7, 8):
        tm = small(seed=seed)
        anomalies = [tm.compute(cols) for cols in random_inputs(300, vocabulary=30)]
        runs.append((anomalies, segments(tm)))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1].keys() == runs[1][1].keys()
    assert all(np.array_equal(runs[0][1][s][2], runs[1][1][s][2]) for s in runs[0][1])
    assert [v[:2] for v in runs[0][1].values()] != [v[:2] for v in runs[2][1].values()]


def test_a_state_round_trip_resumes_the_stream_exactly():
    inputs = random_inputs(400, vocabulary=25, seed=4)
    tm = small()
    for cols in inputs[:200]:
        tm.compute(cols)
    copy = small()
    copy.load_state_dict(tm.state_dict())
    rest = [tm.compute(cols) for cols in inputs[200:]]
    assert [copy.compute(cols) for cols in inputs[200:]] == rest
    for name, a in tm.state_dict().items():
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, copy.state_dict()[name]), name


def test_a_state_from_another_config_is_refused():
    tm = small()
    with pytest.raises(ValueError, match="another config"):
        small(seed=4).load_state_dict(tm.state_dict())
    with pytest.raises(ValueError, match="not a BacktrackingTemporalMemory state"):
        tm.load_state_dict({"format": "x"})


@pytest.mark.parametrize(
    ("columns", "match"),
    [([64], r"\[0, 64\)"), ([-1], r"\[0, 64\)"), ([0.5], "1-D array of column indices"),
     ([[1, 2]], "1-D array"), (np.zeros(10, dtype=bool), r"shape \(64,\)")],
)  # fmt: skip
def test_bad_columns_are_rejected_with_the_argument_named(columns, match):
    with pytest.raises(ValueError, match=match):
        small().compute(columns)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("columns", 0, "columns"), ("permanence_increment", 1.5, "permanence_increment"),
     ("new_synapse_count", 40, "max_synapses_per_segment"), ("pam_length", 0, "pam_length")],
)  # fmt: skip
def test_bad_config_values_are_rejected(field, value, match):
    with pytest.raises(ValueError, match=match):
        BacktrackingTMConfig(**{field: value})


_PURE_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_backtracking_tm import random_inputs, small, segments
tm = small(max_segments_per_cell=3, max_synapses_per_segment=6)
anomalies = [tm.compute(c) for c in random_inputs(2000, vocabulary=30, seed=6)]
segs = {{str(s): [v[0], v[1], v[2].tolist()] for s, v in segments(tm).items()}}
print(json.dumps({{"anomalies": anomalies, "segments": segs, "sc": tm.sc.tolist()}}))
"""


def test_the_compiled_kernels_equal_the_same_code_run_as_plain_python():
    script = _PURE_SCRIPT.format(tests=str(Path(__file__).parent))
    env = {**os.environ, "DENDRIX_BTM_PURE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    pure = json.loads(out.stdout)
    tm = small(max_segments_per_cell=3, max_synapses_per_segment=6)
    anomalies = [tm.compute(c) for c in random_inputs(2000, vocabulary=30, seed=6)]
    assert anomalies == pure["anomalies"]
    assert tm.sc.tolist() == pure["sc"]
    segs = segments(tm)
    assert sorted(segs) == sorted(int(s) for s in pure["segments"])
    for s, (cell, pre, perms) in segs.items():
        p_cell, p_pre, p_perms = pure["segments"][str(s)]
        assert (cell, pre) == (p_cell, p_pre)
        assert perms.tolist() == p_perms

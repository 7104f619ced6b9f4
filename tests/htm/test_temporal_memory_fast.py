"""Tests for the compiled temporal memory (dendrix.htm.temporal_memory_fast).

The fast path must be the reference (dendrix.htm.temporal_memory) bit for bit: the same active,
winner and predictive cells and anomaly at every step, and the same connections (every
segment's id and cell, every synapse's presynaptic cell and float64 permanence) and generator
state, compared exactly, after thousands of steps that exercise every rule: bursting, growth
with random draws, segment and synapse limits, punishment, pruning, learn=False and reset().
"""

from __future__ import annotations

import copy
import doctest
import inspect
import math
import pickle

import numpy as np
import pytest
import torch

import dendrix.htm.temporal_memory_fast as fast_module
from dendrix.htm import _tm_kernels
from dendrix.htm.temporal_memory import TemporalMemory, TemporalMemoryConfig
from dendrix.htm.temporal_memory_fast import FastTemporalMemory, make_temporal_memory
from dendrix.sdr import SDR

SMALL = dict(
    columns=256,
    cells_per_column=8,
    activation_threshold=6,
    min_threshold=4,
    max_new_synapse_count=8,
    initial_permanence=0.21,
    connected_permanence=0.5,
    permanence_increment=0.1,
    permanence_decrement=0.1,
    predicted_segment_decrement=0.0,
    max_segments_per_cell=255,
    max_synapses_per_segment=255,
    seed=42,
)

# Physics knobs: punishment on/off, tight limits (pruning of segments and synapses at every
# turn), increments that make the connected test sit on float round-off.
KNOBS = {
    "plain": {},
    "punish": dict(predicted_segment_decrement=0.02),
    "tight-limits": dict(max_segments_per_cell=3, max_synapses_per_segment=10),
    "tight-punish": dict(
        max_segments_per_cell=2, max_synapses_per_segment=8, predicted_segment_decrement=0.05
    ),
    "round-off": dict(
        initial_permanence=0.3,
        connected_permanence=0.2,
        permanence_increment=0.1,
        permanence_decrement=0.05,
        min_threshold=6,
        max_new_synapse_count=6,
        max_synapses_per_segment=6,
    ),
}


def _stream(steps: int, columns: int, active: int, seed: int) -> list[np.ndarray]:
    """A repeating random sequence of 30 symbols over 12 SDRs (so contexts repeat and must be
    told apart), with 15% of the steps replaced by random noise SDRs."""
    rng = np.random.default_rng(seed)
    alphabet = [np.sort(rng.choice(columns, active, replace=False)) for _ in range(12)]
    sequence = rng.integers(12, size=30)
    out = []
    for t in range(steps):
        if rng.random() < 0.15:
            out.append(np.sort(rng.choice(columns, active, replace=False)))
        else:
            out.append(alphabet[sequence[t % 30]])
    return out


def _outputs(tm: TemporalMemory | FastTemporalMemory) -> tuple:
    return (
        tm.anomaly,
        tm.active_cells.tolist(),
        tm.winner_cells.tolist(),
        tm.predictive_cells.tolist(),
    )


def _assert_states_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype, key
            assert np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key
            assert type(a[key]) is type(b[key]), key


def _assert_same(ref: TemporalMemory, fast: FastTemporalMemory) -> None:
    _assert_states_equal(ref.state_dict(), fast.state_dict())
    assert ref.active_segments == fast.active_segments
    assert ref.matching_segments == fast.matching_segments


@pytest.fixture
def tiny_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start the fast memory with room for 1 segment and 16 pool entries, so that every
    reallocation path (segments, row width, pool compaction) runs many times."""
    monkeypatch.setattr(fast_module, "_INITIAL_SEGMENTS", 1)
    monkeypatch.setattr(fast_module, "_INITIAL_POOL", 16)


# ------------------------------------------------------------------------------------------
# Equivalence with the reference over long runs
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("knobs", list(KNOBS), ids=list(KNOBS))
def test_long_run_is_bit_identical_to_the_reference(knobs, tiny_storage):
    kwargs = {**SMALL, **KNOBS[knobs]}
    ref, fast = TemporalMemory(**kwargs), FastTemporalMemory(**kwargs)
    stream = _stream(3000, 256, 12, seed=list(KNOBS).index(knobs))
    for t, columns in enumerate(stream):
        learn = not 1500 <= t < 1700  # an inference-only phase
        if t % 700 == 699:
            ref.reset()
            fast.reset()
            assert _outputs(ref) == _outputs(fast)
        ref.compute(columns, learn=learn)
        fast.compute(columns, learn=learn)
        assert _outputs(ref) == _outputs(fast), f"step {t}"
        if t % 1000 == 999:
            _assert_same(ref, fast)
    _assert_same(ref, fast)
    assert ref.connections == fast.connections
    assert fast.rng.bit_generator.state == ref.rng.bit_generator.state
    fresh = np.random.Generator(np.random.PCG64(42)).bit_generator.state
    assert fast.rng.bit_generator.state != fresh  # growth drew random numbers
    if knobs.startswith("tight"):  # the limits destroyed segments on the way
        assert ref.connections.next_segment_id > ref.connections.num_segments()


def test_default_size_run_is_bit_identical_to_the_reference():
    ref, fast = TemporalMemory(), FastTemporalMemory()
    stream = _stream(500, 2048, 40, seed=11)
    for t, columns in enumerate(stream):
        ref.compute(columns)
        fast.compute(columns)
        assert _outputs(ref) == _outputs(fast), f"step {t}"
    _assert_same(ref, fast)
    assert fast.num_segments() > 1024  # the segment arrays grew past their first capacity


def test_learn_false_changes_neither_connections_nor_generator():
    fast = FastTemporalMemory(**SMALL)
    for columns in _stream(300, 256, 12, seed=5):
        fast.compute(columns)
    before = copy.deepcopy(fast.state_dict())
    for columns in _stream(100, 256, 12, seed=6):
        fast.compute(columns, learn=False)
    after = fast.state_dict()
    for key in before:
        if key.startswith("connections."):
            assert np.array_equal(before[key], after[key]), key
    assert before["rng_state"] == after["rng_state"]


# ------------------------------------------------------------------------------------------
# Hand wiring (the reference's unit-test scenarios, on both implementations)
# ------------------------------------------------------------------------------------------


def _wire_both(kwargs: dict, segments: list[tuple[int, dict[int, float]]]):
    ref, fast = TemporalMemory(**kwargs), FastTemporalMemory(**kwargs)
    for cell, synapses in segments:
        a, b = ref.create_segment(cell), fast.create_segment(cell)
        assert a == b
        for j, p in synapses.items():
            ref.create_synapse(a, j, p)
            fast.create_synapse(b, j, p)
    return ref, fast


HAND = dict(SMALL, columns=32, cells_per_column=4, activation_threshold=3, min_threshold=2)
HAND["max_new_synapse_count"] = 3


@pytest.mark.parametrize(
    ("overrides", "segments", "inputs"),
    [
        # best matching ties: lowest cell, then oldest segment
        ({}, [(6, {0: 0.3, 1: 0.3}), (5, {0: 0.3, 1: 0.3}), (5, {0: 0.3, 1: 0.3})], [[0], [1]]),
        # punishment destroys synapses and then the segment
        (
            dict(predicted_segment_decrement=0.02, max_new_synapse_count=4),
            [(5, {0: 0.015, 1: 0.015, 2: 0.015, 3: 0.015}), (6, {0: 0.5, 1: 0.5, 2: 0.5})],
            [[0], [2], [1], [3]],
        ),
        # a full segment drops its weakest synapses, never those from previous winners
        (
            dict(cells_per_column=1, min_threshold=1, max_synapses_per_segment=4),
            [(4, {0: 0.11, 1: 0.05, 31: 0.6})],
            [[1, 2, 3], [4]],
        ),
        # a full cell drops its least useful segment (fsum of p^2; ties: oldest)
        (
            dict(cells_per_column=1, initial_permanence=0.5, max_segments_per_cell=2),
            [(9, {1: 0.5, 2: 0.5}), (9, {3: 0.5, 4: 0.5})],
            [[0, 1, 2], [9], [3, 4, 5], [9], [6, 7, 8], [9]],
        ),
        # connected exactly at the threshold (round-off: 0.3 - 0.1 at P_conn 0.2)
        (
            dict(connected_permanence=0.2, permanence_decrement=0.1),
            [(5, {0: 0.3, 1: 0.3, 2: 0.3, 81: 0.3}), (6, {0: 0.3, 1: 0.3, 2: 0.3})],
            [[0], [1], [20], [0], [1]],
        ),
        # a hand-wired segment beyond max_synapses_per_segment, and a zero permanence
        (
            dict(max_synapses_per_segment=4, max_new_synapse_count=2),
            [(5, {j: 0.5 for j in range(0, 28, 4)}), (9, {0: 0.0, 4: 0.6, 8: 0.6})],
            [[0, 1, 2, 3, 4, 5, 6], [1], [2], [0, 1, 2, 3, 4, 5, 6], [1]],
        ),
    ],
    ids=["ties", "punish-prune", "full-segment", "full-cell", "round-off", "oversized"],
)
def test_hand_wired_scenarios_match_the_reference(overrides, segments, inputs):
    ref, fast = _wire_both({**HAND, **overrides}, segments)
    _assert_same(ref, fast)
    assert ref.predictive_cells.tolist() == fast.predictive_cells.tolist()
    for columns in inputs:
        ref.compute(columns)
        fast.compute(columns)
        assert _outputs(ref) == _outputs(fast)
        _assert_same(ref, fast)


def test_a_repeated_synapse_keeps_the_larger_permanence():
    fast = FastTemporalMemory(**HAND)
    segment = fast.create_segment(9)
    fast.create_synapse(segment, 7, 0.3)
    fast.create_synapse(segment, 7, 0.2)
    assert fast.connections.synapses_for_segment(segment) == {7: 0.3}
    fast.create_synapse(segment, 7, 0.6)
    assert fast.connections.synapses_for_segment(segment) == {7: 0.6}
    fast.compute([1])
    assert fast.predictive_cells.tolist() == []  # one synapse: not enough for a segment


@pytest.mark.parametrize("values", [[0.1, 0.2, 0.3], [1e-16, 1.0, 1e16], [0.5] * 7, []])
def test_fsum_squares_is_math_fsum(values):
    rng = np.random.default_rng(0)
    cases = [np.array(values, dtype=np.float64)]
    cases += [rng.random(n) for n in (1, 2, 20, 255)]
    cases += [np.round(rng.random(40), 2), rng.random(30) * 10.0 ** rng.integers(-8, 8, 30)]
    for perm in cases:
        partials = np.zeros(perm.size + 1)
        got = _tm_kernels.fsum_squares(perm, perm.size, partials)
        assert got == math.fsum(p * p for p in perm.tolist())


# ------------------------------------------------------------------------------------------
# State: round trips between the implementations
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["reference->fast", "fast->reference", "fast->fast"])
def test_state_dict_moves_between_implementations_and_continues_identically(direction):
    kwargs = {**SMALL, **KNOBS["tight-punish"]}
    stream = _stream(900, 256, 12, seed=21)
    source_cls, target_cls = {
        "reference->fast": (TemporalMemory, FastTemporalMemory),
        "fast->reference": (FastTemporalMemory, TemporalMemory),
        "fast->fast": (FastTemporalMemory, FastTemporalMemory),
    }[direction]
    source = source_cls(**kwargs)
    for columns in stream[:600]:
        source.compute(columns)
    state = copy.deepcopy(source.state_dict())
    target = target_cls.from_config(source.config)
    target.load_state_dict(state)
    _assert_states_equal(target.state_dict(), source.state_dict())
    assert target.predictive_cells.tolist() == source.predictive_cells.tolist()
    for columns in stream[600:]:
        source.compute(columns)
        target.compute(columns)
        assert _outputs(source) == _outputs(target)
    _assert_states_equal(target.state_dict(), source.state_dict())


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_own_their_generator_and_continue_identically(how):
    stream = _stream(400, 256, 12, seed=8)
    original = FastTemporalMemory(**SMALL)
    for columns in stream[:200]:
        original.compute(columns)
    twin = copy.deepcopy(original) if how == "deepcopy" else pickle.loads(pickle.dumps(original))
    assert twin.rng is not original.rng
    rng_at_copy = copy.deepcopy(original.rng.bit_generator.state)
    for columns in stream[200:]:
        twin.compute(columns)
    assert original.rng.bit_generator.state == rng_at_copy  # the twin drew from its own
    for columns in stream[200:]:
        original.compute(columns)
    _assert_states_equal(twin.state_dict(), original.state_dict())


def test_load_state_dict_refuses_another_configuration_and_corrupt_states():
    fast = FastTemporalMemory(**SMALL)
    for columns in _stream(50, 256, 12, seed=1):
        fast.compute(columns)
    state = fast.state_dict()
    with pytest.raises(ValueError, match="cells_per_column"):
        FastTemporalMemory(**{**SMALL, "cells_per_column": 4}).load_state_dict(state)
    with pytest.raises(TypeError, match="state_dict"):
        fast.load_state_dict([1, 2])
    bad = dict(state, **{"connections.segment_cells": state["connections.segment_cells"] + 10**6})
    with pytest.raises(ValueError, match="segment_cells"):
        fast.load_state_dict(bad)
    bad = dict(state, **{"connections.next_segment_id": 0})
    with pytest.raises(ValueError, match="next_segment_id"):
        fast.load_state_dict(bad)
    bad = dict(
        state, **{"connections.synapse_segments": state["connections.synapse_segments"] + 10**6}
    )
    with pytest.raises(KeyError, match="segment"):
        fast.load_state_dict(bad)
    _assert_states_equal(fast.state_dict(), state)  # nothing changed on refusal


def test_connections_view_is_a_reference_connections_copy():
    ref, fast = TemporalMemory(**SMALL), FastTemporalMemory(**SMALL)
    for columns in _stream(200, 256, 12, seed=2):
        ref.compute(columns)
        fast.compute(columns)
    assert fast.connections == ref.connections
    assert fast.num_segments() == ref.connections.num_segments()
    assert fast.num_synapses() == ref.connections.num_synapses()
    assert repr(fast).startswith("FastTemporalMemory(columns=256")


# ------------------------------------------------------------------------------------------
# Acceptance: a repeating A B C D with the default parameters
# ------------------------------------------------------------------------------------------


def test_acceptance_repeating_abcd_is_predicted_from_the_5th_repetition():
    rng = np.random.default_rng(2016)
    sequence = [np.sort(rng.choice(2048, 40, replace=False)) for _ in range(4)]
    tm = FastTemporalMemory()
    curve = []
    for _ in range(10):
        anomalies = []
        for columns in sequence:
            tm.compute(columns, learn=True)
            anomalies.append(tm.anomaly)
        curve.append(anomalies)
    assert curve[:4] == [[1.0, 1.0, 1.0, 1.0]] * 4
    assert curve[4] == [1.0, 0.0, 0.0, 0.0]
    assert curve[5:] == [[0.0, 0.0, 0.0, 0.0]] * 5
    for i in range(8):
        predicted = tm.predictive_cells.tolist()
        tm.compute(sequence[i % 4])
        assert tm.active_cells.tolist() == predicted
        assert len(predicted) == 40


def test_module_example_runs():
    result = doctest.testmod(fast_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------------------------
# Inputs, errors, dispatch
# ------------------------------------------------------------------------------------------


def test_every_input_form_gives_the_same_step():
    forms = [
        [1, 5, 9],
        np.array([1, 5, 9]),
        np.array([1, 5, 9], dtype=np.uint16),
        np.array([0, 1, 5, 9])[1:],
        torch.tensor([1, 5, 9]),
        SDR.from_indices([1, 5, 9], size=32),
    ]
    results = []
    for form in forms:
        tm = FastTemporalMemory(**HAND)
        tm.compute([0, 2, 4])
        tm.compute(form)
        results.append(_outputs(tm))
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize(
    "columns",
    [
        [5, 3],
        [3, 3],
        [32],
        [-1],
        [1.5],
        [True],
        np.array([[1, 2]]),
        np.array([1.0]),
        np.array([3, 1]),
        np.array([-1, 2]),
        np.array([40], dtype=np.uint64),
        np.array([2**63], dtype=np.uint64),
        torch.tensor([1.0]),
        SDR.from_indices([1], size=10),
        "abc",
        None,
    ],
)
def test_bad_active_columns_raise_the_reference_error(columns):
    with pytest.raises((TypeError, ValueError)) as expected:
        TemporalMemory(**HAND).compute(columns)
    with pytest.raises(expected.type) as got:
        FastTemporalMemory(**HAND).compute(columns)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"columns": 0},
        {"min_threshold": 14},
        {"max_new_synapse_count": 300},
        {"permanence_increment": float("nan")},
        {"seed": True},
    ],
)
def test_bad_constructor_arguments_raise_the_reference_error(kwargs):
    with pytest.raises((TypeError, ValueError)) as expected:
        TemporalMemory(**kwargs)
    with pytest.raises(expected.type) as got:
        FastTemporalMemory(**kwargs)
    assert str(got.value) == str(expected.value)


def test_learn_must_be_a_bool_and_hand_wiring_is_checked():
    tm = FastTemporalMemory(**HAND)
    with pytest.raises(TypeError, match="learn"):
        tm.compute([1], learn="yes")
    with pytest.raises(ValueError, match="cell"):
        tm.create_segment(10**6)
    with pytest.raises(KeyError, match="does not exist"):
        tm.create_synapse(7, 1, 0.5)
    segment = tm.create_segment(3)
    with pytest.raises(ValueError, match="permanence"):
        tm.create_synapse(segment, 1, 1.5)
    with pytest.raises(ValueError, match="presynaptic_cell"):
        tm.create_synapse(segment, -1, 0.5)
    with pytest.raises(TypeError, match="rng"):
        tm.rng = 3


def test_public_api_and_constructor_are_the_references():
    assert inspect.signature(FastTemporalMemory.__init__) == inspect.signature(
        TemporalMemory.__init__
    )
    ref, fast = TemporalMemory(**HAND), FastTemporalMemory(**HAND)
    public = {name for name in dir(ref) if not name.startswith("_")}
    assert public <= {name for name in dir(fast) if not name.startswith("_")}
    assert FastTemporalMemory.from_config(ref.config).config == ref.config
    assert (fast.columns, fast.cells_per_column, fast.num_cells) == (32, 4, 128)
    assert fast.column_for_cell(127) == ref.column_for_cell(127) == 31


def test_make_temporal_memory_picks_the_implementation():
    assert isinstance(make_temporal_memory(columns=16), FastTemporalMemory)
    ref = make_temporal_memory("reference", columns=16, cells_per_column=2)
    assert type(ref) is TemporalMemory
    assert ref.config == TemporalMemoryConfig(columns=16, cells_per_column=2)
    with pytest.raises(ValueError, match="implementation"):
        make_temporal_memory("cpp")


def test_missing_numba_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(fast_module, "_k", None)
    monkeypatch.setattr(fast_module, "_KERNEL_IMPORT_ERROR", ImportError("No module 'numba'"))
    with pytest.raises(ImportError, match="pip install 'numba"):
        FastTemporalMemory(columns=16)

"""Behavioural tests for the HTM temporal memory reference (dendrix.htm.temporal_memory).

One rule per test, on hand-wired tiny memories with hand-derived expectations (after htm.core's
``TemporalMemoryTest.cpp``). Unless a test says otherwise the memory has 32 columns of 4 cells,
so column ``c`` holds cells ``4c .. 4c+3``; a column that bursts at the first step (no previous
winners) picks its lowest cell as winner.
"""

from __future__ import annotations

import copy
import dataclasses
import doctest
import inspect

import numpy as np
import pytest
import torch

import dendrix.htm.temporal_memory as tm_module
from dendrix.htm.temporal_memory import TemporalMemory, TemporalMemoryConfig
from dendrix.sdr import SDR

SMALL = dict(
    columns=32,
    cells_per_column=4,
    activation_threshold=3,
    initial_permanence=0.21,
    connected_permanence=0.5,
    min_threshold=2,
    max_new_synapse_count=3,
    permanence_increment=0.1,
    permanence_decrement=0.1,
    predicted_segment_decrement=0.0,
    seed=42,
)


def _tm(**overrides) -> TemporalMemory:
    return TemporalMemory(**{**SMALL, **overrides})


def _wire(tm: TemporalMemory, cell: int, synapses: dict[int, float]) -> int:
    """A segment on ``cell`` with the given presynaptic cell -> permanence."""
    segment = tm.create_segment(cell)
    for j, p in synapses.items():
        tm.create_synapse(segment, j, p)
    return segment


def _synapses(tm: TemporalMemory, segment: int) -> dict[int, float]:
    return tm.connections.synapses_for_segment(segment)


def _assert_states_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype, key
            assert np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def _random_stream(steps: int, seed: int = 7) -> list[list[int]]:
    """Inputs for long runs: 16 random SDRs of 12/256 columns shown in random order."""
    rng = np.random.default_rng(seed)
    alphabet = [np.sort(rng.choice(256, 12, replace=False)).tolist() for _ in range(16)]
    return [alphabet[i] for i in rng.integers(16, size=steps)]


LONG = dict(
    columns=256,
    cells_per_column=8,
    activation_threshold=6,
    min_threshold=4,
    max_new_synapse_count=8,
    predicted_segment_decrement=0.01,
    max_segments_per_cell=4,
    max_synapses_per_segment=12,
)


# ------------------------------------------------------------------------------------------
# Activation
# ------------------------------------------------------------------------------------------


def test_predicted_active_column_activates_only_its_predictive_cells():
    tm = _tm()
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5})
    tm.compute([0], learn=True)
    assert tm.predictive_cells.tolist() == [4]
    tm.compute([1], learn=True)
    assert tm.active_cells.tolist() == [4]
    assert tm.anomaly == 0.0


def test_predicted_active_cells_are_all_winners_even_without_learning():
    tm = _tm()
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5})
    _wire(tm, 6, {0: 0.5, 1: 0.5, 2: 0.5})
    tm.compute([0], learn=False)
    tm.compute([1], learn=False)
    assert tm.active_cells.tolist() == [4, 6]
    assert tm.winner_cells.tolist() == [4, 6]


def test_burst_activates_every_cell_of_an_unpredicted_column():
    tm = _tm()
    tm.compute([0, 5], learn=True)
    assert tm.active_cells.tolist() == [0, 1, 2, 3, 20, 21, 22, 23]
    assert tm.winner_cells.tolist() == [0, 20]
    assert tm.anomaly == 1.0


def test_anomaly_is_the_fraction_of_active_columns_without_a_predictive_cell():
    tm = _tm()
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5})  # predicts column 1 after column 0
    tm.compute([0])
    tm.compute([1, 2, 3, 7])
    assert tm.anomaly == 3 / 4
    tm.compute([])
    assert tm.anomaly == 0.0


def test_zero_active_columns_give_no_active_winner_or_predictive_cells():
    tm = _tm(predicted_segment_decrement=0.02)
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5})
    tm.compute([0])
    assert tm.predictive_cells.tolist() == [4]
    tm.compute([])
    assert tm.active_cells.size == tm.winner_cells.size == tm.predictive_cells.size == 0


def test_burst_winner_is_the_cell_of_the_best_matching_segment():
    tm = _tm()
    _wire(tm, 5, {0: 0.3, 1: 0.3})  # 2 active potential synapses
    _wire(tm, 6, {0: 0.3, 1: 0.3, 2: 0.3})  # 3: the best match
    tm.compute([0])
    tm.compute([1])
    assert tm.active_cells.tolist() == [4, 5, 6, 7]
    assert tm.winner_cells.tolist() == [6]


def test_burst_best_matching_ties_go_to_the_lowest_cell_then_the_oldest_segment():
    tm = _tm()
    on_6 = _wire(tm, 6, {0: 0.3, 1: 0.3})
    older_on_5 = _wire(tm, 5, {0: 0.3, 1: 0.3})
    newer_on_5 = _wire(tm, 5, {0: 0.3, 1: 0.3})
    tm.compute([0])
    tm.compute([1])
    assert tm.winner_cells.tolist() == [5]
    assert _synapses(tm, older_on_5) == {0: 0.3 + 0.1, 1: 0.3 + 0.1}  # the one that learned
    assert _synapses(tm, newer_on_5) == {0: 0.3, 1: 0.3}
    assert _synapses(tm, on_6) == {0: 0.3, 1: 0.3}


def test_burst_without_matching_segment_picks_the_least_used_cell():
    tm = _tm(initial_permanence=0.2, max_new_synapse_count=4, seed=1)
    # Cells 0 and 3 already own a segment each (1 active synapse: not matching, min_threshold=2).
    _wire(tm, 0, {4: 0.5})
    _wire(tm, 3, {5: 0.5})
    tm.compute([1, 2, 3, 4])  # first step: winners are the lowest cells 4, 8, 12, 16
    tm.compute([0])
    assert tm.active_cells.tolist() == [0, 1, 2, 3]
    assert tm.winner_cells.tolist() == [1]  # cells 1 and 2 tie with 0 segments: lowest wins
    (segment,) = tm.connections.segments_for_cell(1)
    assert _synapses(tm, segment) == {4: 0.2, 8: 0.2, 12: 0.2, 16: 0.2}
    assert tm.connections.num_segments(2) == 0


# ------------------------------------------------------------------------------------------
# Learning: reinforcement, growth, segment creation, punishment
# ------------------------------------------------------------------------------------------


def test_active_segment_reinforcement_adds_increment_and_subtracts_decrement():
    tm = _tm(initial_permanence=0.2, permanence_decrement=0.08, max_new_synapse_count=4)
    segment = _wire(tm, 5, {0: 0.5, 1: 0.5, 2: 0.5, 81: 0.5})
    tm.compute([0])
    tm.compute([1])
    assert _synapses(tm, segment) == {0: 0.5 + 0.1, 1: 0.5 + 0.1, 2: 0.5 + 0.1, 81: 0.5 - 0.08}


def test_one_reinforcement_takes_a_new_synapse_from_initial_to_initial_plus_increment():
    tm = _tm()
    tm.compute([0, 1, 2])  # winners 0, 4, 8
    tm.compute([3])  # bursts: a new segment on cell 12 with synapses at 0.21
    (segment,) = tm.connections.segments_for_cell(12)
    assert _synapses(tm, segment) == {0: 0.21, 4: 0.21, 8: 0.21}
    tm.reset()
    tm.compute([0, 1, 2])
    tm.compute([3])  # the segment matches (3 >= min_threshold) but is not active: it learns
    assert tm.winner_cells.tolist() == [12]
    assert _synapses(tm, segment) == {0: 0.21 + 0.1, 4: 0.21 + 0.1, 8: 0.21 + 0.1}
    assert _synapses(tm, segment)[0] == 0.31


def test_best_matching_segment_of_a_burst_learns_and_other_matching_segments_do_not():
    tm = _tm(permanence_decrement=0.08)
    selected = _wire(tm, 4, {0: 0.3, 1: 0.3, 2: 0.3, 81: 0.3})
    other = _wire(tm, 5, {0: 0.3, 1: 0.3, 81: 0.3})
    tm.compute([0])
    tm.compute([1])
    assert _synapses(tm, selected) == {0: 0.3 + 0.1, 1: 0.3 + 0.1, 2: 0.3 + 0.1, 81: 0.3 - 0.08}
    assert _synapses(tm, other) == {0: 0.3, 1: 0.3, 81: 0.3}


def test_predicted_column_learns_only_on_its_active_segments():
    tm = _tm()
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5})
    same_cell = _wire(tm, 4, {0: 0.3, 1: 0.3})
    other_cell = _wire(tm, 5, {0: 0.3, 1: 0.3})
    tm.compute([0])
    tm.compute([1])
    assert _synapses(tm, same_cell) == {0: 0.3, 1: 0.3}
    assert _synapses(tm, other_cell) == {0: 0.3, 1: 0.3}


def test_growth_adds_max_new_minus_active_potential_synapses_to_previous_winners():
    # 1 cell per column: the previous winners are exactly cells 0..4.
    tm = _tm(cells_per_column=1, activation_threshold=2, min_threshold=1, max_new_synapse_count=4)
    segment = _wire(tm, 5, {0: 0.5, 1: 0.5, 2: 0.2})  # active (2 connected), 3 active potential
    tm.compute([0, 1, 2, 3, 4])
    tm.compute([5])
    synapses = _synapses(tm, segment)
    assert len(synapses) == 4  # 3 + (4 - 3)
    assert {j: synapses[j] for j in (0, 1, 2)} == {0: 0.5 + 0.1, 1: 0.5 + 0.1, 2: 0.2 + 0.1}
    # The one new synapse: one Fisher-Yates draw on the sorted candidates [3, 4] (m = 2, k = 1):
    # index floor(u * 2) with u the first double of the memory's generator.
    u = np.random.Generator(np.random.PCG64(42)).random()
    (new,) = set(synapses) - {0, 1, 2}
    assert new == [3, 4][int(u * 2)]
    assert synapses[new] == 0.21


def test_sample_without_replacement_is_the_documented_partial_fisher_yates():
    rng = np.random.Generator(np.random.PCG64(5))
    twin = np.random.Generator(np.random.PCG64(5))
    u = twin.random(3)
    items = [10, 11, 12, 13, 14]
    expected = list(items)
    for i in range(3):
        r = i + int(u[i] * (5 - i))
        expected[i], expected[r] = expected[r], expected[i]
    assert tm_module.sample_without_replacement(items, 3, rng) == expected[:3]
    assert items == [10, 11, 12, 13, 14]  # the population is not modified
    assert rng.bit_generator.state == twin.bit_generator.state  # exactly k doubles were drawn
    draws = [tuple(tm_module.sample_without_replacement(range(6), 6, rng)) for _ in range(200)]
    assert all(sorted(d) == list(range(6)) for d in draws)
    with pytest.raises(ValueError, match="k must be"):
        tm_module.sample_without_replacement([1, 2], 3, rng)


def test_growth_never_duplicates_a_presynaptic_cell_already_on_the_segment():
    tm = _tm(cells_per_column=1, min_threshold=1, max_new_synapse_count=4)
    segment = _wire(tm, 4, {0: 0.3, 1: 0.3})
    tm.compute([0, 1, 2, 3])
    tm.compute([4])
    # 4 - 2 = 2 new synapses; the only candidates not yet on the segment are 2 and 3.
    assert _synapses(tm, segment) == {0: 0.3 + 0.1, 1: 0.3 + 0.1, 2: 0.21, 3: 0.21}


def test_creating_a_repeated_synapse_keeps_the_larger_permanence():
    tm = _tm()
    segment = tm.create_segment(9)
    tm.create_synapse(segment, 7, 0.3)
    tm.create_synapse(segment, 7, 0.2)
    assert _synapses(tm, segment) == {7: 0.3}
    tm.create_synapse(segment, 7, 0.6)
    assert _synapses(tm, segment) == {7: 0.6}


@pytest.mark.parametrize(("max_new", "expected_count"), [(2, 2), (4, 3)])
def test_new_segment_gets_min_of_max_new_and_previous_winner_count(max_new, expected_count):
    tm = _tm(max_new_synapse_count=max_new)
    tm.compute([0, 1, 2])  # 3 winners: 0, 4, 8
    tm.compute([4])
    assert tm.winner_cells.tolist() == [16]
    (segment,) = tm.connections.segments_for_cell(16)
    synapses = _synapses(tm, segment)
    assert len(synapses) == expected_count
    assert set(synapses) <= {0, 4, 8}
    assert set(synapses.values()) == {0.21}


def test_no_segment_is_created_without_previous_winners():
    tm = _tm(max_new_synapse_count=2)
    tm.compute([])
    tm.compute([1])
    assert tm.connections.num_segments() == 0
    tm.reset()
    tm.compute([2])
    assert tm.connections.num_segments() == 0


@pytest.mark.parametrize("decrement", [0.0, 0.02])
def test_predicted_inactive_columns_are_punished_only_with_a_predicted_segment_decrement(
    decrement,
):
    tm = _tm(initial_permanence=0.2, max_new_synapse_count=4, predicted_segment_decrement=decrement)
    active = _wire(tm, 42, {0: 0.5, 1: 0.5, 2: 0.5, 81: 0.5})  # column 10
    matching = _wire(tm, 43, {0: 0.5, 1: 0.5, 81: 0.5})  # column 10
    tm.compute([0])
    assert tm.predictive_cells.tolist() == [42]
    tm.compute([1])  # column 10 stays inactive
    p = 0.5 - decrement
    assert _synapses(tm, active) == {0: p, 1: p, 2: p, 81: 0.5}
    assert _synapses(tm, matching) == {0: p, 1: p, 81: 0.5}


def test_punished_synapse_falling_to_zero_is_destroyed():
    tm = _tm(initial_permanence=0.2, max_new_synapse_count=4, predicted_segment_decrement=0.02)
    segment = _wire(tm, 5, {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.015})
    tm.compute([0])
    tm.compute([2])  # column 1 predicted but inactive: 0.015 - 0.02 < 0
    assert _synapses(tm, segment) == {0: 0.48, 1: 0.48, 2: 0.48}


def test_decremented_inactive_synapse_falling_to_zero_is_destroyed():
    tm = _tm(initial_permanence=0.2, max_new_synapse_count=4)
    segment = _wire(tm, 5, {0: 0.5, 1: 0.5, 2: 0.5, 81: 0.09})
    tm.compute([0])
    tm.compute([1])  # reinforced: 81 is inactive, 0.09 - 0.1 < 0
    assert set(_synapses(tm, segment)) == {0, 1, 2}


def test_segment_left_with_fewer_than_min_threshold_synapses_is_destroyed():
    tm = _tm(initial_permanence=0.2, max_new_synapse_count=4, predicted_segment_decrement=0.02)
    _wire(tm, 5, {0: 0.015, 1: 0.015, 2: 0.015, 3: 0.015})
    tm.compute([0])
    tm.compute([2])
    assert tm.connections.num_segments(5) == 0
    assert [cell for _, cell in tm.connections.segments()] == [8]  # bursting column 2's new one


# ------------------------------------------------------------------------------------------
# Limits
# ------------------------------------------------------------------------------------------


def test_full_cell_drops_its_least_useful_segment():
    tm = _tm(max_segments_per_cell=2)
    strong = _wire(tm, 12, {1: 0.5, 2: 0.5, 3: 0.5})  # sum p^2 = 0.75
    weak = _wire(tm, 12, {1: 0.5})  # 0.25
    newest = tm.create_segment(12)
    assert tm.connections.segments_for_cell(12) == [strong, newest]
    assert not tm.connections.segment_exists(weak)
    assert _synapses(tm, strong) == {1: 0.5, 2: 0.5, 3: 0.5}


def test_full_cell_least_useful_ties_drop_the_oldest_segment():
    tm = _tm(
        cells_per_column=1,
        initial_permanence=0.5,
        max_new_synapse_count=3,
        permanence_increment=0.02,
        permanence_decrement=0.02,
        max_segments_per_cell=2,
    )
    for context in ([0, 1, 2], [3, 4, 5], [6, 7, 8]):
        tm.reset()
        tm.compute(context)
        tm.compute([9])  # no segment of cell 9 matches: a new one (sum p^2 = 0.75 each)
    segments = tm.connections.segments_for_cell(9)
    assert [set(_synapses(tm, s)) for s in segments] == [{3, 4, 5}, {6, 7, 8}]


def test_full_segment_drops_its_weakest_synapses_but_never_those_from_previous_winners():
    tm = _tm(
        cells_per_column=1,
        min_threshold=1,
        max_new_synapse_count=3,
        permanence_increment=0.02,
        permanence_decrement=0.02,
        max_synapses_per_segment=4,
    )
    # Cell 1 is a previous winner with the weakest synapse; cell 0 is the weakest non-winner.
    segment = _wire(tm, 4, {0: 0.11, 1: 0.05, 31: 0.6})
    tm.compute([1, 2, 3])
    tm.compute([4])  # grows 3 - 1 = 2 synapses (to 2 and 3): one must go to stay at 4
    synapses = _synapses(tm, segment)
    assert set(synapses) == {1, 2, 3, 31}
    assert synapses == {1: 0.05 + 0.02, 2: 0.21, 3: 0.21, 31: 0.6 - 0.02}


def test_segment_and_synapse_limits_hold_over_a_long_run():
    tm = TemporalMemory(**LONG)  # at most 4 segments per cell, 12 synapses per segment
    conn = tm.connections
    for columns in _random_stream(300):
        tm.compute(columns)
        assert all(conn.num_synapses(s) <= 12 for s, _ in conn.segments())
    assert all(conn.num_segments(c) <= 4 for c in range(tm.num_cells))
    assert conn.next_segment_id > conn.num_segments()  # some segments were dropped on the way


# ------------------------------------------------------------------------------------------
# learn=False, reset, determinism, state
# ------------------------------------------------------------------------------------------


def test_learn_false_changes_nothing_in_the_connections():
    tm = _tm(initial_permanence=0.2, max_new_synapse_count=4, predicted_segment_decrement=0.02)
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5})  # correct prediction
    _wire(tm, 43, {0: 0.5, 1: 0.5, 81: 0.5})  # wrong prediction
    before = copy.deepcopy(tm.connections)
    rng_before = copy.deepcopy(tm.rng.bit_generator.state)
    tm.compute([0], learn=False)
    tm.compute([1, 2], learn=False)  # predicted, bursting, and a predicted inactive column
    assert tm.active_cells.tolist() == [4, 8, 9, 10, 11]
    assert tm.connections == before
    assert tm.rng.bit_generator.state == rng_before


def test_reset_clears_the_context_so_the_next_input_bursts():
    tm = _tm()
    _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5})
    tm.compute([0])
    assert tm.predictive_cells.tolist() == [4]
    tm.reset()
    assert tm.active_cells.size == tm.winner_cells.size == tm.predictive_cells.size == 0
    tm.compute([1])
    assert tm.active_cells.tolist() == [4, 5, 6, 7]
    assert tm.anomaly == 1.0


def _run(tm: TemporalMemory, stream: list[list[int]]) -> list[tuple]:
    out = []
    for columns in stream:
        tm.compute(columns)
        out.append(
            (
                tm.anomaly,
                tm.active_cells.tolist(),
                tm.winner_cells.tolist(),
                tm.predictive_cells.tolist(),
            )
        )
    return out


def test_same_seed_gives_identical_state_and_different_seeds_differ():
    stream = _random_stream(500)
    a, b, c = TemporalMemory(**LONG), TemporalMemory(**LONG), TemporalMemory(**LONG, seed=43)
    assert _run(a, stream) == _run(b, stream)
    _assert_states_equal(a.state_dict(), b.state_dict())
    assert a.connections == b.connections
    _run(c, stream)
    assert a.connections.snapshot() != c.connections.snapshot()
    fresh = np.random.Generator(np.random.PCG64(42)).bit_generator.state
    assert a.rng.bit_generator.state != fresh  # the run did draw random numbers


def test_state_dict_round_trip_into_a_fresh_memory_continues_identically():
    stream = _random_stream(500, seed=3)
    original = TemporalMemory(**LONG)
    _run(original, stream[:300])
    state = copy.deepcopy(original.state_dict())
    restored = TemporalMemory.from_config(original.config)
    restored.load_state_dict(state)
    assert restored is not original
    assert restored.connections == original.connections
    assert restored.predictive_cells.tolist() == original.predictive_cells.tolist()
    rng_at_save = copy.deepcopy(original.rng.bit_generator.state)
    assert _run(restored, stream[300:]) == _run(original, stream[300:])
    _assert_states_equal(restored.state_dict(), original.state_dict())
    assert original.rng.bit_generator.state != rng_at_save  # the continuation drew numbers


def test_load_state_dict_refuses_another_configuration():
    state = _tm().state_dict()
    with pytest.raises(ValueError, match="cells_per_column"):
        _tm(cells_per_column=8).load_state_dict(state)


def test_config_fields_are_the_constructor_arguments_and_from_config_round_trips():
    params = list(inspect.signature(TemporalMemory.__init__).parameters)[1:]
    assert [f.name for f in dataclasses.fields(TemporalMemoryConfig)] == params
    config = TemporalMemoryConfig(**SMALL)
    assert TemporalMemory.from_config(config).config == config
    assert TemporalMemory().config == TemporalMemoryConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.columns = 4  # type: ignore[misc]


def test_every_input_form_gives_the_same_step():
    forms = [
        [1, 5, 9],
        np.array([1, 5, 9]),
        torch.tensor([1, 5, 9]),
        SDR.from_indices([1, 5, 9], size=32),
    ]
    results = []
    for form in forms:
        tm = _tm()
        _wire(tm, 4, {0: 0.5, 1: 0.5, 2: 0.5})
        tm.compute([0])
        tm.compute(form)
        results.append((tm.anomaly, tm.active_cells.tolist(), tm.connections.snapshot()))
    assert all(r == results[0] for r in results)


def test_module_example_runs():
    result = doctest.testmod(tm_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------------------------
# Acceptance: a repeating A B C D with the default parameters
# ------------------------------------------------------------------------------------------


def test_acceptance_repeating_abcd_is_predicted_from_the_5th_repetition():
    rng = np.random.default_rng(2016)
    sequence = [np.sort(rng.choice(2048, 40, replace=False)) for _ in range(4)]
    tm = TemporalMemory()  # 2048 columns x 32 cells, default parameters, no resets
    curve = []
    for _ in range(10):
        anomalies = []
        for columns in sequence:
            tm.compute(columns, learn=True)
            anomalies.append(tm.anomaly)
        curve.append(anomalies)
    # New synapses start at 0.21 and connect (>= 0.5) after 3 reinforcements: B, C and D are
    # predicted from repetition 5; A (whose context D first appears at the end of repetition 1)
    # one repetition later.
    assert curve[:4] == [[1.0, 1.0, 1.0, 1.0]] * 4
    assert curve[4] == [1.0, 0.0, 0.0, 0.0]
    assert curve[5:] == [[0.0, 0.0, 0.0, 0.0]] * 5
    # From then on each element is predicted exactly: the prediction is the next active set.
    for i in range(8):
        predicted = tm.predictive_cells.tolist()
        tm.compute(sequence[i % 4])
        assert tm.active_cells.tolist() == predicted
        assert len(predicted) == 40  # one cell per column


# ------------------------------------------------------------------------------------------
# Bad arguments
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"columns": 0}, ValueError, "columns"),
        ({"columns": 2.5}, TypeError, "columns"),
        ({"cells_per_column": 0}, ValueError, "cells_per_column"),
        ({"activation_threshold": 0}, ValueError, "activation_threshold"),
        ({"min_threshold": 0}, ValueError, "min_threshold"),
        ({"min_threshold": 14}, ValueError, "min_threshold"),
        ({"max_new_synapse_count": 0}, ValueError, "max_new_synapse_count"),
        ({"max_new_synapse_count": 300}, ValueError, "max_new_synapse_count"),
        ({"max_segments_per_cell": 0}, ValueError, "max_segments_per_cell"),
        ({"max_synapses_per_segment": 0}, ValueError, "max_synapses_per_segment"),
        ({"initial_permanence": 1.5}, ValueError, "initial_permanence"),
        ({"connected_permanence": -0.1}, ValueError, "connected_permanence"),
        ({"permanence_increment": float("nan")}, ValueError, "permanence_increment"),
        ({"permanence_decrement": 2.0}, ValueError, "permanence_decrement"),
        ({"predicted_segment_decrement": -0.01}, ValueError, "predicted_segment_decrement"),
        ({"initial_permanence": "0.2"}, TypeError, "initial_permanence"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": True}, TypeError, "seed"),
    ],
)
def test_bad_constructor_argument_is_named(kwargs, error, name):
    with pytest.raises(error, match=name):
        TemporalMemory(**kwargs)
    with pytest.raises(error, match=name):
        TemporalMemoryConfig(**kwargs)


@pytest.mark.parametrize(
    ("columns", "error", "message"),
    [
        ([5, 3], ValueError, "sorted and unique"),
        ([3, 3], ValueError, "sorted and unique"),
        ([32], ValueError, "outside"),
        ([-1], ValueError, "outside"),
        ([1.5], TypeError, "integers"),
        ([True], TypeError, "integers"),
        (np.array([[1, 2]]), TypeError, "1-D integer"),
        (np.array([1.0]), TypeError, "1-D integer"),
        (torch.tensor([1.0]), TypeError, "integer dtype"),
        (SDR.from_indices([1], size=10), ValueError, "size columns=32"),
        ("abc", TypeError, "column indices"),
        (None, TypeError, "column indices"),
    ],
)
def test_bad_active_columns_are_named(columns, error, message):
    tm = _tm()
    with pytest.raises(error, match=message) as info:
        tm.compute(columns)
    assert "active_columns" in str(info.value)


def test_learn_must_be_a_bool():
    with pytest.raises(TypeError, match="learn"):
        _tm().compute([1], learn="yes")

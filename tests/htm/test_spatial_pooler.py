"""Behavioural tests for the HTM spatial pooler (dendrix.htm.spatial_pooler).

Most tests hand-build a tiny pooler (a few columns over a few inputs) through ``load_state_dict``
and check one rule against an expectation derived by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import doctest
import inspect
import math

import numpy as np
import pytest
import torch

import dendrix.htm.spatial_pooler as sp_module
from dendrix.htm.spatial_pooler import (
    SpatialPooler,
    SpatialPoolerConfig,
    boost_factors,
    inhibit_global,
    raise_permanences_to_threshold,
    update_duty_cycle,
)
from dendrix.sdr import SDR

F32 = np.float32


def _tiny(columns: int, input_size: int, k: int, **kwargs) -> SpatialPooler:
    """A tiny pooler whose pools are full; weak-column bumps off unless asked for."""
    kwargs.setdefault("potential_pct", 1.0)
    kwargs.setdefault("min_pct_overlap_duty_cycles", 0.0)
    return SpatialPooler(input_size, columns, num_active_columns=k, **kwargs)


def _set(sp: SpatialPooler, **entries) -> SpatialPooler:
    """Overwrite entries of the pooler's state (hand-built permanences, pools, boosts...)."""
    state = sp.state_dict()
    for key, value in entries.items():
        state[key] = np.asarray(value, dtype=state[key].dtype)
    if "potential_pools" in entries and "permanences" not in entries:
        state["permanences"] = state["permanences"] * state["potential_pools"]
    sp.load_state_dict(state)
    return sp


def _assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key], key


def _random_inputs(count: int, size: int, active: int, seed: int) -> list[np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(seed))
    return [np.sort(rng.choice(size, active, replace=False)) for _ in range(count)]


# Column i is connected (p = 0.5) to the inputs listed, unconnected (p = 0.05) elsewhere.
def _perm_from_connections(connections: list[list[int]], input_size: int) -> np.ndarray:
    perm = np.full((len(connections), input_size), 0.05, dtype=F32)
    for i, inputs in enumerate(connections):
        perm[i, inputs] = 0.5
    return perm


# ------------------------------------------------------------------------------------------
# Overlap and inhibition
# ------------------------------------------------------------------------------------------


def test_overlap_counts_connected_synapses_on_active_inputs():
    sp = _tiny(3, 6, 1)
    _set(sp, permanences=_perm_from_connections([[0, 1, 2], [2, 3], [5]], 6))
    # input {1, 2, 3}: column 0 sees 1, 2; column 1 sees 2, 3; column 2 sees nothing
    assert sp.overlaps([1, 2, 3]).tolist() == [2, 2, 0]


def test_inhibition_keeps_exactly_the_top_k_columns_by_overlap():
    sp = _tiny(5, 6, 2)
    perm = _perm_from_connections([[0], [0, 1, 2, 3], [0, 1], [0, 1, 2], []], 6)
    _set(sp, permanences=perm)
    # input {0, 1, 2, 3}: overlaps [1, 4, 2, 3, 0] -> the two largest are columns 1 and 3
    assert sp.overlaps([0, 1, 2, 3]).tolist() == [1, 4, 2, 3, 0]
    assert sp.compute([0, 1, 2, 3], learn=False).tolist() == [1, 3]


def test_inhibition_ties_go_to_the_higher_column_index():
    # overlaps [2, 2, 2, 1], k = 2: three columns tie at 2; htm.core keeps the higher indices
    assert inhibit_global(np.array([2, 2, 2, 1]), 2).tolist() == [1, 2]
    # the k-th score is shared by columns 0 and 3; one of them fits -> column 3
    assert inhibit_global(np.array([1.5, 3.0, 0.5, 1.5]), 2).tolist() == [1, 3]


def test_inhibition_ranks_by_boosted_overlap():
    sp = _tiny(3, 6, 1, boost_strength=1.0)
    _set(
        sp,
        permanences=_perm_from_connections([[0, 1, 2], [0, 1], [0]], 6),
        boost_factors=[0.5, 1.0, 1.0],
    )
    # overlaps [3, 2, 1] * boosts [0.5, 1, 1] = [1.5, 2, 1] -> column 1 wins
    assert sp.compute([0, 1, 2], learn=False).tolist() == [1]


def test_boosting_changes_which_column_wins():
    perm = _perm_from_connections([[0, 1, 2], [0, 1]], 4)
    plain = _set(_tiny(2, 4, 1), permanences=perm)
    boosted = _set(_tiny(2, 4, 1, boost_strength=1.0), permanences=perm, boost_factors=[0.5, 1])
    # overlaps [3, 2]: without boosts column 0 wins; with boosts [1.5, 2] column 1 wins
    assert plain.compute([0, 1, 2], learn=False).tolist() == [0]
    assert boosted.compute([0, 1, 2], learn=False).tolist() == [1]


def test_stimulus_threshold_drops_weak_winners():
    sp = _tiny(5, 6, 3, stimulus_threshold=3)
    perm = _perm_from_connections([[0], [0, 1, 2, 3], [0, 1], [0, 1, 2], []], 6)
    _set(sp, permanences=perm)
    # overlaps [1, 4, 2, 3, 0]; top 3 = columns 1, 3, 2; column 2 (overlap 2 < 3) is dropped
    assert sp.compute([0, 1, 2, 3], learn=False).tolist() == [1, 3]
    # nobody reaches the threshold: no active column at all
    assert sp.compute([4, 5], learn=False).tolist() == []


# ------------------------------------------------------------------------------------------
# Learning
# ------------------------------------------------------------------------------------------


def test_learning_moves_permanences_by_exactly_inc_and_dec_on_winners_within_pools():
    inc, dec = 0.05, 0.008
    sp = _tiny(3, 5, 1, syn_perm_active_inc=inc, syn_perm_inactive_dec=dec)
    pools = np.array(
        [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1]],
        dtype=bool,
    )
    perm = np.where(pools, F32(0.3), F32(0.0)).astype(F32)
    perm[1, :2] = 0.5  # column 1 connected to inputs 0, 1 (all others at 0.3, connected too)
    _set(sp, potential_pools=pools, permanences=perm)
    # input {0, 1}: overlaps [2, 2, 1]; tie between 0 and 1 -> column 1 wins
    assert sp.compute([0, 1], learn=True).tolist() == [1]
    expected = perm.copy()
    expected[1] = [0.5 + inc, 0.5 + inc, 0.3 - dec, 0.3 - dec, 0.3 - dec]
    np.testing.assert_allclose(sp.permanences, expected, atol=1e-7)
    # the losing columns are untouched, bit for bit
    np.testing.assert_array_equal(sp.permanences[[0, 2]], perm[[0, 2]])


def test_learning_never_touches_inputs_outside_the_winner_pool():
    sp = _tiny(1, 4, 1, syn_perm_active_inc=0.1)
    pools = np.array([[1, 1, 0, 0]], dtype=bool)
    _set(sp, potential_pools=pools, permanences=[[0.5, 0.5, 0.0, 0.0]])
    sp.compute([0, 2], learn=True)
    # input 2 is active but off the pool: its permanence stays 0
    np.testing.assert_allclose(sp.permanences, [[0.6, 0.5 - 0.008, 0.0, 0.0]], atol=1e-7)


def test_learning_clips_permanences_to_zero_and_one():
    sp = _tiny(1, 3, 1, syn_perm_active_inc=0.05, syn_perm_inactive_dec=0.008)
    _set(sp, permanences=[[0.99, 0.5, 0.005]])
    sp.compute([0, 1], learn=True)
    # 0.99 + 0.05 -> 1 (clipped); 0.5 + 0.05; 0.005 - 0.008 -> 0 (clipped)
    np.testing.assert_allclose(sp.permanences, [[1.0, 0.55, 0.0]], atol=1e-7)
    assert sp.potential_pools.all()  # a synapse at 0 stays a potential synapse


def test_raise_to_threshold_lifts_the_pool_so_m_synapses_connect():
    perm = np.array([[0.05, 0.08, 0.02, 0.0]], dtype=F32)
    pools = np.array([[1, 1, 1, 0]], dtype=bool)
    # m = 2: the second largest pool permanence is 0.05; lift the pool by 0.1 - 0.05
    out = raise_permanences_to_threshold(perm, pools, 2, 0.1)
    np.testing.assert_allclose(out, [[0.10, 0.13, 0.07, 0.0]], atol=1e-7)
    # m = min(5, |pool| = 3): all three must connect -> lift by 0.1 - 0.02
    out = raise_permanences_to_threshold(perm, pools, 5, 0.1)
    np.testing.assert_allclose(out, [[0.13, 0.16, 0.10, 0.0]], atol=1e-7)
    # already enough connected, or threshold 0: unchanged
    np.testing.assert_array_equal(raise_permanences_to_threshold(out, pools, 3, 0.1), out)
    np.testing.assert_array_equal(raise_permanences_to_threshold(perm, pools, 0, 0.1), perm)


def test_every_column_starts_with_at_least_stimulus_threshold_connected_synapses():
    sp = SpatialPooler(50, 64, stimulus_threshold=20, potential_pct=0.6, seed=3)
    assert sp.connected.sum(axis=1).min() >= 20
    loose = SpatialPooler(50, 64, stimulus_threshold=0, potential_pct=0.6, seed=3)
    assert loose.connected.sum(axis=1).min() < 20  # the raise did something


def test_winners_are_raised_to_threshold_after_learning():
    # A boosted winner can win with fewer connected synapses than the stimulus threshold.
    sp = _tiny(1, 4, 1, stimulus_threshold=2, boost_strength=1.0, syn_perm_inactive_dec=0.05)
    _set(sp, permanences=[[0.5, 0.12, 0.11, 0.0]], boost_factors=[3.0])
    # input {0}: overlap 1, boosted 3 >= 2 -> wins. Learning: [0.55, 0.07, 0.06, 0.0] (clipped),
    # one connected synapse < m = 2 -> lift the pool by 0.1 - 0.07 -> [0.58, 0.10, 0.09, 0.03]
    assert sp.compute([0], learn=True).tolist() == [0]
    np.testing.assert_allclose(sp.permanences, [[0.58, 0.10, 0.09, 0.03]], atol=1e-6)
    assert sp.connected.sum() == 2


def test_no_raise_after_learning_when_enough_synapses_stay_connected():
    sp = _tiny(1, 4, 1, stimulus_threshold=2, syn_perm_inactive_dec=0.05)
    _set(sp, permanences=[[0.5, 0.5, 0.12, 0.0]])
    # input {0, 1}: overlap 2 wins; learning [0.55, 0.55, 0.07, 0.0]; two connected -> no lift
    assert sp.compute([0, 1], learn=True).tolist() == [0]
    np.testing.assert_allclose(sp.permanences, [[0.55, 0.55, 0.07, 0.0]], atol=1e-7)


# ------------------------------------------------------------------------------------------
# Duty cycles, weak columns, boosting
# ------------------------------------------------------------------------------------------


def test_duty_cycles_follow_the_running_mean_with_period_min_T_t():
    # column 0 connected to inputs {0, 1}, column 1 to {2, 3}; no learning drift (inc = dec = 0)
    sp = _tiny(2, 4, 1, duty_cycle_period=3, syn_perm_active_inc=0.0, syn_perm_inactive_dec=0.0)
    _set(sp, permanences=_perm_from_connections([[0, 1], [2, 3]], 4))
    winners = [sp.compute(x, learn=True).tolist() for x in ([0, 1], [2, 3], [0, 2], [0, 1])]
    # {0, 2} ties at overlap 1 -> column 1 wins
    assert winners == [[0], [1], [1], [0]]
    # P = 1, 2, 3, 3.  active a0: 1, 1/2, 1/2*2/3 = 1/3, 1/3*2/3 + 1/3 = 5/9
    #                  active a1: 0, 1/2, 1/2*2/3 + 1/3 = 2/3, 2/3*2/3 = 4/9
    # overlap>0 indicators: column 0: 1, 0, 1, 1 -> 1, 1/2, 2/3, 7/9
    #                       column 1: 0, 1, 1, 0 -> 0, 1/2, 2/3, 4/9
    np.testing.assert_allclose(sp.active_duty_cycles, [5 / 9, 4 / 9], rtol=1e-12)
    np.testing.assert_allclose(sp.overlap_duty_cycles, [7 / 9, 4 / 9], rtol=1e-12)
    assert sp.iteration == 4


def test_update_duty_cycle_is_the_stated_formula():
    d = np.array([0.2, 0.6])
    np.testing.assert_allclose(
        update_duty_cycle(d, np.array([True, False]), 4), [0.2 * 3 / 4 + 1 / 4, 0.6 * 3 / 4]
    )
    np.testing.assert_allclose(update_duty_cycle(d, np.array([0, 1]), 1), [0.0, 1.0])


def test_weak_columns_raise_their_whole_pool_by_a_tenth_of_connected():
    sp = _tiny(
        2,
        4,
        1,
        syn_perm_connected=0.2,
        min_pct_overlap_duty_cycles=0.001,
        syn_perm_active_inc=0.0,
        syn_perm_inactive_dec=0.0,
    )
    pools = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=bool)
    perm = np.array([[0.5, 0.5, 0.0, 0.0], [0.02, 0.02, 0.02, 0.0]], dtype=F32)
    _set(sp, potential_pools=pools, permanences=perm)
    # input {0, 1}: overlaps [2, 0]; u = [1, 0] after one step; floor 0.001 * 1 -> column 1 is
    # weak and its pool (inputs 0..2) rises by 0.2 / 10 = 0.02; input 3 is off its pool
    sp.compute([0, 1], learn=True)
    np.testing.assert_allclose(sp.permanences[1], [0.04, 0.04, 0.04, 0.0], atol=1e-7)
    np.testing.assert_array_equal(sp.permanences[0], perm[0])  # strong column: untouched
    sp.compute([0, 1], learn=True)
    np.testing.assert_allclose(sp.permanences[1], [0.06, 0.06, 0.06, 0.0], atol=1e-7)


def test_no_column_is_weak_while_no_column_has_overlap():
    sp = _tiny(
        2, 4, 1, min_pct_overlap_duty_cycles=0.5, syn_perm_active_inc=0.0, syn_perm_inactive_dec=0.0
    )
    before = sp.permanences.copy()
    # with theta_s = 0 a zero-overlap column still wins (htm.core does the same) but learns
    # nothing here; max overlap duty cycle is 0 -> floor 0 -> nothing is weak
    assert sp.compute([], learn=True).tolist() == [1]
    np.testing.assert_array_equal(sp.permanences, before)


def test_boost_factors_follow_exp_of_target_minus_duty_times_strength():
    sp = _tiny(2, 4, 1, boost_strength=2.0, syn_perm_active_inc=0.0, syn_perm_inactive_dec=0.0)
    _set(sp, permanences=_perm_from_connections([[0, 1], [2, 3]], 4))
    sp.compute([0, 1], learn=True)
    # target s = k / C = 1/2; a = [1, 0] after one step -> b = [exp(2 (0.5 - 1)), exp(2 * 0.5)]
    np.testing.assert_allclose(sp.boost_factors, [math.exp(-1.0), math.exp(1.0)], rtol=1e-12)
    np.testing.assert_allclose(
        boost_factors(np.array([0.1, 0.0]), 0.05, 3.0),
        [math.exp(3 * (0.05 - 0.1)), math.exp(3 * 0.05)],
    )


def test_boost_target_is_the_local_area_density_when_given():
    sp = SpatialPooler(20, 10, local_area_density=0.2, boost_strength=1.0, potential_pct=1.0)
    assert sp.num_active == 2 and sp.target_density == 0.2
    sp.compute([0, 1, 2], learn=True)
    a = sp.active_duty_cycles
    np.testing.assert_allclose(sp.boost_factors, np.exp(0.2 - a), rtol=1e-12)


def test_without_boost_strength_boost_factors_stay_one():
    sp = SpatialPooler(50, 64, seed=2)
    for x in _random_inputs(20, 50, 10, seed=1):
        sp.compute(x, learn=True)
    np.testing.assert_array_equal(sp.boost_factors, np.ones(64))


def test_boosting_evens_out_the_active_duty_cycles():
    inputs = _random_inputs(2000, 200, 20, seed=5)
    spreads = {}
    for beta in (0.0, 3.0):
        sp = SpatialPooler(200, 256, local_area_density=0.04, boost_strength=beta, seed=3)
        for x in inputs:
            sp.compute(x, learn=True)
        spreads[beta] = float(np.std(sp.active_duty_cycles))
    assert spreads[3.0] < 0.5 * spreads[0.0]


# ------------------------------------------------------------------------------------------
# State, determinism, persistence
# ------------------------------------------------------------------------------------------


def test_initialisation_builds_pools_and_permanences_as_documented():
    sp = SpatialPooler(200, 128, potential_pct=0.75, syn_perm_connected=0.2, seed=4)
    pools, perm = sp.potential_pools, sp.permanences
    assert perm.dtype == np.float32 and pools.dtype == np.bool_
    assert (pools.sum(axis=1) == 150).all()  # round(0.75 * 200)
    assert (perm[~pools] == 0).all()
    pool_perm = perm[pools]
    connected = pool_perm >= 0.2
    assert 0.47 < connected.mean() < 0.53  # INIT_CONNECTED_PCT = 0.5 of 19200 synapses
    assert pool_perm.min() >= 0.0 and pool_perm.max() <= 1.0
    np.testing.assert_array_equal(sp.connected, (perm >= 0.2 - 1e-6) & pools)
    assert sp.iteration == 0
    np.testing.assert_array_equal(sp.boost_factors, np.ones(128))


def test_permanences_outside_the_potential_pools_stay_zero():
    sp = SpatialPooler(
        60, 80, potential_pct=0.5, boost_strength=2.0, min_pct_overlap_duty_cycles=0.5, seed=7
    )
    pools = sp.potential_pools.copy()
    for x in _random_inputs(300, 60, 12, seed=2):
        sp.compute(x, learn=True)
    np.testing.assert_array_equal(sp.potential_pools, pools)
    assert (sp.permanences[~pools] == 0).all()
    assert sp.permanences.min() >= 0 and sp.permanences.max() <= 1


def test_learn_false_changes_nothing():
    sp = SpatialPooler(60, 80, boost_strength=2.0, seed=7)
    inputs = _random_inputs(50, 60, 12, seed=3)
    for x in inputs[:25]:
        sp.compute(x, learn=True)
    before = sp.state_dict()
    outputs = [sp.compute(x, learn=False).tolist() for x in inputs[25:]]
    _assert_same_state(before, sp.state_dict())
    # ... and inference is a pure function of the state
    assert outputs == [sp.compute(x, learn=False).tolist() for x in inputs[25:]]


def test_same_seed_gives_identical_state_and_outputs():
    inputs = _random_inputs(100, 60, 12, seed=3)
    a, b = SpatialPooler(60, 80, seed=11), SpatialPooler(60, 80, seed=11)
    _assert_same_state(a.state_dict(), b.state_dict())
    out_a = [a.compute(x, learn=True).tolist() for x in inputs]
    out_b = [b.compute(x, learn=True).tolist() for x in inputs]
    assert out_a == out_b
    _assert_same_state(a.state_dict(), b.state_dict())


def test_different_seeds_give_different_pools_and_permanences():
    a, b = SpatialPooler(60, 80, seed=11), SpatialPooler(60, 80, seed=12)
    assert not np.array_equal(a.potential_pools, b.potential_pools)
    assert not np.array_equal(a.permanences, b.permanences)


def test_state_dict_round_trip_into_a_fresh_pooler_continues_identically():
    config = SpatialPoolerConfig(60, 80, boost_strength=1.5, stimulus_threshold=2, seed=5)
    inputs = _random_inputs(200, 60, 12, seed=9)
    trained = SpatialPooler.from_config(config)
    for x in inputs[:100]:
        trained.compute(x, learn=True)
    fresh = SpatialPooler.from_config(config)
    fresh.load_state_dict(trained.state_dict())
    rebuilt = SpatialPooler.from_state_dict(trained.state_dict())
    out = [[p.compute(x, learn=True).tolist() for x in inputs[100:]] for p in (trained, fresh)]
    assert out[0] == out[1]
    assert out[0] == [rebuilt.compute(x, learn=True).tolist() for x in inputs[100:]]
    _assert_same_state(trained.state_dict(), fresh.state_dict())
    _assert_same_state(trained.state_dict(), rebuilt.state_dict())


def test_state_dict_holds_plain_numpy_values_and_is_a_copy():
    sp = SpatialPooler(20, 16, seed=1)
    state = sp.state_dict()
    assert isinstance(state["config"], dict) and isinstance(state["iteration"], int)
    assert isinstance(state["rng_state"], dict)
    state["permanences"][:] = 0
    assert sp.permanences.any()
    with pytest.raises(ValueError):
        sp.permanences[0, 0] = 1.0  # read-only view


def test_load_state_dict_refuses_another_config_naming_the_field():
    state = SpatialPooler(20, 16, seed=1).state_dict()
    with pytest.raises(ValueError, match="seed"):
        SpatialPooler(20, 16, seed=2).load_state_dict(state)


def test_load_state_dict_refuses_permanences_off_the_pool():
    sp = SpatialPooler(20, 16, seed=1)
    state = sp.state_dict()
    state["permanences"] = np.full((16, 20), 0.3, dtype=F32)
    with pytest.raises(ValueError, match="potential_pools"):
        sp.load_state_dict(state)


# ------------------------------------------------------------------------------------------
# Properties of the spatial pooler
# ------------------------------------------------------------------------------------------


def test_similar_inputs_give_overlapping_outputs_and_dissimilar_inputs_do_not():
    sp = SpatialPooler(400, 1024, seed=1)  # k = round(0.02 * 1024) = 20
    rng = np.random.Generator(np.random.PCG64(0))
    similar, dissimilar = [], []
    for _ in range(20):
        a = rng.choice(400, 20, replace=False)
        rest = np.setdiff1d(np.arange(400), a)
        near = np.concatenate([a[:18], rng.choice(rest, 2, replace=False)])  # 90 % shared
        far = rng.choice(rest, 20, replace=False)  # nothing shared
        out = sp.compute(a, learn=False)
        similar.append(np.intersect1d(out, sp.compute(near, learn=False)).size)
        dissimilar.append(np.intersect1d(out, sp.compute(far, learn=False)).size)
    assert np.mean(similar) > 0.5 * sp.num_active
    assert np.mean(dissimilar) < 0.1 * sp.num_active


# ------------------------------------------------------------------------------------------
# API surface and inputs
# ------------------------------------------------------------------------------------------


def test_all_input_forms_give_the_same_columns():
    sp = SpatialPooler(30, 40, seed=2)
    idx = [3, 7, 8, 20, 29]
    dense = np.zeros(30, dtype=bool)
    dense[idx] = True
    expected = sp.compute(idx, learn=False)
    assert expected.dtype == np.int64 and (np.diff(expected) > 0).all()
    for form in (
        np.array(idx),
        np.array(idx[::-1], dtype=np.int32),  # order does not matter
        tuple(idx),
        dense,
        dense.tolist(),
        torch.tensor(idx),
        torch.from_numpy(dense),
        SDR.from_indices(idx, size=30),
    ):
        np.testing.assert_array_equal(sp.compute(form, learn=False), expected)
    out = sp.compute_sdr(idx, learn=False)
    assert isinstance(out, SDR) and out.size == 40
    assert out.indices.tolist() == expected.tolist()


def test_empty_input_is_accepted():
    sp = SpatialPooler(30, 40, seed=2)
    assert sp.overlaps([]).tolist() == [0] * 40
    assert sp.compute(np.array([], dtype=np.int64), learn=True).size == sp.num_active


def test_defaults_follow_the_documented_choices():
    sp = SpatialPooler(1000, 2048)
    cfg = sp.config
    assert (cfg.potential_pct, cfg.stimulus_threshold, cfg.syn_perm_connected) == (0.5, 0, 0.1)
    assert (cfg.syn_perm_inactive_dec, cfg.syn_perm_active_inc) == (0.008, 0.05)
    assert (cfg.min_pct_overlap_duty_cycles, cfg.duty_cycle_period) == (0.001, 1000)
    assert (cfg.boost_strength, cfg.seed) == (0.0, 1)
    assert sp.num_active == 41 and sp.target_density == 0.02  # round(0.02 * 2048) = 41
    assert SpatialPooler(1000, 2048, num_active_columns=40).num_active == 40


def test_config_fields_are_named_like_the_constructor_arguments():
    params = list(inspect.signature(SpatialPooler.__init__).parameters)[1:]
    assert [f.name for f in dataclasses.fields(SpatialPoolerConfig)] == params
    config = SpatialPoolerConfig(30, 40, potential_pct=0.8, seed=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 4  # type: ignore[misc]
    a, b = SpatialPooler.from_config(config), SpatialPooler(30, 40, potential_pct=0.8, seed=3)
    assert a.config == config == b.config
    _assert_same_state(a.state_dict(), b.state_dict())


def test_module_docstring_example_runs():
    result = doctest.testmod(sp_module, verbose=False)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros(29, dtype=bool), ValueError, "input_size=30"),
        (SDR.from_indices([1], size=31), ValueError, "input_size=30"),
        ([1, 30], ValueError, "index 30"),
        ([-1, 2], ValueError, "index -1"),
        ([2, 5, 2], ValueError, "index 2 more than once"),
        (np.array([1.0, 2.0]), TypeError, "float64"),
        ([1.0, 2.0], TypeError, "integer indices or booleans"),
        (np.zeros((2, 30), dtype=bool), ValueError, "1-D"),
        ("0 1 2", TypeError, "input_sdr"),
        (SDR.from_indices([[1], [2]], size=30), ValueError, "unbatched"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(bad, error, match):
    sp = SpatialPooler(30, 40, seed=2)
    with pytest.raises(error, match=match):
        sp.compute(bad, learn=True)


def test_learn_must_be_a_bool():
    with pytest.raises(TypeError, match="learn"):
        SpatialPooler(30, 40).compute([1], learn=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"input_size": 0}, ValueError, "input_size"),
        ({"columns": -1}, ValueError, "columns"),
        ({"columns": 2.5}, TypeError, "columns"),
        ({"potential_pct": 0.0}, ValueError, "potential_pct"),
        ({"potential_pct": 1.5}, ValueError, "potential_pct"),
        ({"input_size": 10, "potential_pct": 0.01}, ValueError, "potential_pct"),
        ({"global_inhibition": False}, ValueError, "global_inhibition"),
        ({"local_area_density": 0.1, "num_active_columns": 4}, ValueError, "num_active_columns"),
        ({"num_active_columns": 41}, ValueError, "num_active_columns"),
        ({"num_active_columns": 0}, ValueError, "num_active_columns"),
        ({"local_area_density": 0.001}, ValueError, "local_area_density"),
        ({"local_area_density": 1.5}, ValueError, "local_area_density"),
        ({"stimulus_threshold": -1}, ValueError, "stimulus_threshold"),
        ({"syn_perm_inactive_dec": -0.1}, ValueError, "syn_perm_inactive_dec"),
        ({"syn_perm_active_inc": 2.0}, ValueError, "syn_perm_active_inc"),
        ({"syn_perm_connected": 1.5}, ValueError, "syn_perm_connected"),
        ({"min_pct_overlap_duty_cycles": -0.5}, ValueError, "min_pct_overlap_duty_cycles"),
        ({"duty_cycle_period": 0}, ValueError, "duty_cycle_period"),
        ({"boost_strength": -1.0}, ValueError, "boost_strength"),
        ({"boost_strength": float("nan")}, ValueError, "boost_strength"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_constructor_arguments_are_refused_naming_the_argument(kwargs, error, name):
    args = {"input_size": 30, "columns": 40, **kwargs}
    with pytest.raises(error, match=name):
        SpatialPooler(**args)

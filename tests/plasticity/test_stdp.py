"""STDP family (pair, symmetric, triplet), one rule per test, with hand-derived values."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.plasticity import (
    STDP,
    STDPState,
    SymmetricSTDP,
    TripletSTDP,
    apply_update,
)
from dendrix.spiking import LIF
from dendrix.spiking.encoding import poisson_encode

D = torch.float64
DT = 1e-3
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS = 0.01, 0.012, 20e-3, 30e-3


def _pair(**kw):
    params = {
        "a_plus": A_PLUS,
        "a_minus": A_MINUS,
        "tau_plus": TAU_PLUS,
        "tau_minus": TAU_MINUS,
        "dt": DT,
        "bounds": "none",
    }
    params.update(kw)
    return STDP(**params)


def _trains(pre_steps, post_steps, steps=12, batch=1):
    pre = torch.zeros(steps, batch, 1, dtype=D)
    post = torch.zeros(steps, batch, 1, dtype=D)
    pre[list(pre_steps), :, 0] = 1.0
    post[list(post_steps), :, 0] = 1.0
    return pre, post


def _total(rule, pre, post, w=0.5):
    """Sum of the updates over a spike train, the weight held fixed at ``w``."""
    weight = torch.full((post.shape[-1], pre.shape[-1]), w, dtype=D)
    state, total = None, torch.zeros_like(weight)
    for p, q in zip(pre, post, strict=True):
        dw, state = rule.update(p, q, state, weight)
        total += dw
    return total


def _e(steps, tau):
    return math.exp(-steps * DT / tau)


# -- pair STDP ----------------------------------------------------------------------------------
def test_pre_before_post_potentiates_by_a_plus_exp_minus_dt_over_tau_plus():
    total = _total(_pair(), *_trains([0], [5]))
    assert total.item() == pytest.approx(A_PLUS * _e(5, TAU_PLUS), rel=1e-12)


def test_post_before_pre_depresses_by_a_minus_exp_minus_dt_over_tau_minus():
    total = _total(_pair(), *_trains([5], [0]))
    assert total.item() == pytest.approx(-A_MINUS * _e(5, TAU_MINUS), rel=1e-12)


def test_pre_and_post_in_the_same_step_count_as_causal():
    # zero-delay neurons: a pre spike reaches its target in its own step
    total = _total(_pair(), *_trains([3], [3]))
    assert total.item() == pytest.approx(A_PLUS, rel=1e-12)


def test_stdp_reads_graded_rates_as_weighted_spikes():
    # a rate layer: activity 0.5 at step 0 (pre) and 0.4 at step 3 (post)
    pre, post = _trains([0], [3])
    total = _total(_pair(), 0.5 * pre, 0.4 * post)
    assert total.item() == pytest.approx(A_PLUS * 0.5 * 0.4 * _e(3, TAU_PLUS), rel=1e-12)


def test_all_to_all_pairs_each_post_spike_with_every_earlier_pre_spike():
    total = _total(_pair(), *_trains([0, 2], [5]))
    assert total.item() == pytest.approx(A_PLUS * (_e(5, TAU_PLUS) + _e(3, TAU_PLUS)), rel=1e-12)


def test_nearest_neighbour_pairs_each_post_spike_with_the_last_pre_spike_only():
    total = _total(_pair(pairing="nearest"), *_trains([0, 2], [5]))
    assert total.item() == pytest.approx(A_PLUS * _e(3, TAU_PLUS), rel=1e-12)


def test_nearest_neighbour_depression_uses_the_last_post_spike_only():
    all_to_all = _total(_pair(), *_trains([5], [0, 2]))
    nearest = _total(_pair(pairing="nearest"), *_trains([5], [0, 2]))
    assert all_to_all.item() == pytest.approx(
        -A_MINUS * (_e(5, TAU_MINUS) + _e(3, TAU_MINUS)), rel=1e-12
    )
    assert nearest.item() == pytest.approx(-A_MINUS * _e(3, TAU_MINUS), rel=1e-12)


def test_soft_bounds_scale_potentiation_by_w_max_minus_w_and_depression_by_w_minus_w_min():
    rule = _pair(bounds="soft", w_min=0.0, w_max=1.0)
    for w in (0.1, 0.5, 0.9):
        up = _total(rule, *_trains([0], [4]), w=w)
        down = _total(rule, *_trains([4], [0]), w=w)
        assert up.item() == pytest.approx(A_PLUS * (1.0 - w) * _e(4, TAU_PLUS), rel=1e-12)
        assert down.item() == pytest.approx(-A_MINUS * w * _e(4, TAU_MINUS), rel=1e-12)


def test_soft_bounds_shrink_potentiation_to_zero_at_w_max():
    rule = _pair(bounds="soft", w_max=1.0)
    near = _total(rule, *_trains([0], [1]), w=0.99).item()
    far = _total(rule, *_trains([0], [1]), w=0.2).item()
    assert 0 < near < far / 50
    assert _total(rule, *_trains([0], [1]), w=1.0).item() == 0.0


def test_soft_bound_exponent_mu_is_applied():
    rule = _pair(bounds="soft", mu=0.5)
    up = _total(rule, *_trains([0], [2]), w=0.75)
    assert up.item() == pytest.approx(A_PLUS * 0.25**0.5 * _e(2, TAU_PLUS), rel=1e-12)


def test_hard_bounds_clip_the_weight_into_the_range():
    rule = _pair(bounds="hard", a_plus=0.5, a_minus=0.5, w_min=0.0, w_max=1.0)
    up = _total(rule, *_trains([0], [0]), w=0.8)
    down = _total(rule, *_trains([1], [0]), w=0.3)
    assert up.item() == pytest.approx(0.2, abs=1e-15)  # lands on w_max exactly
    assert down.item() == pytest.approx(-0.3, abs=1e-15)  # lands on w_min exactly


def test_hard_bounds_hold_under_random_spike_trains():
    g = torch.Generator().manual_seed(1)
    rule = STDP(a_plus=0.05, a_minus=0.05, bounds="hard", w_min=-0.5, w_max=0.5, dt=DT)
    weight = torch.rand(4, 6, generator=g, dtype=D) - 0.5
    state = rule.initial_state(weight, batch_size=2)
    for _ in range(300):
        pre = (torch.rand(2, 6, generator=g, dtype=D) < 0.2).to(D)
        post = (torch.rand(2, 4, generator=g, dtype=D) < 0.2).to(D)
        dw, state = rule.update(pre, post, state, weight)
        weight += dw
        assert weight.min() >= -0.5 and weight.max() <= 0.5


def test_batch_mean_averages_and_sum_adds_the_per_sample_updates():
    pre, post = _trains([0], [3], batch=2)
    post[:, 1] = 0.0  # only the first sample has the pair
    mean = _total(_pair(reduce="mean"), pre, post)
    summed = _total(_pair(reduce="sum"), pre, post)
    assert mean.item() == pytest.approx(A_PLUS * _e(3, TAU_PLUS) / 2, rel=1e-12)
    assert summed.item() == pytest.approx(A_PLUS * _e(3, TAU_PLUS), rel=1e-12)


def test_per_sample_term_sums_to_the_update():
    g = torch.Generator().manual_seed(2)
    rule = _pair(reduce="sum")
    weight = torch.rand(3, 5, generator=g, dtype=D)
    state_a = state_b = None
    for _ in range(20):
        pre = (torch.rand(4, 5, generator=g, dtype=D) < 0.3).to(D)
        post = (torch.rand(4, 3, generator=g, dtype=D) < 0.3).to(D)
        dw, state_a = rule.update(pre, post, state_a, weight)
        term, state_b = rule.term(pre, post, state_b, weight)
        assert term.shape == (4, 3, 5)
        torch.testing.assert_close(term.sum(0), dw, rtol=1e-12, atol=1e-15)


def _event_driven_matches_reference(rule, steps=80, batch=3, n_out=6, n_in=9, seed=3):
    """``update_`` (in place, event-driven) against ``weight + update(...)`` (pure, dense)."""
    g = torch.Generator().manual_seed(seed)
    reference = 0.1 + 0.8 * torch.rand(n_out, n_in, generator=g, dtype=D)
    fast = reference.clone()
    s_ref = s_fast = None
    for _ in range(steps):
        pre = (torch.rand(batch, n_in, generator=g, dtype=D) < 0.15).to(D)
        post = (torch.rand(batch, n_out, generator=g, dtype=D) < 0.15).to(D)
        dw, s_ref = rule.update(pre, post, s_ref, reference)
        reference = reference + dw
        s_fast = rule.update_(pre, post, s_fast, fast)
        torch.testing.assert_close(fast, reference, rtol=1e-12, atol=1e-14)
        for a, b in zip(s_fast, s_ref, strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("reduce", ["mean", "sum"])
@pytest.mark.parametrize("bounds", ["none", "hard", "soft"])
@pytest.mark.parametrize("pairing", ["all_to_all", "nearest"])
@pytest.mark.parametrize("cls", [STDP, SymmetricSTDP])
def test_event_driven_in_place_step_equals_the_pure_reference(cls, pairing, bounds, reduce):
    kw = {"a_plus": 0.08, "a_minus": 0.06, "pairing": pairing, "bounds": bounds, "dt": DT}
    _event_driven_matches_reference(cls(**kw, reduce=reduce))


@pytest.mark.parametrize("bounds", ["none", "hard", "soft"])
def test_event_driven_triplet_and_diehl_cook_steps_equal_the_pure_reference(bounds):
    _event_driven_matches_reference(TripletSTDP(a2_plus=0.05, a3_plus=0.08, bounds=bounds))
    _event_driven_matches_reference(TripletSTDP.diehl_cook_2015(a3_plus=0.3, bounds=bounds))


def test_event_driven_step_touches_only_rows_and_columns_with_spikes():
    rule = STDP(a_plus=0.1, a_minus=0.1, dt=DT)
    weight = torch.full((3, 4), 0.5, dtype=D)
    state = rule.initial_state(weight)
    state = rule.update_(
        torch.tensor([[0.0, 1.0, 0.0, 0.0]], dtype=D), torch.zeros(1, 3, dtype=D), state, weight
    )
    assert torch.equal(weight, torch.full((3, 4), 0.5, dtype=D))  # no post trace yet
    rule.update_(
        torch.zeros(1, 4, dtype=D), torch.tensor([[0.0, 0.0, 1.0]], dtype=D), state, weight
    )
    changed = (weight != 0.5).nonzero().tolist()
    assert changed == [[2, 1]]  # row of the spiking neuron, column of the earlier pre spike
    assert weight[2, 1].item() == pytest.approx(0.5 + 0.1 * math.exp(-DT / 20e-3), rel=1e-12)


def test_update_is_pure_and_builds_no_graph():
    g = torch.Generator().manual_seed(4)
    weight = torch.nn.Parameter(torch.rand(3, 4, generator=g))
    pre = (torch.rand(2, 4, generator=g) < 0.5).float()
    post = (torch.rand(2, 3, generator=g) < 0.5).float()
    rule = STDP(bounds="soft")
    state = STDPState(torch.rand(2, 4, generator=g), torch.rand(2, 3, generator=g))
    copies = [t.detach().clone() for t in (weight, pre, post, *state)]
    dw1, s1 = rule.update(pre, post, state, weight)
    dw2, s2 = rule.update(pre, post, state, weight)
    assert torch.equal(dw1, dw2) and torch.equal(s1.pre_trace, s2.pre_trace)
    for before, after in zip(copies, (weight, pre, post, *state), strict=True):
        assert torch.equal(before, after.detach())
    assert not dw1.requires_grad
    apply_update(weight, dw1)
    torch.testing.assert_close(weight.detach(), copies[0] + dw1)


# -- symmetric STDP --------------------------------------------------------------------------
def test_symmetric_stdp_potentiates_for_both_spike_orders():
    rule = SymmetricSTDP(a_plus=A_PLUS, a_minus=A_MINUS, tau_plus=TAU_PLUS, tau_minus=TAU_MINUS)
    causal = _total(rule, *_trains([0], [4]))
    acausal = _total(rule, *_trains([4], [0]))
    assert causal.item() == pytest.approx(A_PLUS * _e(4, TAU_PLUS), rel=1e-12)
    assert acausal.item() == pytest.approx(A_MINUS * _e(4, TAU_MINUS), rel=1e-12)


def test_symmetric_stdp_with_equal_sides_depends_on_abs_dt_only():
    rule = SymmetricSTDP(a_plus=0.01, a_minus=0.01, tau_plus=20e-3, tau_minus=20e-3)
    for lag in (1, 3, 7):
        causal = _total(rule, *_trains([0], [lag])).item()
        acausal = _total(rule, *_trains([lag], [0])).item()
        assert causal == pytest.approx(acausal, rel=1e-12)
        assert causal == pytest.approx(0.01 * math.exp(-lag * DT / 20e-3), rel=1e-12)


def test_symmetric_stdp_soft_bounds_shrink_both_orders_near_w_max():
    rule = SymmetricSTDP(a_plus=0.01, a_minus=0.01, bounds="soft")
    for pre, post in (([0], [2]), ([2], [0])):
        assert _total(rule, *_trains(pre, post), w=0.9).item() == pytest.approx(
            0.1 * _total(rule, *_trains(pre, post), w=0.0).item(), rel=1e-12
        )


# -- triplet STDP ----------------------------------------------------------------------------
def _triplet(**kw):
    params = {
        "a2_plus": 0.005,
        "a3_plus": 0.007,
        "a2_minus": 0.0,
        "a3_minus": 0.0,
        "tau_plus": 16.8e-3,
        "tau_minus": 33.7e-3,
        "tau_x": 101e-3,
        "tau_y": 125e-3,
        "bounds": "none",
        "dt": DT,
    }
    params.update(kw)
    return TripletSTDP(**params)


def test_triplet_term_adds_a3_plus_times_o2_when_post_fires_twice():
    rule = _triplet()
    total = _total(rule, *_trains([0], [3, 6]))
    pair = 0.005 * (_e(3, 16.8e-3) + _e(6, 16.8e-3))
    triplet = 0.007 * _e(6, 16.8e-3) * _e(3, 125e-3)  # r1 at the 2nd post x o2 from the 1st
    assert total.item() == pytest.approx(pair + triplet, rel=1e-12)


def test_triplet_depression_adds_a3_minus_times_r2_when_pre_fires_twice():
    rule = _triplet(a2_plus=0.0, a3_plus=0.0, a2_minus=0.004, a3_minus=0.003)
    total = _total(rule, *_trains([3, 6], [0]))
    pair = -0.004 * (_e(3, 33.7e-3) + _e(6, 33.7e-3))
    triplet = -0.003 * _e(6, 33.7e-3) * _e(3, 101e-3)
    assert total.item() == pytest.approx(pair + triplet, rel=1e-12)


def test_triplet_with_zero_triplet_amplitudes_is_pair_stdp():
    g = torch.Generator().manual_seed(5)
    triplet = _triplet(a2_plus=0.01, a3_plus=0.0, a2_minus=0.012, a3_minus=0.0, bounds="soft")
    pair = STDP(
        a_plus=0.01, a_minus=0.012, tau_plus=16.8e-3, tau_minus=33.7e-3, bounds="soft", dt=DT
    )
    weight = torch.rand(3, 4, generator=g, dtype=D)
    s_t = s_p = None
    for _ in range(50):
        pre = (torch.rand(2, 4, generator=g, dtype=D) < 0.3).to(D)
        post = (torch.rand(2, 3, generator=g, dtype=D) < 0.3).to(D)
        dw_t, s_t = triplet.update(pre, post, s_t, weight)
        dw_p, s_p = pair.update(pre, post, s_p, weight)
        torch.testing.assert_close(dw_t, dw_p, rtol=1e-12, atol=1e-15)


def test_diehl_cook_rule_potentiates_only_from_the_second_post_spike_on():
    # w += 1e-2 * pre * post2before; post2before = 0 at the first post spike
    rule = TripletSTDP.diehl_cook_2015(dt=0.5e-3, bounds="none")
    dt = 0.5e-3
    total = _total(rule, *_trains([0], [4]))
    assert total.item() == 0.0
    total = _total(rule, *_trains([0], [4, 8]))
    expected = 1e-2 * math.exp(-8 * dt / 20e-3) * math.exp(-4 * dt / 40e-3)
    assert total.item() == pytest.approx(expected, rel=1e-12)
    # on a pre spike: w -= 1e-4 * post1, post1 reset to 1 at the last post spike (nearest)
    total = _total(rule, *_trains([6], [0, 2]))
    assert total.item() == pytest.approx(-1e-4 * math.exp(-4 * dt / 20e-3), rel=1e-12)


def test_triplet_term_sums_to_the_update():
    g = torch.Generator().manual_seed(6)
    rule = _triplet(a2_minus=0.003, a3_minus=0.001, reduce="sum")
    weight = torch.rand(2, 3, generator=g, dtype=D)
    s_a = s_b = None
    for _ in range(20):
        pre = (torch.rand(3, 3, generator=g, dtype=D) < 0.4).to(D)
        post = (torch.rand(3, 2, generator=g, dtype=D) < 0.4).to(D)
        dw, s_a = rule.update(pre, post, s_a, weight)
        term, s_b = rule.term(pre, post, s_b, weight)
        torch.testing.assert_close(term.sum(0), dw, rtol=1e-12, atol=1e-15)


# -- composition with a spiking layer ----------------------------------------------------------
def test_stdp_on_a_lif_layer_grows_the_weight_of_an_input_that_fires_just_before_the_neuron():
    """Poisson inputs -> weights -> LIF (public step API); STDP from pre and output spikes."""
    g = torch.Generator().manual_seed(7)
    steps, n_in = 400, 6
    rates = torch.tensor([[1.0, 0.5, 0.5, 0.5, 0.5, 0.5]])  # input 0 at 40 Hz, others 20 Hz
    pre_spikes = poisson_encode(rates, steps, dt=DT, max_rate_hz=40.0, generator=g)  # [T, 1, 6]
    lif = LIF(1, tau_mem=10e-3, v_th=1.0, dt=DT)
    weight = torch.tensor([[1.2, 0.3, 0.3, 0.3, 0.3, 0.3]])  # input 0 alone makes it fire
    start = weight.clone()
    rule = STDP(a_plus=0.01, a_minus=0.012, tau_plus=20e-3, tau_minus=20e-3, dt=DT, w_max=2.0)
    lif_state, rule_state = None, rule.initial_state(weight)
    previous = torch.zeros(1, n_in)
    n_post = 0
    for pre in pre_spikes:
        current = previous @ weight.T  # one-step transmission delay: pre(t-1) drives post(t)
        post, lif_state = lif.step(current, lif_state)
        n_post += int(post.sum())
        dw, rule_state = rule.update(pre, post, rule_state, weight)
        apply_update(weight, dw)
        previous = pre
    grown = weight - start
    assert n_post > 5
    assert grown[0, 0] > 0.05
    assert bool((grown[0, 0] > grown[0, 1:]).all())


# -- bad input ----------------------------------------------------------------------------------
RULES = [STDP, SymmetricSTDP, TripletSTDP]


@pytest.mark.parametrize("cls", RULES)
def test_mismatched_shapes_between_layer_and_rule_are_refused(cls):
    rule = cls()
    weight = torch.ones(3, 4)
    pre, post = torch.zeros(2, 4), torch.zeros(2, 3)
    with pytest.raises(ValueError, match="n_in=4"):
        rule.update(torch.zeros(2, 5), post, None, weight)
    with pytest.raises(ValueError, match="n_out=3"):
        rule.update(pre, torch.zeros(2, 7), None, weight)
    with pytest.raises(ValueError, match="same batch size"):
        rule.update(pre, torch.zeros(1, 3), None, weight)
    with pytest.raises(ValueError, match="dimension"):
        rule.update(torch.zeros(4), post, None, weight)
    other = rule.initial_state(torch.ones(5, 4), batch_size=2)  # a state of another layer
    with pytest.raises(ValueError, match="initial_state"):
        rule.update(pre, post, other, weight)
    with pytest.raises(ValueError, match="initial_state"):
        rule.update(pre, post, rule.initial_state(weight, batch_size=3), weight)


@pytest.mark.parametrize("cls", RULES)
def test_nan_in_spikes_or_weights_is_refused(cls):
    rule = cls()
    weight, pre, post = torch.ones(3, 4), torch.zeros(2, 4), torch.zeros(2, 3)
    nan_pre = pre.clone()
    nan_pre[0, 0] = float("nan")
    nan_w = weight.clone()
    nan_w[1, 1] = float("nan")
    for args in ((nan_pre, post, None, weight), (pre, post, None, nan_w)):
        with pytest.raises(ValueError, match="NaN"):
            rule.update(*args)


@pytest.mark.parametrize("cls", RULES)
@pytest.mark.parametrize("tau", [0.0, -20e-3, float("nan")])
def test_non_positive_time_constants_are_refused(cls, tau):
    with pytest.raises(ValueError, match="tau_plus"):
        cls(tau_plus=tau)
    with pytest.raises(ValueError, match="tau_minus"):
        cls(tau_minus=tau)


@pytest.mark.parametrize("tau_name", ["tau_x", "tau_y"])
def test_triplet_refuses_non_positive_slow_time_constants(tau_name):
    with pytest.raises(ValueError, match=tau_name):
        TripletSTDP(**{tau_name: -1.0})


@pytest.mark.parametrize("cls", RULES)
@pytest.mark.parametrize(("lo", "hi"), [(1.0, 1.0), (1.0, 0.0)])
def test_w_min_not_below_w_max_is_refused(cls, lo, hi):
    with pytest.raises(ValueError, match="w_min must be < w_max"):
        cls(w_min=lo, w_max=hi)


@pytest.mark.parametrize("cls", RULES)
def test_bad_options_are_refused_with_the_choices_listed(cls):
    with pytest.raises(ValueError, match="pairing"):
        cls(pairing="pairs")
    with pytest.raises(ValueError, match="bounds"):
        cls(bounds="clip")
    with pytest.raises(ValueError, match="reduce"):
        cls(reduce="max")
    with pytest.raises(ValueError, match="dt"):
        cls(dt=0.0)
    with pytest.raises(ValueError, match="mu"):
        cls(mu=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        cls().initial_state(torch.ones(2, 2), batch_size=0)


def test_negative_amplitudes_are_refused():
    with pytest.raises(ValueError, match="a_minus"):
        STDP(a_minus=-0.01)
    with pytest.raises(ValueError, match="a3_plus"):
        TripletSTDP(a3_plus=-1.0)


def test_docstring_examples_run():
    import dendrix.plasticity.stdp as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

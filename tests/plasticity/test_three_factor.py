"""Three-factor rules (eligibility x neuromodulator), one rule per test, hand-derived values."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.plasticity import (
    STDP,
    Hebb,
    SymmetricSTDP,
    ThreeFactor,
    ThreeFactorState,
    TripletSTDP,
    reward_prediction_error,
)

D = torch.float64
DT, TAU_E, A_PLUS, ETA = 1e-3, 50e-3, 0.02, 0.5


def _rule(**kw):
    params = {"a_plus": A_PLUS, "a_minus": 0.01, "dt": DT, "tau_e": TAU_E, "eta": ETA}
    params.update(kw)
    return ThreeFactor.reward_modulated_stdp(**params)


def _run(rule, pre, post, modulators, w=0.5):
    """Feed ``[T, B, n]`` trains with one modulator per step; return the summed dw and state."""
    weight = torch.full((post.shape[-1], pre.shape[-1]), w, dtype=D)
    state, total = None, torch.zeros_like(weight)
    for p, q, m in zip(pre, post, modulators, strict=True):
        dw, state = rule.update(p, q, state, weight, modulator=m)
        total += dw
    return total, state


def _pair_at_zero(steps, batch=1, n_out=1):
    """Pre and post spike together at step 0 (term = A+), silence afterwards."""
    pre = torch.zeros(steps, batch, 1, dtype=D)
    post = torch.zeros(steps, batch, n_out, dtype=D)
    pre[0], post[0] = 1.0, 1.0
    return pre, post


def test_no_modulator_means_no_weight_change_but_eligibility_remains():
    pre, post = _pair_at_zero(10)
    total, state = _run(_rule(), pre, post, [0.0] * 10)
    assert total.abs().max().item() == 0.0
    assert state.eligibility.item() > 0.0


def test_eligibility_decays_by_exp_minus_dt_over_tau_e():
    pre, post = _pair_at_zero(8)
    _, state = _run(_rule(), pre, post, [0.0] * 8)
    assert state.eligibility.item() == pytest.approx(A_PLUS * math.exp(-7 * DT / TAU_E), rel=1e-12)


def test_a_delayed_reward_credits_the_decayed_eligibility():
    pre, post = _pair_at_zero(8)
    modulators = [0.0] * 7 + [2.0]  # reward 7 ms after the pair
    total, _ = _run(_rule(), pre, post, modulators)
    assert total.item() == pytest.approx(ETA * 2.0 * A_PLUS * math.exp(-7 * DT / TAU_E), rel=1e-12)


def test_the_sign_of_the_reward_flips_the_update():
    g = torch.Generator().manual_seed(0)
    pre = (torch.rand(30, 1, 3, generator=g, dtype=D) < 0.3).to(D)
    post = (torch.rand(30, 1, 2, generator=g, dtype=D) < 0.3).to(D)
    reward, _ = _run(_rule(), pre, post, [1.0] * 30)
    punishment, _ = _run(_rule(), pre, post, [-1.0] * 30)
    assert reward.abs().max() > 0
    torch.testing.assert_close(punishment, -reward, rtol=1e-12, atol=0.0)


def test_per_sample_modulators_weight_each_sample():
    pre, post = _pair_at_zero(1, batch=2)
    total, _ = _run(_rule(), pre, post, [torch.tensor([1.0, -1.0], dtype=D)])
    assert total.item() == 0.0  # +1 and -1 on identical samples cancel in the mean
    total, _ = _run(_rule(), pre, post, [torch.tensor([1.0, 0.0], dtype=D)])
    assert total.item() == pytest.approx(ETA * A_PLUS / 2, rel=1e-12)


def test_per_neuron_modulators_gate_each_postsynaptic_row():
    pre, post = _pair_at_zero(1, n_out=2)
    total, _ = _run(_rule(), pre, post, [torch.tensor([[0.0, 3.0]], dtype=D)])
    assert total[0].item() == 0.0
    assert total[1].item() == pytest.approx(ETA * 3.0 * A_PLUS, rel=1e-12)


def test_reward_modulated_stdp_is_the_three_factor_rule_over_pair_stdp():
    preset = _rule()
    explicit = ThreeFactor(
        hebbian=STDP(a_plus=A_PLUS, a_minus=0.01, dt=DT, bounds="none"), tau_e=TAU_E, eta=ETA
    )
    assert preset == explicit


def test_hard_bounds_of_the_hebbian_rule_hold():
    rule = _rule(bounds="hard", w_min=0.0, w_max=1.0, a_plus=0.5)
    pre, post = _pair_at_zero(1)
    total, _ = _run(rule, pre, post, [10.0], w=0.9)
    assert total.item() == pytest.approx(0.1, abs=1e-15)


def test_neuromodulated_hebb_uses_the_rate_product_as_its_term():
    rule = ThreeFactor(hebbian=Hebb(eta=1.0), tau_e=TAU_E, eta=0.1, dt=DT)
    pre = torch.tensor([[[2.0]], [[0.0]]], dtype=D)
    post = torch.tensor([[[3.0]], [[0.0]]], dtype=D)
    total, _ = _run(rule, pre, post, [0.0, 1.0])
    assert total.item() == pytest.approx(0.1 * 6.0 * math.exp(-DT / TAU_E), rel=1e-12)


@pytest.mark.parametrize("inner", [SymmetricSTDP(dt=DT), TripletSTDP(dt=DT)])
def test_other_spike_rules_fill_the_eligibility_with_their_term(inner):
    g = torch.Generator().manual_seed(1)
    rule = ThreeFactor(hebbian=inner, tau_e=TAU_E, eta=1.0)
    weight = torch.rand(2, 3, generator=g, dtype=D)
    state = rule.initial_state(weight, batch_size=2)
    inner_state = inner.initial_state(weight, batch_size=2)
    expected = torch.zeros(2, 2, 3, dtype=D)
    for _ in range(10):
        pre = (torch.rand(2, 3, generator=g, dtype=D) < 0.4).to(D)
        post = (torch.rand(2, 2, generator=g, dtype=D) < 0.4).to(D)
        _, state = rule.update(pre, post, state, weight, modulator=0.0)
        term, inner_state = inner.term(pre, post, inner_state, weight)
        expected = expected * math.exp(-DT / TAU_E) + term
    torch.testing.assert_close(state.eligibility, expected, rtol=1e-12, atol=1e-15)


def test_reward_prediction_error_is_reward_minus_a_running_baseline():
    delta, baseline = reward_prediction_error(1.0, 0.0, alpha=0.25)
    assert (delta, baseline) == (1.0, 0.25)
    rewards = torch.ones(3, dtype=D)
    baseline = torch.zeros(3, dtype=D)
    for _ in range(200):
        delta, baseline = reward_prediction_error(rewards, baseline, alpha=0.1)
    # delta_n = (1 - alpha)^n for a constant reward of 1
    assert delta.tolist() == pytest.approx([0.9**199] * 3, rel=1e-9)


# -- bad input ----------------------------------------------------------------------------------
def test_a_modulator_of_the_wrong_shape_or_nan_is_refused():
    rule = _rule()
    weight, pre, post = torch.ones(3, 4), torch.zeros(2, 4), torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"modulator must be a number, \[B\]"):
        rule.update(pre, post, None, weight, modulator=torch.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        rule.update(pre, post, None, weight, modulator=torch.tensor([float("nan"), 0.0]))
    with pytest.raises(ValueError, match="modulator must be finite"):
        rule.update(pre, post, None, weight, modulator=float("nan"))


def test_mismatched_shapes_between_layer_and_rule_are_refused():
    rule = _rule()
    weight = torch.ones(3, 4)
    with pytest.raises(ValueError, match="n_out=3"):
        rule.update(torch.zeros(2, 4), torch.zeros(2, 5), None, weight, modulator=1.0)
    state = rule.initial_state(weight, batch_size=2)
    wrong = ThreeFactorState(state.term_state, torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="eligibility"):
        rule.update(torch.zeros(2, 4), torch.zeros(2, 3), wrong, weight, modulator=1.0)


@pytest.mark.parametrize("tau_e", [0.0, -1.0, float("inf")])
def test_non_positive_or_infinite_tau_e_is_refused(tau_e):
    with pytest.raises(ValueError, match="tau_e"):
        _rule(tau_e=tau_e)


def test_bad_configurations_are_refused():
    with pytest.raises(TypeError, match="hebbian must be a two-factor rule"):
        ThreeFactor(hebbian="stdp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no dt"):
        ThreeFactor(hebbian=Hebb())
    with pytest.raises(ValueError, match="differs"):
        ThreeFactor(hebbian=STDP(dt=1e-3), dt=0.5e-3)
    with pytest.raises(ValueError, match="eta"):
        _rule(eta=-1.0)
    with pytest.raises(ValueError, match="w_min must be < w_max"):
        _rule(bounds="hard", w_min=1.0, w_max=0.0)
    with pytest.raises(ValueError, match="alpha"):
        reward_prediction_error(1.0, 0.0, alpha=0.0)
    with pytest.raises(ValueError, match="same shape"):
        reward_prediction_error(torch.zeros(2), torch.zeros(3), alpha=0.5)
    with pytest.raises(ValueError, match="NaN"):
        reward_prediction_error(torch.tensor([float("nan")]), torch.zeros(1), alpha=0.5)


def test_docstring_examples_run():
    import dendrix.plasticity.three_factor as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

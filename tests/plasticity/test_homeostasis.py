"""Homeostasis: adaptive threshold, weight normalisation, intrinsic plasticity, inhibition."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.plasticity import (
    AdaptiveThreshold,
    IntrinsicPlasticity,
    IPState,
    k_winners_take_all,
    lateral_inhibition,
    normalize_weights,
)
from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state, lif_step

D = torch.float64
DT = 1e-3


# -- adaptive threshold -------------------------------------------------------------------------
def test_threshold_rises_by_theta_plus_per_spike_and_decays_with_tau_theta():
    rule = AdaptiveThreshold(theta_plus=0.05, tau_theta=20e-3, dt=DT)
    theta = rule.initial_state(torch.zeros(1, 1, dtype=D))
    history = []
    for t in range(6):
        spike = torch.tensor([[1.0 if t in (0, 3) else 0.0]], dtype=D)
        theta = rule.update(spike, theta)
        history.append(theta.item())
    d = math.exp(-DT / 20e-3)
    assert history[0] == pytest.approx(0.05, rel=1e-12)
    assert history[2] == pytest.approx(0.05 * d**2, rel=1e-12)
    assert history[5] == pytest.approx(0.05 * (d**5 + d**2), rel=1e-12)


def test_a_shared_threshold_counts_every_spike_of_the_batch():
    rule = AdaptiveThreshold(theta_plus=0.05, tau_theta=1e4, dt=DT)
    spikes = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=D)  # [B=3, n=2]
    theta = rule.update(spikes, torch.zeros(2, dtype=D))
    assert theta.tolist() == pytest.approx([0.1, 0.05], rel=1e-9)
    per_sample = rule.update(spikes, torch.zeros(3, 2, dtype=D))
    assert per_sample.flatten().tolist() == pytest.approx([0.05, 0, 0.05, 0, 0, 0.05], rel=1e-9)


def test_adaptive_threshold_composes_with_the_lif_threshold_and_slows_firing():
    rule = AdaptiveThreshold(theta_plus=0.2, tau_theta=1.0, dt=DT)
    x = torch.full((1, 1), 0.3, dtype=D)
    state, theta, spikes = lif_initial_state(x), rule.initial_state(x[0]), []
    for _ in range(400):
        z, state = lif_step(x, state, LIFParameters(tau_mem=10e-3, v_th=1.0 + theta), DT)
        theta = rule.update(z, theta)
        spikes.append(z.item())
    early, late = sum(spikes[:100]), sum(spikes[300:])
    assert late < early / 2
    assert theta.item() == pytest.approx(
        0.2 * sum(math.exp(-(399 - t) * DT / 1.0) for t, s in enumerate(spikes) if s), rel=1e-9
    )


# -- weight normalisation -----------------------------------------------------------------------
def test_normalisation_makes_every_neuron_sum_to_the_target_exactly():
    g = torch.Generator().manual_seed(0)
    weight = torch.rand(5, 784, generator=g, dtype=D)
    out = normalize_weights(weight, 78.4)
    torch.testing.assert_close(out.sum(1), torch.full((5,), 78.4, dtype=D), rtol=1e-14, atol=0)
    # proportions within a neuron are kept
    torch.testing.assert_close(out / out[:, :1], weight / weight[:, :1], rtol=1e-12, atol=0)


def test_normalisation_leaves_an_all_zero_neuron_and_the_input_unchanged():
    weight = torch.tensor([[0.0, 0.0], [1.0, 3.0]], dtype=D)
    before = weight.clone()
    out = normalize_weights(weight, 2.0)
    assert out.tolist() == [[0.0, 0.0], [0.5, 1.5]]
    assert torch.equal(weight, before)


def test_normalisation_along_dim_0_normalises_columns():
    weight = torch.tensor([[1.0, 2.0], [3.0, 2.0]], dtype=D)
    assert normalize_weights(weight, 1.0, dim=0).tolist() == [[0.25, 0.5], [0.75, 0.5]]


# -- intrinsic plasticity ---------------------------------------------------------------------
@pytest.mark.parametrize("drive", [0.3, 0.08])  # too active (~300 Hz) / silent (v_inf < 1)
def test_intrinsic_plasticity_moves_the_rate_toward_the_target(drive):
    target = 50.0
    rule = IntrinsicPlasticity(target_rate_hz=target, eta=0.05, tau_rate=0.1, dt=DT)
    x = torch.full((1, 1), drive, dtype=D)

    def run(steps, adapt):
        state, ip, spikes = lif_initial_state(x), rule.initial_state(x[0]), []
        for _ in range(steps):
            z, state = lif_step(x, state, LIFParameters(tau_mem=10e-3, v_th=1.0 + ip.theta), DT)
            if adapt:
                ip = rule.update(z, ip)
            spikes.append(z.item())
        return spikes

    before = sum(run(500, adapt=False)) / (500 * DT)
    after = sum(run(2000, adapt=True)[-500:]) / (500 * DT)
    assert abs(before - target) > 40.0
    assert abs(after - target) < 5.0


def test_intrinsic_plasticity_step_follows_its_equations():
    rule = IntrinsicPlasticity(target_rate_hz=10.0, eta=0.5, tau_rate=20e-3, dt=DT)
    state = IPState(rate=torch.tensor([4.0], dtype=D), theta=torch.tensor([0.1], dtype=D))
    new = rule.update(torch.tensor([[1.0]], dtype=D), state)
    rho = math.exp(-DT / 20e-3)
    rate = rho * 4.0 + (1 - rho) * 1.0 / DT
    assert new.rate.item() == pytest.approx(rate, rel=1e-12)
    assert new.theta.item() == pytest.approx(0.1 + 0.5 * DT * (rate - 10.0), rel=1e-12)


# -- lateral inhibition -------------------------------------------------------------------------
def test_k_winners_take_all_keeps_exactly_k_spikes_with_the_highest_scores():
    g = torch.Generator().manual_seed(1)
    post = torch.ones(8, 10)
    scores = torch.rand(8, 10, generator=g)
    out = k_winners_take_all(post, scores, k=3)
    assert out.sum(1).tolist() == [3.0] * 8
    top = scores.topk(3, dim=1).indices
    assert torch.equal(out.gather(1, top), torch.ones(8, 3))


def test_k_winners_take_all_keeps_all_when_k_or_fewer_spike_and_never_adds_spikes():
    post = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    scores = torch.tensor([[9.0, 1.0, 8.0, 2.0], [1.0, 2.0, 3.0, 4.0]])
    assert torch.equal(k_winners_take_all(post, scores, k=2), post)
    assert k_winners_take_all(post, scores, k=1).tolist() == [[0, 0, 0, 1], [0, 0, 0, 0]]


def test_k_winners_take_all_breaks_ties_toward_the_lower_index():
    post, scores = torch.ones(1, 4), torch.tensor([[0.5, 0.7, 0.7, 0.7]])
    assert k_winners_take_all(post, scores, k=2).tolist() == [[0, 1, 1, 0]]


def test_lateral_inhibition_sends_minus_g_per_spike_to_the_other_neurons():
    post = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    assert lateral_inhibition(post, 0.5).tolist() == [[-1.0, -1.5, -1.0, -1.0]]
    assert lateral_inhibition(post, 0.5, include_self=True).tolist() == [[-1.5] * 4]


def test_soft_lateral_inhibition_makes_a_lif_layer_sparser():
    x = torch.full((1, 8), 0.25, dtype=D) + torch.linspace(0, 0.05, 8, dtype=D)

    def count(strength):
        state, inhibition, total = lif_initial_state(x), torch.zeros_like(x), 0.0
        for _ in range(200):
            z, state = lif_step(x + inhibition, state, LIFParameters(tau_mem=10e-3), DT)
            inhibition = lateral_inhibition(z, strength)
            total += z.sum().item()
        return total

    assert count(0.5) < count(0.0) / 2


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan")])
def test_non_positive_time_constants_are_refused(tau):
    with pytest.raises(ValueError, match="tau_theta"):
        AdaptiveThreshold(tau_theta=tau)
    with pytest.raises(ValueError, match="tau_rate"):
        IntrinsicPlasticity(tau_rate=tau)


def test_adaptive_threshold_refuses_bad_shapes_nan_and_negative_increments():
    rule = AdaptiveThreshold()
    with pytest.raises(ValueError, match=r"theta must have shape \[n\]"):
        rule.update(torch.zeros(2, 3), torch.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        rule.update(torch.tensor([[float("nan")]]), torch.zeros(1))
    with pytest.raises(ValueError, match="dimension"):
        rule.update(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="theta_plus"):
        AdaptiveThreshold(theta_plus=-0.1)
    with pytest.raises(ValueError, match="dt"):
        AdaptiveThreshold(dt=-1e-3)


def test_normalisation_refuses_negative_nan_or_bad_targets():
    with pytest.raises(ValueError, match="non-negative"):
        normalize_weights(torch.tensor([[1.0, -0.5]]), 1.0)
    with pytest.raises(ValueError, match="NaN"):
        normalize_weights(torch.tensor([[1.0, float("nan")]]), 1.0)
    with pytest.raises(ValueError, match="target_sum"):
        normalize_weights(torch.ones(2, 2), 0.0)
    with pytest.raises(ValueError, match="dim"):
        normalize_weights(torch.ones(2, 2), 1.0, dim=2)


def test_intrinsic_plasticity_refuses_bad_states_and_settings():
    rule = IntrinsicPlasticity()
    with pytest.raises(TypeError, match="IPState"):
        rule.update(torch.zeros(1, 3), torch.zeros(3))
    with pytest.raises(ValueError, match=r"state\.rate"):
        rule.update(torch.zeros(1, 3), rule.initial_state(torch.zeros(4)))
    mixed = IPState(rate=torch.zeros(3), theta=torch.zeros(1, 3))
    with pytest.raises(ValueError, match="same shape"):
        rule.update(torch.zeros(1, 3), mixed)
    with pytest.raises(ValueError, match="target_rate_hz"):
        IntrinsicPlasticity(target_rate_hz=-1.0)
    with pytest.raises(ValueError, match="eta"):
        IntrinsicPlasticity(eta=-1.0)


def test_winner_take_all_and_inhibition_refuse_bad_input():
    post = torch.ones(2, 4)
    with pytest.raises(ValueError, match="k must be"):
        k_winners_take_all(post, torch.ones(2, 4), k=0)
    with pytest.raises(ValueError, match="k must be"):
        k_winners_take_all(post, torch.ones(2, 4), k=5)
    with pytest.raises(ValueError, match="shape of post"):
        k_winners_take_all(post, torch.ones(2, 3), k=1)
    with pytest.raises(ValueError, match="NaN"):
        k_winners_take_all(post, torch.full((2, 4), float("nan")), k=1)
    with pytest.raises(ValueError, match="strength"):
        lateral_inhibition(post, -1.0)
    with pytest.raises(ValueError, match="NaN"):
        lateral_inhibition(torch.full((1, 2), float("nan")), 1.0)


def test_docstring_examples_run():
    import dendrix.plasticity.homeostasis as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

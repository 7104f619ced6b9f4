"""The stochastic escape-noise neuron: probabilities, seeds and both gradient estimators."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.spiking import StochasticLIF
from dendrix.spiking.functional.stochastic import (
    StochasticParameters,
    stochastic_initial_state,
    stochastic_step,
)


def _one_step(x, estimator="straight_through", seed=0, noise=0.2):
    p = StochasticParameters(
        v_th=1.0, noise=noise, estimator=estimator, generator=torch.Generator().manual_seed(seed)
    )
    return stochastic_step(x, stochastic_initial_state(x), p, 1e-3)


def test_firing_probability_is_the_sigmoid_of_the_scaled_distance_to_threshold():
    n = 40000
    for h, expected in ((1.0, 0.5), (1.2, 1 / (1 + math.exp(-1.0)))):
        z, _ = _one_step(torch.full((n,), h, dtype=torch.float64))
        sd = math.sqrt(expected * (1 - expected) / n)
        assert abs(z.mean().item() - expected) < 4 * sd


def test_the_same_seed_draws_the_same_spikes_and_another_seed_does_not():
    x = torch.full((1000,), 1.0)
    a, _ = _one_step(x, seed=1)
    b, _ = _one_step(x, seed=1)
    c, _ = _one_step(x, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_straight_through_gradient_is_dp_dh():
    x = torch.tensor([0.9, 1.0, 1.3], dtype=torch.float64, requires_grad=True)
    z, _ = _one_step(x, noise=0.2)
    z.sum().backward()
    p = torch.sigmoid((x.detach() - 1.0) / 0.2)
    torch.testing.assert_close(x.grad, p * (1 - p) / 0.2)


def test_reinforce_spikes_carry_no_gradient_and_the_log_likelihood_gradient_is_z_minus_p():
    x = torch.tensor([0.9, 1.0, 1.3, 1.1], dtype=torch.float64, requires_grad=True)
    z, state = _one_step(x, estimator="reinforce", noise=0.2)
    assert not z.requires_grad
    state.log_prob.sum().backward()
    p = torch.sigmoid((x.detach() - 1.0) / 0.2)
    torch.testing.assert_close(x.grad, (z - p) / 0.2)


def test_the_module_restarts_its_draws_after_manual_seed():
    cell = StochasticLIF(5, seed=3, return_state=False)
    x = torch.full((10, 2, 5), 0.9)
    first = cell(x)
    cell.manual_seed(3)
    assert torch.equal(cell(x), first)


def test_missing_generator_and_bad_noise_are_refused():
    x = torch.ones(3)
    with pytest.raises(ValueError, match="generator"):
        stochastic_step(x, stochastic_initial_state(x), StochasticParameters(), 1e-3)
    with pytest.raises(ValueError, match="noise"):
        StochasticLIF(3, noise=0.0)

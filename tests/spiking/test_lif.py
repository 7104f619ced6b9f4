"""Behaviour of the LIF neuron, one rule per test, with hand-derived expectations."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.spiking import LIF
from dendrix.spiking.functional.base import decay, scan
from dendrix.spiking.functional.lif import (
    LIFParameters,
    lif_charge,
    lif_fire,
    lif_initial_state,
    lif_reset,
    lif_step,
)
from dendrix.spiking.surrogate import FastSigmoid

D = torch.float64


def _run(p, x, dt=1e-3):
    return scan(lif_step, x, lif_initial_state(x[0]), p, dt)


def test_decay_is_exp_of_minus_dt_over_tau():
    assert decay(10e-3, 1e-3) == pytest.approx(math.exp(-0.1), rel=1e-15)


def test_subthreshold_membrane_follows_the_geometric_series():
    # v_n = I (1 - beta^n) / (1 - beta) for constant input I from rest
    beta, current, n = math.exp(-0.1), 0.05, 50
    x = torch.full((n, 1, 1), current, dtype=D)
    z, state = _run(LIFParameters(tau_mem=10e-3, v_th=1.0), x)
    assert z.sum() == 0
    assert state.v.item() == pytest.approx(current * (1 - beta**n) / (1 - beta), rel=1e-12)


def test_first_spike_comes_when_the_series_first_reaches_threshold():
    beta, current = math.exp(-0.1), 0.2
    expected = next(n for n in range(1, 100) if current * (1 - beta**n) / (1 - beta) >= 1.0)
    x = torch.full((60, 1, 1), current, dtype=D)
    z, _ = _run(LIFParameters(tau_mem=10e-3, v_th=1.0), x)
    assert int(z[:, 0, 0].nonzero()[0]) == expected - 1  # step index n-1 holds the n-th input


@pytest.mark.parametrize(("reset", "expected"), [("subtract", 0.3), ("zero", -0.2), ("none", 1.3)])
def test_reset_modes_after_a_spike_at_h_equal_1_3(reset, expected):
    x = torch.tensor([[1.3]], dtype=D)
    p = LIFParameters(v_th=1.0, reset=reset, v_reset=-0.2)
    z, state = lif_step(x, lif_initial_state(x), p, dt=1e-3)
    assert z.item() == 1.0
    assert state.v.item() == pytest.approx(expected, abs=1e-12)


def test_the_step_is_charge_then_fire_then_reset():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 7, generator=g, dtype=D) * 2
    v = torch.rand(5, 7, generator=g, dtype=D)
    p = LIFParameters(tau_mem=20e-3, v_th=0.9)
    beta = math.exp(-1e-3 / 20e-3)
    h = lif_charge(x, v, beta)
    z = lif_fire(h, 0.9, p.surrogate)
    v_new = lif_reset(h, z, 0.9, "subtract", 0.0, False)
    z_step, state = lif_step(x, lif_initial_state(x)._replace(v=v), p, 1e-3)
    assert torch.equal(z_step, z) and torch.equal(state.v, v_new)


def test_refractory_period_blocks_input_and_spikes_for_round_t_ref_over_dt_steps():
    x = torch.full((12, 1, 1), 5.0, dtype=D)
    z, _ = _run(LIFParameters(t_ref=3e-3, reset="zero"), x)
    assert z[:, 0, 0].nonzero().flatten().tolist() == [0, 4, 8]


def test_detach_reset_removes_the_reset_path_from_the_gradient():
    # one step from rest, h = x = 1.2 > 1: v = h - z*theta; dv/dx = 1 - theta*sigma'(h - theta)
    alpha = 10.0
    sigma_prime = 1.0 / (1.0 + alpha * 0.2) ** 2
    for detach, expected in ((False, 1.0 - sigma_prime), (True, 1.0)):
        x = torch.tensor([[1.2]], dtype=D, requires_grad=True)
        p = LIFParameters(detach_reset=detach, surrogate=FastSigmoid(alpha))
        _, state = lif_step(x, lif_initial_state(x), p, 1e-3)
        state.v.sum().backward()
        assert x.grad.item() == pytest.approx(expected, rel=1e-12)


def test_heterogeneous_time_constants_decay_each_neuron_at_its_own_rate():
    tau = torch.tensor([5e-3, 50e-3], dtype=D)
    x = torch.zeros(1, 1, 2, dtype=D)
    v0 = torch.full((1, 2), 0.5, dtype=D)
    state = lif_initial_state(x[0])._replace(v=v0)
    _, out = scan(lif_step, x, state, LIFParameters(tau_mem=tau), 1e-3)
    expected = [0.5 * math.exp(-1 / 5), 0.5 * math.exp(-1 / 50)]
    assert out.v[0].tolist() == pytest.approx(expected, rel=1e-12)


def test_learnable_time_constants_stay_inside_their_bounds_after_wild_updates():
    lif = LIF(4, tau_mem=10e-3, learn_tau=True, learn_threshold=True, tau_bounds=(2e-3, 50e-3))
    with torch.no_grad():
        for p in lif.parameters():
            p.copy_(torch.tensor([-1e4, 1e4, 0.0, 30.0]))
    tau = lif.tau_mem()
    assert bool(((tau >= 2e-3) & (tau <= 50e-3)).all())
    assert lif.tau_mem().tolist()[2] == pytest.approx(2e-3 + 48e-3 * 0.5)


def test_learnable_constants_start_at_the_value_given():
    tau = torch.tensor([5e-3, 8e-3, 13e-3])
    lif = LIF(3, tau_mem=tau, learn_tau=True)
    torch.testing.assert_close(lif.tau_mem(), tau, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dt": 0.0}, "dt"),
        ({"dt": -1e-3}, "dt"),
        ({"tau_mem": 0.0}, "tau_mem"),
        ({"tau_mem": -5e-3}, "tau_mem"),
        ({"tau_mem": torch.tensor([1e-3, -1e-3])}, "tau_mem"),
        ({"reset": "soft"}, "reset"),
        ({"surrogate": "relu"}, "surrogate"),
        ({"t_ref": -1e-3}, "t_ref"),
        ({"learn_tau": True, "shape": None}, "shape"),
        ({"tau_mem": float("nan")}, "tau_mem"),
    ],
)
def test_bad_constructor_arguments_are_refused_by_name(kwargs, match):
    kwargs = {"shape": 4, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        LIF(**kwargs)


def test_bounds_that_exclude_the_initial_value_are_refused():
    with pytest.raises(ValueError, match="bounds"):
        LIF(4, tau_mem=10e-3, learn_tau=True, tau_bounds=(20e-3, 50e-3))

"""Behaviour of the adaptive-threshold LIF neuron (Bellec et al. 2018)."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.spiking import ALIF
from dendrix.spiking.functional.alif import ALIFParameters, alif_initial_state, alif_step
from dendrix.spiking.functional.base import scan


def test_one_spike_raises_the_next_threshold_by_b_times_one_minus_rho():
    rho = math.exp(-1e-3 / 0.2)
    p = ALIFParameters(tau_adapt=0.2, beta_adapt=2.0, v_th=1.0)
    x = torch.tensor([[1.5]], dtype=torch.float64)
    z, state = alif_step(x, alif_initial_state(x), p, 1e-3)
    assert z.item() == 1.0
    assert state.a.item() == pytest.approx(1 - rho, rel=1e-12)
    # next step: threshold 1 + 2(1-rho); a membrane just below it does not fire
    theta = 1.0 + 2.0 * (1 - rho)
    below = state._replace(v=torch.zeros_like(x))
    z2, _ = alif_step(torch.full_like(x, theta - 1e-9), below, p, 1e-3)
    z3, _ = alif_step(torch.full_like(x, theta + 1e-9), below, p, 1e-3)
    assert z2.item() == 0.0 and z3.item() == 1.0


def test_constant_input_gives_growing_interspike_intervals():
    x = torch.full((400, 1, 1), 0.4, dtype=torch.float64)
    p = ALIFParameters(tau_mem=20e-3, tau_adapt=0.2, beta_adapt=3.0)
    z, _ = scan(alif_step, x, alif_initial_state(x[0]), p, 1e-3)
    times = z.flatten().nonzero().flatten()
    isi = times.diff()
    assert len(isi) >= 4 and isi[-1] > isi[0]


def test_without_adaptation_it_is_a_lif_neuron():
    from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state, lif_step

    x = torch.rand(50, 3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z_alif, _ = scan(alif_step, x, alif_initial_state(x[0]), ALIFParameters(beta_adapt=0.0), 1e-3)
    z_lif, _ = scan(lif_step, x, lif_initial_state(x[0]), LIFParameters(tau_mem=20e-3), 1e-3)
    assert torch.equal(z_alif, z_lif) and z_lif.sum() > 0


def test_bad_adaptation_time_constant_is_refused_by_name():
    with pytest.raises(ValueError, match="tau_adapt"):
        ALIF(4, tau_adapt=-1.0)

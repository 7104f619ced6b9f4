"""Behaviour of the conductance-based LIF neuron, with hand-derived expectations."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.spiking.functional.base import scan
from dendrix.spiking.functional.coba_lif import (
    CobaLIFParameters,
    CobaLIFState,
    coba_lif_charge,
    coba_lif_conductance,
    coba_lif_fire,
    coba_lif_initial_state,
    coba_lif_reset,
    coba_lif_step,
)
from dendrix.spiking.modules import CobaLIF

DT = 0.5e-3


def _state(v: float, n: int = 1, **fields: float) -> CobaLIFState:
    full = lambda value: torch.full((1, n), float(value), dtype=torch.float64)  # noqa: E731
    return CobaLIFState(
        v=full(v), g_e=full(fields.get("g_e", 0)), g_i=full(fields.get("g_i", 0)), r=full(0)
    )


def test_conductances_decay_exponentially_after_one_jump():
    p = CobaLIFParameters(v_th=1e3)  # never fires
    state = _state(-65.0)
    x = torch.zeros(1, 1, dtype=torch.float64)
    _, state = coba_lif_step(x + 3.0, state, p, DT, x_inh=x + 2.0)
    for t in range(1, 20):
        _, state = coba_lif_step(x, state, p, DT, x_inh=x)
        assert state.g_e.item() == pytest.approx(3.0 * math.exp(-t * DT / 1e-3), rel=1e-12)
        assert state.g_i.item() == pytest.approx(2.0 * math.exp(-t * DT / 2e-3), rel=1e-12)


def test_without_conductance_the_membrane_relaxes_to_rest_with_tau_mem():
    p = CobaLIFParameters(v_th=1e3)
    state = _state(-105.0)  # Diehl & Cook start 40 mV below rest
    x = torch.zeros(1, 1, dtype=torch.float64)
    for t in range(1, 50):
        _, state = coba_lif_step(x, state, p, DT)
        expected = -65.0 - 40.0 * math.exp(-t * DT / 100e-3)
        assert state.v.item() == pytest.approx(expected, rel=1e-12)


def test_one_step_with_a_conductance_jump_moves_v_exactly_towards_v_inf():
    # g_e = 4, g_i = 1: v_inf = (-65 + 4 * 0 + 1 * (-100)) / 6, rate (1 + 5) / tau_m
    p = CobaLIFParameters(v_th=1e3)
    x = torch.tensor([[4.0]], dtype=torch.float64)
    _, state = coba_lif_step(x, _state(-65.0), p, DT, x_inh=x / 4)
    v_inf = (-65.0 - 100.0) / 6.0
    expected = v_inf + (-65.0 - v_inf) * math.exp(-DT * 6.0 / 100e-3)
    assert state.v.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("strength", [1e1, 1e3, 1e6])
def test_reversal_potentials_bound_the_membrane_however_strong_the_input(strength):
    p = CobaLIFParameters(v_th=1e3)  # no spike, so nothing resets v
    x = torch.full((1, 1), strength, dtype=torch.float64)
    zero = torch.zeros_like(x)
    state = _state(-65.0)
    for _ in range(40):
        _, state = coba_lif_step(x, state, p, DT)
        assert -65.0 <= state.v.item() <= 0.0  # between v_rest and E_exc
    assert state.v.item() > -65.0 / (1.0 + strength)  # close to E_exc = 0 mV
    state = _state(-65.0)
    for _ in range(40):
        _, state = coba_lif_step(zero, state, p, DT, x_inh=x)
        assert -100.0 <= state.v.item() <= -65.0  # between E_inh and v_rest


def test_refractory_clamps_v_at_reset_blocks_spikes_and_lets_conductance_integrate():
    p = CobaLIFParameters(t_ref=5e-3)  # 10 steps of 0.5 ms
    x = torch.full((1, 1), 300.0, dtype=torch.float64)  # fires whenever it is free
    state = _state(-65.0)
    spikes, voltages, conductances = [], [], []
    for _ in range(25):
        z, state = coba_lif_step(x, state, p, DT)
        spikes.append(int(z.item()))
        voltages.append(state.v.item())
        conductances.append(state.g_e.item())
    first = spikes.index(1)
    assert first == 0
    assert spikes[first + 1 : first + 11] == [0] * 10  # n_ref = round(5 ms / 0.5 ms)
    assert spikes[first + 11] == 1
    assert voltages[first : first + 11] == [-65.0] * 11  # clamped at v_reset
    alpha = math.exp(-DT / 1e-3)
    assert conductances[5] == pytest.approx(300.0 * sum(alpha**k for k in range(6)), rel=1e-12)


def test_without_refractory_a_strong_input_fires_every_step():
    p = CobaLIFParameters(t_ref=0.0)
    x = torch.full((10, 1, 1), 300.0, dtype=torch.float64)
    z, _ = scan(coba_lif_step, x, coba_lif_initial_state(x[0], p), p, DT)
    assert z.sum().item() == 10


def test_the_step_is_the_composition_of_its_phases():
    p = CobaLIFParameters.diehl_cook_inhibitory(t_ref=0.0)
    g = torch.Generator().manual_seed(0)
    x = 20 * torch.rand(4, 5, generator=g, dtype=torch.float64)
    x_inh = 5 * torch.rand(4, 5, generator=g, dtype=torch.float64)
    state = coba_lif_initial_state(x, p)._replace(v=-70 + 30 * torch.rand(4, 5, generator=g))
    z, new = coba_lif_step(x, state, p, DT, x_inh=x_inh)
    g_e = coba_lif_conductance(state.g_e, x, math.exp(-DT / p.tau_ge))
    g_i = coba_lif_conductance(state.g_i, x_inh, math.exp(-DT / p.tau_gi))
    h = coba_lif_charge(state.v, g_e, g_i, p, DT)
    z_ref = coba_lif_fire(h, p)
    assert torch.equal(z, z_ref) and 0 < z.sum() < z.numel()
    assert torch.equal(new.v, coba_lif_reset(h, z_ref, p.v_reset, False))
    assert torch.equal(new.g_e, g_e) and torch.equal(new.g_i, g_i)


def test_diehl_cook_presets_carry_the_published_constants():
    e = CobaLIFParameters.diehl_cook_excitatory()
    i = CobaLIFParameters.diehl_cook_inhibitory()
    assert (e.v_rest, e.v_reset, e.v_th, e.tau_mem, e.t_ref, e.e_inh) == (
        -65.0,
        -65.0,
        -52.0,
        100e-3,
        5e-3,
        -100.0,
    )
    assert (i.v_rest, i.v_reset, i.v_th, i.tau_mem, i.t_ref, i.e_inh) == (
        -60.0,
        -45.0,
        -40.0,
        10e-3,
        2e-3,
        -85.0,
    )
    assert e.tau_ge == i.tau_ge == 1e-3 and e.tau_gi == i.tau_gi == 2e-3 and e.e_exc == 0.0


def test_module_with_inhibitory_input_equals_the_functional_loop():
    g = torch.Generator().manual_seed(1)
    x = 2 * torch.rand(30, 2, 3, generator=g, dtype=torch.float64)
    x_inh = torch.rand(30, 2, 3, generator=g, dtype=torch.float64)
    cell = CobaLIF(3, tau_mem=20e-3, t_ref=2e-3).to(torch.float64)
    z, state = cell(x, x_inh=x_inh)
    ref_state = coba_lif_initial_state(x[0], cell.params())
    outs = []
    for x_t, i_t in zip(x, x_inh, strict=True):
        z_t, ref_state = coba_lif_step(x_t, ref_state, cell.params(), cell.dt, i_t)
        outs.append(z_t)
    assert torch.equal(z, torch.stack(outs)) and z.sum() > 0
    assert torch.equal(state.v, ref_state.v)
    z0, s0 = cell.step(x[0], x_inh=x_inh[0])
    assert torch.equal(z0, z[0]) and torch.equal(s0.g_i, x_inh[0])


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="tau_ge"):
        CobaLIF(4, tau_ge=0.0)
    with pytest.raises(ValueError, match="e_inh"):
        CobaLIF(4, e_inh=10.0)
    with pytest.raises(ValueError, match="v_scale"):
        CobaLIF(4, v_scale=0.0)
    cell = CobaLIF(4)
    with pytest.raises(ValueError, match="x_inh"):
        cell(torch.rand(5, 2, 4), x_inh=torch.rand(5, 2, 3))

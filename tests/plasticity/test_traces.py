"""Exponential spike traces, one rule per test, with hand-derived values."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.plasticity.traces import (
    TraceParameters,
    TraceState,
    trace_decay,
    trace_initial_state,
    trace_spike,
    trace_step,
)
from dendrix.spiking.functional.base import scan

D = torch.float64
DT, TAU = 1e-3, 10e-3


def _run(spikes, p):
    """Trace values after each step of a spike train ``[T, B, n]``."""

    def step(s, state, p, dt):
        return trace_step(s, state, p, dt)

    return scan(step, spikes, trace_initial_state(spikes[0]), p, DT)[0]


def _train(*times, steps=8):
    s = torch.zeros(steps, 1, 1, dtype=D)
    s[list(times), 0, 0] = 1.0
    return s


def test_a_single_spike_jumps_by_the_amplitude_then_decays_by_exp_minus_dt_over_tau():
    x = _run(_train(0), TraceParameters(tau=TAU, amplitude=0.5))[:, 0, 0]
    expected = [0.5 * math.exp(-n * DT / TAU) for n in range(8)]
    assert x.tolist() == pytest.approx(expected, rel=1e-12)


def test_all_to_all_traces_add_the_kernels_of_every_spike():
    x = _run(_train(0, 3), TraceParameters(tau=TAU))[:, 0, 0]
    # at step 5: exp(-5 dt/tau) + exp(-2 dt/tau)
    assert x[5].item() == pytest.approx(math.exp(-0.5) + math.exp(-0.2), rel=1e-12)


def test_nearest_traces_reset_to_the_amplitude_and_forget_earlier_spikes():
    x = _run(_train(0, 3), TraceParameters(tau=TAU, mode="nearest"))[:, 0, 0]
    assert x[3].item() == 1.0
    assert x[5].item() == pytest.approx(math.exp(-0.2), rel=1e-12)


def test_the_step_is_decay_then_spike():
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(3, 4, generator=g, dtype=D)
    s = (torch.rand(3, 4, generator=g, dtype=D) > 0.5).to(D)
    for mode in ("all_to_all", "nearest"):
        p = TraceParameters(tau=TAU, amplitude=0.7, mode=mode)
        x, state = trace_step(s, TraceState(x=x0), p, DT)
        expected = trace_spike(trace_decay(x0, math.exp(-DT / TAU)), s, 0.7, mode)
        assert torch.equal(x, expected) and torch.equal(state.x, x)


def test_graded_rates_are_leaky_integrated():
    # constant rate r per step -> x_inf = r / (1 - exp(-dt/tau))
    s = torch.full((400, 1, 1), 0.2, dtype=D)
    x = _run(s, TraceParameters(tau=TAU))[-1, 0, 0]
    assert x.item() == pytest.approx(0.2 / (1 - math.exp(-DT / TAU)), rel=1e-9)


def test_per_neuron_time_constants_broadcast():
    s = torch.ones(1, 2, dtype=D)
    state = TraceState(x=torch.ones(1, 2, dtype=D))
    tau = torch.tensor([10e-3, 20e-3], dtype=D)
    x, _ = trace_step(torch.zeros_like(s), state, TraceParameters(tau=tau), DT)
    assert x[0].tolist() == pytest.approx([math.exp(-0.1), math.exp(-0.05)], rel=1e-12)


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", [0.0, -1e-3, float("nan")])
def test_non_positive_or_nan_tau_is_refused(tau):
    s = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="tau"):
        trace_step(s, trace_initial_state(s), TraceParameters(tau=tau), DT)


def test_non_positive_dt_is_refused():
    s = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="dt"):
        trace_step(s, trace_initial_state(s), TraceParameters(), 0.0)


def test_unknown_mode_is_refused_by_the_step_and_the_phase():
    s = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="mode"):
        trace_step(s, trace_initial_state(s), TraceParameters(mode="pairs"), DT)
    with pytest.raises(ValueError, match="nearest"):
        trace_spike(s, s, 1.0, "pairs")


def test_a_state_of_another_shape_is_refused_with_the_builder_named():
    with pytest.raises(ValueError, match="trace_initial_state"):
        trace_step(torch.zeros(2, 3), trace_initial_state(torch.zeros(2, 4)), TraceParameters(), DT)
    with pytest.raises(TypeError, match="TraceState"):
        trace_step(torch.zeros(2, 3), torch.zeros(2, 3), TraceParameters(), DT)


def test_nan_spikes_or_state_are_refused():
    s = torch.zeros(1, 2)
    bad = torch.tensor([[float("nan"), 0.0]])
    with pytest.raises(ValueError, match="NaN"):
        trace_step(bad, trace_initial_state(s), TraceParameters(), DT)
    with pytest.raises(ValueError, match="NaN"):
        trace_step(s, TraceState(x=bad), TraceParameters(), DT)


def test_integer_spikes_are_refused():
    with pytest.raises(TypeError, match="floating"):
        trace_initial_state(torch.zeros(1, 2, dtype=torch.int64))


def test_docstring_examples_run():
    import dendrix.plasticity.traces as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

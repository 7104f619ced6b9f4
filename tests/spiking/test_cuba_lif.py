"""Behaviour of the current-based LIF neuron, with hand-derived expectations."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.spiking import CubaLIF
from dendrix.spiking.functional.base import scan
from dendrix.spiking.functional.cuba_lif import (
    CubaLIFParameters,
    cuba_lif_initial_state,
    cuba_lif_step,
)


def test_impulse_response_is_the_difference_of_two_exponentials():
    # i_t = a^t, v_t = sum_k b^(t-k) a^k = (a^(t+1) - b^(t+1)) / (a - b)
    a, b = math.exp(-1 / 5), math.exp(-1 / 10)
    x = torch.zeros(30, 1, 1, dtype=torch.float64)
    x[0] = 1.0
    p = CubaLIFParameters(tau_syn=5e-3, tau_mem=10e-3, v_th=100.0)
    state = cuba_lif_initial_state(x[0])
    for t in range(30):
        _, state = cuba_lif_step(x[t], state, p, 1e-3)
        assert state.i.item() == pytest.approx(a**t, rel=1e-12)
        assert state.v.item() == pytest.approx((a ** (t + 1) - b ** (t + 1)) / (a - b), rel=1e-12)


def test_a_synaptic_current_delays_the_first_spike_compared_with_lif():
    from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state, lif_step

    x = torch.full((40, 1, 1), 0.3, dtype=torch.float64)
    z_lif, _ = scan(lif_step, x, lif_initial_state(x[0]), LIFParameters(), 1e-3)
    z_cuba, _ = scan(
        cuba_lif_step, x, cuba_lif_initial_state(x[0]), CubaLIFParameters(v_th=3.0), 1e-3
    )
    assert z_lif.sum() > 0 and z_cuba.sum() > 0
    first = lambda z: int(z.flatten().nonzero()[0])  # noqa: E731
    assert first(z_cuba) > first(z_lif)


def test_bad_time_constants_are_refused_by_name():
    with pytest.raises(ValueError, match="tau_syn"):
        CubaLIF(4, tau_syn=0.0)

"""Firing patterns of the Izhikevich presets (Izhikevich 2003, fig. 2) under I = 10."""

from __future__ import annotations

import pytest
import torch

from dendrix.spiking import Izhikevich
from dendrix.spiking.functional.izhikevich import IzhikevichParameters, izhikevich_initial_state


def _isi(preset: str, steps: int = 2000) -> torch.Tensor:
    cell = Izhikevich(preset=preset, dt=0.25e-3, return_state=False)
    z = cell(torch.full((steps, 1, 1), 10.0, dtype=torch.float64))
    return z.flatten().nonzero().flatten().diff().double()


def test_rest_is_v_equal_c_and_u_equal_b_c():
    s = izhikevich_initial_state(torch.zeros(1, 1), IzhikevichParameters.chattering())
    assert (s.v.item(), s.u.item()) == (-50.0, pytest.approx(-10.0))


def test_regular_spiking_adapts_its_rate():
    isi = _isi("regular_spiking")
    assert len(isi) >= 5 and isi[-1] > 1.5 * isi[0]


def test_fast_spiking_fires_faster_and_adapts_little():
    fs, rs = _isi("fast_spiking"), _isi("regular_spiking")
    assert len(fs) > 2 * len(rs)
    steady = fs[2:]
    assert steady.max() - steady.min() <= 0.1 * steady.mean()


def test_chattering_fires_bursts():
    isi = _isi("chattering")
    assert isi.min() < 0.3 * isi.max()


def test_unknown_preset_is_refused_by_name():
    with pytest.raises(ValueError, match="preset"):
        Izhikevich(preset="bursting")

r"""Izhikevich neuron, one forward-Euler time step.

.. math::

    \dot v &= 0.04 v^2 + 5 v + 140 - u + I \\
    \dot u &= a (b v - u) \\
    \text{if } v \ge v_{peak}:&\quad z = 1,\ v \leftarrow c,\ u \leftarrow u + d

:math:`v` is the membrane potential in mV, :math:`u` the recovery variable (mV), :math:`I` the
input current (mV/ms), time derivatives per millisecond as published; :math:`a` (1/ms),
:math:`b` (dimensionless), :math:`c` (mV, reset) and :math:`d` (mV, recovery jump) choose the
firing type (presets on :class:`IzhikevichParameters`). The step ``dt`` is given in seconds like
everywhere in dendrix and converted to ms here; forward Euler needs ``dt <= 0.5e-3`` s for the
quadratic term to stay stable (Izhikevich's own code uses two 0.5 ms half-steps). The spike uses
a surrogate on :math:`(v - v_{peak})/v_{scale}` so it is trainable. Izhikevich 2003, "Simple
model of spiking neurons", IEEE Trans. Neural Netw. 14:1569.

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.izhikevich import (
    ...     IzhikevichParameters, izhikevich_initial_state, izhikevich_step)
    >>> p = IzhikevichParameters.regular_spiking()
    >>> s = izhikevich_initial_state(torch.zeros(1, 1), p)
    >>> s.v.item(), s.u.item()
    (-65.0, -13.0)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dendrix.spiking.surrogate import FastSigmoid, Surrogate

__all__ = ["IzhikevichParameters", "IzhikevichState", "izhikevich_initial_state", "izhikevich_step"]


class IzhikevichState(NamedTuple):
    """State ``[B, ...]`` each: membrane ``v`` (mV) and recovery ``u`` (mV)."""

    v: Tensor
    u: Tensor


class IzhikevichParameters(NamedTuple):
    """Parameters of :func:`izhikevich_step` (published units: mV, ms)."""

    a: Tensor | float = 0.02
    b: Tensor | float = 0.2
    c: Tensor | float = -65.0
    d: Tensor | float = 8.0
    v_peak: float = 30.0
    v_scale: float = 10.0
    surrogate: Surrogate = FastSigmoid()

    @classmethod
    def regular_spiking(cls) -> IzhikevichParameters:
        """RS cortical pyramidal cell: a=0.02, b=0.2, c=-65, d=8 (Izhikevich 2003, fig. 2)."""
        return cls(a=0.02, b=0.2, c=-65.0, d=8.0)

    @classmethod
    def intrinsically_bursting(cls) -> IzhikevichParameters:
        """IB: a=0.02, b=0.2, c=-55, d=4."""
        return cls(a=0.02, b=0.2, c=-55.0, d=4.0)

    @classmethod
    def chattering(cls) -> IzhikevichParameters:
        """CH: a=0.02, b=0.2, c=-50, d=2."""
        return cls(a=0.02, b=0.2, c=-50.0, d=2.0)

    @classmethod
    def fast_spiking(cls) -> IzhikevichParameters:
        """FS interneuron: a=0.1, b=0.2, c=-65, d=2."""
        return cls(a=0.1, b=0.2, c=-65.0, d=2.0)


def izhikevich_initial_state(x: Tensor, p: IzhikevichParameters) -> IzhikevichState:
    """Rest shaped like one input step: :math:`v = c`, :math:`u = b\\,c`."""
    v = torch.zeros_like(x) + p.c
    return IzhikevichState(v=v, u=p.b * v)


def izhikevich_step(
    x: Tensor, state: IzhikevichState, p: IzhikevichParameters, dt: float
) -> tuple[Tensor, IzhikevichState]:
    """One Euler step of ``dt`` seconds; ``x`` is the current :math:`I` ``[B, ...]``."""
    ms = dt * 1e3
    v, u = state.v, state.u
    v_new = v + ms * (0.04 * v * v + 5.0 * v + 140.0 - u + x)
    u_new = u + ms * p.a * (p.b * v - u)
    z = p.surrogate((v_new - p.v_peak) / p.v_scale)
    v_out = z * p.c + (1.0 - z) * v_new
    u_out = u_new + z * p.d
    return z, IzhikevichState(v=v_out, u=u_out)

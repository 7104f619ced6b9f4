r"""Current-based LIF neuron (LIF with an exponential synaptic current), one time step.

.. math::

    i_t &= \alpha\, i_{t-1} + I_t, \qquad \alpha = e^{-dt/\tau_{syn}}  &\text{(synapse)}\\
    h_t &= \beta\, v_{t-1} + i_t, \qquad \beta = e^{-dt/\tau_{mem}}   &\text{(charge)}\\
    z_t &= H(h_t - \vartheta), \qquad v_t = \mathrm{reset}(h_t, z_t)   &\text{(fire, reset)}

:math:`i` is the synaptic current and :math:`v` the membrane potential (dimensionless, same
units as the threshold :math:`\vartheta`); :math:`\tau_{syn}`, :math:`\tau_{mem}` and :math:`dt`
are in seconds. Fire and reset are those of :mod:`dendrix.spiking.functional.lif`. The input
:math:`I_t` is the charge delivered in the step. Gerstner et al. 2014, *Neuronal Dynamics*,
§1.3; the discrete form of Neftci, Mostafa & Zenke 2019, eq. 2-3.

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.cuba_lif import (
    ...     CubaLIFParameters, cuba_lif_initial_state, cuba_lif_step)
    >>> x = torch.tensor([[0.5]])
    >>> p = CubaLIFParameters(tau_syn=5e-3, tau_mem=10e-3)
    >>> z, s = cuba_lif_step(x, cuba_lif_initial_state(x), p, dt=1e-3)
    >>> s.i.item(), s.v.item()
    (0.5, 0.5)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.functional.lif import lif_charge, lif_fire, lif_reset
from dendrix.spiking.surrogate import FastSigmoid, Surrogate

__all__ = ["CubaLIFParameters", "CubaLIFState", "cuba_lif_initial_state", "cuba_lif_step"]


class CubaLIFState(NamedTuple):
    """State ``[B, ...]`` each: membrane ``v`` and synaptic current ``i``."""

    v: Tensor
    i: Tensor


class CubaLIFParameters(NamedTuple):
    """Parameters of :func:`cuba_lif_step` (time constants in seconds, floats or tensors)."""

    tau_syn: Tensor | float = 5e-3
    tau_mem: Tensor | float = 10e-3
    v_th: Tensor | float = 1.0
    v_reset: float = 0.0
    reset: str = "subtract"
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()


def cuba_lif_initial_state(x: Tensor) -> CubaLIFState:
    """Resting state shaped like one input step ``x``: ``v = 0``, ``i = 0``."""
    return CubaLIFState(v=torch.zeros_like(x), i=torch.zeros_like(x))


def cuba_lif_step(
    x: Tensor, state: CubaLIFState, p: CubaLIFParameters, dt: float
) -> tuple[Tensor, CubaLIFState]:
    """One step (module docstring). ``x`` is ``[B, ...]``; returns ``(z, state)``."""
    alpha = decay_unchecked(p.tau_syn, dt)
    beta = decay_unchecked(p.tau_mem, dt)
    i = alpha * state.i + x
    h = lif_charge(i, state.v, beta)
    z = lif_fire(h, p.v_th, p.surrogate)
    v = lif_reset(h, z, p.v_th, p.reset, p.v_reset, p.detach_reset)
    return z, CubaLIFState(v=v, i=i)

r"""Adaptive-threshold LIF neuron (ALIF), one time step.

.. math::

    h_t &= \beta\, v_{t-1} + I_t, \qquad \beta = e^{-dt/\tau_{mem}}       &\text{(charge)}\\
    \vartheta_t &= \vartheta_0 + b\, a_{t-1}                                 &\text{(threshold)}\\
    z_t &= H(h_t - \vartheta_t), \qquad v_t = \mathrm{reset}(h_t, z_t, \vartheta_t)
                                                                             &\text{(fire, reset)}\\
    a_t &= \rho\, a_{t-1} + (1 - \rho) z_t, \qquad \rho = e^{-dt/\tau_{adapt}} &\text{(adapt)}

:math:`a` is a low-pass trace of the neuron's own spikes (a rate, dimensionless in [0, 1]),
:math:`b` (``beta_adapt``) how far one unit of it raises the threshold above the baseline
:math:`\vartheta_0`; :math:`\tau_{mem}`, :math:`\tau_{adapt}` and :math:`dt` are in seconds.
Reset by subtraction removes the current threshold :math:`\vartheta_t`. Bellec et al. 2018,
"Long short-term memory and learning-to-learn in networks of spiking neurons", NeurIPS, eq. 1-3
(their :math:`a` update uses :math:`z_{t-1}`; here the spike of step :math:`t` enters
:math:`a_t`, which the threshold of step :math:`t+1` reads, the same one-step delay).

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.alif import (
    ...     ALIFParameters, alif_initial_state, alif_step)
    >>> x = torch.tensor([[1.5]])
    >>> p = ALIFParameters(tau_adapt=0.2, beta_adapt=2.0)
    >>> z, s = alif_step(x, alif_initial_state(x), p, dt=1e-3)
    >>> z.item(), round(s.a.item(), 6)
    (1.0, 0.004988)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.functional.lif import lif_charge, lif_fire, lif_reset
from dendrix.spiking.surrogate import FastSigmoid, Surrogate

__all__ = ["ALIFParameters", "ALIFState", "alif_initial_state", "alif_step", "alif_threshold"]


class ALIFState(NamedTuple):
    """State ``[B, ...]`` each: membrane ``v`` and adaptation trace ``a``."""

    v: Tensor
    a: Tensor


class ALIFParameters(NamedTuple):
    """Parameters of :func:`alif_step` (time constants in seconds, floats or tensors)."""

    tau_mem: Tensor | float = 20e-3
    tau_adapt: Tensor | float = 200e-3
    v_th: Tensor | float = 1.0
    beta_adapt: Tensor | float = 1.8
    v_reset: float = 0.0
    reset: str = "subtract"
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()


def alif_initial_state(x: Tensor) -> ALIFState:
    """Resting state shaped like one input step ``x``: ``v = 0``, ``a = 0``."""
    return ALIFState(v=torch.zeros_like(x), a=torch.zeros_like(x))


def alif_threshold(a: Tensor, p: ALIFParameters) -> Tensor:
    """:math:`\\vartheta_t = \\vartheta_0 + b\\, a_{t-1}`."""
    return p.v_th + p.beta_adapt * a


def alif_step(
    x: Tensor, state: ALIFState, p: ALIFParameters, dt: float
) -> tuple[Tensor, ALIFState]:
    """One step (module docstring). ``x`` is ``[B, ...]``; returns ``(z, state)``."""
    beta = decay_unchecked(p.tau_mem, dt)
    rho = decay_unchecked(p.tau_adapt, dt)
    h = lif_charge(x, state.v, beta)
    theta = alif_threshold(state.a, p)
    z = lif_fire(h, theta, p.surrogate)
    v = lif_reset(h, z, theta, p.reset, p.v_reset, p.detach_reset)
    a = rho * state.a + (1.0 - rho) * z
    return z, ALIFState(v=v, a=a)

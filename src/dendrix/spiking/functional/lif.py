r"""Leaky integrate-and-fire neuron, one time step.

.. math::

    h_t &= \beta\, v_{t-1} + I_t, \qquad \beta = e^{-dt/\tau_{mem}}   &\text{(charge)}\\
    z_t &= H(h_t - \vartheta)                                         &\text{(fire)}\\
    v_t &= \begin{cases} h_t - z_t \vartheta & \text{reset = "subtract"}\\
                         h_t (1 - z_t) + z_t v_{reset} & \text{reset = "zero"}\\
                         h_t & \text{reset = "none"} \end{cases}          &\text{(reset)}

:math:`v` is the membrane potential and :math:`\vartheta` the threshold (dimensionless, default
1), :math:`I_t` the input already integrated over the step (same units as :math:`v`),
:math:`\tau_{mem}` the membrane time constant and :math:`dt` the step, in seconds. :math:`H` is
the Heaviside step, replaced in the backward pass by a surrogate derivative
(:mod:`dendrix.spiking.surrogate`). With ``detach_reset`` the reset uses :math:`z_t` without
gradient (Zenke & Vogels 2021, "The remarkable robustness of surrogate gradient learning").

An optional absolute refractory period ``t_ref`` (seconds, rounded to
:math:`n_{ref} = \mathrm{round}(t_{ref}/dt)` steps) blocks input and spikes for
:math:`n_{ref}` steps after each spike; the counter :math:`r` lives in the state.

Discretisation as in Neftci, Mostafa & Zenke 2019 and algorithms.md §11; Gerstner et al. 2014,
*Neuronal Dynamics*, ch. 1 for the model.

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state, lif_step
    >>> p = LIFParameters(tau_mem=10e-3, v_th=1.0)
    >>> x = torch.tensor([[0.6, 1.2]])
    >>> z, s = lif_step(x, lif_initial_state(x), p, dt=1e-3)
    >>> z.tolist(), s.v.tolist()
    ([[0.0, 1.0]], [[0.6000000238418579, 0.20000004768371582]])
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.surrogate import FastSigmoid, Surrogate

__all__ = [
    "RESETS",
    "LIFParameters",
    "LIFState",
    "lif_charge",
    "lif_fire",
    "lif_initial_state",
    "lif_reset",
    "lif_step",
    "refractory_steps",
]

RESETS = ("subtract", "zero", "none")


class LIFState(NamedTuple):
    """State of a LIF population, each ``[B, ...]``.

    Attributes:
        v: membrane potential (dimensionless).
        r: refractory steps left (0 when free; stays 0 without a refractory period).
    """

    v: Tensor
    r: Tensor


class LIFParameters(NamedTuple):
    """Parameters of :func:`lif_step`.

    Attributes:
        tau_mem: membrane time constant in seconds; a float or a tensor broadcastable to the
            feature shape (heterogeneous, possibly learnable).
        v_th: threshold :math:`\\vartheta` (float or tensor, like ``tau_mem``).
        v_reset: potential after a spike when ``reset="zero"``.
        reset: ``"subtract"``, ``"zero"`` or ``"none"``.
        t_ref: absolute refractory period in seconds (0 disables it).
        detach_reset: use the spike without gradient in the reset.
        surrogate: spike function (:class:`~dendrix.spiking.surrogate.Surrogate`).
    """

    tau_mem: Tensor | float = 10e-3
    v_th: Tensor | float = 1.0
    v_reset: float = 0.0
    reset: str = "subtract"
    t_ref: float = 0.0
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()


def lif_initial_state(x: Tensor, v0: float = 0.0) -> LIFState:
    """Resting state shaped like one input step ``x`` ``[B, ...]``: ``v = v0``, ``r = 0``."""
    return LIFState(v=torch.full_like(x, v0), r=torch.zeros_like(x))


def refractory_steps(t_ref: float, dt: float) -> int:
    """:math:`n_{ref} = \\mathrm{round}(t_{ref}/dt)`."""
    return round(t_ref / dt)


def lif_charge(x: Tensor, v: Tensor, beta: Tensor | float) -> Tensor:
    """:math:`h = \\beta v + I`."""
    return beta * v + x


def lif_fire(h: Tensor, v_th: Tensor | float, spike: Surrogate) -> Tensor:
    """:math:`z = H(h - \\vartheta)` with a surrogate gradient."""
    return spike(h - v_th)


def lif_reset(
    h: Tensor, z: Tensor, v_th: Tensor | float, reset: str, v_reset: float, detach: bool
) -> Tensor:
    """Membrane after the spike: subtract :math:`\\vartheta`, set to ``v_reset``, or keep."""
    if detach:
        z = z.detach()
    if reset == "subtract":
        return h - z * v_th
    if reset == "zero":
        return h * (1.0 - z) + z * v_reset
    if reset == "none":
        return h
    raise ValueError(f"reset must be one of {RESETS}; got {reset!r}.")


def lif_step(x: Tensor, state: LIFState, p: LIFParameters, dt: float) -> tuple[Tensor, LIFState]:
    """One step of the LIF neuron (module docstring): charge, fire, reset.

    Args:
        x: input :math:`I_t`, ``[B, ...]``.
        state: :class:`LIFState` of the same shape.
        p: :class:`LIFParameters`.
        dt: time step in seconds.

    Returns:
        ``(z, state)``: spikes ``[B, ...]`` (0/1 in the dtype of ``x``) and the new state.
    """
    beta = decay_unchecked(p.tau_mem, dt)
    n_ref = refractory_steps(p.t_ref, dt) if p.t_ref > 0 else 0
    if n_ref > 0:
        free = (state.r <= 0).to(x.dtype)
        h = lif_charge(x * free, state.v, beta)
        z = lif_fire(h, p.v_th, p.surrogate) * free
        r = torch.where(z > 0, torch.full_like(state.r, n_ref), (state.r - 1).clamp(min=0))
    else:
        h = lif_charge(x, state.v, beta)
        z = lif_fire(h, p.v_th, p.surrogate)
        r = state.r
    v = lif_reset(h, z, p.v_th, p.reset, p.v_reset, p.detach_reset)
    return z, LIFState(v=v, r=r)

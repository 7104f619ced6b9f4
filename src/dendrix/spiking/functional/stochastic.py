r"""Stochastic (escape-noise) LIF neuron, one time step.

.. math::

    h_t &= \beta\, v_{t-1} + I_t, \qquad \beta = e^{-dt/\tau_{mem}} \\
    p_t &= \mathrm{sigmoid}\big((h_t - \vartheta)/\Delta\big), \qquad
           z_t \sim \mathrm{Bernoulli}(p_t) \\
    v_t &= h_t - z_t \vartheta \qquad \text{(reset by subtraction)} \\
    \ell_t &= \ell_{t-1} + z_t \log p_t + (1 - z_t)\log(1 - p_t)

The firing probability rises smoothly with the membrane potential above threshold; the escape
noise width :math:`\Delta` (same units as :math:`v`) sets how stochastic it is (Gerstner et al.
2014, *Neuronal Dynamics*, ch. 9; Jang, Simeone, Gardner & Grüning 2019, "An introduction to
probabilistic spiking neural networks", IEEE Signal Process. Mag. 36:64).

Two gradient estimators:

- ``"straight_through"``: the sample is used forward, :math:`\partial z/\partial h =
  \partial p/\partial h` backward (Bengio, Léonard & Courville 2013).
- ``"reinforce"``: the sample carries no gradient; the state accumulates the log-likelihood
  :math:`\ell` of the spikes drawn, whose gradient gives the score-function (REINFORCE)
  estimate :math:`(R - b)\nabla\ell` (Williams 1992), e.g. ``loss = -(reward - baseline) *
  state.log_prob.sum()``.

Sampling takes an explicit ``torch.Generator`` (no global RNG).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.nn import functional as F

from dendrix.spiking.functional.base import decay_unchecked

__all__ = [
    "ESTIMATORS",
    "StochasticParameters",
    "StochasticState",
    "stochastic_initial_state",
    "stochastic_step",
]

ESTIMATORS = ("straight_through", "reinforce")


class StochasticState(NamedTuple):
    """State ``[B, ...]`` each: membrane ``v`` and accumulated log-likelihood ``log_prob``."""

    v: Tensor
    log_prob: Tensor


class StochasticParameters(NamedTuple):
    """Parameters of :func:`stochastic_step`.

    Attributes:
        tau_mem: membrane time constant in seconds.
        v_th: threshold :math:`\\vartheta`; noise: escape-noise width :math:`\\Delta` (> 0).
        estimator: ``"straight_through"`` or ``"reinforce"``.
        generator: the ``torch.Generator`` to draw spikes from (``None``: a fresh default
            generator is not used silently; the module always passes one).
    """

    tau_mem: Tensor | float = 10e-3
    v_th: Tensor | float = 1.0
    noise: Tensor | float = 0.1
    estimator: str = "straight_through"
    generator: torch.Generator | None = None


def stochastic_initial_state(x: Tensor) -> StochasticState:
    """Rest shaped like one input step: ``v = 0``, ``log_prob = 0``."""
    return StochasticState(v=torch.zeros_like(x), log_prob=torch.zeros_like(x))


def stochastic_step(
    x: Tensor, state: StochasticState, p: StochasticParameters, dt: float
) -> tuple[Tensor, StochasticState]:
    """One step (module docstring). ``x`` is ``[B, ...]``; returns ``(z, state)``."""
    if p.generator is None:
        raise ValueError(
            "stochastic_step needs p.generator, a torch.Generator on x's device; "
            "e.g. StochasticParameters(generator=torch.Generator().manual_seed(0))."
        )
    h = decay_unchecked(p.tau_mem, dt) * state.v + x
    u = (h - p.v_th) / p.noise
    prob = torch.sigmoid(u)
    sample = torch.bernoulli(prob.detach(), generator=p.generator)
    if p.estimator == "straight_through":
        z = prob + (sample - prob).detach()
    elif p.estimator == "reinforce":
        z = sample
    else:
        raise ValueError(f"estimator must be one of {ESTIMATORS}; got {p.estimator!r}.")
    logp = sample * F.logsigmoid(u) + (1 - sample) * F.logsigmoid(-u)
    v = h - z * p.v_th
    return z, StochasticState(v=v, log_prob=state.log_prob + logp)

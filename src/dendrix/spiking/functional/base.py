"""What every neuron family shares: the unit convention, the decay helper and the time loop.

**Units.** Time is in seconds: time constants ``tau_*`` and the step ``dt`` are seconds, rates
are hertz. Membrane potentials and thresholds are dimensionless (the default threshold is 1),
except for the Izhikevich neuron, which keeps its published millivolts.

**Time first.** A sequence is ``[T, B, ...]``: time steps first, then the batch, then any
feature shape. A step function sees one slice ``[B, ...]``.

**Decay.** A first-order linear ODE :math:`\\tau \\dot v = -v + \\dots` integrated exactly over a
step ``dt`` decays by :math:`e^{-dt/\\tau}`; :func:`decay` computes that factor in one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

from dendrix._validation import check_float

__all__ = ["check_time_constant", "decay", "decay_unchecked", "scan"]

S = TypeVar("S")


def check_time_constant(name: str, tau: Tensor | float) -> None:
    """Raise unless every entry of ``tau`` (seconds) is finite and > 0."""
    if isinstance(tau, Tensor):
        if not tau.is_floating_point():
            raise TypeError(f"{name} must be a floating tensor in seconds, got {tau.dtype}.")
        if torch.compiler.is_compiling():
            return
        if not bool(torch.isfinite(tau).all()) or not bool((tau > 0).all()):
            raise ValueError(
                f"{name} must be finite and > 0 seconds everywhere; got min {tau.min().item():g}."
                " Time constants are in seconds, e.g. 10e-3 for 10 ms."
            )
    else:
        check_float(name, tau, minimum=0.0, open_min=True, hint="Give it in seconds, e.g. 10e-3.")


def decay(tau: Tensor | float, dt: float) -> Tensor | float:
    """:math:`e^{-dt/\\tau}` for a time constant ``tau`` and step ``dt``, both in seconds."""
    check_float("dt", dt, minimum=0.0, open_min=True, hint="Give the time step in seconds.")
    check_time_constant("tau", tau)
    return decay_unchecked(tau, dt)


def decay_unchecked(tau: Tensor | float, dt: float) -> Tensor | float:
    """:func:`decay` without argument checks, for step functions called inside a time loop."""
    if isinstance(tau, Tensor):
        return torch.exp(-dt / tau)
    return math.exp(-dt / tau)


def scan(
    step: Callable[..., tuple[Tensor, S]], xs: Tensor, state: S, *args: Any
) -> tuple[Tensor, S]:
    """Run ``step(x_t, state, *args) -> (out_t, state)`` over the first axis of ``xs``.

    The reference time loop for every family: ``xs`` is ``[T, B, ...]``, the result stacks the
    ``T`` outputs. Fused kernels must equal it in outputs and gradients.
    """
    outs = []
    for x in xs:
        out, state = step(x, state, *args)
        outs.append(out)
    return torch.stack(outs), state

r"""Exponential spike traces, one time step: the memory every STDP rule reads.

.. math::

    \tilde x_t &= d\, x_{t-1}, \qquad d = e^{-dt/\tau}                   &\text{(decay)}\\
    x_t &= \begin{cases} \tilde x_t + a\, s_t & \text{mode = "all\_to\_all"}\\
                         a\, s_t + (1 - s_t)\, \tilde x_t & \text{mode = "nearest"}
           \end{cases}                                                   &\text{(spike)}

:math:`s_t` is the spike (0/1) of the step, :math:`a` the jump per spike (``amplitude``,
dimensionless), :math:`\tau` the trace time constant and :math:`dt` the step, in seconds. An
all-to-all trace sums the kernels of every past spike,
:math:`x_t = a \sum_{t_k \le t} e^{-(t - t_k)/\tau}`, so a rule reading it pairs each spike
with all earlier ones; a nearest-neighbour trace is reset to :math:`a` at each spike and holds
only the most recent one, :math:`x_t = a\, e^{-(t - t_{last})/\tau}`. With rates instead of
spikes (``s`` >= 0 graded) the all-to-all trace is a leaky integral of the rate.

Morrison A, Diesmann M, Gerstner W (2008) Phenomenological models of synaptic plasticity based on
spike timing. Biol Cybern 98:459-478, sec. 4.1 (traces) and 4.1.2 (nearest-spike schemes).

Example:
    >>> import torch
    >>> from dendrix.plasticity.traces import (
    ...     TraceParameters, trace_initial_state, trace_step)
    >>> s = torch.tensor([[1.0, 0.0]])
    >>> p = TraceParameters(tau=10e-3)
    >>> x, state = trace_step(s, trace_initial_state(s), p, dt=1e-3)
    >>> x, state = trace_step(torch.zeros_like(s), state, p, dt=1e-3)
    >>> [round(v, 6) for v in x[0].tolist()]      # exp(-0.1) after one silent step
    [0.904837, 0.0]
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dendrix._validation import check_choice, check_float, check_tensor
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked

__all__ = [
    "TRACE_MODES",
    "TraceParameters",
    "TraceState",
    "trace_decay",
    "trace_initial_state",
    "trace_spike",
    "trace_step",
]

TRACE_MODES = ("all_to_all", "nearest")


class TraceState(NamedTuple):
    """State of a trace population.

    Attributes:
        x: trace value ``[B, n]`` (dimensionless, in units of ``amplitude``).
    """

    x: Tensor


class TraceParameters(NamedTuple):
    """Parameters of :func:`trace_step`.

    Attributes:
        tau: time constant in seconds (float or tensor broadcastable to ``[B, n]``).
        amplitude: jump per spike :math:`a` (all-to-all) or value after a spike (nearest).
        mode: ``"all_to_all"`` or ``"nearest"``.
    """

    tau: Tensor | float = 20e-3
    amplitude: float = 1.0
    mode: str = "all_to_all"


def trace_initial_state(s: Tensor) -> TraceState:
    """Empty traces shaped like one step of spikes ``s`` ``[B, n]``."""
    check_tensor("s", s, kind="floating")
    return TraceState(x=torch.zeros_like(s))


def trace_decay(x: Tensor, decay: Tensor | float) -> Tensor:
    """Decay phase :math:`\\tilde x = d\\, x`, with ``decay`` :math:`d = e^{-dt/\\tau}`."""
    return x * decay


def trace_spike(x: Tensor, s: Tensor, amplitude: float, mode: str) -> Tensor:
    """Spike phase: add :math:`a s` (all-to-all) or reset to :math:`a` where ``s = 1`` (nearest)."""
    if mode == "all_to_all":
        return x + amplitude * s
    if mode == "nearest":
        return amplitude * s + (1.0 - s) * x
    raise ValueError(
        f"mode must be one of {TRACE_MODES}; got {mode!r}. Use 'all_to_all' to pair every spike "
        "with all earlier ones, 'nearest' for the most recent one only."
    )


def trace_step(
    s: Tensor, state: TraceState, p: TraceParameters, dt: float
) -> tuple[Tensor, TraceState]:
    """One step of the trace (module docstring): decay, then spike.

    Args:
        s: spikes (0/1) or non-negative rates of the step, ``[B, n]``.
        state: :class:`TraceState` with ``x`` of ``s``'s shape.
        p: :class:`TraceParameters`.
        dt: time step in seconds.

    Returns:
        ``(x, state)``: the new trace ``[B, n]`` and the state holding it.
    """
    check_tensor("s", s, kind="floating", finite=True)
    if not isinstance(state, TraceState) or not isinstance(state.x, Tensor):
        raise TypeError(
            f"state must be a TraceState, got {type(state).__name__}; build it with "
            "trace_initial_state(s)."
        )
    if state.x.shape != s.shape:
        raise ValueError(
            f"state.x has shape {tuple(state.x.shape)} but s has {tuple(s.shape)}; build the "
            "state with trace_initial_state(s) for this population and batch."
        )
    check_tensor("state.x", state.x, finite=True)
    check_time_constant("tau", p.tau)
    check_float("dt", dt, minimum=0.0, open_min=True, hint="Give the time step in seconds.")
    amplitude = check_float("amplitude", p.amplitude)
    mode = check_choice("mode", p.mode, TRACE_MODES)
    x = trace_spike(trace_decay(state.x, decay_unchecked(p.tau, dt)), s, amplitude, str(mode))
    return x, TraceState(x=x)

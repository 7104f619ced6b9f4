"""Conductance-based LIF module; the maths is in :mod:`dendrix.spiking.functional.coba_lif`.

Potentials in mV, as published (Diehl & Cook 2015); time in seconds; the input ``x`` is the
excitatory conductance jump of each step and the optional ``x_inh`` the inhibitory one.

Example:
    >>> import torch
    >>> from dendrix.spiking.modules import CobaLIF
    >>> cell = CobaLIF(16, dt=0.5e-3, return_state=False)   # Diehl & Cook's excitatory cell
    >>> z = cell(torch.rand(200, 4, 16))                     # [T, B, n] conductance jumps
    >>> z.shape, bool(z.sum() > 0)
    (torch.Size([200, 4, 16]), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from dendrix._validation import check_float, check_tensor
from dendrix.spiking.functional.coba_lif import (
    CobaLIFParameters,
    CobaLIFState,
    coba_lif_initial_state,
    coba_lif_step,
)
from dendrix.spiking.modules.base import BoundedParameter, NeuronModule, feature_shape
from dendrix.spiking.surrogate import Surrogate
from dendrix.spiking.surrogate import surrogate as make_surrogate

__all__ = ["CobaLIF"]


class CobaLIF(NeuronModule):
    """A population of conductance-based LIF neurons.

    Args:
        shape: feature shape (needed for a learnable membrane time constant).
        tau_mem, tau_ge, tau_gi: membrane and conductance time constants in seconds.
        v_rest, v_reset, v_th: rest, reset and threshold potentials in mV.
        e_exc, e_inh: excitatory and inhibitory reversal potentials in mV.
        t_ref: absolute refractory period in seconds (0: none).
        v_scale: surrogate width in mV.
        detach_reset: no gradient through the reset.
        surrogate: name or :class:`~dendrix.spiking.surrogate.Surrogate`.
        dt: time step in seconds.
        learn_tau: train the membrane time constant per neuron (bounded, see
            :class:`~dendrix.spiking.modules.base.BoundedParameter`); the conductance time
            constants stay fixed (a synapse property, shared by the population).
        stateful, return_state: see :mod:`dendrix.spiking.modules.base`.

    The defaults are Diehl & Cook's excitatory neuron
    (:meth:`~dendrix.spiking.functional.coba_lif.CobaLIFParameters.diehl_cook_excitatory`).
    ``forward(x, state=None, x_inh=None)`` and ``step(x, state=None, x_inh=None)`` take the
    inhibitory conductance jumps as an optional second input of ``x``'s shape.
    """

    step_function = coba_lif_step

    def __init__(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        tau_mem: float | Tensor = 100e-3,
        tau_ge: float | Tensor = 1e-3,
        tau_gi: float | Tensor = 2e-3,
        v_rest: float = -65.0,
        v_reset: float = -65.0,
        v_th: float | Tensor = -52.0,
        e_exc: float = 0.0,
        e_inh: float = -100.0,
        t_ref: float = 5e-3,
        v_scale: float = 1.0,
        detach_reset: bool = False,
        surrogate: str | Surrogate = "fast_sigmoid",
        dt: float = 0.5e-3,
        learn_tau: bool = False,
        stateful: bool = False,
        return_state: bool = True,
    ) -> None:
        super().__init__(dt=dt, stateful=stateful, return_state=return_state)
        self.shape = feature_shape(shape, learnable=learn_tau)
        self.tau_mem = BoundedParameter(
            "tau_mem",
            tau_mem,
            shape=self.shape if learn_tau else None,
            learnable=learn_tau,
            time_constant=True,
        )
        self.tau_ge = BoundedParameter("tau_ge", tau_ge, time_constant=True)
        self.tau_gi = BoundedParameter("tau_gi", tau_gi, time_constant=True)
        if isinstance(v_th, Tensor):
            check_tensor("v_th", v_th, kind="floating", finite=True)
            self.register_buffer("v_th", v_th.detach().clone())
        else:
            self.v_th = check_float("v_th", v_th)
        self.v_rest = check_float("v_rest", v_rest)
        self.v_reset = check_float("v_reset", v_reset)
        self.e_exc = check_float("e_exc", e_exc)
        self.e_inh = check_float("e_inh", e_inh)
        if not self.e_inh < self.e_exc:
            raise ValueError(
                f"e_inh must be below e_exc, got e_inh={self.e_inh:g} mV and "
                f"e_exc={self.e_exc:g} mV (Diehl & Cook: -100 and 0)."
            )
        self.t_ref = check_float("t_ref", t_ref, minimum=0.0, hint="Give it in seconds.")
        self.v_scale = check_float("v_scale", v_scale, minimum=0.0, open_min=True, hint="In mV.")
        self.detach_reset = bool(detach_reset)
        self.surrogate = make_surrogate(surrogate)

    def initial_state(self, x: Tensor) -> CobaLIFState:
        return coba_lif_initial_state(x, self.params())

    def params(self) -> CobaLIFParameters:
        return CobaLIFParameters(
            tau_mem=self.tau_mem(),
            tau_ge=self.tau_ge(),
            tau_gi=self.tau_gi(),
            v_rest=self.v_rest,
            v_reset=self.v_reset,
            v_th=self.v_th,
            e_exc=self.e_exc,
            e_inh=self.e_inh,
            t_ref=self.t_ref,
            v_scale=self.v_scale,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate,
        )

    def _check_inh(self, x_inh: Tensor, x: Tensor) -> None:
        check_tensor("x_inh", x_inh, kind="floating", finite=True)
        if x_inh.shape != x.shape:
            raise ValueError(
                f"x_inh must have the shape of x {tuple(x.shape)}, got {tuple(x_inh.shape)}; "
                "give one inhibitory conductance jump per neuron and step."
            )

    def forward(
        self, x: Tensor, state: Any = None, x_inh: Tensor | None = None
    ) -> Tensor | tuple[Tensor, Any]:
        """Run ``x`` (and ``x_inh``) ``[T, B, ...]``; returns spikes ``[T, B, ...]`` (and state)."""
        if x_inh is None:
            return super().forward(x, state)
        self._check_sequence(x)
        self._check_inh(x_inh, x)
        state = self._start(state, x[0])
        p, outs = self.params(), []
        for x_t, i_t in zip(x, x_inh, strict=True):
            z_t, state = coba_lif_step(x_t, state, p, self.dt, i_t)
            outs.append(z_t)
        return self._finish(torch.stack(outs), state)

    def step(self, x: Tensor, state: Any = None, x_inh: Tensor | None = None) -> tuple[Tensor, Any]:
        """Advance one step ``x`` (and ``x_inh``) ``[B, ...]``; returns ``(z, state)``."""
        if x_inh is None:
            return super().step(x, state)
        check_tensor("x", x, kind="floating", min_ndim=1)
        self._check_inh(x_inh, x)
        state = self._start(state, x)
        z, state = coba_lif_step(x, state, self.params(), self.dt, x_inh)
        if self.stateful:
            self._state = state
        return z, state

    def extra_repr(self) -> str:
        return f"shape={self.shape}, v_th={self.v_th}, {super().extra_repr()}"

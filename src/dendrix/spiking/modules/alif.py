"""Adaptive-threshold LIF module; the maths is in :mod:`dendrix.spiking.functional.alif`.

Example:
    >>> import torch
    >>> from dendrix.spiking import ALIF
    >>> cell = ALIF(16, tau_adapt=200e-3, beta_adapt=1.8, return_state=False)
    >>> cell(torch.rand(50, 4, 16)).shape
    torch.Size([50, 4, 16])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from dendrix._validation import check_choice, check_float
from dendrix.spiking.functional.alif import (
    ALIFParameters,
    ALIFState,
    alif_initial_state,
    alif_step,
)
from dendrix.spiking.functional.lif import RESETS
from dendrix.spiking.modules.base import BoundedParameter, NeuronModule, feature_shape
from dendrix.spiking.modules.lif import BACKENDS
from dendrix.spiking.surrogate import Surrogate
from dendrix.spiking.surrogate import surrogate as make_surrogate

__all__ = ["ALIF"]


class ALIF(NeuronModule):
    """A population of adaptive-threshold LIF neurons (Bellec et al. 2018).

    Args:
        shape: feature shape (needed for learnable constants).
        tau_mem, tau_adapt: membrane and adaptation time constants in seconds.
        v_th: baseline threshold; beta_adapt: threshold increase per unit of the spike trace.
        learn_tau: train both time constants; learn_threshold: train ``v_th`` and
            ``beta_adapt`` (all bounded).
        Other arguments as for :class:`~dendrix.spiking.modules.lif.LIF`.
    """

    step_function = alif_step

    def __init__(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        tau_mem: float | Tensor = 20e-3,
        tau_adapt: float | Tensor = 200e-3,
        v_th: float | Tensor = 1.0,
        beta_adapt: float | Tensor = 1.8,
        v_reset: float = 0.0,
        reset: str = "subtract",
        detach_reset: bool = False,
        surrogate: str | Surrogate = "fast_sigmoid",
        dt: float = 1e-3,
        learn_tau: bool = False,
        learn_threshold: bool = False,
        backend: str = "auto",
        stateful: bool = False,
        return_state: bool = True,
    ) -> None:
        super().__init__(dt=dt, stateful=stateful, return_state=return_state)
        self.shape = feature_shape(shape, learnable=learn_tau or learn_threshold)
        tau_shape = self.shape if learn_tau else None
        th_shape = self.shape if learn_threshold else None
        self.tau_mem = BoundedParameter(
            "tau_mem", tau_mem, shape=tau_shape, learnable=learn_tau, time_constant=True
        )
        self.tau_adapt = BoundedParameter(
            "tau_adapt", tau_adapt, shape=tau_shape, learnable=learn_tau, time_constant=True
        )
        self.v_th = BoundedParameter("v_th", v_th, shape=th_shape, learnable=learn_threshold)
        self.beta_adapt = BoundedParameter(
            "beta_adapt", beta_adapt, shape=th_shape, learnable=learn_threshold
        )
        self.v_reset = check_float("v_reset", v_reset)
        self.reset_mode = check_choice("reset", reset, RESETS)
        self.detach_reset = bool(detach_reset)
        self.surrogate = make_surrogate(surrogate)
        self.backend = check_choice("backend", backend, BACKENDS)

    def initial_state(self, x: Tensor) -> ALIFState:
        return alif_initial_state(x)

    def params(self) -> ALIFParameters:
        return ALIFParameters(
            tau_mem=self.tau_mem(),
            tau_adapt=self.tau_adapt(),
            v_th=self.v_th(),
            beta_adapt=self.beta_adapt(),
            v_reset=self.v_reset,
            reset=self.reset_mode,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate,
        )

    def _multistep(self, x: Tensor, state: ALIFState) -> tuple[Tensor, ALIFState]:
        from dendrix.spiking.kernels.dispatch import alif_multistep

        return alif_multistep(x, state, self.params(), self.dt, backend=self.backend)

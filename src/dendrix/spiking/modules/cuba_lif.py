"""Current-based LIF module; the maths is in :mod:`dendrix.spiking.functional.cuba_lif`.

Example:
    >>> import torch
    >>> from dendrix.spiking import CubaLIF
    >>> cell = CubaLIF(16, tau_syn=5e-3, tau_mem=10e-3, return_state=False)
    >>> cell(torch.rand(50, 4, 16)).shape
    torch.Size([50, 4, 16])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from dendrix._validation import check_choice, check_float
from dendrix.spiking.functional.cuba_lif import (
    CubaLIFParameters,
    CubaLIFState,
    cuba_lif_initial_state,
    cuba_lif_step,
)
from dendrix.spiking.functional.lif import RESETS
from dendrix.spiking.modules.base import BoundedParameter, NeuronModule, feature_shape
from dendrix.spiking.modules.lif import BACKENDS
from dendrix.spiking.surrogate import Surrogate
from dendrix.spiking.surrogate import surrogate as make_surrogate

__all__ = ["CubaLIF"]


class CubaLIF(NeuronModule):
    """A population of current-based LIF neurons.

    Args:
        shape: feature shape (needed for learnable constants).
        tau_syn, tau_mem: synaptic and membrane time constants in seconds.
        v_th, v_reset, reset, detach_reset, surrogate, dt, backend, stateful, return_state:
            as for :class:`~dendrix.spiking.modules.lif.LIF`.
        learn_tau: train both time constants (bounded); learn_threshold: train ``v_th``.
    """

    step_function = cuba_lif_step

    def __init__(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        tau_syn: float | Tensor = 5e-3,
        tau_mem: float | Tensor = 10e-3,
        v_th: float | Tensor = 1.0,
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
        self.tau_syn = BoundedParameter(
            "tau_syn", tau_syn, shape=tau_shape, learnable=learn_tau, time_constant=True
        )
        self.tau_mem = BoundedParameter(
            "tau_mem", tau_mem, shape=tau_shape, learnable=learn_tau, time_constant=True
        )
        self.v_th = BoundedParameter(
            "v_th", v_th, shape=self.shape if learn_threshold else None, learnable=learn_threshold
        )
        self.v_reset = check_float("v_reset", v_reset)
        self.reset_mode = check_choice("reset", reset, RESETS)
        self.detach_reset = bool(detach_reset)
        self.surrogate = make_surrogate(surrogate)
        self.backend = check_choice("backend", backend, BACKENDS)

    def initial_state(self, x: Tensor) -> CubaLIFState:
        return cuba_lif_initial_state(x)

    def params(self) -> CubaLIFParameters:
        return CubaLIFParameters(
            tau_syn=self.tau_syn(),
            tau_mem=self.tau_mem(),
            v_th=self.v_th(),
            v_reset=self.v_reset,
            reset=self.reset_mode,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate,
        )

    def _multistep(self, x: Tensor, state: CubaLIFState) -> tuple[Tensor, CubaLIFState]:
        from dendrix.spiking.kernels.dispatch import cuba_lif_multistep

        return cuba_lif_multistep(x, state, self.params(), self.dt, backend=self.backend)

"""Leaky integrate-and-fire module; the maths is in :mod:`dendrix.spiking.functional.lif`.

Example:
    >>> import torch
    >>> from dendrix.spiking import LIF
    >>> lif = LIF(64, tau_mem=10e-3, dt=1e-3, learn_tau=True, return_state=False)
    >>> z = lif(torch.rand(100, 8, 64))  # [T, B, n]
    >>> z.shape
    torch.Size([100, 8, 64])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from dendrix._validation import check_choice, check_float
from dendrix.spiking.functional.lif import (
    RESETS,
    LIFParameters,
    LIFState,
    lif_initial_state,
    lif_step,
)
from dendrix.spiking.modules.base import BoundedParameter, NeuronModule, feature_shape
from dendrix.spiking.surrogate import Surrogate
from dendrix.spiking.surrogate import surrogate as make_surrogate

__all__ = ["LIF"]

BACKENDS = ("auto", "reference", "cpu", "triton")


class LIF(NeuronModule):
    """A population of LIF neurons (:mod:`dendrix.spiking.functional.lif`).

    Args:
        shape: feature shape of the population (int or tuple); needed for per-neuron or
            learnable constants, optional otherwise.
        tau_mem: membrane time constant in seconds (float or tensor of ``shape``).
        v_th: threshold (float or tensor of ``shape``).
        v_reset: potential after a spike with ``reset="zero"``.
        reset: ``"subtract"``, ``"zero"`` or ``"none"``.
        t_ref: absolute refractory period in seconds (0: none).
        detach_reset: no gradient through the reset.
        surrogate: name or :class:`~dendrix.spiking.surrogate.Surrogate`.
        dt: time step in seconds.
        learn_tau, learn_threshold: train ``tau_mem`` / ``v_th`` within ``tau_bounds`` /
            ``threshold_bounds`` (see :class:`~dendrix.spiking.modules.base.BoundedParameter`).
        backend: ``"auto"`` (fused kernel where it applies), ``"reference"``, ``"cpu"`` or
            ``"triton"`` (:func:`dendrix.spiking.kernels.dispatch.lif_multistep`).
        stateful, return_state: see :mod:`dendrix.spiking.modules.base`.
    """

    step_function = lif_step

    def __init__(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        tau_mem: float | Tensor = 10e-3,
        v_th: float | Tensor = 1.0,
        v_reset: float = 0.0,
        reset: str = "subtract",
        t_ref: float = 0.0,
        detach_reset: bool = False,
        surrogate: str | Surrogate = "fast_sigmoid",
        dt: float = 1e-3,
        learn_tau: bool = False,
        learn_threshold: bool = False,
        tau_bounds: tuple[float, float] | None = None,
        threshold_bounds: tuple[float, float] | None = None,
        backend: str = "auto",
        stateful: bool = False,
        return_state: bool = True,
    ) -> None:
        super().__init__(dt=dt, stateful=stateful, return_state=return_state)
        self.shape = feature_shape(shape, learnable=learn_tau or learn_threshold)
        self.tau_mem = BoundedParameter(
            "tau_mem",
            tau_mem,
            shape=self.shape if learn_tau else None,
            learnable=learn_tau,
            bounds=tau_bounds,
            time_constant=True,
        )
        self.v_th = BoundedParameter(
            "v_th",
            v_th,
            shape=self.shape if learn_threshold else None,
            learnable=learn_threshold,
            bounds=threshold_bounds,
        )
        self.v_reset = check_float("v_reset", v_reset)
        self.reset_mode = check_choice("reset", reset, RESETS)
        self.t_ref = check_float("t_ref", t_ref, minimum=0.0, hint="Give it in seconds.")
        self.detach_reset = bool(detach_reset)
        self.surrogate = make_surrogate(surrogate)
        self.backend = check_choice("backend", backend, BACKENDS)

    def initial_state(self, x: Tensor) -> LIFState:
        return lif_initial_state(x)

    def params(self) -> LIFParameters:
        return LIFParameters(
            tau_mem=self.tau_mem(),
            v_th=self.v_th(),
            v_reset=self.v_reset,
            reset=self.reset_mode,
            t_ref=self.t_ref,
            detach_reset=self.detach_reset,
            surrogate=self.surrogate,
        )

    def _multistep(self, x: Tensor, state: LIFState) -> tuple[Tensor, LIFState]:
        from dendrix.spiking.kernels.dispatch import lif_multistep

        return lif_multistep(x, state, self.params(), self.dt, backend=self.backend)

    def extra_repr(self) -> str:
        return f"shape={self.shape}, reset={self.reset_mode!r}, {super().extra_repr()}"

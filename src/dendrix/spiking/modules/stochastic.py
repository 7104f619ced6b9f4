"""Stochastic escape-noise neuron module (:mod:`dendrix.spiking.functional.stochastic`).

Example:
    >>> import torch
    >>> from dendrix.spiking import StochasticLIF
    >>> cell = StochasticLIF(8, seed=0, return_state=False)
    >>> z = cell(torch.full((20, 2, 8), 0.8))
    >>> bool(((z == 0) | (z == 1)).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dendrix._validation import check_choice, check_int
from dendrix.spiking.functional.stochastic import (
    ESTIMATORS,
    StochasticParameters,
    StochasticState,
    stochastic_initial_state,
    stochastic_step,
)
from dendrix.spiking.modules.base import BoundedParameter, NeuronModule, feature_shape

__all__ = ["StochasticLIF"]


class StochasticLIF(NeuronModule):
    """LIF neurons that fire with probability sigmoid((h - v_th)/noise).

    Args:
        shape: feature shape (needed for learnable constants).
        tau_mem (s), v_th, noise: see :mod:`dendrix.spiking.functional.stochastic`.
        estimator: ``"straight_through"`` or ``"reinforce"``.
        seed: seed of the module's own ``torch.Generator`` (on the input's device; the
            generator is re-created if the input moves to another device).
        learn_tau, learn_threshold: bounded learnable constants.
        dt, stateful, return_state: as for :class:`~dendrix.spiking.LIF`.
    """

    step_function = stochastic_step

    def __init__(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        tau_mem: float | Tensor = 10e-3,
        v_th: float | Tensor = 1.0,
        noise: float = 0.1,
        estimator: str = "straight_through",
        seed: int = 0,
        dt: float = 1e-3,
        learn_tau: bool = False,
        learn_threshold: bool = False,
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
            time_constant=True,
        )
        self.v_th = BoundedParameter(
            "v_th", v_th, shape=self.shape if learn_threshold else None, learnable=learn_threshold
        )
        self.noise = BoundedParameter("noise", noise)
        if float(self.noise()) <= 0:
            raise ValueError(f"noise must be > 0 (escape-noise width), got {noise}.")
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        self.seed = check_int("seed", seed, minimum=0)
        self._generator: torch.Generator | None = None

    def manual_seed(self, seed: int) -> None:
        """Restart the spike draws from ``seed``."""
        self.seed = check_int("seed", seed, minimum=0)
        self._generator = None

    def _generator_for(self, device: torch.device) -> torch.Generator:
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def initial_state(self, x: Tensor) -> StochasticState:
        self._generator_for(x.device)
        return stochastic_initial_state(x)

    def params(self) -> StochasticParameters:
        device = self.noise().device
        generator = self._generator if self._generator is not None else self._generator_for(device)
        return StochasticParameters(
            tau_mem=self.tau_mem(),
            v_th=self.v_th(),
            noise=self.noise(),
            estimator=self.estimator,
            generator=generator,
        )

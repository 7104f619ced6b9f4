r"""Recurrent spiking populations: any neuron module plus a recurrent weight matrix.

.. math:: I_t = x_t + W_{rec}\, z_{t-1}

The neuron family's step is unchanged (:mod:`dendrix.spiking.functional`); only its input gets
the population's own spikes of the previous step through :math:`W_{rec}` ``[n, n]``
(optionally without self-connections). Because step :math:`t` needs the spikes of step
:math:`t-1`, the time loop is the reference loop, never a fused kernel. Bellec et al. 2018
(recurrent ALIF networks); Neftci, Mostafa & Zenke 2019.

Example:
    >>> import torch
    >>> from dendrix.spiking import RecurrentLIF
    >>> rnn = RecurrentLIF(32, generator=torch.Generator().manual_seed(0), return_state=False)
    >>> rnn(torch.rand(20, 4, 32)).shape
    torch.Size([20, 4, 32])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from dendrix._validation import check_int, check_tensor
from dendrix.spiking.modules.alif import ALIF
from dendrix.spiking.modules.base import NeuronModule
from dendrix.spiking.modules.lif import LIF

__all__ = [
    "Recurrent",
    "RecurrentALIF",
    "RecurrentLIF",
    "RecurrentParameters",
    "RecurrentState",
    "recurrent_step",
]


class RecurrentState(NamedTuple):
    """The wrapped neuron's state and the previous spikes ``z`` ``[B, n]``."""

    neuron: Any
    z: Tensor


class RecurrentParameters(NamedTuple):
    """The wrapped family's step and parameters, and the masked weights ``[n, n]``."""

    step: Callable[..., tuple[Tensor, Any]]
    neuron: Any
    weight: Tensor


def recurrent_step(
    x: Tensor, state: RecurrentState, p: RecurrentParameters, dt: float
) -> tuple[Tensor, RecurrentState]:
    """:math:`I_t = x_t + W z_{t-1}`, then the wrapped family's step. ``x`` is ``[B, n]``."""
    drive = x + state.z @ p.weight.T  # [B, n] @ [n, n] -> [B, n]
    z, neuron_state = p.step(drive, state.neuron, p.neuron, dt)
    return z, RecurrentState(neuron=neuron_state, z=z)


class Recurrent(NeuronModule):
    """Wrap a neuron module of ``size`` neurons with recurrent weights.

    Args:
        neuron: a :class:`~dendrix.spiking.modules.base.NeuronModule` (its own
            ``return_state``/``stateful`` flags are ignored; this wrapper's apply).
        size: number of neurons ``n`` (last input dimension).
        self_connections: keep the diagonal of :math:`W_{rec}` (default: masked to 0).
        generator: for the initial weights, uniform in :math:`\\pm 1/\\sqrt{n}`.
        stateful, return_state: see :mod:`dendrix.spiking.modules.base`.
    """

    step_function = recurrent_step

    def __init__(
        self,
        neuron: NeuronModule,
        size: int,
        *,
        self_connections: bool = False,
        generator: torch.Generator | None = None,
        stateful: bool = False,
        return_state: bool = True,
    ) -> None:
        if not isinstance(neuron, NeuronModule):
            raise TypeError(f"neuron must be a dendrix neuron module, got {type(neuron).__name__}.")
        super().__init__(dt=neuron.dt, stateful=stateful, return_state=return_state)
        self.neuron = neuron
        self.size = check_int("size", size, minimum=1)
        bound = 1.0 / math.sqrt(self.size)
        w = torch.empty(self.size, self.size).uniform_(-bound, bound, generator=generator)
        self.weight = nn.Parameter(w)
        mask = torch.ones(self.size, self.size)
        if not self_connections:
            mask.fill_diagonal_(0.0)
        self.register_buffer("mask", mask)

    def initial_state(self, x: Tensor) -> RecurrentState:
        """Rest shaped like one input step ``[B, n]``."""
        return RecurrentState(neuron=self.neuron.initial_state(x), z=torch.zeros_like(x))

    def params(self) -> RecurrentParameters:
        return RecurrentParameters(
            step=type(self.neuron).step_function,
            neuron=self.neuron.params(),
            weight=self.weight * self.mask,
        )

    def _check_sequence(self, x: Tensor) -> None:
        check_tensor("x", x, kind="floating", ndim=3, last_dim=self.size)
        super()._check_sequence(x)

    def _check_state(self, state: Any, like: Tensor) -> None:
        if not isinstance(state, RecurrentState):
            raise TypeError("state must be a RecurrentState; pass state=None to start at rest.")
        self.neuron._check_state(state.neuron, like)
        super()._check_state(RecurrentState(neuron=like, z=state.z), like)


class RecurrentLIF(Recurrent):
    """Recurrent LIF population: ``Recurrent(LIF(size, **neuron_kwargs), size)``."""

    def __init__(
        self,
        size: int,
        *,
        self_connections: bool = False,
        generator: torch.Generator | None = None,
        stateful: bool = False,
        return_state: bool = True,
        **neuron_kwargs: Any,
    ) -> None:
        super().__init__(
            LIF(size, **neuron_kwargs),
            size,
            self_connections=self_connections,
            generator=generator,
            stateful=stateful,
            return_state=return_state,
        )


class RecurrentALIF(Recurrent):
    """Recurrent ALIF population (an LSNN, Bellec et al. 2018)."""

    def __init__(
        self,
        size: int,
        *,
        self_connections: bool = False,
        generator: torch.Generator | None = None,
        stateful: bool = False,
        return_state: bool = True,
        **neuron_kwargs: Any,
    ) -> None:
        super().__init__(
            ALIF(size, **neuron_kwargs),
            size,
            self_connections=self_connections,
            generator=generator,
            stateful=stateful,
            return_state=return_state,
        )

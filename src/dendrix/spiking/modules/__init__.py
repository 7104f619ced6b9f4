"""Thin ``nn.Module`` wrappers over :mod:`dendrix.spiking.functional`, one file per family.

Every family is registered here, in one place, with the neuron contract suite
(:data:`dendrix.registry.NEURONS`).
"""

import torch

from dendrix.registry import NEURONS, NeuronSpec
from dendrix.spiking.modules.alif import ALIF
from dendrix.spiking.modules.base import BoundedParameter, NeuronModule
from dendrix.spiking.modules.coba_lif import CobaLIF
from dendrix.spiking.modules.cuba_lif import CubaLIF
from dendrix.spiking.modules.izhikevich import Izhikevich
from dendrix.spiking.modules.lif import LIF
from dendrix.spiking.modules.recurrent import Recurrent, RecurrentALIF, RecurrentLIF
from dendrix.spiking.modules.stochastic import StochasticLIF

__all__ = [
    "ALIF",
    "LIF",
    "BoundedParameter",
    "CobaLIF",
    "CubaLIF",
    "Izhikevich",
    "NeuronModule",
    "Recurrent",
    "RecurrentALIF",
    "RecurrentLIF",
    "StochasticLIF",
]


def _drive(scale: float, offset: float = 0.0, shape: tuple[int, ...] = (4, 6)):
    def make(g: torch.Generator) -> torch.Tensor:
        return offset + scale * torch.rand(30, *shape, generator=g)

    return make


NEURONS.add(
    "lif",
    NeuronSpec(lambda: LIF(6, learn_tau=True, learn_threshold=True), _drive(0.8)),
)
NEURONS.add(
    "lif-zero-reset-refractory",
    NeuronSpec(
        lambda: LIF(6, reset="zero", t_ref=2e-3, learn_tau=True, learn_threshold=True),
        _drive(0.8),
    ),
)
NEURONS.add(
    "cuba-lif",
    NeuronSpec(lambda: CubaLIF(6, learn_tau=True, learn_threshold=True), _drive(0.6)),
)
NEURONS.add(
    "coba-lif",
    NeuronSpec(lambda: CobaLIF(6, tau_mem=20e-3, t_ref=2e-3, learn_tau=True), _drive(2.0)),
)
NEURONS.add(
    "alif",
    NeuronSpec(lambda: ALIF(6, learn_tau=True, learn_threshold=True), _drive(0.8)),
)
NEURONS.add("izhikevich", NeuronSpec(lambda: Izhikevich(6), _drive(10.0, 5.0)))
NEURONS.add(
    "stochastic-lif",
    NeuronSpec(
        lambda: StochasticLIF(6, learn_tau=True, learn_threshold=True),
        _drive(0.8),
        stochastic=True,
    ),
)
NEURONS.add(
    "stochastic-lif-reinforce",
    NeuronSpec(
        lambda: StochasticLIF(6, estimator="reinforce", learn_tau=True, learn_threshold=True),
        _drive(0.8),
        stochastic=True,
    ),
)
NEURONS.add(
    "recurrent-alif",
    NeuronSpec(
        lambda: RecurrentALIF(
            6, generator=torch.Generator().manual_seed(0), learn_tau=True, learn_threshold=True
        ),
        _drive(0.8),
    ),
)

"""Spiking neurons: step functions, modules, surrogate gradients, encoders, delays, kernels.

Conventions (units in seconds, time-first ``[T, B, ...]`` tensors) are documented once in
:mod:`dendrix.spiking.functional.base`.
"""

from dendrix.spiking.modules import (
    ALIF,
    LIF,
    CubaLIF,
    Izhikevich,
    NeuronModule,
    Recurrent,
    RecurrentALIF,
    RecurrentLIF,
    StochasticLIF,
)
from dendrix.spiking.surrogate import SURROGATES, Surrogate, surrogate

__all__ = [
    "ALIF",
    "LIF",
    "SURROGATES",
    "CubaLIF",
    "Izhikevich",
    "NeuronModule",
    "Recurrent",
    "RecurrentALIF",
    "RecurrentLIF",
    "StochasticLIF",
    "Surrogate",
    "surrogate",
]

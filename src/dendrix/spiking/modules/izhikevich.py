"""Izhikevich module; the maths is in :mod:`dendrix.spiking.functional.izhikevich`.

Example:
    >>> import torch
    >>> from dendrix.spiking import Izhikevich
    >>> cell = Izhikevich(preset="fast_spiking", dt=0.5e-3, return_state=False)
    >>> cell(torch.full((400, 1, 3), 10.0)).sum().item() > 0
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from dendrix._validation import check_choice, check_float
from dendrix.spiking.functional.izhikevich import (
    IzhikevichParameters,
    IzhikevichState,
    izhikevich_initial_state,
    izhikevich_step,
)
from dendrix.spiking.modules.base import NeuronModule, feature_shape
from dendrix.spiking.surrogate import Surrogate
from dendrix.spiking.surrogate import surrogate as make_surrogate

__all__ = ["Izhikevich"]

PRESETS = ("regular_spiking", "intrinsically_bursting", "chattering", "fast_spiking")


class Izhikevich(NeuronModule):
    """A population of Izhikevich neurons.

    Args:
        shape: feature shape (optional).
        preset: one of ``regular_spiking``, ``intrinsically_bursting``, ``chattering``,
            ``fast_spiking``; ``a``, ``b``, ``c``, ``d`` override single values.
        v_peak, v_scale: spike cut-off (mV) and the surrogate's scale (mV).
        dt: step in seconds (<= 0.5e-3 recommended for Euler stability).
        surrogate, stateful, return_state: as for :class:`~dendrix.spiking.LIF`.
    """

    step_function = izhikevich_step

    def __init__(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        preset: str = "regular_spiking",
        a: float | None = None,
        b: float | None = None,
        c: float | None = None,
        d: float | None = None,
        v_peak: float = 30.0,
        v_scale: float = 10.0,
        surrogate: str | Surrogate = "fast_sigmoid",
        dt: float = 0.5e-3,
        stateful: bool = False,
        return_state: bool = True,
    ) -> None:
        super().__init__(dt=dt, stateful=stateful, return_state=return_state)
        self.shape = feature_shape(shape)
        check_choice("preset", preset, PRESETS)
        base = getattr(IzhikevichParameters, preset)()
        given = {"a": a, "b": b, "c": c, "d": d}
        values = {
            k: (getattr(base, k) if v is None else check_float(k, v)) for k, v in given.items()
        }
        self.a, self.b, self.c, self.d = (values[k] for k in "abcd")
        self.v_peak = check_float("v_peak", v_peak)
        self.v_scale = check_float("v_scale", v_scale, minimum=0.0, open_min=True)
        self.surrogate = make_surrogate(surrogate)

    def initial_state(self, x: Tensor) -> IzhikevichState:
        return izhikevich_initial_state(x, self.params())

    def params(self) -> IzhikevichParameters:
        return IzhikevichParameters(
            a=self.a,
            b=self.b,
            c=self.c,
            d=self.d,
            v_peak=self.v_peak,
            v_scale=self.v_scale,
            surrogate=self.surrogate,
        )

r"""The base every neuron module shares: bounded learnable constants, state handling, time loop.

A neuron module holds parameters, builds the initial state and delegates to its family's pure
step function (:mod:`dendrix.spiking.functional`); the maths lives there, not here.

**Sequence or step.** ``module(x)`` takes a whole sequence ``x`` ``[T, B, ...]`` (time first)
and runs the family's fused kernel when one applies (:mod:`dendrix.spiking.kernels`);
``module.step(x_t, state)`` advances one step ``[B, ...]``.

**State.** By default the module is stateless: ``module(x, state)`` returns ``(z, state)`` and
the caller carries the state, which keeps modules safe under ``DataParallel``,
``DistributedDataParallel``, ``torch.func`` and ``torch.compile``. ``stateful=True`` keeps the
last state on the module between calls (as snnTorch users expect); :meth:`NeuronModule.reset`
clears it, so the next call starts from :meth:`initial_state` again. ``return_state=False``
returns spikes only, for use inside ``nn.Sequential``.

**Learnable constants.** A time constant or threshold marked learnable is stored as an
unconstrained parameter :math:`\rho` and read through the bounded map

.. math:: \tau = \tau_{lo} + (\tau_{hi} - \tau_{lo})\,\mathrm{sigmoid}(\rho),

so it can never leave ``[lo, hi]`` (default ``[value/10, value*10]``) whatever the optimiser
does (Fang et al. 2021 learn :math:`\tau` through a sigmoid the same way; Perez-Nieves et al.
2021, "Neural heterogeneity promotes robust learning", Nat. Commun. 12:5791, learn per-neuron
constants). Heterogeneous constants are tensors of the feature shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from dendrix._validation import check_float, check_tensor
from dendrix.spiking.functional.base import check_time_constant, scan

__all__ = ["BoundedParameter", "NeuronModule", "feature_shape"]


def feature_shape(
    shape: int | Sequence[int] | None, *, learnable: bool = False
) -> tuple[int, ...] | None:
    """Normalise a feature shape argument (int, tuple or None).

    ``learnable``: some constant is learnable, hence per neuron, so the shape is required.
    """
    if shape is None:
        if learnable:
            raise ValueError("learnable constants are per neuron: give the population shape.")
        return None
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    out = tuple(shape)
    if not out or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in out):
        raise ValueError(f"shape must be a positive int or a tuple of them, got {shape!r}.")
    return out


class BoundedParameter(nn.Module):
    r"""A positive constant, fixed (buffer) or learnable within ``bounds`` (sigmoid map).

    Args:
        name: what it is, for error messages (e.g. ``"tau_mem"``).
        value: initial value, float or tensor broadcastable to ``shape``.
        shape: feature shape of a per-neuron constant (``None``: one shared scalar).
        learnable: train it (through the bounded map) or keep it fixed.
        bounds: ``(lo, hi)`` with ``0 < lo < value < hi``; default ``(min/10, max*10)``.
        time_constant: check it as a time constant in seconds.
    """

    def __init__(
        self,
        name: str,
        value: float | Tensor,
        *,
        shape: tuple[int, ...] | None = None,
        learnable: bool = False,
        bounds: tuple[float, float] | None = None,
        time_constant: bool = False,
    ) -> None:
        super().__init__()
        self.name = name
        if isinstance(value, Tensor):
            check_tensor(name, value, kind="floating", finite=True)
            init = value.detach().clone().to(torch.get_default_dtype())
        else:
            init = torch.tensor(check_float(name, value), dtype=torch.get_default_dtype())
        if time_constant:
            check_time_constant(name, init)
        if shape is not None:
            try:
                init = init.expand(shape).clone()
            except RuntimeError:
                raise ValueError(
                    f"{name} of shape {tuple(init.shape)} does not broadcast to the neuron "
                    f"shape {shape}; give a float or a tensor of shape {shape}."
                ) from None
        elif learnable and init.ndim == 0:
            init = init.reshape(())
        self.learnable = bool(learnable)
        if not self.learnable:
            self.register_buffer("value_", init)
            self.bounds = None
            return
        if bounds is None:
            lo, hi = float(init.min()) / 10.0, float(init.max()) * 10.0
        else:
            lo, hi = (check_float(f"{name} bounds[{i}]", b) for i, b in enumerate(bounds))
        if not (lo < hi):
            raise ValueError(f"{name} bounds must satisfy lo < hi, got ({lo}, {hi}).")
        if time_constant and lo <= 0:
            raise ValueError(f"{name} bounds must be > 0 seconds, got lo = {lo}.")
        if not bool(((init > lo) & (init < hi)).all()):
            raise ValueError(
                f"{name} initial value must lie strictly inside its bounds ({lo}, {hi}); "
                "widen the bounds or change the value."
            )
        self.bounds = (lo, hi)
        self.raw = nn.Parameter(torch.logit((init - lo) / (hi - lo)))

    def forward(self) -> Tensor:
        """The constant's current value."""
        if not self.learnable:
            return self.value_
        lo, hi = self.bounds
        return lo + (hi - lo) * torch.sigmoid(self.raw)

    def extra_repr(self) -> str:
        return f"{self.name}, learnable={self.learnable}, bounds={self.bounds}"


class NeuronModule(nn.Module):
    """Base of the neuron modules: parameters -> ``params()``, state, time loop, dispatch.

    Subclasses set :attr:`step_function` (the family's pure step), implement
    :meth:`initial_state` and :meth:`params`, and may override :meth:`_multistep` with a fused
    kernel that equals ``scan(step_function, ...)``.
    """

    step_function: Callable[..., tuple[Tensor, Any]]

    def __init__(self, *, dt: float, stateful: bool, return_state: bool) -> None:
        super().__init__()
        self.dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="Give it in seconds.")
        self.stateful = bool(stateful)
        self.return_state = bool(return_state)
        self._state: Any = None

    # -- to be provided by each family --------------------------------------------------
    def initial_state(self, x: Tensor) -> NamedTuple:
        """Resting state shaped like one input step ``x`` ``[B, ...]``."""
        raise NotImplementedError

    def params(self) -> NamedTuple:
        """The family's Parameters tuple, with the current values of learnable constants."""
        raise NotImplementedError

    def _multistep(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return scan(type(self).step_function, x, state, self.params(), self.dt)

    # -- shared behaviour ---------------------------------------------------------------
    def reset(self) -> None:
        """Forget the stored state (``stateful=True``); the next call starts at rest."""
        self._state = None

    def _check_sequence(self, x: Tensor) -> None:
        check_tensor("x", x, kind="floating", min_ndim=2)
        if not torch.compiler.is_compiling():
            check_tensor("x", x, finite=True)

    def _check_state(self, state: Any, like: Tensor) -> None:
        for field, value in zip(state._fields, state, strict=True):
            if not isinstance(value, Tensor) or value.shape != like.shape:
                got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(
                    f"state.{field} must have the shape of one input step {tuple(like.shape)}, "
                    f"got {got}; build it with initial_state(x[0]) or pass state=None."
                )

    def _start(self, state: Any, x_step: Tensor) -> Any:
        if state is None and self.stateful:
            state = self._state
        if state is None:
            return self.initial_state(x_step)
        self._check_state(state, x_step)
        return state

    def _finish(self, z: Tensor, state: Any) -> Tensor | tuple[Tensor, Any]:
        if self.stateful:
            self._state = state
        return (z, state) if self.return_state else z

    def forward(self, x: Tensor, state: Any = None) -> Tensor | tuple[Tensor, Any]:
        """Run a sequence ``x`` ``[T, B, ...]``; returns spikes ``[T, B, ...]`` (and state)."""
        self._check_sequence(x)
        state = self._start(state, x[0])
        z, state = self._multistep(x, state)
        return self._finish(z, state)

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Advance one step ``x`` ``[B, ...]``; always returns ``(z, state)``."""
        check_tensor("x", x, kind="floating", min_ndim=1)
        state = self._start(state, x)
        z, state = type(self).step_function(x, state, self.params(), self.dt)
        if self.stateful:
            self._state = state
        return z, state

    def extra_repr(self) -> str:
        return f"dt={self.dt}, stateful={self.stateful}"

"""One door to the multi-step kernels: check the arguments, pick a backend, run it.

Each family has one entry point, ``<family>_multistep(x, state, p, dt, *, backend="auto")``,
equal to ``scan(<family>_step, x, state, p, dt)`` (:mod:`dendrix.spiking.kernels.reference`)
in outputs and gradients, whichever backend runs it:

=============  ===============================================================================
backend        runs
=============  ===============================================================================
``reference``  the step function in a Python loop (any device, dtype and configuration)
``cpu``        the fused numba kernels (:mod:`dendrix.spiking.kernels.cpu`): CPU tensors,
               float32/float64, the five built-in surrogates, no LIF refractory period
``triton``     the fused GPU kernels (:mod:`dendrix.spiking.kernels.triton`): CUDA tensors,
               ``triton`` installed, float32/float16/bfloat16, the built-in surrogates, no LIF
               refractory period
``auto``       ``triton`` for CUDA tensors when it is available, ``cpu`` for CPU tensors when it
               supports the call, otherwise ``reference``
=============  ===============================================================================

Asking for ``cpu`` or ``triton`` where it cannot run raises a :class:`ValueError` that says
why and what to use instead. The checks here (shapes, ``dt > 0``, time constants > 0, finite
input) are the only ones; the kernels trust them. The data-dependent ones (finite input, time
constants > 0 for tensors) are skipped while ``torch.compile`` traces.

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state
    >>> from dendrix.spiking.kernels.dispatch import lif_multistep
    >>> x = torch.rand(50, 4, 16)  # [T, B, n]
    >>> z, state = lif_multistep(x, lif_initial_state(x[0]), LIFParameters(), dt=1e-3)
    >>> z.shape, state.v.shape
    (torch.Size([50, 4, 16]), torch.Size([4, 16]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

from dendrix._validation import check_choice, check_float, check_tensor
from dendrix.spiking.functional.alif import ALIFParameters, ALIFState
from dendrix.spiking.functional.base import check_time_constant
from dendrix.spiking.functional.cuba_lif import CubaLIFParameters, CubaLIFState
from dendrix.spiking.functional.lif import RESETS, LIFParameters, LIFState, refractory_steps
from dendrix.spiking.kernels import cpu, reference
from dendrix.spiking.surrogate import SURROGATES

__all__ = [
    "BACKENDS",
    "alif_multistep",
    "cuba_lif_multistep",
    "lif_multistep",
    "resolve_backend",
    "triton_available",
]

BACKENDS = ("auto", "reference", "cpu", "triton")

_CPU_DTYPES = (torch.float32, torch.float64)
_TRITON_DTYPES = (torch.float32, torch.float16, torch.bfloat16)  # as triton.py accepts them
_BUILTIN_KINDS = frozenset(cls.kind for cls in SURROGATES.values())


def triton_available() -> bool:
    """Whether :mod:`dendrix.spiking.kernels.triton` imports and reports itself usable."""
    try:
        from dendrix.spiking.kernels import triton as triton_kernels
    except ImportError:
        return False
    return bool(triton_kernels.triton_available())


def _triton_function(name: str) -> Callable[..., Any]:
    from dendrix.spiking.kernels import triton as triton_kernels

    return getattr(triton_kernels, name)


class _Family(NamedTuple):
    """What the door needs to know about one neuron family."""

    name: str
    state_type: type
    time_constants: tuple[str, ...]
    tensor_params: tuple[str, ...]  # every field that may be a tensor (time constants too)
    reference: Callable[..., Any]
    cpu: Callable[..., Any]
    triton: str


_LIF = _Family(
    "lif",
    LIFState,
    ("tau_mem",),
    ("tau_mem", "v_th"),
    reference.lif_multistep_reference,
    cpu.lif_multistep_cpu,
    "lif_multistep_triton",
)
_CUBA = _Family(
    "cuba_lif",
    CubaLIFState,
    ("tau_syn", "tau_mem"),
    ("tau_syn", "tau_mem", "v_th"),
    reference.cuba_lif_multistep_reference,
    cpu.cuba_lif_multistep_cpu,
    "cuba_lif_multistep_triton",
)
_ALIF = _Family(
    "alif",
    ALIFState,
    ("tau_mem", "tau_adapt"),
    ("tau_mem", "tau_adapt", "v_th", "beta_adapt"),
    reference.alif_multistep_reference,
    cpu.alif_multistep_cpu,
    "alif_multistep_triton",
)


# -- checks at the door ------------------------------------------------------------------------


def _check(family: _Family, x: Tensor, state: Any, p: Any, dt: float, *, data: bool) -> None:
    """Raise on a bad argument; ``data=False`` skips the checks that read tensor values."""
    check_tensor("x", x, kind="floating", min_ndim=2, hint="Give a sequence [T, B, ...].")
    if x.shape[0] == 0:
        raise ValueError(f"x has no time steps (shape {tuple(x.shape)}); give T >= 1.")
    check_float("dt", dt, minimum=0.0, open_min=True, hint="Give it in seconds, e.g. 1e-3.")
    step_shape = x.shape[1:]
    if not isinstance(state, family.state_type):
        raise TypeError(
            f"state must be a {family.state_type.__name__}, got {type(state).__name__}; build it "
            f"with {family.name}_initial_state(x[0])."
        )
    for field, value in zip(state._fields, state, strict=True):
        if not isinstance(value, Tensor) or value.shape != step_shape:
            got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(
                f"state.{field} has shape {got} but one input step x[0] has shape "
                f"{tuple(step_shape)}; build the state with {family.name}_initial_state(x[0])."
            )
        if value.device != x.device:
            raise ValueError(
                f"state.{field} is on {value.device} but x is on {x.device}; move both to one "
                "device."
            )
    check_choice("p.reset", p.reset, RESETS)
    for name in family.time_constants:
        tau = getattr(p, name)
        if data or not isinstance(tau, Tensor):  # (skipped for tensors while compiling, too)
            check_time_constant(f"p.{name}", tau)
    for name in family.tensor_params:
        value = getattr(p, name)
        if not isinstance(value, Tensor):
            continue
        if value.device != x.device:
            raise ValueError(
                f"p.{name} is on {value.device} but x is on {x.device}; move the parameters to "
                "the input's device."
            )
        try:
            fits = torch.broadcast_shapes(value.shape, step_shape) == step_shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(
                f"p.{name} of shape {tuple(value.shape)} does not broadcast to one input step "
                f"{tuple(step_shape)}; give a float, a tensor of the feature shape, or one of "
                f"shape {tuple(step_shape)}."
            )
    # a NaN or inf anywhere makes the sum non-finite, so the exact (slower) count runs only then
    if data and not torch.compiler.is_compiling() and not bool(torch.isfinite(x.detach().sum())):
        check_tensor("x", x, finite=True, hint="Remove or replace them before the neurons.")


# -- choosing a backend ------------------------------------------------------------------------


def _unsupported(
    family: _Family, x: Tensor, state: Any, p: Any, dt: float, kernel: str
) -> str | None:
    """Why the fused ``kernel`` (``"cpu"`` or ``"triton"``) cannot run this call, or ``None``.

    Both kernels compute in the dtype of ``x`` (the Triton one in float32 for half inputs), so
    anything that would make the reference promote (a wider state, or a wider parameter with
    dimensions: 0-d tensors do not promote in torch) goes to the reference.
    """
    device, dtypes = ("cpu", _CPU_DTYPES) if kernel == "cpu" else ("cuda", _TRITON_DTYPES)
    if x.device.type != device:
        return f"x is on {x.device}, the {kernel} kernel needs {device.upper()} tensors"
    if x.dtype not in dtypes:
        listed = ", ".join(str(d).removeprefix("torch.") for d in dtypes)
        return f"x has dtype {x.dtype}, the {kernel} kernel takes {listed}"
    if family is _LIF and p.t_ref > 0 and refractory_steps(p.t_ref, dt) > 0:
        return "the LIF refractory period (t_ref > 0) is only in the reference step"
    for field in state._fields:
        value = getattr(state, field)
        if field != "r" and value.dtype != x.dtype:  # LIF's r passes through untouched
            return f"state.{field} has dtype {value.dtype} but x has {x.dtype}"
    for name in family.tensor_params:
        value = getattr(p, name)
        if (
            isinstance(value, Tensor)
            and value.ndim > 0
            and torch.promote_types(value.dtype, x.dtype) != x.dtype
        ):
            return f"p.{name} has dtype {value.dtype}, wider than x's {x.dtype}"
    if isinstance(p.v_reset, Tensor):
        return "p.v_reset is a tensor; the kernels take it as a number (give a float)"
    if p.surrogate.kind not in _BUILTIN_KINDS:
        return (
            f"the surrogate {type(p.surrogate).__name__} is not one of the built-in "
            f"{sorted(SURROGATES)}"
        )
    return None


_FAMILIES = {LIFParameters: _LIF, CubaLIFParameters: _CUBA, ALIFParameters: _ALIF}


def resolve_backend(x: Tensor, state: Any, p: Any, dt: float, backend: str = "auto") -> str:
    """The backend (``"reference"``, ``"cpu"`` or ``"triton"``) a multi-step call would run.

    The family is that of ``p`` (:class:`~dendrix.spiking.functional.lif.LIFParameters`,
    :class:`~dendrix.spiking.functional.cuba_lif.CubaLIFParameters` or
    :class:`~dendrix.spiking.functional.alif.ALIFParameters`). The arguments are checked as
    the entry points check them, except for what reads tensor values (finite input, tensor
    time constants > 0).

    Raises:
        ValueError: ``backend`` is unknown, or names a fused backend that cannot run this call
            (the message says why and what to use instead), or an argument is invalid.
    """
    family = _FAMILIES.get(type(p))
    if family is None:
        raise TypeError(
            f"p must be LIFParameters, CubaLIFParameters or ALIFParameters, got {type(p).__name__}."
        )
    _check(family, x, state, p, dt, data=False)
    return _select(family, x, state, p, dt, backend)


def _select(family: _Family, x: Tensor, state: Any, p: Any, dt: float, backend: str) -> str:
    check_choice("backend", backend, BACKENDS)
    if backend == "reference":
        return "reference"
    if backend in ("cpu", "triton"):
        reason = _unsupported(family, x, state, p, dt, backend)
        if reason is None and backend == "triton" and not triton_available():
            reason = "Triton is unavailable here (it needs the triton package and a CUDA GPU)"
        if reason is not None:
            raise ValueError(
                f"backend={backend!r} cannot run this call: {reason}. Use backend='reference' "
                "(or 'auto', which picks a backend that can)."
            )
        return backend
    # auto
    if x.device.type == "cuda":
        if _unsupported(family, x, state, p, dt, "triton") is None and triton_available():
            return "triton"
        return "reference"
    return "cpu" if _unsupported(family, x, state, p, dt, "cpu") is None else "reference"


def _run(family: _Family, x: Tensor, state: Any, p: Any, dt: float, backend: str):
    _check(family, x, state, p, dt, data=True)
    chosen = _select(family, x, state, p, dt, backend)
    if chosen == "cpu":
        return family.cpu(x, state, p, dt)
    if chosen == "triton":
        return _triton_function(family.triton)(x, state, p, dt)
    return family.reference(x, state, p, dt)


# -- entry points ------------------------------------------------------------------------------


def lif_multistep(
    x: Tensor, state: LIFState, p: LIFParameters, dt: float, *, backend: str = "auto"
) -> tuple[Tensor, LIFState]:
    """LIF over a sequence (:mod:`dendrix.spiking.functional.lif`), on the chosen backend.

    Args:
        x: input :math:`I_t`, ``[T, B, ...]`` (time first), finite.
        state: :class:`~dendrix.spiking.functional.lif.LIFState`, each field ``[B, ...]``.
        p: :class:`~dendrix.spiking.functional.lif.LIFParameters`; tensors broadcastable to
            ``[B, ...]``.
        dt: time step in seconds (> 0).
        backend: ``"auto"``, ``"reference"``, ``"cpu"`` or ``"triton"`` (module docstring).

    Returns:
        ``(z, state)``: spikes ``[T, B, ...]`` and the state after the last step.
    """
    return _run(_LIF, x, state, p, dt, backend)


def cuba_lif_multistep(
    x: Tensor, state: CubaLIFState, p: CubaLIFParameters, dt: float, *, backend: str = "auto"
) -> tuple[Tensor, CubaLIFState]:
    """CuBa-LIF over a sequence (:mod:`dendrix.spiking.functional.cuba_lif`); arguments as
    :func:`lif_multistep`."""
    return _run(_CUBA, x, state, p, dt, backend)


def alif_multistep(
    x: Tensor, state: ALIFState, p: ALIFParameters, dt: float, *, backend: str = "auto"
) -> tuple[Tensor, ALIFState]:
    """ALIF over a sequence (:mod:`dendrix.spiking.functional.alif`); arguments as
    :func:`lif_multistep`."""
    return _run(_ALIF, x, state, p, dt, backend)

r"""What every plasticity rule shares: shapes, units, the batch reduction, applying an update.

**Shapes.** A rule sees one time step of one projection ``pre -> post``:

- ``pre``  ``[B, n_in]``: presynaptic spikes (0/1) or rates of the step,
- ``post`` ``[B, n_out]``: postsynaptic spikes or rates of the same step,
- ``weight`` ``[n_out, n_in]``: the layout of :class:`torch.nn.Linear` (``I = pre @ weight.T``),

and returns an update ``dw`` of ``weight``'s shape and dtype. ``B`` is the batch: independent
copies of the network that share one weight matrix.

**Batch reduction.** ``reduce="mean"`` (the default) averages the ``B`` per-sample updates,
so a learning rate means the same at any batch size; ``reduce="sum"`` adds them, so each spike
pair counts once as in a single-sample simulation. With ``B = 1`` they agree.

**Units.** As in :mod:`dendrix.spiking.functional.base`: time constants ``tau_*`` and the step
``dt`` in seconds, rates in hertz; weights and amplitudes are dimensionless (weight units).

**Rules never write.** ``update`` is pure: it returns ``(dw, state)`` and changes none of its
arguments; it builds no autograd graph. The caller applies the update, which is what lets local
rules live beside gradient descent in one training loop::

    loss.backward(); optimizer.step()                      # gradient part, if any
    dw, state = rule.update(pre, post, state, layer.weight)
    apply_update(layer.weight, dw)                         # torch.no_grad(): weight += dw

The state (traces, thresholds) is the rule's own typed ``NamedTuple``, built by
``rule.initial_state(weight, batch_size)`` and carried by the caller, like a neuron's state.
Methods whose names end in ``_`` are the exception, as in PyTorch: the spike-timing rules'
``update_(pre, post, state, weight) -> state`` writes the same update into ``weight`` in place,
event-driven (only rows and columns with spikes), and is tested equal to ``update``.

**Registry.** Every weight rule with this ``update`` step is registered in :data:`RULES`; the
contract suite (``tests/plasticity/test_rule_contract.py``) runs the same checks on each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from dendrix._validation import check_choice, check_float, check_tensor
from dendrix.registry import Registry

__all__ = [
    "BOUNDS",
    "REDUCTIONS",
    "RULES",
    "RuleSpec",
    "apply_update",
    "check_bounds",
    "check_layer",
    "check_reduce",
    "check_state_shapes",
    "clip_update",
    "reduce_batch",
]

REDUCTIONS = ("mean", "sum")
BOUNDS = ("none", "hard", "soft")


@dataclass(frozen=True)
class RuleSpec:
    """How the rule contract suite builds and feeds one weight rule.

    Attributes:
        build: returns a rule with its default configuration.
        spiking: the rule reads spikes (0/1); otherwise rates.
        modulated: ``update`` takes a ``modulator`` (three-factor rules).
    """

    build: Callable[[], Any]
    spiking: bool = True
    modulated: bool = False


#: Weight rules with an ``update(pre, post, state, weight) -> (dw, state)`` step.
RULES: Registry[RuleSpec] = Registry("plasticity rule")


def check_bounds(w_min: object, w_max: object) -> tuple[float, float]:
    """Return ``(w_min, w_max)`` as floats, raising unless ``w_min < w_max``."""
    lo = check_float("w_min", w_min)
    hi = check_float("w_max", w_max)
    if not lo < hi:
        raise ValueError(
            f"w_min must be < w_max, got w_min={lo:g} and w_max={hi:g}; swap them or widen the "
            "range (e.g. w_min=0.0, w_max=1.0)."
        )
    return lo, hi


def check_layer(
    pre: Tensor,
    post: Tensor,
    weight: Tensor,
    *,
    check_finite: bool = True,
    pre_name: str = "pre",
    post_name: str = "post",
) -> None:
    """Check ``pre`` ``[B, n_in]``, ``post`` ``[B, n_out]`` and ``weight`` ``[n_out, n_in]``.

    The messages name the mismatching axis and say which layer size the rule expected, so a
    rule wired to the wrong layer fails at its first step.
    """
    check_tensor("weight", weight, kind="floating", ndim=2)
    n_out, n_in = weight.shape
    check_tensor(
        pre_name, pre, kind="floating", ndim=2, hint="Give one time step, shape [batch, n_in]."
    )
    check_tensor(
        post_name, post, kind="floating", ndim=2, hint="Give one time step, shape [batch, n_out]."
    )
    if pre.shape[1] != n_in:
        raise ValueError(
            f"{pre_name} has {pre.shape[1]} inputs but weight {tuple(weight.shape)} expects "
            f"n_in={n_in} (weight is [n_out, n_in]); connect the rule to the layer whose input "
            f"is {pre_name}."
        )
    if post.shape[1] != n_out:
        raise ValueError(
            f"{post_name} has {post.shape[1]} neurons but weight {tuple(weight.shape)} expects "
            f"n_out={n_out} (weight is [n_out, n_in]); pass the output of the layer that this "
            "weight drives."
        )
    if pre.shape[0] != post.shape[0]:
        raise ValueError(
            f"{pre_name} and {post_name} must have the same batch size, got {pre.shape[0]} and "
            f"{post.shape[0]}."
        )
    if check_finite and not torch.compiler.is_compiling():
        check_tensor(pre_name, pre, finite=True)
        check_tensor(post_name, post, finite=True)
        check_tensor("weight", weight, finite=True)


def check_state_shapes(state: Any, expected: dict[str, tuple[int, ...]], builder: str) -> None:
    """Raise unless each named field of ``state`` is a tensor of the expected shape."""
    for field, shape in expected.items():
        value = getattr(state, field, None)
        if not isinstance(value, Tensor) or tuple(value.shape) != tuple(shape):
            got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(
                f"state.{field} must have shape {tuple(shape)} for this layer and batch, got "
                f"{got}; build the state with {builder} or pass state=None."
            )


def reduce_batch(term: Tensor, batch_size: int, reduce: str) -> Tensor:
    """Turn a batch *sum* into the chosen reduction: ``sum / B`` for ``"mean"``, else the sum."""
    if reduce == "mean":
        return term / batch_size
    if reduce == "sum":
        return term
    raise ValueError(f"reduce must be one of {REDUCTIONS}; got {reduce!r}.")


def clip_update(dw: Tensor, weight: Tensor, w_min: float, w_max: float) -> Tensor:
    r"""Hard bounds: the update that lands on :math:`\mathrm{clip}(w + dw, w_{min}, w_{max})`.

    Returns :math:`\mathrm{clip}(w + dw) - w`, so ``weight + result`` lies in the bounds.
    """
    return (weight + dw).clamp(w_min, w_max) - weight


def apply_update(weight: Tensor, dw: Tensor) -> Tensor:
    """Add ``dw`` to ``weight`` in place without recording it for autograd; return ``weight``.

    Works on an :class:`torch.nn.Parameter` between optimiser steps (the usual way to mix a
    local rule with gradient descent).

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(2, 3))
        >>> apply_update(w, torch.ones(2, 3)).sum().item()
        6.0
    """
    check_tensor("weight", weight, kind="floating")
    check_tensor("dw", dw, kind="floating")
    if dw.shape != weight.shape:
        raise ValueError(
            f"dw has shape {tuple(dw.shape)} but weight has {tuple(weight.shape)}; the rule was "
            "wired to a different layer."
        )
    with torch.no_grad():
        weight.add_(dw)
    return weight


def check_reduce(reduce: object) -> str:
    """Raise unless ``reduce`` is ``"mean"`` or ``"sum"``."""
    return str(check_choice("reduce", reduce, REDUCTIONS))

"""Reference multi-step runs: each family's step function under a Python time loop.

``<family>_multistep_reference(x, state, p, dt)`` is
:func:`~dendrix.spiking.functional.base.scan` of the family's step over ``x`` ``[T, B, ...]``.

These define what every fused kernel (:mod:`dendrix.spiking.kernels.cpu`,
:mod:`dendrix.spiking.kernels.triton`) must equal in outputs and gradients. They keep one
autograd graph per step; the maths is in :mod:`dendrix.spiking.functional`.

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state
    >>> from dendrix.spiking.kernels.reference import lif_multistep_reference
    >>> x = torch.full((3, 1, 2), 0.6)  # [T, B, n]
    >>> z, state = lif_multistep_reference(x, lif_initial_state(x[0]), LIFParameters(), 1e-3)
    >>> z[:, 0, 0].tolist()
    [0.0, 1.0, 0.0]
"""

from __future__ import annotations

from torch import Tensor

from dendrix.spiking.functional.alif import ALIFParameters, ALIFState, alif_step
from dendrix.spiking.functional.base import scan
from dendrix.spiking.functional.cuba_lif import CubaLIFParameters, CubaLIFState, cuba_lif_step
from dendrix.spiking.functional.lif import LIFParameters, LIFState, lif_step

__all__ = ["alif_multistep_reference", "cuba_lif_multistep_reference", "lif_multistep_reference"]


def lif_multistep_reference(
    x: Tensor, state: LIFState, p: LIFParameters, dt: float
) -> tuple[Tensor, LIFState]:
    """:func:`~dendrix.spiking.functional.lif.lif_step` over ``x`` ``[T, B, ...]``.

    Args:
        x: input sequence ``[T, B, ...]``.
        state: :class:`~dendrix.spiking.functional.lif.LIFState` of one step ``[B, ...]``.
        p: :class:`~dendrix.spiking.functional.lif.LIFParameters`.
        dt: time step in seconds.

    Returns:
        ``(z, state)``: spikes ``[T, B, ...]`` and the state after the last step.
    """
    return scan(lif_step, x, state, p, dt)


def cuba_lif_multistep_reference(
    x: Tensor, state: CubaLIFState, p: CubaLIFParameters, dt: float
) -> tuple[Tensor, CubaLIFState]:
    """:func:`~dendrix.spiking.functional.cuba_lif.cuba_lif_step` over ``x`` ``[T, B, ...]``
    (arguments as :func:`lif_multistep_reference`)."""
    return scan(cuba_lif_step, x, state, p, dt)


def alif_multistep_reference(
    x: Tensor, state: ALIFState, p: ALIFParameters, dt: float
) -> tuple[Tensor, ALIFState]:
    """:func:`~dendrix.spiking.functional.alif.alif_step` over ``x`` ``[T, B, ...]``
    (arguments as :func:`lif_multistep_reference`)."""
    return scan(alif_step, x, state, p, dt)

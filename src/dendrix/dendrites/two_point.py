r"""Two-point neurons: an apical context modulates the basal drive but never drives alone.

A layer of ``N`` two-point units reads a feed-forward input ``x`` ``[..., F]`` at the basal
(receptive-field) site and a context ``c`` ``[..., K]`` at the apical site::

    R = W_b x (+ b_b)        basal drive      [..., N]   (W_b [N, F]; no bias by default)
    C = W_a c + b_a          apical context   [..., N]   (W_a [N, K])
    A = f(R, C)              output           [..., N]

with one transfer function ``f`` per layer (:data:`TRANSFER_FUNCTIONS`), all dimensionless:

============  ===================================  ==========================================
name          f(R, C)                              f(0, C)
============  ===================================  ==========================================
``"kay"``     0.5 R (1 + exp(R C))                 0: context alone is silent
``"gain"``    R + R C = R (1 + C)                  0
``"tanh"``    R (1 + tanh(R C))                    0 (the default; gain A/R in [0, 2])
``"coop"``    ReLU6(R^2 + 2 R + C (1 + |R|))       ReLU6(C): context *can* drive (see below)
============  ===================================  ==========================================

``"kay"`` is the modulatory activation of Kay & Phillips (1997), used in their two-site
local processors: with a neutral context (``C = 0``) the output is the drive itself, context of
the drive's sign amplifies it and context of the opposite sign attenuates it, and the output
keeps the sign of ``R``. ``"gain"`` and ``"tanh"`` are further modulatory forms from the
project's algorithm notes (Kay & Phillips 2020 contrast modulatory forms like these with the
arithmetic operators); ``"tanh"`` (the default) also never flips the sign of ``R`` and bounds
the gain ``A / R`` in [0, 2], whereas the exponential of ``"kay"`` is unbounded (it
overflows for ``R C`` above ~88 in float32). ``"coop"`` is the "cooperation" context-sensitive
function of Adeel et al. (2023) as listed in the project's algorithm notes (its exact published
form is unconfirmed); it lets the context fire a unit without drive, so :class:`TwoPointNeuron`
refuses it unless ``allow_context_drive=True``.

**The two-point property.** For every transfer except ``"coop"``, ``R = 0`` gives ``A = 0``
for any ``C``; without a basal bias (the default) ``x = 0`` gives ``R = 0``, so context alone
never produces output. With ``basal_bias=True`` the property holds for ``R`` but not for ``x``.

References:
    J. Kay and W. A. Phillips, "Activation functions, computational goals, and learning rules
    for local processors with contextual guidance", Neural Computation 9(4):895-910, 1997.
    J. W. Kay and W. A. Phillips, "Contextual modulation in mammalian neocortex is asymmetric",
    Symmetry 12(5):815, 2020.
    A. Adeel et al., "Cooperation is all you need", arXiv:2305.10449, 2023.

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = TwoPointNeuron(4, 2, 3, generator=g)
    >>> layer(torch.zeros(5, 4), torch.randn(5, 2, generator=g)).abs().max().item()
    0.0
    >>> layer(torch.rand(5, 4, generator=g), torch.randn(5, 2, generator=g)).shape
    torch.Size([5, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from dendrix._validation import check_choice, check_int, check_tensor
from dendrix.registry import LAYERS, LayerSpec

__all__ = [
    "TRANSFER_FUNCTIONS",
    "Transfer",
    "TwoPointNeuron",
    "TwoPointParameters",
    "cooperation_transfer",
    "gain_transfer",
    "kay_transfer",
    "tanh_transfer",
    "two_point",
    "two_point_layer",
]


def kay_transfer(r: Tensor, c: Tensor) -> Tensor:
    """``0.5 R (1 + exp(R C))`` (Kay & Phillips 1997)."""
    return 0.5 * r * (1.0 + torch.exp(r * c))


def gain_transfer(r: Tensor, c: Tensor) -> Tensor:
    """``R + R C``: context as a linear gain on the drive."""
    return r + r * c


def tanh_transfer(r: Tensor, c: Tensor) -> Tensor:
    """``R (1 + tanh(R C))``: a bounded gain in [0, 2] that never flips the sign of ``R``."""
    return r * (1.0 + torch.tanh(r * c))


def cooperation_transfer(r: Tensor, c: Tensor) -> Tensor:
    """``ReLU6(R^2 + 2 R + C (1 + |R|))`` (Adeel et al. 2023, form unconfirmed); f(0, C) != 0."""
    return nn.functional.relu6(r * r + 2.0 * r + c * (1.0 + r.abs()))


class Transfer(NamedTuple):
    """A two-point transfer function and what it guarantees.

    Attributes:
        fn: ``(R, C) -> A``, elementwise.
        formula: the formula, for messages and documentation.
        silent_without_drive: ``f(0, C) = 0`` for every ``C`` (the two-point property).
    """

    fn: Callable[[Tensor, Tensor], Tensor]
    formula: str
    silent_without_drive: bool


#: The transfer functions by name (module docstring).
TRANSFER_FUNCTIONS: dict[str, Transfer] = {
    "kay": Transfer(kay_transfer, "0.5 R (1 + exp(R C))", True),
    "gain": Transfer(gain_transfer, "R + R C", True),
    "tanh": Transfer(tanh_transfer, "R (1 + tanh(R C))", True),
    "coop": Transfer(cooperation_transfer, "ReLU6(R^2 + 2R + C (1 + |R|))", False),
}


_SILENT = tuple(k for k, t in TRANSFER_FUNCTIONS.items() if t.silent_without_drive)


def two_point(r: Tensor, c: Tensor, transfer: str = "tanh") -> Tensor:
    """``f(R, C)`` for the named transfer function; ``r`` and ``c`` broadcast."""
    check_choice("transfer", transfer, TRANSFER_FUNCTIONS)
    return TRANSFER_FUNCTIONS[transfer].fn(r, c)


class TwoPointParameters(NamedTuple):
    """Weights of a two-point layer.

    Attributes:
        w_b: basal weights ``[N, F]``; b_b: basal bias ``[N]`` or ``None``.
        w_a: apical weights ``[N, K]``; b_a: apical bias ``[N]`` or ``None``.
    """

    w_b: Tensor
    b_b: Tensor | None
    w_a: Tensor
    b_a: Tensor | None


def two_point_layer(
    x: Tensor, context: Tensor, p: TwoPointParameters, transfer: str = "tanh"
) -> Tensor:
    """``f(W_b x + b_b, W_a c + b_a)``: x ``[..., F]``, context ``[..., K]`` -> ``[..., N]``.

    Arguments are not checked here; :class:`TwoPointNeuron` checks them at the door.
    """
    r = nn.functional.linear(x, p.w_b, p.b_b)  # [..., N]
    c = nn.functional.linear(context, p.w_a, p.b_a)  # [..., N]
    return TRANSFER_FUNCTIONS[transfer].fn(r, c)


def _uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator | None) -> Tensor:
    return torch.empty(shape).uniform_(-bound, bound, generator=generator)


class TwoPointNeuron(nn.Module):
    """A layer of two-point units (module docstring); maths in :func:`two_point_layer`.

    Args:
        in_features: ``F``, basal (feed-forward) inputs.
        context_features: ``K``, apical (context) inputs.
        out_features: ``N``, units.
        transfer: a name in :data:`TRANSFER_FUNCTIONS` (default ``"tanh"``).
        basal_bias: give ``R`` a bias (then ``x = 0`` no longer implies ``R = 0``).
        apical_bias: give ``C`` a bias.
        allow_context_drive: accept a transfer whose context can drive the unit alone
            (``"coop"``); refused by default.
        generator: draws the initial weights (``None``: torch's default generator).

    ``forward(x, context)`` takes both; ``forward(xc)`` with ``context=None`` takes their
    concatenation ``[x ; c]`` along the last axis (for ``nn.Sequential``).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = TwoPointNeuron(3, 2, 4, transfer="kay", generator=g)
        >>> layer(torch.rand(6, 3 + 2, generator=g)).shape
        torch.Size([6, 4])
    """

    def __init__(
        self,
        in_features: int,
        context_features: int,
        out_features: int,
        *,
        transfer: str = "tanh",
        basal_bias: bool = False,
        apical_bias: bool = True,
        allow_context_drive: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.context_features = check_int("context_features", context_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        self.transfer = check_choice("transfer", transfer, TRANSFER_FUNCTIONS)
        if not TRANSFER_FUNCTIONS[transfer].silent_without_drive and not allow_context_drive:
            raise ValueError(
                f"transfer={transfer!r} ({TRANSFER_FUNCTIONS[transfer].formula}) lets the context "
                "drive a unit with zero basal drive, breaking the two-point property; pass "
                "allow_context_drive=True to use it anyway, or pick one of "
                + ", ".join(repr(k) for k in _SILENT)
                + "."
            )
        n, f, k = self.out_features, self.in_features, self.context_features
        self.w_b = nn.Parameter(_uniform((n, f), 1 / math.sqrt(f), generator))
        self.b_b = nn.Parameter(_uniform((n,), 1 / math.sqrt(f), generator)) if basal_bias else None
        self.w_a = nn.Parameter(_uniform((n, k), 1 / math.sqrt(k), generator))
        self.b_a = (
            nn.Parameter(_uniform((n,), 1 / math.sqrt(k), generator)) if apical_bias else None
        )

    def params(self) -> TwoPointParameters:
        return TwoPointParameters(self.w_b, self.b_b, self.w_a, self.b_a)

    def drive_and_context(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(R, C)`` for inspection (``[..., N]`` each), after the same checks as forward."""
        x, context = self._split(x, context)
        p = self.params()
        return nn.functional.linear(x, p.w_b, p.b_b), nn.functional.linear(context, p.w_a, p.b_a)

    def _split(self, x: Tensor, context: Tensor | None) -> tuple[Tensor, Tensor]:
        f, k = self.in_features, self.context_features
        if context is None:
            check_tensor(
                "x",
                x,
                kind="floating",
                min_ndim=1,
                last_dim=f + k,
                hint=f"Without a context argument x is [x ; c] with {f} + {k} features.",
            )
            return x[..., :f], x[..., f:]
        check_tensor("x", x, kind="floating", min_ndim=1, last_dim=f, hint="x is [..., F].")
        check_tensor(
            "context", context, kind="floating", min_ndim=1, last_dim=k, hint="context is [..., K]."
        )
        try:
            torch.broadcast_shapes(x.shape[:-1], context.shape[:-1])
        except RuntimeError:
            raise ValueError(
                f"x {tuple(x.shape)} and context {tuple(context.shape)} must have broadcastable "
                "leading (batch) dimensions; give one context per sample or one for all."
            ) from None
        return x, context

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        """``x`` ``[..., F]`` and ``context`` ``[..., K]`` (or ``[x ; c]``) -> ``[..., N]``."""
        x, context = self._split(x, context)
        return two_point_layer(x, context, self.params(), self.transfer)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, context_features={self.context_features}, "
            f"out_features={self.out_features}, transfer={self.transfer!r}, "
            f"basal_bias={self.b_b is not None}, apical_bias={self.b_a is not None}"
        )


# Layer contract suite (tests/contracts): the input is the concatenation [x ; c].
for _transfer in ("tanh", "kay"):
    LAYERS.add(
        f"dendrites.TwoPointNeuron[{_transfer}]",
        LayerSpec(
            build=lambda t=_transfer: TwoPointNeuron(
                4, 3, 7, transfer=t, generator=torch.Generator().manual_seed(0)
            ),
            example_input=lambda g: torch.randn(8, 7, generator=g),
        ),
    )

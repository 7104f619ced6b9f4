r"""Surrogate spike functions: an exact Heaviside forward, a smooth derivative backward.

A spiking neuron emits :math:`z = H(u)` where :math:`u = h - \vartheta` is the membrane
potential above threshold and :math:`H(u) = 1` for :math:`u \ge 0`, else 0. :math:`H' = 0`
almost everywhere, so gradient descent replaces it in the backward pass by the derivative
:math:`\sigma'(u)` of a smooth primitive :math:`\sigma` (Neftci, Mostafa & Zenke 2019,
"Surrogate gradient learning in spiking neural networks", IEEE Signal Process. Mag. 36:51).

Every member of the family obeys one contract (``tests/spiking/test_surrogate.py``): the
forward equals :math:`H` exactly, and the backward equals :math:`\sigma'` of the named
primitive, checked against finite differences of :meth:`Surrogate.primitive`.

=================  ====================================================  =====================
name               primitive :math:`\sigma(u)`                            citation
=================  ====================================================  =====================
``fast_sigmoid``   :math:`u / (1 + \alpha|u|)`                            Zenke & Ganguli 2018
``atan``           :math:`\tfrac12 + \tfrac1\pi\arctan(\tfrac\pi2\alpha u)`  Fang et al. 2021
``sigmoid``        :math:`1 / (1 + e^{-\alpha u})`                        Neftci et al. 2019
``triangle``       piecewise quadratic, :math:`\sigma' = \alpha\max(0, 1-\alpha|u|)`
                                                                          Esser et al. 2016
``straight_through``  :math:`\mathrm{clamp}(\alpha u + \tfrac12, 0, 1)`  Bengio et al. 2013
=================  ====================================================  =====================

``alpha`` (dimensionless, per unit of membrane potential) sets the sharpness.

Example:
    >>> import torch
    >>> from dendrix.spiking.surrogate import surrogate
    >>> spike = surrogate("atan", alpha=2.0)
    >>> u = torch.tensor([-0.5, 0.0, 0.3], requires_grad=True)
    >>> z = spike(u)
    >>> z.tolist()
    [0.0, 1.0, 1.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from dendrix._validation import check_choice, check_float

__all__ = [
    "SURROGATES",
    "ATan",
    "FastSigmoid",
    "Sigmoid",
    "StraightThrough",
    "Surrogate",
    "Triangle",
    "heaviside",
    "surrogate",
    "surrogate_derivative",
]


def heaviside(u: Tensor) -> Tensor:
    """:math:`H(u) = 1` if :math:`u \\ge 0` else 0, in the dtype of ``u`` (no gradient)."""
    return (u >= 0).to(u.dtype)


def surrogate_derivative(kind: int, u: Tensor, alpha: float) -> Tensor:
    """:math:`\\sigma'(u)` of surrogate number ``kind`` (see :attr:`Surrogate.kind`)."""
    if kind == FastSigmoid.kind:
        return 1.0 / (1.0 + alpha * u.abs()) ** 2
    if kind == ATan.kind:
        return (alpha / 2.0) / (1.0 + (math.pi / 2.0 * alpha * u) ** 2)
    if kind == Sigmoid.kind:
        s = torch.sigmoid(alpha * u)
        return alpha * s * (1.0 - s)
    if kind == Triangle.kind:
        return alpha * torch.clamp(1.0 - alpha * u.abs(), min=0.0)
    if kind == StraightThrough.kind:
        return alpha * (u.abs() < 0.5 / alpha).to(u.dtype)
    raise ValueError(f"unknown surrogate kind {kind}; expected one of 0..4.")


class _SpikeFunction(torch.autograd.Function):
    """Heaviside forward, surrogate derivative backward (works under vmap/torch.func)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(u: Tensor, kind: int, alpha: float) -> Tensor:  # type: ignore[override]
        return heaviside(u)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:  # type: ignore[override]
        u, kind, alpha = inputs
        ctx.save_for_backward(u)
        ctx.kind = kind
        ctx.alpha = alpha

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (u,) = ctx.saved_tensors
        return grad * surrogate_derivative(ctx.kind, u, ctx.alpha), None, None


@dataclass(frozen=True)
class Surrogate:
    """A spike function: :math:`H(u)` forward, :math:`\\sigma'(u)` backward.

    Args:
        alpha: sharpness of the primitive (> 0, per unit of membrane potential).
    """

    alpha: float = 1.0
    name: ClassVar[str] = ""
    kind: ClassVar[int] = -1

    def __post_init__(self) -> None:
        check_float("alpha", self.alpha, minimum=0.0, open_min=True)

    def __call__(self, u: Tensor) -> Tensor:
        """Spikes :math:`H(u)` of the same shape and dtype as ``u``."""
        return _SpikeFunction.apply(u, self.kind, float(self.alpha))

    def primitive(self, u: Tensor) -> Tensor:
        """The smooth function :math:`\\sigma(u)` whose derivative the backward uses."""
        raise NotImplementedError

    def derivative(self, u: Tensor) -> Tensor:
        """:math:`\\sigma'(u)`, the gradient the backward pass multiplies in."""
        return surrogate_derivative(self.kind, u, float(self.alpha))


@dataclass(frozen=True)
class FastSigmoid(Surrogate):
    """SuperSpike: :math:`\\sigma(u) = u/(1+\\alpha|u|)`, :math:`\\sigma' = (1+\\alpha|u|)^{-2}`.

    Zenke & Ganguli 2018, "SuperSpike: supervised learning in multilayer spiking neural
    networks", Neural Computation 30:1514.
    """

    alpha: float = 10.0
    name: ClassVar[str] = "fast_sigmoid"
    kind: ClassVar[int] = 0

    def primitive(self, u: Tensor) -> Tensor:
        return u / (1.0 + self.alpha * u.abs())


@dataclass(frozen=True)
class ATan(Surrogate):
    """:math:`\\sigma(u) = \\tfrac12 + \\tfrac1\\pi \\arctan(\\tfrac\\pi2 \\alpha u)`.

    Fang et al. 2021, "Incorporating learnable membrane time constant to enhance learning of
    spiking neural networks", ICCV.
    """

    alpha: float = 2.0
    name: ClassVar[str] = "atan"
    kind: ClassVar[int] = 1

    def primitive(self, u: Tensor) -> Tensor:
        return 0.5 + torch.atan(math.pi / 2.0 * self.alpha * u) / math.pi


@dataclass(frozen=True)
class Sigmoid(Surrogate):
    """:math:`\\sigma(u) = 1/(1+e^{-\\alpha u})` (Neftci, Mostafa & Zenke 2019)."""

    alpha: float = 4.0
    name: ClassVar[str] = "sigmoid"
    kind: ClassVar[int] = 2

    def primitive(self, u: Tensor) -> Tensor:
        return torch.sigmoid(self.alpha * u)


@dataclass(frozen=True)
class Triangle(Surrogate):
    """Piecewise linear derivative :math:`\\sigma' = \\alpha \\max(0, 1 - \\alpha|u|)`.

    The primitive is :math:`\\tfrac12 + \\alpha u - \\tfrac12 \\alpha^2 u|u|` on
    :math:`|u| < 1/\\alpha`, 0 below and 1 above. Esser et al. 2016, "Convolutional networks for
    fast, energy-efficient neuromorphic computing", PNAS 113:11441; Bellec et al. 2018.
    """

    alpha: float = 1.0
    name: ClassVar[str] = "triangle"
    kind: ClassVar[int] = 3

    def primitive(self, u: Tensor) -> Tensor:
        a = self.alpha
        inside = 0.5 + a * u - 0.5 * a * a * u * u.abs()
        return torch.where(u.abs() < 1.0 / a, inside, (u > 0).to(u.dtype))


@dataclass(frozen=True)
class StraightThrough(Surrogate):
    """Rectangular straight-through: :math:`\\sigma = \\mathrm{clamp}(\\alpha u + 1/2, 0, 1)`.

    :math:`\\sigma' = \\alpha` on :math:`|u| < 1/(2\\alpha)`, else 0. Bengio, Léonard &
    Courville 2013, "Estimating or propagating gradients through stochastic neurons".
    """

    alpha: float = 1.0
    name: ClassVar[str] = "straight_through"
    kind: ClassVar[int] = 4

    def primitive(self, u: Tensor) -> Tensor:
        return torch.clamp(self.alpha * u + 0.5, 0.0, 1.0)


SURROGATES: dict[str, type[Surrogate]] = {
    cls.name: cls for cls in (FastSigmoid, ATan, Sigmoid, Triangle, StraightThrough)
}


def surrogate(spec: str | Surrogate = "fast_sigmoid", alpha: float | None = None) -> Surrogate:
    """Return a :class:`Surrogate` from its name (with optional ``alpha``) or pass one through."""
    if isinstance(spec, Surrogate):
        if alpha is not None:
            raise ValueError("alpha is given twice: pass a name with alpha, or a Surrogate alone.")
        return spec
    check_choice("surrogate", spec, SURROGATES)
    cls = SURROGATES[spec]
    return cls() if alpha is None else cls(alpha=alpha)

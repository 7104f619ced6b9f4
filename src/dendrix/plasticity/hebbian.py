r"""Rate-based Hebbian rules: Hebb, Oja, the generalised Oja subspace rule, BCM, anti-Hebbian.

For one sample with presynaptic rates :math:`x` ``[n_in]``, postsynaptic rates :math:`y`
``[n_out]`` (usually :math:`y = W x`, computed by the layer) and weights :math:`W`
``[n_out, n_in]``, with a dimensionless learning rate :math:`\eta` per update:

.. math::

    \text{Hebb:}\quad & \Delta W = \eta\, y x^\top \\
    \text{Oja:}\quad & \Delta W_{ij} = \eta\, y_i (x_j - y_i W_{ij}) \\
    \text{subspace:}\quad & \Delta W = \eta\, y (x - W^\top y)^\top \\
    \text{BCM:}\quad & \Delta W_{ij} = \eta\, y_i (y_i - \theta_i)\, x_j, \qquad
        \theta \leftarrow \rho\,\theta + (1 - \rho)\, y^2,\ \rho = e^{-dt/\tau_\theta} \\
    \text{anti-Hebbian:}\quad & \Delta W_{ij} = -\eta\, (y_i x_j - p^2)

- **Oja** (1982): each output neuron's weight vector converges to the unit-norm first principal
  component of the (zero-mean) input, the decay term :math:`-y^2 w` bounding the norm.
- **Subspace** (Oja 1989, the "generalised" Oja rule used by HLOP; in batch notation
  :math:`\Delta H = \eta\, y^\top (x - y H)` with :math:`y = x H^\top` ``[B, k]``): the rows of
  :math:`W` converge to an orthonormal basis of the top-:math:`k` principal subspace (a rotation
  of the top eigenvectors, not the eigenvectors themselves).
- **BCM** (Bienenstock, Cooper & Munro 1982; sliding threshold :math:`\theta = E[y^2]` of
  Intrator & Cooper 1992): activity above the threshold potentiates, below it depresses, and
  the threshold tracks :math:`\langle y^2 \rangle` over :math:`\tau_\theta` (seconds) so the
  neuron becomes selective.
- **Anti-Hebbian** (Földiák 1990): applied to lateral weights between outputs (``pre = post``
  = the outputs), it removes their correlations; the diagonal (self-connections) is kept at
  zero. With a target :math:`p^2 > 0` (Földiák's sparseness term) pairs are decorrelated only
  down to :math:`p^2`.

The batch (``[B, ...]``) enters as the sum of per-sample updates, averaged with
``reduce="mean"`` (:mod:`dendrix.plasticity.base`). The same rules run on spiking layers with
spike counts or filtered traces as the rates.

References: Hebb DO (1949) The Organization of Behavior; Oja E (1982) A simplified neuron model
as a principal component analyzer. J Math Biol 15:267-273; Oja E (1989) Neural networks,
principal components, and subspaces. Int J Neural Syst 1:61-68; Bienenstock EL, Cooper LN,
Munro PW (1982) J Neurosci 2:32-48; Intrator N, Cooper LN (1992) Neural Netw 5:3-17; Földiák P
(1990) Forming sparse representations by local anti-Hebbian learning. Biol Cybern 64:165-170.

Example:
    >>> import torch
    >>> from dendrix.plasticity import Oja
    >>> w = torch.tensor([[0.6, 0.8]])                  # unit norm, along x
    >>> x = torch.tensor([[0.6, 0.8]])
    >>> dw, _ = Oja(eta=0.1).update(x, x @ w.T, None, w)
    >>> dw.abs().max().item() < 1e-7                     # a fixed point: y (x - y w) = 0
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from dendrix._validation import check_float, check_int, check_tensor
from dendrix.plasticity.base import (
    RULES,
    RuleSpec,
    check_layer,
    check_reduce,
    check_state_shapes,
    reduce_batch,
)
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked

__all__ = ["BCM", "AntiHebbian", "BCMState", "Hebb", "Oja", "OjaSubspace", "subspace_term"]


def subspace_term(x: Tensor, y: Tensor, h: Tensor) -> Tensor:
    r"""Batch-summed subspace update :math:`y^\top (x - y H)`, ``[k, n_in]``; no checks.

    ``x`` ``[B, n_in]``, ``y`` ``[B, k]``, ``h`` ``[k, n_in]``.
    """
    # y^T x: [B, k] x [B, n_in] -> [k, n_in]; (y^T y) H: [k, k] @ [k, n_in]
    return _batch_outer(y, x) - _batch_outer(y, y) @ h


def _batch_outer(a: Tensor, b: Tensor) -> Tensor:
    """:math:`\\sum_b a_b b_b^\\top`: ``[B, o] x [B, i] -> [o, i]``."""
    return torch.einsum("bo,bi->oi", a, b)


class _RateRule:
    """Shared checks of the rate rules."""

    eta: float
    reduce: str
    check_finite: bool

    def _check_common(self) -> None:
        check_float("eta", self.eta, minimum=0.0, hint="Learning rates are >= 0.")
        check_reduce(self.reduce)

    def _check_stateless(self, state: object) -> None:
        if state is not None:
            raise TypeError(
                f"{type(self).__name__} keeps no state; pass state=None (got "
                f"{type(state).__name__})."
            )

    def initial_state(self, weight: Tensor, batch_size: int = 1) -> None:
        """Stateless rules: ``None``."""
        check_tensor("weight", weight, kind="floating", ndim=2)
        check_int("batch_size", batch_size, minimum=1)
        return None


@dataclass(frozen=True)
class Hebb(_RateRule):
    """Plain Hebb, :math:`\\Delta W = \\eta\\, y x^\\top` (module docstring).

    Unbounded on its own: pair it with :func:`~dendrix.plasticity.homeostasis.normalize_weights`
    or use it as the term of a :class:`~dendrix.plasticity.three_factor.ThreeFactor` rule
    (neuromodulated Hebbian plasticity, which then needs ``dt``).

    Args:
        eta: learning rate (>= 0).
        reduce: ``"mean"`` or ``"sum"`` over the batch.
        check_finite: refuse NaN/inf inputs.
    """

    eta: float = 1e-3
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        self._check_common()

    @torch.no_grad()
    def update(self, pre: Tensor, post: Tensor, state: None, weight: Tensor) -> tuple[Tensor, None]:
        """``(dw [n_out, n_in], None)`` for rates ``pre`` ``[B, n_in]``, ``post`` ``[B, n_out]``."""
        check_layer(pre, post, weight, check_finite=self.check_finite)
        self._check_stateless(state)
        return self.eta * reduce_batch(_batch_outer(post, pre), pre.shape[0], self.reduce), None

    @torch.no_grad()
    def term(self, pre: Tensor, post: Tensor, state: None, weight: Tensor) -> tuple[Tensor, None]:
        """Per-sample :math:`\\eta\\, y x^\\top`, ``[B, n_out, n_in]`` (for three-factor rules)."""
        check_layer(pre, post, weight, check_finite=self.check_finite)
        self._check_stateless(state)
        return self.eta * torch.einsum("bo,bi->boi", post, pre), None


@dataclass(frozen=True)
class Oja(_RateRule):
    """Oja's rule, :math:`\\Delta W_{ij} = \\eta\\, y_i (x_j - y_i W_{ij})` (module docstring).

    Each row converges to the unit-norm first principal component of zero-mean input when
    :math:`y = W x` and :math:`\\eta \\lambda_1 \\ll 1`.

    Args:
        eta: learning rate (>= 0).
        reduce: ``"mean"`` or ``"sum"`` over the batch.
        check_finite: refuse NaN/inf inputs.
    """

    eta: float = 1e-3
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        self._check_common()

    @torch.no_grad()
    def update(self, pre: Tensor, post: Tensor, state: None, weight: Tensor) -> tuple[Tensor, None]:
        """``(dw [n_out, n_in], None)``; ``post`` is usually ``pre @ weight.T``."""
        check_layer(pre, post, weight, check_finite=self.check_finite)
        self._check_stateless(state)
        # sum_b y_i x_j - (sum_b y_i^2) W_ij
        summed = _batch_outer(post, pre) - (post * post).sum(0).unsqueeze(1) * weight
        return self.eta * reduce_batch(summed, pre.shape[0], self.reduce), None


@dataclass(frozen=True)
class OjaSubspace(_RateRule):
    """Generalised Oja subspace rule, :math:`\\Delta W = \\eta\\, y^\\top (x - y W)` (batch form).

    The rows converge to an orthonormal basis of the top-``n_out`` principal subspace of the
    input when :math:`y = x W^\\top`. HLOP's lateral neurons learn with it
    (:mod:`dendrix.plasticity.projection`).

    Args:
        eta: learning rate (>= 0).
        reduce: ``"mean"`` or ``"sum"`` over the batch.
        check_finite: refuse NaN/inf inputs.
    """

    eta: float = 1e-3
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        self._check_common()

    @torch.no_grad()
    def update(self, pre: Tensor, post: Tensor, state: None, weight: Tensor) -> tuple[Tensor, None]:
        """``(dw [n_out, n_in], None)``; ``post`` is usually ``pre @ weight.T``."""
        check_layer(pre, post, weight, check_finite=self.check_finite)
        self._check_stateless(state)
        summed = subspace_term(pre, post, weight)
        return self.eta * reduce_batch(summed, pre.shape[0], self.reduce), None


class BCMState(NamedTuple):
    """State of :class:`BCM`.

    Attributes:
        theta: sliding threshold :math:`\\theta` ``[n_out]`` (units of :math:`y^2`).
    """

    theta: Tensor


@dataclass(frozen=True)
class BCM(_RateRule):
    """BCM with a sliding threshold :math:`\\theta \\to \\langle y^2 \\rangle` (module docstring).

    Args:
        eta: learning rate (>= 0).
        tau_theta: averaging time constant of the threshold in seconds.
        dt: time between updates in seconds.
        theta_init: initial threshold (>= 0).
        reduce: ``"mean"`` or ``"sum"`` over the batch (the threshold always tracks the
            batch mean of :math:`y^2`).
        check_finite: refuse NaN/inf inputs.
    """

    eta: float = 1e-3
    tau_theta: float = 1.0
    dt: float = 1e-3
    theta_init: float = 0.0
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        self._check_common()
        check_time_constant("tau_theta", self.tau_theta)
        check_float("dt", self.dt, minimum=0.0, open_min=True, hint="Give it in seconds.")
        check_float("theta_init", self.theta_init, minimum=0.0)

    def initial_state(self, weight: Tensor, batch_size: int = 1) -> BCMState:  # type: ignore[override]
        """Threshold ``theta_init`` for each of the ``n_out`` neurons."""
        super().initial_state(weight, batch_size)
        return BCMState(theta=weight.new_full((weight.shape[0],), self.theta_init))

    @torch.no_grad()
    def update(
        self, pre: Tensor, post: Tensor, state: BCMState | None, weight: Tensor
    ) -> tuple[Tensor, BCMState]:
        """``(dw [n_out, n_in], state)``: the update uses the threshold before this step."""
        check_layer(pre, post, weight, check_finite=self.check_finite)
        if state is None:
            state = self.initial_state(weight, pre.shape[0])
        check_state_shapes(state, {"theta": (weight.shape[0],)}, "rule.initial_state(weight)")
        phi = post * (post - state.theta)  # [B, n_out]
        dw = self.eta * reduce_batch(_batch_outer(phi, pre), pre.shape[0], self.reduce)
        rho = decay_unchecked(self.tau_theta, self.dt)
        theta = rho * state.theta + (1.0 - rho) * (post * post).mean(0)
        return dw, BCMState(theta=theta)


@dataclass(frozen=True)
class AntiHebbian(_RateRule):
    """Anti-Hebbian decorrelation, :math:`\\Delta W_{ij} = -\\eta (y_i x_j - p^2)` (Földiák 1990).

    For lateral weights ``L`` ``[n, n]`` between the outputs of a layer, give ``pre = post = y``,
    the outputs at equilibrium :math:`y = h + L y` for feed-forward drive ``h`` ``[B, n]``:
    ``y = h @ torch.linalg.inv(I - L).T``. The rule drives the off-diagonal
    correlations :math:`\\langle y_i y_j \\rangle` to :math:`p^2`.

    Args:
        eta: learning rate (>= 0).
        target: :math:`p^2 \\ge 0`, the correlation left in place (0: full decorrelation).
        zero_diagonal: keep self-connections at zero (square weights only).
        reduce: ``"mean"`` or ``"sum"`` over the batch.
        check_finite: refuse NaN/inf inputs.
    """

    eta: float = 1e-3
    target: float = 0.0
    zero_diagonal: bool = True
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        self._check_common()
        check_float("target", self.target, minimum=0.0)

    @torch.no_grad()
    def update(self, pre: Tensor, post: Tensor, state: None, weight: Tensor) -> tuple[Tensor, None]:
        """``(dw [n_out, n_in], None)``; the diagonal is zero when the weight is square."""
        check_layer(pre, post, weight, check_finite=self.check_finite)
        self._check_stateless(state)
        batch = pre.shape[0]
        summed = _batch_outer(post, pre) - batch * self.target
        dw = -self.eta * reduce_batch(summed, batch, self.reduce)
        if self.zero_diagonal and weight.shape[0] == weight.shape[1]:
            dw = dw.fill_diagonal_(0.0)
        return dw, None


RULES.add("hebb", RuleSpec(build=Hebb, spiking=False))
RULES.add("oja", RuleSpec(build=Oja, spiking=False))
RULES.add("oja-subspace", RuleSpec(build=OjaSubspace, spiking=False))
RULES.add("bcm", RuleSpec(build=BCM, spiking=False))
RULES.add("anti-hebbian", RuleSpec(build=AntiHebbian, spiking=False))

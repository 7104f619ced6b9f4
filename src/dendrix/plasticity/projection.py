r"""Hebbian learning based orthogonal projection (HLOP) for continual learning without forgetting.

Lateral "subspace neurons" with weights :math:`H` ``[k, n_in]`` read a layer's presynaptic
activity :math:`x` (spike traces or rates, ``[B, n_in]``), respond :math:`y = H x`, and learn
with the generalised Oja subspace rule (:mod:`dendrix.plasticity.hebbian`)

.. math:: \Delta H_{new} = \eta\, \big[y^\top (x - y H)\big]_{new}, \qquad \Delta H_{old} = 0,

so their rows converge to an orthonormal basis of the principal subspace of the inputs seen so
far. After each task :meth:`HLOP.add_subspace` freezes every existing row and appends ``k``
fresh ones; because the residual :math:`x - H^\top y` already removes what the frozen rows
explain, the new rows learn the principal subspace of what is left. While learning a new task,
the feed-forward update is made orthogonal to the stored subspace,

.. math:: \Delta W \leftarrow \Delta W\, (I - H^\top H)
    \quad\Big(\text{for } \Delta W = \delta\, x^\top:\ \delta\, (x - H^\top H x)^\top\Big),

which is :meth:`HLOP.project` (any update: a local rule's or a gradient) or
:meth:`HLOP.project_input` (the projected traces). For an old input :math:`x_{old}` in the span
of :math:`H`'s rows, :math:`\Delta W x_{old} = 0`: the layer's response to earlier tasks does
not change. :math:`I - H^\top H` is the exact projector only when the rows are orthonormal (the
rule's fixed point); ``orthonormalize=True`` projects with an orthonormal basis of the rows
(a QR factorisation) instead, exact for any full-rank :math:`H`. :math:`\eta` is dimensionless;
keep :math:`\eta \lVert x \rVert^2 \ll 1`.

Reference: Xiao M, Meng Q, Zhang Z, He D, Lin Z (2024) Hebbian learning based orthogonal
projection for continual learning of spiking neural networks. ICLR 2024 (arXiv:2402.11984);
algorithms.md §11.

Example:
    >>> import torch
    >>> from dendrix.plasticity import HLOP
    >>> hlop = HLOP()
    >>> state = hlop.initial_state(3)._replace(h=torch.tensor([[1.0, 0.0, 0.0]]))
    >>> hlop.project(torch.ones(2, 3), state).tolist()   # the first input's column is removed
    [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from dendrix._validation import check_float, check_int, check_tensor
from dendrix.plasticity.base import check_reduce, reduce_batch
from dendrix.plasticity.hebbian import subspace_term

__all__ = ["HLOP", "HLOPState"]


class HLOPState(NamedTuple):
    """Subspace neurons of :class:`HLOP`.

    Attributes:
        h: their weights :math:`H` ``[k, n_in]``, one row per subspace neuron.
        n_frozen: rows ``h[:n_frozen]`` belong to earlier tasks and no longer learn.
    """

    h: Tensor
    n_frozen: int


@dataclass(frozen=True)
class HLOP:
    """Lateral subspace neurons and the orthogonal projection (module docstring).

    Args:
        eta: learning rate of the subspace rule (dimensionless, >= 0).
        init_std: new rows start as :math:`\\mathcal N(0, \\sigma^2 / n_{in})` with
            :math:`\\sigma` = ``init_std`` (> 0).
        reduce: ``"mean"`` or ``"sum"`` over the batch.
        check_finite: refuse NaN/inf activity.
    """

    eta: float = 1e-2
    init_std: float = 0.1
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        check_float("eta", self.eta, minimum=0.0)
        check_float("init_std", self.init_std, minimum=0.0, open_min=True)
        check_reduce(self.reduce)

    # -- state ---------------------------------------------------------------------------
    def initial_state(
        self,
        n_in: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> HLOPState:
        """No subspace neurons yet, for inputs of width ``n_in``."""
        n_in = check_int("n_in", n_in, minimum=1)
        return HLOPState(h=torch.zeros(0, n_in, dtype=dtype, device=device), n_frozen=0)

    def _check_state(self, state: object) -> HLOPState:
        if not isinstance(state, HLOPState):
            raise TypeError(
                f"state must be an HLOPState, got {type(state).__name__}; build it with "
                "hlop.initial_state(n_in)."
            )
        check_tensor("state.h", state.h, kind="floating", ndim=2)
        check_int("state.n_frozen", state.n_frozen, minimum=0, maximum=state.h.shape[0])
        return state

    def add_subspace(self, state: HLOPState, k: int, *, generator: torch.Generator) -> HLOPState:
        """Freeze every existing subspace neuron and append ``k`` new, randomly started ones.

        Call it at the start of each task (before that task's :meth:`learn` steps).

        Args:
            state: the current :class:`HLOPState`.
            k: number of new subspace neurons (>= 1); ``h.shape[0] + k <= n_in``.
            generator: draws the new rows (the global RNG is never used).

        Returns:
            the new state, ``n_frozen`` = the previous number of rows.
        """
        state = self._check_state(state)
        k = check_int("k", k, minimum=1)
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                "generator must be a torch.Generator, e.g. torch.Generator().manual_seed(0); "
                f"got {type(generator).__name__}."
            )
        n_rows, n_in = state.h.shape
        if n_rows + k > n_in:
            raise ValueError(
                f"k={k} more subspace neurons would give {n_rows + k} > n_in={n_in} directions; "
                f"at most {n_in - n_rows} can be added."
            )
        new = torch.randn(k, n_in, generator=generator, device=generator.device)
        new = new.to(dtype=state.h.dtype, device=state.h.device) * (self.init_std / n_in**0.5)
        return HLOPState(h=torch.cat([state.h, new]), n_frozen=n_rows)

    # -- Hebbian learning of the subspace ----------------------------------------------------
    def _check_x(self, x: object, state: HLOPState, name: str = "x") -> Tensor:
        n_in = state.h.shape[1]
        check_tensor(name, x, kind="floating", ndim=2, hint="Give [batch, n_in] activity.")
        assert isinstance(x, Tensor)
        if x.shape[1] != n_in:
            raise ValueError(
                f"{name} has {x.shape[1]} inputs but the subspace neurons read n_in={n_in}; "
                "attach HLOP to the layer whose input this is."
            )
        if self.check_finite and not torch.compiler.is_compiling():
            check_tensor(name, x, finite=True)
        return x

    def response(self, x: Tensor, state: HLOPState) -> Tensor:
        """Subspace neurons' response :math:`y = x H^\\top`, ``[B, k]``."""
        state = self._check_state(state)
        return self._check_x(x, state) @ state.h.T

    @torch.no_grad()
    def learn(self, x: Tensor, state: HLOPState) -> HLOPState:
        """One subspace-rule step on presynaptic activity ``x`` ``[B, n_in]``; frozen rows stay.

        Returns:
            the new state (the rule's own weights :math:`H` are its state).
        """
        state = self._check_state(state)
        x = self._check_x(x, state)
        if state.n_frozen == state.h.shape[0]:
            return state
        h = state.h
        y = x @ h.T  # [B, k]
        dh = self.eta * reduce_batch(subspace_term(x, y, h), x.shape[0], self.reduce)
        dh[: state.n_frozen] = 0.0
        return HLOPState(h=h + dh, n_frozen=state.n_frozen)

    # -- projection ------------------------------------------------------------------------
    def _basis(self, state: HLOPState, orthonormalize: bool) -> Tensor:
        """Rows spanning the stored subspace: ``h`` itself or an orthonormal basis of it."""
        if not orthonormalize:
            return state.h
        q, _ = torch.linalg.qr(state.h.T)  # [n_in, k], orthonormal columns
        return q.T

    @torch.no_grad()
    def project(self, dw: Tensor, state: HLOPState, *, orthonormalize: bool = False) -> Tensor:
        """Make an update orthogonal to the stored subspace: :math:`\\Delta W (I - H^\\top H)`.

        Args:
            dw: an update of a layer reading the same inputs, ``[n_out, n_in]`` (a local rule's
                ``dw`` or a gradient ``weight.grad``).
            state: the :class:`HLOPState` (all its rows, frozen or not, are protected).
            orthonormalize: project with an orthonormal basis of ``h``'s rows (exact for any
                full-rank ``h``) instead of ``h`` itself.

        Returns:
            the projected update, same shape.
        """
        state = self._check_state(state)
        check_tensor("dw", dw, kind="floating", ndim=2)
        self._check_x(dw, state, name="dw")
        if state.h.shape[0] == 0:
            return dw.clone()
        basis = self._basis(state, orthonormalize)
        # dw [n_out, n_in] @ basis.T [n_in, k] @ basis [k, n_in]
        return dw - (dw @ basis.T) @ basis

    @torch.no_grad()
    def project_input(self, x: Tensor, state: HLOPState, *, orthonormalize: bool = False) -> Tensor:
        """Projected traces :math:`x - H^\\top H x`, ``[B, n_in]``, for a Hebbian update."""
        state = self._check_state(state)
        x = self._check_x(x, state)
        if state.h.shape[0] == 0:
            return x.clone()
        basis = self._basis(state, orthonormalize)
        return x - (x @ basis.T) @ basis

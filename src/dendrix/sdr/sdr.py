"""The SDR type: a batch of sparse distributed representations over ``size`` cells.

An SDR of size n is a set of active cells x ⊂ {0, ..., n-1}; its sparsity is |x| / n. Two SDRs
are compared by their overlap |x ∩ y|. dendrix stores an SDR densely, as a boolean tensor of
shape ``[*batch, size]`` (the form every torch op and GPU kernel wants), and converts to and
from sorted index form on demand (the form HTM algorithms and files use).

Reference: Ahmad S, Hawkins J (2016) How do neurons operate on sparse distributed
representations? arXiv:1601.00720; the index/dense duality follows htm.core's ``Sdr`` type.

Example:
    >>> import torch
    >>> from dendrix.sdr import SDR
    >>> x = SDR.from_indices([1, 4, 7], size=10)
    >>> y = SDR.from_indices([4, 7, 9], size=10)
    >>> int(x.overlap(y))
    2
    >>> x.union(y).indices.tolist()
    [1, 4, 7, 9]
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch

from dendrix._validation import check_float, check_int, check_tensor

__all__ = ["SDR"]


def _random_scores(shape: torch.Size, generator: torch.Generator, device: torch.device):
    """Uniform scores drawn from ``generator`` (on its own device), moved to ``device``."""
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator, got {type(generator).__name__}. "
            "Create one with torch.Generator().manual_seed(seed); dendrix never uses the "
            "global RNG."
        )
    return torch.rand(shape, generator=generator, device=generator.device).to(device)


def _as_index(where: str, value: object) -> int:
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{where} must hold integers, got {value!r} ({type(value).__name__}).")


def _rank_among(mask: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Rank (0 = highest score) of every cell among the cells where ``mask`` is True.

    Cells outside ``mask`` get ranks after all cells inside it.
    """
    keyed = torch.where(mask, scores, torch.full_like(scores, -1.0))
    order = keyed.argsort(dim=-1, descending=True, stable=True)
    return order.argsort(dim=-1)


class SDR:
    """A batch of sparse distributed representations, stored as a dense boolean tensor.

    Args:
        dense: boolean tensor ``[*batch, size]``; ``True`` marks an active cell.

    Use :meth:`from_indices` to build from index form and :attr:`indices` to read it back.
    Operations broadcast over batch dimensions like torch ops and return new SDRs; an SDR is
    never modified in place.
    """

    __slots__ = ("_dense",)

    def __init__(self, dense: torch.Tensor) -> None:
        check_tensor(
            "dense",
            dense,
            kind="bool",
            min_ndim=1,
            hint="Pass a boolean tensor [*batch, size] (e.g. x.bool() for 0/1 values), or "
            "build from active-cell indices with SDR.from_indices(indices, size).",
        )
        if dense.shape[-1] < 1:
            raise ValueError("dense must have a last dimension (size) of at least 1, got 0.")
        self._dense = dense

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_dense(cls, dense: torch.Tensor) -> SDR:
        """Wrap a boolean tensor ``[*batch, size]`` (no copy)."""
        return cls(dense)

    @classmethod
    def from_indices(
        cls,
        indices: torch.Tensor | Sequence[int] | Sequence[Sequence[int] | torch.Tensor],
        size: int,
        *,
        device: torch.device | str | None = None,
    ) -> SDR:
        """Build an SDR from active-cell indices.

        Args:
            indices: one sample as a 1-D integer tensor or sequence ``[w]``; a batch as a 2-D
                integer tensor ``[B, w]`` (same count per sample) or a sequence of 1-D index
                collections (counts may differ). Order does not matter; duplicates are refused.
            size: number of cells n; every index must lie in ``[0, size)``.
            device: device of the result (default: that of ``indices``, else CPU).
        """
        size = check_int("size", size, minimum=1)
        if isinstance(indices, torch.Tensor):
            check_tensor(
                "indices",
                indices,
                kind="integer",
                hint="Active-cell indices must be integers (use .long()).",
            )
            if indices.ndim not in (1, 2):
                raise ValueError(
                    "indices must be 1-D [w] for one SDR or 2-D [batch, w] for a batch, got "
                    f"shape {tuple(indices.shape)}. Use SDR.from_dense for other layouts."
                )
            rows = [indices] if indices.ndim == 1 else list(indices)
            batched = indices.ndim == 2
            device = indices.device if device is None else device
        else:
            if not isinstance(indices, Sequence) or isinstance(indices, (str, bytes)):
                raise TypeError(
                    "indices must be a tensor or a sequence of integers (or of index "
                    f"sequences for a batch), got {type(indices).__name__}."
                )
            batched = len(indices) > 0 and all(
                isinstance(r, (Sequence, torch.Tensor)) and not isinstance(r, (str, bytes))
                for r in indices
            )
            rows = list(indices) if batched else [indices]
        out = torch.zeros(len(rows), size, dtype=torch.bool, device=device)
        for i, row in enumerate(rows):
            where = f"indices[{i}]" if batched else "indices"
            if isinstance(row, torch.Tensor):
                check_tensor(where, row, kind="integer", ndim=1)
                idx = row.to(device=out.device, dtype=torch.long)
            else:
                idx = torch.tensor(
                    [_as_index(where, v) for v in row], dtype=torch.long, device=out.device
                )
            if idx.numel():
                lo, hi = int(idx.min()), int(idx.max())
                if lo < 0 or hi >= size:
                    bad = lo if lo < 0 else hi
                    raise ValueError(
                        f"{where} holds {bad}, outside [0, size={size}). Indices address "
                        "cells 0..size-1; check the size or the index source."
                    )
                uniq = torch.unique(idx)
                if uniq.numel() != idx.numel():
                    counts = torch.bincount(idx, minlength=size)
                    dup = int(torch.nonzero(counts > 1)[0, 0])
                    raise ValueError(
                        f"{where} holds index {dup} more than once; an SDR is a set of active "
                        "cells. Remove duplicates (e.g. torch.unique) before building it."
                    )
                out[i, idx] = True
        return cls(out if batched else out[0])

    @classmethod
    def zeros(cls, size: int, batch_shape: Sequence[int] = (), *, device=None) -> SDR:
        """An SDR with no active cells, shape ``[*batch_shape, size]``."""
        size = check_int("size", size, minimum=1)
        return cls(torch.zeros(*batch_shape, size, dtype=torch.bool, device=device))

    @classmethod
    def concatenate(cls, sdrs: Sequence[SDR]) -> SDR:
        """Join SDRs side by side: sizes add, active cells keep their offsets (encoder fields)."""
        if not sdrs or not all(isinstance(s, SDR) for s in sdrs):
            raise TypeError("sdrs must be a non-empty sequence of SDR objects.")
        shapes = {s.batch_shape for s in sdrs}
        if len(shapes) != 1:
            raise ValueError(
                f"sdrs must share one batch shape to be concatenated, got {sorted(shapes)}."
            )
        return cls(torch.cat([s.dense for s in sdrs], dim=-1))

    # -- views ----------------------------------------------------------------------------
    @property
    def dense(self) -> torch.Tensor:
        """Boolean tensor ``[*batch, size]`` (shared storage: do not modify in place)."""
        return self._dense

    @property
    def size(self) -> int:
        """Number of cells n."""
        return int(self._dense.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self._dense.shape[:-1])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._dense.shape)

    @property
    def device(self) -> torch.device:
        return self._dense.device

    @property
    def indices(self) -> torch.Tensor | list:
        """Sorted active-cell indices: a 1-D long tensor for one SDR, nested lists of them
        (one level per batch dimension) for a batch."""

        def rows(d: torch.Tensor):
            if d.ndim == 1:
                return torch.nonzero(d).flatten()
            return [rows(r) for r in d]

        return rows(self._dense)

    def active_count(self) -> torch.Tensor:
        """Number of active cells |x|, long tensor ``[*batch]``."""
        return self._dense.sum(dim=-1)

    def sparsity(self) -> torch.Tensor:
        """Fraction of active cells |x| / n, float tensor ``[*batch]``."""
        return self.active_count().to(torch.float32) / self.size

    def to(self, device: torch.device | str) -> SDR:
        return SDR(self._dense.to(device))

    def __getitem__(self, item) -> SDR:
        if not self.batch_shape:
            raise IndexError("an unbatched SDR cannot be indexed; read .dense or .indices.")
        if isinstance(item, tuple) and (Ellipsis in item or len(item) > len(self.batch_shape)):
            raise IndexError("SDR indexing selects batch entries only; the cell axis is kept.")
        return SDR(self._dense[item])

    def __len__(self) -> int:
        if not self.batch_shape:
            raise TypeError("an unbatched SDR has no len(); use .size or .active_count().")
        return self.batch_shape[0]

    def __eq__(self, other: object) -> bool:
        """True when both hold the same cells in the same batch layout."""
        if not isinstance(other, SDR):
            return NotImplemented
        return self.shape == other.shape and bool(
            torch.equal(self._dense, other._dense.to(self.device))
        )

    __hash__ = None  # mutable storage: not hashable

    def __repr__(self) -> str:
        batch = f", batch_shape={self.batch_shape}" if self.batch_shape else ""
        counts = self.active_count()
        if counts.ndim == 0:
            active = str(int(counts))
        elif counts.numel() == 0:
            active = "none (empty batch)"
        else:
            active = f"{int(counts.min())}..{int(counts.max())}"
        return f"SDR(size={self.size}{batch}, active={active}, device={self.device.type})"

    # -- set algebra ----------------------------------------------------------------------
    def _other(self, other: object, name: str = "other") -> torch.Tensor:
        if not isinstance(other, SDR):
            raise TypeError(f"{name} must be an SDR, got {type(other).__name__}.")
        if other.size != self.size:
            raise ValueError(
                f"{name} has size {other.size} but this SDR has size {self.size}; SDRs over "
                "different cell populations cannot be compared."
            )
        try:
            torch.broadcast_shapes(self.batch_shape, other.batch_shape)
        except RuntimeError:
            raise ValueError(
                f"{name} has batch shape {other.batch_shape}, which does not broadcast with "
                f"{self.batch_shape}."
            ) from None
        return other._dense.to(self.device)

    def overlap(self, other: SDR) -> torch.Tensor:
        """|x ∩ y| as a long tensor (batch dimensions broadcast)."""
        return (self._dense & self._other(other)).sum(dim=-1)

    def union(self, *others: SDR) -> SDR:
        """x ∪ y ∪ ... (batch dimensions broadcast)."""
        out = self._dense
        for i, other in enumerate(others):
            out = out | self._other(other, f"others[{i}]")
        return SDR(out)

    def intersection(self, *others: SDR) -> SDR:
        """x ∩ y ∩ ... (batch dimensions broadcast)."""
        out = self._dense
        for i, other in enumerate(others):
            out = out & self._other(other, f"others[{i}]")
        return SDR(out)

    # -- random operations ----------------------------------------------------------------
    def subsample(
        self,
        k: int | None = None,
        *,
        fraction: float | None = None,
        generator: torch.Generator,
    ) -> SDR:
        """Keep a uniformly random subset of the active cells of every sample.

        Args:
            k: exact number of active cells to keep per sample (at most each sample's count).
            fraction: alternatively, keep ``round(fraction * |x|)`` cells of each sample.
            generator: source of randomness (a CPU generator serves SDRs on any device).
        """
        if (k is None) == (fraction is None):
            raise ValueError("give exactly one of k or fraction to subsample.")
        counts = self.active_count()
        if k is not None:
            k = check_int("k", k, minimum=0)
            fewest = int(counts.min()) if counts.numel() else 0
            if k > fewest:
                raise ValueError(
                    f"k={k} exceeds the active count of a sample ({fewest}); subsample cannot "
                    "keep more cells than are active."
                )
            keep = torch.full_like(counts, k)
        else:
            fraction = check_float("fraction", fraction, minimum=0.0, maximum=1.0)
            keep = torch.round(counts.to(torch.float64) * fraction).to(torch.long)
        ranks = _rank_among(self._dense, _random_scores(self._dense.shape, generator, self.device))
        return SDR(self._dense & (ranks < keep.unsqueeze(-1)))

    def add_noise(self, v: int, *, generator: torch.Generator) -> SDR:
        """Replace exactly ``v`` active cells of every sample by ``v`` inactive ones.

        The active count is kept: the result overlaps the original in exactly |x| - v cells
        (the noise model of Ahmad & Hawkins 2016, section "robustness to noise").

        Args:
            v: number of active cells moved per sample; ``0 <= v <= min(|x|, n - |x|)``.
            generator: source of randomness.
        """
        v = check_int("v", v, minimum=0)
        counts = self.active_count()
        if counts.numel():
            most, fewest = int(counts.max()), int(counts.min())
            limit = min(fewest, self.size - most)
            if v > limit:
                raise ValueError(
                    f"v={v} cannot be moved: a sample has {fewest} active cells and another "
                    f"only {self.size - most} inactive cells (size {self.size}); choose "
                    f"v <= {limit}."
                )
        scores = _random_scores((2, *self._dense.shape), generator, self.device)
        drop = self._dense & (_rank_among(self._dense, scores[0]) < v)
        add = ~self._dense & (_rank_among(~self._dense, scores[1]) < v)
        return SDR((self._dense & ~drop) | add)

"""Argument checks shared by every public function.

Each check names the argument, says what was expected and what arrived, so that an error reads
like ``ValueError: theta must be an integer in [1, s=24], got 30``. Checks return the
normalised value (a Python ``int``/``float`` or the tensor itself) so callers can write
``n = check_int("n", n, minimum=1)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import torch

__all__ = [
    "check_choice",
    "check_float",
    "check_int",
    "check_tensor",
]


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _range_text(minimum: float | None, maximum: float | None, *, open_min: bool = False) -> str:
    if minimum is None and maximum is None:
        return ""
    lo = "(-inf" if minimum is None else ("(" if open_min else "[") + f"{minimum}"
    hi = "inf)" if maximum is None else f"{maximum}]"
    return f" in {lo}, {hi}"


def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    hint: str = "",
) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Booleans and non-integral numbers are refused; NumPy and 0-d integer tensors are accepted.
    """
    if isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer{_range_text(minimum, maximum)}, got {_describe(value)}."
            + (f" {hint}" if hint else "")
        )
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise ValueError(
            f"{name} must be an integer{_range_text(minimum, maximum)}, got {out}."
            + (f" {hint}" if hint else "")
        )
    return out


def check_float(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a finite Python float, or raise naming ``name``.

    ``open_min=True`` excludes ``minimum`` itself (e.g. a time step must be > 0).
    """
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number{_range_text(minimum, maximum, open_min=open_min)}, "
            f"got {_describe(value)}." + (f" {hint}" if hint else "")
        )
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}." + (f" {hint}" if hint else ""))
    below = minimum is not None and (out <= minimum if open_min else out < minimum)
    above = maximum is not None and out > maximum
    if below or above:
        raise ValueError(
            f"{name} must be{_range_text(minimum, maximum, open_min=open_min)}, got {out}."
            + (f" {hint}" if hint else "")
        )
    return out


def check_choice(name: str, value: object, choices: Iterable[object]) -> object:
    """Raise unless ``value`` is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}.")
    return value


_KINDS = {
    "bool": lambda t: t.dtype == torch.bool,
    "integer": lambda t: not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool,
    "floating": lambda t: t.is_floating_point(),
}


def check_tensor(
    name: str,
    value: object,
    *,
    kind: str | None = None,
    ndim: int | None = None,
    min_ndim: int | None = None,
    last_dim: int | None = None,
    finite: bool = False,
    hint: str = "",
) -> torch.Tensor:
    """Check a tensor argument and return it unchanged.

    Args:
        name: argument name used in the message.
        kind: ``"bool"``, ``"integer"`` or ``"floating"``; ``None`` accepts any dtype.
        ndim / min_ndim: exact or minimum number of dimensions.
        last_dim: required size of the last dimension.
        finite: refuse NaN and +-inf (floating tensors only).
    """
    suffix = f" {hint}" if hint else ""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(value)}.{suffix}")
    if kind is not None and not _KINDS[kind](value):
        raise TypeError(f"{name} must have a {kind} dtype, got {value.dtype}.{suffix}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension(s), got shape {tuple(value.shape)}.{suffix}"
        )
    if min_ndim is not None and value.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape "
            f"{tuple(value.shape)}.{suffix}"
        )
    if last_dim is not None and (value.ndim == 0 or value.shape[-1] != last_dim):
        raise ValueError(
            f"{name} must have last dimension {last_dim}, got shape {tuple(value.shape)}.{suffix}"
        )
    # a finite sum proves every entry finite (one cheap reduction); only when it is not
    # (a NaN/inf entry, or an overflowing sum of finite ones) are the entries checked one by one
    if finite and value.is_floating_point() and not bool(torch.isfinite(value.sum())):
        bad = int((~torch.isfinite(value)).sum())
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite value(s).{suffix}")
    return value

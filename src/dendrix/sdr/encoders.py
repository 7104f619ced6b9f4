r"""Encoders: turn values (numbers, categories, date-times) into SDRs.

Symbols: ``n`` is the encoder's ``size`` (number of cells), ``w`` its ``active_bits``, ``x`` a
value and ``b`` the integer *bucket* that ``x`` falls into. An encoder maps each bucket to a set
of active cells; similar values must share cells and unrelated ones must not (Purdy 2016).

ScalarEncoder (a contiguous block of ``w`` cells). Range ``[lo, hi]`` of extent
``E = hi - lo``, resolution ``r`` (the value step between neighbouring buckets)::

    non-periodic:  B = n - w + 1 buckets,  r = E / (B - 1)
                   b = floor((x - lo) / r + 1/2)                 (round half up)
                   active cells {b, b + 1, ..., b + w - 1}
    periodic:      x and x + k*E are the same point; x is wrapped into [lo, hi)
                   B = n buckets,  r = E / n
                   b = floor((x - lo) / r + 1/2) mod n
                   active cells {(b + i) mod n : i = 0 .. w-1}
    radius R = w * r

Two values whose buckets are ``d`` apart share ``max(0, w - d)`` cells (periodic: with ``d`` the
circular distance, when ``n >= 2w``), so values closer than the radius overlap. The bucket
granularity comes from exactly one of ``size`` (as above), ``resolution`` (non-periodic:
``B = round(E / r) + 1`` so the maximum has its own bucket, ``n = B + w - 1``; periodic:
``n = ceil(E / r)`` and ``r`` is then corrected to ``E / n`` so the buckets tile the period
exactly) or ``radius`` (``r = R / w``, then as for ``resolution``).

RandomDistributedScalarEncoder (RDSE; no range). With resolution ``r`` and seed ``s``::

    b = floor(x / r)
    active cells {h(s, b + i) mod n : i = 0 .. w-1}
    h(s, k) = mix64((mix64(s) + G * k) mod 2**64)          k taken mod 2**64 (two's complement)
    mix64(z): z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 mod 2**64
              z = (z ^ (z >> 27)) * 0x94D049BB133111EB mod 2**64
              return z ^ (z >> 31)
    G = 0x9E3779B97F4A7C15

``mix64`` is the SplitMix64 finaliser (Steele, Lea & Flood 2014); ``h(s, k)`` is the ``k``-th
SplitMix64 output for the state ``mix64(s)``. It is pure 64-bit integer arithmetic, so codes are
identical across processes and platforms (Python's ``hash()`` is salted per process and is not
used), and a golden test pins them. Buckets ``d < w`` apart share the ``w - d`` hashed keys
``b + d .. b + w - 1``, so, up to hash collisions, they share ``w - d`` cells; buckets ``d >= w``
apart share no key and overlap only by chance (about ``w**2 / n`` cells on average). Collisions
are accepted, not resolved: two keys of one bucket that hash to the same cell leave fewer than
``w`` cells active.
The expected number of active cells is ``n * (1 - (1 - 1/n)**w) ~ w - w(w-1)/(2n)`` (for
``n = 1000, w = 21``: 20.79, and one code in five has a collision). Resolving collisions by
probing would make a bucket's cells depend on its other keys and break the shared-key property.

CategoryEncoder: category ``j`` of ``C`` owns ``w`` cells of its own, ``n = C * w``; different
categories never overlap. DateEncoder concatenates periodic ScalarEncoders for the time of day and
the (continuous) day of week and a two-category weekend flag.

Every ``encode`` returns an :class:`~dendrix.sdr.SDR`: one value gives an unbatched SDR ``[n]``,
a 1-D array, tensor or sequence of ``B`` values gives ``[B, n]`` (scalar encoders accept any array
shape ``S`` and return ``[*S, n]``). Encoders are deterministic and never use a global RNG.

References: Purdy S (2016) Encoding data for HTM systems. arXiv:1602.05925. The parameter
conventions (size / resolution / radius, RDSE buckets, date fields) follow Numenta's htm.core
(https://github.com/htm-community/htm.core, ``src/htm/encoders``).

Example:
    >>> from dendrix.sdr.encoders import ScalarEncoder
    >>> enc = ScalarEncoder(0, 10, size=14, active_bits=4)
    >>> enc(5.0).indices.tolist()
    [5, 6, 7, 8]
    >>> int(enc(5.0).overlap(enc(6.0)))
    3
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from dendrix._validation import check_float, check_int
from dendrix.sdr.sdr import SDR

__all__ = [
    "RDSE",
    "CategoryEncoder",
    "CategoryEncoderConfig",
    "DateEncoder",
    "DateEncoderConfig",
    "RandomDistributedScalarEncoder",
    "RandomDistributedScalarEncoderConfig",
    "ScalarEncoder",
    "ScalarEncoderConfig",
    "splitmix64_hash",
]

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_SNAP = 1e-9  # relative distance to an integer below which a bucket coordinate snaps onto it
_MAX_BUCKET = 2**62  # RDSE bucket indices must stay well inside int64

Device = torch.device | str | None


# --------------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------------


def _mix64_int(z: int) -> int:
    z &= _MASK64
    z = ((z ^ (z >> 30)) * _MUL1) & _MASK64
    z = ((z ^ (z >> 27)) * _MUL2) & _MASK64
    return z ^ (z >> 31)


def _mix64_array(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (array arithmetic wraps mod 2**64 silently)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MUL1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MUL2)
    return z ^ (z >> np.uint64(31))


def splitmix64_hash(seed: int, keys: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """The encoders' hash ``h(seed, k)`` (module docstring) as a uint64 array.

    Args:
        seed: integer in ``[0, 2**64)``.
        keys: integer key(s), each in ``[-2**63, 2**63)``; negative keys are taken mod ``2**64``.
    """
    seed = check_int("seed", seed, minimum=0, maximum=_MASK64)
    k = np.atleast_1d(np.asarray(keys))
    if k.dtype.kind not in "iu":
        raise TypeError(f"keys must be integers, got dtype {k.dtype}.")
    if k.dtype.kind == "i":
        k = np.ascontiguousarray(k.astype(np.int64)).view(np.uint64)
    else:
        k = k.astype(np.uint64)
    state = np.uint64(_mix64_int(seed))
    return _mix64_array(state + k * np.uint64(_GOLDEN))


# --------------------------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _where(name: str, shape: tuple[int, ...], flat_index: int) -> str:
    if not shape:
        return name
    pos = np.unravel_index(flat_index, shape)
    return f"{name}[{', '.join(str(int(p)) for p in pos)}]"


def _as_float_tensor(name: str, value: object) -> torch.Tensor:
    """Real value(s) as a finite float64 CPU tensor of the input's shape (0-d for one value)."""
    hint = "Pass a real number, or a 1-D tensor / array / sequence of them for a batch."
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool or value.is_complex():
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {value.dtype}.")
        out = value.detach().to(device="cpu", dtype=torch.float64)
    elif isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}. {hint}")
    elif isinstance(value, numbers.Real):
        out = torch.tensor(float(value), dtype=torch.float64)
    elif isinstance(value, np.ndarray) or (
        isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    ):
        try:
            arr = np.asarray(value)
        except ValueError as err:  # ragged nesting
            raise ValueError(f"{name} must be a rectangular batch of numbers: {err}") from None
        if arr.dtype.kind not in "iuf":
            raise TypeError(
                f"{name} must hold real numbers, got {_describe(value)} (dtype {arr.dtype}). "
                + hint
            )
        out = torch.from_numpy(arr.astype(np.float64))
    else:
        raise TypeError(f"{name} must be a real number, got {_describe(value)}. {hint}")
    finite = torch.isfinite(out)
    if not bool(finite.all()):
        i = int(torch.nonzero(~finite.flatten())[0, 0])
        bad = float(out.flatten()[i])
        raise ValueError(
            f"{_where(name, tuple(out.shape), i)} = {bad} is not finite; encoders accept finite "
            "numbers only (drop or impute missing values first)."
        )
    return out


def _snap_floor(t: torch.Tensor) -> torch.Tensor:
    """floor(t), except that t within a relative 1e-9 of an integer is that integer.

    Bucket coordinates such as 0.3 / 0.1 = 2.9999999999999996 thus land on the intended
    boundary (3) instead of one bucket below it.
    """
    nearest = torch.round(t)
    close = (t - nearest).abs() <= _SNAP * t.abs().clamp(min=1.0)
    return torch.where(close, nearest, torch.floor(t))


def _exactly_one(names: Sequence[str], values: Sequence[object]) -> int:
    given = [i for i, v in enumerate(values) if v is not None and v is not False]
    if len(given) != 1:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, values, strict=True))
        raise ValueError(
            f"give exactly one of {', '.join(names)} to set the bucket granularity; got {shown}."
        )
    return given[0]


def _dense_from_cells(cells: torch.Tensor, size: int, device: Device) -> SDR:
    """SDR ``[*S, size]`` from cell indices ``[*S, k]`` (repeats allowed)."""
    dense = torch.zeros(*cells.shape[:-1], size, dtype=torch.bool)
    dense.scatter_(-1, cells, True)
    return SDR(dense if device is None else dense.to(device))


class _Encoder:
    """Shared behaviour: ``size``, ``config`` and ``__call__ = encode``."""

    config: object

    @property
    def size(self) -> int:
        """Number of cells n of every output SDR."""
        return self.config.size  # type: ignore[attr-defined]

    def encode(self, value, *, device: Device = None) -> SDR:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, value, *, device: Device = None) -> SDR:
        return self.encode(value, device=device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


# --------------------------------------------------------------------------------------------
# ScalarEncoder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScalarEncoderConfig:
    """Resolved ScalarEncoder parameters (derived ``size``, ``resolution``, ``radius`` set)."""

    minimum: float
    maximum: float
    size: int
    active_bits: int
    resolution: float
    radius: float
    periodic: bool
    clip_input: bool


class ScalarEncoder(_Encoder):
    """A contiguous block of ``active_bits`` cells whose position encodes a number.

    Args:
        minimum: lower end ``lo`` of the value range (inclusive).
        maximum: upper end ``hi`` (inclusive; for a periodic encoder ``hi`` is the same point
            as ``lo``, so the range is ``[lo, hi)``). Must exceed ``minimum``.
        size: number of cells n. Give exactly one of ``size``, ``resolution``, ``radius``.
        active_bits: block width w, ``1 <= w < n``.
        resolution: value step r between neighbouring buckets.
        radius: value distance ``R = w * r`` beyond which two values share no cells.
        periodic: the range wraps around (angles, time of day): any finite value is wrapped
            into ``[lo, hi)`` and the block wraps past the last cell to the first.
        clip_input: non-periodic only. ``False`` (default): a value outside ``[lo, hi]`` raises
            ``ValueError``; ``True``: it is clipped to the nearest end (explicit opt-in).

    Attributes ``size``, ``resolution``, ``radius``, ``n_buckets`` hold the derived values.

    Example:
        >>> enc = ScalarEncoder(0, 24, active_bits=3, resolution=1.0, periodic=True)
        >>> enc.size, enc.radius
        (24, 3.0)
        >>> enc(23.0).indices.tolist()   # the block wraps past the end
        [0, 1, 23]
    """

    def __init__(
        self,
        minimum: float,
        maximum: float,
        *,
        size: int | None = None,
        active_bits: int,
        resolution: float | None = None,
        radius: float | None = None,
        periodic: bool = False,
        clip_input: bool = False,
    ) -> None:
        lo = check_float("minimum", minimum)
        hi = check_float("maximum", maximum)
        if not hi > lo:
            raise ValueError(
                f"maximum must be greater than minimum, got minimum={lo}, maximum={hi}."
            )
        if not isinstance(periodic, bool):
            raise TypeError(f"periodic must be a bool, got {_describe(periodic)}.")
        if not isinstance(clip_input, bool):
            raise TypeError(f"clip_input must be a bool, got {_describe(clip_input)}.")
        if periodic and clip_input:
            raise ValueError(
                "clip_input=True cannot be combined with periodic=True: a periodic encoder "
                "wraps every value into [minimum, maximum) and never clips."
            )
        w = check_int("active_bits", active_bits, minimum=1)
        which = _exactly_one(("size", "resolution", "radius"), (size, resolution, radius))
        extent = hi - lo
        if which == 0:
            n = check_int("size", size, minimum=2)
            if w >= n:
                raise ValueError(
                    f"active_bits={w} must be less than size={n}: a block as wide as the "
                    "encoder leaves no room for different values."
                )
            r = extent / n if periodic else extent / (n - w)  # B - 1 = n - w
        else:
            if which == 1:
                r = check_float("resolution", resolution, minimum=0.0, open_min=True)
            else:
                r = check_float("radius", radius, minimum=0.0, open_min=True) / w
            q = extent / r
            if periodic:
                n = round(q) if abs(q - round(q)) <= _SNAP * max(1.0, q) else math.ceil(q)
                n = max(n, 1)
                r = extent / n
            else:
                n = round(q) + w  # B = round(E / r) + 1 buckets
            if w >= n:
                arg = "resolution" if which == 1 else "radius"
                raise ValueError(
                    f"active_bits={w} must be less than the derived size={n} "
                    f"({arg}={resolution if which == 1 else radius} over [{lo}, {hi}]); use a "
                    f"smaller {arg} or fewer active_bits."
                )
        self.config = ScalarEncoderConfig(
            minimum=lo,
            maximum=hi,
            size=int(n),
            active_bits=w,
            resolution=float(r),
            radius=float(w * r),
            periodic=periodic,
            clip_input=clip_input,
        )

    # -- derived attributes ------------------------------------------------------------------
    @property
    def minimum(self) -> float:
        return self.config.minimum

    @property
    def maximum(self) -> float:
        return self.config.maximum

    @property
    def active_bits(self) -> int:
        return self.config.active_bits

    @property
    def resolution(self) -> float:
        """Value step r between neighbouring buckets."""
        return self.config.resolution

    @property
    def radius(self) -> float:
        """``w * r``: values at least this far apart share no cells."""
        return self.config.radius

    @property
    def periodic(self) -> bool:
        return self.config.periodic

    @property
    def n_buckets(self) -> int:
        """Number of distinct codes B (``n`` periodic, ``n - w + 1`` otherwise)."""
        c = self.config
        return c.size if c.periodic else c.size - c.active_bits + 1

    # -- encoding ------------------------------------------------------------------------------
    def _buckets(self, value: object) -> torch.Tensor:
        c = self.config
        x = _as_float_tensor("value", value)
        if c.periodic:
            t = torch.remainder(x - c.minimum, c.maximum - c.minimum) / c.resolution
            return _snap_floor(t + 0.5).long() % c.size
        if c.clip_input:
            x = x.clamp(c.minimum, c.maximum)
        else:
            outside = (x < c.minimum) | (x > c.maximum)
            if bool(outside.any()):
                i = int(torch.nonzero(outside.flatten())[0, 0])
                raise ValueError(
                    f"{_where('value', tuple(x.shape), i)} = {float(x.flatten()[i])} is outside "
                    f"the encoder range [{c.minimum}, {c.maximum}]. Widen the range, or pass "
                    "clip_input=True to clip values to it."
                )
        t = (x - c.minimum) / c.resolution
        return _snap_floor(t + 0.5).long().clamp(0, self.n_buckets - 1)

    def bucket_index(self, value: object) -> int | torch.Tensor:
        """Bucket b of a value (an ``int``), or of a batch (a long tensor of its shape)."""
        b = self._buckets(value)
        return int(b) if b.ndim == 0 else b

    def bucket_value(self, bucket: int | torch.Tensor) -> float | torch.Tensor:
        """The value ``lo + b * r`` that bucket b stands for (inverse of :meth:`bucket_index`)."""
        if isinstance(bucket, torch.Tensor):
            return self.config.minimum + bucket.to(torch.float64) * self.config.resolution
        b = check_int("bucket", bucket, minimum=0, maximum=self.n_buckets - 1)
        return self.config.minimum + b * self.config.resolution

    def encode(self, value: object, *, device: Device = None) -> SDR:
        """Encode a number (-> SDR ``[n]``) or an array of them (-> SDR ``[*shape, n]``).

        Args:
            value: real number, or tensor / array / sequence of real numbers; NaN and
                infinity raise ``ValueError``, as do out-of-range values unless ``clip_input``.
            device: device of the returned SDR (default CPU).
        """
        c = self.config
        b = self._buckets(value)
        cells = b.unsqueeze(-1) + torch.arange(c.active_bits)
        if c.periodic:
            cells = cells % c.size
        return _dense_from_cells(cells, c.size, device)

    def decode(self, sdr: SDR) -> torch.Tensor:
        """Value of the bucket whose code overlaps ``sdr`` most (float64 tensor ``[*batch]``).

        Exact for this encoder's own outputs and robust to a few flipped cells. Ties, including
        an empty SDR, go to the lowest bucket.
        """
        if not isinstance(sdr, SDR):
            raise TypeError(f"sdr must be an SDR, got {_describe(sdr)}.")
        c = self.config
        if sdr.size != c.size:
            raise ValueError(f"sdr has size {sdr.size} but this encoder has size {c.size}.")
        d = sdr.dense.to("cpu", torch.long)
        if c.periodic:
            d = torch.cat([d, d[..., : c.active_bits - 1]], dim=-1)
        cs = torch.nn.functional.pad(d.cumsum(-1), (1, 0))
        window = cs[..., c.active_bits :] - cs[..., : -c.active_bits]  # overlap per start cell
        return self.bucket_value(window.argmax(dim=-1))


# --------------------------------------------------------------------------------------------
# RandomDistributedScalarEncoder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RandomDistributedScalarEncoderConfig:
    """Resolved RDSE parameters (``active_bits``, ``sparsity``, ``resolution``, ``radius``)."""

    size: int
    active_bits: int
    sparsity: float
    resolution: float
    radius: float
    category: bool
    seed: int


class RandomDistributedScalarEncoder(_Encoder):
    """Random distributed scalar encoder (RDSE): hashed cells per bucket, no value range.

    Args:
        size: number of cells n.
        sparsity: target fraction of active cells; ``active_bits = round(size * sparsity)``.
            Give exactly one of ``sparsity`` and ``active_bits``.
        active_bits: number w of hashed cells per value, ``1 <= w < n`` (hash collisions can
            leave fewer active; see the module docstring).
        resolution: bucket width r: ``b = floor(x / r)``. Values within r of one another share
            at least ``w - 1`` hashed keys. Give exactly one of ``resolution``, ``radius``,
            ``category=True``.
        radius: ``w * r``; buckets this far apart share no keys.
        category: encode integer labels so that different integers share no keys
            (``r = 1 / w``, ``b = x * w``); non-integer input raises ``ValueError``.
        seed: integer in ``[0, 2**64)`` selecting the hash; each seed gives different codes.

    Values whose ``|x / r|`` reaches ``2**62`` are refused (bucket index would overflow).

    Example:
        >>> enc = RandomDistributedScalarEncoder(size=1000, active_bits=21, resolution=1.0)
        >>> x = enc([10.0, 13.0])  # buckets 10 and 13 share 21 - 3 = 18 hashed keys
        >>> x.active_count().tolist(), int(x[0].overlap(x[1]))
        ([21, 21], 18)
    """

    def __init__(
        self,
        *,
        size: int,
        sparsity: float | None = None,
        active_bits: int | None = None,
        resolution: float | None = None,
        radius: float | None = None,
        category: bool = False,
        seed: int = 0,
    ) -> None:
        n = check_int("size", size, minimum=2)
        if (sparsity is None) == (active_bits is None):
            raise ValueError(
                "give exactly one of sparsity and active_bits; got "
                f"sparsity={sparsity!r}, active_bits={active_bits!r}."
            )
        if active_bits is not None:
            w = check_int("active_bits", active_bits, minimum=1, maximum=n - 1)
        else:
            s = check_float("sparsity", sparsity, minimum=0.0, maximum=1.0, open_min=True)
            w = round(n * s)
            if not 1 <= w < n:
                raise ValueError(
                    f"sparsity={s} with size={n} gives active_bits={w}; it must give between 1 "
                    f"and {n - 1} active bits."
                )
        if not isinstance(category, bool):
            raise TypeError(f"category must be a bool, got {_describe(category)}.")
        which = _exactly_one(("resolution", "radius", "category"), (resolution, radius, category))
        if which == 0:
            r = check_float("resolution", resolution, minimum=0.0, open_min=True)
        elif which == 1:
            r = check_float("radius", radius, minimum=0.0, open_min=True) / w
        else:
            r = 1.0 / w
        seed = check_int("seed", seed, minimum=0, maximum=_MASK64)
        self.config = RandomDistributedScalarEncoderConfig(
            size=n,
            active_bits=w,
            sparsity=w / n,
            resolution=float(r),
            radius=float(w * r),
            category=category,
            seed=seed,
        )
        self._state = np.uint64(_mix64_int(seed))

    @property
    def active_bits(self) -> int:
        return self.config.active_bits

    @property
    def sparsity(self) -> float:
        """``active_bits / size`` (before hash collisions)."""
        return self.config.sparsity

    @property
    def resolution(self) -> float:
        return self.config.resolution

    @property
    def radius(self) -> float:
        return self.config.radius

    @property
    def seed(self) -> int:
        return self.config.seed

    def _buckets(self, value: object) -> torch.Tensor:
        c = self.config
        x = _as_float_tensor("value", value)
        if c.category:
            nonint = x != torch.floor(x)
            if bool(nonint.any()):
                i = int(torch.nonzero(nonint.flatten())[0, 0])
                raise ValueError(
                    f"{_where('value', tuple(x.shape), i)} = {float(x.flatten()[i])} is not an "
                    "integer; a category RDSE encodes integer labels."
                )
            t = x * c.active_bits
        else:
            t = _snap_floor(x / c.resolution)
        big = t.abs() >= _MAX_BUCKET
        if bool(big.any()):
            i = int(torch.nonzero(big.flatten())[0, 0])
            raise ValueError(
                f"{_where('value', tuple(x.shape), i)} = {float(x.flatten()[i])} is too large for "
                f"resolution {c.resolution}: |value / resolution| must stay below 2**62."
            )
        return t.long()

    def bucket_index(self, value: object) -> int | torch.Tensor:
        """Bucket ``b = floor(x / r)`` (``x * w`` for ``category``) of a value or a batch."""
        b = self._buckets(value)
        return int(b) if b.ndim == 0 else b

    def encode(self, value: object, *, device: Device = None) -> SDR:
        """Encode a number (-> SDR ``[n]``) or an array of them (-> SDR ``[*shape, n]``).

        Args:
            value: real number, or tensor / array / sequence of real numbers (finite).
            device: device of the returned SDR (default CPU).
        """
        c = self.config
        b = self._buckets(value).numpy()
        keys = b[..., None] + np.arange(c.active_bits, dtype=np.int64)
        keys = np.ascontiguousarray(keys, dtype=np.int64).reshape(-1, c.active_bits)
        hashed = _mix64_array(self._state + keys.view(np.uint64) * np.uint64(_GOLDEN))
        cells = (hashed % np.uint64(c.size)).astype(np.int64).reshape(*b.shape, c.active_bits)
        return _dense_from_cells(torch.from_numpy(cells), c.size, device)


RDSE = RandomDistributedScalarEncoder
"""Short alias of :class:`RandomDistributedScalarEncoder`."""


# --------------------------------------------------------------------------------------------
# CategoryEncoder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryEncoderConfig:
    """CategoryEncoder parameters; ``size = len(categories) * active_bits``."""

    categories: tuple
    active_bits: int
    seed: int | None
    size: int


class CategoryEncoder(_Encoder):
    """One disjoint set of ``active_bits`` cells per category: different labels never overlap.

    Args:
        categories: the labels, as an ordered sequence (list, tuple, array) of distinct hashable
            values. Sets are refused: their order can change between processes. Labels that
            compare equal (``1``, ``1.0``, ``True``) count as duplicates.
        active_bits: cells per category w; ``size = len(categories) * w``.
        seed: ``None`` (default): category j owns the contiguous cells ``[j*w, (j+1)*w)``. An
            integer in ``[0, 2**64)``: the cells are first permuted by sorting
            ``h(seed, cell)`` (the RDSE hash), so each category owns a scattered set; sets stay
            disjoint.

    A value that is itself a known label is encoded as one label; otherwise a list, tuple,
    array or tensor is a batch of labels. Unknown labels raise ``ValueError``.

    Example:
        >>> enc = CategoryEncoder(["cat", "dog", "fish"], active_bits=3)
        >>> enc("dog").indices.tolist()
        [3, 4, 5]
        >>> int(enc("cat").overlap(enc("dog")))
        0
    """

    def __init__(
        self, categories: Sequence[Hashable], *, active_bits: int, seed: int | None = None
    ) -> None:
        if isinstance(categories, (np.ndarray, torch.Tensor)):
            categories = categories.tolist()
        if not isinstance(categories, Sequence) or isinstance(categories, (str, bytes)):
            raise TypeError(
                "categories must be an ordered sequence (list or tuple) of labels, got "
                f"{_describe(categories)}. A set has no fixed order; pass sorted(labels)."
            )
        labels = tuple(categories)
        if not labels:
            raise ValueError("categories must hold at least one label, got an empty sequence.")
        index: dict = {}
        for j, label in enumerate(labels):
            try:
                first = index.setdefault(label, j)
            except TypeError:
                raise TypeError(
                    f"categories[{j}] = {_describe(label)} is not hashable; labels must be "
                    "hashable (str, int, tuple, ...)."
                ) from None
            if first != j:
                raise ValueError(
                    f"categories holds the label {label!r} twice (positions {first} and {j}); "
                    "labels must be distinct."
                )
        w = check_int("active_bits", active_bits, minimum=1)
        n = len(labels) * w
        if seed is None:
            perm = torch.arange(n)
        else:
            seed = check_int("seed", seed, minimum=0, maximum=_MASK64)
            h = splitmix64_hash(seed, np.arange(n, dtype=np.int64))
            perm = torch.from_numpy(np.argsort(h, kind="stable").astype(np.int64))
        self.config = CategoryEncoderConfig(categories=labels, active_bits=w, seed=seed, size=n)
        self._index = index
        self._cells = perm.reshape(len(labels), w).sort(dim=-1).values  # [C, w]

    @property
    def categories(self) -> tuple:
        return self.config.categories

    @property
    def active_bits(self) -> int:
        return self.config.active_bits

    def _lookup(self, label: object) -> int | None:
        try:
            return self._index.get(label)
        except TypeError:  # unhashable
            return None

    def _unknown(self, where: str, label: object) -> ValueError:
        known = self.categories
        shown = ", ".join(repr(k) for k in known[:5])
        more = f" and {len(known) - 5} more" if len(known) > 5 else ""
        return ValueError(f"{where} = {label!r} is not a known category; known: {shown}{more}.")

    def index(self, label: object) -> int:
        """Position j of ``label`` in ``categories``."""
        j = self._lookup(label)
        if j is None:
            raise self._unknown("label", label)
        return j

    def cells(self, label: object) -> torch.Tensor:
        """Sorted cell indices (long tensor ``[w]``) owned by ``label``."""
        return self._cells[self.index(label)].clone()

    def encode(self, value: object, *, device: Device = None) -> SDR:
        """Encode a label (-> SDR ``[n]``) or a batch of labels (-> SDR ``[B, n]``).

        Args:
            value: a known label; or a list / tuple / array / tensor of known labels.
            device: device of the returned SDR (default CPU).
        """
        j = self._lookup(value)
        if j is not None:
            return _dense_from_cells(self._cells[j], self.size, device)
        if isinstance(value, (np.ndarray, torch.Tensor)):
            if value.ndim != 1:
                raise ValueError(
                    f"value must be a label or a 1-D batch of labels, got shape {value.shape}."
                )
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            rows = []
            for i, label in enumerate(value):
                k = self._lookup(label)
                if k is None:
                    raise self._unknown(f"value[{i}]", label)
                rows.append(k)
            cells = self._cells[torch.tensor(rows, dtype=torch.long)]
            return _dense_from_cells(cells.reshape(len(rows), self.active_bits), self.size, device)
        raise self._unknown("value", value)

    def decode(self, sdr: SDR) -> object:
        """Label whose cells overlap ``sdr`` most (a list of labels for a batch ``[B, n]``).

        Ties, including an empty SDR, go to the category listed first.
        """
        if not isinstance(sdr, SDR):
            raise TypeError(f"sdr must be an SDR, got {_describe(sdr)}.")
        if sdr.size != self.size:
            raise ValueError(f"sdr has size {sdr.size} but this encoder has size {self.size}.")
        votes = sdr.dense.to("cpu")[..., self._cells].sum(dim=-1)  # [*batch, C]
        best = votes.argmax(dim=-1)
        if best.ndim == 0:
            return self.categories[int(best)]

        def labels(t: torch.Tensor):
            return [labels(r) for r in t] if t.ndim > 1 else [self.categories[int(j)] for j in t]

        return labels(best)


# --------------------------------------------------------------------------------------------
# DateEncoder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateEncoderConfig:
    """DateEncoder parameters; ``None`` active bits disable a field."""

    time_of_day: int | None
    time_of_day_radius: float
    day_of_week: int | None
    day_of_week_radius: float
    weekend: int | None
    size: int


def _parse_datetime(where: str, value: object) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError(f"{where} is NaT (not a time); encoders need a real date-time.")
        out = value.astype("datetime64[us]").item()
        if not isinstance(out, _dt.datetime):
            raise ValueError(f"{where} = {value!r} lies outside the years 1..9999.")
        return out
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read 'Z'
            text = text[:-1] + "+00:00"
        try:
            return _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{where} = {value!r} is not an ISO-8601 date-time string "
                "(e.g. '2024-03-01T14:30:00' or '2024-03-01 14:30')."
            ) from None
    raise TypeError(
        f"{where} must be a datetime.datetime, datetime.date, numpy.datetime64 or ISO-8601 "
        f"string (or a list / array of them for a batch), got {_describe(value)}."
    )


class DateEncoder(_Encoder):
    """Time of day, day of week and a weekend flag, concatenated into one SDR.

    Fields, in this order in the output (disabled ones are left out)::

        time_of_day  periodic ScalarEncoder over [0, 24) hours,
                     t = hour + minute/60 + second/3600 + microsecond/3.6e9
        day_of_week  periodic ScalarEncoder over [0, 7) days, value weekday + t / 24
                     (Monday 00:00 = 0, Sunday 23:59 ~ 6.999), so it moves smoothly through the day
        weekend      CategoryEncoder over (False, True): True on Saturday and Sunday only
                     (htm.core/NuPIC also flag Friday evening; dendrix does not)

    Defaults follow htm.core's usual settings: 21 active bits per field, time-of-day radius
    4 hours (126 cells), day-of-week radius 1 day (147 cells), weekend 2 * 21 = 42 cells.
    Date-times are used as given (their own wall clock; time zones are not converted);
    ``numpy.datetime64`` values are read as naive UTC.

    Args:
        time_of_day: active bits of the time-of-day field, or ``None`` to leave it out.
        time_of_day_radius: hours; times this far apart share no time-of-day cells.
        day_of_week: active bits of the day-of-week field, or ``None``.
        day_of_week_radius: days; days this far apart share no day-of-week cells.
        weekend: active bits of each of the two weekend categories, or ``None``.

    At least one field must be enabled. ``fields`` maps each enabled field name to its slice
    of the output cells; ``field_encoders`` to its encoder.

    Example:
        >>> enc = DateEncoder(day_of_week=None)
        >>> sdr = enc(["2024-03-02 23:30", "2024-03-04 00:30"])   # Saturday, Monday
        >>> sdr.shape, enc.fields["weekend"]
        ((2, 168), slice(126, 168, None))
    """

    def __init__(
        self,
        *,
        time_of_day: int | None = 21,
        time_of_day_radius: float = 4.0,
        day_of_week: int | None = 21,
        day_of_week_radius: float = 1.0,
        weekend: int | None = 21,
    ) -> None:
        tod_r = check_float("time_of_day_radius", time_of_day_radius, minimum=0.0, open_min=True)
        dow_r = check_float("day_of_week_radius", day_of_week_radius, minimum=0.0, open_min=True)
        encoders: dict[str, _Encoder] = {}
        if time_of_day is not None:
            w = check_int("time_of_day", time_of_day, minimum=1)
            encoders["time_of_day"] = self._field(
                "time_of_day", w, 24.0, tod_r, "time_of_day_radius"
            )
        if day_of_week is not None:
            w = check_int("day_of_week", day_of_week, minimum=1)
            encoders["day_of_week"] = self._field(
                "day_of_week", w, 7.0, dow_r, "day_of_week_radius"
            )
        if weekend is not None:
            w = check_int("weekend", weekend, minimum=1)
            encoders["weekend"] = CategoryEncoder((False, True), active_bits=w)
        if not encoders:
            raise ValueError(
                "enable at least one field: time_of_day, day_of_week and weekend are all None."
            )
        fields, start = {}, 0
        for name, enc in encoders.items():
            fields[name] = slice(start, start + enc.size)
            start += enc.size
        self.field_encoders = encoders
        self.fields = fields
        self.config = DateEncoderConfig(
            time_of_day=None if time_of_day is None else int(time_of_day),
            time_of_day_radius=tod_r,
            day_of_week=None if day_of_week is None else int(day_of_week),
            day_of_week_radius=dow_r,
            weekend=None if weekend is None else int(weekend),
            size=start,
        )

    @staticmethod
    def _field(name: str, w: int, period: float, radius: float, radius_name: str):
        if not radius < period:  # the block would cover the whole period
            raise ValueError(
                f"{radius_name}={radius} with {name}={w} active bits leaves no room in a period "
                f"of {period:g}; choose {radius_name} < {period:g}."
            )
        return ScalarEncoder(0.0, period, active_bits=w, radius=radius, periodic=True)

    def encode(self, value: object, *, device: Device = None) -> SDR:
        """Encode a date-time (-> SDR ``[n]``) or a list / array of them (-> SDR ``[B, n]``).

        Args:
            value: ``datetime.datetime``, ``datetime.date`` (midnight), ``numpy.datetime64`` or
                ISO-8601 string; or a list, tuple or 1-D array of them.
            device: device of the returned SDR (default CPU).
        """
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise ValueError(
                    f"value must be one date-time or a 1-D batch, got shape {value.shape}."
                )
            value = list(value)
        if isinstance(value, (list, tuple)):
            times = [_parse_datetime(f"value[{i}]", v) for i, v in enumerate(value)]
            batched = True
        else:
            times = [_parse_datetime("value", value)]
            batched = False
        hours = [t.hour + t.minute / 60 + t.second / 3600 + t.microsecond / 3.6e9 for t in times]
        inputs = {
            "time_of_day": hours,
            "day_of_week": [t.weekday() + h / 24 for t, h in zip(times, hours, strict=True)],
            "weekend": [t.weekday() >= 5 for t in times],
        }
        parts = []
        for name, enc in self.field_encoders.items():
            x = inputs[name]
            if name != "weekend":
                x = torch.tensor(x, dtype=torch.float64)
            parts.append(enc.encode(x if batched else x[0]))
        out = SDR.concatenate(parts) if len(parts) > 1 else parts[0]
        return out if device is None else out.to(device)

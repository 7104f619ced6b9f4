"""Address events from event cameras: the N-MNIST ``.bs2`` reader and time binning into frames.

An event is ``(x, y, p, t)``: pixel column ``x`` and row ``y``, polarity ``p`` (1 = ON, the
brightness rose; 0 = OFF, it fell) and time stamp ``t`` in microseconds. A ``.bs2`` file (the
layout of the original N-MNIST ``.bin`` files) stores 5 bytes per event, big-endian bit fields::

    byte 0              x                        (8 bits)
    byte 1              y                        (8 bits)
    byte 2, bit 7       p                        (1 bit)
    bytes 2-4, bits 22..0  t_us                  (23 bits: t = (b2 & 0x7F) << 16 | b3 << 8 | b4)

Binning: with a bin of ``dt_us = bin_s * 1e6`` microseconds (a whole number), event ``e`` falls
in frame ``k = floor(t_e / dt_us)``, counted from the recording's time zero (not from its first
event), and adds one to ``frames[k, p_e, y_e, x_e]``. A recording of duration ``D`` covers the
window ``[0, D)`` with ``T = ceil(D / dt_us)`` frames (the last may be shorter). Events at or
after ``D`` are never dropped silently: they raise, unless the caller opts in with
``clip=True``.

Reference: Orchard G, Jayawant A, Cohen GK, Thakor N (2015) Converting static image datasets to
spiking neuromorphic datasets using saccades. Front. Neurosci. 9:437. The small subset (first
1,000 MNIST training digits, first 100 test digits) is the one shipped with SLAYER: Shrestha SB,
Orchard G (2018) SLAYER: Spike layer error reassignment in time. NeurIPS.

Example:
    >>> frames, labels = load_nmnist_small("test", bin_s=0.01)  # doctest: +SKIP
    >>> frames.shape  # [T, N, 2, 34, 34]: 10 ms frames covering every event  # doctest: +SKIP
    torch.Size([34, 100, 2, 34, 34])
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from dendrix._validation import check_choice, check_float, check_int
from dendrix.data.paths import DataNotFoundError, dataset_path

__all__ = [
    "EVENT_DTYPE",
    "NMNIST_SHAPE",
    "EventFormatError",
    "events_to_frames",
    "load_nmnist_small",
    "read_bs2",
]

#: Fields of an event array: pixel column, pixel row, polarity (1 ON, 0 OFF), time in us.
EVENT_DTYPE = np.dtype([("x", np.uint8), ("y", np.uint8), ("p", np.uint8), ("t_us", np.int64)])

#: Frame shape ``(polarities, height, width)`` of the N-MNIST sensor crop.
NMNIST_SHAPE = (2, 34, 34)

_SPLIT_LISTS = {"train": "train1K.txt", "test": "test100.txt"}


class EventFormatError(ValueError):
    """An event file or list file is malformed; the message names the file."""


def read_bs2(path: str | os.PathLike) -> np.ndarray:
    """Decode a ``.bs2`` event file (5 bytes per event, layout in the module docstring).

    Args:
        path: the ``.bs2`` (or N-MNIST ``.bin``) file.

    Returns:
        A structured array ``[E]`` of :data:`EVENT_DTYPE` (fields ``x``, ``y``, ``p``, ``t_us``)
        in file order. An empty file gives ``E = 0``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        EventFormatError: the file length is not a multiple of 5 bytes.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "one.bs2"
        >>> _ = p.write_bytes(bytes([3, 4, 0x80, 0x01, 0x02]))  # x=3 y=4 ON t=258 us
        >>> read_bs2(p)[["x", "y", "p", "t_us"]].tolist()
        [(3, 4, 1, 258)]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"event file {path} does not exist (or is not a regular file).")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise EventFormatError(
            f"{path}: {raw.size} bytes is not a multiple of the 5-byte event record "
            f"({raw.size % 5} byte(s) left over); the file is truncated or not a .bs2 file."
        )
    rec = raw.reshape(-1, 5)
    out = np.empty(rec.shape[0], dtype=EVENT_DTYPE)
    out["x"] = rec[:, 0]
    out["y"] = rec[:, 1]
    out["p"] = rec[:, 2] >> 7
    b = rec[:, 2:5].astype(np.int64)
    out["t_us"] = ((b[:, 0] & 0x7F) << 16) | (b[:, 1] << 8) | b[:, 2]
    return out


def _whole_us(name: str, seconds: float) -> int:
    us = seconds * 1e6
    whole = round(us)
    if whole < 1 or abs(us - whole) > 1e-6 * max(1.0, us):
        raise ValueError(
            f"{name} must be a positive whole number of microseconds (event time stamps are "
            f"integers in us), got {seconds!r} s = {us!r} us. Round it, e.g. {name}="
            f"{max(whole, 1) * 1e-6!r}."
        )
    return whole


def _event_fields(events: object) -> tuple[np.ndarray, ...]:
    if isinstance(events, np.ndarray) and events.dtype.names is not None:
        get = events.__getitem__
        names = events.dtype.names
    elif isinstance(events, Mapping):
        get = events.__getitem__
        names = tuple(events)
    else:
        raise TypeError(
            "events must be a structured array from read_bs2 or a mapping of arrays with keys "
            f"'x', 'y', 'p', 't_us', got {type(events).__name__}."
        )
    missing = [k for k in ("x", "y", "p", "t_us") if k not in names]
    if missing:
        raise ValueError(
            f"events lacks field(s) {missing}; it needs 'x', 'y', 'p' and 't_us' "
            "(as returned by read_bs2)."
        )
    fields = []
    for key in ("x", "y", "p", "t_us"):
        a = np.asarray(get(key))
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"events['{key}'] must be a 1-D integer array, got {a.dtype} of shape {a.shape}."
            )
        fields.append(a.astype(np.int64))
    if len({f.shape[0] for f in fields}) != 1:
        names = ("x", "y", "p", "t_us")
        sizes = ", ".join(f"{k}={f.shape[0]}" for k, f in zip(names, fields, strict=True))
        raise ValueError(
            f"events fields have different lengths ({sizes}); every event needs x, y, p and t_us."
        )
    return tuple(fields)


def events_to_frames(
    events: np.ndarray | Mapping[str, np.ndarray],
    *,
    bin_s: float,
    duration_s: float | None = None,
    shape: tuple[int, int, int] = NMNIST_SHAPE,
    mode: str = "count",
    clip: bool = False,
) -> torch.Tensor:
    """Bin address events into frames ``frames[k, p, y, x]``.

    ``frames[k, p, y, x] = #{e : floor(t_e / dt_us) = k, p_e = p, y_e = y, x_e = x}`` (``mode=
    "count"``), or ``min(1, .)`` of it (``mode="binary"``), with ``dt_us = bin_s * 1e6``;
    ``T = ceil(D / dt_us)`` frames cover ``[0, D)`` where ``D = duration_s * 1e6`` us.

    Args:
        events: ``[E]`` events, a structured array from :func:`read_bs2` or a mapping with
            integer arrays ``x``, ``y``, ``p``, ``t_us`` (time stamps >= 0, in microseconds).
        bin_s: frame width in seconds (a whole number of microseconds), e.g. ``1e-3``.
        duration_s: recording duration in seconds (a whole number of microseconds). ``None``
            uses the shortest window holding every event, ``T = floor(max t / dt_us) + 1``.
        shape: ``(C, H, W)`` with polarity ``p < C``, row ``y < H``, column ``x < W``.
        mode: ``"count"`` (events per bin) or ``"binary"`` (1 where a bin has any event).
        clip: leave out events at or after ``duration_s``. Without it such events raise, so
            nothing is ever dropped unless asked.

    Returns:
        float32 ``[T, C, H, W]``.

    Raises:
        ValueError: an event lies outside ``shape``, has a negative time, or (without
            ``clip``) lies at or after ``duration_s``; or no events and no ``duration_s``.

    Example:
        >>> ev = {"x": np.array([1, 2]), "y": np.array([0, 3]), "p": np.array([1, 0]),
        ...       "t_us": np.array([0, 2500])}
        >>> f = events_to_frames(ev, bin_s=1e-3, shape=(2, 4, 4))
        >>> f.shape, f[0, 1, 0, 1].item(), f[2, 0, 3, 2].item()
        (torch.Size([3, 2, 4, 4]), 1.0, 1.0)
    """
    x, y, p, t = _event_fields(events)
    bin_us = _whole_us("bin_s", check_float("bin_s", bin_s, minimum=0.0, open_min=True))
    check_choice("mode", mode, ("count", "binary"))
    if not (isinstance(shape, tuple | list) and len(shape) == 3):
        raise ValueError(f"shape must be (C, H, W), three positive integers; got {shape!r}.")
    c, h, w = (check_int(f"shape[{i}]", s, minimum=1) for i, s in enumerate(shape))
    if not isinstance(clip, bool):
        raise TypeError(f"clip must be True or False, got {clip!r}.")
    for name, a, size, what in (("x", x, w, "W"), ("y", y, h, "H"), ("p", p, c, "C")):
        bad = (a < 0) | (a >= size)
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} event(s) have {name} outside [0, {size}) (e.g. {name}="
                f"{int(a[bad][0])}); shape=(C, H, W)={(c, h, w)} gives {what}={size}. Pass the "
                "sensor's shape."
            )
    if (t < 0).any():
        raise ValueError(
            f"{int((t < 0).sum())} event(s) have negative t_us (e.g. {int(t[t < 0][0])}); time "
            "stamps count microseconds from the start of the recording."
        )
    if duration_s is None:
        if t.size == 0:
            raise ValueError(
                "events is empty, so the number of frames cannot be inferred; pass duration_s."
            )
        steps = int(t.max()) // bin_us + 1
    else:
        d = check_float("duration_s", duration_s, minimum=0.0, open_min=True)
        dur_us = _whole_us("duration_s", d)
        steps = math.ceil(dur_us / bin_us)
        late = t >= dur_us
        if late.any():
            if not clip:
                raise ValueError(
                    f"{int(late.sum())} of {t.size} event(s) lie at or after duration_s={d!r} s "
                    f"(latest at t_us={int(t.max())}). Pass a longer duration_s (or None to fit "
                    "the events), or clip=True to leave them out on purpose."
                )
            keep = ~late
            x, y, p, t = x[keep], y[keep], p[keep], t[keep]
    k = t // bin_us
    flat = ((k * c + p) * h + y) * w + x
    counts = np.bincount(flat, minlength=steps * c * h * w)
    frames = torch.from_numpy(counts.astype(np.float32)).reshape(steps, c, h, w)
    if mode == "binary":
        frames.clamp_(max=1.0)
    return frames


def _read_list(path: Path) -> list[tuple[int, int]]:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        try:
            sample, label = (int(v) for v in parts)
        except ValueError:
            raise EventFormatError(
                f"{path}, line {number}: expected '<sample id> <class>' (two integers), got "
                f"{text!r}."
            ) from None
        if not 0 <= label <= 9:
            raise EventFormatError(f"{path}, line {number}: class {label} is not in 0..9.")
        rows.append((sample, label))
    if not rows:
        raise EventFormatError(f"{path} lists no samples.")
    return rows


@functools.lru_cache(maxsize=2)
def _load_split(folder: Path, split: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    rows = _read_list(folder / _SPLIT_LISTS[split])
    samples = []
    for sample, _ in rows:
        path = folder / "samples" / f"{sample}.bs2"
        if not path.is_file():
            raise DataNotFoundError(
                f"{path} is listed in {_SPLIT_LISTS[split]} but missing; the N-MNIST folder is "
                "incomplete (check it with sha256sum -c SHA256SUMS)."
            )
        ev = read_bs2(path)
        ev.flags.writeable = False
        samples.append(ev)
    labels = np.array([label for _, label in rows], dtype=np.int64)
    labels.flags.writeable = False
    return tuple(samples), labels


def load_nmnist_small(
    split: str = "train",
    *,
    bin_s: float,
    duration_s: float | None = None,
    mode: str = "count",
    clip: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load the small N-MNIST subset as time-binned frames (never downloads).

    Every sample is binned by :func:`events_to_frames` over the same window ``[0, D)``, so all
    have ``T = ceil(D / dt_us)`` frames. Memory is ``T * N * 2312 * 4`` bytes: 1 ms bins over
    the whole training split (``T = 316``, ``N = 1000``) take 2.9 GB; 10 ms bins take 0.3 GB.
    Decoded events are cached in memory for the process (nothing is written to disk).

    Args:
        split: ``"train"`` (1,000 samples, listed in ``train1K.txt``) or ``"test"`` (100
            samples, ``test100.txt``), in list-file order.
        bin_s: frame width in seconds (a whole number of microseconds).
        duration_s: window length in seconds. ``None`` takes the shortest window holding every
            event of the split (``T = floor(max t / dt_us) + 1``).
        mode: ``"count"`` or ``"binary"``, as in :func:`events_to_frames`.
        clip: leave out events at or after ``duration_s`` instead of raising.

    Returns:
        ``(frames, labels)``: float32 ``[T, N, 2, 34, 34]`` (time first; channel 0 OFF, 1 ON)
        and int64 ``[N]`` classes 0..9.

    Raises:
        DataNotFoundError: the ``nmnist-small`` folder or a listed sample is missing.
        EventFormatError: a list or event file is malformed.

    Example:
        >>> frames, labels = load_nmnist_small("test", bin_s=0.05)  # doctest: +SKIP
        >>> frames.shape, labels[:3].tolist()  # doctest: +SKIP
        (torch.Size([7, 100, 2, 34, 34]), [7, 2, 1])
    """
    check_choice("split", split, tuple(_SPLIT_LISTS))
    check_float("bin_s", bin_s, minimum=0.0, open_min=True)
    samples, labels = _load_split(dataset_path("nmnist-small").resolve(), split)
    if duration_s is None:
        latest = max((int(ev["t_us"].max()) for ev in samples if ev.size), default=0)
        duration_s = (latest + 1) * 1e-6
    frames: torch.Tensor | None = None
    for i, ev in enumerate(samples):
        f = events_to_frames(
            ev, bin_s=bin_s, duration_s=duration_s, shape=NMNIST_SHAPE, mode=mode, clip=clip
        )
        if frames is None:  # every sample has the same T; allocate once, no stacking copy
            frames = torch.empty((f.shape[0], len(samples), *NMNIST_SHAPE), dtype=f.dtype)
        frames[:, i] = f
    assert frames is not None  # _read_list refuses empty lists
    return frames, torch.from_numpy(labels.copy())

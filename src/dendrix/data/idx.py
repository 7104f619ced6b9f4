"""Reading IDX files (the MNIST and Fashion-MNIST format), plain or gzip-compressed.

An IDX file is a header followed by the array's elements in C order, big-endian::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions d (>= 1)
    then d      unsigned 32-bit big-endian sizes N_1 .. N_d
    then        N_1 * ... * N_d elements of the type above

MNIST's image files are ``(0x08, d=3)`` with sizes ``(N, 28, 28)`` (magic number 2051) and its
label files ``(0x08, d=1)`` with size ``(N,)`` (magic number 2049). A file is gzip-compressed
when it starts with the gzip signature ``1f 8b``, whatever its name. Every malformed file --
bad magic number, unknown type, a header or body shorter or longer than the header says, a
corrupt gzip stream -- raises :class:`IdxFormatError` naming the file.

Reference: LeCun Y, Bottou L, Bengio Y, Haffner P (1998) Gradient-based learning applied to
document recognition. Proc. IEEE 86(11):2278-2324; the format is described at
http://yann.lecun.com/exdb/mnist/.

Example:
    >>> images, labels = load_mnist("mnist", "test")  # doctest: +SKIP
    >>> images.shape, images.dtype, labels.shape, labels.dtype  # doctest: +SKIP
    (torch.Size([10000, 28, 28]), torch.uint8, torch.Size([10000]), torch.int64)
"""

from __future__ import annotations

import functools
import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from dendrix._validation import check_choice
from dendrix.data.paths import DataNotFoundError, dataset_path

__all__ = ["MNIST_LIKE", "IdxFormatError", "load_mnist", "read_idx"]

#: Element type code -> big-endian NumPy dtype.
_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Data sets stored as the four MNIST IDX files, by ``dataset_path`` folder name.
MNIST_LIKE = ("mnist", "fashion-mnist")

_FILE_STEMS = {"train": "train", "test": "t10k"}


class IdxFormatError(ValueError):
    """An IDX file is malformed; the message names the file and what is wrong."""


def _read_bytes(path: Path) -> bytes:
    with path.open("rb") as f:
        head = f.read(2)
        f.seek(0)
        if head != b"\x1f\x8b":
            return f.read()
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                return g.read()
        except (EOFError, OSError, zlib.error) as err:
            raise IdxFormatError(
                f"{path}: the gzip stream is corrupt or truncated ({err}). The file is damaged; "
                "obtain a fresh copy (compare its checksum with the data set's README)."
            ) from err


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a NumPy array.

    Args:
        path: the ``.idx`` / ``-ubyte`` file, plain or gzip-compressed (detected by content).

    Returns:
        An array of the header's shape ``(N_1, ..., N_d)`` and element type, in native byte
        order, writable and owning its memory.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        IdxFormatError: the file is not a well-formed IDX file (the message says why).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx1-ubyte"
        >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
        >>> read_idx(p).tolist()
        [7, 8, 9]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} does not exist (or is not a regular file).")
    data = _read_bytes(path)
    if len(data) < 4:
        raise IdxFormatError(
            f"{path}: {len(data)} byte(s) is too short for the 4-byte IDX magic number; the file "
            "is truncated or not an IDX file."
        )
    zero, code, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in _IDX_TYPES:
        magic = int.from_bytes(data[:4], "big")
        known = ", ".join(f"0x{c:02X}" for c in _IDX_TYPES)
        raise IdxFormatError(
            f"{path}: bad IDX magic number 0x{magic:08X}; expected 0x0000TTDD with type TT one "
            f"of {known} and DD the number of dimensions. This is not an IDX file."
        )
    if ndim < 1:
        raise IdxFormatError(f"{path}: the IDX header declares 0 dimensions; expected >= 1.")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(
            f"{path}: the header declares {ndim} dimension(s) ({header} header bytes) but the "
            f"file holds only {len(data)} byte(s); the file is truncated."
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "followed by unexpected trailing bytes"
        raise IdxFormatError(
            f"{path}: the header declares shape {shape} of {dtype.name} ({expected} data bytes) "
            f"but {body} data byte(s) follow; the file is {what}."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def _split_files(root: Path, split: str) -> tuple[Path, Path]:
    stem = _FILE_STEMS[split]
    found = []
    for kind, d in (("images", 3), ("labels", 1)):
        name = f"{stem}-{kind}-idx{d}-ubyte"
        candidates = [root / f"{name}.gz", root / name]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            raise DataNotFoundError(
                f"{root} has no {split} {kind} file: looked for "
                f"{' and '.join(c.name for c in candidates)}. Place the data set's IDX files "
                "there (see its README) or point DENDRIX_DATA at a folder that has them."
            )
        found.append(hit)
    return found[0], found[1]


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


@functools.lru_cache(maxsize=4)
def _load_pair(
    images_path: Path, labels_path: Path, stamps: tuple[tuple[int, int], ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Decode and check one split; ``stamps`` (mtime, size) invalidates the cache on change."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IdxFormatError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), got "
            f"{images.dtype} {images.shape}."
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IdxFormatError(
            f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} "
            f"{labels.shape}."
        )
    if labels.shape[0] != images.shape[0]:
        raise IdxFormatError(
            f"{labels_path} holds {labels.shape[0]} labels but {images_path} holds "
            f"{images.shape[0]} images; the two files do not belong together."
        )
    if labels.size and int(labels.max()) > 9:
        raise IdxFormatError(
            f"{labels_path}: labels must be classes 0..9, found {int(labels.max())}."
        )
    images.flags.writeable = False  # cached: callers get copies
    labels.flags.writeable = False
    return images, labels


def load_mnist(name: str = "mnist", split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Load MNIST or Fashion-MNIST from the data root (never downloads).

    The four IDX files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``; uncompressed names are
    accepted too) are looked up with :func:`~dendrix.data.paths.dataset_path`. Decoded arrays
    are cached in memory for the process (nothing is written to disk); every call returns new
    tensors, so modifying them does not affect later calls.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"``.
        split: ``"train"`` (60,000 samples) or ``"test"`` (10,000 samples).

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` pixel intensities 0..255 and int64 ``[N]``
        classes 0..9.

    Raises:
        DataNotFoundError: the data set or one of its files is missing.
        IdxFormatError: a file is malformed, or images and labels do not match.

    Example:
        >>> images, labels = load_mnist("fashion-mnist", "train")  # doctest: +SKIP
        >>> x = images.float() / 255.0  # [60000, 28, 28] in [0, 1]  # doctest: +SKIP
    """
    check_choice("name", name, MNIST_LIKE)
    check_choice("split", split, tuple(_FILE_STEMS))
    images_path, labels_path = _split_files(dataset_path(name), split)
    images_path, labels_path = images_path.resolve(), labels_path.resolve()
    stamps = (_stamp(images_path), _stamp(labels_path))
    images, labels = _load_pair(images_path, labels_path, stamps)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))

"""IDX reader: header parsing on hand-written files, malformed files, the real MNIST files."""

from __future__ import annotations

import doctest
import gzip
import struct
import tempfile

import numpy as np
import pytest
import torch

from dendrix.data import DataNotFoundError, dataset_path
from dendrix.data.idx import IdxFormatError, load_mnist, read_idx


def idx_bytes(type_code: int, shape: tuple[int, ...], body: bytes) -> bytes:
    """An IDX file written by hand: 0x0000, type, ndim, big-endian uint32 sizes, body."""
    return (
        bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + body
    )


def write(tmp_path, name: str, data: bytes, *, compress: bool = False):
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# --------------------------------------------------------------------------------------------
# Header parsing
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_uint8_images_are_read_in_c_order(tmp_path, compress):
    # 2 images of 2 rows x 3 columns; the body is 0..11 so element [i, r, c] = 6i + 3r + c.
    data = idx_bytes(0x08, (2, 2, 3), bytes(range(12)))
    out = read_idx(write(tmp_path, "imgs-idx3-ubyte", data, compress=compress))
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert out[1, 0, 2] == 8 and out[0, 1, 0] == 3 and out[1, 1, 2] == 11


def test_big_endian_types_are_converted_to_native(tmp_path):
    # int16 -2 is 0xFFFE big-endian; int32 258 is 00 00 01 02; float32 1.5 is 3F C0 00 00.
    i16 = read_idx(write(tmp_path, "a", idx_bytes(0x0B, (2,), b"\xff\xfe\x00\x05")))
    i32 = read_idx(write(tmp_path, "b", idx_bytes(0x0C, (1,), b"\x00\x00\x01\x02")))
    f32 = read_idx(write(tmp_path, "c", idx_bytes(0x0D, (1,), b"\x3f\xc0\x00\x00")))
    i8 = read_idx(write(tmp_path, "d", idx_bytes(0x09, (1,), b"\xff")))
    assert i16.tolist() == [-2, 5] and i16.dtype == np.int16 and i16.dtype.isnative
    assert i32.tolist() == [258] and i32.dtype.isnative
    assert f32.tolist() == [1.5] and f32.dtype == np.float32
    assert i8.tolist() == [-1]


def test_result_is_writable_and_owns_its_memory(tmp_path):
    out = read_idx(write(tmp_path, "l", idx_bytes(0x08, (3,), b"\x01\x02\x03")))
    out[0] = 9  # must not raise (torch.from_numpy warns on read-only arrays)
    assert out.flags.owndata and out.tolist() == [9, 2, 3]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    data = idx_bytes(0x08, (2,), b"\x07\x09")
    assert read_idx(write(tmp_path, "plain.gz", data)).tolist() == [7, 9]
    assert read_idx(write(tmp_path, "packed", data, compress=True)).tolist() == [7, 9]


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------
def test_truncated_body_is_reported_with_the_file_name(tmp_path):
    path = write(tmp_path, "short-idx1-ubyte", idx_bytes(0x08, (5,), b"\x01\x02\x03"))
    with pytest.raises(IdxFormatError, match=r"short-idx1-ubyte.*5 data bytes.*3 data.*trunc"):
        read_idx(path)


def test_trailing_bytes_are_reported(tmp_path):
    path = write(tmp_path, "long", idx_bytes(0x08, (2,), b"\x01\x02\x03"))
    with pytest.raises(IdxFormatError, match="trailing"):
        read_idx(path)


def test_truncated_header_is_reported(tmp_path):
    # Declares 3 dimensions (16 header bytes) but stops after the first size.
    path = write(tmp_path, "hdr", bytes([0, 0, 8, 3]) + struct.pack(">I", 60000))
    with pytest.raises(IdxFormatError, match=r"hdr.*3 dimension.*truncated"):
        read_idx(path)


@pytest.mark.parametrize(
    "head",
    [
        b"\x01\x00\x08\x01",  # first byte not zero
        b"\x00\x00\x07\x01",  # unknown type code
        b"PK\x03\x04",  # a zip file
    ],
)
def test_bad_magic_number_is_reported(tmp_path, head):
    path = write(tmp_path, "bad", head + b"\x00\x00\x00\x01\x05")
    with pytest.raises(IdxFormatError, match=r"bad.*magic number"):
        read_idx(path)


def test_zero_dimensions_and_tiny_files_are_refused(tmp_path):
    with pytest.raises(IdxFormatError, match="0 dimensions"):
        read_idx(write(tmp_path, "z", bytes([0, 0, 8, 0])))
    with pytest.raises(IdxFormatError, match="too short"):
        read_idx(write(tmp_path, "t", b"\x00\x00"))


def test_truncated_gzip_stream_is_reported(tmp_path):
    packed = gzip.compress(idx_bytes(0x08, (1000,), bytes(1000)))
    path = write(tmp_path, "cut.gz", packed[: len(packed) // 2])
    with pytest.raises(IdxFormatError, match=r"cut\.gz.*gzip"):
        read_idx(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


# --------------------------------------------------------------------------------------------
# load_mnist on a synthetic data root
# --------------------------------------------------------------------------------------------
def fake_mnist(root, name: str, n_train: int = 3, n_test: int = 2, label_max: int = 9):
    folder = root / name
    folder.mkdir(parents=True)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        pixels = bytes((7 * i) % 256 for i in range(n * 28 * 28))
        labels = bytes(min(i, label_max) for i in range(n - 1)) + bytes([label_max])
        write(
            folder, f"{stem}-images-idx3-ubyte.gz", idx_bytes(8, (n, 28, 28), pixels), compress=True
        )
        write(folder, f"{stem}-labels-idx1-ubyte.gz", idx_bytes(8, (n,), labels), compress=True)
    return folder


def test_load_mnist_reads_the_named_split(monkeypatch, tmp_path):
    fake_mnist(tmp_path, "fashion-mnist", n_train=3, n_test=2)
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path))
    images, labels = load_mnist("fashion-mnist", "test")
    assert images.shape == (2, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and labels.tolist() == [0, 9]
    # pixel [1, 2, 3] is byte 784 + 59 = 843 of the body: 7 * 843 mod 256 = 13
    assert images[1, 2, 3].item() == 13
    train_images, _ = load_mnist("fashion-mnist", "train")
    assert train_images.shape[0] == 3


def test_load_mnist_returns_fresh_tensors_each_call(monkeypatch, tmp_path):
    fake_mnist(tmp_path, "mnist")
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path))
    first, _ = load_mnist("mnist", "train")
    first.fill_(255)
    second, _ = load_mnist("mnist", "train")
    assert second[0, 0, 1].item() == 7


def test_load_mnist_refuses_mismatched_or_bad_labels(monkeypatch, tmp_path):
    folder = fake_mnist(tmp_path, "mnist", label_max=12)
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path))
    with pytest.raises(IdxFormatError, match=r"classes 0\.\.9"):
        load_mnist("mnist", "train")
    write(folder, "t10k-labels-idx1-ubyte.gz", idx_bytes(8, (5,), bytes(5)), compress=True)
    with pytest.raises(IdxFormatError, match=r"5 labels.*2 images"):
        load_mnist("mnist", "test")


def test_load_mnist_names_a_missing_file(monkeypatch, tmp_path):
    folder = fake_mnist(tmp_path, "mnist")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv("DENDRIX_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist("mnist", "test")


def test_load_mnist_validates_its_arguments():
    with pytest.raises(ValueError, match="name must be one of"):
        load_mnist("kmnist")
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("mnist", "validation")


# --------------------------------------------------------------------------------------------
# The real files
# --------------------------------------------------------------------------------------------
def real_or_skip(name: str):
    try:
        return dataset_path(name)
    except DataNotFoundError as err:
        pytest.skip(f"{name} data set not available: {err}")


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_files_have_the_published_shapes_and_labels(name):
    real_or_skip(name)
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = load_mnist(name, split)
        assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
        assert labels.shape == (n,) and labels.dtype == torch.int64
        assert int(labels.min()) == 0 and int(labels.max()) == 9
        assert int(images.max()) == 255


def test_real_mnist_class_counts_match_the_readme():
    real_or_skip("mnist")
    _, labels = load_mnist("mnist", "test")
    counts = torch.bincount(labels, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_docstring_examples_run(monkeypatch, tmp_path):
    import dendrix.data.idx as module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # examples write under tmp_path
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

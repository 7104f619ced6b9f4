"""N-MNIST .bs2 events: bit-exact decoding of hand-made records, time binning, the real subset."""

from __future__ import annotations

import doctest
import tempfile

import numpy as np
import pytest
import torch

from dendrix.data import DataNotFoundError, dataset_path
from dendrix.data.events import (
    EVENT_DTYPE,
    EventFormatError,
    events_to_frames,
    load_nmnist_small,
    read_bs2,
)


def events(*rows: tuple[int, int, int, int]) -> dict[str, np.ndarray]:
    """Events as a mapping of arrays from (x, y, p, t_us) rows."""
    x, y, p, t = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    return {"x": x, "y": y, "p": p, "t_us": t}


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------
# (record bytes, decoded (x, y, p, t_us)), worked out by hand from the 40-bit layout:
# byte0 = x, byte1 = y, bit 7 of byte2 = p, low 7 bits of byte2 then byte3, byte4 = t (23 bits).
RECORDS = [
    (bytes([33, 0, 0xFF, 0xFF, 0xFF]), (33, 0, 1, 8_388_607)),  # largest time 2**23 - 1
    (bytes([5, 17, 0x01, 0x23, 0x45]), (5, 17, 0, 0x012345)),  # 74565 us, OFF
    (bytes([0, 33, 0x80, 0x00, 0x01]), (0, 33, 1, 1)),  # ON bit must not leak into t
    (bytes([12, 7, 0x80, 0x00, 0x00]), (12, 7, 1, 0)),
    (bytes([1, 2, 0x7F, 0x00, 0x00]), (1, 2, 0, 0x7F0000)),  # high time bits, OFF
]


def test_hand_encoded_records_decode_bit_exactly(tmp_path):
    path = tmp_path / "hand.bs2"
    path.write_bytes(b"".join(raw for raw, _ in RECORDS))
    out = read_bs2(path)
    assert out.dtype == EVENT_DTYPE and out.shape == (len(RECORDS),)
    assert [tuple(int(v) for v in e) for e in out] == [want for _, want in RECORDS]


def test_empty_file_has_no_events(tmp_path):
    path = tmp_path / "empty.bs2"
    path.write_bytes(b"")
    assert read_bs2(path).shape == (0,)


@pytest.mark.parametrize("extra", [1, 4])
def test_length_not_a_multiple_of_five_is_an_error(tmp_path, extra):
    path = tmp_path / "cut.bs2"
    path.write_bytes(RECORDS[0][0] * 2 + b"\x00" * extra)
    with pytest.raises(EventFormatError, match=rf"cut\.bs2: {10 + extra} bytes.*{extra} byte"):
        read_bs2(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"gone\.bs2"):
        read_bs2(tmp_path / "gone.bs2")


# --------------------------------------------------------------------------------------------
# Binning
# --------------------------------------------------------------------------------------------
def test_events_land_in_floor_t_over_bin_at_p_y_x():
    ev = events(
        (1, 0, 1, 0),  # bin 0
        (1, 0, 1, 999),  # bin 0, same pixel: count 2
        (2, 3, 0, 1000),  # bin 1 starts exactly at 1000 us
        (3, 1, 1, 2500),  # bin 2
    )
    f = events_to_frames(ev, bin_s=1e-3, shape=(2, 4, 4))
    assert f.shape == (3, 2, 4, 4) and f.dtype == torch.float32  # T = 2500 // 1000 + 1
    expected = torch.zeros(3, 2, 4, 4)
    expected[0, 1, 0, 1] = 2.0
    expected[1, 0, 3, 2] = 1.0
    expected[2, 1, 1, 3] = 1.0
    assert torch.equal(f, expected)


def test_binary_mode_marks_bins_with_any_event():
    ev = events((1, 0, 1, 0), (1, 0, 1, 10), (1, 0, 1, 20), (0, 0, 0, 30))
    f = events_to_frames(ev, bin_s=1e-4, shape=(2, 2, 2), mode="binary")
    assert f.shape == (1, 2, 2, 2)
    assert f[0, 1, 0, 1].item() == 1.0 and f[0, 0, 0, 0].item() == 1.0 and f.sum().item() == 2.0


def test_structured_array_and_mapping_give_the_same_frames(tmp_path):
    path = tmp_path / "hand.bs2"
    path.write_bytes(b"".join(raw for raw, _ in RECORDS[1:4]))  # times 74565, 1, 0
    from_file = events_to_frames(read_bs2(path), bin_s=0.01)
    by_hand = events_to_frames(events((5, 17, 0, 74565), (0, 33, 1, 1), (12, 7, 1, 0)), bin_s=0.01)
    assert from_file.shape == (8, 2, 34, 34)  # 74565 // 10000 + 1
    assert torch.equal(from_file, by_hand)
    assert from_file[7, 0, 17, 5].item() == 1.0 and from_file[0, 1, 33, 0].item() == 1.0


def test_duration_sets_the_frame_count_and_late_events_raise():
    ev = events((0, 0, 0, 100), (0, 0, 1, 2400))
    f = events_to_frames(ev, bin_s=1e-3, duration_s=2.5e-3, shape=(2, 1, 1))
    assert f.shape == (3, 2, 1, 1)  # ceil(2500 / 1000); the last frame is 500 us long
    assert f[:, :, 0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    late = events((0, 0, 0, 100), (0, 0, 1, 2500), (0, 0, 1, 2600))
    with pytest.raises(ValueError, match=r"2 of 3 event\(s\).*clip=True"):
        events_to_frames(late, bin_s=1e-3, duration_s=2.5e-3, shape=(2, 1, 1))


def test_clip_leaves_late_events_out_only_when_asked():
    late = events((0, 0, 0, 100), (0, 0, 1, 2500), (0, 0, 1, 9000))
    f = events_to_frames(late, bin_s=1e-3, duration_s=2.5e-3, shape=(2, 1, 1), clip=True)
    assert f.shape == (3, 2, 1, 1) and f.sum().item() == 1.0 and f[0, 0, 0, 0].item() == 1.0


def test_empty_events_need_a_duration():
    empty = {k: np.zeros(0, dtype=np.int64) for k in ("x", "y", "p", "t_us")}
    assert events_to_frames(empty, bin_s=1e-3, duration_s=2e-3).shape == (2, 2, 34, 34)
    with pytest.raises(ValueError, match="duration_s"):
        events_to_frames(empty, bin_s=1e-3)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ((34, 0, 0, 0), r"x outside \[0, 34\).*x=34"),
        ((0, 40, 0, 0), r"y outside \[0, 34\)"),
        ((0, 0, 2, 0), r"p outside \[0, 2\)"),
        ((0, 0, 0, -5), "negative t_us"),
    ],
)
def test_events_outside_the_sensor_are_refused(row, match):
    with pytest.raises(ValueError, match=match):
        events_to_frames(events(row), bin_s=1e-3)


def test_bad_arguments_are_refused():
    ev = events((0, 0, 0, 0))
    with pytest.raises(ValueError, match="whole number of microseconds"):
        events_to_frames(ev, bin_s=1.5e-7)
    with pytest.raises(ValueError, match="bin_s"):
        events_to_frames(ev, bin_s=0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        events_to_frames(ev, bin_s=1e-3, mode="sum")
    with pytest.raises(ValueError, match="lacks field"):
        events_to_frames({"x": ev["x"], "y": ev["y"], "p": ev["p"]}, bin_s=1e-3)
    with pytest.raises(ValueError, match="different lengths"):
        events_to_frames({**ev, "t_us": np.array([0, 1])}, bin_s=1e-3)
    with pytest.raises(TypeError, match="structured array"):
        events_to_frames([(0, 0, 0, 0)], bin_s=1e-3)
    with pytest.raises(ValueError, match="shape must be"):
        events_to_frames(ev, bin_s=1e-3, shape=(34, 34))


# --------------------------------------------------------------------------------------------
# The real N-MNIST subset
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nmnist():
    try:
        return dataset_path("nmnist-small")
    except DataNotFoundError as err:
        pytest.skip(f"nmnist-small data set not available: {err}")


def test_every_real_file_decodes_inside_the_sensor(nmnist):
    files = sorted((nmnist / "samples").glob("*.bs2"))
    assert len(files) == 1100
    total = 0
    for path in files:
        ev = read_bs2(path)
        assert int(ev["x"].max()) < 34 and int(ev["y"].max()) < 34, path
        assert set(np.unique(ev["p"]).tolist()) <= {0, 1}, path
        assert np.all(np.diff(ev["t_us"]) >= 0), path  # README: non-decreasing in every file
        total += ev.size
    assert total == 4_518_827  # the README's count


@pytest.mark.parametrize(
    ("split", "n", "counts", "latest_us"),
    [
        ("train", 1000, [97, 116, 99, 93, 105, 92, 94, 117, 87, 100], 315_109),
        ("test", 100, [8, 14, 8, 11, 14, 7, 10, 15, 2, 11], 336_040),
    ],
)
def test_real_splits_have_the_documented_sizes_and_labels(nmnist, split, n, counts, latest_us):
    frames, labels = load_nmnist_small(split, bin_s=0.05)
    assert frames.dtype == torch.float32 and labels.dtype == torch.int64
    t = latest_us // 50_000 + 1  # the window fits the latest event of the split
    assert frames.shape == (t, n, 2, 34, 34) and labels.shape == (n,)
    assert torch.bincount(labels, minlength=10).tolist() == counts
    listed = nmnist / ("train1K.txt" if split == "train" else "test100.txt")
    ids = [int(line.split()[0]) for line in listed.read_text().splitlines()[1:] if line.strip()]
    # Frames of sample i hold exactly the events of its file (none dropped).
    for i in (0, n - 1):
        assert frames[:, i].sum().item() == read_bs2(nmnist / "samples" / f"{ids[i]}.bs2").size


def test_real_labels_agree_with_mnist(nmnist):
    try:
        dataset_path("mnist")
    except DataNotFoundError as err:
        pytest.skip(f"mnist not available for the cross-check: {err}")
    from dendrix.data.idx import load_mnist

    _, labels = load_nmnist_small("test", bin_s=0.1)
    _, mnist_labels = load_mnist("mnist", "test")
    assert torch.equal(labels, mnist_labels[:100])  # ids 60001..60100 = test images 1..100


def test_real_split_with_too_short_a_duration_raises(nmnist):
    with pytest.raises(ValueError, match="clip=True"):
        load_nmnist_small("test", bin_s=0.01, duration_s=0.1)
    frames, _ = load_nmnist_small("test", bin_s=0.01, duration_s=0.1, clip=True)
    assert frames.shape[0] == 10


def test_docstring_examples_run(monkeypatch, tmp_path):
    import dendrix.data.events as module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # examples write under tmp_path
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

"""Behavioural tests for dendrix.sdr.encoders (HTM-style value -> SDR encoders)."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest
import torch

from dendrix.sdr import SDR
from dendrix.sdr.encoders import (
    RDSE,
    CategoryEncoder,
    DateEncoder,
    RandomDistributedScalarEncoder,
    ScalarEncoder,
    splitmix64_hash,
)

# --------------------------------------------------------------------------------------------
# Independent reference of the documented RDSE hash (pure Python ints, module docstring)
# --------------------------------------------------------------------------------------------
M64 = (1 << 64) - 1


def ref_mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def ref_rdse_cells(x: float, *, size: int, w: int, resolution: float, seed: int) -> list[int]:
    b = math.floor(x / resolution)
    state = ref_mix64(seed)
    return sorted({ref_mix64((state + ((b + i) & M64) * 0x9E3779B97F4A7C15) & M64) % size
                   for i in range(w)})  # fmt: skip


def idx(sdr: SDR) -> list[int]:
    return sdr.indices.tolist()


# --------------------------------------------------------------------------------------------
# ScalarEncoder
# --------------------------------------------------------------------------------------------
TINY = dict(size=14, active_bits=4)  # [0, 10]: B = 11 buckets, resolution 1


def test_scalar_active_count_is_exactly_active_bits():
    for enc in (
        ScalarEncoder(0, 10, **TINY),
        ScalarEncoder(-3.5, 7.25, size=50, active_bits=7),
        ScalarEncoder(0, 1, size=20, active_bits=5, periodic=True),
    ):
        x = torch.linspace(enc.minimum, enc.maximum, 97)
        assert enc(x).active_count().tolist() == [enc.active_bits] * 97


def test_scalar_hand_derived_bit_positions():
    enc = ScalarEncoder(0, 10, **TINY)
    assert idx(enc(0.0)) == [0, 1, 2, 3]  # minimum: first block
    assert idx(enc(10.0)) == [10, 11, 12, 13]  # maximum: last block
    assert idx(enc(5.0)) == [5, 6, 7, 8]
    assert idx(enc(4.4)) == [4, 5, 6, 7]  # rounds to bucket 4
    assert idx(enc(4.5)) == [5, 6, 7, 8]  # round half up


def test_scalar_derived_size_resolution_radius_follow_htm_rules():
    by_size = ScalarEncoder(0, 10, **TINY)
    assert (by_size.size, by_size.n_buckets, by_size.resolution, by_size.radius) == (14, 11, 1, 4)
    by_res = ScalarEncoder(0, 10, active_bits=4, resolution=0.5)  # 21 buckets + 3
    assert (by_res.size, by_res.radius) == (24, 2.0)
    by_radius = ScalarEncoder(0, 10, active_bits=4, radius=4.0)  # resolution 1
    assert (by_radius.size, by_radius.resolution) == (14, 1.0)
    periodic = ScalarEncoder(0, 24, size=24, active_bits=3, periodic=True)
    assert (periodic.n_buckets, periodic.resolution, periodic.radius) == (24, 1.0, 3.0)
    # periodic resolution is corrected so that the buckets tile the period: 7 / 2 -> 4 buckets
    corrected = ScalarEncoder(0, 7, active_bits=2, resolution=2.0, periodic=True)
    assert (corrected.size, corrected.resolution) == (4, 1.75)


def test_scalar_config_is_frozen_and_mirrors_attributes():
    enc = ScalarEncoder(0, 10, active_bits=4, resolution=0.5)
    assert (enc.config.size, enc.config.resolution, enc.config.radius) == (24, 0.5, 2.0)
    with pytest.raises(AttributeError):
        enc.config.size = 3


def test_scalar_buckets_d_apart_share_w_minus_d_bits():
    enc = ScalarEncoder(0, 10, size=30, active_bits=6)  # resolution 10 / 24
    values = torch.arange(enc.n_buckets, dtype=torch.float64) * enc.resolution
    codes = enc(values)
    for d in range(1, 9):
        shared = codes[:-d].overlap(codes[d:])
        assert shared.tolist() == [max(0, 6 - d)] * (enc.n_buckets - d)


def test_scalar_multiples_of_resolution_snap_to_their_bucket():
    enc = ScalarEncoder(0, 1, size=13, active_bits=3)  # resolution 0.1
    assert enc.bucket_index(0.3) == 3
    assert enc.bucket_index(0.25) == 3  # 0.25 / 0.1 = 2.4999999999999996: half rounds up
    assert idx(enc(0.7)) == [7, 8, 9]


def test_scalar_out_of_range_raises_naming_value_and_range():
    enc = ScalarEncoder(0, 10, **TINY)
    with pytest.raises(ValueError, match=r"value = 10\.5 is outside .*\[0\.0, 10\.0\]"):
        enc(10.5)
    with pytest.raises(ValueError, match=r"value\[2\] = -1\.0 is outside"):
        enc([1.0, 2.0, -1.0])


def test_scalar_clip_input_clips_to_the_range_ends():
    enc = ScalarEncoder(0, 10, **TINY, clip_input=True)
    assert idx(enc(-3.0)) == [0, 1, 2, 3]
    assert idx(enc(1e9)) == [10, 11, 12, 13]


def test_scalar_periodic_block_wraps_and_near_max_overlaps_near_min():
    enc = ScalarEncoder(0, 24, size=24, active_bits=3, periodic=True)
    assert idx(enc(23.0)) == [0, 1, 23]
    assert int(enc(23.0).overlap(enc(0.0))) == 2
    assert int(enc(23.0).overlap(enc(1.0))) == 1
    assert int(enc(23.0).overlap(enc(12.0))) == 0


def test_scalar_periodic_wraps_out_of_period_values():
    enc = ScalarEncoder(0, 24, size=24, active_bits=3, periodic=True)
    assert enc(29.0) == enc(5.0)
    assert enc(-1.0) == enc(23.0)
    assert enc(24.0) == enc(0.0)


def test_scalar_nan_and_inf_raise_even_with_clip():
    enc = ScalarEncoder(0, 10, **TINY, clip_input=True)
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match=r"value = .* is not finite"):
            enc(bad)


def test_scalar_decode_recovers_bucket_value_even_with_noise():
    enc = ScalarEncoder(0, 10, size=40, active_bits=9)
    x = torch.tensor([0.0, 2.6, 7.1, 10.0], dtype=torch.float64)
    expected = enc.bucket_value(enc.bucket_index(x))
    assert torch.equal(enc.decode(enc(x)), expected)
    noisy = enc(x).add_noise(2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(enc.decode(noisy), expected, atol=2.5 * enc.resolution)
    per = ScalarEncoder(0, 24, size=24, active_bits=5, periodic=True)
    assert float(per.decode(per(23.0))) == 23.0


def test_scalar_encode_accepts_tensor_array_and_nd_shapes():
    enc = ScalarEncoder(0, 10, **TINY)
    grid = np.arange(6).reshape(2, 3)
    out = enc(grid)
    assert out.shape == (2, 3, 14)
    assert out[1, 2] == enc(5)
    assert enc(torch.tensor([1, 2])) == enc([1.0, 2.0])
    assert enc(np.float32(3.0)) == enc(3)


# --------------------------------------------------------------------------------------------
# RDSE
# --------------------------------------------------------------------------------------------


def test_rdse_hash_matches_published_splitmix64_vectors():
    # SplitMix64 started at state 0 outputs these (Vigna's reference implementation);
    # with seed 0, mix64(seed) = 0 so h(0, k) is its k-th output.
    assert splitmix64_hash(0, [1, 2, 3]).tolist() == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
    ]


@pytest.mark.parametrize("seed", [0, 42, 2**64 - 1])
def test_rdse_golden_encodings_match_independent_hash(seed):
    kw = dict(size=500, active_bits=11, resolution=0.5)
    enc = RDSE(**kw, seed=seed)
    for x in (0.0, 2.75, -7.25, 1234.5, -1e6):
        expected = ref_rdse_cells(x, size=500, w=11, resolution=0.5, seed=seed)
        assert idx(enc(x)) == expected, x


def test_rdse_same_seed_is_deterministic_across_instances():
    x = torch.linspace(-50, 50, 301)
    a = RandomDistributedScalarEncoder(size=400, active_bits=15, resolution=0.7, seed=7)
    b = RandomDistributedScalarEncoder(size=400, active_bits=15, resolution=0.7, seed=7)
    assert a(x) == b(x)


def test_rdse_different_seeds_give_different_codes():
    x = torch.arange(100.0)
    a = RDSE(size=400, active_bits=15, resolution=1.0, seed=1)(x)
    b = RDSE(size=400, active_bits=15, resolution=1.0, seed=2)(x)
    assert float(a.overlap(b).float().mean()) < 2.0  # chance level is 15**2 / 400 ~ 0.56


def test_rdse_shares_exactly_w_minus_d_hashed_cells_without_collisions():
    # n = 2**15 makes collisions and chance overlaps rare (~1 % of code pairs).
    w, n, count = 21, 2**15, 120
    enc = RDSE(size=n, active_bits=w, resolution=1.0, seed=3)
    base = enc(torch.arange(float(count)))
    exact = 0
    for d in range(0, w + 3):
        ov = base.overlap(enc(torch.arange(float(count)) + d))
        assert abs(float(ov.float().mean()) - max(0, w - d)) < 0.05
        exact += int((ov == max(0, w - d)).sum())
    assert exact >= 0.98 * count * (w + 3)


def test_rdse_mean_overlap_non_increasing_with_distance_and_chance_beyond_w():
    w, n = 21, 1000
    enc = RDSE(size=n, active_bits=w, resolution=1.0, seed=11)
    base_values = torch.linspace(-500.0, 500.0, 300, dtype=torch.float64) + 0.25
    base = enc(base_values)
    means = []
    for d in range(0, 2 * w + 1):
        means.append(float(base.overlap(enc(base_values + d)).float().mean()))
    assert all(a >= b for a, b in itertools.pairwise(means[: w + 1]))
    assert means[0] > means[1] > means[w // 2] > means[w - 1]
    chance = w * w / n  # ~0.44 cells
    for m in means[w:]:
        assert m < 3 * chance


def test_rdse_sparsity_close_to_requested():
    enc = RDSE(size=2000, sparsity=0.02, resolution=0.3, seed=5)
    assert enc.active_bits == 40
    counts = enc(torch.linspace(-1000, 1000, 1000)).active_count().double()
    expected = 2000 * (1 - (1 - 1 / 2000) ** 40)  # mean distinct cells of 40 hashed keys
    assert abs(float(counts.mean()) - expected) < 0.1
    assert int(counts.max()) == 40
    assert abs(float(counts.mean()) / 2000 - 0.02) < 0.0005


def test_rdse_bucket_is_floor_of_value_over_resolution_with_snapping():
    enc = RDSE(size=100, active_bits=5, resolution=0.1)
    assert enc.bucket_index([0.3, 0.7, -0.1, -0.05, 0.0999]).tolist() == [3, 7, -1, -1, 0]
    assert RDSE(size=100, active_bits=5, radius=2.5).resolution == 0.5


def test_rdse_category_mode_separates_integers_and_refuses_fractions():
    enc = RDSE(size=5000, active_bits=20, category=True, seed=9)
    codes = enc(torch.arange(30))
    ov = codes[:-1].overlap(codes[1:])
    assert float(ov.float().mean()) < 1.0  # no shared keys, chance only (20**2 / 5000)
    assert enc.bucket_index(3) == 60
    with pytest.raises(ValueError, match=r"value = 2\.5 is not an integer"):
        enc(2.5)


def test_rdse_huge_value_raises():
    enc = RDSE(size=100, active_bits=5, resolution=1e-3)
    with pytest.raises(ValueError, match=r"value = .* too large"):
        enc(1e300)


# --------------------------------------------------------------------------------------------
# CategoryEncoder
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [None, 123])
def test_category_different_categories_never_overlap(seed):
    labels = ["red", "green", "blue", 7, ("x", 1)]
    enc = CategoryEncoder(labels, active_bits=4, seed=seed)
    assert enc.size == 20
    codes = enc(labels)
    assert codes.active_count().tolist() == [4] * 5
    pair = codes.dense.long() @ codes.dense.long().T
    assert torch.equal(pair, 4 * torch.eye(5, dtype=torch.long))


def test_category_contiguous_blocks_in_listed_order():
    enc = CategoryEncoder(["cat", "dog", "fish"], active_bits=3)
    assert idx(enc("cat")) == [0, 1, 2]
    assert idx(enc("fish")) == [6, 7, 8]


def test_category_seed_scatters_cells_deterministically():
    a = CategoryEncoder(range(10), active_bits=5, seed=1)
    b = CategoryEncoder(range(10), active_bits=5, seed=1)
    assert a(3) == b(3)
    assert idx(a(0)) != [0, 1, 2, 3, 4]


def test_category_tuple_label_is_a_label_not_a_batch():
    enc = CategoryEncoder([("a", "b"), "a", "b"], active_bits=2)
    assert idx(enc(("a", "b"))) == [0, 1]
    assert enc(["a", "b"]).shape == (2, 6)


def test_category_unknown_label_raises_listing_known_ones():
    enc = CategoryEncoder([f"c{i}" for i in range(8)], active_bits=2)
    with pytest.raises(ValueError, match=r"value = 'zebra' is not a known .*'c0', .*and 3 more"):
        enc("zebra")
    with pytest.raises(ValueError, match=r"value\[1\] = 'zebra'"):
        enc(["c1", "zebra"])


def test_category_duplicates_refused():
    with pytest.raises(ValueError, match="categories holds the label 'a' twice"):
        CategoryEncoder(["a", "b", "a"], active_bits=2)
    with pytest.raises(ValueError, match=r"categories holds the label 1\.0 twice"):
        CategoryEncoder([1, 1.0], active_bits=2)


def test_category_decode_returns_best_matching_label():
    enc = CategoryEncoder(["a", "b", "c"], active_bits=4, seed=2)
    assert enc.decode(enc(["c", "a", "b"])) == ["c", "a", "b"]
    assert enc.decode(enc("b")) == "b"


# --------------------------------------------------------------------------------------------
# DateEncoder
# --------------------------------------------------------------------------------------------
SAT, SUN, MON = "2024-03-02", "2024-03-03", "2024-03-04"  # a weekend and the next Monday


def test_date_fields_in_documented_order_with_htm_default_sizes():
    enc = DateEncoder()
    assert list(enc.fields) == ["time_of_day", "day_of_week", "weekend"]
    # 24 h / (4 h / 21) = 126 cells; 7 d / (1 d / 21) = 147 cells; 2 * 21 weekend cells
    assert enc.fields["time_of_day"] == slice(0, 126)
    assert enc.fields["day_of_week"] == slice(126, 273)
    assert enc.fields["weekend"] == slice(273, 315)
    assert enc.size == 315
    assert list(DateEncoder(time_of_day=None).fields) == ["day_of_week", "weekend"]


def test_date_each_field_holds_its_own_encoding():
    enc = DateEncoder(time_of_day=5, time_of_day_radius=2.0, day_of_week=3, weekend=2)
    code = enc("2024-03-06T18:45:00").dense  # a Wednesday (weekday 2)
    tod = ScalarEncoder(0, 24, active_bits=5, radius=2.0, periodic=True)
    dow = ScalarEncoder(0, 7, active_bits=3, radius=1.0, periodic=True)
    assert torch.equal(code[enc.fields["time_of_day"]], tod(18.75).dense)
    assert torch.equal(code[enc.fields["day_of_week"]], dow(2 + 18.75 / 24).dense)
    assert code[enc.fields["weekend"]].tolist() == [True, True, False, False]  # not weekend


def test_date_saturday_and_sunday_are_weekend_monday_and_friday_evening_are_not():
    enc = DateEncoder(time_of_day=None, day_of_week=None, weekend=3)
    weekend_cells = [3, 4, 5]
    assert idx(enc(f"{SAT} 12:00")) == weekend_cells
    assert idx(enc(f"{SUN} 23:59")) == weekend_cells
    assert idx(enc(f"{MON} 00:00")) == [0, 1, 2]
    assert idx(enc("2024-03-01 21:00")) == [0, 1, 2]  # Friday evening: weekday here


def test_date_time_of_day_wraps_at_midnight():
    enc = DateEncoder(day_of_week=None, weekend=None)  # w = 21, radius 4 h: r = 4/21 h
    # 23:30 -> bucket floor(23.5 * 21/4 + 0.5) = 123; 00:30 -> 3; circular distance 6
    assert int(enc(f"{SAT}T23:30").overlap(enc(f"{SUN}T00:30"))) == 21 - 6
    assert int(enc(f"{SAT}T23:30").overlap(enc(f"{SUN}T12:00"))) == 0


def test_date_day_of_week_wraps_from_sunday_to_monday():
    enc = DateEncoder(time_of_day=None, weekend=None)
    assert int(enc(f"{SUN}T23:00").overlap(enc(f"{MON}T01:00"))) > 15
    assert int(enc(f"{MON}T12:00").overlap(enc("2024-03-07T12:00"))) == 0  # Thursday


def test_date_accepts_datetime_date_datetime64_and_strings():
    enc = DateEncoder()
    ref = enc(dt.datetime(2024, 3, 2, 14, 30))
    assert enc("2024-03-02T14:30:00") == ref
    assert enc(np.datetime64("2024-03-02T14:30")) == ref
    assert enc("2024-03-02T14:30:00Z") == ref  # wall clock used as given
    assert enc(dt.date(2024, 3, 2)) == enc("2024-03-02 00:00")


def test_date_batch_of_strings_equals_stacked_singles():
    enc = DateEncoder()
    days = [f"{SAT} 08:15", f"{SUN} 23:30", f"{MON} 00:30"]
    batch = enc(days)
    assert batch.shape == (3, 315)
    assert batch == SDR(torch.stack([enc(d).dense for d in days]))
    arr = np.array(["2024-03-02T08:15", "2024-03-04T00:30"], dtype="datetime64[m]")
    assert enc(arr) == SDR(torch.stack([enc(d).dense for d in (days[0], days[2])]))


def test_date_bad_string_raises_naming_the_argument():
    enc = DateEncoder()
    with pytest.raises(ValueError, match=r"value\[1\] = 'not a date' is not an ISO-8601"):
        enc([f"{SAT} 08:15", "not a date"])
    with pytest.raises(ValueError, match="value is NaT"):
        enc(np.datetime64("NaT", "s"))


# --------------------------------------------------------------------------------------------
# Shared behaviour
# --------------------------------------------------------------------------------------------
ENCODERS = {
    "scalar": (ScalarEncoder(0, 10, size=40, active_bits=5), [0.0, 3.3, 3.4, 9.9, 10.0]),
    "periodic": (ScalarEncoder(0, 1, size=30, active_bits=5, periodic=True), [0.0, 0.5, 0.99]),
    "rdse": (RDSE(size=300, active_bits=9, resolution=0.2, seed=4), [-3.0, 0.0, 0.1, 55.5]),
    "category": (CategoryEncoder(["a", "b", "c"], active_bits=4, seed=8), ["c", "a", "a"]),
    "date": (DateEncoder(), ["2024-01-01T00:00", "2024-06-15T13:37", "2023-12-31T23:59"]),
}


@pytest.mark.parametrize("kind", list(ENCODERS))
def test_batch_encoding_equals_stacked_single_encodings(kind):
    enc, values = ENCODERS[kind]
    batch = enc(values)
    assert batch.shape == (len(values), enc.size)
    for i, v in enumerate(values):
        single = enc.encode(v)
        assert single.shape == (enc.size,)
        assert batch[i] == single


@pytest.mark.parametrize("kind", list(ENCODERS))
def test_output_is_a_cpu_sdr_and_device_argument_moves_it(kind):
    enc, values = ENCODERS[kind]
    assert enc(values[0]).device.type == "cpu"
    assert enc(values, device="cpu").device.type == "cpu"
    if torch.cuda.is_available():
        assert enc(values, device="cuda").device.type == "cuda"


BAD_INPUTS = {
    "scalar": [
        (lambda: ScalarEncoder(0, 10, size=14, active_bits=14), ValueError, "active_bits=14"),
        (lambda: ScalarEncoder(0, 10, size=14, active_bits=0), ValueError, "active_bits"),
        (lambda: ScalarEncoder(0, 10, size=14, active_bits=2.5), TypeError, "active_bits"),
        (lambda: ScalarEncoder(0, 10, active_bits=3), ValueError, "size, resolution, radius"),
        (
            lambda: ScalarEncoder(0, 10, size=14, resolution=1.0, active_bits=3),
            ValueError,
            "exactly one of size, resolution",
        ),
        (lambda: ScalarEncoder(0, 10, radius=-1.0, active_bits=3), ValueError, "radius"),
        (lambda: ScalarEncoder(5, 5, size=14, active_bits=3), ValueError, "maximum"),
        (lambda: ScalarEncoder("0", 5, size=14, active_bits=3), TypeError, "minimum"),
        (lambda: ScalarEncoder(0, math.nan, size=14, active_bits=3), ValueError, "maximum"),
        (
            lambda: ScalarEncoder(0, 1, size=9, active_bits=3, periodic=True, clip_input=True),
            ValueError,
            "clip_input",
        ),
        (lambda: ScalarEncoder(0, 10, **TINY)("3"), TypeError, "value"),
        (lambda: ScalarEncoder(0, 10, **TINY)(True), TypeError, "value"),
        (lambda: ScalarEncoder(0, 10, **TINY)(math.nan), ValueError, "value"),
        (lambda: ScalarEncoder(0, 10, **TINY)([1.0, math.nan]), ValueError, r"value\[1\]"),
        (lambda: ScalarEncoder(0, 10, **TINY)(torch.ones(2, dtype=torch.bool)), TypeError, "value"),
    ],
    "rdse": [
        (lambda: RDSE(size=100, resolution=1.0), ValueError, "sparsity and active_bits"),
        (
            lambda: RDSE(size=100, sparsity=0.1, active_bits=3, resolution=1.0),
            ValueError,
            "sparsity and active_bits",
        ),
        (lambda: RDSE(size=100, active_bits=101, resolution=1.0), ValueError, "active_bits"),
        (lambda: RDSE(size=100, sparsity=0.001, resolution=1.0), ValueError, "sparsity"),
        (lambda: RDSE(size=1, active_bits=1, resolution=1.0), ValueError, "size"),
        (lambda: RDSE(size=100, active_bits=3), ValueError, "resolution, radius, category"),
        (
            lambda: RDSE(size=100, active_bits=3, resolution=1.0, radius=3.0),
            ValueError,
            "exactly one of resolution",
        ),
        (lambda: RDSE(size=100, active_bits=3, resolution=0.0), ValueError, "resolution"),
        (lambda: RDSE(size=100, active_bits=3, resolution=1.0, seed=-1), ValueError, "seed"),
        (lambda: RDSE(size=100, active_bits=3, resolution=1.0)(math.inf), ValueError, "value"),
        (lambda: RDSE(size=100, active_bits=3, resolution=1.0)(None), TypeError, "value"),
    ],
    "category": [
        (lambda: CategoryEncoder(["a", "a"], active_bits=2), ValueError, "categories"),
        (lambda: CategoryEncoder({"a", "b"}, active_bits=2), TypeError, "categories"),
        (lambda: CategoryEncoder("ab", active_bits=2), TypeError, "categories"),
        (lambda: CategoryEncoder([], active_bits=2), ValueError, "categories"),
        (lambda: CategoryEncoder(["a", ["b"]], active_bits=2), TypeError, r"categories\[1\]"),
        (lambda: CategoryEncoder(["a"], active_bits=0), ValueError, "active_bits"),
        (lambda: CategoryEncoder(["a"], active_bits=2, seed=-3), ValueError, "seed"),
        (lambda: CategoryEncoder(["a"], active_bits=2)("b"), ValueError, "value"),
    ],
    "date": [
        (
            lambda: DateEncoder(time_of_day=None, day_of_week=None, weekend=None),
            ValueError,
            "at least one field",
        ),
        (lambda: DateEncoder(time_of_day=0), ValueError, "time_of_day"),
        (lambda: DateEncoder(weekend=True), TypeError, "weekend"),
        (lambda: DateEncoder(time_of_day_radius=30.0), ValueError, "time_of_day_radius"),
        (lambda: DateEncoder(day_of_week_radius=0.0), ValueError, "day_of_week_radius"),
        (lambda: DateEncoder()("2024-13-45"), ValueError, "value"),
        (lambda: DateEncoder()(1700000000), TypeError, "value"),
    ],
}


@pytest.mark.parametrize(
    "kind, case",
    [(k, i) for k, cases in BAD_INPUTS.items() for i in range(len(cases))],
)
def test_bad_input_raises_naming_the_argument(kind, case):
    make, error, pattern = BAD_INPUTS[kind][case]
    with pytest.raises(error, match=pattern):
        make()

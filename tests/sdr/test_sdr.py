"""Behaviour of the SDR type: conversions, set algebra, random operations, bad input."""

from __future__ import annotations

import pytest
import torch

from dendrix.sdr import SDR


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -- conversions -----------------------------------------------------------------------------


def test_indices_come_back_sorted_whatever_the_input_order():
    x = SDR.from_indices([7, 1, 4], size=10)
    assert x.indices.tolist() == [1, 4, 7]
    assert x.dense.tolist() == [False, True, False, False, True, False, False, True, False, False]


def test_dense_and_index_forms_round_trip_for_a_ragged_batch():
    rows = [[0, 5, 9], [], [3]]
    x = SDR.from_indices(rows, size=10)
    assert x.batch_shape == (3,)
    assert [r.tolist() for r in x.indices] == rows
    assert SDR.from_dense(x.dense.clone()) == x


def test_two_dimensional_index_tensor_is_a_batch_with_one_row_per_sample():
    x = SDR.from_indices(torch.tensor([[1, 2], [2, 3]]), size=5)
    assert x.dense.tolist() == [
        [False, True, True, False, False],
        [False, False, True, True, False],
    ]


def test_active_count_and_sparsity_count_cells_per_sample():
    x = SDR.from_indices([[0, 1, 2, 3], [9]], size=20)
    assert x.active_count().tolist() == [4, 1]
    assert x.sparsity().tolist() == pytest.approx([0.2, 0.05])


def test_repr_names_size_batch_and_active_counts_even_for_an_empty_batch():
    assert repr(SDR.from_indices([[1, 2], [3]], 8)) == (
        "SDR(size=8, batch_shape=(2,), active=1..2, device=cpu)"
    )
    assert "empty batch" in repr(SDR.zeros(8, (0,)))


def test_concatenate_offsets_the_cells_of_later_fields():
    joined = SDR.concatenate([SDR.from_indices([1], 3), SDR.from_indices([0, 2], 4)])
    assert joined.size == 7
    assert joined.indices.tolist() == [1, 3, 5]


# -- set algebra -----------------------------------------------------------------------------


def test_overlap_counts_shared_active_cells():
    x = SDR.from_indices([1, 4, 7, 8], size=10)
    y = SDR.from_indices([4, 8, 9], size=10)
    assert int(x.overlap(y)) == 2


def test_union_and_intersection_are_set_union_and_intersection():
    x = SDR.from_indices([1, 4, 7], size=10)
    y = SDR.from_indices([4, 7, 9], size=10)
    z = SDR.from_indices([7, 0], size=10)
    assert x.union(y, z).indices.tolist() == [0, 1, 4, 7, 9]
    assert x.intersection(y, z).indices.tolist() == [7]


def test_operations_broadcast_one_sdr_against_a_batch():
    x = SDR.from_indices([1, 2, 3], size=6)
    batch = SDR.from_indices([[1, 2], [3, 4, 5], []], size=6)
    assert x.overlap(batch).tolist() == [2, 1, 0]
    assert [r.tolist() for r in x.union(batch).indices] == [[1, 2, 3], [1, 2, 3, 4, 5], [1, 2, 3]]


def test_an_sdr_is_never_modified_by_an_operation():
    x = SDR.from_indices([1, 2, 3], size=6)
    before = x.dense.clone()
    x.union(SDR.from_indices([5], 6))
    x.add_noise(2, generator=gen())
    x.subsample(1, generator=gen())
    assert torch.equal(x.dense, before)


# -- random operations -----------------------------------------------------------------------


def test_add_noise_moves_exactly_v_cells_and_keeps_the_count():
    x = SDR.from_indices([list(range(0, 400, 10)), list(range(5, 405, 10))], size=2048)
    for v in (0, 1, 13, 40):
        y = x.add_noise(v, generator=gen(v))
        assert y.active_count().tolist() == [40, 40]
        assert x.overlap(y).tolist() == [40 - v, 40 - v]


def test_add_noise_draws_replacements_uniformly_from_inactive_cells():
    # 10 active cells of 20; moving v = 5 puts each of the 10 inactive cells on with
    # probability 1/2. Over 4000 draws, each inactive cell's rate must be 0.5 +- 4 s.d.
    x = SDR.from_indices(list(range(10)), size=20)
    batch = SDR(x.dense.expand(4000, 20).clone())
    rates = batch.add_noise(5, generator=gen(1)).dense[:, 10:].double().mean(0)
    sd = (0.25 / 4000) ** 0.5
    assert torch.all((rates - 0.5).abs() < 4 * sd), rates


def test_subsample_keeps_exactly_k_cells_all_from_the_original():
    x = SDR.from_indices([[1, 3, 5, 7, 9], [0, 2, 4, 6, 8]], size=10)
    y = x.subsample(3, generator=gen())
    assert y.active_count().tolist() == [3, 3]
    assert y.overlap(x).tolist() == [3, 3]


def test_subsample_by_fraction_rounds_each_samples_count():
    x = SDR.from_indices([list(range(10)), list(range(4))], size=12)
    assert x.subsample(fraction=0.5, generator=gen()).active_count().tolist() == [5, 2]


def test_random_operations_repeat_with_the_same_seed_and_differ_with_another():
    x = SDR.from_indices(list(range(0, 200, 4)), size=200)
    a = x.add_noise(10, generator=gen(3))
    b = x.add_noise(10, generator=gen(3))
    c = x.add_noise(10, generator=gen(4))
    assert a == b
    assert a != c


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_sdr_matches_cpu_sdr():
    x = SDR.from_indices([[1, 5, 9, 30], [2, 3, 4, 31]], size=32)
    xc = x.to("cuda")
    assert xc.device.type == "cuda"
    assert xc.overlap(xc.union(SDR.from_indices([0], 32).to("cuda"))).tolist() == [4, 4]
    # a CPU generator drives a GPU SDR: same draws as on the CPU
    assert xc.add_noise(2, generator=gen(5)).to("cpu") == x.add_noise(2, generator=gen(5))


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: SDR.from_indices([1, 10], size=10), ValueError, "outside"),
        (lambda: SDR.from_indices([-1], size=10), ValueError, "outside"),
        (lambda: SDR.from_indices([2, 2], size=10), ValueError, "more than once"),
        (lambda: SDR.from_indices([[1], [3, 3]], size=10), ValueError, r"indices\[1\]"),
        (lambda: SDR.from_indices(torch.tensor([1.0, 2.0]), size=10), TypeError, "integer"),
        (lambda: SDR.from_indices([1.5], size=10), TypeError, "integers"),
        (lambda: SDR.from_indices([True], size=10), TypeError, "integers"),
        (lambda: SDR.from_indices([1], size=0), ValueError, "size"),
        (lambda: SDR.from_indices([1], size=2.0), TypeError, "size"),
        (lambda: SDR.from_indices("12", size=10), TypeError, "indices"),
        (lambda: SDR.from_indices(torch.zeros(2, 2, 2, dtype=torch.long), 10), ValueError, "2-D"),
        (lambda: SDR(torch.ones(4)), TypeError, "dense"),
        (lambda: SDR(torch.tensor(True)), ValueError, "dense"),
        (lambda: SDR([True, False]), TypeError, "dense"),
    ],
)
def test_bad_construction_is_refused_with_the_argument_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: x.overlap(SDR.from_indices([1], 11)), ValueError, "size"),
        (lambda x: x.union(torch.ones(10, dtype=torch.bool)), TypeError, "others"),
        (lambda x: x.add_noise(4, generator=gen()), ValueError, "v=4"),
        (lambda x: x.add_noise(-1, generator=gen()), ValueError, "v"),
        (lambda x: x.add_noise(1, generator=0), TypeError, "generator"),
        (lambda x: x.subsample(5, generator=gen()), ValueError, "k=5"),
        (lambda x: x.subsample(generator=gen()), ValueError, "k or fraction"),
        (lambda x: x.subsample(fraction=1.5, generator=gen()), ValueError, "fraction"),
        (lambda x: x.subsample(fraction=float("nan"), generator=gen()), ValueError, "fraction"),
    ],
)
def test_bad_operation_arguments_are_refused_with_the_argument_named(call, error, match):
    x = SDR.from_indices([1, 2, 3], size=10)
    with pytest.raises(error, match=match):
        call(x)


def test_batch_shapes_that_do_not_broadcast_are_refused():
    a = SDR.zeros(10, (3,))
    b = SDR.zeros(10, (2,))
    with pytest.raises(ValueError, match="batch shape"):
        a.overlap(b)

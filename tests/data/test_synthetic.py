"""The spike-timing task: classes differ only in relative timing, nothing else."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.data.synthetic import spike_timing_offsets, spike_timing_task
from dendrix.spiking.delays import DelayedLinear


def _task(num_samples=60, seed=0, **kwargs):
    kwargs.setdefault("num_inputs", 6)
    kwargs.setdefault("num_steps", 30)
    kwargs.setdefault("pattern_steps", 10)
    return spike_timing_task(num_samples, generator=torch.Generator().manual_seed(seed), **kwargs)


def test_shapes_dtypes_and_binary_spikes():
    x, labels = _task(num_classes=3)
    assert x.shape == (30, 60, 6) and x.dtype == torch.float32
    assert labels.shape == (60,) and labels.dtype == torch.int64
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert set(labels.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("num_classes", [2, 3, 5])
def test_every_input_fires_exactly_once_so_counts_are_identical_across_classes(num_classes):
    x, labels = _task(num_classes=num_classes)
    counts = x.sum(0)  # [N, n]
    assert torch.equal(counts, torch.ones_like(counts))
    # per class, the mean count of every input is the same (1)
    for c in range(num_classes):
        assert torch.equal(counts[labels == c].mean(0), torch.ones(6))


@pytest.mark.parametrize(("num_samples", "num_classes"), [(60, 2), (60, 3), (61, 4), (7, 2)])
def test_labels_are_balanced_and_shuffled(num_samples, num_classes):
    _, labels = _task(num_samples=num_samples, num_classes=num_classes)
    counts = torch.bincount(labels, minlength=num_classes)
    assert int(counts.sum()) == num_samples
    assert int(counts.max() - counts.min()) <= 1
    if num_samples >= 60:  # not the sorted cycle 0, 1, ..., C-1, 0, 1, ...
        assert not torch.equal(labels, torch.arange(num_samples) % num_classes)


def test_same_generator_seed_gives_the_same_data_and_another_seed_differs():
    x1, y1 = _task(seed=3)
    x2, y2 = _task(seed=3)
    x3, y3 = _task(seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not (torch.equal(x1, x3) and torch.equal(y1, y3))


def test_the_class_patterns_depend_on_pattern_seed_only():
    a = spike_timing_offsets(6, 3, 10, pattern_seed=0)
    assert torch.equal(a, spike_timing_offsets(6, 3, 10, pattern_seed=0))
    assert not torch.equal(a, spike_timing_offsets(6, 3, 10, pattern_seed=1))
    # a training set and a test set drawn with different generators share the patterns
    for seed in (0, 1):
        x, labels = _task(seed=seed, num_classes=3)
        times = x.argmax(0)  # [N, n] spike step of each input
        rel = times - times.min(dim=1, keepdim=True).values
        expected = a[labels] - a[labels].min(dim=1, keepdim=True).values
        assert torch.equal(rel, expected)


def test_offsets_are_permutations_of_one_set_of_distinct_values_one_per_class():
    o = spike_timing_offsets(5, 4, 12)
    assert o.shape == (4, 5) and o.dtype == torch.int64
    assert int(o.min()) >= 0 and int(o.max()) < 12
    assert len(set(o[0].tolist())) == 5  # distinct offsets
    assert all(sorted(row.tolist()) == sorted(o[0].tolist()) for row in o)
    assert len({tuple(row.tolist()) for row in o}) == 4  # every class its own order


def test_every_sample_is_its_class_pattern_shifted_by_one_random_in_range_amount():
    x, labels = _task(num_samples=200, num_classes=2)
    o = spike_timing_offsets(6, 2, 10)
    times = x.argmax(0)  # [N, n]
    shifts = times - o[labels]
    assert torch.equal(shifts, shifts[:, :1].expand_as(shifts))  # one common shift per sample
    assert int(shifts.min()) >= 0 and int(shifts.max()) <= 30 - 10
    assert len(set(shifts[:, 0].tolist())) > 10  # the shift really varies


def test_a_memoryless_network_summed_over_time_gives_the_same_output_for_every_sample():
    # sum_t f(x_t) = sum_i f(e_i) + (T - n) f(0) for any instantaneous f: the label is invisible
    x, labels = _task(num_samples=40, num_classes=2)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(6, 4, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    summed = torch.tanh(x.double() @ w + b).sum(0)  # [N, 4]
    expected = torch.tanh(w + b).sum(0) + (30 - 6) * torch.tanh(b)
    assert set(labels.tolist()) == {0, 1}  # both classes are in the batch
    torch.testing.assert_close(summed, expected.expand_as(summed), rtol=0, atol=1e-12)


def test_hand_wired_delays_turn_each_class_into_a_coincidence_and_classify_perfectly():
    num_classes, n, pattern = 3, 6, 10
    x, labels = _task(num_samples=90, num_classes=num_classes)
    o = spike_timing_offsets(n, num_classes, pattern)
    layer = DelayedLinear(n, num_classes, max_delay=pattern - 1).set_mode("rounded")
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.delay.copy_((pattern - 1 - o).float())  # d[c, i] = P - 1 - o_c[i]
        peak = layer(x).max(dim=0).values  # [N, C]
    rows = torch.arange(90)
    assert torch.equal(peak[rows, labels], torch.full((90,), float(n)))  # all n coincide
    others = peak.clone()
    others[rows, labels] = 0.0
    assert float(others.max()) < n
    assert torch.equal(peak.argmax(1), labels)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_classes": 1}, ValueError, "num_classes"),
        ({"num_inputs": 3, "num_classes": 7}, ValueError, "num_inputs! = 6"),
        ({"pattern_steps": 5}, ValueError, "pattern_steps"),
        ({"num_steps": 9}, ValueError, "num_steps"),
        ({"num_inputs": 1}, ValueError, "num_inputs"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        _task(**kwargs)


def test_the_generator_is_required():
    with pytest.raises(TypeError, match="generator"):
        spike_timing_task(4, generator=None)
    with pytest.raises(ValueError, match="num_samples"):
        spike_timing_task(0, generator=torch.Generator())


def test_as_many_classes_as_permutations_is_allowed():
    o = spike_timing_offsets(3, math.factorial(3), 3)
    assert len({tuple(row.tolist()) for row in o}) == 6


def test_docstring_examples_run():
    import dendrix.data.synthetic as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0

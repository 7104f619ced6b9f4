"""The same checks for every weight rule registered in ``dendrix.plasticity.base.RULES``."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import dendrix.plasticity  # noqa: F401  (registers every rule)
from dendrix.plasticity.base import RULES
from dendrix.plasticity.three_factor import ThreeFactor

NAMES = RULES.names()
N_IN, N_OUT, B = 5, 3, 4


def _activity(spec, g, batch=B, dtype=torch.float64):
    if spec.spiking:
        pre = (torch.rand(batch, N_IN, generator=g, dtype=dtype) < 0.4).to(dtype)
        post = (torch.rand(batch, N_OUT, generator=g, dtype=dtype) < 0.4).to(dtype)
    else:
        pre = torch.rand(batch, N_IN, generator=g, dtype=dtype)
        post = torch.rand(batch, N_OUT, generator=g, dtype=dtype)
    return pre, post


def _weight(g, dtype=torch.float64):
    return 0.4 + 0.2 * torch.rand(N_OUT, N_IN, generator=g, dtype=dtype)  # inside any bounds


def _run(spec, rule, steps, g, batch=B, dtype=torch.float64, weight=None):
    """A few steps of random activity; returns every ``dw`` (the weight held fixed)."""
    weight = _weight(g, dtype) if weight is None else weight
    state = rule.initial_state(weight, batch)
    updates = []
    for _ in range(steps):
        pre, post = _activity(spec, g, batch, dtype)
        extra = {"modulator": 0.5} if spec.modulated else {}
        dw, state = rule.update(pre, post, state, weight, **extra)
        updates.append(dw)
    return updates


def _with_reduce(rule, reduce):
    if isinstance(rule, ThreeFactor):
        return dataclasses.replace(rule, hebbian=dataclasses.replace(rule.hebbian, reduce=reduce))
    return dataclasses.replace(rule, reduce=reduce)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_updates_have_the_weight_shape_and_dtype_and_are_finite(name, dtype):
    spec = RULES[name]
    for dw in _run(spec, spec.build(), 10, torch.Generator().manual_seed(0), dtype=dtype):
        assert dw.shape == (N_OUT, N_IN) and dw.dtype == dtype
        assert bool(torch.isfinite(dw).all())


@pytest.mark.parametrize("name", NAMES)
def test_update_is_deterministic_and_writes_none_of_its_arguments(name):
    spec = RULES[name]
    rule, g = spec.build(), torch.Generator().manual_seed(1)
    weight = torch.nn.Parameter(_weight(g))
    state = rule.initial_state(weight, B)
    extra = {"modulator": 1.0} if spec.modulated else {}
    for _ in range(3):  # move the state away from its initial value
        pre, post = _activity(spec, g)
        _, state = rule.update(pre, post, state, weight, **extra)
    pre, post = _activity(spec, g)
    snapshot = [t.detach().clone() for t in (weight, pre, post)]
    first, _ = rule.update(pre, post, state, weight, **extra)
    second, _ = rule.update(pre, post, state, weight, **extra)
    assert torch.equal(first, second)
    for before, after in zip(snapshot, (weight, pre, post), strict=True):
        assert torch.equal(before, after.detach())
    assert not first.requires_grad


@pytest.mark.parametrize("name", NAMES)
def test_no_activity_gives_no_update(name):
    spec = RULES[name]
    rule, weight = spec.build(), _weight(torch.Generator().manual_seed(2))
    extra = {"modulator": 1.0} if spec.modulated else {}
    dw, _ = rule.update(torch.zeros(B, N_IN), torch.zeros(B, N_OUT), None, weight.float(), **extra)
    assert dw.abs().max().item() == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_sum_reduction_is_batch_size_times_the_mean(name):
    spec = RULES[name]
    rule = spec.build()
    weight = _weight(torch.Generator().manual_seed(3))
    mean = _run(
        spec, _with_reduce(rule, "mean"), 6, torch.Generator().manual_seed(4), weight=weight
    )
    summed = _run(
        spec, _with_reduce(rule, "sum"), 6, torch.Generator().manual_seed(4), weight=weight
    )
    for m, s in zip(mean, summed, strict=True):
        torch.testing.assert_close(s, B * m, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_state_none_starts_from_the_initial_state(name):
    spec = RULES[name]
    rule, g = spec.build(), torch.Generator().manual_seed(5)
    weight = _weight(g)
    pre, post = _activity(spec, g)
    extra = {"modulator": 1.0} if spec.modulated else {}
    a, _ = rule.update(pre, post, None, weight, **extra)
    b, _ = rule.update(pre, post, rule.initial_state(weight, B), weight, **extra)
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_a_layer_of_the_wrong_size_is_refused(name):
    spec = RULES[name]
    rule, weight = spec.build(), torch.ones(N_OUT, N_IN)
    extra = {"modulator": 1.0} if spec.modulated else {}
    with pytest.raises(ValueError, match=f"n_in={N_IN}"):
        rule.update(torch.zeros(B, N_IN + 1), torch.zeros(B, N_OUT), None, weight, **extra)
    with pytest.raises(ValueError, match=f"n_out={N_OUT}"):
        rule.update(torch.zeros(B, N_IN), torch.zeros(B, N_OUT + 2), None, weight, **extra)
    bad = torch.zeros(B, N_IN)
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        rule.update(bad, torch.zeros(B, N_OUT), None, weight, **extra)

"""Recipe ``hlop-pmnist``: the projected update protects old inputs; ACC/BWT bookkeeping."""

from __future__ import annotations

import pytest
import torch

from dendrix.plasticity import HLOP
from dendrix.recipes.hlop_pmnist import (
    HLOPConfig,
    _acc_bwt,
    _permutations,
    init_network,
    orthonormal_state,
    shared_update,
)


def _stored_subspace(hlop: HLOP, gen: torch.Generator, k: int = 30):
    state = hlop.initial_state(784, dtype=torch.float64)
    state = hlop.add_subspace(state, k, generator=gen)
    return state._replace(h=state.h + torch.randn(k, 784, generator=gen, dtype=torch.float64))


def test_projected_update_leaves_old_hidden_activations_unchanged():
    gen = torch.Generator().manual_seed(0)
    hlop = HLOP()
    w, _, _ = init_network(HLOPConfig(hidden=64, tasks=2), gen)
    w = w.double()
    state = _stored_subspace(hlop, gen)
    basis = orthonormal_state(state)
    x_old = torch.rand(16, 30, generator=gen, dtype=torch.float64) @ state.h  # in the subspace
    x_new = torch.rand(32, 784, generator=gen, dtype=torch.float64)
    grad_pre = torch.randn(32, 64, generator=gen, dtype=torch.float64)
    before = torch.relu(x_old @ w.T)
    projected = w - 0.5 * shared_update(grad_pre, x_new, hlop, basis)
    torch.testing.assert_close(torch.relu(x_old @ projected.T), before, atol=1e-5, rtol=0)
    plain = w - 0.5 * shared_update(grad_pre, x_new, hlop, None)
    assert (torch.relu(x_old @ plain.T) - before).abs().max() > 1e-2
    # the same as projecting the gradient itself with HLOP.project
    torch.testing.assert_close(
        shared_update(grad_pre, x_new, hlop, basis),
        hlop.project(grad_pre.T @ x_new, state, orthonormalize=True),
    )


def test_acc_and_bwt_from_the_accuracy_matrix():
    r = torch.tensor([[90.0, 0.0, 0.0], [88.0, 92.0, 0.0], [86.0, 91.0, 94.0]])
    acc, bwt = _acc_bwt(r)
    assert acc == pytest.approx((86.0 + 91.0 + 94.0) / 3)
    assert bwt == pytest.approx(((86.0 - 90.0) + (91.0 - 92.0)) / 2)


def test_permutations_are_seeded_and_task_zero_is_plain_mnist():
    a, b = _permutations(HLOPConfig(tasks=3)), _permutations(HLOPConfig(tasks=3))
    assert torch.equal(a[0], torch.arange(784))
    for p, q in zip(a, b, strict=True):
        assert torch.equal(p, q)
        assert torch.equal(p.sort().values, torch.arange(784))
    assert not torch.equal(a[1], a[2])

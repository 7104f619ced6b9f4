"""HLOP: Hebbian subspace neurons and the orthogonal projection, one behaviour per test."""

from __future__ import annotations

import doctest

import pytest
import torch

from dendrix.plasticity import HLOP, HLOPState

F32 = torch.float32


def _orthonormal_rows(k, n, g, dtype=F32):
    q, _ = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=torch.float64))
    return q.T.to(dtype)


def _task_inputs(basis, batch, g):
    """``[batch, n]`` inputs lying exactly in the row space of ``basis`` ``[k, n]``."""
    return torch.randn(batch, basis.shape[0], generator=g, dtype=basis.dtype) @ basis


def _learn(hlop, state, basis, steps, g, batch=16):
    for _ in range(steps):
        state = hlop.learn(_task_inputs(basis, batch, g), state)
    return state


def test_a_projected_update_leaves_old_task_outputs_unchanged():
    g = torch.Generator().manual_seed(0)
    h = _orthonormal_rows(3, 10, g)
    state = HLOPState(h=h, n_frozen=3)
    w_old = torch.randn(4, 10, generator=g)
    dw = torch.randn(4, 10, generator=g)
    w_new = w_old + HLOP().project(dw, state)
    x_old = _task_inputs(h, 50, g)
    assert (x_old @ w_new.T - x_old @ w_old.T).abs().max().item() < 1e-5
    assert (x_old @ (w_old + dw).T - x_old @ w_old.T).abs().max().item() > 0.1  # unprojected


def test_projected_traces_give_the_same_update_as_projecting_the_update():
    g = torch.Generator().manual_seed(1)
    state = HLOPState(h=_orthonormal_rows(2, 6, g, torch.float64), n_frozen=2)
    x = torch.randn(5, 6, generator=g, dtype=torch.float64)
    delta = torch.randn(5, 3, generator=g, dtype=torch.float64)
    hlop = HLOP()
    from_traces = delta.T @ hlop.project_input(x, state)  # delta (x - H^T H x)^T
    projected = hlop.project(delta.T @ x, state)
    torch.testing.assert_close(from_traces, projected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        hlop.project_input(x, state) @ state.h.T, torch.zeros(5, 2, dtype=torch.float64)
    )


def test_subspace_neurons_learn_the_task_subspace_and_protect_it():
    g = torch.Generator().manual_seed(2)
    basis_1 = _orthonormal_rows(2, 8, g)
    hlop = HLOP(eta=0.05)
    state = hlop.add_subspace(hlop.initial_state(8), 2, generator=g)
    state = _learn(hlop, state, basis_1, 600, g)
    # learned rows: orthonormal, spanning task 1's inputs
    torch.testing.assert_close(state.h @ state.h.T, torch.eye(2), atol=1e-5, rtol=0)
    # a new task's delta-rule training, every update projected, keeps old outputs
    w_old = torch.randn(3, 8, generator=g)
    w = w_old.clone()
    x_new = torch.randn(64, 8, generator=g)
    target = torch.randn(64, 3, generator=g)
    for _ in range(100):
        # broadcast products: tiny matmuls can stall in a threaded BLAS on a busy machine
        error = target - (x_new[:, None, :] * w).sum(-1)  # [64, 3]
        dw = 0.05 * (error[:, :, None] * x_new[:, None, :]).mean(0)  # [3, 8]
        w += hlop.project(dw, state)
    x_old = _task_inputs(basis_1, 200, g)
    assert (x_old @ w.T - x_old @ w_old.T).abs().max().item() < 1e-5
    assert (x_new @ w.T - target).square().mean() < (x_new @ w_old.T - target).square().mean()


def test_after_adding_a_task_subspace_the_old_neurons_are_frozen():
    g = torch.Generator().manual_seed(3)
    basis = _orthonormal_rows(4, 10, g)
    basis_1, basis_2 = basis[:2], basis[2:]
    hlop = HLOP(eta=0.05)
    state = _learn(hlop, hlop.add_subspace(hlop.initial_state(10), 2, generator=g), basis_1, 600, g)
    old = state.h.clone()
    state = hlop.add_subspace(state, 2, generator=g)
    assert state.n_frozen == 2 and state.h.shape == (4, 10)
    start_new = state.h[2:].clone()
    # task 2 mixes old and new directions; the new neurons learn only what the old don't explain
    mixed = torch.cat([basis_1, basis_2])
    state = _learn(hlop, state, mixed, 600, g)
    assert torch.equal(state.h[:2], old)
    assert not torch.allclose(state.h[2:], start_new)
    torch.testing.assert_close(state.h[:2] @ state.h[2:].T, torch.zeros(2, 2), atol=1e-4, rtol=0)
    cosines = torch.linalg.svdvals(torch.linalg.qr(state.h.T)[0].T @ mixed.T)
    assert float(cosines.min()) > 0.999


def test_learning_with_every_neuron_frozen_changes_nothing():
    g = torch.Generator().manual_seed(4)
    state = HLOPState(h=torch.randn(2, 5, generator=g), n_frozen=2)
    assert HLOP().learn(torch.randn(3, 5, generator=g), state) is state


def test_orthonormalize_projects_exactly_even_when_rows_are_not_orthonormal():
    g = torch.Generator().manual_seed(5)
    h = torch.randn(2, 6, generator=g, dtype=torch.float64)  # full rank, not orthonormal
    state = HLOPState(h=h, n_frozen=2)
    dw = torch.randn(3, 6, generator=g, dtype=torch.float64)
    x_old = _task_inputs(h, 20, g)
    exact = HLOP().project(dw, state, orthonormalize=True)
    naive = HLOP().project(dw, state)
    assert (x_old @ exact.T).abs().max().item() < 1e-10
    assert (x_old @ naive.T).abs().max().item() > 1e-3


def test_an_empty_subspace_projects_nothing():
    hlop = HLOP()
    state = hlop.initial_state(4)
    dw = torch.ones(2, 4)
    assert torch.equal(hlop.project(dw, state), dw)
    assert torch.equal(hlop.project_input(dw, state), dw)
    assert hlop.response(dw, state).shape == (2, 0)


def test_projected_gradients_compose_with_an_optimiser():
    g = torch.Generator().manual_seed(6)
    h = _orthonormal_rows(3, 8, g)
    state = HLOPState(h=h, n_frozen=3)
    layer = torch.nn.Linear(8, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(2, 8, generator=g))
    before = layer.weight.detach().clone()
    optimiser = torch.optim.SGD(layer.parameters(), lr=0.1)
    x, y = torch.randn(16, 8, generator=g), torch.randn(16, 2, generator=g)
    for _ in range(20):
        optimiser.zero_grad()
        torch.nn.functional.mse_loss(layer(x), y).backward()
        layer.weight.grad = HLOP().project(layer.weight.grad, state)
        optimiser.step()
    x_old = _task_inputs(h, 30, g)
    with torch.no_grad():
        assert (layer(x_old) - x_old @ before.T).abs().max().item() < 1e-5


# -- bad input ----------------------------------------------------------------------------------
def test_mismatched_shapes_are_refused():
    hlop = HLOP()
    state = HLOPState(h=torch.zeros(2, 5), n_frozen=0)
    with pytest.raises(ValueError, match="n_in=5"):
        hlop.project(torch.zeros(3, 4), state)
    with pytest.raises(ValueError, match="n_in=5"):
        hlop.learn(torch.zeros(3, 6), state)
    with pytest.raises(ValueError, match="dimension"):
        hlop.project_input(torch.zeros(5), state)
    with pytest.raises(ValueError, match="n_frozen"):
        hlop.learn(torch.zeros(1, 5), HLOPState(h=torch.zeros(2, 5), n_frozen=3))
    with pytest.raises(TypeError, match="HLOPState"):
        hlop.learn(torch.zeros(1, 5), torch.zeros(2, 5))


def test_nan_activity_is_refused():
    state = HLOPState(h=torch.zeros(1, 3), n_frozen=0)
    with pytest.raises(ValueError, match="NaN"):
        HLOP().learn(torch.tensor([[1.0, float("nan"), 0.0]]), state)


def test_adding_subspaces_is_checked():
    hlop, g = HLOP(), torch.Generator().manual_seed(0)
    state = hlop.initial_state(3)
    with pytest.raises(ValueError, match="at most 3"):
        hlop.add_subspace(state, 4, generator=g)
    with pytest.raises(ValueError, match="k must be"):
        hlop.add_subspace(state, 0, generator=g)
    with pytest.raises(TypeError, match="generator"):
        hlop.add_subspace(state, 1, generator=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_in"):
        hlop.initial_state(0)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="eta"):
        HLOP(eta=-1.0)
    with pytest.raises(ValueError, match="init_std"):
        HLOP(init_std=0.0)
    with pytest.raises(ValueError, match="reduce"):
        HLOP(reduce="max")


def test_docstring_examples_run():
    import dendrix.plasticity.projection as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

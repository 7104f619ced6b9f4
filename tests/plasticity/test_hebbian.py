"""Rate-based Hebbian rules, one rule per test: hand values and convergence on known inputs."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.plasticity import BCM, AntiHebbian, BCMState, Hebb, Oja, OjaSubspace

D = torch.float64


def _samples(factor, batch, g):
    """``[batch, n]`` zero-mean Gaussian samples with covariance ``factor @ factor.T``."""
    return torch.randn(batch, factor.shape[0], generator=g, dtype=D) @ factor.T


def _equilibrium(h, lateral):
    """Outputs ``y = h + L y`` of a 2-neuron layer: ``h (I - L)^{-T}``, inverted by hand."""
    (a, b), (c, d) = (1 - lateral[0, 0], -lateral[0, 1]), (-lateral[1, 0], 1 - lateral[1, 1])
    inverse = torch.stack([torch.stack([d, -b]), torch.stack([-c, a])]) / (a * d - b * c)
    return h @ inverse.T


def _train(rule, weight, cov, steps, g, batch=16):
    factor = torch.linalg.cholesky(cov)
    for _ in range(steps):
        x = _samples(factor, batch, g)
        dw, _ = rule.update(x, x @ weight.T, None, weight)
        weight = weight + dw
    return weight


# -- Hebb ---------------------------------------------------------------------------------------
def test_hebb_adds_eta_times_post_times_pre_averaged_over_the_batch():
    pre = torch.tensor([[1.0, 2.0], [3.0, 0.0]], dtype=D)
    post = torch.tensor([[1.0], [2.0]], dtype=D)
    dw, state = Hebb(eta=0.1).update(pre, post, None, torch.zeros(1, 2, dtype=D))
    assert state is None
    assert dw[0].tolist() == pytest.approx([0.1 * (1 + 6) / 2, 0.1 * 2 / 2], rel=1e-12)
    dw, _ = Hebb(eta=0.1, reduce="sum").update(pre, post, None, torch.zeros(1, 2, dtype=D))
    assert dw[0].tolist() == pytest.approx([0.7, 0.2], rel=1e-12)


# -- Oja ----------------------------------------------------------------------------------------
def test_oja_update_is_y_times_x_minus_y_w():
    w = torch.tensor([[0.5, 0.1]], dtype=D)
    x = torch.tensor([[2.0, -1.0]], dtype=D)
    y = x @ w.T  # 0.9
    dw, _ = Oja(eta=0.1).update(x, y, None, w)
    assert dw[0].tolist() == pytest.approx([0.1 * 0.9 * (2 - 0.9 * 0.5), 0.1 * 0.9 * (-1 - 0.09)])


def test_oja_converges_to_the_unit_first_principal_component_of_a_known_covariance():
    g = torch.Generator().manual_seed(0)
    cov = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=D)  # PC1 ~ (1, (sqrt(5) - 1) / 2)
    pc1 = torch.tensor([1.0, (math.sqrt(5) - 1) / 2], dtype=D)
    pc1 = pc1 / pc1.norm()
    w = _train(Oja(eta=0.005), 0.1 * torch.randn(1, 2, generator=g, dtype=D), cov, 2000, g)
    assert abs(float(w[0] @ pc1) / float(w.norm())) > 0.99
    assert float(w.norm()) == pytest.approx(1.0, abs=0.02)


# -- subspace rule ------------------------------------------------------------------------------
def test_subspace_rule_with_one_output_is_oja():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(1, 4, generator=g, dtype=D)
    x = torch.randn(5, 4, generator=g, dtype=D)
    a, _ = OjaSubspace(eta=0.01).update(x, x @ w.T, None, w)
    b, _ = Oja(eta=0.01).update(x, x @ w.T, None, w)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


def test_subspace_rule_spans_the_top_k_principal_subspace_with_orthonormal_rows():
    g = torch.Generator().manual_seed(2)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g, dtype=D))
    cov = q @ torch.diag(torch.tensor([5.0, 4.0, 1.0, 0.5, 0.2], dtype=D)) @ q.T
    h = _train(OjaSubspace(eta=0.005), 0.1 * torch.randn(2, 5, generator=g, dtype=D), cov, 3000, g)
    basis, _ = torch.linalg.qr(h.T)  # orthonormal basis of the learned row space
    cosines = torch.linalg.svdvals(basis.T @ q[:, :2])  # cosines of the principal angles
    assert float(cosines.min()) > 0.99
    torch.testing.assert_close(h @ h.T, torch.eye(2, dtype=D), atol=0.02, rtol=0)


# -- BCM ----------------------------------------------------------------------------------------
def test_bcm_threshold_tracks_the_mean_of_y_squared():
    rule = BCM(eta=0.0, tau_theta=10e-3, dt=1e-3)
    w = torch.zeros(1, 1, dtype=D)
    x, y = torch.ones(1, 1, dtype=D), torch.full((1, 1), 2.0, dtype=D)
    state = rule.initial_state(w)
    for _ in range(5):
        _, state = rule.update(x, y, state, w)
    rho = math.exp(-0.1)
    assert state.theta.item() == pytest.approx(4.0 * (1 - rho**5), rel=1e-12)
    g = torch.Generator().manual_seed(3)
    for _ in range(3000):  # random y with E[y^2] = 1 + 0.5^2
        y = 0.5 + torch.randn(8, 1, generator=g, dtype=D)
        _, state = rule.update(x.expand(8, 1), y, state, w)
    slow = BCM(eta=0.0, tau_theta=1.0, dt=1e-3)
    state = slow.initial_state(w)
    for _ in range(3000):
        y = 0.5 + torch.randn(8, 1, generator=g, dtype=D)
        _, state = slow.update(x.expand(8, 1), y, state, w)
    assert state.theta.item() == pytest.approx(1.25, rel=0.05)


def test_bcm_potentiates_above_the_threshold_and_depresses_below_it():
    rule = BCM(eta=0.1, tau_theta=1.0, dt=1e-3)
    w = torch.zeros(1, 2, dtype=D)
    x = torch.tensor([[1.0, 0.5]], dtype=D)
    state = BCMState(theta=torch.tensor([1.0], dtype=D))
    up, _ = rule.update(x, torch.tensor([[2.0]], dtype=D), state, w)
    down, _ = rule.update(x, torch.tensor([[0.5]], dtype=D), state, w)
    assert up[0].tolist() == pytest.approx([0.1 * 2 * 1 * 1, 0.1 * 2 * 1 * 0.5])
    assert down[0].tolist() == pytest.approx([0.1 * 0.5 * -0.5, 0.1 * 0.5 * -0.5 * 0.5])


# -- anti-Hebbian -------------------------------------------------------------------------------
def test_anti_hebbian_lateral_weights_decorrelate_the_outputs():
    g = torch.Generator().manual_seed(4)
    cov = torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=D)
    factor = torch.linalg.cholesky(cov)
    lateral, rule = torch.zeros(2, 2, dtype=D), AntiHebbian(eta=0.03)
    for _ in range(600):
        y = _equilibrium(_samples(factor, 32, g), lateral)
        dl, _ = rule.update(y, y, None, lateral)
        lateral = lateral + dl
    y = _equilibrium(_samples(factor, 20000, g), lateral)
    assert abs(float(torch.corrcoef(y.T)[0, 1])) < 0.1
    assert lateral.diagonal().abs().max().item() == 0.0


def test_anti_hebbian_update_is_minus_eta_times_y_y_minus_target_with_a_zero_diagonal():
    y = torch.tensor([[1.0, 2.0]], dtype=D)
    dw, _ = AntiHebbian(eta=0.5, target=0.25).update(y, y, None, torch.zeros(2, 2, dtype=D))
    assert dw.tolist() == [[0.0, -0.5 * (2 - 0.25)], [-0.5 * (2 - 0.25), 0.0]]


# -- bad input ----------------------------------------------------------------------------------
RULES = [Hebb(), Oja(), OjaSubspace(), BCM(), AntiHebbian()]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: type(r).__name__)
def test_mismatched_shapes_between_layer_and_rule_are_refused(rule):
    w = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="n_in=4"):
        rule.update(torch.zeros(2, 5), torch.zeros(2, 3), None, w)
    with pytest.raises(ValueError, match="n_out=3"):
        rule.update(torch.zeros(2, 4), torch.zeros(2, 2), None, w)
    with pytest.raises(ValueError, match="same batch size"):
        rule.update(torch.zeros(2, 4), torch.zeros(3, 3), None, w)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: type(r).__name__)
def test_nan_activity_is_refused(rule):
    pre = torch.zeros(2, 4)
    pre[1, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        rule.update(pre, torch.zeros(2, 3), None, torch.zeros(3, 4))


@pytest.mark.parametrize("cls", [Hebb, Oja, OjaSubspace, BCM, AntiHebbian])
def test_negative_learning_rates_and_unknown_reductions_are_refused(cls):
    with pytest.raises(ValueError, match="eta"):
        cls(eta=-0.1)
    with pytest.raises(ValueError, match="reduce"):
        cls(reduce="median")


def test_stateless_rules_refuse_a_state_and_bcm_refuses_a_state_of_another_layer():
    with pytest.raises(TypeError, match="state=None"):
        Oja().update(
            torch.zeros(1, 2), torch.zeros(1, 1), BCMState(torch.zeros(1)), torch.zeros(1, 2)
        )
    with pytest.raises(ValueError, match=r"state\.theta"):
        BCM().update(
            torch.zeros(1, 2), torch.zeros(1, 1), BCMState(torch.zeros(3)), torch.zeros(1, 2)
        )


@pytest.mark.parametrize("tau", [0.0, -1.0])
def test_bcm_refuses_non_positive_time_constants(tau):
    with pytest.raises(ValueError, match="tau_theta"):
        BCM(tau_theta=tau)


def test_anti_hebbian_refuses_a_negative_target():
    with pytest.raises(ValueError, match="target"):
        AntiHebbian(target=-0.1)


def test_docstring_examples_run():
    import dendrix.plasticity.hebbian as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

"""Behavioural tests for active dendrites, task prototypes and synaptic intelligence."""

from __future__ import annotations

import copy
import doctest
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dendrix.dendrites.active import (
    GATINGS,
    ActiveDendrites,
    DendriticMLP,
    PrototypeContext,
    SynapticIntelligence,
    active_dendrites,
    dendrite_activations,
    dendritic_gate,
    nearest_prototype,
    select_segment,
    si_consolidate,
    si_path_step,
    si_penalty,
)
from dendrix.dendrites.sparse import SparseWeights


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


# ------------------------------------------------------------------------------------------
# Gating
# ------------------------------------------------------------------------------------------


def _one_unit(d_values: list[float], gating: str) -> float:
    """Output of one unit with drive y = 3 and segment activations d (context c = 1)."""
    segments = torch.tensor(d_values).view(1, -1, 1)  # [N=1, K, C=1]
    out = active_dendrites(
        torch.ones(1, 1), torch.ones(1), torch.full((1, 1), 3.0), None, segments, gating
    )
    return float(out)


def test_absmax_gating_picks_the_largest_magnitude_segment_and_keeps_its_sign():
    assert _one_unit([0.5, -2.0, 1.0], "absmax") == pytest.approx(3.0 * _sigmoid(-2.0))
    assert _one_unit([0.5, 2.0, -1.0], "absmax") == pytest.approx(3.0 * _sigmoid(2.0))


def test_absmax_ties_go_to_the_lowest_segment_index():
    assert _one_unit([2.0, -2.0], "absmax") == pytest.approx(3.0 * _sigmoid(2.0))
    assert _one_unit([-2.0, 2.0], "absmax") == pytest.approx(3.0 * _sigmoid(-2.0))


def test_max_and_mean_gating_variants():
    assert _one_unit([0.5, -2.0, 1.0], "max") == pytest.approx(3.0 * _sigmoid(1.0))
    assert _one_unit([0.5, -2.0, 1.0], "mean") == pytest.approx(3.0 * _sigmoid(-0.5 / 3))


def test_segment_activations_are_dot_products_with_the_context():
    segments = torch.tensor([[[1.0, 2.0], [0.0, -1.0]], [[3.0, 0.0], [1.0, 1.0]]])  # [2, 2, 2]
    d = dendrite_activations(torch.tensor([[1.0, 1.0], [2.0, 0.0]]), segments)
    assert d.tolist() == [[[3.0, -1.0], [3.0, 2.0]], [[2.0, 0.0], [6.0, 2.0]]]


@pytest.mark.parametrize("gating", GATINGS)
def test_context_alone_with_zero_feedforward_gives_zero(gating):
    layer = ActiveDendrites(5, 7, num_segments=3, context_dim=4, gating=gating, generator=_gen())
    with torch.no_grad():
        layer.feedforward.weight.zero_()
        layer.feedforward.bias.zero_()
    out = layer(torch.randn(6, 5, generator=_gen(1)), 10.0 * torch.randn(6, 4, generator=_gen(2)))
    assert torch.equal(out, torch.zeros(6, 7))


def test_zero_input_without_bias_gives_zero_whatever_the_context():
    layer = ActiveDendrites(5, 7, num_segments=3, context_dim=4, bias=False, generator=_gen())
    assert torch.equal(
        layer(torch.zeros(3, 5), torch.randn(3, 4, generator=_gen(1))), torch.zeros(3, 7)
    )


def test_gradient_reaches_only_the_selected_segment():
    segments = torch.tensor([[[0.5], [-2.0], [1.0]]], requires_grad=True)  # [1, 3, 1]
    out = active_dendrites(torch.ones(1, 1), torch.ones(1), torch.ones(1, 1), None, segments)
    out.sum().backward()
    grad = segments.grad.flatten().tolist()
    assert grad[0] == 0.0 and grad[2] == 0.0
    assert grad[1] == pytest.approx(_sigmoid(-2.0) * (1 - _sigmoid(-2.0)))


@pytest.mark.parametrize("gating", GATINGS)
def test_module_equals_functional_and_a_shared_context_equals_a_repeated_one(gating):
    layer = ActiveDendrites(
        6, 9, num_segments=4, context_dim=5, gating=gating, weight_density=0.5, generator=_gen()
    )
    x, c = torch.randn(3, 6, generator=_gen(1)), torch.randn(5, generator=_gen(2))
    expected = active_dendrites(
        x, c, layer.feedforward_weight(), layer.feedforward.module.bias, layer.segments, gating
    )
    assert torch.allclose(layer(x, c), expected)
    assert torch.allclose(layer(x, c), layer(x, c.expand(3, 5)), atol=1e-6)
    manual = dendritic_gate(
        F.linear(x, layer.feedforward_weight(), layer.feedforward.module.bias),
        torch.einsum("c,nkc->nk", c, layer.segments),  # [N, K]
        gating,
    )
    assert torch.allclose(layer(x, c), manual, atol=1e-6)


def test_kwinners_after_the_gate_keeps_exactly_k_units():
    layer = ActiveDendrites(8, 40, num_segments=2, context_dim=3, percent_on=0.1, generator=_gen())
    out = layer(torch.randn(5, 8, generator=_gen(1)), torch.randn(5, 3, generator=_gen(2)))
    assert (out != 0).sum(dim=1).tolist() == [4] * 5


def test_sparse_feedforward_weights_have_the_requested_density():
    layer = ActiveDendrites(20, 10, num_segments=2, context_dim=3, weight_density=0.5)
    assert isinstance(layer.feedforward, SparseWeights)
    assert (layer.feedforward_weight() != 0).sum(dim=1).tolist() == [10] * 10


def test_the_context_selects_a_subnetwork_that_solves_conflicting_tasks():
    # task 0: label = [x0 > 0]; task 1: the opposite label for the same inputs. A network
    # without context cannot beat 50 %; the task's (one-hot) context lets dendrites switch units.
    g = _gen(3)
    x = torch.randn(128, 4, generator=g)
    labels = [(x[:, 0] > 0).long(), (x[:, 0] <= 0).long()]
    net = DendriticMLP(
        4, 2, hidden_sizes=(32, 32), num_segments=2, context_dim=2, percent_on=0.25,
        weight_density=1.0, context_density=1.0, generator=_gen(4),
    )  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    contexts = torch.eye(2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny net: more threads only add synchronisation on a busy CPU
    try:
        for step in range(200):
            task = step % 2
            loss = F.cross_entropy(net(x, contexts[task]), labels[task])
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    net.eval()
    with torch.no_grad():
        for task in (0, 1):
            acc = (net(x, contexts[task]).argmax(-1) == labels[task]).float().mean()
            assert acc > 0.9, (task, float(acc))


# ------------------------------------------------------------------------------------------
# Prototypes
# ------------------------------------------------------------------------------------------


def test_nearest_prototype_by_euclidean_distance():
    protos = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.tensor([[1.0, 1.0], [9.0, 2.0], [2.0, 7.0], [5.0, 0.0]])  # last: tie 0/1 -> 0
    assert nearest_prototype(x, protos).tolist() == [0, 1, 2, 0]


def test_prototypes_are_running_means_and_inference_picks_the_right_task():
    g = _gen(5)
    centres = 4.0 * torch.randn(3, 16, generator=g)
    ctx = PrototypeContext(num_tasks=3, dim=16)
    train = [centres[t] + torch.randn(200, 16, generator=g) for t in range(3)]
    for t in range(3):
        ctx.add(t, train[t][:50])
        ctx.add(t, train[t][50:])
        assert torch.allclose(ctx.prototypes[t], train[t].mean(0), atol=1e-5)
    assert ctx.counts.tolist() == [200, 200, 200]
    test = torch.cat([centres[t] + torch.randn(100, 16, generator=g) for t in range(3)])
    truth = torch.arange(3).repeat_interleave(100)
    assert torch.equal(ctx.infer_task(test), truth)
    assert torch.equal(ctx(test), ctx.prototypes[truth])
    assert torch.equal(ctx(test, task=2), ctx.prototypes[2].expand(300, 16))


def test_inference_considers_only_tasks_with_a_prototype():
    ctx = PrototypeContext(num_tasks=4, dim=2)
    ctx.add(2, torch.tensor([[5.0, 5.0]]))
    assert ctx.infer_task(torch.zeros(3, 2)).tolist() == [2, 2, 2]  # not the empty slot 0


def test_prototype_errors_name_the_argument():
    ctx = PrototypeContext(num_tasks=2, dim=3)
    with pytest.raises(RuntimeError, match="add"):
        ctx.infer_task(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="task"):
        ctx.add(2, torch.zeros(1, 3))
    with pytest.raises(ValueError, match="x must have last dimension 3"):
        ctx.add(0, torch.zeros(1, 4))


# ------------------------------------------------------------------------------------------
# Synaptic intelligence
# ------------------------------------------------------------------------------------------


def _quadratic_si(theta0: float, damping: float) -> tuple[nn.Module, SynapticIntelligence]:
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(theta0)
    return model, SynapticIntelligence(model, c=0.5, damping=damping)


def _sgd_steps(model, si, opt, target: float, a: float, steps: int) -> None:
    for _ in range(steps):
        theta = model.weight.squeeze()
        loss = 0.5 * a * (theta - target) ** 2 + si.penalty()
        opt.zero_grad()
        loss.backward()
        si.before_step()
        opt.step()
        si.after_step()


def test_importance_equals_the_hand_computed_path_integral():
    # L = a/2 (theta - 1)^2, a = 2, SGD eta = 0.1 from theta = 0:
    #   g0 = -2,   theta1 = 0.2,  omega = eta g0^2 = 0.4
    #   g1 = -1.6, theta2 = 0.36, omega = 0.4 + 0.1 * 2.56 = 0.656
    #   Omega = 0.656 / (0.36^2 + 0.1) = 0.656 / 0.2296 = 20/7
    model, si = _quadratic_si(0.0, damping=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _sgd_steps(model, si, opt, target=1.0, a=2.0, steps=2)
    assert float(si.omega["weight"]) == pytest.approx(0.656, rel=1e-6)
    si.consolidate()
    assert float(si.importance["weight"]) == pytest.approx(20 / 7, rel=1e-6)
    assert float(si.anchor["weight"]) == pytest.approx(0.36, rel=1e-6)
    assert float(si.omega["weight"]) == 0.0


def test_penalty_is_zero_at_the_anchor_and_quadratic_away_from_it():
    model, si = _quadratic_si(0.0, damping=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _sgd_steps(model, si, opt, target=1.0, a=2.0, steps=2)
    si.consolidate()
    assert float(si.penalty().detach()) == 0.0
    with torch.no_grad():
        model.weight.add_(0.5)
    assert float(si.penalty().detach()) == pytest.approx(0.5 * (20 / 7) * 0.25, rel=1e-6)


def test_the_path_integral_uses_the_task_gradient_not_the_penalty_gradient():
    # second task from theta* = 0.36 with Omega = 20/7, c = 0.5: one SGD step on
    # L2 = (theta + 1)^2 / 2 (a = 1, target -1). At theta*, the penalty gradient is zero:
    #   g = 1.36, theta' = 0.36 - 0.1 * 1.36 = 0.224, omega = 1.36 * 0.136
    # second step: task gradient 1.224, penalty gradient 2 c Omega (0.224 - 0.36)
    model, si = _quadratic_si(0.0, damping=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _sgd_steps(model, si, opt, target=1.0, a=2.0, steps=2)
    si.consolidate()
    _sgd_steps(model, si, opt, target=-1.0, a=1.0, steps=1)
    assert float(si.omega["weight"]) == pytest.approx(1.36 * 0.136, rel=1e-5)
    pen_grad = 2 * 0.5 * (20 / 7) * (0.224 - 0.36)
    step = 0.1 * (1.224 + pen_grad)
    _sgd_steps(model, si, opt, target=-1.0, a=1.0, steps=1)
    assert float(model.weight.detach()) == pytest.approx(0.224 - step, rel=1e-5)
    assert float(si.omega["weight"]) == pytest.approx(1.36 * 0.136 + 1.224 * step, rel=1e-5)


def test_si_state_dict_round_trip_into_a_fresh_regulariser():
    model, si = _quadratic_si(0.0, damping=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _sgd_steps(model, si, opt, target=1.0, a=2.0, steps=2)
    si.consolidate()
    fresh = SynapticIntelligence(model, c=0.5, damping=0.1)
    fresh.load_state_dict(si.state_dict())
    assert fresh is not si
    assert float(fresh.importance["weight"]) == pytest.approx(20 / 7, rel=1e-6)
    assert float(fresh.penalty().detach()) == float(si.penalty().detach())


def test_si_can_be_restricted_to_named_parameters():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    si = SynapticIntelligence(
        ((n, p) for n, p in net.named_parameters() if n.startswith("0.")), c=1.0
    )
    assert sorted(si.params) == ["0.bias", "0.weight"]


def test_si_penalty_function_matches_the_formula():
    p = [torch.tensor([1.0, 2.0]), torch.tensor([3.0])]
    a = [torch.tensor([0.0, 2.0]), torch.tensor([1.0])]
    w = [torch.tensor([2.0, 5.0]), torch.tensor([0.5])]
    assert float(si_penalty(p, a, w, c=0.1)) == pytest.approx(0.1 * (2.0 * 1 + 0 + 0.5 * 4))


def test_si_errors_name_the_argument():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="damping"):
        SynapticIntelligence(model, damping=0.0)
    with pytest.raises(ValueError, match="c must be"):
        SynapticIntelligence(model, c=-1.0)
    with pytest.raises(RuntimeError, match="before_step"):
        SynapticIntelligence(model).after_step()
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ValueError, match="params"):
        SynapticIntelligence(frozen)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


def test_bad_layer_arguments_name_the_argument():
    with pytest.raises(ValueError, match="gating"):
        ActiveDendrites(3, 2, num_segments=2, context_dim=2, gating="min")
    with pytest.raises(ValueError, match="num_segments"):
        ActiveDendrites(3, 2, num_segments=0, context_dim=2)
    with pytest.raises(ValueError, match="weight_density"):
        ActiveDendrites(3, 2, num_segments=2, context_dim=2, weight_density=0.0)
    with pytest.raises(ValueError, match="percent_on"):
        ActiveDendrites(3, 2, num_segments=2, context_dim=2, percent_on=1.5)
    with pytest.raises(ValueError, match="hidden_sizes"):
        DendriticMLP(3, 2, hidden_sizes=(), num_segments=1, context_dim=1)


def test_bad_forward_inputs_name_the_argument():
    layer = ActiveDendrites(3, 2, num_segments=2, context_dim=4, generator=_gen())
    with pytest.raises(ValueError, match="context must have last dimension 4"):
        layer(torch.zeros(5, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="x must have last dimension 3"):
        layer(torch.zeros(5, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="context"):
        layer(torch.zeros(5, 3), torch.zeros(6, 4))
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        layer(torch.zeros(5, 3, dtype=torch.long), torch.zeros(4))
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        layer(torch.tensor([[float("nan"), 0.0, 0.0]]), torch.zeros(4))
    with pytest.raises(ValueError, match="gating"):
        select_segment(torch.zeros(3), "median")


def test_docstring_examples_run():
    import dendrix.dendrites.active as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_the_readout_is_initialised_for_its_sparse_k_winner_input():
    # Iyer et al.'s code: U(+-1/sqrt(percent_on * weight_density * fan_in)) for the read-out too
    for density in (0.5, 1.0):
        net = DendriticMLP(
            6, 3, hidden_sizes=(400,), num_segments=2, context_dim=4, percent_on=0.05,
            weight_density=density, generator=_gen(),
        )  # fmt: skip
        out = net.output
        sparse = isinstance(out, SparseWeights)
        weight = (out.masked_weight() if sparse else out.weight).detach()
        bias = out.module.bias if sparse else out.bias
        bound = 1.0 / (0.05 * density * 400) ** 0.5
        assert float(weight.abs().max()) <= bound
        assert float(weight.abs().max()) > 0.9 * bound  # not PyTorch's 1/sqrt(400) = bound / 4.5
        assert float(bias.detach().abs().max()) <= 1.0 / 400**0.5


def test_si_in_place_bookkeeping_equals_the_functional_reference():
    # the regulariser's buffers reused in place against si_path_step / si_consolidate applied
    # to fresh copies, over Adam steps on two tasks with the penalty in the loss
    g = _gen(7)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    si = SynapticIntelligence(net, c=0.3, damping=0.1)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    names = [n for n, _ in net.named_parameters()]
    omega = {n: torch.zeros_like(p) for n, p in net.named_parameters()}
    importance = {n: torch.zeros_like(p) for n, p in net.named_parameters()}
    anchor = {n: p.detach().clone() for n, p in net.named_parameters()}
    start = {n: p.detach().clone() for n, p in net.named_parameters()}
    params = dict(net.named_parameters())
    for _task in range(2):
        x, y = torch.randn(16, 5, generator=g), torch.randint(0, 3, (16,), generator=g)
        for _ in range(5):
            task_loss = F.cross_entropy(net(x), y)
            task_grads = torch.autograd.grad(
                task_loss, [params[n] for n in names], retain_graph=True
            )
            opt.zero_grad()
            (task_loss + si.penalty()).backward()
            si.before_step()
            before = {n: params[n].detach().clone() for n in names}
            opt.step()
            si.after_step()
            for n, tg in zip(names, task_grads, strict=True):
                omega[n] = si_path_step(omega[n], tg, params[n].detach() - before[n])
        for n in names:
            torch.testing.assert_close(si.omega[n], omega[n], rtol=1e-5, atol=1e-7)
        si.consolidate()
        for n in names:
            theta = params[n].detach()
            importance[n] = si_consolidate(importance[n], omega[n], theta - start[n], 0.1)
            anchor[n], start[n] = theta.clone(), theta.clone()
            omega[n] = torch.zeros_like(theta)
            torch.testing.assert_close(si.importance[n], importance[n], rtol=1e-5, atol=1e-7)
    assert any(float(v.abs().max()) > 0 for v in importance.values())


@pytest.mark.parametrize("path_gradient", ["task", "total"])
def test_si_penalty_added_to_the_gradient_gives_the_same_training_as_the_penalty_in_the_loss(
    path_gradient: str,
):
    # penalty="add" leaves the penalty out of autograd and adds 2 c Omega (theta - theta*) to
    # .grad; Adam must then follow the same trajectory, and omega / Omega must agree
    start = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3, bias=False))

    def train(mode: str) -> tuple[nn.Module, SynapticIntelligence]:
        net = copy.deepcopy(start)
        si = SynapticIntelligence(net, c=0.3, damping=0.1, path_gradient=path_gradient)
        opt = torch.optim.Adam(net.parameters(), lr=0.05)
        g = _gen(11)
        for _task in range(3):
            x, y = torch.randn(16, 5, generator=g), torch.randint(0, 3, (16,), generator=g)
            for _ in range(6):
                loss = F.cross_entropy(net(x), y)
                if mode == "in_loss":
                    loss = loss + si.penalty()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                si.before_step(penalty=mode)
                opt.step()
                si.after_step()
            si.consolidate()
        return net, si

    net_a, si_a = train("in_loss")
    net_b, si_b = train("add")
    assert any(float(v.abs().max()) > 0 for v in si_a.importance.values())
    for (name, pa), pb in zip(net_a.named_parameters(), net_b.parameters(), strict=True):
        torch.testing.assert_close(pb, pa, rtol=1e-5, atol=1e-6, msg=name)
        torch.testing.assert_close(
            si_b.importance[name], si_a.importance[name], rtol=1e-4, atol=1e-6
        )


def test_si_penalty_add_gives_a_gradient_to_parameters_the_loss_did_not_reach():
    a, b = nn.Parameter(torch.tensor([1.0])), nn.Parameter(torch.tensor([2.0]))
    si = SynapticIntelligence([("a", a), ("b", b)], c=0.5, damping=0.1)
    si.importance["b"] = torch.tensor([3.0])
    with torch.no_grad():
        b.add_(1.0)  # theta - theta* = 1
    (a * 2.0).sum().backward()  # the task loss reaches a only
    si.before_step(penalty="add")
    assert float(b.grad) == pytest.approx(2 * 0.5 * 3.0 * 1.0)
    assert float(a.grad) == pytest.approx(2.0)  # importance of a is 0: unchanged
    si.after_step()


def test_si_before_step_rejects_an_unknown_penalty_mode():
    si = SynapticIntelligence(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="penalty"):
        si.before_step(penalty="loss")


@pytest.mark.parametrize("penalty", ["in_loss", "add"])
def test_si_total_path_gradient_integrates_the_penalty_gradient_too(penalty: str):
    # omega <- omega - (g_task + 2 c Omega (theta - theta*)) * (theta(s+1) - theta(s))
    theta = nn.Parameter(torch.tensor([1.0, -2.0]))
    si = SynapticIntelligence([("w", theta)], c=0.5, damping=0.1, path_gradient="total")
    si.importance["w"] = torch.tensor([2.0, 4.0])
    with torch.no_grad():
        theta.add_(torch.tensor([0.5, 1.0]))  # theta - theta* = (0.5, 1.0)
    loss = (3.0 * theta).sum()  # task gradient 3 for both entries
    if penalty == "in_loss":
        loss = loss + si.penalty()
    loss.backward()
    si.before_step(penalty=penalty)
    before = theta.detach().clone()
    with torch.no_grad():
        theta.sub_(0.1 * theta.grad)  # a plain SGD step
    si.after_step()
    total_grad = torch.tensor([3.0 + 2 * 0.5 * 2.0 * 0.5, 3.0 + 2 * 0.5 * 4.0 * 1.0])
    expected = -total_grad * (theta.detach() - before)
    torch.testing.assert_close(si.omega["w"], expected)


def test_si_rectify_folds_only_the_positive_path_integral_into_the_importance():
    w = nn.Parameter(torch.zeros(3))
    plain = SynapticIntelligence([("w", w)], c=0.1, damping=0.5)
    rect = SynapticIntelligence([("w", w)], c=0.1, damping=0.5, rectify=True)
    for si in (plain, rect):
        si.omega["w"] = torch.tensor([1.0, -1.0, 0.0])
        si.consolidate()  # Delta = 0: Omega = omega / 0.5
    torch.testing.assert_close(plain.importance["w"], torch.tensor([2.0, -2.0, 0.0]))
    torch.testing.assert_close(rect.importance["w"], torch.tensor([2.0, 0.0, 0.0]))


def test_si_rejects_an_unknown_path_gradient():
    with pytest.raises(ValueError, match="path_gradient"):
        SynapticIntelligence(nn.Linear(2, 2), path_gradient="surrogate")

"""The ELM neuron (Spieler et al. 2024): hand-derived behaviour of each phase, the step as their
composition, the fast sequence path against the step-by-step reference, bounds, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dendrix.dendrites.elm import (
    ELM,
    BranchELM,
    ELMState,
    bounded_time_constant,
    branch_routing,
    elm_current,
    elm_memory,
    elm_readout,
    elm_reference,
    elm_sequence,
    elm_step,
    elm_trace,
    elm_update,
    scaled_tanh,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- phases, by hand ------------------------------------------------------------------------


def test_scaled_tanh_is_lecuns_and_maps_one_to_one():
    x = torch.tensor([-1.0, 0.0, 0.5, 1.0])
    assert torch.allclose(scaled_tanh(x), 1.7159 * torch.tanh(2 * x / 3))
    assert scaled_tanh(torch.tensor(1.0)).item() == pytest.approx(1.0, abs=2e-4)


def test_update_matches_the_mlp_formula_at_a_hand_computed_point():
    # S = M = H = 1: h = relu(1*0.2 + 2*(0.5*0.4) + 0.5) = 1.1; dm = 1.7159 tanh(2/3 (3*1.1 - 1))
    s, m = torch.tensor([[0.2]]), torch.tensor([[0.4]])
    dm = elm_update(
        s,
        m,
        torch.tensor([0.5]),
        torch.tensor([[1.0, 2.0]]),
        torch.tensor([0.5]),
        torch.tensor([[3.0]]),
        torch.tensor([-1.0]),
    )
    assert dm.item() == pytest.approx(1.7159 * math.tanh(2 / 3 * (3 * 1.1 - 1)), rel=1e-6)


def test_memory_update_mixes_old_memory_and_scaled_update_by_kappa():
    # m = 0.9 * 1 + 5 * (1 - 0.9) * 0.5 = 1.15
    out = elm_memory(torch.tensor([[1.0]]), torch.tensor([[0.5]]), torch.tensor([0.9]), 5.0)
    assert out.item() == pytest.approx(1.15)


def test_trace_and_current_and_readout_by_hand():
    assert elm_current(torch.tensor([[2.0, 3.0]]), torch.tensor([0.5, 0.0]), None).tolist() == [
        [1.0, 0.0]
    ]
    routing = torch.tensor([[0, 1], [2, 2]])
    w = torch.tensor([[1.0, 2.0], [0.5, 0.25]])
    # branch 0: 1*1 + 2*2 = 5; branch 1 reads feature 2 twice: 0.5*3 + 0.25*3 = 2.25
    assert elm_current(torch.tensor([[1.0, 2.0, 3.0]]), w, routing).tolist() == [[5.0, 2.25]]
    s = elm_trace(torch.tensor([[1.0]]), torch.tensor([[2.0]]), torch.tensor([0.25]))
    assert s.item() == pytest.approx(1.5)
    y = elm_readout(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, -1.0]]), torch.tensor([0.5]))
    assert y.item() == pytest.approx(1.5)


def test_step_is_the_composition_of_its_phases():
    layer = BranchELM(6, 3, branches=3, memory=4, learn_tau_s=True, generator=_gen())
    p = layer.params()
    g = _gen(1)
    x = torch.rand(5, 6, generator=g)
    state = ELMState(torch.rand(5, 3, generator=g), torch.randn(5, 4, generator=g))
    y, new = elm_step(x, state, p)
    s = elm_trace(elm_current(x, p.w_s, p.routing), state.s, p.kappa_s)
    m = elm_memory(
        state.m, elm_update(s, state.m, p.kappa_m, p.w_h, p.b_h, p.w_dm, p.b_dm), p.kappa_m, p.lam
    )
    assert torch.equal(new.s, s) and torch.equal(new.m, m)
    assert torch.equal(y, elm_readout(m, p.w_y, p.b_y))


# ---- time constants -------------------------------------------------------------------------


def test_memory_decays_by_exp_minus_dt_over_tau_with_zero_input_and_zero_update():
    dt = 1e-3
    layer = ELM(2, 1, memory=2, dt=dt, tau_m=(1e-3, 1.0), generator=_gen())
    # log-spaced midpoints: tau_i = 1 ms * 1000 ** ((i + 1/2) / 2) = 5.623 ms and 177.8 ms
    taus = [1e-3 * 1000**0.25, 1e-3 * 1000**0.75]
    assert layer.tau_m().tolist() == pytest.approx(taus, rel=1e-6)
    p = layer.params()
    p = p._replace(w_dm=torch.zeros_like(p.w_dm), b_dm=torch.zeros_like(p.b_dm))
    m0 = torch.tensor([[1.0, -2.0]])
    state = ELMState(torch.zeros(1, 2), m0)
    steps = 7
    _, final = elm_sequence(torch.zeros(steps, 1, 2), state, p)
    expected = [1.0 * math.exp(-steps * dt / taus[0]), -2.0 * math.exp(-steps * dt / taus[1])]
    assert final.m[0].tolist() == pytest.approx(expected, rel=1e-5)


def test_synaptic_trace_of_an_impulse_decays_by_exp_minus_dt_over_tau_s():
    dt, tau_s, w = 1e-3, 4e-3, 0.5
    layer = ELM(1, 1, memory=2, dt=dt, tau_s=tau_s, w_s=w, generator=_gen())
    x = torch.zeros(6, 1, 1)
    x[0] = 1.0
    p = layer.params()
    s = layer.initial_state(1).s
    for k, x_t in enumerate(x):
        s = elm_trace(elm_current(x_t, p.w_s, p.routing), s, p.kappa_s)
        assert s.item() == pytest.approx(w * math.exp(-k * dt / tau_s), rel=1e-6)


@pytest.mark.parametrize("rho", [-1e4, -30.0, 0.0, 30.0, 1e4])
def test_bounded_time_constant_never_leaves_its_bounds(rho):
    tau = bounded_time_constant(torch.tensor([rho]), 2e-3, 0.5)
    assert 2e-3 <= tau.item() <= 0.5
    if rho == 0.0:  # the log-midpoint
        assert tau.item() == pytest.approx(math.sqrt(2e-3 * 0.5))


def test_time_constants_stay_in_bounds_under_an_absurd_optimiser():
    layer = ELM(
        3, 2, memory=5, tau_m=(2e-3, 0.3), learn_tau_s=True, tau_s_bounds=(1e-3, 9e-3),
        generator=_gen(),
    )  # fmt: skip
    opt = torch.optim.SGD(layer.parameters(), lr=1e6)
    x = torch.rand(15, 4, 3, generator=_gen(1))
    for sign in (1.0, -1.0, 1.0):
        loss = sign * layer(x).sum() + sign * (layer.tau_m().sum() + layer.tau_s().sum())
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert ((layer.tau_m() >= 2e-3) & (layer.tau_m() <= 0.3)).all()
        assert ((layer.tau_s() >= 1e-3) & (layer.tau_s() <= 9e-3)).all()
        assert torch.isfinite(layer(x)).all()


def test_fixed_time_constants_are_buffers_and_learnable_ones_get_gradients():
    fixed = ELM(2, 1, memory=3, learn_tau_m=False, generator=_gen())
    names = dict(fixed.named_parameters())
    assert "rho_m" not in names and "rho_s" not in names
    assert {"rho_m", "tau_s_fixed"} <= set(dict(fixed.named_buffers()))
    learn = ELM(2, 1, memory=3, learn_tau_s=True, generator=_gen())
    learn(torch.rand(10, 2, 2, generator=_gen(1))).square().sum().backward()
    assert learn.rho_m.grad.abs().sum() > 0 and learn.rho_s.grad.abs().sum() > 0
    assert learn.tau_s().tolist() == pytest.approx([5e-3, 5e-3])


def test_memory_stays_within_lambda_times_the_update_bound_from_a_zero_start():
    layer = ELM(4, 2, memory=6, lam=3.0, generator=_gen())
    with torch.no_grad():
        layer.w_dm.mul_(50.0)  # saturate the update
        _, state = layer.run(100 * torch.rand(200, 3, 4, generator=_gen(1)))
    assert state.m.abs().max() <= 3.0 * 1.7159 + 1e-5


def test_synaptic_weights_are_non_negative_so_a_negative_raw_weight_silences_its_input():
    layer = ELM(2, 1, memory=3, generator=_gen())
    with torch.no_grad():
        layer.rho_w[1] = -1.0
    assert layer.w_s().tolist() == [0.5, 0.0]
    x = torch.rand(10, 2, 2, generator=_gen(1))
    x2 = x.clone()
    x2[..., 1] = 7.0
    assert torch.equal(layer(x), layer(x2))


# ---- sequences, state, branches -----------------------------------------------------------


@pytest.mark.parametrize("branch", [False, True])
@pytest.mark.parametrize("learn", [False, True])
def test_fast_sequence_equals_the_step_by_step_reference_in_outputs_and_gradients(branch, learn):
    g = _gen(3)
    kw = dict(memory=5, learn_tau_m=learn, learn_tau_s=learn, generator=g)
    layer = BranchELM(6, 2, branches=3, routing="random", **kw) if branch else ELM(6, 2, **kw)
    layer = layer.double()
    x = torch.rand(25, 4, 6, generator=g, dtype=torch.float64)
    state = ELMState(
        torch.rand(4, layer.num_traces, generator=g, dtype=torch.float64),
        torch.randn(4, 5, generator=g, dtype=torch.float64),
    )
    outs, grads = [], []
    for fn in (elm_sequence, elm_reference):
        layer.zero_grad()
        y, final = fn(x, state, layer.params())
        (y.square().sum() + final.m.sum()).backward()
        outs.append((y, final.s, final.m))
        grads.append([p.grad.clone() for p in layer.parameters()])
    for a, b in zip(outs[0], outs[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads[0], grads[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_module_step_and_sequence_agree_and_state_carries_across_calls():
    layer = ELM(3, 2, memory=4, generator=_gen())
    x = torch.rand(12, 2, 3, generator=_gen(1))
    whole, final = layer.run(x)
    first, mid = layer.run(x[:5])
    second, end = layer.run(x[5:], mid)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    torch.testing.assert_close(end.m, final.m)
    state, ys = None, []
    for x_t in x:
        y_t, state = layer.step(x_t, state)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys), whole)


def test_branch_traces_equal_summed_per_synapse_traces_of_a_plain_elm():
    # linearity: summing weighted inputs before the trace = summing the traces after it
    g = _gen(2)
    branch = BranchELM(6, 1, branches=2, memory=3, generator=g)
    plain = ELM(6, 1, memory=3, generator=g)
    x = torch.rand(20, 3, 6, generator=g)
    pb, pp = branch.params(), plain.params()
    sb, sp = branch.initial_state(3).s, plain.initial_state(3).s
    for x_t in x:
        sb = elm_trace(elm_current(x_t, pb.w_s, pb.routing), sb, pb.kappa_s)
        sp = elm_trace(elm_current(x_t, pp.w_s, pp.routing), sp, pp.kappa_s)
        torch.testing.assert_close(sb, sp.reshape(3, 2, 3).sum(-1))


def test_branch_routing_contiguous_and_random():
    assert branch_routing(6, 3).tolist() == [[0, 1], [2, 3], [4, 5]]
    r1 = branch_routing(10, 4, 5, mode="random", generator=_gen(7))
    r2 = branch_routing(10, 4, 5, mode="random", generator=_gen(7))
    assert r1.shape == (4, 5) and torch.equal(r1, r2)
    assert int(r1.min()) >= 0 and int(r1.max()) < 10
    assert branch_routing(10, 4, mode="random", generator=_gen()).shape == (4, 3)
    layer = BranchELM(12, 2, branches=4, memory=6, generator=_gen())
    assert layer.w_h.shape == (12, 4 + 6)  # the MLP sees branches + memory, not F + memory


def test_layers_stack_in_sequential_and_follow_double_precision():
    g = _gen()
    net = nn.Sequential(ELM(2, 8, memory=4, generator=g), BranchELM(8, 1, branches=2, generator=g))
    x = torch.rand(15, 3, 2, generator=g, requires_grad=True)
    y = net(x)
    assert y.shape == (15, 3, 1)
    y.sum().backward()
    assert x.grad.abs().sum() > 0 and net[0].w_h.grad.abs().sum() > 0
    assert net.double()(x.detach().double()).dtype == torch.float64


def test_same_generator_seed_gives_the_same_layer():
    a = ELM(3, 2, memory=4, generator=_gen(5))
    b = ELM(3, 2, memory=4, generator=_gen(5))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (torch.rand(4, 3), ValueError, "x must have 3 dimension"),
        (torch.rand(5, 4, 2), ValueError, "x must have last dimension 3"),
        (torch.ones(5, 4, 3, dtype=torch.long), TypeError, "x must have a floating dtype"),
        ([[0.0]], TypeError, "x must be a torch.Tensor"),
    ],
)
def test_bad_sequences_are_refused_naming_x(x, error, match):
    layer = ELM(3, 2, memory=4, generator=_gen())
    with pytest.raises(error, match=match):
        layer(x)


def test_bad_state_and_step_input_are_refused():
    layer = ELM(3, 2, memory=4, generator=_gen())
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        layer.step(torch.rand(5, 4, 3))
    with pytest.raises(ValueError, match=r"state must have s of shape \(4, 3\)"):
        layer.run(torch.rand(5, 4, 3), layer.initial_state(2))
    with pytest.raises(TypeError, match="state must be an ELMState"):
        layer.run(torch.rand(5, 4, 3), (torch.zeros(4, 3), torch.zeros(4, 4)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(memory=0), ValueError, "memory must be an integer"),
        (dict(dt=0.0), ValueError, "dt must be"),
        (dict(tau_m=(1.0, 1e-3)), ValueError, "tau_m must satisfy lo < hi"),
        (dict(tau_m=(0.0, 1.0)), ValueError, r"tau_m\[0\] must be"),
        (dict(tau_m=1.0), TypeError, "tau_m must be a pair"),
        (dict(tau_s=-1e-3), ValueError, "tau_s must be"),
        (dict(learn_tau_s=True, tau_s_bounds=(1e-2, 2e-2)), ValueError, "strictly inside"),
        (dict(lam=0.0), ValueError, "lam must be"),
        (dict(w_s=0.0), ValueError, "w_s must be"),
        (dict(mlp_hidden=0), ValueError, "mlp_hidden must be"),
        (dict(routing=torch.tensor([[0, 3]])), ValueError, "routing holds input feature"),
        (dict(routing=torch.tensor([0.0, 1.0])), TypeError, "routing must have a integer"),
    ],
)
def test_bad_constructor_arguments_are_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        ELM(3, 2, **kwargs)


def test_bad_branch_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="branches=4 must divide in_features=6"):
        BranchELM(6, 1, branches=4)
    with pytest.raises(ValueError, match="branches \\* synapses_per_branch must equal"):
        BranchELM(6, 1, branches=2, synapses_per_branch=2)
    with pytest.raises(ValueError, match="routing must be one of"):
        BranchELM(6, 1, branches=2, routing="tree")
    with pytest.raises(ValueError, match="branches must be an integer"):
        BranchELM(6, 1, branches=0)

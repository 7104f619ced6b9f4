"""Perforated backpropagation: wrapping is output-preserving, the correlation objective and its
gradient, frozen network during the correlation phase, cascade wiring, growth on a too-small
model, the stop rule, save/load and resume, bad input."""

from __future__ import annotations

import doctest
import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dendrix.dendrites.perforated import (
    PerforatedLayer,
    PerforationTrainer,
    correlation_score,
    dendrite_node_output,
    parameter_count,
    perforate,
    perforated_layers,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _mlp(seed: int = 0, hidden: int = 4) -> nn.Sequential:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def _cnn(seed: int = 0) -> nn.Sequential:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)
        )


def _square_task(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """y = x^2 on [-1, 1]: a single linear neuron can at best predict the mean (MSE 4/45)."""
    x = torch.rand(n, 1, generator=_gen(seed)) * 2 - 1
    return x, x.square()


def _square_trainer(**kwargs) -> tuple[PerforatedLayer, PerforationTrainer]:
    x, y = _square_task(256, seed=0)
    xv, yv = _square_task(256, seed=1)
    data = [(x[i : i + 64], y[i : i + 64]) for i in range(0, 256, 64)]
    with torch.random.fork_rng():
        torch.manual_seed(0)
        layer = PerforatedLayer(nn.Linear(1, 1), num_candidates=8)
    options = dict(
        optimizer=lambda p: torch.optim.Adam(p, lr=0.05),
        candidate_epochs=30,
        candidate_lr=0.1,
        joint_epochs=50,
        max_cycles=3,
        generator=_gen(2),
    )
    options.update(kwargs)
    trainer = PerforationTrainer(
        layer, data, F.mse_loss, lambda m: float(F.mse_loss(m(xv), yv)), **options
    )
    return layer, trainer


def _grow_random(layer: PerforatedLayer, times: int, seed: int = 0) -> None:
    """Install ``times`` random dendrites with non-zero cascade and output weights."""
    g = _gen(seed)
    for _ in range(times):
        cands = layer.new_candidates(g)
        with torch.no_grad():
            cands.cascade.normal_(generator=g)
        layer.install(cands, torch.rand(cands.num_candidates, layer.out_features, generator=g))
    with torch.no_grad():
        layer.dendrite_scale.normal_(generator=g)


# ------------------------------------------------------------------------------------------
# Wrapping
# ------------------------------------------------------------------------------------------
def test_wrapping_and_installing_leave_the_outputs_unchanged():
    net = _cnn()
    x = torch.randn(5, 2, 4, 4, generator=_gen())
    before = net(x)
    perforate(net, ["0", "3"], num_candidates=3)
    assert isinstance(net[0], PerforatedLayer) and isinstance(net[3], PerforatedLayer)
    assert torch.equal(net(x), before)
    g = _gen(1)
    for layer in perforated_layers(net).values():
        for _ in range(2):  # dendrite output weights v start at 0
            cands = layer.new_candidates(g)
            layer.install(cands, torch.rand(3, layer.out_features, generator=g))
            assert torch.equal(layer.dendrite_scale[-1], torch.zeros(layer.out_features))
    assert net[0].num_dendrites == 2 and torch.equal(net(x), before)


def test_a_predicate_selects_layers_and_skips_already_perforated_ones():
    net = perforate(_mlp(), ["0"])
    perforate(net, lambda name, m: isinstance(m, nn.Linear))
    assert sorted(perforated_layers(net)) == ["0", "2"]
    assert isinstance(net[0].main, nn.Linear)  # not wrapped twice


def test_parameter_count_includes_the_frozen_dendrite_weights():
    layer = PerforatedLayer(nn.Linear(3, 2))
    assert parameter_count(layer) == 8
    _grow_random(layer, 2)
    # main 3*2+2, v 2*2, dendrite W 2*(2*3), b 2*2, cascade used: dendrite 1 reads dendrite 0
    assert parameter_count(layer) == 8 + 4 + 12 + 4 + 2
    assert sum(p.numel() for p in layer.parameters()) == 8 + 4  # W_i, b_i, u are buffers


# ------------------------------------------------------------------------------------------
# Correlation objective
# ------------------------------------------------------------------------------------------
def test_correlation_score_is_the_covariance_magnitude_per_candidate_and_neuron():
    g = _gen()
    v, e = torch.rand(7, 3, 2, generator=g), torch.randn(7, 2, generator=g)
    expected = torch.empty(3, 2)
    for k in range(3):
        for o in range(2):
            vc, ec = v[:, k, o] - v[:, k, o].mean(), e[:, o] - e[:, o].mean()
            expected[k, o] = (vc * ec).mean().abs()
    torch.testing.assert_close(correlation_score(v, e), expected)
    # shifting V or E by a constant changes nothing; the sign of E does not matter
    torch.testing.assert_close(correlation_score(v + 3.0, -e + 1.0), expected)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_correlation_gradient_equals_finite_differences(kind):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = nn.Linear(3, 2) if kind == "linear" else nn.Conv2d(1, 2, 2, padding=1)
    layer = PerforatedLayer(module.double(), num_candidates=2)
    _grow_random(layer, 1)  # candidates then read one earlier dendrite through u
    g = _gen(3)
    x = torch.randn(5, 3, dtype=torch.float64, generator=g)
    if kind == "conv":
        x = torch.randn(2, 1, 2, 2, dtype=torch.float64, generator=g)
    out = layer(x).detach()
    e = layer.flatten_neurons(torch.randn(out.shape, dtype=out.dtype, generator=g))  # [P, O]
    cands = layer.new_candidates(g)
    with torch.no_grad():
        cands.cascade.normal_(generator=g)

    def objective(weight, bias, cascade):
        params = {"weight": weight, "bias": bias, "cascade": cascade}
        v = layer.flatten_candidates(torch.func.functional_call(cands, params, (layer, x)))
        return correlation_score(v, e).sum()

    inputs = tuple(p.detach().clone().requires_grad_(True) for p in cands.parameters())
    assert torch.autograd.gradcheck(objective, inputs, eps=1e-6, atol=1e-7)


def test_residual_errors_are_the_loss_gradient_at_each_perforated_layer_output():
    net = perforate(_mlp(hidden=3), ["0", "2"])
    x, y = torch.randn(6, 3, generator=_gen()), torch.randn(6, 2, generator=_gen(1))
    trainer = PerforationTrainer(net, [(x, y)], F.mse_loss, lambda m: 0.0)
    errors = trainer.residual_errors(x, y)
    h = net[0](x)
    h.retain_grad()
    out = net[2](net[1](h))
    out.retain_grad()
    F.mse_loss(out, y).backward()
    (inp0, e0), (inp2, e2) = errors["0"][0], errors["2"][0]
    assert torch.equal(inp0, x) and torch.allclose(inp2, net[1](h).detach())
    torch.testing.assert_close(e0, h.grad)
    torch.testing.assert_close(e2, out.grad)


def test_a_layer_called_twice_per_forward_gives_one_error_per_call():
    layer = PerforatedLayer(nn.Linear(2, 2))
    model = nn.Sequential(layer, nn.Tanh(), layer)
    x = torch.randn(4, 2, generator=_gen())
    trainer = PerforationTrainer(model, [(x, x)], F.mse_loss, lambda m: 0.0)
    errors = trainer.residual_errors(x, x)
    assert list(errors) == ["0"] and len(errors["0"]) == 2
    assert torch.equal(errors["0"][0][0], x)
    assert torch.allclose(errors["0"][1][0], torch.tanh(layer(x)))
    candidates = {"0": layer.new_candidates(_gen())}
    v, e = trainer._candidate_batch(candidates, x, x)["0"]
    assert v.shape == (8, 8, 2) and e.shape == (8, 2)  # both calls' samples pooled


def test_the_candidate_phase_increases_the_objective():
    _, trainer = _square_trainer()
    trainer.train_neurons(30)
    _, objective = trainer.train_candidates()
    assert len(objective) == 30
    assert objective[-1] > 5 * objective[0]
    assert objective[-1] >= max(objective[:5])


def test_network_weights_and_buffers_are_frozen_bit_for_bit_during_the_correlation_phase():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    perforate(net, ["0", "3"], num_candidates=4)
    g = _gen()
    data = [(torch.randn(8, 3, generator=g), torch.randn(8, 2, generator=g)) for _ in range(3)]
    trainer = PerforationTrainer(
        net, data, F.mse_loss, lambda m: 0.0, candidate_epochs=3, candidate_lr=0.1, generator=g
    )
    trainer.train_neurons(1)  # moves the BatchNorm statistics away from their initial values
    before = {k: v.clone() for k, v in net.state_dict().items()}
    candidates, _ = trainer.train_candidates()
    scores = trainer.score_candidates(candidates)
    after = net.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key
    assert all(p.grad is None for p in net.parameters())
    assert net.training  # the mode is restored after the phase
    assert {k: tuple(s.shape) for k, s in scores.items()} == {"0": (4, 5), "3": (4, 2)}
    # ... and the candidates did move
    fresh = perforated_layers(net)["0"].new_candidates(_gen())
    assert not torch.equal(candidates["0"].weight, fresh.weight)


def test_installation_picks_the_best_candidate_of_each_neuron():
    layer = PerforatedLayer(nn.Linear(2, 3), num_candidates=2)
    cands = layer.new_candidates(_gen())
    score = torch.tensor([[0.1, 0.9, 0.5], [0.2, 0.3, 0.4]])
    choice = layer.install(cands, score)
    assert choice.tolist() == [1, 0, 0]
    for o, k in enumerate(choice.tolist()):
        assert torch.equal(layer.dendrite_weight[0, o], cands.weight[k, o].detach())
        assert torch.equal(layer.dendrite_bias[0, o], cands.bias[k, o].detach())


# ------------------------------------------------------------------------------------------
# Cascade
# ------------------------------------------------------------------------------------------
def test_cascaded_dendrites_read_the_earlier_dendrites_outputs():
    layer = PerforatedLayer(nn.Linear(3, 2), num_candidates=4)
    _grow_random(layer, 2)
    assert tuple(layer.dendrite_cascade.shape) == (2, 2, 2)
    assert torch.equal(layer.dendrite_cascade[0], torch.zeros(2, 2))  # dendrite 0 reads none
    x = torch.randn(5, 3, generator=_gen(7))
    w, b, u = layer.dendrite_weight, layer.dendrite_bias, layer.dendrite_cascade
    d0 = torch.sigmoid(x @ w[0].T + b[0])
    d1 = torch.sigmoid(x @ w[1].T + b[1] + u[1, :, 0] * d0)
    outs = layer.dendrite_outputs(x)
    torch.testing.assert_close(outs[0], d0)
    torch.testing.assert_close(outs[1], d1)
    expected = layer.main(x) + layer.dendrite_scale[0] * d0 + layer.dendrite_scale[1] * d1
    torch.testing.assert_close(layer(x), expected)

    # a third-round candidate sees both installed dendrites through its own cascade weights
    cands = layer.new_candidates(_gen(8))
    assert tuple(cands.cascade.shape) == (4, 2, 2)
    with torch.no_grad():
        cands.cascade.normal_(generator=_gen(9))
    v = layer.candidate_outputs(x, cands)  # [B, K, O]
    drive = torch.einsum("bi,koi->bko", x, cands.weight) + cands.bias
    hand = torch.sigmoid(
        drive + cands.cascade[..., 0] * d0[:, None] + cands.cascade[..., 1] * d1[:, None]
    )
    torch.testing.assert_close(v, hand)
    layer.install(cands, torch.rand(4, 2, generator=_gen(10)))
    assert tuple(layer.dendrite_cascade.shape) == (3, 2, 3)
    assert torch.equal(layer.dendrite_cascade[:2, :, :2], u)


def test_dendrite_activation_on_a_convolution_broadcasts_per_channel():
    a = torch.zeros(1, 2, 3, 3)
    d0 = torch.ones(1, 2, 3, 3)
    out = dendrite_node_output(a, torch.tensor([[2.0], [-2.0]]), [d0], spatial_dims=2)
    torch.testing.assert_close(out[0, 0], torch.full((3, 3), torch.sigmoid(torch.tensor(2.0))))
    torch.testing.assert_close(out[0, 1], torch.full((3, 3), torch.sigmoid(torch.tensor(-2.0))))


def test_grouped_convolution_candidates_match_one_convolution_per_candidate():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        layer = PerforatedLayer(nn.Conv2d(4, 4, 3, padding=1, groups=2), num_candidates=3)
    cands = layer.new_candidates(_gen())
    x = torch.randn(2, 4, 5, 5, generator=_gen(1))
    v = layer.candidate_outputs(x, cands)
    assert v.shape == (2, 3, 4, 5, 5)
    for k in range(3):
        ref = torch.sigmoid(F.conv2d(x, cands.weight[k], cands.bias[k], padding=1, groups=2))
        torch.testing.assert_close(v[:, k], ref)


# ------------------------------------------------------------------------------------------
# The cycle
# ------------------------------------------------------------------------------------------
def test_perforation_lowers_the_validation_loss_of_a_model_too_small_for_the_task():
    layer, trainer = _square_trainer()
    history = trainer.run(base_epochs=50)
    base = history[0]["validation"]
    assert base == pytest.approx(4 / 45, rel=0.15)  # the best a straight line can do
    assert trainer.best_score < 0.3 * base
    assert layer.num_dendrites >= 2
    assert trainer.evaluate() == trainer.best_score  # the model is the best one


def _scripted(trainer: PerforationTrainer, scores: list[float]) -> list[dict]:
    """Make ``validate`` return ``scores`` in turn, remembering the model state at each call."""
    states: list[dict] = []
    it = iter(scores)

    def validate(model: nn.Module) -> float:
        states.append({k: v.clone() for k, v in model.state_dict().items()})
        return next(it)

    trainer.validate = validate
    return states


def _equal_states(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_stop_rule_keeps_the_best_model():
    layer, trainer = _square_trainer(joint_epochs=2, candidate_epochs=2, max_cycles=5)
    # base passes 1.0, 1.0; cycle 1 passes 0.6, 0.5 (better); cycle 2 passes 0.7, 0.8 (worse)
    states = _scripted(trainer, [1.0, 1.0, 0.6, 0.5, 0.7, 0.8])
    history = trainer.run(base_epochs=2)
    assert [r["phase"] for r in history] == ["base", "candidates", "joint", "candidates", "joint"]
    assert [r.get("kept") for r in history if r["phase"] == "joint"] == [True, False]
    assert [r["validation"] for r in history if "validation" in r] == [1.0, 0.5, 0.7]
    assert trainer.stage == "done" and trainer.best_score == 0.5
    assert layer.num_dendrites == 1  # the second, unhelpful set is removed
    assert _equal_states(layer.state_dict(), states[3])  # the model of the best pass


def test_a_training_phase_ends_at_its_best_pass_and_stops_after_patience():
    layer, trainer = _square_trainer(patience=2)
    states = _scripted(trainer, [0.9, 0.4, 0.6, 0.5, 0.1])
    losses, scores, best = trainer.train_neurons(10)
    assert scores == [0.9, 0.4, 0.6, 0.5] and best == 0.4  # two passes without a better one
    assert len(losses) == 4 and trainer.passes == 4
    assert _equal_states(layer.state_dict(), states[1])
    assert not _equal_states(states[1], states[3])


def test_the_run_stops_after_max_cycles():
    layer, trainer = _square_trainer(joint_epochs=1, candidate_epochs=1, max_cycles=2)
    trainer.validate = lambda m: -float(layer.num_dendrites)  # every set "helps"
    history = trainer.run(base_epochs=1)
    assert layer.num_dendrites == 2 and history[-1]["phase"] == "stop"
    # passes: 1 base + per cycle (1 candidate + 1 scoring + 1 joint)
    assert trainer.passes == 1 + 2 * 3


def test_a_resumed_run_ends_where_an_uninterrupted_one_does():
    layer_a, full = _square_trainer(joint_epochs=5, candidate_epochs=3, max_cycles=2)
    full.run(base_epochs=5)

    _, first = _square_trainer(joint_epochs=5, candidate_epochs=3, max_cycles=2)
    checkpoints = []
    first.after_phase = lambda t: checkpoints.append(_round_trip(t.state_dict()))
    first.run(base_epochs=5)
    resume_from = checkpoints[1]  # just after the first correlation phase
    assert resume_from["stage"] == "joint"

    layer_c, resumed = _square_trainer(joint_epochs=5, candidate_epochs=3, max_cycles=2)
    resumed.load_state_dict(resume_from)
    assert layer_c.num_dendrites == 1
    resumed.run(base_epochs=5)

    def timeless(history):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in history]

    assert timeless(resumed.history) == timeless(full.history)
    for key, value in layer_a.state_dict().items():
        assert torch.equal(value, layer_c.state_dict()[key]), key


def _round_trip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def test_state_dict_round_trip_into_a_freshly_perforated_copy_gives_equal_outputs():
    net = perforate(_cnn(seed=0), ["0", "3"], num_candidates=2)
    _grow_random(net[0], 2, seed=1)
    _grow_random(net[3], 1, seed=2)
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    fresh = perforate(_cnn(seed=5), ["0", "3"], num_candidates=2)  # other weights, no dendrites
    assert fresh[0].num_dendrites == 0
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert (fresh[0].num_dendrites, fresh[3].num_dendrites) == (2, 1)
    x = torch.randn(3, 2, 4, 4, generator=_gen())
    assert torch.equal(net(x), fresh(x))
    assert parameter_count(net) == parameter_count(fresh)
    # and the loaded model trains: v is a parameter again
    assert any(p is fresh[0].dendrite_scale for p in fresh.parameters())


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------
def test_bad_arguments_are_refused_naming_the_argument():
    with pytest.raises(ValueError, match=r"layers names 'fc9'.*'0', '2'"):
        perforate(_mlp(), ["fc9"])
    with pytest.raises(TypeError, match=r"layers names '1', a ReLU"):
        perforate(_mlp(), ["1"])
    with pytest.raises(ValueError, match="layers selected no layer"):
        perforate(_mlp(), lambda name, m: False)
    with pytest.raises(ValueError, match="layers must name at least one"):
        perforate(_mlp(), [])
    with pytest.raises(ValueError, match="layers lists '0' more than once"):
        perforate(_mlp(), ["0", "0"])
    with pytest.raises(ValueError, match=r"layers names the model itself.*PerforatedLayer"):
        perforate(nn.Linear(2, 2), [""])
    with pytest.raises(TypeError, match=r"layers names '0', a PerforatedLayer"):
        perforate(perforate(_mlp(), ["0"]), ["0"])
    with pytest.raises(ValueError, match=r"num_candidates must be an integer in \[1"):
        perforate(_mlp(), ["0"], num_candidates=0)
    with pytest.raises(TypeError, match=r"module must be an nn\.Linear or nn\.Conv2d"):
        PerforatedLayer(nn.Conv1d(2, 2, 3))
    with pytest.raises(ValueError, match="init_scale"):
        PerforatedLayer(nn.Linear(2, 2), init_scale=0.0)
    with pytest.raises(ValueError, match="model has no PerforatedLayer"):
        PerforationTrainer(_mlp(), [], F.mse_loss, lambda m: 0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        PerforationTrainer(perforate(_mlp(), "0"), [], F.mse_loss, lambda m: 0.0, mode="best")
    with pytest.raises(ValueError, match="e must be"):
        correlation_score(torch.zeros(4, 2, 3), torch.zeros(4, 2))


def test_candidates_for_another_layer_or_dendrite_count_are_refused():
    layer = PerforatedLayer(nn.Linear(3, 2), num_candidates=2)
    stale = layer.new_candidates(_gen())
    layer.install(layer.new_candidates(_gen(1)), torch.rand(2, 2, generator=_gen()))
    with pytest.raises(ValueError, match=r"draw new ones with layer\.new_candidates"):
        layer.install(stale, torch.rand(2, 2, generator=_gen()))
    with pytest.raises(ValueError, match=r"score must be \[K, O\] = \[2, 2\]"):
        layer.install(layer.new_candidates(_gen()), torch.rand(3, 2, generator=_gen()))


def test_a_non_finite_validation_score_is_an_error():
    _, trainer = _square_trainer()
    trainer.validate = lambda m: float("nan")
    with pytest.raises(ValueError, match="validate returned nan"):
        trainer.run(base_epochs=0)


def test_docstring_examples_run():
    import dendrix.dendrites.perforated as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0

"""Diehl & Cook's network: the fused kernel equals the readable reference, and the rules around
it (normalisation, re-presentation, label assignment, the vote) behave as specified."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dendrix.plasticity.diehl_cook import (
    DiehlCookConfig,
    DiehlCookNetwork,
    InputSpikes,
    accuracy,
    assign_labels,
    predict,
)
from dendrix.plasticity.homeostasis import normalize_weights
from dendrix.spiking.encoding import poisson_encode

SMALL = DiehlCookConfig(n_exc=20, t_present=0.1, t_rest=0.05)


def _images(n: int, seed: int = 0) -> torch.Tensor:
    """Bars and blobs on 28 x 28 (uint8), different enough to excite different neurons."""
    g = torch.Generator().manual_seed(seed)
    out = torch.zeros(n, 28, 28, dtype=torch.uint8)
    for k in range(n):
        r, c = (int(v) for v in torch.randint(2, 12, (2,), generator=g))
        h, w = (int(v) for v in torch.randint(8, 16, (2,), generator=g))
        out[k, r : r + h, c : c + w] = torch.randint(120, 256, (h, w), generator=g).to(torch.uint8)
    return out


def _net(config: DiehlCookConfig = SMALL, seed: int = 0) -> DiehlCookNetwork:
    return DiehlCookNetwork(config, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------------------------
# Reference vs kernel
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["triplet", "symmetric"])
@pytest.mark.parametrize("learn", [True, False])
def test_kernel_equals_the_reference_over_several_images(learn, rule):
    config = dataclasses.replace(SMALL, rule=rule)
    ref, fast = _net(config), _net(config)
    images = _images(4)
    total = 0
    steps = config.steps_present + config.steps_rest
    for k, image in enumerate(images):
        spikes = ref.encode(image, 4.0, torch.Generator().manual_seed(100 + k))
        r_ref, r_fast = (torch.zeros(steps, config.n_exc, dtype=torch.uint8) for _ in "ab")
        c_ref = ref.run(spikes, learn=learn, backend="reference", raster=r_ref)
        c_fast = fast.run(spikes, learn=learn, backend="kernel", raster=r_fast)
        assert torch.equal(c_ref, c_fast), f"image {k}: different excitatory spikes"
        assert torch.equal(r_ref, r_fast), f"image {k}: different rasters"
        # the raster holds the counted spikes of the presentation, and those of the rest
        assert torch.equal(r_ref[: config.steps_present].sum(0).long(), c_ref)
        total += int(c_ref.sum())
        a, b = ref.state_dict(), fast.state_dict()
        for key in a:
            torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-12, msg=key)
        assert torch.equal(a["theta"], b["theta"])
    assert total > 10, "the test images must make the network fire"
    if learn:
        assert not torch.equal(ref.weight, _net(config).weight)


def test_symmetric_rule_potentiates_post_before_pre_where_the_triplet_rule_depresses():
    # one input spike 2 steps after a post spike: the acausal term of each rule, by hand
    for rule, sign in (("triplet", -1.0), ("symmetric", 1.0)):
        config = dataclasses.replace(SMALL, n_exc=1, n_input=2, weight_sum=1.0, rule=rule)
        net = _net(config)
        state = net.state_dict()
        state["post"][0, 0] = 1.0  # o1: the neuron fired one step before this presentation
        state["exc"][0] = config.v_rest_exc  # and cannot fire now (no input reaches it)
        state["wt"][:] = torch.tensor([[0.4], [0.6]], dtype=torch.float64)
        net.load_state_dict(state)
        ptr = torch.zeros(config.steps_present + 1, dtype=torch.int64)
        ptr[2:] = 1  # input 1 spikes at step 1 (the first step is 0)
        counts = net.run(
            InputSpikes(ptr=ptr, idx=torch.tensor([1])), learn=True, backend="reference"
        )
        assert int(counts.sum()) == 0
        decay = torch.exp(torch.tensor(-2 * config.dt / config.tau_post1, dtype=torch.float64))
        w1 = 0.6 + sign * config.nu_pre * decay  # o1 decayed over steps 0 and 1
        expected = torch.tensor([0.4, w1], dtype=torch.float64)
        expected = expected / expected.sum()  # then the normalisation to weight_sum = 1
        torch.testing.assert_close(net.weight[0], expected, rtol=0, atol=1e-15)


def test_rule_must_be_a_known_name():
    with pytest.raises(ValueError, match="rule"):
        DiehlCookConfig(rule="hebbian")


def test_raster_of_the_wrong_shape_or_dtype_is_refused():
    net = _net()
    spikes = net.encode(_images(1)[0], 2.0, torch.Generator().manual_seed(0))
    steps = SMALL.steps_present + SMALL.steps_rest
    for bad in (
        torch.zeros(steps, SMALL.n_exc),
        torch.zeros(steps - 1, SMALL.n_exc, dtype=torch.uint8),
    ):
        with pytest.raises(ValueError, match="raster"):
            net.run(spikes, learn=False, raster=bad)


def test_kernel_equals_the_reference_with_refractory_periods_off_and_other_constants():
    config = dataclasses.replace(
        SMALL, t_ref_exc=0.0, t_ref_inh=0.0, w_inh_exc=5.0, nu_post=0.05, theta_plus=0.5
    )
    ref, fast = _net(config, seed=3), _net(config, seed=3)
    for k, image in enumerate(_images(3, seed=1)):
        spikes = ref.encode(image, 6.0, torch.Generator().manual_seed(k))
        assert torch.equal(
            ref.run(spikes, learn=True, backend="reference"),
            fast.run(spikes, learn=True, backend="kernel"),
        )
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(fast.state_dict()[key], value, rtol=0, atol=1e-12, msg=key)


def test_kernel_flushing_vanishing_traces_and_conductances_changes_nothing_visible():
    # start both paths from traces and conductances about to become subnormal
    ref, fast = _net(), _net()
    state = ref.state_dict()
    state["pre"][:, ::3] = 1e-300  # STDP traces r1, r2
    state["post"][:, ::2] = 1e-305  # o1, o2
    state["exc"][1:3, ::2] = 1e-290  # rows v, g_e, g_i, r
    state["inh"][1:3] = 1e-300
    for net in (ref, fast):
        net.load_state_dict(state)
    for k, image in enumerate(_images(2, seed=4)):
        spikes = ref.encode(image, 4.0, torch.Generator().manual_seed(k))
        assert torch.equal(
            ref.run(spikes, learn=True, backend="reference"),
            fast.run(spikes, learn=True, backend="kernel"),
        )
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(fast.state_dict()[key], value, rtol=0, atol=1e-12, msg=key)
    post = fast.state_dict()["post"]
    assert bool(((post == 0) | (post > 1e-250)).all())  # nothing subnormal left


def test_encode_draws_what_poisson_encode_draws():
    net = _net()
    image = _images(1)[0]
    spikes = net.encode(image, 2.0, torch.Generator().manual_seed(7))
    x = image.reshape(-1).to(torch.float64) / 255.0
    active = torch.nonzero(x > 0).squeeze(1)
    expected = poisson_encode(
        x[active],
        SMALL.steps_present,
        dt=SMALL.dt,
        max_rate_hz=SMALL.max_rate_hz(2.0),
        generator=torch.Generator().manual_seed(7),
    )
    dense = spikes.dense(SMALL.n_input)
    assert torch.equal(dense[:, active], expected)
    assert dense.sum() == expected.sum() > 0
    assert SMALL.max_rate_hz(2.0) == pytest.approx(63.75)


# ---------------------------------------------------------------------------------------------
# Rules around the simulation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["kernel", "reference"])
def test_each_neurons_weights_sum_to_78_4_after_a_learning_image(backend):
    net = _net()
    before = net.weight.clone()
    torch.testing.assert_close(net.weight.sum(1), torch.full((20,), 78.4, dtype=torch.float64))
    net.present(
        _images(1)[0], learn=True, generator=torch.Generator().manual_seed(0), backend=backend
    )
    assert not torch.equal(net.weight, before)
    torch.testing.assert_close(net.weight.sum(1), torch.full((20,), 78.4, dtype=torch.float64))
    assert float(net.weight.min()) >= 0.0 and float(net.weight.max()) <= 1.0


def test_frozen_presentations_change_neither_weights_nor_theta():
    net = _net()
    w, theta = net.weight.clone(), net.theta.clone()
    out = net.present(_images(1)[0], learn=False, generator=torch.Generator().manual_seed(0))
    assert out.counts.sum() > 0
    assert torch.equal(net.weight, w) and torch.equal(net.theta, theta)


def test_theta_rises_by_theta_plus_per_spike():
    config = dataclasses.replace(SMALL, tau_theta=1e12)  # no visible decay
    net = _net(config)
    theta = net.theta.clone()
    out = net.present(_images(1)[0], learn=True, generator=torch.Generator().manual_seed(0))
    steps = (net.theta - theta) / 0.05  # spikes of the presentation, and of the rest if any
    torch.testing.assert_close(steps, steps.round(), rtol=0, atol=1e-6)
    assert bool((steps.round() >= out.counts).all()) and out.counts.sum() > 0


def test_a_faint_image_is_shown_again_with_intensity_raised_by_one():
    net = _net()
    faint = torch.zeros(28, 28, dtype=torch.uint8)
    faint[8:22, 8:22] = 20
    out = net.present(faint, learn=False, generator=torch.Generator().manual_seed(0))
    assert out.presentations > 1
    assert out.intensity == SMALL.intensity + out.presentations - 1
    assert int(out.counts.sum()) >= SMALL.min_spikes
    # the network is frozen, so the last presentation alone decides
    blank = net.present(
        torch.zeros(28, 28, dtype=torch.uint8),
        learn=False,
        generator=torch.Generator().manual_seed(0),
    )
    assert blank.intensity == SMALL.max_intensity  # gave up at the cap
    assert blank.presentations == int(SMALL.max_intensity - SMALL.intensity) + 1


def test_state_dict_round_trip_resumes_exactly():
    a = _net()
    images = _images(3)
    g = torch.Generator().manual_seed(5)
    a.present(images[0], learn=True, generator=g)
    saved, g_state = a.state_dict(), g.get_state()
    b = _net(seed=9)
    b.load_state_dict({k: v.numpy() for k, v in saved.items()})
    g2 = torch.Generator()
    g2.set_state(g_state)
    for image in images[1:]:
        assert torch.equal(
            a.present(image, learn=True, generator=g).counts,
            b.present(image, learn=True, generator=g2).counts,
        )
    for key, value in a.state_dict().items():
        assert torch.equal(b.state_dict()[key], value), key


# ---------------------------------------------------------------------------------------------
# Labels and the vote
# ---------------------------------------------------------------------------------------------
def test_label_assignment_on_a_hand_made_response_matrix():
    # 4 neurons, 3 classes, 6 images (labels 0 0 1 1 2 2)
    responses = torch.tensor(
        [
            [4, 0, 1, 0],
            [2, 0, 1, 0],  # class 0: means 3, 0, 1, 0
            [0, 6, 1, 0],
            [1, 2, 1, 0],  # class 1: means 0.5, 4, 1, 0
            [0, 0, 3, 0],
            [0, 1, 3, 0],  # class 2: means 0, 0.5, 3, 0
        ]
    )
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    assignments = assign_labels(responses, labels, n_classes=3)
    assert assignments.tolist() == [0, 1, 2, -1]  # the silent neuron stays unassigned
    # vote: class mean over its assigned neurons
    test = torch.tensor([[5, 1, 0, 9], [0, 0, 2, 9], [1, 3, 3, 9]])
    assert predict(test, assignments, n_classes=3).tolist() == [0, 2, 1]
    assert accuracy(predict(test, assignments, 3), torch.tensor([0, 2, 2])) == pytest.approx(
        200 / 3
    )


def test_ties_go_to_the_lower_class_and_classes_without_neurons_score_zero():
    responses = torch.tensor([[2, 0], [2, 0]])
    assert assign_labels(responses, torch.tensor([1, 3]), n_classes=4).tolist() == [1, -1]
    assert predict(torch.tensor([[0, 0]]), torch.tensor([1, -1]), n_classes=4).tolist() == [0]


def test_predict_uses_the_mean_not_the_sum_of_a_class():
    # class 0 has three neurons firing 2 each (sum 6, mean 2); class 1 one neuron firing 3
    assignments = torch.tensor([0, 0, 0, 1])
    assert predict(torch.tensor([[2, 2, 2, 3]]), assignments, 2).tolist() == [1]


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_exc": 0}, "n_exc"),
        ({"tau_exc": -0.1}, "tau_exc"),
        ({"tau_theta": 0.0}, "tau_theta"),
        ({"dt": 0.0}, "dt"),
        ({"t_present": 0.1003}, "t_present"),
        ({"w_init_low": 0.5, "w_init_high": 0.2}, "w_init_low"),
        ({"weight_sum": 1000.0}, "weight_sum"),
        ({"max_intensity": 100.0}, "max_intensity"),
        ({"e_inh_exc": 10.0}, "e_inh_exc"),
        ({"nu_post": -1.0}, "nu_post"),
        ({"max_intensity": 1.0}, "max_intensity"),
    ],
)
def test_bad_configs_are_refused_by_name(changes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        dataclasses.replace(SMALL, **changes)


def test_bad_arguments_are_refused_by_name():
    net = _net()
    g = torch.Generator().manual_seed(0)
    with pytest.raises(TypeError, match="generator"):
        DiehlCookNetwork(SMALL, generator=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_input"):
        net.encode(torch.zeros(10, 10), 2.0, g)
    with pytest.raises(ValueError, match="backend"):
        net.run(net.encode(_images(1)[0], 2.0, g), learn=True, backend="cuda")
    with pytest.raises(ValueError, match=r"spikes\.ptr"):
        net.run(
            InputSpikes(torch.zeros(3, dtype=torch.int64), torch.zeros(0, dtype=torch.int64)),
            learn=False,
        )
    with pytest.raises(ValueError, match="labels"):
        assign_labels(torch.zeros(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="assignments"):
        predict(torch.zeros(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="shape"):
        net.load_state_dict({**net.state_dict(), "theta": torch.zeros(3)})


def test_normalize_weights_is_what_the_network_applies():
    net = _net()
    w = net.weight.clone()
    torch.testing.assert_close(normalize_weights(w, 78.4), w, rtol=1e-14, atol=0)


def test_training_interrupted_inside_an_epoch_resumes_to_the_same_network(tmp_path):
    from dendrix.recipes.diehl_cook import DiehlCookRecipeConfig, train

    config = DiehlCookRecipeConfig(
        sizes=(12,),
        epochs=(2,),
        t_present=0.05,
        t_rest=0.02,
        label_images=1,
        checkpoint_every=2,
        progress=False,
    )
    images = _images(4, seed=2)
    whole = train(config, 12, 2, images, record_every=2)
    ckpt = tmp_path / "dc.npz"
    first = train(config, 12, 2, images, checkpoint=ckpt, record_every=2, stop_after=5)
    assert len(first.spikes) == 5 and ckpt.exists()  # stopped inside the second epoch
    rest = train(config, 12, 2, images, checkpoint=ckpt, record_every=2)
    assert rest.resumed_at == 5 and len(rest.spikes) == 8
    assert torch.equal(rest.spikes, whole.spikes)
    assert torch.equal(rest.presentations, whole.presentations)
    assert torch.equal(rest.theta_mean, whole.theta_mean)
    for key, value in whole.network.state_dict().items():
        assert torch.equal(rest.network.state_dict()[key], value), key
    longer = train(config, 12, 3, images, checkpoint=ckpt, record_every=2)  # one more epoch
    assert longer.resumed_at == 8 and torch.equal(longer.spikes[:8], whole.spikes)
    with pytest.raises(ValueError, match="more than this run"):
        train(config, 12, 1, images, checkpoint=ckpt)
    other = DiehlCookRecipeConfig(
        sizes=(12,), epochs=(2,), t_present=0.05, t_rest=0.02, label_images=1, seed=1
    )
    with pytest.raises(ValueError, match="different configuration"):
        train(other, 12, 2, images, checkpoint=ckpt)

"""Hao et al.'s symmetric-STDP network: the output kernel equals the readable reference, the
output rule gives the hand-derived update, the teacher teaches, and bad input is refused."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from dendrix.plasticity.diehl_cook import DiehlCookConfig
from dendrix.plasticity.sym_stdp import (
    SymSTDPConfig,
    SymSTDPNetwork,
    predict_output,
    simulate_output,
)

HIDDEN = DiehlCookConfig(n_exc=20, t_present=0.1, t_rest=0.05, rule="symmetric")
SMALL = SymSTDPConfig(hidden=HIDDEN, n_classes=4)


def _images(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    out = torch.zeros(n, 28, 28, dtype=torch.uint8)
    for k in range(n):
        r, c = (int(v) for v in torch.randint(2, 12, (2,), generator=g))
        out[k, r : r + 12, c : c + 10] = torch.randint(120, 256, (12, 10), generator=g).to(
            torch.uint8
        )
    return out


def _net(config: SymSTDPConfig = SMALL, seed: int = 0) -> SymSTDPNetwork:
    return SymSTDPNetwork(config, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("teach", [True, False])
def test_kernel_equals_the_reference_over_several_images(teach):
    # without a teacher the untrained output layer fires only if its weights are strong
    config = SMALL if teach else dataclasses.replace(SMALL, out_weight_mean=5.0, u_max=20.0)
    ref, fast = _net(config), _net(config)
    spikes = 0
    for k, image in enumerate(_images(4)):
        label = k % SMALL.n_classes if teach else None
        a = ref.present(
            image, label=label, generator=torch.Generator().manual_seed(k), backend="reference"
        )
        b = fast.present(image, label=label, generator=torch.Generator().manual_seed(k))
        assert torch.equal(a.hidden_counts, b.hidden_counts)
        assert torch.equal(a.output_counts, b.output_counts), f"image {k}"
        torch.testing.assert_close(b.drive, a.drive, rtol=0, atol=1e-12)
        spikes += int(a.output_counts.sum())
    assert spikes > 0, "the output layer must fire for the comparison to mean something"
    sa, sb = ref.state_dict(), fast.state_dict()
    for key in ("ut", "out", "z_out", "x", "o"):
        torch.testing.assert_close(sb[key], sa[key], rtol=0, atol=1e-12, msg=key)
    if teach:
        assert not torch.equal(ref.output_weight, _net(config).output_weight)
    else:
        assert torch.equal(ref.output_weight, _net(config).output_weight)  # frozen: no label


def test_output_rule_hidden_then_output_spike_potentiates_by_eta_exp_minus_dt_over_tau():
    # hidden neuron 0 fires at step 0; the teacher makes output 1 fire at step 2 (it is huge)
    config = dataclasses.replace(SMALL, w_teacher=1e6, eta_post=0.02, eta_pre=0.0)
    net = _net(config)
    n_h, n_c, steps = config.n_hidden, config.n_classes, 5
    ut = net._ut.numpy().copy()
    raster = np.zeros((steps, n_h), dtype=np.uint8)
    raster[0, 0] = 1
    teacher = np.zeros(steps, dtype=np.uint8)
    teacher[2] = 1
    out = net._out.numpy().copy()
    counts, drive = np.zeros(n_c, dtype=np.int64), np.zeros(n_c)
    x_tr, o_tr = np.zeros(n_h), np.zeros(n_c)
    simulate_output(
        raster, teacher, 1, ut, out, np.zeros(n_c), x_tr, o_tr, net._gparams, 10.0, True,
        counts, drive,
    )  # fmt: skip
    assert counts.tolist() == [0, 1, 0, 0]
    expected = net._ut.numpy().copy()
    expected[0, 1] += 0.02 * math.exp(-2 * HIDDEN.dt / config.tau_x)
    expected *= config.out_weight_sum / expected.sum(0, keepdims=True)  # synaptic scaling
    np.testing.assert_allclose(ut, expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(drive, net._ut.numpy()[0], rtol=0, atol=0)  # one hidden spike


def test_output_rule_output_then_hidden_spike_also_potentiates():
    config = dataclasses.replace(SMALL, w_teacher=1e6, eta_post=0.0, eta_pre=0.03)
    net = _net(config)
    n_h, n_c, steps = config.n_hidden, config.n_classes, 5
    ut = net._ut.numpy().copy()
    raster = np.zeros((steps, n_h), dtype=np.uint8)
    raster[3, 4] = 1  # hidden neuron 4 fires 3 steps after output 2
    teacher = np.zeros(steps, dtype=np.uint8)
    teacher[0] = 1
    counts, drive = np.zeros(n_c, dtype=np.int64), np.zeros(n_c)
    simulate_output(
        raster, teacher, 2, ut, net._out.numpy().copy(), np.zeros(n_c), np.zeros(n_h),
        np.zeros(n_c), net._gparams, 10.0, True, counts, drive,
    )  # fmt: skip
    expected = net._ut.numpy().copy()
    expected[4, 2] += 0.03 * math.exp(-3 * HIDDEN.dt / config.tau_o)
    expected *= config.out_weight_sum / expected.sum(0, keepdims=True)
    np.testing.assert_allclose(ut, expected, rtol=0, atol=1e-13)


def test_teacher_makes_the_label_neuron_fire_and_only_its_weights_gain_on_active_hidden_cells():
    net = _net()
    before = net.output_weight.clone()
    image = _images(1, seed=3)[0]
    out = net.present(image, label=2, generator=torch.Generator().manual_seed(0))
    assert int(out.output_counts.argmax()) == 2 and int(out.output_counts[2]) >= 5
    active = out.hidden_counts > 0
    assert bool(active.any())
    share = lambda w, row: float(w[row, active].sum() / w[row].sum())  # noqa: E731
    assert share(net.output_weight, 2) > share(before, 2)


def test_training_on_two_classes_separates_them():
    config = dataclasses.replace(SMALL, n_classes=2)
    net = _net(config)
    left = torch.zeros(28, 28, dtype=torch.uint8)
    left[4:24, 3:11] = 255
    right = left.flip(1)
    g = torch.Generator().manual_seed(1)
    for _ in range(15):
        net.present(left, label=0, generator=g)
        net.present(right, label=1, generator=g)
    results = [net.present(x, label=None, generator=g) for x in (left, right, left, right)]
    pred, _ = predict_output(
        torch.stack([r.output_counts for r in results]), torch.stack([r.drive for r in results])
    )
    assert pred.tolist() == [0, 1, 0, 1]


def test_state_dict_round_trip_resumes_exactly():
    a = _net()
    images = _images(3, seed=5)
    g = torch.Generator().manual_seed(5)
    a.present(images[0], label=1, generator=g)
    saved, g_state = a.state_dict(), g.get_state()
    b = _net(seed=9)
    b.load_state_dict(saved)
    g2 = torch.Generator()
    g2.set_state(g_state)
    for k, image in enumerate(images[1:]):
        ra = a.present(image, label=k, generator=g)
        rb = b.present(image, label=k, generator=g2)
        assert torch.equal(ra.output_counts, rb.output_counts)
    assert torch.equal(a.output_weight, b.output_weight)
    assert torch.equal(a.hidden.weight, b.hidden.weight)


def test_predict_output_breaks_ties_by_drive_and_says_so():
    counts = torch.tensor([[2, 2, 1], [0, 0, 0], [0, 4, 1]])
    drive = torch.tensor([[1.0, 3.0, 9.0], [0.1, 0.0, 0.3], [5.0, 0.0, 0.0]])
    pred, by_spikes = predict_output(counts, drive)
    assert pred.tolist() == [1, 2, 1]  # the tie 0/1 goes to 1; neuron 2's drive is not a tie
    assert by_spikes.tolist() == [False, False, True]
    with pytest.raises(ValueError, match="drive"):
        predict_output(counts, drive[:, :2])


def test_bad_input_is_refused():
    net = _net()
    image = _images(1)[0]
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="label"):
        net.present(image, label=SMALL.n_classes, generator=g)
    with pytest.raises(TypeError, match="generator"):
        net.present(image, label=0, generator=0)
    with pytest.raises(ValueError, match="backend"):
        net.present(image, label=0, generator=g, backend="gpu")
    with pytest.raises(ValueError, match="teacher_rate"):
        SymSTDPConfig(hidden=HIDDEN, teacher_rate=5000.0)
    with pytest.raises(ValueError, match="u_init_low"):
        SymSTDPConfig(hidden=HIDDEN, u_init_low=0.5, u_init_high=0.1)
    with pytest.raises(ValueError, match="v_thresh_out"):
        SymSTDPConfig(hidden=HIDDEN, v_thresh_out=-70.0)
    with pytest.raises(ValueError, match="tau_x"):
        SymSTDPConfig(hidden=HIDDEN, tau_x=-1.0)
    with pytest.raises(TypeError, match="hidden"):
        SymSTDPConfig(hidden=SMALL)
    state = net.state_dict()
    state["ut"] = state["ut"][:3]
    with pytest.raises(ValueError, match="ut"):
        net.load_state_dict(state)


def test_recipe_training_interrupted_inside_the_epoch_resumes_to_the_same_network(tmp_path):
    from dendrix.recipes.sym_stdp import SymSTDPRecipeConfig, train

    config = SymSTDPRecipeConfig(n_hidden=8, epochs=1, checkpoint_every=2, progress=False)
    images = _images(5, seed=2)
    labels = torch.tensor([0, 1, 2, 3, 4])
    whole, log = train(config, "mnist", images, labels)
    ckpt = tmp_path / "sym.npz"
    _, first = train(config, "mnist", images, labels, checkpoint=ckpt, stop_after=3)
    assert first["done"] == 3 and ckpt.exists()
    rest, rest_log = train(config, "mnist", images, labels, checkpoint=ckpt)
    assert rest_log["resumed_at"] == 3
    assert np.array_equal(rest_log["label_spikes"], log["label_spikes"])
    assert torch.equal(rest.output_weight, whole.output_weight)
    assert torch.equal(rest.hidden.weight, whole.hidden.weight)
    other = dataclasses.replace(config, eta=0.1)
    with pytest.raises(ValueError, match="different configuration"):
        train(other, "mnist", images, labels, checkpoint=ckpt)

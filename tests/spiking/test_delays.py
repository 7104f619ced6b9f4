"""Learned synaptic delays (DCLS) and fixed integer delays, with hand-derived expectations."""

from __future__ import annotations

import copy
import doctest
import io
import math

import pytest
import torch

from dendrix.spiking.delays import (
    Delay,
    DelayedLinear,
    anneal_sigma,
    delay_shift,
    delayed_linear,
    delayed_linear_reference,
    gaussian_delay_kernel,
)

D = torch.float64


def _impulse(num_steps: int, in_features: int = 1, at: int = 0) -> torch.Tensor:
    """``[T, 1, in]`` with one spike on every input at step ``at``."""
    x = torch.zeros(num_steps, 1, in_features, dtype=D)
    x[at] = 1.0
    return x


def _single_synapse(delay: float, max_delay: int, sigma: float = 1.0) -> DelayedLinear:
    layer = DelayedLinear(1, 1, max_delay=max_delay, sigma_init=sigma).double()
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.delay.fill_(delay)
    return layer


# --------------------------------------------------------------------------------------------
# The Gaussian taps
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("d", [0.0, 0.3, 2.7, 4.49, 6.0])
def test_kernel_sums_to_one_and_peaks_at_the_rounded_delay(d, sigma):
    k = gaussian_delay_kernel(torch.tensor([d], dtype=D), sigma, 6)[0]
    assert k.shape == (7,)
    assert float(k.sum()) == pytest.approx(1.0, abs=1e-12)
    assert int(k.argmax()) == round(d)
    assert (k > 0).all()


def test_kernel_values_for_delay_1_width_1_over_three_taps():
    # K = [a, 1, a] / (1 + 2a) with a = exp(-1/2)
    a = math.exp(-0.5)
    k = gaussian_delay_kernel(torch.tensor(1.0, dtype=D), 1.0, 2)
    expected = torch.tensor([a, 1.0, a], dtype=D) / (1 + 2 * a)
    torch.testing.assert_close(k, expected, rtol=0, atol=1e-15)


def test_a_very_narrow_kernel_halfway_between_taps_splits_evenly_instead_of_nan():
    # exp(-0.25 / 2e-4) underflows to 0 for both taps; normalising must still give 1/2, 1/2
    k = gaussian_delay_kernel(torch.tensor(2.5), 0.01, 4)
    torch.testing.assert_close(k, torch.tensor([0.0, 0.0, 0.5, 0.5, 0.0]))


def test_impulse_response_of_one_synapse_is_weight_times_the_taps():
    layer = _single_synapse(1.0, 2)
    with torch.no_grad():
        layer.weight.fill_(-2.0)
        y = layer(_impulse(5))[:, 0, 0]
    a = math.exp(-0.5)
    expected = -2.0 * torch.tensor([a, 1.0, a, 0.0, 0.0], dtype=D) / (1 + 2 * a)
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-15)


def test_the_output_is_causal():
    g = torch.Generator().manual_seed(3)
    layer = DelayedLinear(3, 2, max_delay=4, generator=g).double()
    x = torch.rand(10, 2, 3, generator=g, dtype=D)
    x2 = x.clone()
    x2[6:] = torch.rand(4, 2, 3, generator=g, dtype=D)
    with torch.no_grad():
        torch.testing.assert_close(layer(x)[:6], layer(x2)[:6], rtol=0, atol=0)
        assert not torch.equal(layer(x)[6:], layer(x2)[6:])


# --------------------------------------------------------------------------------------------
# Fast path == reference loop, outputs and gradients
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("max_delay", "num_steps"), [(0, 6), (1, 7), (5, 12), (5, 3)])
@pytest.mark.parametrize("sigma", [0.4, 1.5, 4.0])
def test_conv_path_equals_the_reference_loop_on_outputs_and_gradients(max_delay, num_steps, sigma):
    g = torch.Generator().manual_seed(10 * max_delay + num_steps)
    out_f, in_f, batch = 3, 4, 2
    x = torch.rand(num_steps, batch, in_f, generator=g, dtype=D)
    x = (x < 0.4).to(D) + 0.1 * torch.randn(num_steps, batch, in_f, generator=g, dtype=D)
    weight = torch.randn(out_f, in_f, generator=g, dtype=D)
    delay = torch.rand(out_f, in_f, generator=g, dtype=D) * max_delay
    # two delays outside the range: the clamp (and its zero gradient) must agree too
    delay[0, 0], delay[1, 2] = -0.7, max_delay + 0.6
    upstream = torch.randn(num_steps, batch, out_f, generator=g, dtype=D)

    grads = []
    outputs = []
    for fn in (delayed_linear, delayed_linear_reference):
        xs, ws, ds = (t.clone().requires_grad_(True) for t in (x, weight, delay))
        y = fn(xs, ws, ds, sigma, max_delay)
        (y * upstream).sum().backward()
        outputs.append(y.detach())
        grads.append((xs.grad, ws.grad, ds.grad))

    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=1e-10)
    for fast, ref, name in zip(grads[0], grads[1], ("x", "weight", "delay"), strict=True):
        torch.testing.assert_close(fast, ref, rtol=0, atol=1e-10, msg=f"gradient wrt {name}")
    assert grads[0][2][0, 0] == 0 and grads[0][2][1, 2] == 0  # clamped, outside the range
    if max_delay > 0:
        assert grads[0][2].abs().sum() > 0


def test_module_forward_equals_the_functional_with_its_parameters_and_bias():
    g = torch.Generator().manual_seed(4)
    layer = DelayedLinear(3, 2, max_delay=4, bias=True, generator=g).double()
    x = torch.rand(9, 2, 3, generator=g, dtype=D)
    with torch.no_grad():
        no_bias = delayed_linear_reference(x, layer.weight, layer.delay, float(layer.sigma), 4)
        torch.testing.assert_close(layer(x), no_bias + layer.bias, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Rounded delays: exact integer shifts
# --------------------------------------------------------------------------------------------
def test_one_spike_at_t0_with_rounded_delay_3_comes_out_exactly_at_t3():
    layer = _single_synapse(3.2, 6).round_delays()
    assert layer.mode == "rounded"
    assert layer.integer_delays().dtype == torch.int64
    assert layer.integer_delays().tolist() == [[3]]
    assert layer.delay.item() == 3.0  # the parameter itself was rounded
    y = layer(_impulse(8))[:, 0, 0]
    assert y.tolist() == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_rounded_mode_is_a_sum_of_exact_integer_shifts():
    g = torch.Generator().manual_seed(5)
    layer = DelayedLinear(3, 2, max_delay=5, generator=g).round_delays()
    x = torch.rand(11, 2, 3, generator=g)
    d = layer.integer_delays()
    with torch.no_grad():
        y = layer(x)
        expected = torch.zeros(11, 2, 2)
        for o in range(2):
            for i in range(3):
                k = int(d[o, i])
                expected[k:, :, o] += layer.weight[o, i] * x[: 11 - k, :, i]
    torch.testing.assert_close(y, expected, rtol=1e-6, atol=1e-7)


def test_integer_delays_round_and_clamp_without_touching_the_parameter():
    layer = DelayedLinear(4, 1, max_delay=3)
    with torch.no_grad():
        layer.delay.copy_(torch.tensor([[-1.0, 0.75, 2.25, 7.0]]))
    assert layer.integer_delays().tolist() == [[0, 1, 2, 3]]
    assert layer.delay.tolist() == [[-1.0, 0.75, 2.25, 7.0]]
    assert layer.mode == "gaussian"


def test_rounded_mode_gives_no_gradient_to_delays_but_trains_weights():
    layer = _single_synapse(2.0, 4).set_mode("rounded")
    layer(_impulse(6)).sum().backward()
    assert layer.delay.grad is None or layer.delay.grad.abs().sum() == 0
    assert layer.weight.grad.item() == 1.0  # y = w * x[t - 2], summed over t: dL/dw = 1


def test_a_narrow_gaussian_approaches_the_rounded_output():
    g = torch.Generator().manual_seed(6)
    layer = DelayedLinear(3, 2, max_delay=5, sigma_init=0.05, generator=g)
    x = torch.rand(10, 2, 3, generator=g)
    with torch.no_grad():
        layer.delay.copy_(layer.delay.round() + 0.2)  # well away from the half-way ties
        soft = layer(x)
        hard = layer.set_mode("rounded")(x)
    torch.testing.assert_close(soft, hard, rtol=0, atol=1e-5)


# --------------------------------------------------------------------------------------------
# The delay gradient
# --------------------------------------------------------------------------------------------
def _loss_for_delay(d: torch.Tensor, target_step: int = 5) -> torch.Tensor:
    """MSE between the impulse response of a weight-1 synapse and a spike at ``target_step``."""
    x = _impulse(10)
    target = torch.zeros(10, 1, 1, dtype=D)
    target[target_step] = 1.0
    y = delayed_linear(x, torch.ones(1, 1, dtype=D), d.reshape(1, 1), 1.0, 8)
    return ((y - target) ** 2).mean()


@pytest.mark.parametrize(("d0", "sign"), [(2.3, -1.0), (7.4, 1.0)])
def test_delay_gradient_points_away_from_the_target_spike_time(d0, sign):
    d = torch.tensor(d0, dtype=D, requires_grad=True)
    loss = _loss_for_delay(d)
    loss.backward()
    assert math.copysign(1.0, d.grad.item()) == sign
    # finite differences agree with autograd
    h = 1e-6
    with torch.no_grad():
        fd = (_loss_for_delay(d + h) - _loss_for_delay(d - h)) / (2 * h)
    assert d.grad.item() == pytest.approx(fd.item(), rel=1e-6)
    # and a step towards the target (against the gradient) lowers the loss
    with torch.no_grad():
        assert _loss_for_delay(d - 0.1 * d.grad.sign()) < loss


def test_gradient_descent_on_the_delay_alone_reaches_the_target():
    layer = _single_synapse(1.5, 8)
    target = torch.zeros(10, 1, 1, dtype=D)
    target[6] = 1.0
    opt = torch.optim.SGD([layer.delay], lr=20.0)
    for epoch in range(60):
        layer.set_sigma(anneal_sigma(epoch, 40, 2.0, 0.3))
        opt.zero_grad()
        ((layer(_impulse(10)) - target) ** 2).mean().backward()
        opt.step()
        layer.clamp_delays_()
    assert layer.integer_delays().item() == 6


# --------------------------------------------------------------------------------------------
# Range of the delays
# --------------------------------------------------------------------------------------------
def test_forward_clamps_out_of_range_delays_to_the_bounds():
    x = _impulse(8)
    above, at_max = _single_synapse(9.5, 4), _single_synapse(4.0, 4)
    below, at_zero = _single_synapse(-3.0, 4), _single_synapse(0.0, 4)
    with torch.no_grad():
        torch.testing.assert_close(above(x), at_max(x), rtol=0, atol=0)
        torch.testing.assert_close(below(x), at_zero(x), rtol=0, atol=0)


def test_clamp_delays_projects_the_parameter_and_restores_its_gradient():
    layer = _single_synapse(9.5, 4)
    target = torch.zeros(8, 1, 1, dtype=D)
    target[1] = 1.0
    ((layer(_impulse(8)) - target) ** 2).sum().backward()
    assert layer.delay.grad.item() == 0.0  # beyond the bound: no gradient
    layer.zero_grad()
    layer.clamp_delays_()
    assert layer.delay.item() == 4.0
    ((layer(_impulse(8)) - target) ** 2).sum().backward()
    assert layer.delay.grad.item() > 0.0  # on the bound: pulled back towards t = 1


def test_initial_delays_lie_in_range_and_follow_the_generator():
    a = DelayedLinear(20, 10, max_delay=7, generator=torch.Generator().manual_seed(1))
    a.requires_grad_(False)
    b = DelayedLinear(20, 10, max_delay=7, generator=torch.Generator().manual_seed(1))
    c = DelayedLinear(20, 10, max_delay=7, generator=torch.Generator().manual_seed(2))
    assert float(a.delay.min()) >= 0.0 and float(a.delay.max()) <= 7.0
    assert float(a.delay.max()) > 5.0  # spread over the range, not bunched at 0
    assert torch.equal(a.delay, b.delay) and torch.equal(a.weight, b.weight)
    assert not torch.equal(a.delay, c.delay)
    assert float(a.weight.abs().max()) <= 1 / math.sqrt(20)


# --------------------------------------------------------------------------------------------
# Sigma schedule
# --------------------------------------------------------------------------------------------
def test_anneal_sigma_is_geometric_from_start_to_end_then_constant():
    assert anneal_sigma(0, 10, 4.0, 0.25) == pytest.approx(4.0, rel=1e-15)
    assert anneal_sigma(5, 10, 4.0, 0.25) == pytest.approx(1.0, rel=1e-12)  # sqrt(4 * 0.25)
    assert anneal_sigma(10, 10, 4.0, 0.25) == 0.25
    assert anneal_sigma(25, 10, 4.0, 0.25) == 0.25
    ratios = [
        anneal_sigma(e + 1, 10, 4.0, 0.25) / anneal_sigma(e, 10, 4.0, 0.25) for e in range(10)
    ]
    assert ratios == pytest.approx([0.0625**0.1] * 10, rel=1e-12)


def test_set_sigma_changes_the_width_used_by_forward():
    layer = _single_synapse(2.0, 4, sigma=2.0)
    wide = layer(_impulse(6)).detach()
    layer.set_sigma(0.5)
    assert layer.sigma.item() == 0.5
    narrow = layer(_impulse(6)).detach()
    assert narrow[2].item() > wide[2].item()
    expected = gaussian_delay_kernel(torch.tensor(2.0, dtype=D), 0.5, 4)
    torch.testing.assert_close(narrow[:5, 0, 0], expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1, 10, 1.0, 0.5), "epoch"),
        ((0, 0, 1.0, 0.5), "num_epochs"),
        ((0, 10, 0.0, 0.5), "sigma_start"),
        ((0, 10, 1.0, -0.5), "sigma_end"),
    ],
)
def test_anneal_sigma_rejects_bad_arguments(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        anneal_sigma(*args)


# --------------------------------------------------------------------------------------------
# Validation and persistence
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (torch.zeros(5, 3), ValueError, "3 dimension"),
        (torch.zeros(5, 2, 4), ValueError, "last dimension 3"),
        (torch.full((5, 2, 3), float("nan")), ValueError, "NaN"),
        (torch.zeros(0, 2, 3), ValueError, "at least one time step"),
        (torch.zeros(5, 2, 3, dtype=D), TypeError, "dtype"),
        (torch.zeros(5, 2, 3, dtype=torch.long), TypeError, "floating"),
    ],
)
def test_forward_rejects_bad_input(x, error, match):
    with pytest.raises(error, match=match):
        DelayedLinear(3, 2, max_delay=4)(x)


def test_constructor_and_setters_reject_bad_arguments():
    with pytest.raises(ValueError, match="max_delay"):
        DelayedLinear(3, 2, max_delay=-1)
    with pytest.raises(TypeError, match="max_delay"):
        DelayedLinear(3, 2, max_delay=2.5)
    with pytest.raises(ValueError, match="sigma_init"):
        DelayedLinear(3, 2, max_delay=4, sigma_init=0.0)
    with pytest.raises(ValueError, match="mode"):
        DelayedLinear(3, 2, max_delay=4, mode="linear")
    layer = DelayedLinear(3, 2, max_delay=4)
    with pytest.raises(ValueError, match="sigma"):
        layer.set_sigma(-1.0)
    with pytest.raises(ValueError, match="delay must have weight's shape"):
        delayed_linear(torch.zeros(4, 1, 3), layer.weight, layer.delay[:, :2], 1.0, 4)


def test_state_dict_round_trip_restores_delays_sigma_and_mode():
    g = torch.Generator().manual_seed(7)
    src = DelayedLinear(3, 2, max_delay=5, bias=True, generator=g)
    src.set_sigma(0.7)
    src.round_delays()
    buffer = io.BytesIO()
    torch.save(src.state_dict(), buffer)
    buffer.seek(0)
    dst = DelayedLinear(3, 2, max_delay=5, bias=True, generator=torch.Generator().manual_seed(8))
    assert dst.mode == "gaussian"
    dst.load_state_dict(torch.load(buffer, weights_only=True))
    assert dst is not src and dst.mode == "rounded" and dst.sigma.item() == pytest.approx(0.7)
    x = torch.rand(9, 2, 3, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(dst(x), src(x), rtol=0, atol=0)


# --------------------------------------------------------------------------------------------
# Fixed integer delays
# --------------------------------------------------------------------------------------------
def test_delay_shifts_each_feature_exactly_and_fills_with_zeros():
    x = torch.arange(1.0, 7.0)[:, None, None].repeat(1, 2, 3)  # [6, 2, 3], x[t] = t + 1
    y = Delay(3, [0, 2, 6])(x)
    assert y[:, 0, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert y[:, 1, 1].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    assert y[:, 0, 2].tolist() == [0.0] * 6  # delay >= T: nothing arrives in the window


def test_delay_passes_the_gradient_back_shifted():
    x = torch.zeros(5, 1, 2, requires_grad=True)
    upstream = torch.arange(1.0, 11.0).reshape(5, 1, 2)
    (Delay(2, [1, 3])(x) * upstream).sum().backward()
    # dL/dx[s, f] = upstream[s + d_f, f] when s + d_f < T, else 0
    assert x.grad[:, 0, 0].tolist() == [3.0, 5.0, 7.0, 9.0, 0.0]
    assert x.grad[:, 0, 1].tolist() == [8.0, 10.0, 0.0, 0.0, 0.0]


def test_delay_equals_a_rounded_delayed_linear_with_identity_weights():
    g = torch.Generator().manual_seed(9)
    delays = torch.tensor([0, 4, 1, 3])
    layer = DelayedLinear(4, 4, max_delay=5).set_mode("rounded")
    with torch.no_grad():
        layer.weight.copy_(torch.eye(4))
        layer.delay.copy_(delays[:, None].float().expand(4, 4))
    x = (torch.rand(12, 3, 4, generator=g) < 0.3).float()
    with torch.no_grad():
        torch.testing.assert_close(layer(x), Delay(4, delays)(x), rtol=0, atol=0)
        torch.testing.assert_close(delay_shift(x, delays), Delay(4, delays)(x), rtol=0, atol=0)


def test_a_single_int_delays_every_feature_alike():
    assert Delay(3, 2).delays.tolist() == [2, 2, 2]
    assert Delay(3, torch.tensor(1)).delays.tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("delays", "error", "match"),
    [
        ([1, -1, 0], ValueError, r"delays\[1\]"),
        ([1, 2], ValueError, "one delay per feature"),
        ([1.5, 0, 0], TypeError, r"delays\[0\]"),
        (torch.tensor([0.0, 1.0, 2.0]), TypeError, "integer"),
        (torch.tensor([0, -2, 1]), ValueError, ">= 0"),
    ],
)
def test_delay_rejects_bad_delays(delays, error, match):
    with pytest.raises(error, match=match):
        Delay(3, delays)


def test_delay_rejects_input_with_the_wrong_feature_count():
    with pytest.raises(ValueError, match="last dimension 3"):
        Delay(3, 1)(torch.zeros(4, 2, 5))


@pytest.mark.parametrize("mode", ["gaussian", "rounded"])
def test_compiled_equals_eager_for_both_layers(mode):
    g = torch.Generator().manual_seed(12)
    layer = DelayedLinear(4, 3, max_delay=5, bias=True, mode=mode, generator=g)
    shift = Delay(4, [0, 2, 5, 30])
    x = torch.rand(10, 2, 4, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(
            torch.compile(layer, backend="aot_eager", fullgraph=True)(x),
            layer(x),
            rtol=1e-5,
            atol=1e-6,
        )
        torch.testing.assert_close(
            torch.compile(shift, backend="aot_eager", fullgraph=True)(x), shift(x), rtol=0, atol=0
        )


def test_docstring_examples_run():
    import dendrix.spiking.delays as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_forward_and_gradients_match_cpu():
    g = torch.Generator().manual_seed(11)
    cpu = DelayedLinear(5, 3, max_delay=6, bias=True, generator=g).double()
    gpu = copy.deepcopy(cpu).cuda()
    x = torch.rand(20, 4, 5, generator=g, dtype=D)
    cpu(x).square().sum().backward()
    gpu(x.cuda()).square().sum().backward()
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x), rtol=0, atol=1e-10)
    for (name, p_cpu), p_gpu in zip(cpu.named_parameters(), gpu.parameters(), strict=True):
        torch.testing.assert_close(p_gpu.grad.cpu(), p_cpu.grad, rtol=0, atol=1e-10, msg=name)
    y = Delay(5, [0, 1, 2, 3, 40]).cuda()(x.cuda())
    torch.testing.assert_close(y.cpu(), Delay(5, [0, 1, 2, 3, 40])(x), rtol=0, atol=0)

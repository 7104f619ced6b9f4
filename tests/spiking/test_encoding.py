"""Spike encoders and readouts: statistics, hand-derived spike times, hand-computed losses."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from dendrix.spiking.encoding import (
    delta_encode,
    latency_encode,
    max_membrane,
    mse_count_loss,
    poisson_encode,
    rate_cross_entropy,
    rate_encode,
    spike_count,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------
# rate_encode / poisson_encode
# --------------------------------------------------------------------------------------------
def test_rate_code_mean_is_within_binomial_tolerance():
    x = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    num_steps = 4000
    z = rate_encode(x, num_steps, generator=gen(0))
    assert z.shape == (num_steps, 5) and z.dtype == torch.float32
    assert set(z.unique().tolist()) <= {0.0, 1.0}
    mean = z.mean(dim=0)
    assert mean[0].item() == 0.0 and mean[4].item() == 1.0  # p = 0 and p = 1 are exact
    for p, m in zip(x[1:4].tolist(), mean[1:4].tolist(), strict=True):
        sigma = math.sqrt(p * (1 - p) / num_steps)
        assert abs(m - p) < 5 * sigma, (p, m)


def test_rate_code_applies_gain_and_keeps_shape_and_dtype():
    x = torch.tensor([[0.1, 0.4]], dtype=torch.float64)  # [B=1, 2], probabilities 0.2 and 0.8
    num_steps = 4000
    z = rate_encode(x, num_steps, gain=2.0, generator=gen(3))
    assert z.shape == (num_steps, 1, 2) and z.dtype == torch.float64
    for p, m in zip((0.2, 0.8), z.mean(dim=0)[0].tolist(), strict=True):
        assert abs(m - p) < 5 * math.sqrt(p * (1 - p) / num_steps)


def test_rate_code_is_reproducible_from_the_seed_only():
    x = torch.full((3, 7), 0.5)
    a = rate_encode(x, 50, generator=gen(42))
    b = rate_encode(x, 50, generator=gen(42))  # a fresh generator with the same seed
    c = rate_encode(x, 50, generator=gen(43))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_rate_code_does_not_touch_the_global_rng():
    before = torch.random.get_rng_state()
    rate_encode(torch.full((10,), 0.5), 20, generator=gen(1))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_poisson_code_fires_at_x_times_max_rate():
    x = torch.tensor([0.0, 0.25, 1.0])
    dt, max_rate, num_steps = 1e-3, 200.0, 20000  # p = 0, 0.05, 0.2 per step
    z = poisson_encode(x, num_steps, dt=dt, max_rate_hz=max_rate, generator=gen(5))
    assert z.shape == (num_steps, 3)
    rates = z.mean(dim=0) / dt
    assert rates[0].item() == 0.0
    for p, hz in ((0.05, rates[1].item()), (0.2, rates[2].item())):
        sigma_hz = math.sqrt(p * (1 - p) / num_steps) / dt
        assert abs(hz - p / dt) < 5 * sigma_hz


def test_poisson_code_is_reproducible():
    x = torch.full((4,), 0.5)
    kw = dict(dt=1e-3, max_rate_hz=100.0)
    a = poisson_encode(x, 30, generator=gen(9), **kw)
    assert torch.equal(a, poisson_encode(x, 30, generator=gen(9), **kw))
    assert not torch.equal(a, poisson_encode(x, 30, generator=gen(10), **kw))


# --------------------------------------------------------------------------------------------
# latency_encode
# --------------------------------------------------------------------------------------------
def first_spike_steps(z: torch.Tensor) -> list[int | None]:
    """Step of each element's spike in a [T, N] train, None if it never spikes."""
    out = []
    for n in range(z.shape[1]):
        hits = torch.nonzero(z[:, n]).flatten().tolist()
        out.append(hits[0] if hits else None)
    return out


def test_log_latency_spike_times_match_the_rc_formula():
    # tau = 1 s, theta = 0.5, dt = 0.1 s: t* = ln(x / (x - 0.5)).
    #   x = 1.0  -> ln 2  = 0.693 s -> step 6
    #   x = 0.75 -> ln 3  = 1.099 s -> step 10
    #   x = 0.6  -> ln 6  = 1.792 s -> step 17
    #   x = 0.55 -> ln 11 = 2.398 s -> step 23 >= T = 20: no spike inside the window
    #   x = 0.5, 0.3 (<= theta): never
    x = torch.tensor([1.0, 0.75, 0.6, 0.55, 0.5, 0.3])
    z = latency_encode(x, 20, dt=0.1, tau=1.0, threshold=0.5)
    assert z.shape == (20, 6)
    assert first_spike_steps(z) == [6, 10, 17, None, None, None]


def test_linear_latency_spike_times_and_exact_step_boundaries():
    # tau = 1 s, theta = 0.125, dt = 0.125 s: t* = 1 - x, step = floor(t* / 0.125).
    # x = 0.75 lands exactly on the boundary 0.25 s = step 2 (not step 1).
    x = torch.tensor([1.0, 0.75, 0.5, 0.25, 0.125, 0.0])
    z = latency_encode(x, 8, dt=0.125, tau=1.0, threshold=0.125, linear=True)
    assert first_spike_steps(z) == [0, 2, 4, 6, None, None]


def test_normalised_linear_latency_spans_the_window():
    # T = 5, dt = 1 ms, theta = 0: tau = 4 ms, t* = 4 ms * (1 - x).
    x = torch.tensor([1.0, 0.5, 0.25, 0.125, 0.0])
    z = latency_encode(x, 5, dt=1e-3, linear=True, normalise=True, threshold=0.0)
    assert first_spike_steps(z) == [0, 2, 3, 3, None]


def test_latency_gives_at_most_one_spike_and_larger_values_spike_no_later():
    x = torch.rand(200, generator=gen(0)).sort().values  # increasing intensities
    z = latency_encode(x, 50, dt=1e-3, tau=5e-3, threshold=0.2)
    assert z.sum(dim=0).max().item() <= 1.0
    steps = first_spike_steps(z)
    fired = [s for s in steps if s is not None]
    assert fired == sorted(fired, reverse=True)  # larger x (later in the list) -> earlier
    assert all(s is None for s, v in zip(steps, x.tolist(), strict=True) if v <= 0.2)


def test_latency_keeps_batch_shape_and_dtype():
    x = torch.tensor([[1.0, 0.0], [0.5, 0.75]], dtype=torch.float64)
    z = latency_encode(x, 6, dt=0.25, tau=1.0, threshold=0.0, linear=True)
    assert z.shape == (6, 2, 2) and z.dtype == torch.float64
    assert z[0, 0, 0] == 1 and z[2, 1, 0] == 1 and z[1, 1, 1] == 1 and z[:, 0, 1].sum() == 0


# --------------------------------------------------------------------------------------------
# delta_encode
# --------------------------------------------------------------------------------------------
def test_delta_on_and_off_spikes_on_a_hand_made_sequence():
    # threshold 0.25, reference r starts at x[0] = 0:
    # t1 0.3-0=0.3 ON r=.3 | t2 0.6-.3=.3 ON r=.6 | t3 .2-.6=-.4 OFF r=.2
    # t4 .9-.2=.7 ON r=.9 | t5 0 - | t6 .35-.9=-.55 OFF r=.35
    x = torch.tensor([0.0, 0.3, 0.6, 0.2, 0.9, 0.9, 0.35])
    z = delta_encode(x, 0.25, off_spikes=True)
    assert z.shape == (7, 2)
    assert z[:, 1].tolist() == [0, 1, 1, 0, 1, 0, 0]  # ON
    assert z[:, 0].tolist() == [0, 0, 0, 1, 0, 0, 1]  # OFF
    assert delta_encode(x, 0.25).tolist() == [0, 1, 1, 0, 1, 0, 0]


def test_delta_compares_with_the_last_event_not_the_previous_sample():
    # Slow drift: each step +0.1 never exceeds 0.25 between samples, but the accumulated
    # change since the last event does: 0.3 at t=3 and again 0.3 after that at t=6.
    x = torch.arange(7, dtype=torch.float64) * 0.1
    assert delta_encode(x, 0.25).tolist() == [0, 0, 0, 1, 0, 0, 1]


def test_delta_reference_moves_on_hidden_off_events():
    # Down by 0.5 (an OFF event, not returned) resets r to -0.5, so going back to 0 is ON.
    x = torch.tensor([0.0, -0.5, 0.0])
    assert delta_encode(x, 0.25).tolist() == [0, 0, 1]


def test_delta_initial_reference_and_batched_shape():
    x = torch.tensor([[0.5, 0.0], [0.5, -0.5]])  # [T=2, N=2]
    z = delta_encode(x, 0.25, initial=0.0, off_spikes=True)
    assert z.shape == (2, 2, 2)
    assert z[..., 1].tolist() == [[1, 0], [0, 0]]  # x[0,0]=0.5 vs initial 0: ON at t=0
    assert z[..., 0].tolist() == [[0, 0], [0, 1]]
    per_neuron = delta_encode(x, 0.25, initial=torch.tensor([0.5, 0.0]))
    assert per_neuron.tolist() == [[0, 0], [0, 0]]


# --------------------------------------------------------------------------------------------
# Readouts
# --------------------------------------------------------------------------------------------
def hand_spikes() -> torch.Tensor:
    """[T=4, B=2, C=3] with counts [[3, 0, 1], [0, 2, 2]]."""
    z = torch.zeros(4, 2, 3)
    z[:3, 0, 0] = 1
    z[3, 0, 2] = 1
    z[[0, 2], 1, 1] = 1
    z[[1, 3], 1, 2] = 1
    return z


def test_spike_count_and_max_membrane():
    assert spike_count(hand_spikes()).tolist() == [[3, 0, 1], [0, 2, 2]]
    assert spike_count(hand_spikes().bool()).dtype == torch.int64
    v = torch.tensor([[[0.5, -1.0]], [[0.25, 2.0]], [[-3.0, 1.0]]])  # [T=3, B=1, C=2]
    assert max_membrane(v).tolist() == [[0.5, 2.0]]


def test_rate_cross_entropy_uses_counts_as_logits():
    target = torch.tensor([0, 2])
    # sample 0: logits [3, 0, 1], class 0 -> log(1 + e^-3 + e^-2)
    # sample 1: logits [0, 2, 2], class 2 -> log(e^-2 + 1 + 1)
    expected = (math.log(1 + math.exp(-3) + math.exp(-2)) + math.log(math.exp(-2) + 2)) / 2
    z = hand_spikes().requires_grad_()
    loss = rate_cross_entropy(z, target)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    # d loss / d z[t, b, c] = (softmax(n_b)_c - [c = y_b]) / B, the same at every t.
    p0 = math.exp(3) / (math.exp(3) + 1 + math.e)
    assert z.grad[1, 0, 0].item() == pytest.approx((p0 - 1) / 2, rel=1e-5)


def test_mse_count_loss_matches_snntorch_semantics():
    target = torch.tensor([0, 2])
    # T = 4: correct 0.75 -> 3 spikes, incorrect 0.25 -> 1 spike.
    # sample 0 counts [3, 0, 1] vs [3, 1, 1]: squared errors 0, 1, 0
    # sample 1 counts [0, 2, 2] vs [1, 1, 3]: squared errors 1, 1, 1
    # mean over 6 entries = 4/6, divided by T = 4 -> 1/6
    z = hand_spikes().requires_grad_()
    loss = mse_count_loss(z, target, correct_rate=0.75, incorrect_rate=0.25)
    assert loss.item() == pytest.approx(1 / 6, rel=1e-6)
    loss.backward()
    # d/dz[t, b, c] = 2 (n - n*) / (B C T); sample 1, class 0: 2 * (0 - 1) / 24
    assert z.grad[0, 1, 0].item() == pytest.approx(-1 / 12, rel=1e-6)


def test_mse_count_loss_truncates_target_counts_like_snntorch():
    # T = 4, correct_rate 0.7 -> int(2.8) = 2 spikes wanted; counts [2, 0] -> zero loss.
    z = torch.zeros(4, 1, 2)
    z[:2, 0, 0] = 1
    assert mse_count_loss(z, torch.tensor([0]), correct_rate=0.7).item() == 0.0


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------
def test_out_of_range_intensities_raise_instead_of_clipping():
    with pytest.raises(ValueError, match=r"x \* gain must lie in \[0, 1\].*1\.2"):
        rate_encode(torch.tensor([0.5, 1.2]), 5, generator=gen(0))
    with pytest.raises(ValueError, match=r"x \* gain.*-0\.1"):
        rate_encode(torch.tensor([-0.1]), 5, generator=gen(0))
    with pytest.raises(ValueError, match=r"x \* gain.*gain=3"):
        rate_encode(torch.tensor([0.5]), 5, gain=3.0, generator=gen(0))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        poisson_encode(torch.tensor([2.0]), 5, dt=1e-3, max_rate_hz=10.0, generator=gen(0))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        latency_encode(torch.tensor([1.5]), 5, dt=1e-3, tau=1e-3)


def test_nan_and_non_float_inputs_raise():
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        rate_encode(torch.tensor([0.5, float("nan")]), 5, generator=gen(0))
    with pytest.raises(ValueError, match="x_seq contains"):
        delta_encode(torch.tensor([0.0, float("inf")]), 0.1)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        rate_encode(torch.tensor([0, 1]), 5, generator=gen(0))
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor"):
        latency_encode([0.5], 5, dt=1e-3, tau=1e-3)


@pytest.mark.parametrize("num_steps", [0, -3])
def test_num_steps_must_be_positive(num_steps):
    with pytest.raises(ValueError, match=r"num_steps must be an integer in \[1, inf\)"):
        rate_encode(torch.tensor([0.5]), num_steps, generator=gen(0))
    with pytest.raises(ValueError, match="num_steps"):
        latency_encode(torch.tensor([0.5]), num_steps, dt=1.0, tau=1.0)


def test_generator_is_required():
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator"):
        rate_encode(torch.tensor([0.5]), 5)
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator"):
        poisson_encode(torch.tensor([0.5]), 5, dt=1e-3, max_rate_hz=1.0, generator=0)


def test_poisson_refuses_more_than_one_spike_per_step():
    with pytest.raises(ValueError, match=r"max_rate_hz \* dt = .*exceeds 1"):
        poisson_encode(torch.tensor([0.1]), 5, dt=1e-2, max_rate_hz=200.0, generator=gen(0))
    with pytest.raises(ValueError, match="dt must be"):
        poisson_encode(torch.tensor([0.1]), 5, dt=0.0, max_rate_hz=1.0, generator=gen(0))


def test_latency_argument_combinations():
    x = torch.tensor([0.5])
    with pytest.raises(TypeError, match="tau"):
        latency_encode(x, 5, dt=1.0)
    with pytest.raises(ValueError, match="normalise=True needs linear=True"):
        latency_encode(x, 5, dt=1.0, normalise=True)
    with pytest.raises(ValueError, match="chooses tau itself"):
        latency_encode(x, 5, dt=1.0, tau=2.0, linear=True, normalise=True)
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\)"):
        latency_encode(x, 5, dt=1.0, tau=1.0, threshold=1.0)
    with pytest.raises(ValueError, match="tau must be"):
        latency_encode(x, 5, dt=1.0, tau=-1.0)


def test_delta_argument_checks():
    with pytest.raises(ValueError, match="threshold must be"):
        delta_encode(torch.zeros(3), -0.1)
    with pytest.raises(ValueError, match="at least one time step"):
        delta_encode(torch.zeros(0, 2), 0.1)
    with pytest.raises(ValueError, match="does not broadcast"):
        delta_encode(torch.zeros(3, 2), 0.1, initial=torch.zeros(3))


def test_readout_argument_checks():
    z = hand_spikes()
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        rate_cross_entropy(z, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"one class per sample, shape \[2\]"):
        mse_count_loss(z, torch.tensor([0]))
    with pytest.raises(TypeError, match="target must have a integer dtype"):
        mse_count_loss(z, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="z must have 3 dimension"):
        rate_cross_entropy(z[:, 0], torch.tensor([0]))
    with pytest.raises(ValueError, match="correct_rate must be"):
        mse_count_loss(z, torch.tensor([0, 1]), correct_rate=1.5)
    with pytest.raises(ValueError, match="z must have at least 1 dimension"):
        spike_count(torch.tensor(1.0))


def test_docstring_examples_run():
    import dendrix.spiking.encoding as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0

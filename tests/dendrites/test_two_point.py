"""Two-point neurons: transfer functions at hand-computed points, context alone never drives
the output, module equals functional, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.dendrites.two_point import (
    TRANSFER_FUNCTIONS,
    TwoPointNeuron,
    TwoPointParameters,
    two_point,
    two_point_layer,
)

SILENT = [name for name, t in TRANSFER_FUNCTIONS.items() if t.silent_without_drive]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    ("transfer", "r", "c", "expected"),
    [
        ("kay", 2.0, 0.5, 0.5 * 2.0 * (1 + math.e)),  # 0.5 R (1 + exp(RC)), RC = 1
        ("kay", -1.0, 2.0, 0.5 * -1.0 * (1 + math.exp(-2.0))),
        ("gain", 2.0, 0.5, 3.0),  # R + RC
        ("gain", 1.5, -2.0, -1.5),
        ("tanh", 2.0, 0.5, 2.0 * (1 + math.tanh(1.0))),  # R (1 + tanh(RC))
        ("tanh", -0.5, 4.0, -0.5 * (1 + math.tanh(-2.0))),
        ("coop", 2.0, 0.5, 6.0),  # ReLU6(4 + 4 + 0.5 * 3) = ReLU6(9.5)
        ("coop", 0.2, 1.0, 0.04 + 0.4 + 1.2),
        ("coop", 0.5, -1.0, 0.0),  # ReLU6(0.25 + 1 - 1.5) = ReLU6(-0.25)
    ],
)
def test_transfer_functions_match_their_formulas_at_hand_computed_points(transfer, r, c, expected):
    out = two_point(
        torch.tensor(r, dtype=torch.float64), torch.tensor(c, dtype=torch.float64), transfer
    )
    assert out.item() == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("transfer", SILENT)
def test_zero_drive_gives_zero_output_for_any_context(transfer):
    c = torch.cat([torch.randn(1000, generator=_gen()) * 10, torch.tensor([0.0, 1e3, -1e3])])
    out = two_point(torch.zeros_like(c), c, transfer)
    assert torch.equal(out, torch.zeros_like(c))


@pytest.mark.parametrize("transfer", SILENT)
def test_a_neutral_context_passes_the_drive_unchanged(transfer):
    r = torch.randn(100, generator=_gen(1))
    torch.testing.assert_close(two_point(r, torch.zeros_like(r), transfer), r)


@pytest.mark.parametrize("transfer", ["kay", "tanh"])
def test_context_amplifies_or_attenuates_but_never_flips_the_sign_of_the_drive(transfer):
    g = _gen(2)
    r, c = torch.randn(500, generator=g), 3 * torch.randn(500, generator=g)
    out = two_point(r, c, transfer)
    assert (out * r >= 0).all()  # 1 + tanh(RC) may round to 0, never below
    agree = r * c > 0  # context agreeing with the drive amplifies it
    assert (out[agree].abs() > r[agree].abs()).all()
    assert (out[~agree].abs() <= r[~agree].abs()).all()


def test_cooperation_is_marked_as_letting_context_drive_and_the_layer_refuses_it():
    assert not TRANSFER_FUNCTIONS["coop"].silent_without_drive
    assert two_point(torch.tensor(0.0), torch.tensor(1.0), "coop").item() == 1.0
    with pytest.raises(ValueError, match="allow_context_drive=True"):
        TwoPointNeuron(3, 2, 4, transfer="coop")
    layer = TwoPointNeuron(3, 2, 4, transfer="coop", allow_context_drive=True, generator=_gen())
    assert layer(torch.zeros(1, 3), torch.ones(1, 2)).shape == (1, 4)


@pytest.mark.parametrize("transfer", SILENT)
def test_layer_context_alone_never_drives_output_but_modulates_real_input(transfer):
    layer = TwoPointNeuron(5, 3, 6, transfer=transfer, generator=_gen())
    g = _gen(3)
    contexts = 5 * torch.randn(50, 3, generator=g)
    assert torch.equal(layer(torch.zeros(50, 5), contexts), torch.zeros(50, 6))
    x = torch.rand(1, 5, generator=g).expand(50, 5)
    out = layer(x, contexts)
    assert (out.std(0) > 0).all()  # same input, different contexts: different outputs


def test_basal_bias_breaks_the_input_level_property_only():
    layer = TwoPointNeuron(5, 3, 6, basal_bias=True, generator=_gen())
    r, _ = layer.drive_and_context(torch.zeros(2, 5), torch.randn(2, 3, generator=_gen(1)))
    torch.testing.assert_close(r, layer.b_b.expand(2, 6))
    assert layer(torch.zeros(2, 5), torch.randn(2, 3, generator=_gen(1))).abs().sum() > 0


def test_module_equals_functional_and_concatenated_input_equals_two_arguments():
    layer = TwoPointNeuron(4, 2, 3, transfer="kay", generator=_gen())
    g = _gen(4)
    x, c = torch.rand(7, 4, generator=g), torch.randn(7, 2, generator=g)
    p = TwoPointParameters(layer.w_b, None, layer.w_a, layer.b_a)
    expected = two_point_layer(x, c, p, "kay")
    assert torch.equal(layer(x, c), expected)
    assert torch.equal(layer(torch.cat([x, c], -1)), expected)
    r = x @ layer.w_b.T
    cc = c @ layer.w_a.T + layer.b_a
    torch.testing.assert_close(expected, 0.5 * r * (1 + torch.exp(r * cc)))


def test_one_context_broadcasts_over_a_sequence_and_gradients_reach_both_sites():
    layer = TwoPointNeuron(4, 2, 3, generator=_gen())
    x = torch.rand(10, 6, 4, generator=_gen(5))  # [T, B, F]
    c = torch.randn(6, 2, generator=_gen(6))  # one context per sample
    out = layer(x, c)
    assert out.shape == (10, 6, 3)
    out.square().sum().backward()
    assert layer.w_a.grad.abs().sum() > 0 and layer.w_b.grad.abs().sum() > 0


def test_same_generator_seed_gives_the_same_layer():
    a, b = TwoPointNeuron(4, 2, 3, generator=_gen(9)), TwoPointNeuron(4, 2, 3, generator=_gen(9))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_bad_input_is_refused_by_name():
    layer = TwoPointNeuron(4, 2, 3, generator=_gen())
    with pytest.raises(ValueError, match="x must have last dimension 4"):
        layer(torch.rand(5, 3), torch.rand(5, 2))
    with pytest.raises(ValueError, match="context must have last dimension 2"):
        layer(torch.rand(5, 4), torch.rand(5, 3))
    with pytest.raises(ValueError, match=r"x must have last dimension 6.*\[x ; c\]"):
        layer(torch.rand(5, 4))
    with pytest.raises(ValueError, match="broadcastable"):
        layer(torch.rand(5, 4), torch.rand(3, 2))
    with pytest.raises(TypeError, match="context must have a floating dtype"):
        layer(torch.rand(5, 4), torch.ones(5, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="transfer must be one of"):
        TwoPointNeuron(4, 2, 3, transfer="sigmoid")
    with pytest.raises(ValueError, match="transfer must be one of"):
        two_point(torch.zeros(1), torch.zeros(1), "relu")
    with pytest.raises(ValueError, match="context_features must be an integer"):
        TwoPointNeuron(4, 0, 3)

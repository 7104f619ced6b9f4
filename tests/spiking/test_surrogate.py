"""The surrogate contract: exact Heaviside forward, derivative of the named primitive backward."""

from __future__ import annotations

import math

import pytest
import torch

from dendrix.spiking.surrogate import SURROGATES, FastSigmoid, Triangle, surrogate

NAMES = sorted(SURROGATES)
# points away from the kinks of triangle / straight-through so finite differences are exact
U = torch.tensor([-2.3, -0.9, -0.41, -0.13, -0.02, 0.03, 0.11, 0.37, 0.8, 1.7], dtype=torch.float64)


def test_the_family_has_the_five_named_members():
    assert set(NAMES) == {"fast_sigmoid", "atan", "sigmoid", "triangle", "straight_through"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("alpha", [0.5, 2.0, 10.0])
def test_forward_is_an_exact_heaviside_step(name, alpha):
    spike = surrogate(name, alpha=alpha)
    u = torch.cat([U, torch.tensor([0.0, -1e-300, 1e-300], dtype=torch.float64)])
    expected = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1], dtype=torch.float64)
    assert torch.equal(spike(u), expected)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("alpha", [0.5, 2.0, 10.0])
def test_backward_is_the_derivative_of_the_named_primitive(name, alpha):
    spike = surrogate(name, alpha=alpha)
    u = U.clone().requires_grad_(True)
    upstream = torch.linspace(0.5, 1.5, len(U), dtype=torch.float64)
    (spike(u) * upstream).sum().backward()
    eps = 1e-6
    numeric = (spike.primitive(U + eps) - spike.primitive(U - eps)) / (2 * eps)
    torch.testing.assert_close(u.grad, upstream * numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_the_primitive_spans_one_unit_except_superspike_which_spans_two_over_alpha(name):
    # integral of sigma' over the real line: 1, or 2/alpha for u/(1+alpha|u|) as published
    spike = surrogate(name, alpha=4.0)
    far = torch.tensor([-1e7, 1e7], dtype=torch.float64)
    lo, hi = spike.primitive(far).tolist()
    expected = 2.0 / 4.0 if name == "fast_sigmoid" else 1.0
    assert hi - lo == pytest.approx(expected, abs=1e-5)


def test_hand_values_of_two_derivatives():
    # fast sigmoid at u=0.1, alpha=10: 1/(1+1)^2 = 0.25; triangle at u=0.25, alpha=2: 2*(1-0.5)=1
    assert FastSigmoid(10.0).derivative(torch.tensor(0.1)).item() == pytest.approx(0.25)
    assert Triangle(2.0).derivative(torch.tensor(0.25)).item() == pytest.approx(1.0)
    atan = surrogate("atan", alpha=2.0).derivative(torch.tensor(0.0)).item()
    assert atan == pytest.approx(1.0)  # alpha/2 at u=0
    assert math.isclose(surrogate("sigmoid", alpha=4.0).derivative(torch.tensor(0.0)).item(), 1.0)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="alpha"):
        surrogate("atan", alpha=0.0)
    with pytest.raises(ValueError, match="surrogate"):
        surrogate("relu")
    with pytest.raises(ValueError, match="alpha is given twice"):
        surrogate(FastSigmoid(), alpha=3.0)

"""The layer contract: every layer in `dendrix.registry.LAYERS` passes the same checks.

A family registers its layers where they are defined (e.g. `dendrix.sdr.kwinners`); importing
the package below is enough to bring them all in. The checks follow STYLE.md point 8.
"""

from __future__ import annotations

import copy
import io

import pytest
import torch

import dendrix.dendrites  # registers the dendrite and sparse layers
import dendrix.sdr
import dendrix.spiking.delays  # noqa: F401  (registers the delay layers)
from dendrix.registry import LAYERS

NAMES = LAYERS.names()


def _trained(name: str, seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor]:
    """A fresh layer after a few training-mode passes, and an example input."""
    spec = LAYERS[name]
    g = torch.Generator().manual_seed(seed)
    layer = spec.build()
    layer.train()
    with torch.no_grad():
        for _ in range(spec.train_steps):
            layer(spec.example_input(g))
    return layer, spec.example_input(g)


def test_the_registry_is_not_empty():
    assert NAMES, "no layer registered: the contract suite would check nothing"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_output_keeps_dtype_and_batch_and_is_finite(name, mode):
    layer, x = _trained(name)
    layer.train(mode == "train")
    y = layer(x)
    assert y.dtype == x.dtype
    assert y.shape[0] == x.shape[0]
    if LAYERS[name].keeps_shape:
        assert y.shape == x.shape
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_the_input_and_every_parameter(name):
    layer, x = _trained(name)
    x = x.clone().requires_grad_(True)
    layer(x).square().sum().backward()
    if LAYERS[name].differentiable:
        assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_into_a_fresh_layer_gives_equal_outputs(name):
    layer, x = _trained(name, seed=1)
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    fresh = LAYERS[name].build()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert fresh is not layer
    for (ka, va), (kb, vb) in zip(
        layer.state_dict().items(), fresh.state_dict().items(), strict=True
    ):
        assert ka == kb, ka
        assert torch.equal(va, vb) if isinstance(va, torch.Tensor) else va == vb, ka
    for mode in (False, True):
        layer.train(mode)
        fresh.train(mode)
        assert torch.equal(layer(x), fresh(x))


@pytest.mark.parametrize("name", NAMES)
def test_all_state_is_registered_so_a_deep_copy_behaves_the_same(name):
    layer, x = _trained(name, seed=2)
    twin = copy.deepcopy(layer)
    with torch.no_grad():
        for _ in range(3):
            assert torch.equal(layer(x), twin(x))


@pytest.mark.parametrize("name", NAMES)
def test_traced_by_torch_compile_equals_eager(name):
    layer, x = _trained(name, seed=3)
    layer.eval()
    compiled = torch.compile(copy.deepcopy(layer), backend="aot_eager", fullgraph=False)
    assert torch.equal(layer(x), compiled(x))


@pytest.mark.parametrize("name", NAMES)
def test_layer_follows_double_precision_input(name):
    layer, x = _trained(name, seed=4)
    layer = layer.double()
    y = layer(x.double())
    assert y.dtype == torch.float64 and torch.isfinite(y).all()

"""The neuron contract: every module in `dendrix.registry.NEURONS` passes the same checks.

STYLE.md point 8: shapes and dtypes kept, every parameter gets a gradient, no NaN, reset
restores the initial state, module equals functional, compiled equals eager, state-dict round
trip into a different object, bad input refused.
"""

from __future__ import annotations

import copy
import io

import pytest
import torch

import dendrix.spiking  # noqa: F401  (registers the neuron families)
from dendrix.registry import NEURONS
from dendrix.spiking.functional.base import scan

NAMES = NEURONS.names()


def _setup(name: str, seed: int = 0, dtype: torch.dtype = torch.float32):
    spec = NEURONS[name]
    module = spec.build().to(dtype)
    x = spec.example_input(torch.Generator().manual_seed(seed)).to(dtype)
    return spec, module, x


def _reseed(spec, module) -> None:
    if spec.stochastic:
        module.manual_seed(0)


def _run(spec, module, x, state=None):
    _reseed(spec, module)
    return module(x, state)


def test_every_family_is_registered():
    expected = {"lif", "cuba-lif", "alif", "izhikevich", "stochastic-lif", "recurrent-alif"}
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_spikes_are_binary_in_the_input_dtype_and_states_are_finite(name, dtype):
    spec, module, x = _setup(name, dtype=dtype)
    z, state = _run(spec, module, x)
    assert z.shape == x.shape and z.dtype == dtype
    assert bool(((z == 0) | (z == 1)).all())
    assert z.sum() > 0, "the example input must make the neurons spike"
    for value in torch.utils._pytree.tree_leaves(state):
        if isinstance(value, torch.Tensor):
            assert value.dtype == dtype and torch.isfinite(value).all()


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_the_input_and_every_parameter(name):
    spec, module, x = _setup(name)
    x = x.clone().requires_grad_(True)
    z, state = _run(spec, module, x)
    w = torch.linspace(-1.0, 1.0, z.numel()).reshape(z.shape)
    loss = (z * w).sum()
    if name.startswith("stochastic") and module.estimator == "reinforce":
        loss = loss.detach() * state.log_prob.sum()
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    params = dict(module.named_parameters())
    for pname, p in params.items():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{pname} gets an all-zero gradient"


@pytest.mark.parametrize("name", NAMES)
def test_module_equals_its_pure_step_function_scanned_over_time(name):
    spec, module, x = _setup(name, dtype=torch.float64)
    z_module, s_module = _run(spec, module, x)
    _reseed(spec, module)
    state0 = module.initial_state(x[0])
    z_ref, s_ref = scan(type(module).step_function, x, state0, module.params(), module.dt)
    torch.testing.assert_close(z_module, z_ref, rtol=0, atol=0)
    for a, b in zip(
        torch.utils._pytree.tree_leaves(s_module),
        torch.utils._pytree.tree_leaves(s_ref),
        strict=True,
    ):
        if isinstance(a, torch.Tensor):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_single_steps_equal_the_sequence_call(name):
    spec, module, x = _setup(name, dtype=torch.float64)
    z_seq, _ = _run(spec, module, x)
    _reseed(spec, module)
    state = None
    steps = []
    for x_t in x:
        z_t, state = module.step(x_t, state)
        steps.append(z_t)
    torch.testing.assert_close(torch.stack(steps), z_seq, rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_reset_restores_the_initial_state_of_a_stateful_module(name):
    spec, module, x = _setup(name)
    module.stateful = True
    module.return_state = False
    _reseed(spec, module)
    first = module(x)
    leaves = torch.utils._pytree.tree_leaves
    rest = leaves(module.initial_state(x[0]))
    stored = leaves(module._state)
    assert any(not torch.equal(a, b) for a, b in zip(rest, stored, strict=True))
    module.reset()
    _reseed(spec, module)
    assert torch.equal(module(x), first)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_into_a_fresh_module_gives_equal_spikes(name):
    spec, module, x = _setup(name, seed=1)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(3)))
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    fresh = spec.build()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert fresh is not module
    for (ka, va), (kb, vb) in zip(
        module.state_dict().items(), fresh.state_dict().items(), strict=True
    ):
        assert ka == kb and torch.equal(va, vb), ka
    assert torch.equal(_run(spec, module, x)[0], _run(spec, fresh, x)[0])


@pytest.mark.parametrize("name", NAMES)
# dynamo inspects .grad of non-leaf tensors when it breaks the graph at a torch.Generator
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_compiled_equals_eager(name):
    spec, module, x = _setup(name, seed=2)
    twin = copy.deepcopy(module)
    compiled = torch.compile(twin, backend="aot_eager", fullgraph=False)
    z_eager, _ = _run(spec, module, x)
    _reseed(spec, twin)
    z_compiled, _ = compiled(x)
    assert torch.equal(z_eager, z_compiled)


@pytest.mark.parametrize("name", NAMES)
def test_torch_func_grad_equals_autograd(name):
    spec, module, x = _setup(name, dtype=torch.float64)
    params = {k: v.detach() for k, v in module.named_parameters()}
    buffers = dict(module.named_buffers())
    w = torch.linspace(-1.0, 1.0, x.numel(), dtype=x.dtype).reshape(x.shape)

    def loss(p, inp):
        _reseed(spec, module)
        z, state = torch.func.functional_call(module, (p, buffers), (inp,))
        if getattr(module, "estimator", None) == "reinforce":
            return (state.log_prob * w[0]).sum()
        return (z * w).sum()

    g_func = torch.func.grad(loss, argnums=1)(params, x)
    xr = x.clone().requires_grad_(True)
    loss(dict(module.named_parameters()), xr).backward()
    torch.testing.assert_close(g_func, xr.grad)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_refused_with_the_argument_named(name):
    _, module, x = _setup(name)
    with pytest.raises(ValueError, match="x"):
        module(x[0, 0])  # one dimension: not a [T, B, ...] sequence
    bad = x.clone()
    bad[3, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        module(bad)
    with pytest.raises(TypeError, match="floating"):
        module(x.to(torch.int64))
    state = module.initial_state(x[0, :2])
    with pytest.raises((ValueError, TypeError), match="state"):
        module(x, state)

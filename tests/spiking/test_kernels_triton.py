"""The Triton kernels equal the reference scan in outputs and gradients.

``dendrix.spiking.kernels.triton`` against ``scan(step, ...)`` of
``dendrix.spiking.functional``, parametrised over reset x detach_reset x surrogate x float or
per-neuron tensor parameters, for LIF, CuBa-LIF and ALIF.

Tolerances. float32: spikes exactly equal; final state and every gradient within 1e-5
relative to the largest entry of the reference (the kernels sum in another order). float16 and
bfloat16: the kernels accumulate in float32, so they are compared with the float32 reference
on the same (half precision) inputs: spikes exactly equal, states and gradients within one
rounding of the output dtype (2e-3 for float16, 1.6e-2 for bfloat16, relative to the largest
entry).

Where they run: on a CUDA device; or on CPU through Triton's interpreter, by default wherever
triton is installed and no GPU is (as in CI; ``DENDRIX_TRITON_INTERPRET=0`` turns that off,
``=1`` forces it); the module then sets ``TRITON_INTERPRET=1`` while its tests run, and sizes
are small so this takes seconds. Without triton they skip. Tests marked ``cuda`` need a GPU.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
import torch

from dendrix.spiking.functional.alif import ALIFParameters, ALIFState, alif_step
from dendrix.spiking.functional.base import scan
from dendrix.spiking.functional.cuba_lif import CubaLIFParameters, CubaLIFState, cuba_lif_step
from dendrix.spiking.functional.lif import RESETS, LIFParameters, LIFState, lif_step
from dendrix.spiking.kernels import triton as tk
from dendrix.spiking.surrogate import SURROGATES, surrogate

HAS_TRITON = importlib.util.find_spec("triton") is not None
HAS_CUDA = torch.cuda.is_available()
# interpreter: asked for with DENDRIX_TRITON_INTERPRET=1, and the default where triton is
# installed but no GPU is (as in CI); DENDRIX_TRITON_INTERPRET=0 turns it off
_ASKED = os.environ.get("DENDRIX_TRITON_INTERPRET", "")
INTERPRET = _ASKED == "1" or (_ASKED != "0" and HAS_TRITON and not HAS_CUDA)
DEVICE = "cpu" if INTERPRET else "cuda"
DT = 1e-3

if not HAS_TRITON:
    _why = "triton is not installed (pip install triton)"
elif not (HAS_CUDA or INTERPRET):
    _why = "no CUDA device; DENDRIX_TRITON_INTERPRET=1 runs these on CPU in Triton's interpreter"
else:
    _why = ""
needs_kernels = pytest.mark.skipif(bool(_why), reason=_why)
needs_gpu = [
    pytest.mark.cuda,
    pytest.mark.skipif(not (HAS_TRITON and HAS_CUDA), reason="needs triton and a CUDA device"),
]


@pytest.fixture(autouse=True, scope="module")
def _interpreter():
    """Turn Triton's interpreter on for this module only (kernels are rebuilt on the switch)."""
    if not INTERPRET:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRITON_INTERPRET", "1")
        yield


# ------------------------------------------------------------------------------- cases
# Each family: its reference step, the kernel, and a maker of (x, state, params, grad leaves).


def _rand(g, *shape, lo=0.0, hi=1.0, dtype=torch.float32, device=None):
    return (lo + (hi - lo) * torch.rand(shape, generator=g)).to(dtype).to(device or DEVICE)


def _normal(g, *shape, mean=0.0, std=1.0, dtype=torch.float32, device=None):
    return (mean + std * torch.randn(shape, generator=g)).to(dtype).to(device or DEVICE)


def _leaf(t):
    return t.detach().clone().requires_grad_(True)


def _make_lif(g, T, B, F, tensor_params, common, dtype=torch.float32, device=None):
    rand = lambda *a, **k: _rand(g, *a, device=device, **k)  # noqa: E731
    x = _normal(g, T, B, F, mean=0.4, std=0.6, dtype=dtype, device=device)
    state = LIFState(
        v=rand(B, F, dtype=dtype), r=torch.zeros(B, F, dtype=dtype, device=device or DEVICE)
    )
    if tensor_params:
        tau, vth = rand(F, lo=5e-3, hi=20e-3), rand(B, F, lo=0.8, hi=1.2)
    else:
        tau, vth = 10e-3, 1.0
    return x, state, LIFParameters(tau_mem=tau, v_th=vth, **common)


def _make_cuba(g, T, B, F, tensor_params, common, dtype=torch.float32, device=None):
    rand = lambda *a, **k: _rand(g, *a, device=device, **k)  # noqa: E731
    x = _normal(g, T, B, F, mean=0.1, std=0.25, dtype=dtype, device=device)
    state = CubaLIFState(v=rand(B, F, dtype=dtype), i=rand(B, F, hi=0.3, dtype=dtype))
    if tensor_params:  # [F], [1] and 0-dim: three broadcast shapes
        p = CubaLIFParameters(
            tau_syn=rand(F, lo=2e-3, hi=8e-3),
            tau_mem=rand(1, lo=8e-3, hi=12e-3),
            v_th=rand(lo=0.9, hi=1.1),
            **common,
        )
    else:
        p = CubaLIFParameters(tau_syn=5e-3, tau_mem=10e-3, v_th=1.0, **common)
    return x, state, p


def _make_alif(g, T, B, F, tensor_params, common, dtype=torch.float32, device=None):
    rand = lambda *a, **k: _rand(g, *a, device=device, **k)  # noqa: E731
    x = _normal(g, T, B, F, mean=0.5, std=0.6, dtype=dtype, device=device)
    state = ALIFState(v=rand(B, F, dtype=dtype), a=rand(B, F, hi=0.5, dtype=dtype))
    if tensor_params:
        p = ALIFParameters(
            tau_mem=rand(F, lo=10e-3, hi=30e-3),
            tau_adapt=rand(F, lo=10e-3, hi=50e-3),
            v_th=rand(F, lo=0.8, hi=1.2),
            beta_adapt=rand(B, F, lo=0.5, hi=2.0),
            **common,
        )
    else:
        p = ALIFParameters(tau_mem=20e-3, tau_adapt=30e-3, v_th=1.0, beta_adapt=1.8, **common)
    return x, state, p


FAMILIES = {
    "lif": (lif_step, tk.lif_multistep_triton, _make_lif),
    "cuba_lif": (cuba_lif_step, tk.cuba_lif_multistep_triton, _make_cuba),
    "alif": (alif_step, tk.alif_multistep_triton, _make_alif),
}
# tensor parameters that get gradients; LIFState.r is a counter, never differentiated
PARAMS = {
    "lif": ("tau_mem", "v_th"),
    "cuba_lif": ("tau_syn", "tau_mem", "v_th"),
    "alif": ("tau_mem", "tau_adapt", "v_th", "beta_adapt"),
}
STATE = {"lif": ("v",), "cuba_lif": ("v", "i"), "alif": ("v", "a")}


def _with_leaves(family, x, state, p):
    """Fresh leaves for x, the differentiable state and the tensor parameters."""
    x = _leaf(x)
    state = state._replace(**{k: _leaf(getattr(state, k)) for k in STATE[family]})
    p = p._replace(
        **{
            k: _leaf(getattr(p, k))
            for k in PARAMS[family]
            if isinstance(getattr(p, k), torch.Tensor)
        }
    )
    leaves = [x, *(getattr(state, k) for k in STATE[family])]
    leaves += [getattr(p, k) for k in PARAMS[family] if isinstance(getattr(p, k), torch.Tensor)]
    return x, state, p, leaves


def _reference(step):
    return lambda x, state, p, dt: scan(step, x, state, p, dt)


def _run(fn, family, x, state, p, weights, outputs=("z", "state")):
    """``fn(x, state, p, DT)`` and the gradients of a random linear loss on spikes and state."""
    x, state, p, leaves = _with_leaves(family, x, state, p)
    z, final = fn(x, state, p, DT)
    loss = 0.0
    if "z" in outputs:
        loss = loss + (z * weights["z"]).sum()
    if "state" in outputs:
        for k in STATE[family]:
            loss = loss + (getattr(final, k) * weights[k]).sum()
    grads = torch.autograd.grad(loss, leaves)
    return z.detach(), final, grads


def _weights(g, family, x):
    w = {"z": _normal(g, *x.shape, dtype=x.dtype, device=x.device)}
    for k in STATE[family]:
        w[k] = _normal(g, *x.shape[1:], dtype=x.dtype, device=x.device)
    return w


def _close(actual, expected, rtol, what):
    """Within ``rtol`` of the largest entry of ``expected``."""
    scale = max(expected.abs().max().item(), 1e-6) if expected.numel() else 1.0
    torch.testing.assert_close(
        actual, expected, rtol=rtol, atol=rtol * scale, msg=lambda m: f"{what}: {m}"
    )


def _check(family, x, state, p, *, rtol=1e-5, outputs=("z", "state"), seed=1):
    step, kernel, _ = FAMILIES[family]
    w = _weights(torch.Generator().manual_seed(seed), family, x)
    z, final, grads = _run(kernel, family, x, state, p, w, outputs)
    z_ref, final_ref, grads_ref = _run(_reference(step), family, x, state, p, w, outputs)
    assert z.dtype == z_ref.dtype and z.shape == z_ref.shape
    assert 0.0 < z.float().mean().item() < 1.0, "degenerate case: all or no spikes"
    assert torch.equal(z, z_ref), f"{(z != z_ref).sum().item()} spikes differ"
    for k in final_ref._fields:
        ref = getattr(final_ref, k)
        assert getattr(final, k).dtype == ref.dtype
        _close(getattr(final, k).detach(), ref.detach(), rtol, f"final state {k}")
    for i, (a, b) in enumerate(zip(grads, grads_ref, strict=True)):
        assert a.shape == b.shape and a.dtype == b.dtype, f"gradient {i}"
        _close(a, b, rtol, f"gradient {i}")


# ------------------------------------------------------------------------------- float32


@needs_kernels
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("tensor_params", [False, True], ids=["float", "tensor"])
@pytest.mark.parametrize("spike", list(SURROGATES))
@pytest.mark.parametrize("detach", [False, True], ids=["attached", "detached"])
@pytest.mark.parametrize("reset", RESETS)
def test_kernel_equals_reference_scan_in_outputs_and_gradients(
    family, tensor_params, spike, detach, reset
):
    g = torch.Generator().manual_seed(0)
    common = dict(reset=reset, detach_reset=detach, v_reset=0.1, surrogate=surrogate(spike))
    # M = 4 * 80 = 320 neurons: two programs of 256, the second partly masked
    x, state, p = FAMILIES[family][2](g, 16, 4, 80, tensor_params, common)
    _check(family, x, state, p)


@needs_kernels
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("outputs", [("z",), ("state",)], ids=["spikes-only", "state-only"])
def test_a_loss_on_spikes_or_on_state_alone_gets_the_reference_gradients(family, outputs):
    g = torch.Generator().manual_seed(2)
    common = dict(reset="subtract", surrogate=surrogate("atan"))
    x, state, p = FAMILIES[family][2](g, 12, 2, 64, True, common)
    _check(family, x, state, p, outputs=outputs)


@needs_kernels
@pytest.mark.parametrize("family", list(FAMILIES))
def test_feature_maps_with_per_channel_parameters(family):
    # x [T, B, C, H]; parameters [C, 1] broadcast over H; non-contiguous input
    g = torch.Generator().manual_seed(3)
    T, B, C, H = 10, 3, 4, 16
    make = FAMILIES[family][2]
    common = dict(reset="zero", surrogate=surrogate("sigmoid"))
    x, state, p = make(g, T, B, C * H, False, common)
    x = x.reshape(T, B, H, C).transpose(2, 3)  # [T, B, C, H], not contiguous
    state = state._replace(**{k: getattr(state, k).reshape(B, C, H) for k in state._fields})
    per_channel = {k: _rand(g, C, 1, lo=0.9, hi=1.1) * getattr(p, k) for k in PARAMS[family]}
    _check(family, x, state, p._replace(**per_channel))


@needs_kernels
@pytest.mark.parametrize("family", list(FAMILIES))
def test_without_gradients_the_kernel_gives_the_same_outputs(family):
    g = torch.Generator().manual_seed(4)
    step, kernel, make = FAMILIES[family]
    x, state, p = make(g, 12, 2, 64, True, dict(reset="subtract"))
    with torch.no_grad():
        z, final = kernel(x, state, p, DT)
        z_ref, final_ref = scan(step, x, state, p, DT)
    assert torch.equal(z, z_ref)
    for a, b in zip(final, final_ref, strict=True):
        _close(a, b, 1e-5, "final state")


# ------------------------------------------------------------------------------- half precision

HALF_RTOL = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2}


@needs_kernels
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("dtype", list(HALF_RTOL), ids=["float16", "bfloat16"])
@pytest.mark.parametrize("reset", RESETS)
def test_half_precision_accumulates_in_float32(family, dtype, reset):
    g = torch.Generator().manual_seed(5)
    step, kernel, make = FAMILIES[family]
    x, state, p = make(
        g, 16, 4, 64, False, dict(reset=reset, surrogate=surrogate("atan")), dtype=dtype
    )
    w = _weights(torch.Generator().manual_seed(6), family, x)
    z, final, grads = _run(kernel, family, x, state, p, w)
    state32 = state._replace(**{k: v.float() for k, v in state._asdict().items()})
    w32 = {k: v.float() for k, v in w.items()}
    z_ref, final_ref, grads_ref = _run(_reference(step), family, x.float(), state32, p, w32)
    assert z.dtype == dtype and final.v.dtype == dtype
    assert torch.equal(z.float(), z_ref), "spikes differ from the float32 reference"
    for k in STATE[family]:
        _close(getattr(final, k).float(), getattr(final_ref, k), HALF_RTOL[dtype], k)
    for i, (a, b) in enumerate(zip(grads, grads_ref, strict=True)):
        assert a.dtype == dtype
        _close(a.float(), b, HALF_RTOL[dtype], f"gradient {i}")


# ------------------------------------------------------------------------------- ops and errors


@needs_kernels
@pytest.mark.parametrize("family", list(FAMILIES))
def test_torch_compile_treats_the_kernel_as_one_opaque_op(family):
    g = torch.Generator().manual_seed(7)
    _, kernel, make = FAMILIES[family]
    x, state, p = make(g, 8, 2, 32, True, dict(reset="subtract"))
    w = _weights(torch.Generator().manual_seed(8), family, x)
    compiled = torch.compile(kernel, backend="aot_eager", fullgraph=True)
    z, final, grads = _run(kernel, family, x, state, p, w)
    zc, finalc, gradsc = _run(compiled, family, x, state, p, w)
    assert torch.equal(zc, z)
    for a, b in zip((*finalc, *gradsc), (*final, *grads), strict=True):
        _close(a.detach(), b.detach(), 1e-6, "compiled")


@needs_kernels
# torch 2.14's fake-tensor check reads .grad of non-leaf tensors of its own making
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_the_forward_ops_pass_torch_library_opcheck():
    g = torch.Generator().manual_seed(9)
    T, M = 6, 40
    x = _normal(g, T, M, mean=0.5)
    v0, beta, vth = _rand(g, M), _rand(g, M, lo=0.8, hi=0.95), _rand(g, M, lo=0.8, hi=1.2)
    args = (_leaf(x), _leaf(v0), _leaf(beta), _leaf(vth), 0.0, 0, False, 1, 2.0, 3.14, True)
    torch.library.opcheck(tk._lif_fwd, args)
    syn, i0 = _rand(g, M, lo=0.7, hi=0.9), _rand(g, M)
    args = (
        _leaf(x),
        _leaf(v0),
        _leaf(i0),
        _leaf(syn),
        _leaf(beta),
        _leaf(vth),
        0.0,
        1,
        False,
        0,
        10.0,
        0.0,
        True,
    )
    torch.library.opcheck(tk._cuba_fwd, args)
    a0, rho, b = _rand(g, M, hi=0.5), _rand(g, M, lo=0.9, hi=0.99), _rand(g, M, lo=0.5, hi=2)
    args = (
        _leaf(x),
        _leaf(v0),
        _leaf(a0),
        _leaf(beta),
        _leaf(rho),
        _leaf(1 - rho),
        _leaf(vth),
        _leaf(b),
        0.0,
        0,
        True,
        4,
        1.0,
        0.5,
        True,
    )
    torch.library.opcheck(tk._alif_fwd, args)


@needs_kernels
def test_a_refractory_period_is_refused_with_a_pointer_to_the_other_backends():
    x = torch.ones(3, 1, 2, device=DEVICE)
    state = LIFState(v=torch.zeros(1, 2, device=DEVICE), r=torch.zeros(1, 2, device=DEVICE))
    with pytest.raises(ValueError, match="backend='reference' or 'cpu'"):
        tk.lif_multistep_triton(x, state, LIFParameters(t_ref=2e-3), DT)


@needs_kernels
def test_float64_is_refused():
    x = torch.ones(3, 1, 2, dtype=torch.float64, device=DEVICE)
    state = LIFState(v=torch.zeros_like(x[0]), r=torch.zeros_like(x[0]))
    with pytest.raises(TypeError, match="float32"):
        tk.lif_multistep_triton(x, state, LIFParameters(), DT)


def test_importing_the_module_needs_no_triton():
    code = (
        "import sys; sys.modules['triton'] = None\n"
        "import torch\n"
        "from dendrix.spiking.kernels import triton as tk\n"
        "from dendrix.spiking.functional.lif import LIFParameters, lif_initial_state\n"
        "assert tk.triton_available() is False\n"
        "x = torch.ones(2, 1, 3)\n"
        "try:\n"
        "    tk.lif_multistep_triton(x, lif_initial_state(x[0]), LIFParameters(), 1e-3)\n"
        "except RuntimeError as e:\n"
        "    assert 'pip install triton' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('no error without triton')\n"
    )
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# ------------------------------------------------------------------------------- GPU only


@pytest.mark.cuda
@pytest.mark.skipif(not (HAS_TRITON and HAS_CUDA), reason="needs triton and a CUDA device")
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("tensor_params", [False, True], ids=["float", "tensor"])
def test_large_population_on_the_gpu(family, tensor_params):
    # 64 steps x 64000 neurons: 250 programs, int offsets past one block row
    g = torch.Generator().manual_seed(10)
    common = dict(reset="subtract", surrogate=surrogate("fast_sigmoid"))
    make = FAMILIES[family][2]
    x, state, p = make(g, 64, 32, 2000, tensor_params, common, device="cuda")
    _check(family, x, state, p)


@pytest.mark.cuda
@pytest.mark.skipif(not (HAS_TRITON and HAS_CUDA), reason="needs triton and a CUDA device")
@pytest.mark.parametrize("family", list(FAMILIES))
def test_inductor_compiles_around_the_kernel(family):
    g = torch.Generator().manual_seed(11)
    _, kernel, make = FAMILIES[family]
    x, state, p = make(g, 32, 8, 500, True, dict(reset="zero"), device="cuda")
    w = _weights(torch.Generator().manual_seed(12), family, x)
    compiled = torch.compile(lambda x, s, p, dt: kernel(2.0 * x, s, p, dt), fullgraph=True)
    zc, finalc, gradsc = _run(compiled, family, x, state, p, w)
    z, final, grads = _run(lambda x, s, p, dt: kernel(2.0 * x, s, p, dt), family, x, state, p, w)
    assert torch.equal(zc, z)
    for a, b in zip((*finalc, *gradsc), (*final, *grads), strict=True):
        _close(a.detach(), b.detach(), 1e-5, "compiled")

"""The fused CPU kernels equal the reference time loop; the dispatcher routes and checks.

The equivalence tests sweep the physics knobs (family x reset x detach_reset x surrogate x
scalar or per-neuron parameters x dtype) on inputs that make a fair share of the neurons spike,
with a loss that weighs the spikes and every final-state field by random weights, so that every
gradient path (through ``z``, ``v``, ``i`` or ``a``, and into each parameter) is exercised.
Shapes are ``[T=30, B=2, 7, 23]``: ``M = 322`` neurons, one full block of
:data:`~dendrix.spiking.kernels.cpu.BLOCK` and a partial one.
"""

from __future__ import annotations

import doctest
import sys
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import pytest
import torch
from torch import Tensor, nn

from dendrix.spiking.functional.alif import ALIFParameters, ALIFState
from dendrix.spiking.functional.cuba_lif import CubaLIFParameters, CubaLIFState
from dendrix.spiking.functional.lif import LIFParameters, LIFState
from dendrix.spiking.kernels import dispatch, reference
from dendrix.spiking.kernels.dispatch import (
    alif_multistep,
    cuba_lif_multistep,
    lif_multistep,
    resolve_backend,
)
from dendrix.spiking.surrogate import SURROGATES, Surrogate, surrogate

T, B, FEATURES = 30, 2, (7, 23)
DT = 1e-3
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}  # max error relative to the tensor's scale
SURROGATE_NAMES = sorted(SURROGATES)


class Family(NamedTuple):
    params: type
    state: type
    multistep: Any
    reference: Any


FAMILIES = {
    "lif": Family(LIFParameters, LIFState, lif_multistep, reference.lif_multistep_reference),
    "cuba_lif": Family(
        CubaLIFParameters,
        CubaLIFState,
        cuba_lif_multistep,
        reference.cuba_lif_multistep_reference,
    ),
    "alif": Family(ALIFParameters, ALIFState, alif_multistep, reference.alif_multistep_reference),
}


# input range (lo, hi) per family, without / with reset="none" (no reset: weaker, signed drive,
# or every neuron would fire at every step)
DRIVE = {
    ("lif", False): (0.0, 0.6),
    ("lif", True): (-0.3, 0.5),
    ("cuba_lif", False): (-0.05, 0.2),
    ("cuba_lif", True): (-0.1, 0.14),
    ("alif", False): (0.0, 1.2),
    ("alif", True): (-0.3, 0.42),
}


class Case(NamedTuple):
    x: Tensor
    state: Any
    p: Any
    leaves: dict[str, Tensor]  # everything a gradient must reach
    weights: dict[str, Tensor]  # loss weights for "z" and each differentiable state field


def _uniform(g, shape, lo, hi, dtype):
    return torch.rand(shape, generator=g, dtype=dtype) * (hi - lo) + lo


def make_case(
    family: str,
    dtype: torch.dtype = torch.float64,
    *,
    per_neuron: bool = True,
    reset: str = "subtract",
    detach: bool = False,
    spike: str = "fast_sigmoid",
    seed: int = 0,
) -> Case:
    """Inputs that make neurons spike, a random initial state and (optionally) per-neuron
    parameters, all leaves requiring grad. Parameter tensors have different broadcastable
    shapes (``[23]``, ``[7, 23]``, ``[1, 23]``) to check that gradients sum back."""
    g = torch.Generator().manual_seed(seed)
    step = (B, *FEATURES)

    def u(shape, lo, hi):
        return _uniform(g, shape, lo, hi, dtype)

    leaves: dict[str, Tensor] = {}
    lo, hi = DRIVE[family, reset == "none"]

    def leaf(name, value):
        leaves[name] = value.requires_grad_(True)
        return value

    common = {
        "reset": reset,
        "v_reset": -0.1,
        "detach_reset": detach,
        "surrogate": surrogate(spike),
    }
    if family == "lif":
        x = leaf("x", u((T, *step), lo, hi))
        state = LIFState(v=leaf("v", u(step, 0.0, 0.5)), r=torch.zeros(step, dtype=dtype))
        if per_neuron:
            p = LIFParameters(
                tau_mem=leaf("tau_mem", u(FEATURES[-1:], 5e-3, 15e-3)),
                v_th=leaf("v_th", u(FEATURES, 0.75, 1.25)),
                **common,
            )
        else:
            p = LIFParameters(tau_mem=10e-3, v_th=1.0, **common)
    elif family == "cuba_lif":
        x = leaf("x", u((T, *step), lo, hi))
        state = CubaLIFState(v=leaf("v", u(step, 0.0, 0.5)), i=leaf("i", u(step, 0.0, 0.2)))
        if per_neuron:
            p = CubaLIFParameters(
                tau_syn=leaf("tau_syn", u(FEATURES[-1:], 3e-3, 8e-3)),
                tau_mem=leaf("tau_mem", u((1, FEATURES[-1]), 5e-3, 15e-3)),
                v_th=leaf("v_th", u(FEATURES, 0.75, 1.25)),
                **common,
            )
        else:
            p = CubaLIFParameters(tau_syn=5e-3, tau_mem=10e-3, v_th=1.0, **common)
    else:
        x = leaf("x", u((T, *step), lo, hi))
        state = ALIFState(v=leaf("v", u(step, 0.0, 0.5)), a=leaf("a", u(step, 0.0, 0.2)))
        if per_neuron:
            p = ALIFParameters(
                tau_mem=leaf("tau_mem", u(FEATURES[-1:], 5e-3, 15e-3)),
                tau_adapt=leaf("tau_adapt", u(FEATURES, 20e-3, 100e-3)),
                v_th=leaf("v_th", u(FEATURES[-1:], 0.75, 1.25)),
                beta_adapt=leaf("beta_adapt", u(FEATURES, 0.5, 2.0)),
                **common,
            )
        else:
            p = ALIFParameters(tau_mem=20e-3, tau_adapt=50e-3, v_th=1.0, beta_adapt=1.8, **common)
    weights = {"z": torch.randn(x.shape, generator=g, dtype=dtype)}
    for field in state._fields:
        if field != "r":
            weights[field] = torch.randn(step, generator=g, dtype=dtype)
    return Case(x, state, p, leaves, weights)


def loss_of(z: Tensor, state: Any, weights: dict[str, Tensor]) -> Tensor:
    total = (z * weights["z"]).sum() if "z" in weights else 0.0
    for field, w in weights.items():
        if field != "z":
            total = total + (getattr(state, field) * w).sum()
    return total


def run(fn, case: Case, **kwargs) -> tuple[Tensor, Any, dict[str, Tensor]]:
    """``(z, final state, {leaf: gradient})`` of ``fn`` on ``case``."""
    z, state = fn(case.x, case.state, case.p, DT, **kwargs)
    grads = torch.autograd.grad(loss_of(z, state, case.weights), list(case.leaves.values()))
    state = type(state)(*(s.detach() for s in state))
    return z.detach(), state, dict(zip(case.leaves, grads, strict=True))


def assert_equivalent(a: Tensor, b: Tensor, what: str, tol: float | None = None) -> None:
    """``max|a - b| <= tol * max|b|``, by default with the tolerance of ``b``'s dtype."""
    assert a.shape == b.shape and a.dtype == b.dtype, what
    tol = TOL[b.dtype] if tol is None else tol
    scale = max(float(b.abs().max()), 1e-30)
    err = float((a - b).abs().max())
    assert err <= tol * scale, f"{what}: max error {err:.3g} at scale {scale:.3g}"


def assert_runs_match(fused, ref) -> None:
    """Spikes, final state and gradients agree, within the tolerance of the spikes' dtype (or
    of a gradient's own dtype, where that is the coarser)."""
    z, state, grads = fused
    z_ref, state_ref, grads_ref = ref
    tol = TOL[z_ref.dtype]
    assert_equivalent(z, z_ref, "spikes", tol)
    for field in state_ref._fields:
        assert_equivalent(getattr(state, field), getattr(state_ref, field), f"state.{field}", tol)
    for name, g_ref in grads_ref.items():
        assert_equivalent(grads[name], g_ref, f"d loss / d {name}", max(tol, TOL[g_ref.dtype]))


# -- equivalence: outputs and gradients over the physics knobs -----------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("per_neuron", [False, True], ids=["scalar", "per_neuron"])
@pytest.mark.parametrize("spike", SURROGATE_NAMES)
@pytest.mark.parametrize("detach", [False, True], ids=["attached", "detached"])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cpu_kernel_equals_reference_in_outputs_and_gradients(
    family, reset, detach, spike, per_neuron, dtype
):
    case = make_case(family, dtype, per_neuron=per_neuron, reset=reset, detach=detach, spike=spike)
    fam = FAMILIES[family]
    ref = run(fam.reference, case)
    rate = float(ref[0].mean())
    assert 0.05 < rate < 0.75, f"spike rate {rate:.2f}: the test would not exercise the reset"
    assert resolve_backend(case.x, case.state, case.p, DT) == "cpu"
    assert_runs_match(run(fam.multistep, case, backend="cpu"), ref)


@pytest.mark.parametrize("use", ["spikes", "state"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_gradients_match_when_the_loss_reads_only_spikes_or_only_the_state(family, use):
    # the backward then receives no gradient (None) for the unused outputs
    case = make_case(family, seed=1)
    weights = {k: w for k, w in case.weights.items() if (k == "z") == (use == "spikes")}
    case = case._replace(weights=weights)
    fam = FAMILIES[family]
    assert_runs_match(run(fam.multistep, case, backend="cpu"), run(fam.reference, case))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_single_step_and_a_single_neuron(family):
    case = make_case(family, seed=2)
    x = case.x.detach()[:1, :1, :1, :1].requires_grad_(True)
    state = type(case.state)(*(s.detach()[:1, :1, :1].requires_grad_(True) for s in case.state))
    weights = {k: w[:1, :1, :1] if k != "z" else w[:1, :1, :1, :1] for k, w in case.weights.items()}
    p = FAMILIES[family].params(reset="zero", v_reset=-0.1)
    leaves = {"x": x, **{f: s for f, s in zip(state._fields, state, strict=True) if f != "r"}}
    small = Case(x, state, p, leaves, weights)
    fam = FAMILIES[family]
    assert_runs_match(run(fam.multistep, small, backend="cpu"), run(fam.reference, small))


def test_lif_refractory_counter_passes_through_the_fused_kernel():
    case = make_case("lif")
    r = torch.full_like(case.state.r, 3.0)
    _, state = lif_multistep(case.x, case.state._replace(r=r), case.p, DT, backend="cpu")
    assert state.r is r


# -- memory: what the forward keeps for the backward ---------------------------------------------


@pytest.mark.parametrize(
    ("family", "per_neuron", "per_step"),
    [("lif", True, 1), ("cuba_lif", True, 2), ("cuba_lif", False, 1), ("alif", True, 2)],
)
def test_the_forward_keeps_only_h_and_the_trace_per_step(family, per_neuron, per_step):
    # LIF keeps h [T, M]; CuBa-LIF adds i when tau_syn is learnt, ALIF adds a; the rest is O(M)
    case = make_case(family, torch.float32, per_neuron=per_neuron)
    saved: list[Tensor] = []

    def pack(t: Tensor) -> Tensor:
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        FAMILIES[family].multistep(case.x, case.state, case.p, DT, backend="cpu")
    m = B * FEATURES[0] * FEATURES[1]
    distinct = {t.data_ptr(): t for t in saved}.values()
    big = [t for t in distinct if t.numel() >= T * m]
    assert len(big) == per_step
    assert all(t.shape == (T, m) for t in big)
    assert sum(t.numel() for t in distinct) <= per_step * T * m + 16 * m


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_without_grad_the_forward_keeps_no_steps_and_still_equals_the_reference(family):
    case = make_case(family, torch.float32, seed=7)
    fam = FAMILIES[family]
    with torch.no_grad():
        z, state = fam.multistep(case.x, case.state, case.p, DT, backend="cpu")
        z_ref, state_ref = fam.reference(case.x, case.state, case.p, DT)
    assert torch.equal(z, z_ref)
    for field in state_ref._fields:
        assert torch.equal(getattr(state, field), getattr(state_ref, field)), field
    x = case.x.detach().reshape(T, -1)
    m = x.shape[1]
    vectors = {"lif": 3, "cuba_lif": 5, "alif": 7}[family]
    op = getattr(torch.ops.dendrix, f"{family}_cpu_forward")
    saves = (False, False) if family == "cuba_lif" else (False,)
    outputs = op(x, *(torch.full((m,), 0.5) for _ in range(vectors)), 0.0, 0, False, 0, 1.0, *saves)
    assert all(kept.shape == (1, m) for kept in outputs[2 if family == "lif" else 3 :])


# -- torch.compile, torch.func ------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_compiled_equals_eager(family):
    torch._dynamo.reset()
    case = make_case(family, torch.float32, seed=3)
    fam = FAMILIES[family]

    def f(x, state, p):
        return fam.multistep(x, state, p, DT, backend="cpu")

    compiled = torch.compile(f, backend="aot_eager", fullgraph=False)
    assert_runs_match(
        run(lambda x, s, p, dt: compiled(x, s, p), case), run(lambda x, s, p, dt: f(x, s, p), case)
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_torch_func_grad_equals_autograd(family):
    case = make_case(family, seed=4)
    fam = FAMILIES[family]
    names = list(case.leaves)
    detached = {k: v.detach() for k, v in case.leaves.items()}

    def loss(leaves):
        state = type(case.state)(
            *(leaves.get(f, getattr(case.state, f).detach()) for f in case.state._fields)
        )
        p = case.p._replace(**{k: v for k, v in leaves.items() if k in case.p._fields})
        z, final = fam.multistep(leaves["x"], state, p, DT, backend="cpu")
        return loss_of(z, final, case.weights)

    grads = torch.func.grad(loss)(detached)
    _, _, expected = run(fam.reference, case)
    for name in names:
        assert_equivalent(grads[name], expected[name], f"torch.func.grad d loss / d {name}")


class _TinyLIF(nn.Module):
    """A learnable per-neuron time constant in front of the fused kernel."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.tau = nn.Parameter(torch.linspace(5e-3, 15e-3, n, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        state = LIFState(v=torch.zeros_like(x[0]), r=torch.zeros_like(x[0]))
        z, _ = lif_multistep(x, state, LIFParameters(tau_mem=self.tau), DT, backend="cpu")
        return z


def test_functional_call_grad_equals_module_backward():
    module = _TinyLIF(23)
    x = make_case("lif").x.detach()
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(5), dtype=x.dtype)
    (module(x) * w).sum().backward()
    params = {k: v.detach() for k, v in module.named_parameters()}
    grads = torch.func.grad(lambda ps: (torch.func.functional_call(module, ps, (x,)) * w).sum())(
        params
    )
    assert float(module.tau.grad.abs().max()) > 0
    assert_equivalent(grads["tau"], module.tau.grad, "functional_call d loss / d tau")


@pytest.mark.parametrize("op", ["lif_cpu_forward", "cuba_lif_cpu_forward", "alif_cpu_forward"])
def test_custom_ops_pass_opcheck(op):
    # schema, fake kernel, registered autograd and AOT dispatch of the forward operators
    g = torch.Generator().manual_seed(6)
    m, dtype = 40, torch.float64

    def t(*shape):
        return (torch.rand(shape, generator=g, dtype=dtype) * 0.5 + 0.3).requires_grad_(True)

    n_vectors = {"lif_cpu_forward": 3, "cuba_lif_cpu_forward": 5, "alif_cpu_forward": 7}[op]
    saves = (True, True) if op == "cuba_lif_cpu_forward" else (True,)
    args = (t(10, m), *(t(m) for _ in range(n_vectors)), -0.1, 0, False, 2, 4.0, *saves)
    torch.library.opcheck(getattr(torch.ops.dendrix, op), args)


# -- routing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_auto_runs_the_cpu_kernel_for_float_cpu_tensors(family, dtype):
    case = make_case(family, dtype)
    assert resolve_backend(case.x, case.state, case.p, DT) == "cpu"
    assert resolve_backend(case.x, case.state, case.p, DT, "reference") == "reference"


def test_refractory_lif_goes_to_the_reference():
    case = make_case("lif")
    p = case.p._replace(t_ref=2e-3)
    assert resolve_backend(case.x, case.state, p, DT) == "reference"
    z, state = lif_multistep(case.x, case.state, p, DT)
    z_ref, state_ref = reference.lif_multistep_reference(case.x, case.state, p, DT)
    assert torch.equal(z, z_ref) and torch.equal(state.r, state_ref.r)
    assert float(state.r.max()) > 0  # the counter did run
    with pytest.raises(ValueError, match=r"refractory.*backend='reference'"):
        lif_multistep(case.x, case.state, p, DT, backend="cpu")


def test_a_refractory_period_shorter_than_half_a_step_is_no_period():
    # round(t_ref / dt) = 0 steps: the reference runs without one, so the kernel may
    case = make_case("lif")
    p = case.p._replace(t_ref=0.4e-3)
    assert resolve_backend(case.x, case.state, p, DT) == "cpu"
    assert_runs_match(
        run(lif_multistep, case._replace(p=p)),
        run(reference.lif_multistep_reference, case._replace(p=p)),
    )


@dataclass(frozen=True)
class _Rectangular(Surrogate):
    """A surrogate the kernels do not know (its own kind number)."""

    kind: ClassVar[int] = 99

    def __call__(self, u: Tensor) -> Tensor:
        return surrogate("straight_through")(u)


@pytest.mark.parametrize(
    "change",
    ["float16", "bfloat16", "custom_surrogate", "wider_parameter", "wider_state", "tensor_v_reset"],
)
def test_configurations_the_kernel_lacks_go_to_the_reference(change):
    case = make_case("lif", torch.float32)
    x, state, p = case.x.detach(), case.state, case.p
    if change in ("float16", "bfloat16"):
        x = x.to(getattr(torch, change))
        state = LIFState(*(s.detach().to(x.dtype) for s in state))
        p = p._replace(tau_mem=10e-3, v_th=1.0)
    elif change == "custom_surrogate":
        p = p._replace(surrogate=_Rectangular())
    elif change == "wider_parameter":  # a [n] float64 tensor would promote the reference
        p = p._replace(v_th=p.v_th.detach().double())
    elif change == "wider_state":
        state = state._replace(v=state.v.detach().double())
    else:
        p = p._replace(v_reset=torch.tensor(-0.1))
    assert resolve_backend(x, state, p, DT) == "reference"
    z, _ = lif_multistep(x, state, p, DT)
    assert torch.equal(z, reference.lif_multistep_reference(x, state, p, DT)[0])
    with pytest.raises(ValueError, match=r"backend='cpu' cannot run this call: .*'reference'"):
        lif_multistep(x, state, p, DT, backend="cpu")


def test_a_zero_dim_wider_parameter_does_not_promote_and_stays_fused():
    case = make_case("lif", torch.float32)
    p = case.p._replace(tau_mem=torch.tensor(10e-3, dtype=torch.float64, requires_grad=True))
    case = case._replace(p=p, leaves={**case.leaves, "tau_mem": p.tau_mem})
    assert resolve_backend(case.x, case.state, p, DT) == "cpu"
    assert_runs_match(run(lif_multistep, case), run(reference.lif_multistep_reference, case))


def test_narrower_float32_parameters_with_float64_input_stay_fused():
    # e.g. a module's float32 constants driven by float64 data: the reference promotes them
    case = make_case("alif", torch.float64)
    narrow = {
        k: v.detach().float().requires_grad_(True)
        for k, v in case.leaves.items()
        if k in case.p._fields
    }
    case = case._replace(p=case.p._replace(**narrow), leaves={**case.leaves, **narrow})
    assert resolve_backend(case.x, case.state, case.p, DT) == "cpu"
    fused, ref = run(alif_multistep, case), run(reference.alif_multistep_reference, case)
    assert_runs_match(fused, ref)


def _fake_cuda_case(family: str):
    from torch._subclasses.fake_tensor import FakeTensorMode

    fam = FAMILIES[family]
    with FakeTensorMode():
        x = torch.empty(T, B, 4, device="cuda")
        state = fam.state(*(torch.empty(B, 4, device="cuda") for _ in fam.state._fields))
    return x, state


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cuda_tensors_go_to_triton_when_it_is_available_else_the_reference(family, monkeypatch):
    x, state = _fake_cuda_case(family)
    p = FAMILIES[family].params()
    monkeypatch.setattr(dispatch, "triton_available", lambda: True)
    assert resolve_backend(x, state, p, DT) == "triton"
    if family == "lif":
        assert resolve_backend(x, state, p._replace(t_ref=2e-3), DT) == "reference"
    with pytest.raises(ValueError, match=r"backend='cpu' cannot run this call: x is on cuda"):
        resolve_backend(x, state, p, DT, "cpu")
    monkeypatch.setattr(dispatch, "triton_available", lambda: False)
    assert resolve_backend(x, state, p, DT) == "reference"
    with pytest.raises(ValueError, match=r"Triton is unavailable.*'reference'"):
        resolve_backend(x, state, p, DT, "triton")


def test_triton_is_unavailable_when_its_module_does_not_import(monkeypatch):
    monkeypatch.setitem(sys.modules, "dendrix.spiking.kernels.triton", None)
    assert dispatch.triton_available() is False


def test_triton_on_cpu_tensors_and_unknown_backends_are_refused():
    case = make_case("lif")
    with pytest.raises(ValueError, match=r"backend='triton' cannot run this call: x is on cpu"):
        lif_multistep(case.x, case.state, case.p, DT, backend="triton")
    with pytest.raises(ValueError, match="backend must be one of"):
        lif_multistep(case.x, case.state, case.p, DT, backend="gpu")


# -- bad input at the door ----------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bad_shapes_and_types_are_refused(family):
    fam = FAMILIES[family]
    case = make_case(family)
    x, state, p = case.x.detach(), case.state, case.p
    with pytest.raises(ValueError, match="at least 2 dimension"):
        fam.multistep(x[0, 0, 0], state, p, DT)
    with pytest.raises(TypeError, match="floating"):
        fam.multistep(x.long(), state, p, DT)
    with pytest.raises(ValueError, match="no time steps"):
        fam.multistep(x[:0], state, p, DT)
    bad = state._replace(v=state.v[:, :3])
    with pytest.raises(ValueError, match=r"state\.v has shape \(2, 3, 23\).*\(2, 7, 23\)"):
        fam.multistep(x, bad, p, DT)
    with pytest.raises(TypeError, match=f"state must be a {fam.state.__name__}"):
        fam.multistep(x, tuple(state), p, DT)
    with pytest.raises(ValueError, match=r"p\.v_th of shape \(5,\) does not broadcast"):
        fam.multistep(x, state, p._replace(v_th=torch.ones(5, dtype=x.dtype)), DT)
    with pytest.raises(ValueError, match="reset must be one of"):
        fam.multistep(x, state, p._replace(reset="hard"), DT)


@pytest.mark.parametrize("dt", [0.0, -1e-3])
def test_a_non_positive_time_step_is_refused(dt):
    case = make_case("lif")
    with pytest.raises(ValueError, match="dt must be in"):
        lif_multistep(case.x, case.state, case.p, dt)


@pytest.mark.parametrize(
    ("family", "name"),
    [
        ("lif", "tau_mem"),
        ("cuba_lif", "tau_syn"),
        ("cuba_lif", "tau_mem"),
        ("alif", "tau_mem"),
        ("alif", "tau_adapt"),
    ],
)
@pytest.mark.parametrize("as_tensor", [False, True], ids=["float", "tensor"])
def test_a_non_positive_time_constant_is_refused(family, name, as_tensor):
    case = make_case(family, per_neuron=False)
    if as_tensor:
        bad = torch.full(FEATURES[-1:], 10e-3, dtype=torch.float64)
        bad[5] = 0.0
    else:
        bad = -1e-3
    p = case.p._replace(**{name: bad})
    with pytest.raises(ValueError, match=rf"p\.{name} must be"):
        FAMILIES[family].multistep(case.x, case.state, p, DT)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_input_is_refused(bad):
    case = make_case("alif")
    x = case.x.detach().clone()
    x[3, 1, 2, 4] = bad
    with pytest.raises(ValueError, match="x contains 1 NaN or infinite"):
        alif_multistep(x, case.state, case.p, DT)


def test_the_module_examples_run():
    for module in (reference, dispatch):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__

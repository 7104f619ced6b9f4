r"""The expressive leaky memory (ELM) neuron and its branch variant (Spieler et al., ICLR 2024).

One ELM neuron reads ``F`` input features through ``S`` synaptic traces, keeps ``M`` leaky
memory units and writes ``O`` outputs. Per time step ``t`` (step ``dt``, seconds)::

    I_t  = w_s * x_t                                    synaptic current [B, S]     (ELM, S = F)
    I_t  = sum_k w_s[b, k] x_t[r[b, k]]                 branch current   [B, S]     (Branch-ELM)
    s_t  = kappa_s * s_{t-1} + I_t                      synaptic trace   [B, S]
    h_t  = ReLU(W_h [s_t ; kappa_m * m_{t-1}] + b_h)    MLP hidden layer [B, H]     (H = 2 M)
    dm_t = 1.7159 tanh((2/3) (W_dm h_t + b_dm))         memory update    [B, M]
    m_t  = kappa_m * m_{t-1} + lambda (1 - kappa_m) * dm_t   memory      [B, M]
    y_t  = W_y m_t + b_y                                output           [B, O]

with decay factors ``kappa = exp(-dt / tau)``. Symbols and units:

* ``x_t`` input (dimensionless), ``w_s >= 0`` synaptic weights (stored as ``rho_w``, read as
  ``w_s = max(rho_w, 0)`` as in the reference implementation);
* ``tau_s`` synaptic time constants (s; default 5 ms, fixed as in the paper or learnable);
* ``tau_m`` memory time constants (s; default log-spaced in [1 ms, 1 s], learnable);
* ``lambda`` (dimensionless, default 5) scales the memory update; ``1.7159 tanh(2x/3)`` is
  LeCun's scaled tanh, so ``|dm_t| < 1.7159`` and ``|m_t| <= 1.7159 lambda`` from a zero start;
* ``r[b, k]`` (Branch-ELM) the index of the input feature read by synapse ``k`` of branch
  ``b``: each branch sums its synapses *before* the trace, so the trace and the MLP see
  ``S = branches`` values instead of ``F``. With one ``tau_s`` per branch this equals the
  reference implementation, which traces every synapse and sums the traces per branch (the
  trace is linear).

**Units.** Time is in seconds and ``dt`` is explicit (the library convention,
:mod:`dendrix.spiking.functional.base`). With the default ``dt = 1 ms`` the paper's values read
directly (it works in ms with a 1 ms step). For data without physical time, ``tau / dt`` is the
memory horizon in steps: ``tau_m = 1 s`` at ``dt = 1 ms`` remembers for ~1000 steps.

**Bounded time constants.** A learnable time constant is stored as an unconstrained ``rho`` and
read through a log-scale sigmoid map::

    tau = lo * (hi / lo) ** sigmoid(rho)

so it never leaves ``[lo, hi]`` whatever the optimiser does, and a step in ``rho`` changes
``tau`` by a constant *factor* across the three decades the memory spans (the reference code
maps linearly, which freezes the short time constants in the sigmoid's flat tail). Memory time
constants start log-spaced at the midpoints ``tau_i = lo (hi/lo)^((i + 1/2) / M)``.

**Functional core, thin modules.** :func:`elm_step` is one step on an explicit
:class:`ELMState` with :class:`ELMParameters`; it is the composition of the named phases
:func:`elm_current`, :func:`elm_trace`, :func:`elm_update`, :func:`elm_memory` and
:func:`elm_readout`. :func:`elm_sequence` runs a whole ``[T, B, F]`` sequence (time first) with
everything that does not depend on the memory hoisted out of the time loop (the synaptic
currents and the synaptic part of the first MLP layer as one matmul each, the readout as one
matmul on the stacked memories); it equals ``scan(elm_step, ...)`` (tested). :class:`ELM` and
:class:`BranchELM` own the parameters and delegate; they map ``[T, B, F] -> [T, B, O]`` so
layers stack (e.g. in ``nn.Sequential``).

Reference:
    A. Spieler, N. Rahaman, G. Martius, B. Schölkopf and A. Levina, "The expressive leaky
    memory neuron: an efficient and expressive phenomenological neuron model can solve
    long-horizon tasks", ICLR 2024 (arXiv:2306.16922).

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = ELM(3, 2, memory=8, generator=g)
    >>> y = layer(torch.rand(50, 4, 3, generator=g))  # [T, B, F] -> [T, B, O]
    >>> y.shape
    torch.Size([50, 4, 2])
    >>> bool((layer.tau_m() >= 1e-3).all() and (layer.tau_m() <= 1.0).all())
    True
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.registry import LAYERS, LayerSpec
from dendrix.spiking.functional.base import decay_unchecked, scan

__all__ = [
    "ELM",
    "BranchELM",
    "ELMParameters",
    "ELMState",
    "bounded_time_constant",
    "branch_routing",
    "elm_current",
    "elm_memory",
    "elm_readout",
    "elm_reference",
    "elm_sequence",
    "elm_step",
    "elm_trace",
    "elm_update",
    "scaled_tanh",
]


class ELMState(NamedTuple):
    """State of a batch of ELM neurons.

    Attributes:
        s: synaptic (or branch) traces ``[B, S]``.
        m: memory units ``[B, M]``.
    """

    s: Tensor
    m: Tensor


class ELMParameters(NamedTuple):
    """Everything :func:`elm_step` needs besides the input and the state (module docstring).

    Attributes:
        w_s: synaptic weights ``>= 0``: ``[F]`` (ELM, ``S = F``) or ``[S, K]`` (Branch-ELM).
        routing: ``None`` (ELM) or long ``[S, K]``: input feature read by synapse ``k`` of
            branch ``b``.
        kappa_s: synaptic decay per step ``[S]`` in (0, 1).
        kappa_m: memory decay per step ``[M]`` in (0, 1).
        w_h, b_h: first MLP layer ``[H, S + M]``, ``[H]`` (inputs: traces, then memory).
        w_dm, b_dm: second MLP layer ``[M, H]``, ``[M]``.
        w_y, b_y: readout ``[O, M]``, ``[O]``.
        lam: memory update scale ``lambda`` (dimensionless).
    """

    w_s: Tensor
    routing: Tensor | None
    kappa_s: Tensor
    kappa_m: Tensor
    w_h: Tensor
    b_h: Tensor
    w_dm: Tensor
    b_dm: Tensor
    w_y: Tensor
    b_y: Tensor
    lam: float


def scaled_tanh(x: Tensor) -> Tensor:
    """``1.7159 tanh(2x/3)``, LeCun's scaled tanh (``f(+-1) ~ +-1``): the ELM's update map."""
    return 1.7159 * torch.tanh(x * (2.0 / 3.0))


def bounded_time_constant(rho: Tensor, lo: float, hi: float) -> Tensor:
    """``lo * (hi / lo) ** sigmoid(rho)``: a time constant in ``[lo, hi]`` seconds, any ``rho``."""
    # the clamp only removes rounding at a saturated sigmoid (lo * (hi / lo) may exceed hi)
    return (lo * torch.exp(math.log(hi / lo) * torch.sigmoid(rho))).clamp(lo, hi)


def _inverse_bounded(tau: Tensor, lo: float, hi: float) -> Tensor:
    return torch.logit(torch.log(tau / lo) / math.log(hi / lo))


# ---- named pure phases ---------------------------------------------------------------------


def elm_current(x: Tensor, w_s: Tensor, routing: Tensor | None) -> Tensor:
    """Synaptic current ``I = w_s * x`` (ELM) or ``I_b = sum_k w_s[b, k] x[r[b, k]]`` (branches).

    Args:
        x: input ``[..., F]`` (one step ``[B, F]`` or a whole sequence ``[T, B, F]``).
        w_s: ``[F]`` or ``[S, K]`` non-negative weights.
        routing: ``None`` or long ``[S, K]``.

    Returns:
        ``[..., S]``.
    """
    if routing is None:
        return x * w_s
    gathered = x[..., routing]  # [..., S, K]
    return (gathered * w_s).sum(-1)  # [..., S]


def elm_trace(current: Tensor, s: Tensor, kappa_s: Tensor) -> Tensor:
    """Synaptic trace ``s_t = kappa_s * s_{t-1} + I_t`` (``[B, S]``)."""
    return kappa_s * s + current


def elm_update(
    s: Tensor, m: Tensor, kappa_m: Tensor, w_h: Tensor, b_h: Tensor, w_dm: Tensor, b_dm: Tensor
) -> Tensor:
    """Memory update ``dm = 1.7159 tanh(2/3 (W_dm ReLU(W_h [s ; kappa_m m] + b_h) + b_dm))``.

    Args:
        s: current traces ``[B, S]``; m: previous memory ``[B, M]``.

    Returns:
        ``[B, M]``, each entry in (-1.7159, 1.7159).
    """
    h = torch.relu(nn.functional.linear(torch.cat([s, kappa_m * m], dim=-1), w_h, b_h))  # [B, H]
    return scaled_tanh(nn.functional.linear(h, w_dm, b_dm))  # [B, M]


def elm_memory(m: Tensor, dm: Tensor, kappa_m: Tensor, lam: float) -> Tensor:
    """Leaky memory ``m_t = kappa_m * m_{t-1} + lambda (1 - kappa_m) * dm_t`` (``[B, M]``)."""
    return kappa_m * m + lam * (1.0 - kappa_m) * dm


def elm_readout(m: Tensor, w_y: Tensor, b_y: Tensor) -> Tensor:
    """Output ``y = W_y m + b_y``: ``[..., M] -> [..., O]``."""
    return nn.functional.linear(m, w_y, b_y)


def elm_step(x: Tensor, state: ELMState, p: ELMParameters) -> tuple[Tensor, ELMState]:
    """One ELM step: current -> trace -> update -> memory -> readout (module docstring).

    The readable reference for :func:`elm_sequence`; arguments are not checked here (it runs
    inside a time loop) -- :class:`ELM` checks them at the door.

    Args:
        x: input at this step ``[B, F]``.
        state: ``ELMState(s [B, S], m [B, M])``.
        p: :class:`ELMParameters`.

    Returns:
        ``(y [B, O], new state)``.
    """
    s = elm_trace(elm_current(x, p.w_s, p.routing), state.s, p.kappa_s)
    dm = elm_update(s, state.m, p.kappa_m, p.w_h, p.b_h, p.w_dm, p.b_dm)
    m = elm_memory(state.m, dm, p.kappa_m, p.lam)
    return elm_readout(m, p.w_y, p.b_y), ELMState(s, m)


def elm_sequence(x: Tensor, state: ELMState, p: ELMParameters) -> tuple[Tensor, ELMState]:
    """Run :func:`elm_step` over ``x`` ``[T, B, F]`` (time first); the fast path of the modules.

    Equal to ``scan(elm_step, x, state, p)`` up to floating-point rounding, but everything that
    does not need the memory leaves the time loop: the currents of all steps are one
    (gathered) product, the synaptic half of the first MLP layer is one matmul over the stacked
    traces, and the readout is one matmul over the stacked memories. Only the memory
    recurrence (two small matmuls per step) stays in the Python loop.

    Returns:
        ``(y [T, B, O], final state)``.
    """
    num_syn = state.s.shape[-1]
    current = elm_current(x, p.w_s, p.routing)  # [T, B, S]
    s = state.s
    traces = []
    for i_t in current:  # s <- kappa_s * s + I_t, one fused op per step
        s = torch.addcmul(i_t, p.kappa_s, s)
        traces.append(s)
    traces_all = torch.stack(traces)  # [T, B, S]
    w_hs, w_hm = p.w_h[:, :num_syn], p.w_h[:, num_syn:]  # [H, S], [H, M]
    drive = nn.functional.linear(traces_all, w_hs, p.b_h)  # [T, B, H]
    # constants folded once, outside the loop: W_hm (kappa_m m) = (W_hm diag kappa_m) m;
    # 1.7159 tanh(2/3 z) with the 2/3 in W_dm, b_dm and the 1.7159 in the memory gain
    w_hm_t = (w_hm * p.kappa_m).t()  # [M, H]
    w_dm_t = (p.w_dm * (2.0 / 3.0)).t()  # [H, M]
    b_dm = p.b_dm * (2.0 / 3.0)  # [M]
    gain = (p.lam * 1.7159) * (1.0 - p.kappa_m)  # [M]
    m = state.m
    memories = []
    for d_t in drive:
        h = torch.relu(torch.addmm(d_t, m, w_hm_t))  # [B, H]
        m = torch.addcmul(p.kappa_m * m, gain, torch.tanh(torch.addmm(b_dm, h, w_dm_t)))
        memories.append(m)
    y = elm_readout(torch.stack(memories), p.w_y, p.b_y)  # [T, B, O]
    return y, ELMState(s, m)


def elm_reference(x: Tensor, state: ELMState, p: ELMParameters) -> tuple[Tensor, ELMState]:
    """``scan(elm_step, x, state, p)``: the step-by-step reference of :func:`elm_sequence`."""
    return scan(elm_step, x, state, p)


# ---- routing ----------------------------------------------------------------------------------


def branch_routing(
    in_features: int,
    branches: int,
    synapses_per_branch: int | None = None,
    *,
    mode: str = "contiguous",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Which input feature each synapse of each branch reads: long ``[branches, K]``.

    Args:
        in_features: ``F``.
        branches: ``S``, number of dendritic branches.
        synapses_per_branch: ``K``; default ``F // S`` for ``"contiguous"`` (which then must
            divide ``F``) and ``ceil(F / S)`` for ``"random"``.
        mode: ``"contiguous"``: branch ``b`` reads features ``b K .. (b + 1) K - 1`` (needs
            ``S K = F``: every feature read exactly once); ``"random"``: every synapse reads a
            feature drawn uniformly with replacement from ``generator`` (the reference code's
            ``random_routing``).
    """
    in_features = check_int("in_features", in_features, minimum=1)
    branches = check_int("branches", branches, minimum=1)
    check_choice("routing", mode, ("contiguous", "random"))
    if mode == "contiguous":
        if synapses_per_branch is None:
            if in_features % branches:
                raise ValueError(
                    f"branches={branches} must divide in_features={in_features} for contiguous "
                    "routing; choose a divisor, pass synapses_per_branch with branches * "
                    "synapses_per_branch == in_features, or use routing='random'."
                )
            synapses_per_branch = in_features // branches
        k = check_int("synapses_per_branch", synapses_per_branch, minimum=1)
        if branches * k != in_features:
            raise ValueError(
                f"contiguous routing reads every feature once, so branches * synapses_per_branch "
                f"must equal in_features={in_features}, got {branches} * {k}; use "
                "routing='random' for other sizes."
            )
        return torch.arange(in_features).reshape(branches, k)
    k = math.ceil(in_features / branches) if synapses_per_branch is None else synapses_per_branch
    k = check_int("synapses_per_branch", k, minimum=1)
    return torch.randint(in_features, (branches, k), generator=generator)


# ---- modules ------------------------------------------------------------------------------


def _uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator | None) -> Tensor:
    return torch.empty(shape).uniform_(-bound, bound, generator=generator)


def _check_bounds(name: str, bounds: object) -> tuple[float, float]:
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"{name} must be a pair (lo, hi) in seconds, got {bounds!r}.")
    lo = check_float(f"{name}[0]", bounds[0], minimum=0.0, open_min=True, hint="In seconds.")
    hi = check_float(f"{name}[1]", bounds[1], minimum=0.0, open_min=True, hint="In seconds.")
    if not lo < hi:
        raise ValueError(f"{name} must satisfy lo < hi, got ({lo}, {hi}); swap or widen them.")
    return lo, hi


class ELM(nn.Module):
    r"""A layer of ELM neurons over time-first sequences ``[T, B, F] -> [T, B, O]``.

    The equations are :func:`elm_step`'s (module docstring); this module owns the parameters,
    builds the zero initial state and runs :func:`elm_sequence`.

    Args:
        in_features: ``F``, input features (synapses).
        out_features: ``O``, readout size.
        memory: ``M``, memory units (the paper's ``d_m``).
        mlp_hidden: ``H``, width of the MLP's hidden layer (default ``2 M``).
        dt: time step in seconds.
        tau_m: ``(lo, hi)`` bounds of the memory time constants in seconds; they start
            log-spaced inside.
        learn_tau_m: train ``tau_m`` (through the bounded map) or keep it fixed.
        tau_s: initial synaptic time constant in seconds (paper: 5 ms).
        learn_tau_s: train one ``tau_s`` per trace (paper: fixed).
        tau_s_bounds: ``(lo, hi)`` of a learnable ``tau_s`` (default ``(tau_s/10, 10 tau_s)``).
        w_s: initial synaptic weight (paper: 0.5).
        lam: memory update scale ``lambda`` (paper: 5).
        routing: ``None`` (one trace per input feature) or long ``[S, K]`` input indices of
            the synapses of ``S`` branches (see :func:`branch_routing` and :class:`BranchELM`).
        generator: draws the initial weights (``None``: torch's default generator).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> first, second = ELM(2, 16, memory=8, generator=g), ELM(16, 1, memory=4, generator=g)
        >>> net = nn.Sequential(first, second)
        >>> net(torch.rand(30, 5, 2, generator=g)).shape
        torch.Size([30, 5, 1])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        memory: int = 100,
        mlp_hidden: int | None = None,
        dt: float = 1e-3,
        tau_m: tuple[float, float] = (1e-3, 1.0),
        learn_tau_m: bool = True,
        tau_s: float = 5e-3,
        learn_tau_s: bool = False,
        tau_s_bounds: tuple[float, float] | None = None,
        w_s: float = 0.5,
        lam: float = 5.0,
        routing: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        self.memory = check_int("memory", memory, minimum=1)
        hidden = 2 * self.memory if mlp_hidden is None else mlp_hidden
        self.mlp_hidden = check_int("mlp_hidden", hidden, minimum=1)
        self.dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="Give it in seconds.")
        self.tau_m_bounds = _check_bounds("tau_m", tau_m)
        tau_s = check_float("tau_s", tau_s, minimum=0.0, open_min=True, hint="In seconds.")
        self.lam = check_float("lam", lam, minimum=0.0, open_min=True)
        w_s = check_float("w_s", w_s, minimum=0.0, open_min=True, hint="Weights are >= 0.")
        self.learn_tau_m, self.learn_tau_s = bool(learn_tau_m), bool(learn_tau_s)

        if routing is None:
            num_syn, w_shape = self.in_features, (self.in_features,)
        else:
            check_tensor("routing", routing, kind="integer", ndim=2)
            if routing.numel() and (routing.min() < 0 or routing.max() >= self.in_features):
                raise ValueError(
                    f"routing holds input feature indices, so every entry must lie in "
                    f"[0, {self.in_features - 1}]; got range [{int(routing.min())}, "
                    f"{int(routing.max())}]. Build it with branch_routing(in_features, ...)."
                )
            num_syn, w_shape = routing.shape[0], tuple(routing.shape)
            routing = routing.detach().to(torch.long).clone()
        self.num_traces = num_syn
        self.register_buffer("routing", routing)

        self.rho_w = nn.Parameter(torch.full(w_shape, w_s))
        # memory time constants: log-spaced midpoints of [lo, hi] (sigmoid(rho) = u)
        u = (torch.arange(self.memory, dtype=torch.float64) + 0.5) / self.memory
        rho_m = torch.logit(u).to(torch.get_default_dtype())
        if self.learn_tau_m:
            self.rho_m = nn.Parameter(rho_m)
        else:
            self.register_buffer("rho_m", rho_m)
        # synaptic time constants: fixed (buffer, seconds) or bounded learnable
        if self.learn_tau_s:
            bounds = (tau_s / 10.0, tau_s * 10.0) if tau_s_bounds is None else tau_s_bounds
            self.tau_s_bounds = _check_bounds("tau_s_bounds", bounds)
            slo, shi = self.tau_s_bounds
            if not slo < tau_s < shi:
                raise ValueError(
                    f"tau_s={tau_s} must lie strictly inside tau_s_bounds=({slo}, {shi}); "
                    "widen the bounds or change tau_s."
                )
            init = _inverse_bounded(torch.full((num_syn,), tau_s, dtype=torch.float64), slo, shi)
            self.rho_s = nn.Parameter(init.to(torch.get_default_dtype()))
        else:
            self.tau_s_bounds = None
            self.register_buffer("tau_s_fixed", torch.full((num_syn,), tau_s))

        n_in, h, m_, o = num_syn + self.memory, self.mlp_hidden, self.memory, self.out_features
        self.w_h = nn.Parameter(_uniform((h, n_in), 1 / math.sqrt(n_in), generator))
        self.b_h = nn.Parameter(_uniform((h,), 1 / math.sqrt(n_in), generator))
        self.w_dm = nn.Parameter(_uniform((m_, h), 1 / math.sqrt(h), generator))
        self.b_dm = nn.Parameter(_uniform((m_,), 1 / math.sqrt(h), generator))
        self.w_y = nn.Parameter(_uniform((o, m_), 1 / math.sqrt(m_), generator))
        self.b_y = nn.Parameter(_uniform((o,), 1 / math.sqrt(m_), generator))

    def tau_m(self) -> Tensor:
        """Memory time constants ``[M]`` in seconds, inside :attr:`tau_m_bounds`."""
        return bounded_time_constant(self.rho_m, *self.tau_m_bounds)

    def tau_s(self) -> Tensor:
        """Synaptic (branch) time constants ``[S]`` in seconds."""
        if self.learn_tau_s:
            return bounded_time_constant(self.rho_s, *self.tau_s_bounds)
        return self.tau_s_fixed

    def w_s(self) -> Tensor:
        """Synaptic weights ``max(rho_w, 0)``: ``[F]`` or ``[S, K]``."""
        return torch.relu(self.rho_w)

    def params(self) -> ELMParameters:
        """The current :class:`ELMParameters` (decays from the time constants and ``dt``)."""
        return ELMParameters(
            w_s=self.w_s(),
            routing=self.routing,
            kappa_s=decay_unchecked(self.tau_s(), self.dt),
            kappa_m=decay_unchecked(self.tau_m(), self.dt),
            w_h=self.w_h,
            b_h=self.b_h,
            w_dm=self.w_dm,
            b_dm=self.b_dm,
            w_y=self.w_y,
            b_y=self.b_y,
            lam=self.lam,
        )

    def initial_state(
        self, batch: int, *, dtype: torch.dtype | None = None, device: torch.device | None = None
    ) -> ELMState:
        """Zero traces and memory for ``batch`` sequences."""
        dtype = self.w_h.dtype if dtype is None else dtype
        device = self.w_h.device if device is None else device
        return ELMState(
            torch.zeros(batch, self.num_traces, dtype=dtype, device=device),
            torch.zeros(batch, self.memory, dtype=dtype, device=device),
        )

    def _check_input(self, x: Tensor, ndim: int, layout: str) -> None:
        check_tensor(
            "x",
            x,
            kind="floating",
            ndim=ndim,
            last_dim=self.in_features,
            hint=f"Expected {layout} with F = in_features = {self.in_features}.",
        )

    def _check_state(self, state: object, batch: int) -> ELMState:
        if not isinstance(state, ELMState):
            raise TypeError(
                f"state must be an ELMState (from initial_state or a previous call), got "
                f"{type(state).__name__}."
            )
        want_s, want_m = (batch, self.num_traces), (batch, self.memory)
        if tuple(state.s.shape) != want_s or tuple(state.m.shape) != want_m:
            raise ValueError(
                f"state must have s of shape {want_s} and m of shape {want_m}, got "
                f"{tuple(state.s.shape)} and {tuple(state.m.shape)}; build it with "
                f"initial_state({batch})."
            )
        return state

    def step(self, x: Tensor, state: ELMState | None = None) -> tuple[Tensor, ELMState]:
        """One step: ``x`` ``[B, F]`` -> ``(y [B, O], state)`` (see :func:`elm_step`)."""
        self._check_input(x, 2, "one step [B, F]")
        if state is None:
            state = self.initial_state(x.shape[0], dtype=x.dtype, device=x.device)
        state = self._check_state(state, x.shape[0])
        return elm_step(x, state, self.params())

    def run(self, x: Tensor, state: ELMState | None = None) -> tuple[Tensor, ELMState]:
        """A sequence ``x`` ``[T, B, F]`` -> ``(y [T, B, O], final state)``; ``state=None``
        starts from zero."""
        self._check_input(x, 3, "a time-first sequence [T, B, F]")
        if state is None:
            state = self.initial_state(x.shape[1], dtype=x.dtype, device=x.device)
        state = self._check_state(state, x.shape[1])
        return elm_sequence(x, state, self.params())

    def forward(self, x: Tensor, state: ELMState | None = None) -> Tensor:
        """``[T, B, F] -> [T, B, O]`` from a zero (or the given) state; see :meth:`run`."""
        return self.run(x, state)[0]

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"memory={self.memory}, mlp_hidden={self.mlp_hidden}, traces={self.num_traces}, "
            f"dt={self.dt}, tau_m={self.tau_m_bounds}, learn_tau_m={self.learn_tau_m}, "
            f"learn_tau_s={self.learn_tau_s}, lam={self.lam}"
        )


class BranchELM(ELM):
    """The Branch-ELM: synapses grouped into ``branches`` whose sums feed the traces and the MLP.

    Same equations and arguments as :class:`ELM` (module docstring); the routing comes from
    :func:`branch_routing`, so the MLP's input shrinks from ``F + M`` to ``branches + M``.

    Args:
        branches: number of dendritic branches ``S``.
        synapses_per_branch: ``K`` (see :func:`branch_routing`).
        routing: ``"contiguous"`` or ``"random"`` (the string mode, not a tensor; pass an
            explicit index tensor to :class:`ELM` instead).
        generator: draws the random routing (if any) and the initial weights.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = BranchELM(12, 2, branches=4, memory=8, generator=g)
        >>> layer.routing.shape, layer(torch.rand(20, 3, 12, generator=g)).shape
        (torch.Size([4, 3]), torch.Size([20, 3, 2]))
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        branches: int,
        synapses_per_branch: int | None = None,
        routing: str = "contiguous",
        generator: torch.Generator | None = None,
        **kwargs: object,
    ) -> None:
        index = branch_routing(
            in_features, branches, synapses_per_branch, mode=routing, generator=generator
        )
        super().__init__(in_features, out_features, routing=index, generator=generator, **kwargs)


# Layer contract suite (tests/contracts): every registered layer gets the same checks.
LAYERS.add(
    "dendrites.ELM",
    LayerSpec(
        build=lambda: ELM(
            5, 5, memory=6, learn_tau_s=True, generator=torch.Generator().manual_seed(0)
        ),
        example_input=lambda g: torch.rand(12, 3, 5, generator=g),
        tags=("sequence",),
    ),
)
LAYERS.add(
    "dendrites.BranchELM",
    LayerSpec(
        build=lambda: BranchELM(
            6,
            6,
            branches=3,
            memory=5,
            learn_tau_s=True,
            generator=torch.Generator().manual_seed(0),
        ),
        example_input=lambda g: torch.rand(12, 3, 6, generator=g),
        tags=("sequence",),
    ),
)

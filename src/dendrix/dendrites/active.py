r"""Active dendrites for continual learning (Iyer et al. 2022) and synaptic intelligence.

**Active-dendrite layer.** ``N`` units, each with a feed-forward weight row and ``K`` dendritic
segments over a context vector ``c`` (dimension ``C``)::

    y_n   = w_n . x + b_n                    feed-forward drive of unit n      [B, N]
    d_nk  = u_nk . c                          activation of segment k of unit n  [B, N, K]
    g_n   = d_{n k*},  k* = argmax_k |d_nk|   "absmax": the largest |d|, sign kept
          = max_k d_nk                        "max"
          = mean_k d_nk                       "mean"
    out_n = y_n * sigmoid(g_n)                dendritic gating

optionally followed by k-winners-take-all over the ``N`` units (:class:`dendrix.sdr.KWinners`).
All quantities are dimensionless. A segment that strongly matches the context (``d >> 0``) lets
the unit through (``sigmoid -> 1``); a strongly anti-matching one (``d << 0``) silences it, so a
context selects a sub-network. With ``y = 0`` the output is zero whatever the context: the
context modulates, it never drives. Ties in ``|d|`` go to the lowest segment index. The gradient
reaches only the selected segment (``absmax``, ``max``) or every segment equally (``mean``).

**Task prototypes.** In Iyer et al.'s permuted-MNIST setting the context of task ``t`` is its
prototype ``p_t = mean of the task's training inputs``; at test time, when the task is not
given, the context is the nearest prototype in Euclidean distance,
``t*(x) = argmin_t ||x - p_t||_2`` (:class:`PrototypeContext`).

**Synaptic intelligence** (Zenke, Poole & Ganguli 2017), for any parameters ``theta_i``. While
task ``mu`` is trained, each optimiser step ``theta(s) -> theta(s+1)`` adds to the running path
integral::

    omega_i  <-  omega_i - g_i(s) * (theta_i(s+1) - theta_i(s))   g = dL_task/dtheta at step s

At the end of the task (``Delta_i = theta_i(end of mu) - theta_i(start of mu)``, ``xi > 0`` the
damping)::

    Omega_i  <-  Omega_i + omega_i / (Delta_i^2 + xi),    theta*_i <- theta_i,   omega_i <- 0

and training on later tasks adds the surrogate loss ``c * sum_i Omega_i (theta_i - theta*_i)^2``
(``c >= 0`` the strength). ``omega`` integrates the gradient of the task loss alone: when the
penalty was part of the loss, its gradient ``2 c Omega (theta - theta*)`` is removed first.

Two variants follow Iyer et al.'s code (Numenta's SI mixin, also Masse et al. 2018):
``path_gradient="total"`` integrates the gradient of the total loss (task + surrogate), and
``rectify=True`` folds only the positive part of the path integral into the importance,
``Omega_i <- Omega_i + max(omega_i, 0) / (Delta_i^2 + xi)``.

References:
    A. Iyer, K. Grewal, A. Velu, L. O. Souza, J. Forest and S. Ahmad, "Avoiding catastrophe:
    active dendrites enable multi-task learning in dynamic environments", Frontiers in
    Neurorobotics 16 (2022). F. Zenke, B. Poole and S. Ganguli, "Continual learning through
    synaptic intelligence", ICML 2017.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = ActiveDendrites(6, 4, num_segments=3, context_dim=5, generator=g)
    >>> layer(torch.randn(2, 6, generator=g), torch.randn(5, generator=g)).shape
    torch.Size([2, 4])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.dendrites.sparse import SparseLinear, SparseWeights
from dendrix.registry import LAYERS, LayerSpec
from dendrix.sdr.kwinners import KWinners

__all__ = [
    "GATINGS",
    "ActiveDendrites",
    "DendriticMLP",
    "PrototypeContext",
    "SynapticIntelligence",
    "active_dendrites",
    "dendrite_activations",
    "dendritic_gate",
    "nearest_prototype",
    "select_segment",
    "si_consolidate",
    "si_path_step",
    "si_penalty",
]

#: How a unit's segment activations ``[..., K]`` become one gating value.
GATINGS = ("absmax", "max", "mean")


# --------------------------------------------------------------------------------------------
# Functional core: active dendrites
# --------------------------------------------------------------------------------------------
def dendrite_activations(context: Tensor, segments: Tensor) -> Tensor:
    """Segment activations ``d_nk = u_nk . c``.

    Args:
        context: ``[..., C]`` context vectors (``[C]`` for one context shared by a batch).
        segments: ``[N, K, C]`` segment weights.

    Returns:
        ``[..., N, K]``.

    Example:
        >>> dendrite_activations(torch.ones(2), torch.tensor([[[1.0, 2.0], [-1.0, 0.0]]]))
        tensor([[ 3., -1.]])
    """
    check_tensor("segments", segments, kind="floating", ndim=3, hint="Expected [N, K, C].")
    check_tensor(
        "context",
        context,
        kind="floating",
        min_ndim=1,
        last_dim=segments.shape[-1],
        hint=f"Expected [..., {segments.shape[-1]}] (the segments' context dimension).",
    )
    return _dendrite_activations(context, segments)


def _dendrite_activations(context: Tensor, segments: Tensor) -> Tensor:
    n, k, c = segments.shape
    d = context.reshape(-1, c) @ segments.reshape(n * k, c).t()  # [M, N*K]
    return d.reshape(*context.shape[:-1], n, k)  # [..., N, K]


def select_segment(d: Tensor, gating: str = "absmax") -> Tensor:
    """One gating value per unit from its segment activations ``d`` ``[..., K]``.

    ``absmax``: the ``d_k`` with the largest ``|d_k|``, sign kept (ties: lowest ``k``);
    ``max``: ``max_k d_k``; ``mean``: ``mean_k d_k``.

    Returns:
        ``[...]``.

    Example:
        >>> select_segment(torch.tensor([0.5, -2.0, 1.0]))
        tensor(-2.)
    """
    check_choice("gating", gating, GATINGS)
    check_tensor("d", d, kind="floating", min_ndim=1, hint="Expected [..., K] activations.")
    return _select_segment(d, gating)


def _select_segment(d: Tensor, gating: str) -> Tensor:
    if gating == "absmax":
        winner = d.detach().abs().argmax(dim=-1, keepdim=True)  # [..., 1], first max on ties
        return d.gather(-1, winner).squeeze(-1)
    if gating == "max":
        return d.max(dim=-1).values
    return d.mean(dim=-1)


def dendritic_gate(y: Tensor, d: Tensor, gating: str = "absmax") -> Tensor:
    """``y * sigmoid(g)`` with ``g = select_segment(d, gating)``.

    Args:
        y: ``[..., N]`` feed-forward drive.
        d: ``[..., N, K]`` segment activations, broadcastable to ``y`` (``[N, K]`` for one
            shared context).

    Returns:
        ``[..., N]``.
    """
    check_choice("gating", gating, GATINGS)
    check_tensor("y", y, kind="floating", min_ndim=1)
    check_tensor("d", d, kind="floating", min_ndim=2, hint="Expected [..., N, K].")
    if d.shape[-2] != y.shape[-1]:
        raise ValueError(
            f"d must have N = {y.shape[-1]} units in dim -2 (like y's last dim), got shape "
            f"{tuple(d.shape)}."
        )
    return y * torch.sigmoid(_select_segment(d, gating))


def active_dendrites(
    x: Tensor,
    context: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    segments: Tensor,
    gating: str = "absmax",
) -> Tensor:
    """An active-dendrite layer without k-winners (equations in the module docstring).

    Args:
        x: ``[..., in]`` feed-forward input.
        context: ``[..., C]`` per-sample contexts, or ``[C]`` shared by every sample (the
            segment activations are then computed once).
        weight: ``[N, in]``; bias: ``[N]`` or ``None``; segments: ``[N, K, C]``.
        gating: ``"absmax"``, ``"max"`` or ``"mean"``.

    Returns:
        ``[..., N]``.

    Example:
        >>> w, seg = torch.eye(2), torch.tensor([[[4.0], [-9.0]], [[1.0], [0.5]]])
        >>> active_dendrites(torch.ones(1, 2), torch.ones(1), w, None, seg)  # -9 gates unit 0
        tensor([[1.2339e-04, 7.3106e-01]])
    """
    check_choice("gating", gating, GATINGS)
    check_tensor("weight", weight, kind="floating", ndim=2, hint="Expected [N, in].")
    check_tensor("x", x, kind="floating", min_ndim=1, last_dim=weight.shape[1])
    d = dendrite_activations(context, segments)
    if segments.shape[0] != weight.shape[0]:
        raise ValueError(
            f"segments must have one row per unit, N = {weight.shape[0]}, got shape "
            f"{tuple(segments.shape)}."
        )
    if context.ndim > 1 and context.shape[:-1] != x.shape[:-1]:
        raise ValueError(
            f"context {tuple(context.shape)} must match x {tuple(x.shape)} in its leading "
            f"dimensions, or be one shared [C] vector."
        )
    return _gate(F.linear(x, weight, bias), d, gating)


def _gate(y: Tensor, d: Tensor, gating: str) -> Tensor:
    return y * torch.sigmoid(_select_segment(d, gating))


# --------------------------------------------------------------------------------------------
# Functional core: task prototypes
# --------------------------------------------------------------------------------------------
def nearest_prototype(x: Tensor, prototypes: Tensor) -> Tensor:
    """Index of the nearest prototype in Euclidean distance, ``argmin_t ||x - p_t||``.

    Args:
        x: ``[B, D]`` inputs; prototypes: ``[T, D]``.

    Returns:
        ``[B]`` long, ties to the lowest index.

    Example:
        >>> nearest_prototype(torch.tensor([[0.9, 0.0]]), torch.eye(2))
        tensor([0])
    """
    check_tensor("prototypes", prototypes, kind="floating", ndim=2, hint="Expected [T, D].")
    check_tensor("x", x, kind="floating", ndim=2, last_dim=prototypes.shape[1])
    # ||x - p||^2 = ||x||^2 - 2 x.p + ||p||^2; ||x||^2 is the same for every t
    scores = prototypes.square().sum(-1) - 2.0 * x @ prototypes.t()  # [B, T]
    return scores.argmin(dim=-1)


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------
class ActiveDendrites(nn.Module):
    """Linear units gated by their dendritic segments, optionally followed by k-winners.

    See the module docstring for the equations and :func:`active_dendrites` for the maths.

    Args:
        in_features: size ``in`` of the feed-forward input.
        out_features: number of units ``N``.
        num_segments: segments per unit ``K``.
        context_dim: context size ``C``.
        gating: ``"absmax"`` (Iyer et al.), ``"max"`` or ``"mean"``.
        bias: learnable feed-forward bias.
        weight_density: fraction of non-zero feed-forward weights per unit, in (0, 1]
            (:class:`~dendrix.dendrites.sparse.SparseWeights`; Iyer et al. use 0.5).
        percent_on: if given, k-winners keep this fraction of the ``N`` units after the gate.
        k_inference_factor, boost_strength, boost_strength_factor, duty_cycle_period: the
            k-winners settings; the defaults (no boosting, as many winners in eval) follow
            Iyer et al.
        input_density, context_density: expected fraction of non-zero input / context
            entries, used only to scale the initial weights: feed-forward weights are uniform
            on ``+-1/sqrt(input_density * weight_density * in)``, segments on
            ``+-1/sqrt(context_density * C)`` (Iyer et al.'s sparse Kaiming initialisation).
        generator: draws the initial weights and the sparsity mask (``None``: torch's default).

    Shapes:
        ``x`` ``[..., in]``; ``context`` ``[..., C]`` (one per sample) or ``[C]`` (shared,
        cheaper); output ``[..., N]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = ActiveDendrites(8, 20, num_segments=2, context_dim=3, percent_on=0.1,
        ...                         generator=g)
        >>> out = layer(torch.randn(4, 8, generator=g), torch.randn(4, 3, generator=g))
        >>> (out != 0).sum(dim=1).tolist()
        [2, 2, 2, 2]
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        num_segments: int,
        context_dim: int,
        *,
        gating: str = "absmax",
        bias: bool = True,
        weight_density: float = 1.0,
        percent_on: float | None = None,
        k_inference_factor: float = 1.0,
        boost_strength: float = 0.0,
        boost_strength_factor: float = 1.0,
        duty_cycle_period: int = 1000,
        input_density: float = 1.0,
        context_density: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        self.num_segments = check_int(
            "num_segments", num_segments, minimum=1, hint="it is K, the segments per unit."
        )
        self.context_dim = check_int("context_dim", context_dim, minimum=1)
        self.gating = str(check_choice("gating", gating, GATINGS))
        weight_density = check_float(
            "weight_density", weight_density, minimum=0.0, maximum=1.0, open_min=True
        )
        input_density = check_float(
            "input_density", input_density, minimum=0.0, maximum=1.0, open_min=True
        )
        context_density = check_float(
            "context_density", context_density, minimum=0.0, maximum=1.0, open_min=True
        )
        linear = nn.utils.skip_init(nn.Linear, self.in_features, self.out_features, bias=bias)
        with torch.no_grad():
            w = 1.0 / math.sqrt(input_density * weight_density * self.in_features)
            linear.weight.uniform_(-w, w, generator=generator)
            if linear.bias is not None:
                b = 1.0 / math.sqrt(self.in_features)
                linear.bias.uniform_(-b, b, generator=generator)
        self.feedforward: nn.Module = (
            SparseWeights(linear, weight_density, generator) if weight_density < 1.0 else linear
        )
        s = 1.0 / math.sqrt(context_density * self.context_dim)
        shape = (self.out_features, self.num_segments, self.context_dim)
        self.segments = nn.Parameter(torch.empty(shape).uniform_(-s, s, generator=generator))
        self.kwinners: KWinners | None = None
        if percent_on is not None:
            self.kwinners = KWinners(
                self.out_features,
                percent_on=percent_on,
                k_inference_factor=k_inference_factor,
                boost_strength=boost_strength,
                boost_strength_factor=boost_strength_factor,
                duty_cycle_period=duty_cycle_period,
            )

    def feedforward_weight(self) -> Tensor:
        """The ``[N, in]`` weight the layer computes with (masked when sparse)."""
        ff = self.feedforward
        return ff.masked_weight() if isinstance(ff, SparseWeights) else ff.weight

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        check_tensor(
            "x",
            x,
            kind="floating",
            min_ndim=1,
            last_dim=self.in_features,
            finite=not torch.compiler.is_compiling(),
            hint=f"ActiveDendrites expects x [..., {self.in_features}].",
        )
        check_tensor(
            "context",
            context,
            kind="floating",
            min_ndim=1,
            last_dim=self.context_dim,
            finite=not torch.compiler.is_compiling(),
            hint=f"Give one context [{self.context_dim}] or one per sample [..., "
            f"{self.context_dim}].",
        )
        if context.ndim > 1 and context.shape[:-1] != x.shape[:-1]:
            raise ValueError(
                f"context {tuple(context.shape)} must match x {tuple(x.shape)} in its leading "
                f"dimensions, or be one shared [{self.context_dim}] vector."
            )
        d = _dendrite_activations(context, self.segments)  # [..., N, K]
        out = _gate(self.feedforward(x), d, self.gating)  # [..., N]
        return self.kwinners(out) if self.kwinners is not None else out

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"num_segments={self.num_segments}, context_dim={self.context_dim}, "
            f"gating={self.gating!r}"
        )


class DendriticMLP(nn.Module):
    """Iyer et al.'s network: hidden layers of :class:`ActiveDendrites` + k-winners, then a
    (sparse) linear read-out shared by all tasks.

    ::

        x -> ActiveDendrites(in -> h1, context) -> k-WTA -> ActiveDendrites(h1 -> h2, context)
          -> k-WTA -> linear (h2 -> classes) -> logits

    Initialisation as in the authors' code: every weight matrix, the read-out's included, is
    uniform on ``+-1/sqrt(input_density * weight_density * fan_in)``, where the input density
    is 1 for the first layer and ``percent_on`` after a k-winners layer (see
    :class:`ActiveDendrites`); biases on PyTorch's ``+-1/sqrt(fan_in)``.

    Args:
        input_size, output_size: sizes of the input and the logits.
        hidden_sizes: units of each hidden layer (Iyer et al.: 2048, 2048).
        num_segments: segments per unit (Iyer et al.: the number of tasks).
        context_dim: context size (784 for MNIST prototypes).
        percent_on: k-winners fraction of each hidden layer (0.05).
        weight_density: feed-forward and read-out weight density (0.5).
        context_density: fraction of non-zero context entries assumed by the segment
            initialisation (0.1).
        gating: ``"absmax"``, ``"max"`` or ``"mean"``.
        generator: draws every initial weight and mask (``None``: torch's default).

    Shapes: ``x`` ``[B, input_size]``, ``context`` ``[B, C]`` or ``[C]`` -> ``[B, output_size]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> net = DendriticMLP(10, 3, hidden_sizes=(40, 40), num_segments=2, context_dim=10,
        ...                    percent_on=0.1, generator=g)
        >>> net(torch.randn(5, 10, generator=g), torch.randn(10, generator=g)).shape
        torch.Size([5, 3])
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        *,
        hidden_sizes: Sequence[int] = (2048, 2048),
        num_segments: int,
        context_dim: int,
        percent_on: float = 0.05,
        weight_density: float = 0.5,
        context_density: float = 0.1,
        gating: str = "absmax",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        hidden_sizes = [
            check_int(f"hidden_sizes[{i}]", h, minimum=1) for i, h in enumerate(hidden_sizes)
        ]
        if not hidden_sizes:
            raise ValueError("hidden_sizes must list at least one hidden layer, e.g. (2048, 2048).")
        self.layers = nn.ModuleList()
        size, density_in = check_int("input_size", input_size, minimum=1), 1.0
        for h in hidden_sizes:
            self.layers.append(
                ActiveDendrites(
                    size,
                    h,
                    num_segments,
                    context_dim,
                    gating=gating,
                    weight_density=weight_density,
                    percent_on=percent_on,
                    input_density=density_in,
                    context_density=context_density,
                    generator=generator,
                )
            )
            size, density_in = h, percent_on
        output_size = check_int("output_size", output_size, minimum=1)
        # the read-out's input is the last k-winners layer: density percent_on (Iyer et al.)
        if weight_density < 1.0:
            self.output: nn.Module = SparseLinear(
                size, output_size, weight_density, generator=generator, input_density=density_in
            )
        else:
            self.output = nn.utils.skip_init(nn.Linear, size, output_size)
            with torch.no_grad():
                bound = 1.0 / math.sqrt(density_in * size)
                self.output.weight.uniform_(-bound, bound, generator=generator)
                bound = 1.0 / math.sqrt(size)
                self.output.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x, context)
        return self.output(x)


class PrototypeContext(nn.Module):
    """Task prototypes ``p_t`` (running means of each task's inputs) and nearest-prototype
    inference of the task (see the module docstring).

    Args:
        num_tasks: number of prototype slots ``T``.
        dim: input / context dimension ``D``.

    Buffers: ``prototypes`` ``[T, D]`` and ``counts`` ``[T]`` (samples averaged per task).

    Example:
        >>> ctx = PrototypeContext(2, 2)
        >>> ctx.add(0, torch.tensor([[1.0, 0.0], [3.0, 0.0]]))
        >>> ctx.add(1, torch.tensor([[0.0, 5.0]]))
        >>> ctx.prototypes.tolist(), ctx.infer_task(torch.tensor([[1.5, 1.0]])).tolist()
        ([[2.0, 0.0], [0.0, 5.0]], [0])
    """

    prototypes: Tensor
    counts: Tensor

    def __init__(self, num_tasks: int, dim: int) -> None:
        super().__init__()
        self.num_tasks = check_int("num_tasks", num_tasks, minimum=1)
        self.dim = check_int("dim", dim, minimum=1)
        self.register_buffer("prototypes", torch.zeros(self.num_tasks, self.dim))
        self.register_buffer("counts", torch.zeros(self.num_tasks, dtype=torch.long))

    def _check_task(self, task: int) -> int:
        return check_int(
            "task", task, minimum=0, maximum=self.num_tasks - 1, hint="tasks are numbered from 0."
        )

    @torch.no_grad()
    def add(self, task: int, x: Tensor) -> None:
        """Fold the inputs ``x`` ``[B, D]`` of task ``task`` into its prototype (running mean)."""
        task = self._check_task(task)
        check_tensor("x", x, kind="floating", ndim=2, last_dim=self.dim, finite=True)
        n_old, n_new = int(self.counts[task]), x.shape[0]
        if n_new == 0:
            return
        total = self.prototypes[task] * n_old + x.sum(0).to(self.prototypes.dtype)
        self.prototypes[task] = total / (n_old + n_new)
        self.counts[task] += n_new

    def known_tasks(self) -> Tensor:
        """``[T']`` indices of the tasks that have a prototype (at least one sample)."""
        return torch.nonzero(self.counts > 0).flatten()

    @torch.no_grad()
    def infer_task(self, x: Tensor) -> Tensor:
        """``[B]`` index of the nearest known prototype for each input ``x`` ``[B, D]``."""
        check_tensor("x", x, kind="floating", ndim=2, last_dim=self.dim)
        known = self.known_tasks()
        if known.numel() == 0:
            raise RuntimeError("no prototype yet: call add(task, x) with a task's inputs first.")
        return known[nearest_prototype(x, self.prototypes[known].to(x.dtype))]

    def forward(self, x: Tensor, task: int | Tensor | None = None) -> Tensor:
        """Contexts ``[B, D]``: the prototype of ``task`` (an int or ``[B]`` indices), or of the
        task inferred from ``x`` when ``task`` is ``None``."""
        if task is None:
            task = self.infer_task(x)
        elif not isinstance(task, Tensor):
            task = torch.full((x.shape[0],), self._check_task(task), dtype=torch.long)
        return self.prototypes[task].to(x.dtype)


# --------------------------------------------------------------------------------------------
# Synaptic intelligence
# --------------------------------------------------------------------------------------------
def si_penalty(
    params: Sequence[Tensor], anchors: Sequence[Tensor], importance: Sequence[Tensor], c: float
) -> Tensor:
    """Surrogate loss ``c * sum_i Omega_i (theta_i - theta*_i)^2`` (a 0-d tensor).

    Example:
        >>> si_penalty([torch.tensor([2.0])], [torch.tensor([1.0])], [torch.tensor([3.0])], 0.5)
        tensor(1.5000)
    """
    total = params[0].new_zeros(()) if params else torch.zeros(())
    for p, a, w in zip(params, anchors, importance, strict=True):
        total = total + (w * (p - a).square()).sum()
    return c * total


def si_path_step(omega: Tensor, grad: Tensor, delta: Tensor) -> Tensor:
    """One step of the path integral: ``omega - grad * delta`` (``delta`` the parameter change).

    Example:
        >>> si_path_step(torch.tensor([0.0]), torch.tensor([-2.0]), torch.tensor([0.2]))
        tensor([0.4000])
    """
    return omega - grad * delta


def si_consolidate(
    importance: Tensor, omega: Tensor, delta: Tensor, damping: float, rectify: bool = False
) -> Tensor:
    """``Omega + omega / (Delta^2 + xi)`` at the end of a task (``Delta`` its total change);
    with ``rectify``, ``Omega + max(omega, 0) / (Delta^2 + xi)``.

    Example:
        >>> si_consolidate(torch.tensor([0.0]), torch.tensor([0.5]), torch.tensor([0.5]), 0.25)
        tensor([1.])
        >>> one, zero = torch.tensor([1.0]), torch.tensor([0.0])
        >>> si_consolidate(one, torch.tensor([-0.5]), zero, 0.1, rectify=True)
        tensor([1.])
    """
    return importance + (omega.clamp_min(0.0) if rectify else omega) / (delta.square() + damping)


class SynapticIntelligence:
    """Synaptic-intelligence regulariser (Zenke et al. 2017) for any set of parameters.

    Usage per training step and per task (see the module docstring for the equations)::

        si = SynapticIntelligence(model, c=0.1, damping=0.1)
        for task in tasks:
            for x, y in batches:
                loss = loss_fn(model(x), y) + si.penalty()
                optimiser.zero_grad(); loss.backward()
                si.before_step()          # remembers theta(s) and the task-loss gradient
                optimiser.step()
                si.after_step()           # omega -= g * (theta(s+1) - theta(s))
            si.consolidate()              # Omega += omega / (Delta^2 + xi); theta* <- theta

    For large models, leave the penalty out of the loss and let :meth:`before_step` add its
    gradient ``2 c Omega (theta - theta*)`` to ``.grad`` instead (``penalty="add"``): the
    update is the same, without autograd's graph over every parameter, and several times
    cheaper when the parameters outnumber the activations (Iyer et al.'s dendritic MLP)::

                loss = loss_fn(model(x), y)
                optimiser.zero_grad(); loss.backward()
                si.before_step(penalty="add")

    Args:
        params: an ``nn.Module`` (all its parameters that require gradients) or an iterable of
            ``(name, parameter)`` pairs, e.g. a filtered ``model.named_parameters()``.
        c: strength ``c >= 0`` of the surrogate loss.
        damping: ``xi > 0``, keeps the importance finite for parameters that barely moved.
        path_gradient: which loss's gradient ``omega`` integrates: ``"task"`` (Zenke et al.)
            or ``"total"``, task + surrogate (Iyer et al.'s code).
        rectify: fold only ``max(omega, 0)`` into the importance (Iyer et al.'s and Masse et
            al.'s code); ``False``, all of ``omega`` (Zenke et al.'s equation).

    State: :meth:`state_dict` / :meth:`load_state_dict` hold ``omega``, ``importance``,
    ``anchor`` (theta*) and ``start`` (theta at the start of the task) per parameter name.
    """

    _KEYS = ("omega", "importance", "anchor", "start")

    def __init__(
        self,
        params: nn.Module | Iterable[tuple[str, nn.Parameter]],
        c: float = 0.1,
        damping: float = 0.1,
        path_gradient: str = "task",
        rectify: bool = False,
    ) -> None:
        named = params.named_parameters() if isinstance(params, nn.Module) else params
        self.params: dict[str, nn.Parameter] = {}
        for name, p in named:
            if not isinstance(p, Tensor):
                raise TypeError(f"params must yield (name, tensor) pairs, got {name!r}: {p!r}.")
            if p.requires_grad:
                self.params[name] = p
        if not self.params:
            raise ValueError("params holds no parameter that requires a gradient.")
        self.c = check_float("c", c, minimum=0.0, hint="c is the strength of the SI penalty.")
        self.damping = check_float(
            "damping", damping, minimum=0.0, open_min=True, hint="e.g. 0.1 (Zenke et al.: xi)."
        )
        self.path_gradient = check_choice("path_gradient", path_gradient, ("task", "total"))
        self.rectify = bool(rectify)
        self.omega = {n: torch.zeros_like(p, requires_grad=False) for n, p in self.params.items()}
        self.importance = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.anchor = {n: p.detach().clone() for n, p in self.params.items()}
        self.start = {n: p.detach().clone() for n, p in self.params.items()}
        # per-step work buffers, reused so that a step allocates no parameter-sized tensors
        self._prev: dict[str, Tensor] = {}
        self._grad: dict[str, Tensor] = {}
        self._diff: dict[str, Tensor] = {}
        self._stepping = False

    def penalty(self) -> Tensor:
        """``c * sum_i Omega_i (theta_i - theta*_i)^2``, differentiable in the parameters."""
        names = list(self.params)
        return si_penalty(
            [self.params[n] for n in names],
            [self.anchor[n] for n in names],
            [self.importance[n] for n in names],
            self.c,
        )

    @torch.no_grad()
    def before_step(self, *, penalty: str = "in_loss") -> None:
        """Remember ``theta(s)`` and the gradient ``omega`` integrates (see ``path_gradient``);
        call after ``backward()`` and before ``optimiser.step()``.

        Args:
            penalty: how the penalty reaches the optimiser.

                - ``"in_loss"``: :meth:`penalty` was part of the differentiated loss. Unless
                  ``path_gradient="total"``, its gradient ``2 c Omega (theta - theta*)`` is
                  removed from the remembered gradient, so that ``omega`` integrates the task
                  loss alone.
                - ``"add"``: the loss was the task loss alone. The penalty's gradient is added
                  to ``.grad`` here, which gives the same update as ``"in_loss"``.
                - ``"none"``: no penalty at all. Only ``omega`` is tracked.
        """
        check_choice("penalty", penalty, ("in_loss", "add", "none"))
        for n, p in self.params.items():
            theta = p.detach()
            prev = self._prev.get(n)
            if prev is None or prev.shape != theta.shape or prev.device != theta.device:
                for buffers in (self._prev, self._grad, self._diff):
                    buffers[n] = torch.empty_like(theta)
            prev, g = self._prev[n], self._grad[n]
            prev.copy_(theta)
            if p.grad is None:
                g.zero_()
            else:
                g.copy_(p.grad)
            if penalty == "none" or self.c == 0:
                continue
            diff = torch.sub(theta, self.anchor[n], out=self._diff[n])  # theta - theta*
            if penalty == "add":
                if p.grad is None:  # the penalty reaches every parameter, as from the loss
                    p.grad = torch.zeros_like(theta)
                p.grad.addcmul_(self.importance[n], diff, value=2.0 * self.c)
                if self.path_gradient == "total":
                    g.copy_(p.grad)
            elif self.path_gradient == "task":  # "in_loss": take the penalty's part out
                g.addcmul_(self.importance[n], diff, value=-2.0 * self.c)
        self._stepping = True

    @torch.no_grad()
    def after_step(self) -> None:
        """Add ``-g * (theta(s+1) - theta(s))`` to ``omega``; call after ``optimiser.step()``."""
        if not self._stepping:
            raise RuntimeError("call before_step() before the optimiser step, then after_step().")
        for n, p in self.params.items():
            # omega - g (theta(s+1) - theta(s)), in place: si_path_step without temporaries
            minus_delta = self._prev[n].sub_(p.detach())
            self.omega[n].addcmul_(self._grad[n], minus_delta)
        self._stepping = False

    @torch.no_grad()
    def consolidate(self) -> None:
        """End of a task: fold ``omega`` into the importance, move the anchor, reset ``omega``."""
        for n, p in self.params.items():
            theta = p.detach()
            self.importance[n] = si_consolidate(
                self.importance[n], self.omega[n], theta - self.start[n], self.damping, self.rectify
            )
            self.anchor[n] = theta.clone()
            self.start[n] = theta.clone()
            self.omega[n].zero_()

    def state_dict(self) -> dict[str, dict[str, Tensor]]:
        """The regulariser's tensors by kind and parameter name (for checkpoints)."""
        return {k: {n: t.clone() for n, t in getattr(self, k).items()} for k in self._KEYS}

    def load_state_dict(self, state: dict[str, dict[str, Tensor]]) -> None:
        """Restore :meth:`state_dict` output; parameter names and shapes must match."""
        for key in self._KEYS:
            saved = state[key]
            if set(saved) != set(self.params):
                raise ValueError(
                    f"state[{key!r}] covers parameters {sorted(saved)}, expected "
                    f"{sorted(self.params)}; was it saved for another model?"
                )
            for n, t in saved.items():
                if t.shape != self.params[n].shape:
                    raise ValueError(f"state[{key!r}][{n!r}] has shape {tuple(t.shape)}.")
            setattr(self, key, {n: t.to(self.params[n]).clone() for n, t in saved.items()})


# --------------------------------------------------------------------------------------------
# Layer contract suite: a single-input view with a bound context. The k-winners stage is left
# out here: KWinners' finite-input check breaks the torch.compile graph mid-layer, and torch
# 2.13 then warns about reading .grad of the non-leaf tensor handed across the break (an error
# under the test suite's warnings-as-errors); KWinners has its own contract entry.
# --------------------------------------------------------------------------------------------
class _BoundContextDendrites(nn.Module):
    """``ActiveDendrites`` with a fixed context buffer, so it maps one input to one output."""

    context: Tensor

    def __init__(self, **kwargs: object) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.layer = ActiveDendrites(10, 12, num_segments=3, context_dim=5, generator=g, **kwargs)
        self.register_buffer("context", torch.randn(4, 5, generator=g))

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x, self.context)


for _gating in GATINGS:
    LAYERS.add(
        f"dendrites.ActiveDendrites[{_gating}]",
        LayerSpec(
            build=lambda gating=_gating: _BoundContextDendrites(
                gating=gating, weight_density=0.5, percent_on=0.5
            ),
            example_input=lambda g: torch.randn(4, 10, generator=g),
            keeps_shape=False,
        ),
    )

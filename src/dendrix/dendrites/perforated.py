r"""Perforated backpropagation: dendrite nodes grown on a trained network, each trained by
cascade-correlation against its neuron's residual error.

**Perforated layer.** A wrapped ``nn.Linear`` or ``nn.Conv2d`` with ``O`` output neurons
(output channels for a convolution) and ``n`` installed dendrites computes, per neuron ``c``::

    a_i(x)_c = f(x; W_i, b_i)_c                      drive of dendrite i: a copy of the layer's
                                                      operation f (same kernel, stride, padding)
                                                      with its own weights
    D_i(x)_c = sigmoid(a_i(x)_c + sum_{j<i} u_{i,c,j} D_j(x)_c)      cascaded dendrite output
    out_c    = f(x; W, b)_c + sum_i v_{i,c} D_i(x)_c                  perforated pre-activation

``f(x; W, b)`` is the original layer, ``v_{i,c}`` the weight from dendrite ``i`` to neuron
``c`` and ``u_{i,c,j}`` the cascade weight from the earlier dendrite ``j`` of the same neuron.
For a convolution every quantity is per output channel and position; ``v`` and ``u`` are per
channel, shared over positions. All quantities are dimensionless (they live in the layer's
pre-activation units). ``W_i, b_i, u_i`` are frozen once installed (buffers); ``v`` is a
parameter, set to 0 at installation, so adding a dendrite leaves the output unchanged.

**Correlation phase** (cascade-correlation, Fahlman & Lebiere 1990, applied per neuron). With
the network's weights frozen, ``K`` candidate dendrites per neuron -- freshly initialised copies
of the layer, ``V_{k,c} = sigmoid(f(x; W'_k, b'_k)_c + sum_{j<n} u'_{k,c,j} D_j(x)_c)``, each
also reading every installed dendrite's output -- are trained by gradient ascent on::

    S_{k,c} = | (1/P) sum_p (V_{p,k,c} - mean_p V_{k,c}) (E_{p,c} - mean_p E_c) |

where ``p`` runs over the ``P`` samples (and positions, for a convolution) of a mini-batch and
``E_{p,c} = dL/d out_{p,c}`` is the neuron's residual error: the gradient of the batch loss
``L`` with respect to the neuron's pre-activation, collected with forward hooks. The objective
is the sum of ``S_{k,c}`` over candidates, neurons and layers (the candidates are independent,
so each maximises its own covariance). After training, ``S`` is measured once more over the
whole training set and each neuron installs its best candidate ``k*_c = argmax_k S_{k,c}``.

The network runs in eval mode during this phase (dropout off, normalisation statistics
fixed), so ``E`` is the error of the network as it will be evaluated.

**Joint phase.** Ordinary backpropagation on every parameter: the neurons' weights ``W, b``
(and the rest of the network) together with the dendrite-to-neuron weights ``v``. Like the
base phase, it validates after every pass and keeps its best pass.

**Cycle** (:class:`PerforationTrainer`): train the base network, then repeat correlation phase
-> installation -> joint phase -> validation while the validation score improves on the best so
far; when a new set of dendrites does not improve it, restore the best model (a state-dict
snapshot, which also removes the dendrites added since) and stop.

References:
    R. Brenner and L. Itti, "Perforated backpropagation: a neuroscience inspired extension to
    artificial neural networks", arXiv:2501.18018 (2025). S. E. Fahlman and C. Lebiere, "The
    cascade-correlation learning architecture", NIPS 2 (1990).

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> net = perforate(net, ["0"], num_candidates=2)
    >>> layer = net[0]
    >>> x = torch.randn(5, 3, generator=g)
    >>> before = net(x)
    >>> cands = layer.new_candidates(g)
    >>> layer.candidate_outputs(x, cands).shape           # [B, K, O]
    torch.Size([5, 2, 4])
    >>> _ = layer.install(cands, torch.rand(2, 4, generator=g))
    >>> layer.num_dendrites, torch.equal(net(x), before)  # v = 0: output unchanged
    (1, True)
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.registry import LAYERS, LayerSpec

__all__ = [
    "DendriteCandidates",
    "PerforatedLayer",
    "PerforationTrainer",
    "correlation_score",
    "dendrite_node_output",
    "parameter_count",
    "perforate",
    "perforated_layers",
    "perforated_output",
]

#: Layer types that :func:`perforate` can wrap.
_WRAPPABLE = (nn.Linear, nn.Conv2d)


# --------------------------------------------------------------------------------------------
# Functional core
# --------------------------------------------------------------------------------------------
def _per_channel(values: Tensor, spatial_dims: int) -> Tensor:
    """``[..., O]`` per-neuron values, shaped to broadcast against ``[..., O, *spatial]``."""
    return values.reshape(*values.shape, *([1] * spatial_dims))


def dendrite_node_output(
    drive: Tensor, cascade: Tensor, previous: Sequence[Tensor], spatial_dims: int = 0
) -> Tensor:
    """Cascaded dendrite output ``sigmoid(a_c + sum_j u_{c,j} D_j,c)``.

    Args:
        drive: ``a``, ``[..., O, *spatial]`` (``spatial_dims`` trailing spatial dimensions;
            candidates add a dimension ``K`` before ``O``).
        cascade: ``u``, ``[..., O, n]`` weights from the ``n`` earlier dendrites
            (``[K, O, n]`` for candidates).
        previous: the ``n`` earlier dendrite outputs ``D_j``, each broadcastable to ``drive``.
        spatial_dims: 0 for a linear layer, 2 for a convolution.

    Returns:
        ``D``, shaped like ``drive``, in (0, 1).

    Example:
        >>> a, d0 = torch.zeros(1, 2), torch.ones(1, 2)
        >>> dendrite_node_output(a, torch.tensor([[1.0], [-1.0]]), [d0])  # sigmoid(+-1)
        tensor([[0.7311, 0.2689]])
    """
    if cascade.shape[-1] != len(previous):
        raise ValueError(
            f"cascade must have one weight per earlier dendrite in its last dimension "
            f"({len(previous)}), got shape {tuple(cascade.shape)}."
        )
    total = drive
    for j, d in enumerate(previous):
        total = total + _per_channel(cascade[..., j], spatial_dims) * d
    return torch.sigmoid(total)


def perforated_output(
    main: Tensor, dendrites: Sequence[Tensor], scale: Tensor, spatial_dims: int = 0
) -> Tensor:
    """``out_c = main_c + sum_i v_{i,c} D_i,c``.

    Args:
        main: ``f(x; W, b)``, ``[..., O, *spatial]``.
        dendrites: the ``n`` dendrite outputs ``D_i``, each shaped like ``main``.
        scale: ``v``, ``[n, O]``.
        spatial_dims: 0 for a linear layer, 2 for a convolution.

    Returns:
        ``[..., O, *spatial]``.
    """
    out = main
    for i, d in enumerate(dendrites):
        out = out + _per_channel(scale[i], spatial_dims) * d
    return out


def correlation_score(v: Tensor, e: Tensor) -> Tensor:
    """Per-candidate, per-neuron covariance magnitude (cascade-correlation's ``S``).

    ``S_{k,c} = | (1/P) sum_p (V_{p,k,c} - mean_p V_{k,c}) (E_{p,c} - mean_p E_c) |``
    (Fahlman & Lebiere 1990, with one candidate pool per neuron ``c``).

    Args:
        v: ``[P, K, O]`` candidate outputs for ``P`` samples (or sample positions).
        e: ``[P, O]`` residual errors of the ``O`` neurons.

    Returns:
        ``[K, O]``, non-negative; differentiable in ``v`` (and ``e``) wherever the covariance
        is not exactly 0.

    Example:
        >>> v = torch.tensor([[[0.0]], [[1.0]]])              # P = 2, K = 1, O = 1
        >>> correlation_score(v, torch.tensor([[-1.0], [1.0]]))
        tensor([[0.5000]])
    """
    check_tensor("v", v, kind="floating", ndim=3, hint="Expected [P, K, O] candidate outputs.")
    check_tensor("e", e, kind="floating", ndim=2, hint="Expected [P, O] residual errors.")
    if e.shape[0] != v.shape[0] or e.shape[1] != v.shape[2]:
        raise ValueError(
            f"e must be [P, O] = [{v.shape[0]}, {v.shape[2]}] to match v of shape "
            f"{tuple(v.shape)}, got {tuple(e.shape)}."
        )
    vc = v - v.mean(dim=0, keepdim=True)  # [P, K, O]
    ec = e - e.mean(dim=0, keepdim=True)  # [P, O]
    return torch.einsum("pko,po->ko", vc, ec).abs() / v.shape[0]  # [K, O]


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------
class DendriteCandidates(nn.Module):
    """``K`` candidate dendrites for every neuron of one :class:`PerforatedLayer`.

    Built by :meth:`PerforatedLayer.new_candidates`; trained on :func:`correlation_score` and
    consumed by :meth:`PerforatedLayer.install`.

    Attributes:
        weight: ``[K, O, *fan_in]`` (``fan_in`` = the layer weight's trailing shape).
        bias: ``[K, O]``.
        cascade: ``[K, O, n]``, weights from the layer's ``n`` installed dendrites (0 at
            first).
    """

    def __init__(self, weight: Tensor, bias: Tensor, cascade: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.cascade = nn.Parameter(cascade)

    @property
    def num_candidates(self) -> int:
        return self.weight.shape[0]

    def forward(self, layer: PerforatedLayer, x: Tensor) -> Tensor:
        """``layer.candidate_outputs(x, self)``: ``V`` ``[..., K, O, *spatial]``."""
        return layer.candidate_outputs(x, self)


class PerforatedLayer(nn.Module):
    """An ``nn.Linear`` / ``nn.Conv2d`` with cascaded dendrite nodes (module docstring).

    The installed dendrites are stored stacked -- ``dendrite_weight`` ``[n, O, *fan_in]``,
    ``dendrite_bias`` ``[n, O]``, ``dendrite_cascade`` ``[n, O, n]`` (entry ``[i, c, j]`` used
    for ``j < i`` only; frozen buffers) and the parameter ``dendrite_scale`` ``[n, O]`` (``v``)
    -- so the state dict records ``n``: loading it into a freshly wrapped layer resizes the
    dendrites first, and a model rebuilt with :func:`perforate` loads a trained one. Installing
    a dendrite replaces ``dendrite_scale``: build the optimiser after :meth:`install`.

    Args:
        module: the layer to wrap (kept as ``self.main``; its parameters are unchanged).
        num_candidates: ``K``, candidates per neuron drawn by :meth:`new_candidates`.
        init_scale: candidates' initial weights and biases are uniform on
            ``+-init_scale / sqrt(fan_in)`` (1: PyTorch's default bias bound for the layer).

    Shapes: those of the wrapped module.

    Example:
        >>> layer = PerforatedLayer(nn.Conv2d(2, 3, 3, padding=1), num_candidates=4)
        >>> layer(torch.randn(1, 2, 5, 5)).shape
        torch.Size([1, 3, 5, 5])
    """

    dendrite_weight: Tensor
    dendrite_bias: Tensor
    dendrite_cascade: Tensor

    def __init__(self, module: nn.Module, *, num_candidates: int = 8, init_scale: float = 1.0):
        super().__init__()
        if not isinstance(module, _WRAPPABLE) or isinstance(module, PerforatedLayer):
            raise TypeError(
                f"module must be an nn.Linear or nn.Conv2d, got {type(module).__name__}; "
                "perforate the linear or convolutional layer itself."
            )
        self.main = module
        self.num_candidates = check_int(
            "num_candidates",
            num_candidates,
            minimum=1,
            hint="it is the number of candidate dendrites trained per neuron, e.g. 8.",
        )
        self.init_scale = check_float(
            "init_scale",
            init_scale,
            minimum=0.0,
            open_min=True,
            hint="it scales the candidates' initial weights, e.g. 1.0.",
        )
        #: 0 for ``nn.Linear`` (``[..., O]``), 2 for ``nn.Conv2d`` (``[..., O, H, W]``).
        self.spatial_dims = 0 if isinstance(module, nn.Linear) else 2
        self._resize(0)

    # -- structure ---------------------------------------------------------------------------
    @property
    def out_features(self) -> int:
        """``O``: output neurons (channels)."""
        return self.main.weight.shape[0]

    @property
    def num_dendrites(self) -> int:
        """``n``: installed dendrites per neuron."""
        return self.dendrite_weight.shape[0]

    def _resize(self, n: int) -> None:
        """Replace the dendrite tensors by zeros for ``n`` dendrites (before loading a state)."""
        w = self.main.weight
        o = self.out_features
        like = {"dtype": w.dtype, "device": w.device}
        self.register_buffer("dendrite_weight", torch.zeros(n, *w.shape, **like))
        self.register_buffer("dendrite_bias", torch.zeros(n, o, **like))
        self.register_buffer("dendrite_cascade", torch.zeros(n, o, n, **like))
        self.dendrite_scale = nn.Parameter(torch.zeros(n, o, **like))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        saved = state_dict.get(prefix + "dendrite_weight")
        if isinstance(saved, Tensor) and saved.ndim >= 1 and saved.shape[0] != self.num_dendrites:
            self._resize(saved.shape[0])  # the saved model has a different number of dendrites
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def dendrite_parameter_count(self) -> int:
        """Numbers the dendrites add: ``W_i, b_i, v_i`` and the used cascade weights."""
        n, o = self.num_dendrites, self.out_features
        return (
            self.dendrite_weight.numel()
            + self.dendrite_bias.numel()
            + self.dendrite_scale.numel()
            + o * n * (n - 1) // 2
        )

    # -- computation ---------------------------------------------------------------------------
    def _apply_weights(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """``f(x; weight, bias)``: the wrapped layer's operation with other weights."""
        if isinstance(self.main, nn.Linear):
            return F.linear(x, weight, bias)
        return self.main._conv_forward(x, weight, bias)

    def _apply_stacked(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """``f`` for ``K`` weight sets at once: ``[K, O, *fan_in]`` -> ``[..., K, O, *spatial]``."""
        k, o = weight.shape[:2]
        if isinstance(self.main, nn.Linear):
            flat = F.linear(x, weight.reshape(k * o, -1), bias.reshape(k * o))  # [..., K*O]
            return flat.unflatten(-1, (k, o))
        if self.main.groups == 1:
            flat = self.main._conv_forward(  # [..., K*O, H, W]
                x, weight.reshape(k * o, *weight.shape[2:]), bias.reshape(k * o)
            )
            return flat.unflatten(-3, (k, o))
        # grouped convolutions: stacking along the channels would mix the groups
        return torch.stack([self._apply_weights(x, weight[i], bias[i]) for i in range(k)], -4)

    def dendrite_outputs(self, x: Tensor) -> list[Tensor]:
        """The installed dendrites' outputs ``D_0 .. D_{n-1}``, each ``[..., O, *spatial]``."""
        outs: list[Tensor] = []
        for i in range(self.num_dendrites):
            drive = self._apply_weights(x, self.dendrite_weight[i], self.dendrite_bias[i])
            cascade = self.dendrite_cascade[i, :, :i]  # [O, i]
            outs.append(dendrite_node_output(drive, cascade, outs, self.spatial_dims))
        return outs

    def forward(self, x: Tensor) -> Tensor:
        main = self.main(x)
        if self.num_dendrites == 0:
            return main
        return perforated_output(
            main, self.dendrite_outputs(x), self.dendrite_scale, self.spatial_dims
        )

    # -- candidates ----------------------------------------------------------------------------
    def new_candidates(
        self, generator: torch.Generator | None = None, num_candidates: int | None = None
    ) -> DendriteCandidates:
        """``K`` fresh candidate dendrites per neuron, drawn from ``generator``.

        Weights and biases are uniform on ``+-init_scale / sqrt(fan_in)``; cascade weights
        start at 0. ``num_candidates`` overrides the layer's ``K``.
        """
        k = self.num_candidates if num_candidates is None else num_candidates
        k = check_int("num_candidates", k, minimum=1)
        w = self.main.weight
        fan_in = math.prod(w.shape[1:])
        bound = self.init_scale / math.sqrt(fan_in)
        o, n = self.out_features, self.num_dendrites

        def uniform(*shape: int) -> Tensor:
            u = torch.rand(*shape, generator=generator, dtype=w.dtype)
            return ((2 * u - 1) * bound).to(w.device)

        return DendriteCandidates(
            uniform(k, *w.shape),
            uniform(k, o),
            torch.zeros(k, o, n, dtype=w.dtype, device=w.device),
        )

    def candidate_outputs(self, x: Tensor, candidates: DendriteCandidates) -> Tensor:
        """Candidate outputs ``V`` ``[..., K, O, *spatial]`` for the layer input ``x``.

        Each candidate reads ``x`` and (through its cascade weights) every installed
        dendrite's output; gradients reach the candidates only.
        """
        self._check_candidates(candidates)
        with torch.no_grad():
            previous = self.dendrite_outputs(x)
        s = self.spatial_dims
        previous = [d.unsqueeze(-(s + 2)) for d in previous]  # [..., 1, O, *spatial]
        drive = self._apply_stacked(x, candidates.weight, candidates.bias)
        return dendrite_node_output(drive, candidates.cascade, previous, s)

    def flatten_neurons(self, t: Tensor) -> Tensor:
        """``[..., O, *spatial]`` -> ``[P, O]`` (samples and positions first)."""
        return t.movedim(-(self.spatial_dims + 1), -1).reshape(-1, self.out_features)

    def flatten_candidates(self, v: Tensor) -> Tensor:
        """``[..., K, O, *spatial]`` -> ``[P, K, O]``."""
        s = self.spatial_dims
        k = v.shape[-(s + 2)]
        return v.movedim((-(s + 2), -(s + 1)), (-2, -1)).reshape(-1, k, self.out_features)

    def _check_candidates(self, candidates: DendriteCandidates) -> None:
        if not isinstance(candidates, DendriteCandidates):
            raise TypeError(
                f"candidates must be DendriteCandidates, got {type(candidates).__name__}; draw "
                "them with layer.new_candidates()."
            )
        expected = (self.out_features, self.num_dendrites)
        if tuple(candidates.cascade.shape[1:]) != expected or tuple(
            candidates.weight.shape[1:]
        ) != tuple(self.main.weight.shape):
            raise ValueError(
                f"candidates were drawn for another layer or dendrite count (cascade "
                f"{tuple(candidates.cascade.shape)}, expected [K, {expected[0]}, {expected[1]}]); "
                "draw new ones with layer.new_candidates()."
            )

    @torch.no_grad()
    def install(self, candidates: DendriteCandidates, score: Tensor) -> Tensor:
        """Install, for every neuron ``c``, the candidate ``k*_c = argmax_k score[k, c]``.

        The new dendrite's ``W, b, u`` are frozen (buffers) and its ``v`` starts at 0, so the
        layer's output is unchanged. ``dendrite_scale`` is replaced by a longer parameter.

        Args:
            candidates: from :meth:`new_candidates` for the current number of dendrites.
            score: ``[K, O]`` selection scores (e.g. :func:`correlation_score` over the data).

        Returns:
            ``[O]`` the chosen candidate per neuron.
        """
        self._check_candidates(candidates)
        k, o = candidates.num_candidates, self.out_features
        check_tensor("score", score, kind="floating", ndim=2, hint=f"Expected [K, O] = [{k}, {o}].")
        if tuple(score.shape) != (k, o):
            raise ValueError(f"score must be [K, O] = [{k}, {o}], got {tuple(score.shape)}.")
        choice = score.argmax(dim=0).to(candidates.weight.device)  # [O]
        rows = torch.arange(o, device=choice.device)
        n = self.num_dendrites
        like = self.dendrite_weight
        weight = torch.cat([self.dendrite_weight, candidates.weight[choice, rows].to(like)[None]])
        bias = torch.cat([self.dendrite_bias, candidates.bias[choice, rows].to(like)[None]])
        cascade = like.new_zeros(n + 1, o, n + 1)
        cascade[:n, :, :n] = self.dendrite_cascade
        cascade[n, :, :n] = candidates.cascade[choice, rows].to(like)  # [O, n]
        scale = torch.cat([self.dendrite_scale.detach(), like.new_zeros(1, o)])
        self.register_buffer("dendrite_weight", weight)
        self.register_buffer("dendrite_bias", bias)
        self.register_buffer("dendrite_cascade", cascade)
        self.dendrite_scale = nn.Parameter(scale)
        return choice

    def extra_repr(self) -> str:
        return f"num_dendrites={self.num_dendrites}, num_candidates={self.num_candidates}"


# --------------------------------------------------------------------------------------------
# Wrapping a model
# --------------------------------------------------------------------------------------------
def perforated_layers(model: nn.Module) -> dict[str, PerforatedLayer]:
    """Every :class:`PerforatedLayer` inside ``model`` (``model`` itself included), by name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, PerforatedLayer)}


def parameter_count(model: nn.Module) -> int:
    """Every number the model computes with: its parameters plus the frozen dendrite weights
    (``W_i, b_i`` and the used cascade weights ``u``) of its perforated layers."""
    total = sum(p.numel() for p in model.parameters())
    for layer in perforated_layers(model).values():
        total += layer.dendrite_parameter_count() - layer.dendrite_scale.numel()
    return total


def _candidate_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Linear/Conv2d layers of ``model`` not already inside a perforated layer (root excluded)."""
    inside: set[str] = set()
    found = {}
    for name, m in model.named_modules():
        if not name or any(name.startswith(p + ".") for p in inside):
            continue
        if isinstance(m, PerforatedLayer):
            inside.add(name)
        elif isinstance(m, _WRAPPABLE):
            found[name] = m
    return found


def perforate(
    model: nn.Module,
    layers: str | Sequence[str] | Callable[[str, nn.Module], bool],
    *,
    num_candidates: int = 8,
    init_scale: float = 1.0,
) -> nn.Module:
    """Wrap the chosen ``nn.Linear`` / ``nn.Conv2d`` layers of ``model`` in
    :class:`PerforatedLayer` (in place), with no dendrites yet: outputs are unchanged.

    To load a saved perforated model, rebuild the plain model, call ``perforate`` with the same
    ``layers`` and load the state dict: each layer takes its number of dendrites from it.

    Args:
        model: the network; the chosen layers are replaced on their parent modules.
        layers: qualified module names (as in ``model.named_modules()``, e.g. ``"fc1"`` or
            ``"features.0"``), or a predicate ``(name, module) -> bool`` called on every
            ``nn.Linear`` / ``nn.Conv2d`` not already perforated.
        num_candidates: ``K``, candidate dendrites trained per neuron in each cycle.
        init_scale: initial candidate weight scale (see :class:`PerforatedLayer`).

    Returns:
        ``model`` itself.

    Example:
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> sorted(perforated_layers(perforate(net, lambda name, m: m.out_features > 2)))
        ['0']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}.")
    num_candidates = check_int(
        "num_candidates",
        num_candidates,
        minimum=1,
        hint="it is the number of candidate dendrites trained per neuron, e.g. 8.",
    )
    available = _candidate_layers(model)
    listed = ", ".join(repr(n) for n in available) or "none"
    if callable(layers):
        names = [name for name, m in available.items() if layers(name, m)]
        if not names:
            raise ValueError(
                f"layers selected no layer of model; the predicate is called on its "
                f"nn.Linear / nn.Conv2d layers: {listed}."
            )
    else:
        names = [layers] if isinstance(layers, str) else list(layers)
        if not names:
            raise ValueError(f"layers must name at least one layer; candidates: {listed}.")
        modules = dict(model.named_modules())
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"layers must hold module names (str), got {name!r}.")
            if name == "":
                raise ValueError(
                    "layers names the model itself (''); wrap a bare layer with "
                    "PerforatedLayer(layer) instead."
                )
            if names.count(name) > 1:
                raise ValueError(f"layers lists {name!r} more than once.")
            if name not in modules:
                raise ValueError(
                    f"layers names {name!r}, which is not a module of model; its "
                    f"nn.Linear / nn.Conv2d layers are: {listed}."
                )
            if name not in available:
                kind = type(modules[name]).__name__
                raise TypeError(
                    f"layers names {name!r}, a {kind}; only nn.Linear and nn.Conv2d layers "
                    f"not yet perforated can be perforated ({listed})."
                )
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        wrapped = PerforatedLayer(
            available[name], num_candidates=num_candidates, init_scale=init_scale
        )
        setattr(parent, child, wrapped)
    return model


# --------------------------------------------------------------------------------------------
# Training loop
# --------------------------------------------------------------------------------------------
Batches = Iterable[tuple[Any, Any]]


def _default_optimizer(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=1e-3)


class PerforationTrainer:
    """Drives perforated backpropagation on a model that holds :class:`PerforatedLayer` s.

    ``run(base_epochs)`` performs::

        base phase: train the neurons for base_epochs (0: validate an already trained model)
        best <- the phase's validation score, snapshot <- state_dict
        for cycle in 1 .. max_cycles:
            correlation phase: candidate_epochs of gradient ascent on S, network frozen
                               (eval mode), then one pass measuring S on all training data
            install the best candidate of every neuron in every perforated layer (v = 0)
            joint phase: up to joint_epochs of backprop on all parameters
            if its score improves on best by more than min_improvement: best, snapshot <- ...
            else: load snapshot (removing the new dendrites) and stop

    A training phase (base or joint) uses a fresh optimiser, validates after every pass, ends
    early after ``patience`` passes without a better score ("train until validation plateaus")
    and leaves the model at its best pass, whose score is the phase's. The model thus ends as
    the best one seen. Every pass over ``train_data`` (training, candidate
    and scoring epochs) is counted in :attr:`passes`; ``history`` records each phase.
    ``state_dict`` / ``load_state_dict`` save and resume a run between phases (the model's own
    state included).

    Args:
        model: holds at least one :class:`PerforatedLayer` (see :func:`perforate`).
        train_data: ``(input, target)`` batches: a re-iterable (list, ``DataLoader``) or a
            function ``pass_index -> batches`` (so a resumed run can replay the same order).
        loss_fn: ``(model(input), target) -> scalar`` loss, averaged over the batch.
        validate: ``model -> float`` validation score (called in eval mode).
        mode: ``"min"`` if a lower validation score is better (a loss), ``"max"`` if higher
            (an accuracy).
        optimizer: ``parameters -> optimiser`` for the base and joint phases (default Adam,
            lr 1e-3); a fresh one is built for every phase.
        candidate_epochs: passes of candidate training per cycle.
        candidate_lr: Adam learning rate of the candidates.
        joint_epochs: most passes of joint training per cycle.
        patience: passes without improvement that end a training phase early (``None``:
            never; the phase still keeps its best pass).
        max_cycles: most dendrite sets added.
        min_improvement: how much a cycle must improve the best validation score to be kept.
        generator: draws the candidates' initial weights (``None``: torch's default).
        after_phase: called with the trainer after every phase (e.g. to save a checkpoint).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.rand(64, 1, generator=g) * 2 - 1
        >>> data = [(x, x.abs())]
        >>> model = PerforatedLayer(nn.Linear(1, 1), num_candidates=4)
        >>> trainer = PerforationTrainer(model, data, F.mse_loss,
        ...     validate=lambda m: float(F.mse_loss(m(x), x.abs())), joint_epochs=50,
        ...     candidate_epochs=20, candidate_lr=0.1, max_cycles=2, generator=g,
        ...     optimizer=lambda p: torch.optim.Adam(p, lr=0.05))
        >>> history = trainer.run(base_epochs=100)
        >>> history[-1]["best"] < history[0]["validation"]  # better than the straight line
        True
    """

    def __init__(
        self,
        model: nn.Module,
        train_data: Batches | Callable[[int], Batches],
        loss_fn: Callable[[Any, Any], Tensor],
        validate: Callable[[nn.Module], float],
        *,
        mode: str = "min",
        optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] | None = None,
        candidate_epochs: int = 2,
        candidate_lr: float = 1e-2,
        joint_epochs: int = 5,
        patience: int | None = None,
        max_cycles: int = 3,
        min_improvement: float = 0.0,
        generator: torch.Generator | None = None,
        after_phase: Callable[[PerforationTrainer], None] | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}.")
        if not perforated_layers(model):
            raise ValueError(
                "model has no PerforatedLayer; wrap its layers first with perforate(model, ...)."
            )
        for name, fn in (("loss_fn", loss_fn), ("validate", validate)):
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}.")
        self.model = model
        self.train_data = train_data
        self.loss_fn = loss_fn
        self.validate = validate
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.optimizer = _default_optimizer if optimizer is None else optimizer
        self.candidate_epochs = check_int("candidate_epochs", candidate_epochs, minimum=1)
        self.candidate_lr = check_float("candidate_lr", candidate_lr, minimum=0, open_min=True)
        self.joint_epochs = check_int("joint_epochs", joint_epochs, minimum=1)
        self.patience = None if patience is None else check_int("patience", patience, minimum=1)
        self.max_cycles = check_int("max_cycles", max_cycles, minimum=0)
        self.min_improvement = check_float("min_improvement", min_improvement, minimum=0.0)
        self.generator = generator
        self.after_phase = after_phase
        #: ``"new"`` -> ``"grow"`` <-> ``"joint"`` -> ``"done"``: where :meth:`run` resumes.
        self.stage = "new"
        self.cycle = 0
        self.passes = 0
        self.best_score: float | None = None
        self.best_state: dict[str, Tensor] | None = None
        self.history: list[dict[str, Any]] = []

    # -- data ----------------------------------------------------------------------------------
    def _next_pass(self) -> Batches:
        data = self.train_data
        batches = data(self.passes) if callable(data) else data
        self.passes += 1
        return batches

    def _log(self, phase: str, **fields: Any) -> None:
        dendrites = {name: m.num_dendrites for name, m in perforated_layers(self.model).items()}
        self.history.append(
            {"phase": phase, "cycle": self.cycle, "passes": self.passes, "dendrites": dendrites}
            | fields
        )

    # -- phases --------------------------------------------------------------------------------
    def train_neurons(self, epochs: int) -> tuple[list[float], list[float], float]:
        """A training phase: backprop on every parameter for up to ``epochs`` passes.

        A fresh optimiser; validation after every pass; the phase ends early after
        :attr:`patience` passes without a better score, and the model is left at its best
        pass. With ``epochs = 0`` the model is only validated.

        Returns:
            the mean training loss and the validation score of each pass, and the phase's
            (best) score.
        """
        epochs = check_int("epochs", epochs, minimum=0)
        if epochs == 0:
            score = self.evaluate()
            return [], [score], score
        optimiser = self.optimizer(self.model.parameters())
        losses: list[float] = []
        scores: list[float] = []
        best, best_state, waited = None, None, 0
        for _ in range(epochs):
            self.model.train()
            total, count = 0.0, 0
            for x, y in self._next_pass():
                loss = self.loss_fn(self.model(x), y)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += float(loss.detach())
                count += 1
            losses.append(total / max(count, 1))
            scores.append(self.evaluate())
            if best is None or self._better(scores[-1], best, 0.0):
                best, best_state, waited = scores[-1], _snapshot(self.model), 0
            else:
                waited += 1
                if self.patience is not None and waited >= self.patience:
                    break
        optimiser.zero_grad(set_to_none=True)
        assert best is not None and best_state is not None
        self.model.load_state_dict(best_state)
        return losses, scores, best

    def evaluate(self) -> float:
        """``validate(model)`` in eval mode, without autograd."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                score = float(self.validate(self.model))
        finally:
            self.model.train(was_training)
        if not math.isfinite(score):
            raise ValueError(f"validate returned {score}; it must return a finite score.")
        return score

    def residual_errors(self, x: Any, y: Any) -> dict[str, list[tuple[Tensor, Tensor]]]:
        """Inputs and residual errors ``E = dL/d out`` of every perforated layer for one batch.

        Forward hooks record each layer's input and output during ``loss_fn(model(x), y)``;
        ``E`` is the gradient of that loss with respect to each output (no parameter
        gradient is accumulated). A layer called several times in one forward pass gives
        one ``(input, E)`` pair per call.
        """
        layers = perforated_layers(self.model)
        records: dict[str, list[tuple[Tensor, Tensor]]] = {name: [] for name in layers}

        def hook(name: str, module: nn.Module, args: tuple[Any, ...], output: Tensor) -> Tensor:
            if not output.requires_grad:  # e.g. a first layer whose weights are frozen
                output = output.detach().requires_grad_(True)
            records[name].append((args[0].detach(), output))
            return output

        handles = [
            m.register_forward_hook(lambda mod, a, out, name=name: hook(name, mod, a, out))
            for name, m in layers.items()
        ]
        try:
            loss = self.loss_fn(self.model(x), y)
        finally:
            for h in handles:
                h.remove()
        outputs = [out for pairs in records.values() for _, out in pairs]
        grads = torch.autograd.grad(loss, outputs, allow_unused=True)
        it = iter(grads)
        errors: dict[str, list[tuple[Tensor, Tensor]]] = {}
        for name, pairs in records.items():
            errors[name] = []
            for inp, out in pairs:
                g = next(it)
                errors[name].append((inp, torch.zeros_like(out) if g is None else g.detach()))
        return errors

    def _candidate_batch(
        self, candidates: dict[str, DendriteCandidates], x: Any, y: Any
    ) -> dict[str, tuple[Tensor, Tensor]]:
        """Flattened candidate outputs ``[P, K, O]`` and errors ``[P, O]`` per layer."""
        layers = perforated_layers(self.model)
        out = {}
        for name, pairs in self.residual_errors(x, y).items():
            layer = layers[name]
            if not pairs:
                continue
            v = torch.cat(
                [
                    layer.flatten_candidates(layer.candidate_outputs(i, candidates[name]))
                    for i, _ in pairs
                ]
            )
            e = torch.cat([layer.flatten_neurons(err) for _, err in pairs])
            out[name] = (v, e)
        return out

    def train_candidates(self) -> tuple[dict[str, DendriteCandidates], list[float]]:
        """Correlation phase: draw and train candidates for every perforated layer.

        The model runs in eval mode and only the candidates are optimised (Adam on
        ``-sum S``), so the network's weights stay exactly as they were.

        Returns:
            the trained candidates by layer name, and the mean objective ``sum_{layer,k,c}
            S_{k,c}`` of each candidate epoch.
        """
        layers = perforated_layers(self.model)
        candidates = {name: m.new_candidates(self.generator) for name, m in layers.items()}
        params = [p for c in candidates.values() for p in c.parameters()]
        optimiser = torch.optim.Adam(params, lr=self.candidate_lr)
        was_training = self.model.training
        self.model.eval()
        objective = []
        try:
            for _ in range(self.candidate_epochs):
                total, count = 0.0, 0
                for x, y in self._next_pass():
                    pairs = self._candidate_batch(candidates, x, y)
                    s = sum(correlation_score(v, e).sum() for v, e in pairs.values())
                    optimiser.zero_grad(set_to_none=True)
                    (-s).backward()
                    optimiser.step()
                    total += float(s.detach())
                    count += 1
                objective.append(total / max(count, 1))
        finally:
            self.model.train(was_training)
        return candidates, objective

    def score_candidates(self, candidates: dict[str, DendriteCandidates]) -> dict[str, Tensor]:
        """``S_{k,c}`` of every candidate over one whole pass of the training data.

        The covariance is accumulated exactly (sums of ``V``, ``E``, ``V E`` in float64), not
        averaged over mini-batches.

        Returns:
            ``[K, O]`` scores by layer name.
        """
        was_training = self.model.training
        self.model.eval()
        sums: dict[str, list[Tensor]] = {}
        try:
            for x, y in self._next_pass():
                with _candidates_frozen(candidates):
                    for name, (v, e) in self._candidate_batch(candidates, x, y).items():
                        new = _covariance_sums(v, e)
                        old = sums.get(name)
                        if old is not None:
                            new = [a + b for a, b in zip(old, new, strict=True)]
                        sums[name] = new
        finally:
            self.model.train(was_training)
        scores = {}
        for name, (sv, se, sve, p) in sums.items():
            cov = sve / p - (sv / p) * (se / p)  # E[V E] - E[V] E[E], [K, O]
            scores[name] = cov.abs()
        return scores

    def grow(self) -> list[float]:
        """One correlation phase and installation in every perforated layer.

        Returns:
            the mean objective of each candidate epoch (see :meth:`train_candidates`).
        """
        candidates, objective = self.train_candidates()
        scores = self.score_candidates(candidates)
        for name, layer in perforated_layers(self.model).items():
            score = scores.get(name)
            if score is None:  # the layer was not called: any candidate will do
                score = torch.zeros(candidates[name].num_candidates, layer.out_features)
            layer.install(candidates[name], score.to(layer.dendrite_weight.dtype))
        return objective

    def _better(self, score: float, than: float, margin: float) -> bool:
        if self.mode == "min":
            return score < than - margin
        return score > than + margin

    def _phase_done(self) -> None:
        if self.after_phase is not None:
            self.after_phase(self)

    def run(self, base_epochs: int = 0) -> list[dict[str, Any]]:
        """Train base -> (grow -> joint -> validate)* until validation stops improving.

        Resumes where a run restored with :meth:`load_state_dict` stopped; ``base_epochs`` is
        used only by a new run.

        Returns:
            :attr:`history`: one record per phase (``phase``, ``cycle``, ``passes``,
            ``dendrites`` per layer, and ``validation``, ``best``, ``kept``, ``loss``,
            ``objective``, ``seconds`` as they apply).
        """
        base_epochs = check_int("base_epochs", base_epochs, minimum=0)
        if self.stage == "new":
            t0 = time.perf_counter()
            losses, scores, score = self.train_neurons(base_epochs)
            self.best_score, self.best_state = score, _snapshot(self.model)
            self.stage = "grow"
            self._log(
                "base",
                loss=losses,
                validation_per_pass=scores,
                validation=score,
                best=score,
                kept=True,
                seconds=time.perf_counter() - t0,
            )
            self._phase_done()
        while self.stage != "done":
            t0 = time.perf_counter()
            if self.stage == "grow":
                if self.cycle >= self.max_cycles:
                    self.stage = "done"
                    self._log("stop", reason="max_cycles", best=self.best_score)
                    self._phase_done()
                    break
                objective = self.grow()
                self.cycle += 1
                self.stage = "joint"
                self._log("candidates", objective=objective, seconds=time.perf_counter() - t0)
            else:
                losses, scores, score = self.train_neurons(self.joint_epochs)
                assert self.best_score is not None
                kept = self._better(score, self.best_score, self.min_improvement)
                if kept:
                    self.best_score, self.best_state = score, _snapshot(self.model)
                    self.stage = "grow"
                else:  # the new dendrites did not help: back to the best model, and stop
                    assert self.best_state is not None
                    self.model.load_state_dict(self.best_state)
                    self.stage = "done"
                self._log(
                    "joint",
                    loss=losses,
                    validation_per_pass=scores,
                    validation=score,
                    best=self.best_score,
                    kept=kept,
                    seconds=time.perf_counter() - t0,
                )
            self._phase_done()
        return self.history

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything :meth:`run` needs to resume: model, best snapshot, stage, history."""
        return {
            "model": _snapshot(self.model),
            "best_state": self.best_state,
            "best_score": self.best_score,
            "stage": self.stage,
            "cycle": self.cycle,
            "passes": self.passes,
            "history": copy.deepcopy(self.history),
            "generator": None if self.generator is None else self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (the model's dendrites are resized as saved)."""
        self.model.load_state_dict(state["model"])
        self.best_state = state["best_state"]
        self.best_score = state["best_score"]
        self.stage = check_choice("stage", state["stage"], ("new", "grow", "joint", "done"))
        self.cycle = int(state["cycle"])
        self.passes = int(state["passes"])
        self.history = copy.deepcopy(state["history"])
        if self.generator is not None and state.get("generator") is not None:
            self.generator.set_state(state["generator"])


@torch.no_grad()
def _covariance_sums(v: Tensor, e: Tensor) -> list[Tensor]:
    """``[sum_p V, sum_p E, sum_p V E, P]`` in float64 for ``v`` ``[P, K, O]``, ``e`` ``[P, O]``."""
    v, e = v.double(), e.double()
    return [v.sum(0), e.sum(0), torch.einsum("pko,po->ko", v, e), v.new_tensor(v.shape[0])]


def _snapshot(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@contextlib.contextmanager
def _candidates_frozen(candidates: dict[str, DendriteCandidates]) -> Iterator[None]:
    """No autograd graph through the candidates while only measuring them."""
    params = [p for c in candidates.values() for p in c.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(params, flags, strict=True):
            p.requires_grad_(f)


# Layer contract suite (tests/contracts).
def _example(module: nn.Module, dendrites: int = 2) -> PerforatedLayer:
    """A perforated layer with ``dendrites`` installed random dendrites and non-zero ``v, u``."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=g) - 0.5)
    layer = PerforatedLayer(module, num_candidates=3)
    for _ in range(dendrites):
        cands = layer.new_candidates(g)
        with torch.no_grad():
            cands.cascade.copy_(torch.randn(cands.cascade.shape, generator=g))
        layer.install(cands, torch.rand(3, layer.out_features, generator=g))
    with torch.no_grad():
        layer.dendrite_scale.copy_(torch.randn(layer.dendrite_scale.shape, generator=g))
    return layer


LAYERS.add(
    "dendrites.PerforatedLinear",
    LayerSpec(
        build=lambda: _example(nn.utils.skip_init(nn.Linear, 6, 5)),
        example_input=lambda g: torch.randn(4, 6, generator=g),
        keeps_shape=False,
    ),
)
LAYERS.add(
    "dendrites.PerforatedConv2d",
    LayerSpec(
        build=lambda: _example(nn.utils.skip_init(nn.Conv2d, 2, 3, 3, padding=1)),
        example_input=lambda g: torch.randn(2, 2, 5, 5, generator=g),
        keeps_shape=False,
    ),
)

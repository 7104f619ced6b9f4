r"""Sparse weights, the k-winner CNNs of Ahmad & Scheinkman (2019) and their noise score.

**Sparse weights.** A layer with weight tensor ``W`` of shape ``[out, *fan_in]`` keeps a fixed
boolean mask ``M`` of the same shape, drawn once from a ``torch.Generator``: every output unit
``o`` gets exactly ``m = max(1, round(rho * F))`` non-zero incoming weights at random positions,
with ``F = prod(fan_in)`` its fan-in and ``rho`` in (0, 1] the weight density. The layer computes
with ``W * M``::

    y = f(x; W * M, b)          f = linear or convolution, b the (dense) bias

so ``dL/dW = M * dL/d(W M)``: a masked weight gets a zero gradient, and since it is also zeroed
when the mask is drawn, every optimiser whose step is zero for a zero weight with a zero
gradient (SGD with or without momentum, Adam, AdamW, L2 weight decay) leaves it at exactly zero.
:meth:`SparseWeights.rezero_weights_` zeroes them again for any other optimiser. The fraction of
non-zero weights is exactly ``m / F`` (= ``rho`` when ``rho * F`` is an integer).

**Noise score.** For noise levels ``l`` in ``0, 0.05, ..., 0.5``, each test image gets
``floor(l * P)`` of its ``P`` pixels (chosen uniformly without replacement) replaced by noise --
uniform on ``[0, 1]`` (pixel units) by default, or a constant ``fill``. The noise score is the
number of correct classifications summed over the levels (at most ``11 * N`` for ``N`` images).

**CNN-2** (the MNIST networks of the paper, shapes as in Numenta's ``nupic.torch``)::

    [B, 1, 28, 28] -> conv 5x5 (1 -> 32) -> maxpool 2 -> k-WTA (400 of 32x12x12 = 8.7 %)
                   -> conv 5x5 (32 -> 64) -> maxpool 2 -> k-WTA (300 of 64x4x4 = 29.3 %)
                   -> flatten 1024 -> sparse linear (1024 -> 700, weight density 0.3)
                   -> k-WTA (100 of 700 = 14.3 %) -> linear (700 -> 10)

with boosting (strength 1.5, decay 0.85 per epoch, duty-cycle period 1000) and 1.5x as many
winners at inference. The winner counts are the authors' (``c1_k = "400_300"``, ``k = 100`` in
their ``experiments_paper.cfg``); the paper's percentages are these rounded, and
``round(0.087 * 4608)`` would give 401. The dense CNN-2 has ReLU for k-WTA and dense weights,
with the paper's shapes: 30 and 30 channels (flatten 480) and 1000 hidden units.

Reference: S. Ahmad and L. Scheinkman, "How can we be so dense? The benefits of using highly
sparse representations", arXiv:1903.11257 (2019). k-winners: :mod:`dendrix.sdr.kwinners`.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = SparseLinear(20, 4, density=0.25, generator=g)
    >>> (layer.masked_weight() != 0).sum(dim=1).tolist()   # 5 of 20 inputs per unit
    [5, 5, 5, 5]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dendrix._validation import check_float, check_int, check_tensor
from dendrix.registry import LAYERS, LayerSpec
from dendrix.sdr.kwinners import KWinners, KWinners2d

__all__ = [
    "NOISE_LEVELS",
    "DenseCNN",
    "NoiseScore",
    "SparseCNN",
    "SparseConv2d",
    "SparseLinear",
    "SparseWeights",
    "add_pixel_noise",
    "noise_score",
    "rezero_weights",
    "sparse_mask",
    "update_boost_strength",
]

#: The paper's noise levels: 0 to 50 % of the pixels in steps of 5 %.
NOISE_LEVELS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(11))


# --------------------------------------------------------------------------------------------
# Functional core
# --------------------------------------------------------------------------------------------
def _check_density(name: str, density: object) -> float:
    return check_float(
        name,
        density,
        minimum=0.0,
        maximum=1.0,
        open_min=True,
        hint="it is the fraction of non-zero weights per output unit, e.g. 0.3; use 1.0 "
        "for dense weights.",
    )


def sparse_mask(
    shape: Sequence[int], density: float, generator: torch.Generator | None = None
) -> Tensor:
    """Boolean mask with exactly ``max(1, round(density * F))`` ones per output unit.

    Args:
        shape: ``(out, *fan_in)``, e.g. a linear ``[out, in]`` or a conv ``[out, in, kh, kw]``.
        density: fraction of non-zero weights per output unit, in (0, 1].
        generator: draws the positions (``None``: torch's default generator).

    Returns:
        ``bool`` tensor of ``shape``; row ``o`` (flattened over the fan-in) has exactly
        ``max(1, round(density * F))`` ones, ``F = prod(fan_in)``.

    Example:
        >>> m = sparse_mask((3, 10), 0.4, torch.Generator().manual_seed(0))
        >>> m.sum(dim=1).tolist()
        [4, 4, 4]
    """
    shape = tuple(check_int(f"shape[{i}]", s, minimum=1) for i, s in enumerate(shape))
    if len(shape) < 2:
        raise ValueError(f"shape must be (out, *fan_in) with at least 2 entries, got {shape}.")
    density = _check_density("density", density)
    fan_in = math.prod(shape[1:])
    keep = min(fan_in, max(1, round(density * fan_in)))
    scores = torch.rand(shape[0], fan_in, generator=generator)  # [out, F]
    order = scores.argsort(dim=1)[:, :keep]  # [out, keep] random distinct positions
    mask = torch.zeros(shape[0], fan_in, dtype=torch.bool).scatter_(1, order, True)
    return mask.view(shape)


def add_pixel_noise(
    x: Tensor,
    level: float,
    generator: torch.Generator | None = None,
    fill: float | None = None,
) -> Tensor:
    """Replace ``floor(level * P)`` random pixels of every image by noise (a new tensor).

    Args:
        x: ``[B, ...]`` floating images in pixel units (e.g. in [0, 1]); the ``P`` pixels of a
            sample are all its entries after the batch dimension.
        level: fraction of pixels replaced, in [0, 1].
        generator: draws the positions and the noise values (``None``: torch's default).
        fill: the value written into the chosen pixels; ``None`` draws each uniformly on
            ``[0, 1)``.

    Returns:
        ``[B, ...]`` like ``x``; ``level = 0`` returns an unchanged copy.

    Example:
        >>> x = torch.zeros(2, 10)
        >>> (add_pixel_noise(x, 0.3, torch.Generator().manual_seed(0), fill=1.0) != 0).sum(1)
        tensor([3, 3])
    """
    check_tensor("x", x, kind="floating", min_ndim=2, hint="Expected a batch [B, ...] of images.")
    level = check_float(
        "level", level, minimum=0.0, maximum=1.0, hint="it is the fraction of pixels replaced."
    )
    if fill is not None:
        fill = check_float("fill", fill, hint="use None for uniform noise on [0, 1).")
    flat = x.reshape(x.shape[0], -1).clone()  # [B, P]
    pixels = flat.shape[1]
    count = math.floor(level * pixels + 1e-9)
    if count == 0:
        return flat.view_as(x)
    positions = torch.rand(flat.shape, generator=generator).argsort(dim=1)[:, :count]  # [B, n]
    if fill is None:
        values = torch.rand(positions.shape, generator=generator).to(flat.dtype)
    else:
        values = torch.full(positions.shape, fill, dtype=flat.dtype)
    flat.scatter_(1, positions.to(flat.device), values.to(flat.device))
    return flat.view_as(x)


class NoiseScore(NamedTuple):
    """Result of :func:`noise_score`: the score and the correct count at each level."""

    score: int
    correct: tuple[int, ...]
    levels: tuple[float, ...]
    total: int


@torch.no_grad()
def noise_score(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    levels: Sequence[float] = NOISE_LEVELS,
    generator: torch.Generator | None = None,
    *,
    batch_size: int = 1000,
    prepare: Callable[[Tensor], Tensor] | None = None,
    fill: float | None = None,
) -> NoiseScore:
    """Correct classifications of ``model`` summed over pixel-noise levels (eval mode).

    ``score = sum_l #{i : argmax model(prepare(noise_l(x_i))) = y_i}``, with ``noise_l`` from
    :func:`add_pixel_noise` (Ahmad & Scheinkman 2019, their noise score).

    Args:
        model: maps ``prepare(x_batch)`` to logits ``[B, classes]``; put in eval mode here.
        x: ``[N, ...]`` floating test images in pixel units (noise is added before
            ``prepare``, e.g. before normalisation).
        y: ``[N]`` integer labels.
        levels: noise fractions, each in [0, 1]; default 0, 0.05, ..., 0.5.
        generator: draws the noise (``None``: torch's default generator).
        batch_size: images per forward pass.
        prepare: maps a noisy batch to the model input (e.g. normalisation).
        fill: constant noise value, or ``None`` for uniform noise on [0, 1).

    Returns:
        :class:`NoiseScore` ``(score, correct per level, levels, total = N * len(levels))``.

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        >>> s = noise_score(model, torch.rand(6, 2, 2), torch.zeros(6, dtype=torch.long),
        ...                 levels=[0.0, 0.5], generator=torch.Generator().manual_seed(0))
        >>> s.total, len(s.correct)
        (12, 2)
    """
    check_tensor("x", x, kind="floating", min_ndim=2, hint="Expected [N, ...] images.")
    check_tensor("y", y, kind="integer", ndim=1, hint="Expected [N] class indices.")
    if len(y) != len(x):
        raise ValueError(f"x and y must have the same length, got {len(x)} images and {len(y)}.")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    levels = tuple(
        check_float(f"levels[{i}]", level, minimum=0.0, maximum=1.0)
        for i, level in enumerate(levels)
    )
    if not levels:
        raise ValueError("levels must hold at least one noise fraction, e.g. NOISE_LEVELS.")
    was_training = model.training
    model.eval()
    correct = []
    try:
        for level in levels:
            hits = 0
            for start in range(0, len(x), batch_size):
                xb = add_pixel_noise(x[start : start + batch_size], level, generator, fill)
                xb = prepare(xb) if prepare is not None else xb
                pred = model(xb).argmax(dim=-1)
                hits += int((pred == y[start : start + batch_size].to(pred.device)).sum())
            correct.append(hits)
    finally:
        model.train(was_training)
    return NoiseScore(sum(correct), tuple(correct), levels, len(x) * len(levels))


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------
class SparseWeights(nn.Module):
    """Wrap an ``nn.Linear`` / ``nn.Conv1d`` / ``nn.Conv2d`` so it computes with ``W * M``.

    The mask ``M`` (see the module docstring) is a buffer, saved in the ``state_dict``; the
    wrapped weight is zeroed where ``M`` is false at construction, and the forward uses
    ``W * M`` so those entries get no gradient and stay zero under training.

    Args:
        module: the layer to sparsify (its ``weight`` is ``[out, *fan_in]``).
        density: fraction of non-zero weights per output unit, in (0, 1].
        generator: draws the mask (``None``: torch's default generator).

    Shapes: those of the wrapped module.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = SparseWeights(nn.Linear(10, 3), density=0.5, generator=g)
        >>> layer(torch.randn(2, 10, generator=g)).shape
        torch.Size([2, 3])
    """

    mask: Tensor

    def __init__(
        self, module: nn.Module, density: float, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if not isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            raise TypeError(
                f"module must be an nn.Linear, nn.Conv1d or nn.Conv2d, got "
                f"{type(module).__name__}; wrap the layer whose weight should be sparse."
            )
        self.module = module
        self.density = _check_density("density", density)
        weight = module.weight
        self.register_buffer("mask", sparse_mask(tuple(weight.shape), self.density, generator))
        self.rezero_weights_()

    @torch.no_grad()
    def rezero_weights_(self) -> SparseWeights:
        """Set the masked-out weights to zero in place (needed only for unusual optimisers)."""
        self.module.weight.mul_(self.mask.to(self.module.weight.dtype))
        return self

    def masked_weight(self) -> Tensor:
        """``W * M``, the weight the layer computes with."""
        return self.module.weight * self.mask.to(self.module.weight.dtype)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.masked_weight()
        module = self.module
        if isinstance(module, nn.Linear):
            return F.linear(x, weight, module.bias)
        return module._conv_forward(x, weight, module.bias)  # Conv1d / Conv2d

    def extra_repr(self) -> str:
        return f"density={self.density}, nonzero={int(self.mask.sum())}/{self.mask.numel()}"


class SparseLinear(SparseWeights):
    """``SparseWeights(nn.Linear(in_features, out_features, bias), density)``.

    The weights are drawn uniformly on ``+-1/sqrt(input_density * density * in_features)``
    (Kaiming-uniform scaled for the expected number of non-zero inputs times weights;
    ``input_density`` is the fraction of inputs expected non-zero, e.g. a k-winners layer's
    ``percent_on``) and the bias on ``+-1/sqrt(in_features)``, all from ``generator``, before
    masking.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        density: float,
        bias: bool = True,
        generator: torch.Generator | None = None,
        input_density: float = 1.0,
    ) -> None:
        in_features = check_int("in_features", in_features, minimum=1)
        out_features = check_int("out_features", out_features, minimum=1)
        density = _check_density("density", density)
        input_density = _check_density("input_density", input_density)
        linear = nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)
        bound = 1.0 / math.sqrt(input_density * density * in_features)
        _uniform_init(linear, bound, in_features, generator)
        super().__init__(linear, density, generator)


class SparseConv2d(SparseWeights):
    """``SparseWeights(nn.Conv2d(...), density)``; init as :class:`SparseLinear` with fan-in
    ``in_channels * kh * kw``. Extra keyword arguments go to ``nn.Conv2d``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        density: float,
        generator: torch.Generator | None = None,
        **kwargs: object,
    ) -> None:
        in_channels = check_int("in_channels", in_channels, minimum=1)
        out_channels = check_int("out_channels", out_channels, minimum=1)
        density = _check_density("density", density)
        conv = nn.utils.skip_init(nn.Conv2d, in_channels, out_channels, kernel_size, **kwargs)
        fan_in = math.prod(conv.weight.shape[1:])
        _uniform_init(conv, 1.0 / math.sqrt(density * fan_in), fan_in, generator)
        super().__init__(conv, density, generator)


@torch.no_grad()
def _uniform_init(
    module: nn.Module, bound: float, fan_in: int, generator: torch.Generator | None
) -> None:
    module.weight.uniform_(-bound, bound, generator=generator)
    if getattr(module, "bias", None) is not None:
        b = 1.0 / math.sqrt(fan_in)
        module.bias.uniform_(-b, b, generator=generator)


def _dense(layer: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """Re-initialise a freshly built dense layer from ``generator`` (PyTorch's default bounds)."""
    fan_in = math.prod(layer.weight.shape[1:])
    _uniform_init(layer, 1.0 / math.sqrt(fan_in), fan_in, generator)
    return layer


def rezero_weights(model: nn.Module) -> None:
    """Call :meth:`SparseWeights.rezero_weights_` on every sparse layer inside ``model``."""
    for m in model.modules():
        if isinstance(m, SparseWeights):
            m.rezero_weights_()


def update_boost_strength(model: nn.Module) -> None:
    """Decay the boost strength of every k-winners layer inside ``model`` (once per epoch)."""
    for m in model.modules():
        if isinstance(m, (KWinners, KWinners2d)):
            m.update_boost_strength()


class SparseCNN(nn.Module):
    """The sparse CNN-2 of Ahmad & Scheinkman (2019) for ``[B, 1, 28, 28]`` images.

    See the module docstring for the layers. Call :func:`update_boost_strength` once per epoch.

    Args:
        channels: output channels of the two convolutions.
        k: winners of the two convolutional k-WTA layers (of ``C*H*W`` each).
        hidden: units of the sparse linear layer; hidden_k: their winners.
        hidden_density: weight density of the sparse linear layer.
        boost_strength, boost_strength_factor, k_inference_factor, duty_cycle_period: the
            k-winners settings (:class:`dendrix.sdr.KWinners`).
        classes: output logits.
        normalize_weights: initialise the sparse linear layer's weights on
            ``+-1/sqrt(hidden_density * fan_in)``, scaled for its non-zero fan-in
            (:class:`SparseLinear`); ``False`` (the paper's code, ``normalize_weights = False``)
            keeps PyTorch's ``+-1/sqrt(fan_in)`` before masking.
        generator: draws every initial weight and the mask (``None``: torch's default).

    Shapes: ``[B, 1, 28, 28]`` -> ``[B, classes]`` logits; the layers are ``self.layers`` (an
    ``nn.Sequential``, so ``self.layers[:k]`` gives the first ``k``).
    """

    def __init__(
        self,
        *,
        channels: tuple[int, int] = (32, 64),
        k: tuple[int, int] = (400, 300),
        hidden: int = 700,
        hidden_k: int = 100,
        hidden_density: float = 0.3,
        boost_strength: float = 1.5,
        boost_strength_factor: float = 0.85,
        k_inference_factor: float = 1.5,
        duty_cycle_period: int = 1000,
        classes: int = 10,
        normalize_weights: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        c1, c2 = (check_int(f"channels[{i}]", c, minimum=1) for i, c in enumerate(channels))
        kw = dict(
            boost_strength=boost_strength,
            boost_strength_factor=boost_strength_factor,
            k_inference_factor=k_inference_factor,
            duty_cycle_period=duty_cycle_period,
        )
        conv = nn.utils.skip_init
        super().__init__()
        self.layers = nn.Sequential(
            _dense(conv(nn.Conv2d, 1, c1, 5), generator),  # [B, c1, 24, 24]
            nn.MaxPool2d(2),  # [B, c1, 12, 12]
            KWinners2d(c1, k=k[0], **kw),
            _dense(conv(nn.Conv2d, c1, c2, 5), generator),  # [B, c2, 8, 8]
            nn.MaxPool2d(2),  # [B, c2, 4, 4]
            KWinners2d(c2, k=k[1], **kw),
            nn.Flatten(),  # [B, 16 c2]
            (
                SparseLinear(16 * c2, hidden, hidden_density, generator=generator)
                if normalize_weights
                else SparseWeights(
                    _dense(conv(nn.Linear, 16 * c2, hidden), generator), hidden_density, generator
                )
            ),
            KWinners(hidden, k=hidden_k, **kw),
            _dense(conv(nn.Linear, hidden, classes), generator),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class DenseCNN(nn.Module):
    """The dense CNN-2 of Ahmad & Scheinkman (2019): the same layers with ReLU for k-WTA and
    dense weights. The defaults are the paper's dense network (30 and 30 channels, 1000 hidden
    units); ``DenseCNN(channels=(32, 64), hidden=700)`` has :class:`SparseCNN`'s shapes and
    parameter count.

    Shapes: ``[B, 1, 28, 28]`` -> ``[B, classes]`` logits.
    """

    def __init__(
        self,
        *,
        channels: tuple[int, int] = (30, 30),
        hidden: int = 1000,
        classes: int = 10,
        generator: torch.Generator | None = None,
    ) -> None:
        c1, c2 = (check_int(f"channels[{i}]", c, minimum=1) for i, c in enumerate(channels))
        conv = nn.utils.skip_init
        super().__init__()
        self.layers = nn.Sequential(
            _dense(conv(nn.Conv2d, 1, c1, 5), generator),
            nn.MaxPool2d(2),
            nn.ReLU(),
            _dense(conv(nn.Conv2d, c1, c2, 5), generator),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Flatten(),
            _dense(conv(nn.Linear, 16 * c2, hidden), generator),
            nn.ReLU(),
            _dense(conv(nn.Linear, hidden, classes), generator),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


# Layer contract suite (tests/contracts).
LAYERS.add(
    "dendrites.SparseLinear",
    LayerSpec(
        build=lambda: SparseLinear(
            12, 12, density=0.25, generator=torch.Generator().manual_seed(0)
        ),
        example_input=lambda g: torch.randn(8, 12, generator=g),
    ),
)
LAYERS.add(
    "dendrites.SparseConv2d",
    LayerSpec(
        build=lambda: SparseConv2d(
            3, 3, 3, density=0.4, padding=1, generator=torch.Generator().manual_seed(0)
        ),
        example_input=lambda g: torch.randn(2, 3, 6, 6, generator=g),
    ),
)

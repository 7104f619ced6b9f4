r"""k-winners-take-all with homeostatic boosting.

One sample ``y`` has ``n`` units. ``k`` (1 <= k <= n) is the number of winners, ``a = k / n`` the
target density, ``d_i`` in [0, 1] the duty cycle of unit ``i`` (how often it has won lately) and
``beta >= 0`` the boost strength. Then::

    b_i   = exp(beta * (a - d_i))                boost factor of unit i
    W     = the k indices i with the largest b_i * y_i   (ties: the lowest index wins)
    out_i = y_i  if i in W,  else 0              winners pass their *unboosted* value

Units that won less often than the target (``d_i < a``) are boosted (``b_i > 1``), units that won
more often are damped, so over training every unit ends up winning about a fraction ``a`` of the
time. Boosting only decides *who* wins; it never changes a winner's value. A common positive
factor on all ``b_i`` does not change the ranking, so only the differences ``d_i - d_j`` matter.

Duty cycle (training mode only). For a batch of ``B`` samples with winner indicators
``m_{s,i}`` in {0, 1} (``sum_i m_{s,i} = k`` for every sample ``s``), ``t`` the number of samples
seen so far (including this batch) and ``T`` the ``duty_cycle_period``::

    t   <- t + B
    P    = max(min(T, t), B)                     effective averaging period
    d_i <- (d_i * (P - B) + sum_s m_{s,i}) / P

so ``d`` is the plain mean win rate over the first ``T`` samples and afterwards a running mean over
roughly the last ``T`` samples (the convention of Numenta's ``nupic.torch``). ``P >= B`` keeps the
update a convex combination when a batch is larger than the period.

Boost decay. ``beta <- beta * gamma`` with ``gamma = boost_strength_factor`` in (0, 1], applied by
:meth:`KWinners.update_boost_strength`, which the training loop calls once per epoch.

Inference (eval mode). ``k_inf = min(n, max(1, round(k * kappa)))`` winners with
``kappa = k_inference_factor``; boosting still uses the (frozen) duty cycles; ``d`` and ``t`` are
not updated.

Gradient. ``d out_i / d y_i = 1`` for ``i`` in ``W`` and ``0`` otherwise: the winner mask is a
constant of the backward pass (straight through on the kept values, zero for the losers).

Convolutional maps (:class:`KWinners2d`, input ``[B, C, H, W]``) have one duty cycle and one boost
factor per channel ``c``; every position of channel ``c`` is multiplied by
``b_c = exp(beta * (a - d_c))``. A channel's win count is averaged over its ``H * W`` positions::

    d_c <- (d_c * (P - B) + (sum_{s,h,w} m_{s,c,h,w}) / (H * W)) / P

* ``local=False``: the top ``k`` of all ``C * H * W`` units of a sample win, ``a = k / (C*H*W)``;
  ties go to the lowest flat index ``c * H * W + h * W + w``.
* ``local=True``: at every position ``(h, w)`` the top ``k`` of the ``C`` channels win
  (``k`` counts channels), ``a = k / C``; ties go to the lowest channel index.

Reference: S. Ahmad and L. Scheinkman, "How can we be so dense? The benefits of using highly
sparse representations", arXiv:1903.11257 (2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dendrix._validation import check_float, check_int, check_tensor
from dendrix.registry import LAYERS, LayerSpec

__all__ = [
    "KWinners",
    "KWinners2d",
    "KWinners2dConfig",
    "KWinnersConfig",
    "compute_boost_factors",
    "kwinners",
    "kwinners2d",
]


# --------------------------------------------------------------------------------------------
# Functional core
# --------------------------------------------------------------------------------------------


def _winner_mask(scores: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """Boolean mask of the ``k`` largest ``scores`` along ``dim``; ties go to the lowest index.

    With ``s_k`` the k-th largest score, every score above ``s_k`` wins and the scores equal to
    ``s_k`` win in index order until there are ``k``. ``torch.topk`` gives ``s_k`` exactly
    (only the order of tied indices is unspecified, and it is not used), so the mask equals
    :func:`_winner_mask_reference` (a stable sort) on every device, at a fraction of the cost
    of sorting all ``n`` scores. Scores are never NaN (inputs are checked finite and boost
    factors are positive), so the order is total.
    """
    kth = torch.topk(scores, k, dim=dim, sorted=False).values.amin(dim=dim, keepdim=True)
    above = scores > kth
    tied = scores == kth
    room = k - above.sum(dim=dim, keepdim=True)
    return above | (tied & (tied.cumsum(dim=dim) <= room))


def _winner_mask_reference(scores: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """:func:`_winner_mask` by a stable descending sort, which keeps equal scores in index
    order (the readable definition the fast mask is tested against)."""
    order = torch.sort(scores, dim=dim, descending=True, stable=True).indices
    winners = order.narrow(dim, 0, k)
    return torch.zeros_like(scores, dtype=torch.bool).scatter_(dim, winners, True)


def _kwinners(
    x: torch.Tensor, k: int, factors: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    scores = x.detach() if factors is None else x.detach() * factors.to(x.dtype)
    mask = _winner_mask(scores, k, dim=-1)
    return torch.where(mask, x, torch.zeros_like(x)), mask


def _kwinners2d(
    x: torch.Tensor, k: int, factors: torch.Tensor | None, local: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    scores = x.detach()
    if factors is not None:
        scores = scores * factors.to(x.dtype).view(1, -1, 1, 1)
    if local:
        mask = _winner_mask(scores, k, dim=1)
    else:
        mask = _winner_mask(scores.flatten(1), k, dim=1).view_as(x)
    return torch.where(mask, x, torch.zeros_like(x)), mask


def compute_boost_factors(
    duty_cycle: torch.Tensor, target_density: float, boost_strength: float | torch.Tensor
) -> torch.Tensor:
    """Boost factors ``b = exp(boost_strength * (target_density - duty_cycle))``.

    Args:
        duty_cycle: ``[n]`` (or any shape) win rates in [0, 1].
        target_density: the target win rate ``k / n``.
        boost_strength: ``beta >= 0`` (a float or a 0-d tensor); 0 gives all-ones factors.

    Returns:
        Tensor shaped like ``duty_cycle``.
    """
    check_tensor("duty_cycle", duty_cycle, kind="floating", finite=True)
    check_float("target_density", target_density, minimum=0.0, maximum=1.0)
    check_float("boost_strength", boost_strength, minimum=0.0)
    return _boost_factors(duty_cycle, target_density, boost_strength)


def _boost_factors(
    duty_cycle: torch.Tensor, target_density: float, boost_strength: float | torch.Tensor
) -> torch.Tensor:
    """:func:`compute_boost_factors` without the checks (the modules' hot path)."""
    return torch.exp(boost_strength * (target_density - duty_cycle))


def kwinners(
    x: torch.Tensor, k: int, boost_factors: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-winners-take-all over the last dimension (see the module docstring for the rule).

    Args:
        x: ``[..., n]`` floating input, finite.
        k: number of winners per sample, ``1 <= k <= n``.
        boost_factors: optional ``[n]`` positive factors ``b``; units are ranked by ``x * b``.

    Returns:
        ``(out, mask)``: ``out`` ``[..., n]`` holds the winners' unboosted values and zeros
        elsewhere (gradient flows to the winners only); ``mask`` ``[..., n]`` bool marks the
        winners, exactly ``k`` per sample.

    Example:
        >>> out, mask = kwinners(torch.tensor([[0.5, 2.0, 1.0]]), k=1)
        >>> out
        tensor([[0., 2., 0.]])
    """
    x = check_tensor("x", x, kind="floating", min_ndim=1, finite=True)
    n = x.shape[-1]
    k = check_int(
        "k", k, minimum=1, maximum=n, hint="k is the number of winners per row of x [..., n]."
    )
    if boost_factors is not None:
        check_tensor(
            "boost_factors", boost_factors, kind="floating", ndim=1, last_dim=n, finite=True
        )
    return _kwinners(x, k, boost_factors)


def kwinners2d(
    x: torch.Tensor, k: int, boost_factors: torch.Tensor | None = None, local: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-winners-take-all on a ``[B, C, H, W]`` map (see the module docstring for the rule).

    Args:
        x: ``[B, C, H, W]`` floating input, finite.
        k: winners per sample over all ``C*H*W`` units (``local=False``, ``1 <= k <= C*H*W``) or
            winning channels per position (``local=True``, ``1 <= k <= C``).
        boost_factors: optional ``[C]`` per-channel factors; units are ranked by ``x * b_c``.
        local: pick winners per position instead of per sample.

    Returns:
        ``(out, mask)``, both ``[B, C, H, W]``; ``out`` keeps the winners' unboosted values.

    Example:
        >>> x = torch.tensor([[[[1.0, 4.0]], [[3.0, 2.0]]]])  # [1, 2, 1, 2]
        >>> kwinners2d(x, k=1, local=True)[0]
        tensor([[[[0., 4.]],
        <BLANKLINE>
                 [[3., 0.]]]])
    """
    x = check_tensor(
        "x", x, kind="floating", ndim=4, finite=True, hint="kwinners2d expects [B, C, H, W]."
    )
    _, c, h, w = x.shape
    size = c if local else c * h * w
    what = "channels C (local=True)" if local else "units C*H*W per sample (local=False)"
    k = check_int("k", k, minimum=1, maximum=size, hint=f"k cannot exceed the number of {what}.")
    if boost_factors is not None:
        check_tensor(
            "boost_factors", boost_factors, kind="floating", ndim=1, last_dim=c, finite=True
        )
    return _kwinners2d(x, k, boost_factors, bool(local))


# --------------------------------------------------------------------------------------------
# Configs and argument checks
# --------------------------------------------------------------------------------------------


def _resolve_k(percent_on: float | None, k: int | None, size: int, size_name: str) -> int | None:
    """Check the k / percent_on pair; return k (None if it depends on the input size)."""
    if (percent_on is None) == (k is None):
        raise ValueError(
            "give exactly one of percent_on or k (got "
            f"percent_on={percent_on!r}, k={k!r}); e.g. percent_on=0.1 or k=10."
        )
    if k is not None:
        if size <= 0:  # KWinners2d(local=False): the bound C*H*W is checked at forward
            return check_int("k", k, minimum=1)
        return check_int("k", k, minimum=1, maximum=size, hint=f"k must be <= {size_name}.")
    check_float(
        "percent_on",
        percent_on,
        minimum=0.0,
        maximum=1.0,
        open_min=True,
        hint="percent_on is the fraction of units that win, e.g. 0.1.",
    )
    if size <= 0:
        return None
    return _k_from_percent(float(percent_on), size)


def _k_from_percent(percent_on: float, size: int) -> int:
    return min(size, max(1, round(percent_on * size)))


def _check_common(
    k_inference_factor: float,
    boost_strength: float,
    boost_strength_factor: float,
    duty_cycle_period: int,
) -> tuple[float, float, float, int]:
    return (
        check_float(
            "k_inference_factor",
            k_inference_factor,
            minimum=0.0,
            open_min=True,
            hint="use 1.0 for as many winners at inference as in training.",
        ),
        check_float(
            "boost_strength",
            boost_strength,
            minimum=0.0,
            hint="use 0.0 to switch boosting off.",
        ),
        check_float(
            "boost_strength_factor",
            boost_strength_factor,
            minimum=0.0,
            maximum=1.0,
            open_min=True,
            hint="use 1.0 to keep the boost strength constant.",
        ),
        check_int(
            "duty_cycle_period",
            duty_cycle_period,
            minimum=1,
            hint="it is the number of samples the duty cycle averages over, e.g. 1000.",
        ),
    )


@dataclass(frozen=True)
class KWinnersConfig:
    """Constructor arguments of :class:`KWinners` (see there for their meaning)."""

    n: int
    percent_on: float | None = None
    k: int | None = None
    k_inference_factor: float = 1.5
    boost_strength: float = 1.0
    boost_strength_factor: float = 0.9
    duty_cycle_period: int = 1000

    def __post_init__(self) -> None:
        n = check_int("n", self.n, minimum=1)
        _resolve_k(self.percent_on, self.k, n, f"n={n}")
        _check_common(
            self.k_inference_factor,
            self.boost_strength,
            self.boost_strength_factor,
            self.duty_cycle_period,
        )


@dataclass(frozen=True)
class KWinners2dConfig:
    """Constructor arguments of :class:`KWinners2d` (see there for their meaning)."""

    channels: int
    percent_on: float | None = None
    k: int | None = None
    k_inference_factor: float = 1.5
    boost_strength: float = 1.0
    boost_strength_factor: float = 0.9
    duty_cycle_period: int = 1000
    local: bool = False

    def __post_init__(self) -> None:
        c = check_int("channels", self.channels, minimum=1)
        _resolve_k(self.percent_on, self.k, c if self.local else 0, f"channels={c}")
        _check_common(
            self.k_inference_factor,
            self.boost_strength,
            self.boost_strength_factor,
            self.duty_cycle_period,
        )


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------


class _KWinnersBase(nn.Module):
    """Shared state: duty cycles, samples seen, boost strength and its per-epoch decay."""

    duty_cycle: torch.Tensor
    samples_seen: torch.Tensor
    boost_strength: torch.Tensor

    def __init__(
        self,
        units: int,
        k_inference_factor: float,
        boost_strength: float,
        boost_strength_factor: float,
        duty_cycle_period: int,
    ) -> None:
        super().__init__()
        (
            self.k_inference_factor,
            beta,
            self.boost_strength_factor,
            self.duty_cycle_period,
        ) = _check_common(
            k_inference_factor, boost_strength, boost_strength_factor, duty_cycle_period
        )
        self.register_buffer("duty_cycle", torch.zeros(units))
        self.register_buffer("samples_seen", torch.zeros((), dtype=torch.long))
        # A buffer, so the decayed value travels with state_dict, .to() and DDP broadcasts.
        self.register_buffer("boost_strength", torch.tensor(beta))

    def _inference_k(self, k: int, size: int) -> int:
        return min(size, max(1, round(k * self.k_inference_factor)))

    def update_boost_strength(self) -> None:
        """Multiply the boost strength by ``boost_strength_factor``; call once per epoch."""
        with torch.no_grad():
            self.boost_strength.mul_(self.boost_strength_factor)

    def reset_duty_cycle(self) -> None:
        """Forget the win history (duty cycles and samples seen back to zero)."""
        with torch.no_grad():
            self.duty_cycle.zero_()
            self.samples_seen.zero_()

    def _update_duty_cycle(self, wins: torch.Tensor, batch: int) -> None:
        """``wins``: ``[units]`` summed winner indicators of a batch of ``batch`` samples."""
        if batch == 0:
            return
        with torch.no_grad():
            self.samples_seen.add_(batch)
            period = self.samples_seen.clamp(max=self.duty_cycle_period).clamp(min=batch)
            period = period.to(self.duty_cycle.dtype)
            new = (self.duty_cycle * (period - batch) + wins.to(self.duty_cycle.dtype)) / period
            self.duty_cycle.copy_(new)


class KWinners(_KWinnersBase):
    """k-winners-take-all with boosting over the last dimension of ``[..., n]`` inputs.

    In training mode the top ``k`` units of each sample by boosted value win and pass their
    unboosted value, and the duty cycles are updated; in eval mode
    ``k_inference = min(n, round(k * k_inference_factor))`` units win and nothing is updated.
    Every leading dimension counts as a sample for the duty cycle. See the module docstring for
    the equations.

    Args:
        n: number of units (last dimension of the input), ``n >= 1``.
        percent_on: fraction of units that win in training, in (0, 1];
            ``k = max(1, round(percent_on * n))``. Give this or ``k``, not both.
        k: number of winners per sample in training, ``1 <= k <= n``.
        k_inference_factor: ``k`` is multiplied by this (then rounded, capped at ``n``) in eval.
        boost_strength: initial ``beta >= 0``; 0 switches boosting off.
        boost_strength_factor: per-epoch decay of ``beta``, in (0, 1]; applied by
            :meth:`update_boost_strength`, which the training loop calls once per epoch.
        duty_cycle_period: ``T >= 1``, number of samples the duty cycle averages over.

    Shapes:
        input ``[..., n]`` floating and finite; output the same shape.

    Buffers:
        ``duty_cycle`` ``[n]``, ``samples_seen`` ``[]`` (long), ``boost_strength`` ``[]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = KWinners(100, percent_on=0.1)
        >>> out = layer(torch.randn(8, 100, generator=g))
        >>> (out != 0).sum(dim=1).tolist()
        [10, 10, 10, 10, 10, 10, 10, 10]
        >>> layer.duty_cycle.sum().item()  # k / n per unit on average
        10.0
    """

    def __init__(
        self,
        n: int,
        percent_on: float | None = None,
        k: int | None = None,
        k_inference_factor: float = 1.5,
        boost_strength: float = 1.0,
        boost_strength_factor: float = 0.9,
        duty_cycle_period: int = 1000,
    ) -> None:
        n = check_int("n", n, minimum=1, hint="n is the number of units.")
        resolved = _resolve_k(percent_on, k, n, f"n={n}")
        assert resolved is not None
        super().__init__(
            n, k_inference_factor, boost_strength, boost_strength_factor, duty_cycle_period
        )
        self.n = n
        self.percent_on = None if percent_on is None else float(percent_on)
        self.k = resolved
        self.k_inference = self._inference_k(self.k, self.n)

    @classmethod
    def from_config(cls, cfg: KWinnersConfig) -> KWinners:
        """Build from a :class:`KWinnersConfig`."""
        return cls(
            n=cfg.n,
            percent_on=cfg.percent_on,
            k=cfg.k,
            k_inference_factor=cfg.k_inference_factor,
            boost_strength=cfg.boost_strength,
            boost_strength_factor=cfg.boost_strength_factor,
            duty_cycle_period=cfg.duty_cycle_period,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(
            "x",
            x,
            kind="floating",
            min_ndim=1,
            last_dim=self.n,
            finite=not torch.compiler.is_compiling(),  # data-dependent: checked in eager only
            hint=f"KWinners(n={self.n}) expects input [..., {self.n}].",
        )
        factors = _boost_factors(self.duty_cycle, self.k / self.n, self.boost_strength)
        k = self.k if self.training else self.k_inference
        out, mask = _kwinners(x, k, factors)
        if self.training:
            flat = mask.reshape(-1, self.n)
            self._update_duty_cycle(flat.sum(dim=0, dtype=self.duty_cycle.dtype), flat.shape[0])
        return out

    def extra_repr(self) -> str:
        return (
            f"n={self.n}, k={self.k}, k_inference={self.k_inference}, "
            f"boost_strength={float(self.boost_strength):.4g}, "
            f"boost_strength_factor={self.boost_strength_factor}, "
            f"duty_cycle_period={self.duty_cycle_period}"
        )


class KWinners2d(_KWinnersBase):
    """k-winners-take-all with per-channel boosting on ``[B, C, H, W]`` maps.

    ``local=False``: each sample's top ``k`` of all ``C*H*W`` units win (target density
    ``k / (C*H*W)``); with ``percent_on`` the number ``k = max(1, round(percent_on * C*H*W))`` is
    worked out from each input's ``H, W``. ``local=True``: at each position ``(h, w)`` the top
    ``k`` of the ``C`` channels win (target density ``k / C``). In both cases the duty cycle and
    the boost factor are per channel; a channel's wins are averaged over its ``H*W`` positions.
    See the module docstring for the equations.

    Args:
        channels: number of channels ``C >= 1``.
        percent_on: fraction of units (``local=False``) or of channels (``local=True``) that win,
            in (0, 1]. Give this or ``k``, not both.
        k: winners per sample (``local=False``, ``<= C*H*W``, checked at the first forward) or
            winning channels per position (``local=True``, ``<= C``).
        k_inference_factor: ``k`` is multiplied by this (rounded, capped) in eval mode.
        boost_strength: initial ``beta >= 0``; 0 switches boosting off.
        boost_strength_factor: per-epoch decay of ``beta`` in (0, 1], applied by
            :meth:`update_boost_strength` (the training loop calls it once per epoch).
        duty_cycle_period: ``T >= 1``, number of samples the duty cycle averages over.
        local: choose winners per position across channels instead of per sample.

    Shapes:
        input ``[B, C, H, W]`` floating and finite; output the same shape.

    Buffers:
        ``duty_cycle`` ``[C]``, ``samples_seen`` ``[]`` (long), ``boost_strength`` ``[]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = KWinners2d(8, k=2, local=True)
        >>> out = layer(torch.randn(4, 8, 5, 5, generator=g))
        >>> bool(((out != 0).sum(dim=1) == 2).all())
        True
        >>> layer.duty_cycle.shape
        torch.Size([8])
    """

    def __init__(
        self,
        channels: int,
        percent_on: float | None = None,
        k: int | None = None,
        k_inference_factor: float = 1.5,
        boost_strength: float = 1.0,
        boost_strength_factor: float = 0.9,
        duty_cycle_period: int = 1000,
        local: bool = False,
    ) -> None:
        channels = check_int("channels", channels, minimum=1, hint="C of a [B, C, H, W] map.")
        if not isinstance(local, bool):
            raise TypeError(f"local must be True or False, got {local!r}.")
        resolved = _resolve_k(percent_on, k, channels if local else 0, f"channels={channels}")
        super().__init__(
            channels, k_inference_factor, boost_strength, boost_strength_factor, duty_cycle_period
        )
        self.channels = channels
        self.percent_on = None if percent_on is None else float(percent_on)
        self.k = resolved  # None when local=False and percent_on is given: depends on H, W
        self.local = local

    @classmethod
    def from_config(cls, cfg: KWinners2dConfig) -> KWinners2d:
        """Build from a :class:`KWinners2dConfig`."""
        return cls(
            channels=cfg.channels,
            percent_on=cfg.percent_on,
            k=cfg.k,
            k_inference_factor=cfg.k_inference_factor,
            boost_strength=cfg.boost_strength,
            boost_strength_factor=cfg.boost_strength_factor,
            duty_cycle_period=cfg.duty_cycle_period,
            local=cfg.local,
        )

    def train_k(self, height: int, width: int) -> int:
        """Winners per sample (``local=False``) or per position (``local=True``) in training."""
        size = self.channels if self.local else self.channels * height * width
        if self.k is None:
            assert self.percent_on is not None
            return _k_from_percent(self.percent_on, size)
        if self.k > size:
            raise ValueError(
                f"k={self.k} exceeds the {size} units of a [{self.channels}, {height}, {width}] "
                "map; use a smaller k or percent_on."
            )
        return self.k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hint = f"KWinners2d(channels={self.channels}) expects [B, {self.channels}, H, W]."
        finite = not torch.compiler.is_compiling()  # data-dependent: checked in eager only
        check_tensor("x", x, kind="floating", ndim=4, finite=finite, hint=hint)
        if x.shape[1] != self.channels:
            raise ValueError(
                f"x must have {self.channels} channels (dim 1), got shape {tuple(x.shape)}. " + hint
            )
        b, c, h, w = x.shape
        k = self.train_k(h, w)
        size = c if self.local else c * h * w
        factors = _boost_factors(self.duty_cycle, k / size, self.boost_strength)
        k_now = k if self.training else self._inference_k(k, size)
        out, mask = _kwinners2d(x, k_now, factors, self.local)
        if self.training and h * w > 0:
            wins = mask.sum(dim=(0, 2, 3), dtype=self.duty_cycle.dtype) / (h * w)
            self._update_duty_cycle(wins, b)
        return out

    def extra_repr(self) -> str:
        k = f"k={self.k}" if self.k is not None else f"percent_on={self.percent_on}"
        return (
            f"channels={self.channels}, {k}, local={self.local}, "
            f"k_inference_factor={self.k_inference_factor}, "
            f"boost_strength={float(self.boost_strength):.4g}, "
            f"boost_strength_factor={self.boost_strength_factor}, "
            f"duty_cycle_period={self.duty_cycle_period}"
        )


# Layer contract suite (tests/contracts): every registered layer gets the same checks.
LAYERS.add(
    "sdr.KWinners",
    LayerSpec(
        build=lambda: KWinners(64, k=8, boost_strength=1.5, duty_cycle_period=100),
        example_input=lambda g: torch.randn(16, 64, generator=g),
    ),
)
LAYERS.add(
    "sdr.KWinners2d",
    LayerSpec(
        build=lambda: KWinners2d(6, percent_on=0.2, boost_strength=1.5, duty_cycle_period=100),
        example_input=lambda g: torch.randn(4, 6, 5, 5, generator=g),
    ),
)

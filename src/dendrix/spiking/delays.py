r"""Synaptic delays on the time axis: learned (Gaussian taps, DCLS) and fixed (integer shifts).

A delayed synapse from input ``i`` to output ``o`` with weight :math:`w_{oi}` and delay
:math:`d_{oi}` (in time steps) contributes

.. math::

    y_t^{o} = \sum_i w_{oi} \sum_{k=0}^{D} K(k; d_{oi}, \sigma)\, x_{t-k}^{i},
    \qquad
    K(k; d, \sigma) = \frac{\exp\!\big(-(k - d)^2 / 2\sigma^2\big)}
                           {\sum_{j=0}^{D} \exp\!\big(-(j - d)^2 / 2\sigma^2\big)},

with :math:`x_{t} = 0` for :math:`t < 0` (causal), where

- :math:`x_t^{i}` is the input at step :math:`t` (spikes or any real signal, dimensionless),
- :math:`D` = ``max_delay`` is the longest delay, in steps (integer taps ``k = 0..D``),
- :math:`d_{oi} \in [0, D]` is the real-valued delay of the synapse, in steps,
- :math:`\sigma > 0` is the kernel width, in steps, annealed towards zero during training,
- :math:`K` sums to 1 over the taps, so :math:`w_{oi}` keeps the meaning of a weight.

Spreading each delay as a Gaussian over the integer taps makes the output differentiable in
:math:`d`; as :math:`\sigma` shrinks the kernel tends to a one-hot tap at :math:`\mathrm{round}(d)`,
and after training the delays are rounded so that inference is an exact integer shift
(``mode="rounded"``). The whole layer is one causal ``conv1d`` over time whose kernel
``[out, in, D+1]`` is :math:`w_{oi} K(k; d_{oi}, \sigma)` (dilated convolution with learnable
spacings, one non-zero "position" per synapse).

References: Hammouamri I, Khalfaoui-Hassani I, Masquelier T (2024) Learning delays in spiking
neural networks using dilated convolutions with learnable spacings. ICLR; Khalfaoui-Hassani I,
Pellegrini T, Masquelier T (2023) Dilated convolution with learnable spacings. ICLR.

Contents:

- :func:`gaussian_delay_kernel` -- the normalised taps :math:`K(k; d, \sigma)`.
- :func:`delayed_linear` -- the fast path (one ``conv1d``); :func:`delayed_linear_reference`
  -- the same maths as a readable loop, for tests.
- :func:`anneal_sigma` -- the geometric schedule for :math:`\sigma`.
- :class:`DelayedLinear` -- the learnable layer; :class:`Delay` / :func:`delay_shift` -- fixed
  integer per-feature delays (exact shifts, the form NIR export uses).

Tensors are time-first, ``[T, B, N]``.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> layer = DelayedLinear(4, 2, max_delay=5, generator=g)
    >>> y = layer(torch.zeros(20, 3, 4))          # [T, B, in] -> [T, B, out]
    >>> y.shape
    torch.Size([20, 3, 2])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.registry import LAYERS, LayerSpec

__all__ = [
    "MODES",
    "Delay",
    "DelayedLinear",
    "anneal_sigma",
    "delay_shift",
    "delayed_linear",
    "delayed_linear_reference",
    "gaussian_delay_kernel",
]

#: Forward modes of :class:`DelayedLinear`: Gaussian taps (training) or one-hot taps at the
#: rounded delay (exact integer shifts, inference).
MODES = ("gaussian", "rounded")


# --------------------------------------------------------------------------------------------
# Functional form
# --------------------------------------------------------------------------------------------
def gaussian_delay_kernel(delay: Tensor, sigma: float | Tensor, max_delay: int) -> Tensor:
    r"""Normalised Gaussian taps :math:`K(k; d, \sigma)` for ``k = 0..max_delay``.

    :math:`K(k; d, \sigma) = \exp(-(k-d)^2/2\sigma^2) / \sum_j \exp(-(j-d)^2/2\sigma^2)`,
    computed as a softmax over the taps, so it stays finite (and sums to 1) even when
    :math:`\sigma` is far below the tap spacing and every unnormalised value underflows.
    ``delay`` is used as given (no clamping); the taps, not the delay, are limited to
    ``[0, max_delay]``.

    Reference: Khalfaoui-Hassani et al. 2023 (DCLS, Gaussian interpolation).

    Args:
        delay: ``[*S]`` real delays in steps (floating).
        sigma: kernel width in steps, > 0 (float or 0-d tensor).
        max_delay: longest delay ``D`` in steps, >= 0.

    Returns:
        ``[*S, D+1]`` taps in ``delay``'s dtype, summing to 1 along the last dimension.

    Example:
        >>> k = gaussian_delay_kernel(torch.tensor([2.0]), 0.5, 4)
        >>> int(k.argmax()), round(float(k.sum()), 6)
        (2, 1.0)
    """
    taps = torch.arange(max_delay + 1, dtype=delay.dtype, device=delay.device)  # [D+1]
    logits = -((taps - delay.unsqueeze(-1)) ** 2) / (2.0 * sigma * sigma)  # [*S, D+1]
    return torch.softmax(logits, dim=-1)


def _effective_delay(delay: Tensor, max_delay: int) -> Tensor:
    """Delays clamped into ``[0, max_delay]`` (gradient passes inside and on the bounds)."""
    return delay.clamp(0.0, float(max_delay))


def _synapse_kernel(
    weight: Tensor, delay: Tensor, sigma: float | Tensor, max_delay: int, mode: str
) -> Tensor:
    """``[out, in, D+1]`` kernel ``w[o, i] * K[o, i, k]``; tap ``k`` is a delay of ``k`` steps."""
    d = _effective_delay(delay, max_delay)
    if mode == "rounded":
        taps = F.one_hot(d.detach().round().long(), max_delay + 1).to(weight.dtype)
    else:
        taps = gaussian_delay_kernel(d, sigma, max_delay)
    return weight.unsqueeze(-1) * taps


def _delayed_linear_unchecked(
    x: Tensor,
    weight: Tensor,
    delay: Tensor,
    sigma: float | Tensor,
    max_delay: int,
    bias: Tensor | None,
    mode: str,
) -> Tensor:
    kernel = _synapse_kernel(weight, delay, sigma, max_delay, mode)  # [out, in, D+1]
    # conv1d is a cross-correlation, y[t] = sum_j c[j] xp[t + j] with xp the input padded by D
    # zeros on the left (xp[t'] = x[t' - D]); tap k (delay k) must read x[t - k], i.e. j = D - k,
    # hence the flip. Output length: (T + D) - (D + 1) + 1 = T.
    xb = F.pad(x.permute(1, 2, 0), (max_delay, 0))  # [B, in, T + D]
    y = F.conv1d(xb, kernel.flip(-1), bias)  # [B, out, T]
    return y.permute(2, 0, 1)  # [T, B, out]


def _check_delayed_linear_args(
    x: Tensor,
    weight: Tensor,
    delay: Tensor,
    sigma: float | Tensor,
    max_delay: int,
    bias: Tensor | None,
) -> tuple[int, float]:
    max_delay = check_int("max_delay", max_delay, minimum=0)
    sigma = check_float("sigma", sigma, minimum=0.0, open_min=True, hint="sigma is in steps.")
    check_tensor("weight", weight, kind="floating", ndim=2, hint="Expected [out, in].")
    check_tensor(
        "delay",
        delay,
        kind="floating",
        ndim=2,
        finite=True,
        hint="Expected [out, in] real delays in steps, like weight.",
    )
    if delay.shape != weight.shape:
        raise ValueError(
            f"delay must have weight's shape {tuple(weight.shape)} (one delay per synapse), "
            f"got {tuple(delay.shape)}."
        )
    _check_sequence(x, weight.shape[1], weight.dtype)
    if bias is not None:
        check_tensor("bias", bias, kind="floating", ndim=1, last_dim=weight.shape[0])
    return max_delay, sigma


def _check_sequence(x: Tensor, in_features: int, dtype: torch.dtype) -> None:
    # the finite check reads the data (a host sync and a graph break), so it is skipped while
    # torch.compile traces, as in dendrix.spiking.modules.base
    check_tensor(
        "x",
        x,
        kind="floating",
        ndim=3,
        last_dim=in_features,
        finite=not torch.compiler.is_compiling(),
        hint=f"Expected time-first [T, B, {in_features}].",
    )
    if x.shape[0] == 0:
        raise ValueError("x must have at least one time step, got T = 0.")
    if x.dtype != dtype:
        raise TypeError(
            f"x has dtype {x.dtype} but the weights are {dtype}; convert one of them, e.g. "
            f"x.to({dtype}) or module.to({x.dtype})."
        )


def delayed_linear(
    x: Tensor,
    weight: Tensor,
    delay: Tensor,
    sigma: float | Tensor,
    max_delay: int,
    *,
    bias: Tensor | None = None,
    mode: str = "gaussian",
) -> Tensor:
    r"""Delayed dense synapses as one causal ``conv1d`` over time (see the module docstring).

    :math:`y_t^{o} = b_o + \sum_i w_{oi} \sum_{k=0}^{D} K(k; \bar d_{oi}, \sigma)\, x_{t-k}^{i}`
    with :math:`\bar d = \mathrm{clamp}(d, 0, D)`. With ``mode="rounded"`` the taps are
    one-hot at :math:`\mathrm{round}(\bar d)` (round half to even), so the output is an exact
    integer shift of the input per synapse and no gradient reaches ``delay``. "Exact" up to the
    convolution backend's arithmetic: the zero taps add exact zeros, but on CUDA float32
    convolutions may run in TF32 (``torch.backends.cudnn.allow_tf32``); turn that off, or use
    :class:`Delay` (a pure copy), when bit-exactness matters.

    Reference: Hammouamri, Khalfaoui-Hassani & Masquelier 2024 (ICLR).

    Args:
        x: ``[T, B, in]`` input, finite, ``T >= 1``.
        weight: ``[out, in]`` weights.
        delay: ``[out, in]`` delays in steps (clamped into ``[0, max_delay]`` here).
        sigma: Gaussian width in steps, > 0 (ignored by ``mode="rounded"``).
        max_delay: longest delay ``D`` in steps, >= 0.
        bias: optional ``[out]``.
        mode: ``"gaussian"`` or ``"rounded"``.

    Returns:
        ``[T, B, out]``.

    Example:
        >>> x = torch.zeros(6, 1, 1); x[0] = 1.0                 # one spike at t = 0
        >>> w, d = torch.ones(1, 1), torch.full((1, 1), 2.2)
        >>> delayed_linear(x, w, d, 1.0, 4, mode="rounded")[:, 0, 0].tolist()
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    """
    check_choice("mode", mode, MODES)
    max_delay, sigma = _check_delayed_linear_args(x, weight, delay, sigma, max_delay, bias)
    return _delayed_linear_unchecked(x, weight, delay, sigma, max_delay, bias, mode)


def delayed_linear_reference(
    x: Tensor, weight: Tensor, delay: Tensor, sigma: float, max_delay: int
) -> Tensor:
    """Readable loop over synapses, taps and steps; the specification of :func:`delayed_linear`.

    Slow (``O(T * out * in * D)`` Python iterations): for tests on small sizes only. Same
    semantics as the fast path in ``mode="gaussian"`` without bias: delays are clamped into
    ``[0, max_delay]`` and the taps are ``exp(-(k - d)^2 / 2 sigma^2)`` divided by their sum.

    Args:
        x: ``[T, B, in]``; weight, delay: ``[out, in]``; sigma, max_delay: in steps.

    Returns:
        ``[T, B, out]``, differentiable in ``x``, ``weight`` and ``delay``.
    """
    max_delay, sigma = _check_delayed_linear_args(x, weight, delay, sigma, max_delay, None)
    num_steps, batch, _ = x.shape
    out_features, in_features = weight.shape
    taps = {}  # (o, i) -> [K(0), ..., K(D)], each a 0-d tensor
    for o in range(out_features):
        for i in range(in_features):
            d = delay[o, i].clamp(0.0, float(max_delay))
            g = [torch.exp(-((k - d) ** 2) / (2.0 * sigma**2)) for k in range(max_delay + 1)]
            total = sum(g)
            taps[o, i] = [g_k / total for g_k in g]
    rows = []
    for t in range(num_steps):
        outputs = []
        for o in range(out_features):
            acc = x.new_zeros(batch)
            for i in range(in_features):
                for k in range(min(t, max_delay) + 1):  # x[t - k] = 0 before t = 0 (causal)
                    acc = acc + weight[o, i] * taps[o, i][k] * x[t - k, :, i]
            outputs.append(acc)
        rows.append(torch.stack(outputs, dim=-1))  # [B, out]
    return torch.stack(rows, dim=0)  # [T, B, out]


def anneal_sigma(epoch: int, num_epochs: int, sigma_start: float, sigma_end: float) -> float:
    r"""Geometric annealing of the kernel width, as in Hammouamri et al. 2024.

    :math:`\sigma(e) = \sigma_0\, (\sigma_1 / \sigma_0)^{\min(e / E,\, 1)}`: equal *factors*
    per epoch from ``sigma_start`` at ``epoch = 0`` to ``sigma_end`` at ``epoch = num_epochs``,
    constant afterwards. The paper starts at about ``max_delay / 3`` steps, anneals over the
    first half of training (pass ``num_epochs`` = that horizon, not the whole run) and ends at
    ``0.23`` steps, where the Gaussian already puts ~97 % of its mass on the nearest tap; the
    delays are then rounded (:meth:`DelayedLinear.round_delays`). Widths are in steps.

    Args:
        epoch: current epoch, >= 0.
        num_epochs: annealing horizon ``E`` in epochs, >= 1.
        sigma_start, sigma_end: widths in steps, > 0 (``sigma_end > sigma_start`` widens).

    Example:
        >>> round(anneal_sigma(1, 2, 4.0, 1.0), 6), anneal_sigma(5, 2, 4.0, 1.0)
        (2.0, 1.0)
    """
    epoch = check_int("epoch", epoch, minimum=0)
    num_epochs = check_int("num_epochs", num_epochs, minimum=1)
    hint = "sigma is a kernel width in steps."
    sigma_start = check_float("sigma_start", sigma_start, minimum=0.0, open_min=True, hint=hint)
    sigma_end = check_float("sigma_end", sigma_end, minimum=0.0, open_min=True, hint=hint)
    if epoch >= num_epochs:
        return sigma_end
    return sigma_start * (sigma_end / sigma_start) ** (epoch / num_epochs)


# --------------------------------------------------------------------------------------------
# Learnable delayed synapses
# --------------------------------------------------------------------------------------------
class DelayedLinear(nn.Module):
    r"""Dense synapses, each with a learnable weight and a learnable real-valued delay.

    Computes :func:`delayed_linear` (maths there and in the module docstring). Parameters:
    ``weight`` ``[out, in]``, drawn from ``U(-1/sqrt(in), 1/sqrt(in))`` as for
    :class:`torch.nn.Linear` (the taps sum to 1, so the scale matches a linear layer);
    ``delay`` ``[out, in]`` in steps, drawn from ``U(0, max_delay)``; optional ``bias``.
    Buffer ``sigma`` (0-d, steps) is set by the caller, typically once per epoch:
    ``layer.set_sigma(anneal_sigma(epoch, E, sigma_start, sigma_end))``.

    Range of the delays: the forward pass uses ``clamp(delay, 0, max_delay)``, so the
    effective delay is always in range whatever the parameter holds. The clamp passes
    gradient inside the range and on its bounds but not beyond, so call
    :meth:`clamp_delays_` after every optimiser step (projected gradient descent): the
    parameter then never leaves the range and keeps receiving gradient.

    Training ends with :meth:`round_delays`: the parameter is rounded in place and the layer
    switches to ``mode="rounded"`` (one-hot taps, exact integer shifts, no gradient to the
    delays). The mode is saved in the ``state_dict`` (extra state).

    Reference: Hammouamri, Khalfaoui-Hassani & Masquelier 2024 (ICLR);
    Khalfaoui-Hassani et al. 2023 (DCLS).

    Args:
        in_features, out_features: sizes of the input and output.
        max_delay: longest delay ``D`` in steps (kernel of ``D + 1`` taps), >= 0.
        bias: add a learnable ``[out]`` bias (not delayed).
        sigma_init: initial width in steps, > 0; default ``max(max_delay / 3, 0.5)`` (the
            paper's starting width, floored so that short kernels still spread).
        mode: ``"gaussian"`` (training) or ``"rounded"``.
        generator: draws the initial weights and delays (``None``: torch's default generator).

    Shapes: ``x`` ``[T, B, in]`` -> ``[T, B, out]``.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = DelayedLinear(3, 2, max_delay=8, generator=g)
        >>> layer.set_sigma(anneal_sigma(0, 10, 8 / 3, 0.23))
        >>> layer(torch.rand(30, 4, 3, generator=g)).shape
        torch.Size([30, 4, 2])
        >>> layer.round_delays().integer_delays().dtype
        torch.int64
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        max_delay: int,
        bias: bool = False,
        sigma_init: float | None = None,
        mode: str = "gaussian",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        self.max_delay = check_int(
            "max_delay", max_delay, minimum=0, hint="max_delay is the longest delay in steps."
        )
        self.mode = str(check_choice("mode", mode, MODES))
        if sigma_init is None:
            sigma_init = max(self.max_delay / 3.0, 0.5)
        sigma_init = check_float(
            "sigma_init", sigma_init, minimum=0.0, open_min=True, hint="sigma is in steps."
        )
        bound = 1.0 / math.sqrt(self.in_features)
        shape = (self.out_features, self.in_features)
        self.weight = nn.Parameter(torch.empty(shape).uniform_(-bound, bound, generator=generator))
        self.delay = nn.Parameter(
            torch.empty(shape).uniform_(0.0, float(self.max_delay), generator=generator)
        )
        if bias:
            b = torch.empty(self.out_features).uniform_(-bound, bound, generator=generator)
            self.bias: nn.Parameter | None = nn.Parameter(b)
        else:
            self.register_parameter("bias", None)
        self.register_buffer("sigma", torch.tensor(sigma_init))

    # -- schedule and mode ----------------------------------------------------------------
    def set_sigma(self, value: float) -> None:
        """Set the Gaussian width (steps, > 0) used by the next forward passes."""
        value = check_float(
            "sigma", value, minimum=0.0, open_min=True, hint="Use anneal_sigma for a schedule."
        )
        self.sigma.fill_(value)

    def set_mode(self, mode: str) -> DelayedLinear:
        """Switch between ``"gaussian"`` and ``"rounded"`` taps without touching parameters."""
        self.mode = str(check_choice("mode", mode, MODES))
        return self

    @torch.no_grad()
    def clamp_delays_(self) -> DelayedLinear:
        """Project the ``delay`` parameter into ``[0, max_delay]`` in place (after each step)."""
        self.delay.clamp_(0.0, float(self.max_delay))
        return self

    @torch.no_grad()
    def round_delays(self) -> DelayedLinear:
        """Clamp and round the delays in place (half to even) and switch to ``mode="rounded"``."""
        self.clamp_delays_()
        self.delay.round_()
        return self.set_mode("rounded")

    def integer_delays(self) -> Tensor:
        """``[out, in]`` LongTensor ``round(clamp(delay, 0, max_delay))``: the inference delays."""
        with torch.no_grad():
            return _effective_delay(self.delay, self.max_delay).round().long()

    def kernel(self) -> Tensor:
        """``[out, in, max_delay + 1]`` kernel ``w[o, i] * K[o, i, k]`` (tap k: k steps)."""
        return _synapse_kernel(self.weight, self.delay, self.sigma, self.max_delay, self.mode)

    # -- forward --------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        """``[T, B, in]`` -> ``[T, B, out]`` (see :func:`delayed_linear`)."""
        _check_sequence(x, self.in_features, self.weight.dtype)
        return _delayed_linear_unchecked(
            x, self.weight, self.delay, self.sigma, self.max_delay, self.bias, self.mode
        )

    def get_extra_state(self) -> dict[str, Any]:
        return {"mode": self.mode}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.set_mode(state["mode"])

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"max_delay={self.max_delay}, bias={self.bias is not None}, "
            f"sigma={float(self.sigma):.4g}, mode={self.mode!r}"
        )


# --------------------------------------------------------------------------------------------
# Fixed integer delays
# --------------------------------------------------------------------------------------------
def delay_shift(x: Tensor, delays: Tensor) -> Tensor:
    r"""Shift each feature along time by its own integer delay, zero-filled: exact.

    :math:`y_t^{f} = x_{t - d_f}^{f}` for :math:`t \ge d_f`, else 0 (:math:`d_f` in steps).
    Only copies values, so the result is bit-exact; gradients flow back to ``x``.

    Args:
        x: ``[T, *, F]`` time-first input.
        delays: ``[F]`` non-negative integer delays in steps (integer dtype).

    Returns:
        ``[T, *, F]``, same dtype as ``x``.

    Example:
        >>> x = torch.arange(1.0, 5.0)[:, None, None].expand(4, 1, 2)     # [4, 1, 2]
        >>> delay_shift(x, torch.tensor([0, 2]))[:, 0].tolist()
        [[1.0, 0.0], [2.0, 0.0], [3.0, 1.0], [4.0, 2.0]]
    """
    check_tensor("x", x, min_ndim=2, hint="Expected time-first [T, *, F].")
    check_tensor("delays", delays, kind="integer", ndim=1, hint="Expected [F] integer steps.")
    if delays.shape[0] != x.shape[-1]:
        raise ValueError(
            f"delays must have one entry per feature of x ({x.shape[-1]}), got {delays.shape[0]}."
        )
    if delays.numel() and int(delays.min()) < 0:
        raise ValueError(f"delays must be >= 0 steps, got minimum {int(delays.min())}.")
    return _delay_shift_unchecked(x, delays)


def _delay_shift_unchecked(x: Tensor, delays: Tensor) -> Tensor:
    # y[t, ..., f] = x[t - d_f, ..., f] where t >= d_f, else 0: a gather and a select, both exact
    # and free of host syncs (no data-dependent padding), so torch.compile sees one graph
    num_steps = x.shape[0]
    t = torch.arange(num_steps, device=x.device)
    source = t[:, None] - delays.to(x.device)[None, :]  # [T, F] step read by each output step
    view = (num_steps, *([1] * (x.ndim - 2)), x.shape[-1])
    arrived = (source >= 0).view(view)
    index = source.clamp(min=0).view(view).expand_as(x)
    return torch.where(arrived, torch.gather(x, 0, index), x.new_zeros(()))


class Delay(nn.Module):
    r"""Fixed integer delay per feature, :math:`y_t^{f} = x_{t-d_f}^{f}` (zero before :math:`d_f`).

    Thin module over :func:`delay_shift`; ``delays`` (steps) is a LongTensor buffer. Exact, no
    parameters: the form in which delays are exported (e.g. to NIR), one delay per feature.

    Args:
        num_features: number of features ``F`` (last dimension of the input).
        delays: one non-negative integer for all features, or ``F`` of them (sequence or
            integer tensor), in steps.

    Shapes: ``x`` ``[T, *, F]`` -> ``[T, *, F]``.

    Example:
        >>> z = torch.zeros(5, 1, 2); z[0] = 1.0
        >>> Delay(2, [1, 3])(z)[:, 0].tolist()
        [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """

    def __init__(self, num_features: int, delays: int | Sequence[int] | Tensor) -> None:
        super().__init__()
        self.num_features = check_int("num_features", num_features, minimum=1)
        if isinstance(delays, Tensor):
            check_tensor("delays", delays, kind="integer", hint="Delays are integer steps.")
            if delays.ndim > 1:
                raise ValueError(f"delays must be 0-d or [F], got shape {tuple(delays.shape)}.")
            values = delays.detach().reshape(-1).long()
            if delays.ndim == 0:
                values = values.expand(self.num_features)
        elif isinstance(delays, Sequence) and not isinstance(delays, str):
            values = torch.tensor(
                [check_int(f"delays[{i}]", d, minimum=0) for i, d in enumerate(delays)],
                dtype=torch.long,
            )
        else:
            d = check_int("delays", delays, minimum=0, hint="Pass an int or one int per feature.")
            values = torch.full((self.num_features,), d, dtype=torch.long)
        if values.shape[0] != self.num_features:
            raise ValueError(
                f"delays must give one delay per feature ({self.num_features}) or a single "
                f"int, got {values.shape[0]}."
            )
        if values.numel() and int(values.min()) < 0:
            raise ValueError(f"delays must be >= 0 steps, got minimum {int(values.min())}.")
        self.register_buffer("delays", values.clone())

    def forward(self, x: Tensor) -> Tensor:
        """``[T, *, F]`` -> ``[T, *, F]`` (see :func:`delay_shift`)."""
        check_tensor(
            "x",
            x,
            min_ndim=2,
            last_dim=self.num_features,
            hint=f"Expected time-first [T, *, {self.num_features}].",
        )
        return _delay_shift_unchecked(x, self.delays)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, delays={self.delays.tolist()}"


# Layer contract suite (tests/contracts): every registered layer gets the same checks.
LAYERS.add(
    "spiking.DelayedLinear",
    LayerSpec(
        build=lambda: DelayedLinear(6, 4, max_delay=5, generator=torch.Generator().manual_seed(0)),
        example_input=lambda g: (torch.rand(20, 3, 6, generator=g) < 0.3).float(),
        keeps_shape=False,
    ),
)
LAYERS.add(
    "spiking.Delay",
    LayerSpec(
        build=lambda: Delay(6, [0, 1, 2, 3, 0, 5]),
        example_input=lambda g: torch.rand(20, 3, 6, generator=g),
    ),
)

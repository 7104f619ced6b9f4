r"""Spike encoders (values -> spike trains) and readouts (spike trains -> logits and losses).

Every spike train is time-first: ``[T, *S]`` for data of shape ``S`` (usually ``[T, B, ...]``),
with spikes as 0/1 in the input's floating dtype. Encoders never clip out-of-range input: a
value that the code cannot represent raises, naming the argument. Stochastic encoders draw only
from the ``generator`` they are given (never the global RNG), so equal seeds give equal spikes.

Encoders (``T`` steps of width ``dt`` seconds):

- :func:`rate_encode` -- Bernoulli rate code, ``P(z[t] = 1) = gain * x`` independently per step.
- :func:`poisson_encode` -- the Bernoulli approximation of a Poisson process of rate
  ``r = x * max_rate_hz`` (Hz): ``P(z[t] = 1) = r * dt``.
- :func:`latency_encode` -- time to first spike: one spike per element, earlier for larger
  values (an RC membrane charged by ``x`` crossing ``threshold``, or a linear map).
- :func:`delta_encode` -- ON/OFF change detection on a sequence, as an event camera does.

Readouts on output spikes ``z`` ``[T, B, C]`` (``C`` classes) or membranes ``v``:
:func:`spike_count`, :func:`max_membrane`, :func:`rate_cross_entropy`, :func:`mse_count_loss`.

References: Eshraghian JK et al. (2023) Training spiking neural networks using lessons from
deep learning. Proc. IEEE 111(9):1016-1054 (the rate, latency and delta codes and the count
losses of snnTorch ``spikegen`` / ``functional``); Shrestha SB, Orchard G (2018) SLAYER, NeurIPS
(spike-count MSE); Lichtsteiner P, Posch C, Delbruck T (2008) A 128x128 120 dB 15 us latency
asynchronous temporal contrast vision sensor. IEEE JSSC 43(2):566-576 (delta / ON-OFF events).

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.tensor([[0.0, 0.5, 1.0]])             # [B=1, 3] intensities
    >>> z = rate_encode(x, 100, generator=g)           # [100, 1, 3]
    >>> spike_count(z)[0, 0].item(), spike_count(z)[0, 2].item()
    (0.0, 100.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dendrix._validation import check_float, check_int, check_tensor

__all__ = [
    "delta_encode",
    "latency_encode",
    "max_membrane",
    "mse_count_loss",
    "poisson_encode",
    "rate_cross_entropy",
    "rate_encode",
    "spike_count",
]

#: Tolerance (in steps) when flooring a spike time to its step, so that a time that is an
#: exact multiple of ``dt`` is not pushed into the previous step by round-off.
_STEP_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be a torch.Generator (the global RNG is never used), got "
            f"{type(generator).__name__}. Pass e.g. generator=torch.Generator().manual_seed(0)."
        )
    return generator


def _check_unit_interval(name: str, x: torch.Tensor, hint: str) -> None:
    """Raise unless every element of ``x`` lies in [0, 1] (nothing is clipped)."""
    if x.numel() == 0:
        return
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{lo:g}, {hi:g}]. {hint}")


def _bernoulli(p: torch.Tensor, num_steps: int, generator: torch.Generator) -> torch.Tensor:
    """``[T, *p.shape]`` spikes with ``P(z[t] = 1) = p``, drawn on the generator's device."""
    u = torch.rand((num_steps, *p.shape), generator=generator, device=generator.device)
    return (u.to(p.device) < p.detach()).to(p.dtype)


# --------------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------------
def rate_encode(
    x: torch.Tensor,
    num_steps: int,
    *,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Bernoulli rate code: ``z[t] ~ Bernoulli(gain * x)`` independently for ``t = 0..T-1``.

    ``E[sum_t z[t]] = T * gain * x`` (dimensionless probability per step). The spike
    probability ``gain * x`` must lie in [0, 1]; values outside raise instead of being clipped.

    Reference: Eshraghian et al. 2023 (snnTorch ``spikegen.rate``).

    Args:
        x: ``[*S]`` floating tensor, finite.
        num_steps: number of time steps ``T >= 1``.
        gain: factor applied to ``x`` before it is used as a probability.
        generator: the :class:`torch.Generator` to draw from (required; its device is used
            for the draw, the result is on ``x``'s device).

    Returns:
        ``[T, *S]`` spikes (0/1) in ``x``'s dtype; no gradient flows to ``x``.

    Example:
        >>> g = torch.Generator().manual_seed(1)
        >>> rate_encode(torch.tensor([0.0, 1.0]), 3, generator=g).tolist()
        [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    """
    x = check_tensor("x", x, kind="floating", finite=True)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    gain = check_float("gain", gain)
    generator = _check_generator(generator)
    p = x * gain
    _check_unit_interval(
        "x * gain",
        p,
        f"x is used as a spike probability (gain={gain:g}); rate_encode never clips. "
        "Normalise x (e.g. x / x.max()) or lower gain.",
    )
    return _bernoulli(p, num_steps, generator)


def poisson_encode(
    x: torch.Tensor,
    num_steps: int,
    *,
    dt: float,
    max_rate_hz: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Poisson rate code: ``r = x * max_rate_hz``, ``P(z[t] = 1) = r * dt`` per step.

    This is the Bernoulli (one spike per bin at most) approximation of a Poisson process of
    rate ``r`` [Hz] sampled in bins of ``dt`` [s]; it is exact in the limit ``r * dt << 1`` (a
    true Poisson bin has ``P(>= 1 spike) = 1 - exp(-r dt)``). ``x`` is a normalised intensity
    in [0, 1] and ``max_rate_hz * dt`` must not exceed 1, so every probability is valid.

    Reference: Heeger D (2000) Poisson model of spike generation (lecture notes, NYU); Norse
    ``poisson_encode`` and snnTorch ``spikegen.rate`` use the same approximation.

    Args:
        x: ``[*S]`` floating tensor of intensities in [0, 1].
        num_steps: number of time steps ``T >= 1``.
        dt: step width in seconds, ``> 0``.
        max_rate_hz: firing rate in Hz for ``x = 1``, ``>= 0``.
        generator: the :class:`torch.Generator` to draw from (required).

    Returns:
        ``[T, *S]`` spikes (0/1) in ``x``'s dtype.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> z = poisson_encode(torch.full((1000,), 0.5), 100, dt=1e-3, max_rate_hz=100.0,
        ...                    generator=g)
        >>> abs(z.mean().item() / 1e-3 - 50.0) < 3.0  # mean rate ~ 0.5 * 100 Hz
        True
    """
    x = check_tensor("x", x, kind="floating", finite=True)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="dt is the step in seconds.")
    max_rate_hz = check_float("max_rate_hz", max_rate_hz, minimum=0.0)
    generator = _check_generator(generator)
    if max_rate_hz * dt > 1.0:
        raise ValueError(
            f"max_rate_hz * dt = {max_rate_hz:g} Hz * {dt:g} s = {max_rate_hz * dt:g} exceeds 1, "
            "so a step would need more than one spike. Lower max_rate_hz or use a smaller dt "
            f"(dt <= {1.0 / max_rate_hz:g} s)."
        )
    _check_unit_interval(
        "x",
        x,
        "poisson_encode takes intensities in [0, 1] (rate = x * max_rate_hz) and never "
        "clips; normalise x first.",
    )
    return _bernoulli(x * (max_rate_hz * dt), num_steps, generator)


def latency_encode(
    x: torch.Tensor,
    num_steps: int,
    *,
    dt: float,
    tau: float | None = None,
    threshold: float = 0.01,
    linear: bool = False,
    normalise: bool = False,
) -> torch.Tensor:
    r"""Time-to-first-spike code: each element spikes once, at ``t*(x)``, earlier when larger.

    For ``x > threshold`` (``theta``)::

        log (RC) code:  t*(x) = tau * ln(x / (x - theta))
        linear code:    t*(x) = tau * (1 - x)

    and the spike lands in step ``k = floor(t* / dt)`` (float64, with a 1e-9 step tolerance
    so exact multiples of ``dt`` are not split by round-off). The log code is the time at which
    an RC membrane ``tau dV/dt = -V + x`` starting at 0 reaches ``theta``; both codes are
    strictly decreasing in ``x``. Elements with ``x <= theta`` never spike, and an element whose
    ``t* >= T * dt`` does not spike within the ``T`` steps either (its first spike would come
    after the window). With ``normalise=True`` (linear code only) ``tau = (T - 1) dt / (1 -
    theta)``, so ``x = 1`` spikes at step 0 and every ``x > theta`` spikes inside the window.
    Symbols: ``x`` normalised intensity in [0, 1]; ``tau``, ``dt``, ``t*`` in seconds;
    ``theta`` dimensionless.

    Reference: Eshraghian et al. 2023, Sec. on latency coding (snnTorch ``spikegen.latency``);
    Gautrais J, Thorpe S (1998) Rate coding versus temporal order coding. Biosystems 48:57-65.

    Args:
        x: ``[*S]`` floating tensor of intensities in [0, 1].
        num_steps: number of time steps ``T >= 1``.
        dt: step width in seconds, ``> 0``.
        tau: time constant in seconds, ``> 0`` (required unless ``normalise``).
        threshold: ``theta`` in [0, 1); values at or below it never spike.
        linear: use the linear code instead of the log (RC) code.
        normalise: pick ``tau`` so the linear code spans the window (requires ``linear=True``
            and ``tau=None``).

    Returns:
        ``[T, *S]`` spikes (0/1) in ``x``'s dtype, at most one per element.

    Example:
        >>> x = torch.tensor([1.0, 0.5, 0.25, 0.0])
        >>> z = latency_encode(x, 4, dt=1.0, linear=True, normalise=True, threshold=0.0)
        >>> z.argmax(dim=0).tolist(), z.sum(dim=0).tolist()  # steps floor(3 * (1 - x))
        ([0, 1, 2, 0], [1.0, 1.0, 1.0, 0.0])
    """
    x = check_tensor("x", x, kind="floating", finite=True)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="dt is the step in seconds.")
    threshold = check_float("threshold", threshold, minimum=0.0, maximum=1.0)
    if threshold >= 1.0:
        raise ValueError("threshold must be in [0, 1), got 1.0; no intensity could exceed it.")
    for name, flag in (("linear", linear), ("normalise", normalise)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}.")
    if normalise:
        if not linear:
            raise ValueError(
                "normalise=True needs linear=True: the log code's spike time diverges as x "
                "approaches threshold, so no tau fits every value into the window. Pass tau."
            )
        if tau is not None:
            raise ValueError(
                f"normalise=True chooses tau itself; got tau={tau!r}. Pass tau=None or "
                "normalise=False."
            )
        tau = (num_steps - 1) * dt / (1.0 - threshold)
    elif tau is None:
        raise TypeError("tau (seconds) is required unless linear=True and normalise=True.")
    else:
        tau = check_float("tau", tau, minimum=0.0, open_min=True, hint="tau is in seconds.")
    _check_unit_interval(
        "x", x, "latency_encode takes intensities in [0, 1] and never clips; normalise x first."
    )
    xd = x.detach().to(torch.float64)
    fires = xd > threshold
    safe = torch.where(fires, xd, torch.ones_like(xd))  # keeps log / division finite
    if linear:
        t_star = tau * (1.0 - safe)
    else:
        t_star = tau * torch.log(safe / (safe - threshold))
    step = torch.floor(t_star / dt + _STEP_EPS)
    fires &= step < num_steps
    step = torch.where(fires, step, torch.zeros_like(step)).long()
    out = torch.zeros((num_steps, *x.shape), dtype=x.dtype, device=x.device)
    return out.scatter_(0, step.unsqueeze(0), fires.unsqueeze(0).to(x.dtype))


def delta_encode(
    x_seq: torch.Tensor,
    threshold: float,
    *,
    off_spikes: bool = False,
    initial: torch.Tensor | float | None = None,
) -> torch.Tensor:
    r"""Delta (change) code of a sequence: spike when ``x`` moves more than ``threshold`` away
    from the value at the last event.

    With reference ``r`` (``r_0`` = ``initial``, or ``x[0]`` when ``initial`` is None) and
    ``d_t = x[t] - r``::

        on[t]  = 1  if d_t >  threshold
        off[t] = 1  if d_t < -threshold
        r <- x[t]   whenever on[t] or off[t]

    The reference moves on every event, ON or OFF, even when OFF spikes are not returned (as in
    an event camera, whose pixel resets after each event). With ``initial=None`` step 0 only
    sets the reference and never spikes.

    Reference: Lichtsteiner, Posch & Delbruck 2008 (ON/OFF temporal-contrast events);
    snnTorch ``spikegen.delta`` (which instead compares consecutive samples).

    Args:
        x_seq: ``[T, *S]`` floating sequence, finite, time first.
        threshold: change (in units of ``x``) that must be exceeded, ``>= 0``.
        off_spikes: also return OFF spikes.
        initial: reference before step 0, broadcastable to ``[*S]``; ``None`` uses ``x[0]``.

    Returns:
        ``[T, *S]`` ON spikes, or ``[T, *S, 2]`` with ``off_spikes`` (index 0 OFF, 1 ON, as
        the polarity of :mod:`dendrix.data.events`), 0/1 in ``x_seq``'s dtype.

    Example:
        >>> x = torch.tensor([0.0, 0.3, 0.6, 0.2, 0.9])
        >>> delta_encode(x, 0.5).tolist()  # ON at t=2 (0.6 - 0 > 0.5), then r = 0.6
        [0.0, 0.0, 1.0, 0.0, 0.0]
    """
    x_seq = check_tensor("x_seq", x_seq, kind="floating", min_ndim=1, finite=True)
    if x_seq.shape[0] == 0:
        raise ValueError("x_seq must have at least one time step (dimension 0 is time).")
    threshold = check_float("threshold", threshold, minimum=0.0)
    if not isinstance(off_spikes, bool):
        raise TypeError(f"off_spikes must be True or False, got {off_spikes!r}.")
    x = x_seq.detach()
    if initial is None:
        ref = x[0].clone()
    else:
        if isinstance(initial, torch.Tensor):
            init = check_tensor("initial", initial, finite=True).to(x.dtype)
        else:
            init = torch.tensor(check_float("initial", initial), dtype=x.dtype)
        try:
            ref = torch.broadcast_to(init.to(x.device), x.shape[1:]).clone()
        except RuntimeError:
            raise ValueError(
                f"initial of shape {tuple(init.shape)} does not broadcast to one step of x_seq, "
                f"{tuple(x.shape[1:])}."
            ) from None
    on = torch.zeros_like(x)
    off = torch.zeros_like(x)
    for t in range(x.shape[0]):
        d = x[t] - ref
        up, down = d > threshold, d < -threshold
        on[t], off[t] = up.to(x.dtype), down.to(x.dtype)
        ref = torch.where(up | down, x[t], ref)
    return torch.stack((off, on), dim=-1) if off_spikes else on


# --------------------------------------------------------------------------------------------
# Readouts
# --------------------------------------------------------------------------------------------
def spike_count(z: torch.Tensor) -> torch.Tensor:
    r"""Spikes per neuron over the window: ``n = sum_t z[t]``.

    Args:
        z: ``[T, *S]`` spikes (e.g. ``[T, B, C]``); floating, integer or bool.

    Returns:
        ``[*S]`` counts (``[B, C]``): ``z``'s dtype when floating (differentiable), int64
        otherwise.

    Example:
        >>> spike_count(torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]])).tolist()
        [[2.0, 1.0]]
    """
    z = check_tensor("z", z, min_ndim=1, hint="Spikes are time first, [T, B, ...].")
    return z.sum(dim=0)


def max_membrane(v: torch.Tensor) -> torch.Tensor:
    r"""Peak membrane potential over the window: ``m = max_t v[t]`` (units of ``v``).

    Used as logits by non-spiking output layers (Zenke F, Vogels TP (2021) The remarkable
    robustness of surrogate gradient learning. Neural Comput. 33(4):899-925).

    Args:
        v: ``[T, *S]`` floating membranes (e.g. ``[T, B, C]``).

    Returns:
        ``[*S]``; the gradient is shared equally between tied maxima.

    Example:
        >>> max_membrane(torch.tensor([[[0.25, -1.0]], [[0.125, 0.5]]])).tolist()
        [[0.25, 0.5]]
    """
    v = check_tensor("v", v, kind="floating", min_ndim=1, hint="Membranes are time first.")
    if v.shape[0] == 0:
        raise ValueError("v must have at least one time step (dimension 0 is time).")
    return v.amax(dim=0)


def _check_targets(z: torch.Tensor, target: object) -> torch.Tensor:
    target = check_tensor("target", target, kind="integer", ndim=1)
    t, b, c = z.shape
    if t == 0 or c == 0:
        raise ValueError(
            f"z must have at least one time step and one output, got shape {tuple(z.shape)} "
            "([T, B, C])."
        )
    if target.shape[0] != b:
        raise ValueError(
            f"target must hold one class per sample, shape [{b}], got {tuple(target.shape)}."
        )
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= c):
        raise ValueError(
            f"target must hold class indices in [0, {c}) (z has C={c} outputs), got values in "
            f"[{int(target.min())}, {int(target.max())}]."
        )
    return target


def rate_cross_entropy(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Cross-entropy with spike counts as logits: ``L = mean_b [-log softmax(n_b)[y_b]]``,
    ``n = sum_t z[t]``.

    Reference: snnTorch ``functional.ce_count_loss`` (Eshraghian et al. 2023).

    Args:
        z: ``[T, B, C]`` floating output spikes.
        target: ``[B]`` integer classes in ``[0, C)``.

    Returns:
        Scalar loss (mean over the batch).

    Example:
        >>> z = torch.zeros(4, 1, 2); z[:, 0, 1] = 1.0  # class 1 spikes 4 times
        >>> round(rate_cross_entropy(z, torch.tensor([1])).item(), 4)  # log(1 + e^-4)
        0.0181
    """
    z = check_tensor("z", z, kind="floating", ndim=3, hint="Output spikes are [T, B, C].")
    target = _check_targets(z, target)
    return F.cross_entropy(spike_count(z), target)


def mse_count_loss(
    z: torch.Tensor,
    target: torch.Tensor,
    correct_rate: float = 1.0,
    incorrect_rate: float = 0.0,
) -> torch.Tensor:
    r"""Spike-count mean squared error, as snnTorch's ``functional.mse_count_loss``.

    ``L = mean_{b,c} (n_{bc} - n*_{bc})^2 / T`` with ``n = sum_t z[t]`` and target counts
    ``n*_{bc} = int(T * correct_rate)`` for ``c = y_b``, ``int(T * incorrect_rate)`` otherwise
    (``int`` truncates, exactly as snnTorch). Rates are fractions of steps, in [0, 1].

    Reference: Shrestha & Orchard 2018 (SLAYER); snnTorch ``functional.mse_count_loss``.

    Args:
        z: ``[T, B, C]`` floating output spikes.
        target: ``[B]`` integer classes in ``[0, C)``.
        correct_rate: desired firing fraction of the target class.
        incorrect_rate: desired firing fraction of the other classes.

    Returns:
        Scalar loss.

    Example:
        >>> z = torch.zeros(4, 1, 2); z[:2, 0, 0] = 1.0  # counts [2, 0], targets [4, 0]
        >>> mse_count_loss(z, torch.tensor([0])).item()  # ((2-4)^2 + 0^2) / 2 / 4
        0.5
    """
    z = check_tensor("z", z, kind="floating", ndim=3, hint="Output spikes are [T, B, C].")
    target = _check_targets(z, target)
    correct_rate = check_float("correct_rate", correct_rate, minimum=0.0, maximum=1.0)
    incorrect_rate = check_float("incorrect_rate", incorrect_rate, minimum=0.0, maximum=1.0)
    num_steps = z.shape[0]
    on, off = int(num_steps * correct_rate), int(num_steps * incorrect_rate)
    wanted = torch.full(z.shape[1:], float(off), dtype=z.dtype, device=z.device)
    wanted.scatter_(1, target.to(z.device).unsqueeze(1), float(on))
    return F.mse_loss(spike_count(z), wanted) / num_steps

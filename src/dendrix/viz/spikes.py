"""Plots of spike trains and membrane potentials: raster, membrane traces, firing-rate histogram.

Every function takes time-first tensors (``[T, N]``, or ``[T, B, N]`` with a ``batch_index``)
and returns a :class:`matplotlib.figure.Figure` built without pyplot, so it works headless (the
Agg canvas) and never opens a window. Pass ``ax`` to draw into an existing axes instead; the
axes' figure is returned. Times are step indices, or seconds when ``dt`` (seconds per step) is
given.

Example:
    >>> z = torch.zeros(5, 3); z[1, 0] = z[3, 2] = 1.0
    >>> fig = raster_plot(z, dt=1e-3)
    >>> fig.axes[0].collections[0].get_offsets().tolist()  # (time s, neuron)
    [[0.001, 0.0], [0.003, 2.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dendrix._validation import check_float, check_int, check_tensor

__all__ = ["membrane_plot", "raster_plot", "rate_histogram"]


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")
    return ax.figure, ax


def _time_unit(dt: float | None) -> tuple[float, str]:
    if dt is None:
        return 1.0, "time step"
    dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="dt is seconds per step.")
    return dt, "time (s)"


def _select_batch(name: str, x: object, batch_index: int | None, **checks) -> torch.Tensor:
    """``[T, N]`` from ``[T, N]`` or ``[T, B, N]`` (then ``batch_index`` picks the sample)."""
    x = check_tensor(name, x, **checks)
    if x.ndim == 2:
        if batch_index is not None:
            raise ValueError(
                f"batch_index={batch_index} was given but {name} has shape {tuple(x.shape)} "
                "([T, N], no batch dimension); leave batch_index=None."
            )
        return x.detach().cpu()
    if x.ndim == 3:
        if batch_index is None:
            raise ValueError(
                f"{name} has shape {tuple(x.shape)} ([T, B, N]); pass batch_index to choose "
                "the sample to plot, e.g. batch_index=0."
            )
        b = check_int("batch_index", batch_index, minimum=0, maximum=x.shape[1] - 1)
        return x[:, b].detach().cpu()
    raise ValueError(
        f"{name} must be [T, N] or [T, B, N] (time first), got shape {tuple(x.shape)}."
    )


def _check_spikes(name: str, z: torch.Tensor) -> torch.Tensor:
    """Return ``z`` as bool, refusing anything but 0/1 (or bool) values."""
    if z.dtype == torch.bool:
        return z
    if z.is_complex():
        raise TypeError(f"{name} must hold spikes (0/1 or bool), got dtype {z.dtype}.")
    bad = (z != 0) & (z != 1)
    if bool(bad.any()):
        raise ValueError(
            f"{name} must hold spikes, 0 or 1 only; found {int(bad.sum())} other value(s) "
            f"(e.g. {z[bad][0].item()!r}). Threshold or binarise it first (e.g. z > 0)."
        )
    return z != 0


def raster_plot(
    z: torch.Tensor,
    *,
    batch_index: int | None = None,
    dt: float | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Figure:
    """Raster: a dot at ``(t, n)`` for every spike ``z[t, n] = 1``.

    The dots are one scatter collection whose offsets are ``(t * dt, n)`` in time-major order
    (``t`` the step, ``n`` the neuron; ``dt = 1`` when not given).

    Args:
        z: ``[T, N]`` spikes, or ``[T, B, N]`` with ``batch_index``; bool or 0/1 numbers.
        batch_index: sample to plot from a batched ``z`` (required for ``[T, B, N]``).
        dt: seconds per step; ``None`` plots step indices.
        ax: axes to draw into; ``None`` makes a new figure.
        title: axes title.

    Returns:
        The figure.

    Example:
        >>> fig = raster_plot(torch.eye(4).bool())
        >>> fig.axes[0].collections[0].get_offsets().tolist()
        [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
    """
    spikes = _check_spikes("z", _select_batch("z", z, batch_index))
    scale, xlabel = _time_unit(dt)
    fig, ax = _figure_and_axes(ax, (8.0, 4.0))
    steps, neurons = np.nonzero(spikes.numpy())
    num_steps, num_neurons = spikes.shape
    ax.scatter(steps * scale, neurons.astype(float), s=6, marker="|", color="k", linewidths=1)
    ax.set(
        xlabel=xlabel,
        ylabel="neuron",
        title=title or f"{len(steps)} spikes",
        xlim=(-0.5 * scale, (num_steps - 0.5) * scale),
        ylim=(-0.5, num_neurons - 0.5),
    )
    return fig


def membrane_plot(
    v: torch.Tensor,
    *,
    neurons: Sequence[int] | None = None,
    threshold: float | None = None,
    batch_index: int | None = None,
    dt: float | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Figure:
    """Membrane potential traces ``v[:, n]`` of the chosen neurons, one line each.

    Args:
        v: ``[T, N]`` floating membranes, or ``[T, B, N]`` with ``batch_index``; finite.
        neurons: indices of the neurons to draw (default: all ``N``).
        threshold: firing threshold drawn as a dashed horizontal line (units of ``v``).
        batch_index: sample to plot from a batched ``v``.
        dt: seconds per step; ``None`` plots step indices.
        ax: axes to draw into; ``None`` makes a new figure.
        title: axes title.

    Returns:
        The figure; its first axes holds one line per neuron (in ``neurons`` order), then the
        threshold line if any.

    Example:
        >>> fig = membrane_plot(torch.tensor([[0.0, 0.5], [1.0, 0.25]]), threshold=0.75)
        >>> [[float(y) for y in line.get_ydata()] for line in fig.axes[0].lines]
        [[0.0, 1.0], [0.5, 0.25], [0.75, 0.75]]
    """
    trace = _select_batch("v", v, batch_index, kind="floating", finite=True)
    scale, xlabel = _time_unit(dt)
    num_steps, num_neurons = trace.shape
    if neurons is None:
        chosen = list(range(num_neurons))
    else:
        if isinstance(neurons, str | bytes) or not isinstance(neurons, Sequence):
            raise TypeError(f"neurons must be a sequence of indices, got {neurons!r}.")
        if len(neurons) == 0:
            raise ValueError("neurons is empty; pass at least one index (or None for all).")
        chosen = [
            check_int(f"neurons[{i}]", n, minimum=0, maximum=num_neurons - 1)
            for i, n in enumerate(neurons)
        ]
    fig, ax = _figure_and_axes(ax, (8.0, 4.0))
    time = np.arange(num_steps) * scale
    data = trace.numpy()
    for n in chosen:
        ax.plot(time, data[:, n], lw=1.0, label=f"neuron {n}")
    if threshold is not None:
        threshold = check_float("threshold", threshold)
        ax.axhline(threshold, color="k", lw=0.8, ls="--", label="threshold")
    ax.set(xlabel=xlabel, ylabel="membrane potential", title=title)
    if len(chosen) <= 10:
        ax.legend(loc="upper right", fontsize=8)
    return fig


def rate_histogram(
    z: torch.Tensor,
    dt: float,
    *,
    bins: int | Sequence[float] = 20,
    ax: Axes | None = None,
    title: str = "",
) -> Figure:
    """Histogram of firing rates ``r_n = (sum_t z[t, n]) / (T dt)`` [Hz] over neurons.

    For ``[T, B, N]`` every (sample, neuron) pair contributes one rate.

    Args:
        z: ``[T, N]`` or ``[T, B, N]`` spikes, bool or 0/1 numbers.
        dt: seconds per step, ``> 0``.
        bins: number of bins (``>= 1``) or increasing bin edges in Hz.
        ax: axes to draw into; ``None`` makes a new figure.
        title: axes title.

    Returns:
        The figure; its first axes holds one bar patch per bin.

    Example:
        >>> z = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # rates 1000 Hz and 500 Hz at dt=1 ms
        >>> fig = rate_histogram(z, 1e-3, bins=[0.0, 750.0, 1500.0])
        >>> [float(p.get_height()) for p in fig.axes[0].patches]
        [1.0, 1.0]
    """
    z = check_tensor("z", z, hint="Spikes are time first, [T, N] or [T, B, N].")
    if z.ndim not in (2, 3):
        raise ValueError(f"z must be [T, N] or [T, B, N], got shape {tuple(z.shape)}.")
    if z.shape[0] == 0:
        raise ValueError("z must have at least one time step to define a rate.")
    dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="dt is seconds per step.")
    spikes = _check_spikes("z", z.detach().cpu())
    if isinstance(bins, int) and not isinstance(bins, bool):
        bins = check_int("bins", bins, minimum=1)
    else:
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
            raise ValueError(
                f"bins must be a positive integer or at least two increasing edges, got {bins!r}."
            )
        bins = edges
    rates = spikes.sum(dim=0).reshape(-1).double().numpy() / (spikes.shape[0] * dt)
    fig, ax = _figure_and_axes(ax, (6.0, 4.0))
    ax.hist(rates, bins=bins, color="0.35", edgecolor="white")
    ax.set(xlabel="firing rate (Hz)", ylabel="neurons", title=title)
    return fig

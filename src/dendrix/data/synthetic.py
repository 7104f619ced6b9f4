r"""Synthetic spike tasks that isolate one computational ability.

:func:`spike_timing_task` -- classes that differ *only* in the relative timing of input
spikes. Every sample of class :math:`c` is

.. math::

    x_t^{i} = [\, t = o_c[i] + s \,], \qquad s \sim \mathcal{U}\{0, \dots, T - P\},

where :math:`o_c = \pi_c(b)` permutes one shared set :math:`b` of :math:`n` distinct offsets in
:math:`\{0, \dots, P-1\}` (steps), :math:`\pi_c` is the class's permutation, :math:`s` (steps) is
one random shift per sample, :math:`T` = ``num_steps`` and :math:`P` = ``pattern_steps``.
So every input fires exactly once in every sample, the spike counts and rates are identical in
every class, and even the summed population activity :math:`\sum_i x_t^{i}` is the same train
(one spike at each time :math:`b_j + s`) whatever the class: only *which* input fires *when*,
relative to the others, carries the label.

Why a delay-free network is at chance when its readout integrates over the whole window: let
the network be any instantaneous map :math:`f` applied at each step (synapses without delay or
memory, e.g. :math:`f(x_t) = \phi(W x_t + b)`) followed by a readout :math:`\sum_t f(x_t)`. The
offsets are distinct, so each step holds at most one spike: the steps are :math:`n` one-hot
vectors :math:`e_i` (one per input, in some order) and :math:`T - n` silent ones, hence
:math:`\sum_t f(x_t) = \sum_i f(e_i) + (T - n) f(0)` -- the same number for every sample of
every class (for a linear :math:`f` it is simply :math:`W` times the counts, all ones). Such a
network can only guess. Synaptic delays solve it: with :math:`d_{ci} = P - 1 - o_c[i]`, the
:math:`n` spikes of class :math:`c` arrive together at step :math:`s + P - 1` on output
:math:`c` (a coincidence of height :math:`n`) while the other classes' patterns arrive spread
out -- so a :class:`~dendrix.spiking.delays.DelayedLinear` with ``max_delay >= P - 1`` and a
threshold between 1 and :math:`n` separates the classes perfectly.

The offsets depend only on ``pattern_seed`` (default 0), not on ``generator``: draw training
and test sets with different generators and the same ``pattern_seed`` so that they share the
class patterns. :func:`spike_timing_offsets` returns them.

Reference: the task follows the motivation of Hammouamri, Khalfaoui-Hassani & Masquelier 2024
(ICLR) (delays turn spike-time differences into coincidences) and of Izhikevich 2006,
Polychronization: computation with spikes, Neural Comput. 18(2):245-282.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> x, y = spike_timing_task(8, num_inputs=5, num_steps=30, generator=g)
    >>> x.shape, y.tolist().count(0), x.sum(0).unique().tolist()
    (torch.Size([30, 8, 5]), 4, [1.0])
"""

from __future__ import annotations

import math

import torch

from dendrix._validation import check_int

__all__ = ["spike_timing_offsets", "spike_timing_task"]


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be a torch.Generator (the global RNG is never used), got "
            f"{type(generator).__name__}. Pass e.g. generator=torch.Generator().manual_seed(0)."
        )
    return generator


def _check_pattern_args(
    num_inputs: int, num_classes: int, pattern_steps: int
) -> tuple[int, int, int]:
    num_inputs = check_int("num_inputs", num_inputs, minimum=2)
    num_classes = check_int("num_classes", num_classes, minimum=2)
    pattern_steps = check_int(
        "pattern_steps",
        pattern_steps,
        minimum=num_inputs,
        hint="Every input needs its own offset, so pattern_steps must be >= num_inputs.",
    )
    if num_classes > math.factorial(num_inputs):
        raise ValueError(
            f"num_classes must be at most num_inputs! = {math.factorial(num_inputs)} (one "
            f"permutation of the offsets per class), got {num_classes}; use more inputs."
        )
    return num_inputs, num_classes, pattern_steps


def spike_timing_offsets(
    num_inputs: int, num_classes: int, pattern_steps: int, pattern_seed: int = 0
) -> torch.Tensor:
    r"""Spike offsets :math:`o_c[i]` (steps) of every class: permutations of one offset set.

    :math:`n` distinct offsets :math:`b` are drawn from :math:`\{0, \dots, P-1\}`, then each
    class gets a different permutation :math:`o_c = \pi_c(b)` (distinct from every other
    class's). Deterministic in ``pattern_seed``.

    Args:
        num_inputs: number of inputs ``n``, >= 2.
        num_classes: number of classes ``C``, 2 <= C <= n!.
        pattern_steps: pattern length ``P`` in steps, >= n.
        pattern_seed: seed of the private generator that draws the offsets.

    Returns:
        ``[C, n]`` int64 offsets in ``[0, P)``; each row holds the same set of values.

    Example:
        >>> o = spike_timing_offsets(4, 3, 10)
        >>> o.shape, bool((o.sort(dim=1).values == o[0].sort().values).all())
        (torch.Size([3, 4]), True)
    """
    num_inputs, num_classes, pattern_steps = _check_pattern_args(
        num_inputs, num_classes, pattern_steps
    )
    pattern_seed = check_int("pattern_seed", pattern_seed, minimum=0)
    g = torch.Generator().manual_seed(pattern_seed)
    base = torch.randperm(pattern_steps, generator=g)[:num_inputs]  # n distinct offsets
    rows: list[torch.Tensor] = []
    seen: set[tuple[int, ...]] = set()
    while len(rows) < num_classes:  # rejection: at most n! distinct permutations exist
        row = base[torch.randperm(num_inputs, generator=g)]
        key = tuple(row.tolist())
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return torch.stack(rows)


def spike_timing_task(
    num_samples: int,
    *,
    num_inputs: int = 10,
    num_steps: int = 60,
    num_classes: int = 2,
    pattern_steps: int = 20,
    pattern_seed: int = 0,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Spike patterns whose classes differ only in relative spike timing (module docstring).

    Each sample: a label :math:`c`, a shift :math:`s \sim \mathcal{U}\{0, \dots, T-P\}` steps,
    and one spike per input at step :math:`o_c[i] + s`
    (:func:`spike_timing_offsets`). Labels are balanced: ``num_samples // num_classes`` per
    class, the remainder spread one each over the first classes, in a random order.

    Args:
        num_samples: number of samples ``N``, >= 1.
        num_inputs: inputs ``n`` per sample, >= 2.
        num_steps: window length ``T`` in steps, >= ``pattern_steps``.
        num_classes: classes ``C``, 2 <= C <= n!.
        pattern_steps: span ``P`` of the offsets in steps, >= n (a delay layer needs
            ``max_delay >= P - 1`` to align any pattern).
        pattern_seed: fixes the class patterns; keep it equal for training and test sets.
        generator: draws the labels and shifts (required; never the global RNG).

    Returns:
        ``x`` ``[T, N, n]`` float32 spikes (0/1, exactly one per input and sample) and
        ``labels`` ``[N]`` int64 in ``[0, C)``.

    Example:
        >>> g = torch.Generator().manual_seed(1)
        >>> x, labels = spike_timing_task(6, num_inputs=3, num_steps=12, pattern_steps=4,
        ...                               num_classes=3, generator=g)
        >>> torch.bincount(labels).tolist()
        [2, 2, 2]
    """
    num_samples = check_int("num_samples", num_samples, minimum=1)
    num_inputs, num_classes, pattern_steps = _check_pattern_args(
        num_inputs, num_classes, pattern_steps
    )
    num_steps = check_int(
        "num_steps",
        num_steps,
        minimum=pattern_steps,
        hint=f"The window must hold the whole pattern (pattern_steps = {pattern_steps}).",
    )
    generator = _check_generator(generator)
    offsets = spike_timing_offsets(num_inputs, num_classes, pattern_steps, pattern_seed)

    balanced = torch.arange(num_samples) % num_classes
    labels = balanced[torch.randperm(num_samples, generator=generator)]
    shifts = torch.randint(0, num_steps - pattern_steps + 1, (num_samples,), generator=generator)
    times = offsets[labels] + shifts[:, None]  # [N, n] spike step of each input
    x = torch.zeros(num_steps, num_samples, num_inputs, dtype=torch.float32)
    samples = torch.arange(num_samples)[:, None].expand(-1, num_inputs)
    inputs = torch.arange(num_inputs)[None, :].expand(num_samples, -1)
    x[times, samples, inputs] = 1.0
    return x, labels

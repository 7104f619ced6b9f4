r"""NIR export and import: dendrix spiking networks <-> the Neuromorphic Intermediate
Representation.

NIR (Pedersen et al. 2024, "Neuromorphic intermediate representation: a unified instruction set
for interoperable brain-inspired computing", Nat. Commun. 15:8122) writes neurons as
continuous-time ODEs; dendrix neurons are discrete updates (:mod:`dendrix.spiking.functional`).
The bridge here: **one dendrix step equals one forward-Euler step of length** ``dt`` **of the NIR
ODE, with the input held over the step** -- the discretisation that snnTorch's and Norse's NIR
importers use. ``dt`` is in seconds, like every time in dendrix.

**LIF** (:mod:`~dendrix.spiking.functional.lif`, ``reset="zero"``). NIR: :math:`\tau\dot v =
(v_{leak} - v) + R\,I`, a spike when :math:`v > v_{th}`, then :math:`v \leftarrow v_{reset}`.
One Euler step, against dendrix's :math:`h_t = \beta v_{t-1} + I_t`,
:math:`\beta = e^{-dt/\tau_{mem}}`:

.. math::

    v_t = \Big(1 - \frac{dt}{\tau}\Big) v_{t-1} + \frac{dt}{\tau} v_{leak}
          + \frac{R\,dt}{\tau} I_t
    \quad\Longrightarrow\quad
    \tau = \frac{dt}{1 - \beta},\qquad R = \frac{\tau}{dt} = \frac{1}{1-\beta},\qquad
    v_{leak} = 0,

with :math:`\beta` exactly as dendrix computes it (``decay(tau_mem, dt)`` in the parameters'
dtype), and :math:`v_{reset}` dendrix's ``v_reset``. Example: ``tau_mem = 5 ms``, ``dt = 1 ms``
gives :math:`\beta = e^{-0.2} = 0.81873`, NIR :math:`\tau = 5.5167` ms, :math:`R = 5.5167`.

**CubaLIF** (:mod:`~dendrix.spiking.functional.cuba_lif`). NIR: :math:`\tau_{syn}\dot I = -I +
w_{in} S`, :math:`\tau_{mem}\dot v = (v_{leak} - v) + R\,I`, Euler with the new current
:math:`I_t` in the membrane step (as dendrix, snnTorch and Norse do). Against :math:`i_t =
\alpha i_{t-1} + I_t`, :math:`h_t = \beta v_{t-1} + i_t`:

.. math::

    \tau_{syn} = \frac{dt}{1-\alpha},\quad w_{in} = \frac{\tau_{syn}}{dt},\quad
    \tau_{mem} = \frac{dt}{1-\beta},\quad R = \frac{\tau_{mem}}{dt},\quad v_{leak} = 0.

**Threshold.** dendrix fires at :math:`h \ge \vartheta` (:math:`H(0) = 1`), NIR at :math:`v >
v_{th}`. The exported :math:`v_{th}` is the largest float below :math:`\vartheta` in its dtype
(``1.0 -> 0.99999994`` in float32), so that :math:`v > v_{th} \Leftrightarrow v \ge \vartheta`
for every float :math:`v` of that dtype; import takes the smallest float above :math:`v_{th}`.

**Delay.** NIR :math:`y(t) = x(t - \tau_d)`: a fixed delay of :math:`d` steps is
:math:`\tau_d = d\,dt`, exact. A :class:`~dendrix.spiking.delays.DelayedLinear` in rounded mode
exports as Delay then Affine when each input has one delay, or (without bias) Affine then Delay
when each output has one.

**Synapses and shapes.** ``nn.Linear`` -> ``nir.Affine`` (with bias) or ``nir.Linear``;
``nn.Conv2d`` -> ``nir.Conv2d`` (a zero bias when it has none; metadata says so);
``nn.Flatten(s, e)`` -> ``nir.Flatten(s - 1, e - 1)``, since NIR shapes have no batch axis.
``nn.Dropout`` and ``nn.Identity`` are skipped (inference).

**Import** inverts the maps: :math:`\beta = 1 - dt/\tau`, and a gain :math:`g = R\,dt/\tau`
(times :math:`w_{in} dt/\tau_{syn}` for CubaLIF) different from 1 is moved into the threshold
and reset (:math:`\vartheta = v_{th}/g`, :math:`v_{reset}/g`; the membrane is :math:`v/g`).
The dendrix time constant is the float whose decay, computed as dendrix computes it, equals
:math:`\beta` rounded to the model's dtype. Neuron nodes also carry dendrix's own values in
``metadata`` (keys ``dendrix_*``); import uses them when ``dt`` matches and they agree with the
NIR fields, which restores the parameters bit for bit. Without them the decays and thresholds
are still reproduced exactly, hence the spikes.

**Peers** (checked against snnTorch 1.0.0 and Norse 1.1.0, ``tests/spiking/test_nir.py``):
snnTorch's importer hard-codes ``dt = 1e-4`` s, so it reproduces graphs exported with
``dt=1e-4``, bit for bit; it needs one threshold per layer, ignores ``v_reset`` (resets to 0)
and reads Flatten dims with a batch axis. Norse's ``from_nir(graph, dt=dt)`` reproduces CubaLIF
(to float rounding: it computes ``v + dt/tau (i - v)``); its LIF import drops :math:`R`, so it
does not reproduce a graph with :math:`R \ne 1` (snnTorch's included), and its ``nir.Linear``
import swaps the feature sizes (give layers a bias).

Not expressible in NIR, refused with an error that says what to do: ALIF, Izhikevich and
stochastic neurons, reset by subtraction or no reset, refractory periods, recurrent layers,
Gaussian (training-mode) learned delays.

Example:
    >>> import torch
    >>> from torch import nn
    >>> from dendrix.spiking import LIF
    >>> from dendrix.spiking.nir import from_nir, to_nir
    >>> net = nn.Sequential(nn.Linear(3, 2), LIF(2, reset="zero", return_state=False))
    >>> graph = to_nir(net, dt=1e-3, input_shape=3)       # doctest: +SKIP
    >>> copy = from_nir(graph, dt=1e-3)                    # doctest: +SKIP
    >>> x = torch.rand(10, 4, 3)                           # [T, B, in]
    >>> bool((copy(x) == net(x)).all())                    # doctest: +SKIP
    True
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections import OrderedDict, defaultdict
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dendrix import __version__
from dendrix._validation import check_float, check_tensor
from dendrix.spiking.delays import Delay, DelayedLinear
from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.modules.alif import ALIF
from dendrix.spiking.modules.base import NeuronModule, feature_shape
from dendrix.spiking.modules.cuba_lif import CubaLIF
from dendrix.spiking.modules.izhikevich import Izhikevich
from dendrix.spiking.modules.lif import LIF
from dendrix.spiking.modules.recurrent import Recurrent
from dendrix.spiking.modules.stochastic import StochasticLIF
from dendrix.spiking.surrogate import SURROGATES
from dendrix.spiking.surrogate import surrogate as make_surrogate

__all__ = ["SpikingSequential", "from_nir", "to_nir"]

_INSTALL = "pip install 'dendrix[nir]' (or pip install nir)"

#: Layers that own the time axis: they get the whole ``[T, B, ...]`` sequence.
_TEMPORAL = (NeuronModule, Delay, DelayedLinear)

#: Modules with no NIR primitive, and what to do instead.
_NOT_IN_NIR = (
    (
        Recurrent,
        "its recurrent connections are not exported (to_nir writes feed-forward "
        "chains); keep recurrent networks in dendrix",
    ),
    (
        ALIF,
        "NIR has no adaptive-threshold neuron (its LIF and CubaLIF have fixed thresholds); "
        "replace it by LIF(reset='zero') and retrain, or keep the network in dendrix",
    ),
    (
        Izhikevich,
        "NIR has no Izhikevich neuron (quadratic membrane, recovery variable); use "
        "LIF(reset='zero') or CubaLIF(reset='zero') and retrain",
    ),
    (
        StochasticLIF,
        "NIR neurons are deterministic and cannot express escape noise; use "
        "LIF(reset='zero') and retrain",
    ),
)

_SUPPORTED = (
    "nn.Linear, nn.Conv2d, nn.Flatten, nn.Dropout/nn.Identity (skipped), and dendrix LIF, "
    "CubaLIF (reset='zero'), Delay and DelayedLinear (rounded mode)"
)


def _import_nir() -> Any:
    try:
        import nir
    except ImportError as err:
        raise ImportError(
            f"dendrix.spiking.nir needs the optional `nir` package: {_INSTALL}."
        ) from err
    return nir


# --------------------------------------------------------------------------------------------
# The container import builds
# --------------------------------------------------------------------------------------------
class SpikingSequential(nn.Sequential):
    """``nn.Sequential`` over time-first sequences ``[T, B, ...]``; :func:`from_nir` builds one.

    Layers that own the time axis -- neuron modules and delays (:class:`Delay`,
    :class:`DelayedLinear`) -- get the whole sequence; every other layer (``nn.Linear``,
    ``nn.Conv2d``, ``nn.Flatten``, ...) gets each step, time folded into the batch, so it acts
    per sample as in a non-spiking network. A neuron that returns ``(z, state)`` passes ``z`` on.

    Shapes: ``x`` ``[T, B, *in]`` -> ``[T, B, *out]``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from dendrix.spiking import LIF
        >>> net = SpikingSequential(nn.Conv2d(1, 2, 3), LIF(return_state=False), nn.Flatten())
        >>> net(torch.rand(5, 4, 1, 6, 6)).shape                  # [T, B, C, H, W] in
        torch.Size([5, 4, 32])
    """

    def forward(self, x: Tensor) -> Tensor:
        """``[T, B, *in]`` -> ``[T, B, *out]``."""
        check_tensor("x", x, min_ndim=2, hint="Expected a time-first sequence [T, B, ...].")
        steps, batch = x.shape[:2]
        for layer in self:
            if isinstance(layer, _TEMPORAL):
                x = layer(x)
                if isinstance(x, tuple):  # a neuron with return_state=True: (z, state)
                    x = x[0]
            else:
                x = layer(x.flatten(0, 1)).unflatten(0, (steps, batch))
        return x


# --------------------------------------------------------------------------------------------
# The maps between dendrix's and NIR's parameters (module docstring)
# --------------------------------------------------------------------------------------------
def _euler_time_constant(decay: Tensor, dt: float, shape: tuple[int, ...], what: str) -> np.ndarray:
    """NIR :math:`\\tau = dt / (1 - \\beta)` in float64, ``[*shape]``, for a dendrix decay."""
    beta = decay.detach().double().cpu().expand(shape).numpy()
    if (beta >= 1.0).any() or (beta <= 0.0).any():
        raise ValueError(
            f"{what}: the decay exp(-dt/tau) rounds to {'1' if (beta >= 1).any() else '0'} in "
            "the model's dtype, so NIR's tau = dt / (1 - decay) has no finite positive value. "
            "Choose time constants between about dt/100 and 3e7 dt."
        )
    return dt / (1.0 - beta)


def _strict_threshold(theta: Tensor, shape: tuple[int, ...]) -> np.ndarray:
    """The largest float below ``theta`` (its dtype): ``v > result`` iff ``v >= theta``."""
    theta = theta.detach().cpu()
    below = torch.nextafter(theta, torch.full_like(theta, -math.inf))
    return below.expand(shape).numpy().copy()


def _inclusive_threshold(v_th: np.ndarray, dtype: torch.dtype) -> Tensor:
    """The smallest float of ``dtype`` above ``v_th``: ``v >= result`` iff ``v > v_th``."""
    exact = torch.from_numpy(np.asarray(v_th, dtype=np.float64))
    rounded = exact.to(dtype)
    up = torch.nextafter(rounded, torch.full_like(rounded, math.inf))
    return torch.where(rounded.double() > exact, rounded, up)


_INT_VIEW = {torch.float32: torch.int32, torch.float64: torch.int64}
_SEARCH = 1 << 22  # half-width of the bisection, in units in the last place of tau


def _time_constant_for_decay(beta: Tensor, dt: float, dtype: torch.dtype) -> Tensor:
    """The ``tau`` (``dtype``) whose dendrix decay ``exp(-dt/tau)`` equals ``beta`` in ``dtype``.

    Starts at :math:`-dt/\\ln\\beta` and bisects over the floats of ``dtype`` (positive floats
    are ordered like their bit patterns and the decay grows with ``tau``); where no float hits
    ``beta`` exactly, keeps :math:`-dt/\\ln\\beta`. ``beta`` is float64 in (0, 1).
    """
    want = beta.to(dtype)
    guess = (-dt / torch.log(beta)).to(dtype)
    ints = _INT_VIEW.get(dtype)
    if ints is None:
        return guess
    top = int(torch.tensor(torch.finfo(dtype).max, dtype=dtype).view(ints))
    centre = guess.view(ints).long()
    lo = (centre - _SEARCH).clamp(min=1)
    hi = (centre + _SEARCH).clamp(max=top)
    while bool((lo < hi).any()):  # smallest tau with decay >= want; ~23 rounds
        mid = (lo + hi) // 2
        ok = decay_unchecked(mid.to(ints).view(dtype), dt) >= want
        hi = torch.where(ok, mid, hi)
        lo = torch.where(ok, lo, mid + 1)
    found = lo.to(ints).view(dtype)
    return torch.where(decay_unchecked(found, dt) == want, found, guess)


def _compact(value: Tensor) -> float | Tensor:
    """A float when every entry is equal, else the tensor with each constant axis cut to size 1.

    Undoes the broadcast of export: ``tau_mem`` of shape ``[C, 1, 1]`` comes back so.
    """
    flat = value.reshape(-1)
    if flat.numel() > 0 and bool((flat == flat[0]).all()):
        return float(flat[0])
    for axis in range(value.ndim):
        first = value.narrow(axis, 0, 1)
        if bool((value == first).all()):
            value = first
    return value.contiguous()


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------
def to_nir(model: nn.Module, *, dt: float, input_shape: int | tuple[int, ...]) -> Any:
    """Export a feed-forward dendrix network to a ``nir.NIRGraph`` (mapping: module docstring).

    Args:
        model: an ``nn.Sequential`` (or :class:`SpikingSequential`, nested ones allowed) of
            the layers listed in the module docstring, or one such layer.
        dt: the time step in seconds; must equal the ``dt`` of every neuron in ``model``
            (snnTorch's importer assumes ``1e-4``).
        input_shape: shape of one input step of one sample, without time and batch axes,
            e.g. ``784`` or ``(2, 34, 34)``.

    Returns:
        A type-checked ``nir.NIRGraph``: ``input`` -> one node per layer (named by its path in
        ``model``) -> ``output``; ``nir.write(path, graph)`` saves it.

    Raises:
        ImportError: ``nir`` is not installed.
        NotImplementedError: a layer NIR has no primitive for (ALIF, ...).
        ValueError: a layer configuration NIR cannot express (subtractive reset, ...).
    """
    nir = _import_nir()
    dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="Give the time step in seconds.")
    shape = feature_shape(input_shape)
    if shape is None:
        raise ValueError("input_shape is required: the shape of one input step of one sample.")
    nodes: dict[str, Any] = {"input": nir.Input(input_type=np.array(shape))}
    for path, layer in _layers(model):
        for name, node, out_shape in _export_layer(path, layer, shape, dt, nir):
            nodes[name] = node
            shape = out_shape
    if len(nodes) == 1:
        raise ValueError("model has no layer to export.")
    nodes["output"] = nir.Output(output_type=np.array(shape))
    names = list(nodes)
    return nir.NIRGraph(
        nodes=nodes,
        edges=list(itertools.pairwise(names)),
        metadata={"source": "dendrix", "dendrix_version": __version__, "dendrix_dt": dt},
    )


def _layers(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """``(path, layer)`` in execution order, nested ``nn.Sequential`` flattened."""
    if not isinstance(model, nn.Sequential):
        return [(prefix or type(model).__name__.lower(), model)]
    out = []
    for name, child in model.named_children():
        path = f"{prefix}.{name}" if prefix else name
        out += _layers(child, path) if isinstance(child, nn.Sequential) else [(path, child)]
    return out


def _export_layer(
    name: str, layer: nn.Module, shape: tuple[int, ...], dt: float, nir: Any
) -> list[tuple[str, Any, tuple[int, ...]]]:
    """NIR nodes ``(name, node, output shape)`` for one layer that receives ``shape``."""
    what = f"{name} ({type(layer).__name__})"
    for cls, advice in _NOT_IN_NIR:
        if isinstance(layer, cls):
            raise NotImplementedError(f"to_nir cannot export {what}: {advice}.")
    with torch.no_grad():
        if isinstance(layer, (nn.Dropout, nn.Identity)):
            return []
        if isinstance(layer, nn.Linear):
            return [_export_linear(name, what, layer.weight, layer.bias, shape, nir)]
        if isinstance(layer, nn.Conv2d):
            return [_export_conv2d(name, what, layer, shape, nir)]
        if isinstance(layer, nn.Flatten):
            return [_export_flatten(name, what, layer, shape, nir)]
        if isinstance(layer, LIF):
            return [_export_lif(name, what, layer, shape, dt, nir)]
        if isinstance(layer, CubaLIF):
            return [_export_cuba_lif(name, what, layer, shape, dt, nir)]
        if isinstance(layer, Delay):
            return [_export_delay(name, what, layer.delays, shape, dt, nir)]
        if isinstance(layer, DelayedLinear):
            return _export_delayed_linear(name, what, layer, shape, dt, nir)
    raise NotImplementedError(
        f"to_nir cannot export {what}: it knows {_SUPPORTED}, inside an nn.Sequential. A custom "
        "module with its own forward cannot be read: rebuild the network as a SpikingSequential "
        "of these layers."
    )


def _export_linear(
    name: str, what: str, weight: Tensor, bias: Tensor | None, shape: tuple[int, ...], nir: Any
) -> tuple[str, Any, tuple[int, ...]]:
    if shape != (weight.shape[1],):
        raise ValueError(
            f"{what} takes [{weight.shape[1]}] per sample but receives {list(shape)}; NIR's "
            "Affine is for vectors: put an nn.Flatten before it, or check input_shape."
        )
    w = weight.detach().cpu().numpy().copy()
    if bias is None:
        return name, nir.Linear(weight=w), (weight.shape[0],)
    return name, nir.Affine(weight=w, bias=bias.detach().cpu().numpy().copy()), (weight.shape[0],)


def _export_conv2d(
    name: str, what: str, layer: nn.Conv2d, shape: tuple[int, ...], nir: Any
) -> tuple[str, Any, tuple[int, ...]]:
    if len(shape) != 3 or shape[0] != layer.in_channels:
        raise ValueError(
            f"{what} takes [{layer.in_channels}, H, W] per sample but receives {list(shape)}; "
            "check input_shape."
        )
    if layer.padding_mode != "zeros":
        raise ValueError(
            f"{what} pads with {layer.padding_mode!r}; NIR's Conv2d pads with zeros. Build it "
            "with padding_mode='zeros'."
        )
    weight = layer.weight.detach().cpu()
    out_shape = tuple(
        layer(torch.zeros(1, *shape, dtype=weight.dtype, device=layer.weight.device)).shape[1:]
    )
    has_bias = layer.bias is not None
    bias = (
        layer.bias.detach().cpu()
        if has_bias
        else torch.zeros(layer.out_channels, dtype=weight.dtype)
    )
    node = nir.Conv2d(
        input_shape=tuple(shape[1:]),
        weight=weight.numpy().copy(),
        stride=tuple(layer.stride),
        padding=layer.padding if isinstance(layer.padding, str) else tuple(layer.padding),
        dilation=tuple(layer.dilation),
        groups=layer.groups,
        bias=bias.numpy().copy(),
        metadata={"dendrix_bias": has_bias},
    )
    if tuple(int(s) for s in node.output_type["output"]) != out_shape:
        raise ValueError(
            f"{what}: NIR computes output shape {list(node.output_type['output'])} but torch "
            f"gives {list(out_shape)}; NIR cannot express this padding, change it."
        )
    return name, node, out_shape


def _export_flatten(
    name: str, what: str, layer: nn.Flatten, shape: tuple[int, ...], nir: Any
) -> tuple[str, Any, tuple[int, ...]]:
    ndim = len(shape) + 1  # with the batch axis
    if not (-ndim <= layer.start_dim < ndim and -ndim <= layer.end_dim < ndim):
        raise ValueError(f"{what}: dims out of range for input {list(shape)} (+ batch).")
    start, end = layer.start_dim % ndim, layer.end_dim % ndim
    if start == 0:
        raise ValueError(
            f"{what} flattens the batch axis (start_dim={layer.start_dim}); NIR shapes have no "
            "batch axis. Use nn.Flatten(start_dim=1)."
        )
    a, b = start - 1, end - 1  # per-sample axes
    out_shape = (*shape[:a], math.prod(shape[a : b + 1]), *shape[b + 1 :])
    node = nir.Flatten(
        input_type={"input": np.array(shape)}, start_dim=a, end_dim=-1 if end == ndim - 1 else b
    )
    return name, node, out_shape


def _check_neuron(what: str, layer: LIF | CubaLIF, dt: float) -> None:
    if not math.isclose(layer.dt, dt, rel_tol=1e-9, abs_tol=0.0):
        raise ValueError(
            f"{what} steps with dt={layer.dt} s but to_nir was given dt={dt} s; NIR's time "
            f"constants depend on the step: pass dt={layer.dt}."
        )
    if layer.reset_mode != "zero":
        kind = "by subtraction" if layer.reset_mode == "subtract" else "never (reset='none')"
        raise ValueError(
            f"{what} resets {kind}, which NIR cannot express: NIR's LIF and CubaLIF set v to "
            "v_reset after a spike. Build the layer with reset='zero' (and v_reset) to export it, "
            "and retrain or fine-tune: the two resets give different spikes."
        )


def _neuron_metadata(
    layer: LIF | CubaLIF, dt: float, shape: tuple[int, ...], **values: Tensor
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "dendrix_module": type(layer).__name__,
        "dendrix_dt": dt,
        "dendrix_detach_reset": bool(layer.detach_reset),
    }
    for key, value in values.items():
        meta[f"dendrix_{key}"] = value.detach().cpu().expand(shape).numpy().copy()
    name = getattr(layer.surrogate, "name", "")
    if SURROGATES.get(name) is type(layer.surrogate):
        meta["dendrix_surrogate"] = name
        meta["dendrix_surrogate_alpha"] = float(layer.surrogate.alpha)
    return meta


def _export_lif(
    name: str, what: str, layer: LIF, shape: tuple[int, ...], dt: float, nir: Any
) -> tuple[str, Any, tuple[int, ...]]:
    _check_neuron(what, layer, dt)
    if layer.t_ref > 0:
        raise ValueError(
            f"{what} has a refractory period t_ref={layer.t_ref} s, which NIR's LIF cannot "
            "express. Export a copy built with t_ref=0 (its spikes differ where the refractory "
            "period acted)."
        )
    tau_mem, v_th = layer.tau_mem(), layer.v_th()
    tau = _euler_time_constant(decay_unchecked(tau_mem, layer.dt), dt, shape, f"{what} tau_mem")
    node = nir.LIF(
        tau=tau,
        r=tau / dt,
        v_leak=np.zeros(shape),
        v_threshold=_strict_threshold(v_th, shape),
        v_reset=np.full(shape, layer.v_reset),
        metadata=_neuron_metadata(layer, dt, shape, tau_mem=tau_mem, v_th=v_th),
    )
    return name, node, shape


def _export_cuba_lif(
    name: str, what: str, layer: CubaLIF, shape: tuple[int, ...], dt: float, nir: Any
) -> tuple[str, Any, tuple[int, ...]]:
    _check_neuron(what, layer, dt)
    tau_syn, tau_mem, v_th = layer.tau_syn(), layer.tau_mem(), layer.v_th()
    syn = _euler_time_constant(decay_unchecked(tau_syn, layer.dt), dt, shape, f"{what} tau_syn")
    mem = _euler_time_constant(decay_unchecked(tau_mem, layer.dt), dt, shape, f"{what} tau_mem")
    node = nir.CubaLIF(
        tau_syn=syn,
        tau_mem=mem,
        r=mem / dt,
        v_leak=np.zeros(shape),
        v_threshold=_strict_threshold(v_th, shape),
        v_reset=np.full(shape, layer.v_reset),
        w_in=syn / dt,
        metadata=_neuron_metadata(layer, dt, shape, tau_syn=tau_syn, tau_mem=tau_mem, v_th=v_th),
    )
    return name, node, shape


def _export_delay(
    name: str, what: str, delays: Tensor, shape: tuple[int, ...], dt: float, nir: Any
) -> tuple[str, Any, tuple[int, ...]]:
    if shape[-1] != delays.shape[0]:
        raise ValueError(
            f"{what} delays {delays.shape[0]} features (the last axis) but receives "
            f"{list(shape)}; check input_shape."
        )
    seconds = (delays.detach().cpu().double() * dt).expand(shape).numpy().copy()
    return name, nir.Delay(delay=seconds), shape


def _export_delayed_linear(
    name: str, what: str, layer: DelayedLinear, shape: tuple[int, ...], dt: float, nir: Any
) -> list[tuple[str, Any, tuple[int, ...]]]:
    if layer.mode != "rounded":
        raise NotImplementedError(
            f"to_nir cannot export {what} in mode {layer.mode!r}: its Gaussian taps spread each "
            "delay over several steps, which NIR's Delay (an exact shift) cannot express. Call "
            "layer.round_delays() first (and check the accuracy after rounding)."
        )
    steps = layer.integer_delays()  # [out, in]
    if bool((steps == steps[:1]).all()):  # one delay per input: delay the inputs, then the weights
        delay = _export_delay(f"{name}.delay", what, steps[0], shape, dt, nir)
        return [delay, _export_linear(name, what, layer.weight, layer.bias, shape, nir)]
    if layer.bias is None and bool((steps == steps[:, :1]).all()):  # one per output
        linear = _export_linear(name, what, layer.weight, None, shape, nir)
        return [linear, _export_delay(f"{name}.delay", what, steps[:, 0], linear[2], dt, nir)]
    raise NotImplementedError(
        f"to_nir cannot export {what}: its delays differ per synapse, and NIR's Delay delays whole "
        "neurons. Only delays shared by all synapses of an input (or, without bias, of an output) "
        "export; keep this layer in dendrix."
    )


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------
def from_nir(graph: Any, *, dt: float) -> SpikingSequential:
    """Build a dendrix network from a NIR graph (mapping: module docstring).

    Args:
        graph: a ``nir.NIRGraph``, or the path of a ``.nir`` file.
        dt: the time step in seconds the network will run with.

    Returns:
        A :class:`SpikingSequential` taking ``[T, B, *input_shape]``. Neuron constants are fixed
        (buffers) in the default dtype; set them learnable by rebuilding the layers if needed.

    Raises:
        ImportError: ``nir`` is not installed.
        NotImplementedError: a graph that is not one chain from input to output (recurrent,
            branching, subgraphs), or a node type dendrix has no layer for.
        ValueError: parameters dendrix cannot express (``v_leak != 0``, ``tau <= dt``, ...).
    """
    nir = _import_nir()
    dt = check_float("dt", dt, minimum=0.0, open_min=True, hint="Give the time step in seconds.")
    if isinstance(graph, (str, os.PathLike)):
        graph = nir.read(graph)
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph must be a nir.NIRGraph or a file path, got {type(graph).__name__}.")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for key in _chain(graph, nir):
        module = _import_node(key, graph.nodes[key], dt, nir)
        name = key.replace(".", "_")
        while name in layers:
            name += "_"
        layers[name] = module
    return SpikingSequential(layers)


def _chain(graph: Any, nir: Any) -> list[str]:
    """Node keys from the input to the output, or an error naming what breaks the chain."""
    kinds = {key: type(node) for key, node in graph.nodes.items()}
    inputs = [k for k, kind in kinds.items() if issubclass(kind, nir.Input)]
    outputs = [k for k, kind in kinds.items() if issubclass(kind, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        raise NotImplementedError(
            f"from_nir imports graphs with one Input and one Output node; this one has "
            f"{len(inputs)} and {len(outputs)}."
        )
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    for a, b in graph.edges:
        succ[a].append(b)
        pred[b].append(a)
    cycle = _find_cycle(list(graph.nodes), succ)
    if cycle is not None:
        raise NotImplementedError(
            f"the edge {cycle} closes a loop: recurrent graphs (such as snnTorch's RLeaky and "
            "RSynaptic exports) are not supported; from_nir imports feed-forward chains."
        )
    for key in graph.nodes:
        if len(succ[key]) > 1 or len(pred[key]) > 1:
            edges = succ[key] if len(succ[key]) > 1 else pred[key]
            verb = "feeds" if len(succ[key]) > 1 else "sums the outputs of"
            raise NotImplementedError(
                f"node {key!r} {verb} {len(edges)} nodes {sorted(edges)}; from_nir imports "
                "chains in which each node feeds the next, not branching graphs."
            )
    order, key = [], inputs[0]
    while succ[key]:
        key = succ[key][0]
        order.append(key)
    if not order or order[-1] != outputs[0] or len(order) + 1 != len(graph.nodes):
        off = sorted(set(graph.nodes) - {inputs[0], *order})
        raise NotImplementedError(
            f"from_nir imports one chain from input {inputs[0]!r} to output {outputs[0]!r}; "
            f"nodes {off} are not on it."
        )
    return order[:-1]


def _find_cycle(keys: list[str], succ: dict[str, list[str]]) -> tuple[str, str] | None:
    """An edge ``(a, b)`` that closes a directed cycle, or ``None`` (iterative DFS)."""
    colour = dict.fromkeys(keys, 0)  # 0 new, 1 on the stack, 2 done
    for root in keys:
        if colour[root]:
            continue
        stack = [(root, iter(succ[root]))]
        colour[root] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if colour.get(child, 0) == 1:
                    return node, child
                if colour.get(child, 0) == 0:
                    colour[child] = 1
                    stack.append((child, iter(succ[child])))
                    break
            else:
                colour[node] = 2
                stack.pop()
    return None


def _tensor(value: Any) -> Tensor:
    """A copy of a NIR array as a tensor of the default dtype."""
    return torch.from_numpy(np.array(value, copy=True)).to(torch.get_default_dtype())


def _plain(value: Any) -> Any:
    """A metadata value as Python (h5 files give bytes and NumPy scalars back)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def _import_node(key: str, node: Any, dt: float, nir: Any) -> nn.Module:
    what = f"node {key!r} (nir.{type(node).__name__})"
    if isinstance(node, (nir.Affine, nir.Linear)):
        weight = np.asarray(node.weight)
        if weight.ndim != 2:
            raise NotImplementedError(f"{what}: only 2-d weights import, got {weight.shape}.")
        bias = getattr(node, "bias", None)
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
        with torch.no_grad():
            layer.weight.copy_(_tensor(weight))
            if bias is not None:
                layer.bias.copy_(_tensor(bias))
        return layer
    if isinstance(node, nir.Conv2d):
        return _import_conv2d(node)
    if isinstance(node, nir.Flatten):
        start, end = int(node.start_dim), int(node.end_dim)
        return nn.Flatten(start + 1 if start >= 0 else start, end + 1 if end >= 0 else end)
    if isinstance(node, nir.LIF):
        return _import_lif(what, node, dt)
    if isinstance(node, nir.CubaLIF):
        return _import_cuba_lif(what, node, dt)
    if isinstance(node, nir.Delay):
        return _import_delay(what, node, dt)
    if isinstance(node, nir.NIRGraph):
        raise NotImplementedError(
            f"{what} is a subgraph (snnTorch writes recurrent layers so); from_nir imports flat "
            "feed-forward chains."
        )
    raise NotImplementedError(
        f"from_nir cannot import {what}: dendrix imports Affine, Linear, Conv2d, Flatten, LIF, "
        "CubaLIF and Delay nodes."
    )


def _int_tuple(value: Any) -> int | tuple[int, ...]:
    values = tuple(int(v) for v in np.atleast_1d(np.asarray(value)))
    return values[0] if len(values) == 1 else values


def _import_conv2d(node: Any) -> nn.Conv2d:
    weight = np.asarray(node.weight)  # [out, in / groups, kh, kw]
    groups = int(node.groups)
    padding = _plain(node.padding)
    padding = padding if isinstance(padding, str) else _int_tuple(padding)
    bias = np.asarray(node.bias)
    has_bias = bool(_plain(node.metadata.get("dendrix_bias", True))) or bool(bias.any())
    layer = nn.Conv2d(
        weight.shape[1] * groups,
        weight.shape[0],
        tuple(weight.shape[2:]),
        stride=_int_tuple(node.stride),
        padding=padding,
        dilation=_int_tuple(node.dilation),
        groups=groups,
        bias=has_bias,
    )
    with torch.no_grad():
        layer.weight.copy_(_tensor(weight))
        if has_bias:
            layer.bias.copy_(_tensor(bias))
    return layer


def _decay_and_gain(
    what: str, name: str, tau: Any, gain: Any, dt: float
) -> tuple[Tensor, np.ndarray]:
    """Per-step decay :math:`1 - dt/\\tau` (float64 tensor) and gain, checked."""
    tau = np.asarray(tau, dtype=np.float64)
    beta = 1.0 - dt / tau
    if not (beta < 1.0).all():
        raise ValueError(
            f"{what}: {name} must be finite and > 0 (dendrix neurons leak), got min "
            f"{tau.min():g}, max {tau.max():g} s."
        )
    if not (beta > 0.0).all():
        raise ValueError(
            f"{what}: {name} must exceed dt = {dt} s for a decay 1 - dt/{name} in (0, 1), got "
            f"min {tau.min():g} s. Import with a smaller dt."
        )
    gain = np.broadcast_to(np.asarray(gain, dtype=np.float64) * dt / tau, tau.shape)
    if not (gain > 0.0).all():
        raise ValueError(f"{what}: its input gain must be > 0, got min {gain.min():g}.")
    return torch.from_numpy(beta.copy()), gain


def _threshold_and_reset(what: str, node: Any, gain: np.ndarray) -> tuple[Tensor, float]:
    """dendrix's inclusive threshold and its float ``v_reset``, the gain moved into both."""
    if not np.all(np.asarray(node.v_leak) == 0.0):
        raise ValueError(
            f"{what} has v_leak != 0; dendrix neurons leak towards 0. In a LIF node the leak "
            "acts as a constant input v_leak / R: add that to the bias of the layer before it "
            "and set v_leak to 0."
        )
    unit = np.allclose(gain, 1.0, rtol=1e-9, atol=0.0)
    v_th = np.asarray(node.v_threshold) if unit else np.asarray(node.v_threshold, np.float64) / gain
    v_reset = np.asarray(node.v_reset, dtype=np.float64) * (1.0 if unit else 1.0 / gain)
    if not np.all(v_reset == v_reset.reshape(-1)[0]):
        raise ValueError(
            f"{what} has a different v_reset per neuron (after moving the input gain into it); "
            "dendrix takes one v_reset per layer."
        )
    return _inclusive_threshold(v_th, torch.get_default_dtype()), float(v_reset.reshape(-1)[0])


def _dendrix_values(
    what: str, node: Any, family: str, dt: float, fields: dict[str, Tensor]
) -> dict[str, Tensor]:
    """dendrix's own values from the node's metadata where they agree with ``fields``."""
    meta = {k: _plain(v) for k, v in (node.metadata or {}).items()}
    if meta.get("dendrix_module") != family or not math.isclose(
        float(meta.get("dendrix_dt", math.nan)), dt, rel_tol=1e-9
    ):
        return fields  # not from dendrix, or for another step: the NIR fields say it all
    dtype = torch.get_default_dtype()
    try:
        arrays = {k: np.asarray(meta[f"dendrix_{k}"]) for k in fields}
        if any(torch.from_numpy(a).dtype != dtype for a in arrays.values()):
            return fields  # saved in another precision: only the fields convert exactly
        saved = {k: torch.from_numpy(a.copy()) for k, a in arrays.items()}
        same = all(
            bool((decay_unchecked(saved[k], dt) == decay_unchecked(v, dt)).all())
            if k.startswith("tau")
            else bool((saved[k] == v).all())
            for k, v in fields.items()
        )
    except (KeyError, RuntimeError, TypeError, ValueError):
        same = False
    if not same:
        warnings.warn(
            f"{what}: its dendrix metadata disagrees with its NIR parameters (was the graph "
            "edited?); using the NIR parameters.",
            stacklevel=5,
        )
        return fields
    return saved


def _training_options(node: Any) -> dict[str, Any]:
    meta = {k: _plain(v) for k, v in (node.metadata or {}).items()}
    options: dict[str, Any] = {"detach_reset": bool(meta.get("dendrix_detach_reset", False))}
    name = meta.get("dendrix_surrogate")
    if name in SURROGATES:
        options["surrogate"] = make_surrogate(name, float(meta["dendrix_surrogate_alpha"]))
    return options


def _import_lif(what: str, node: Any, dt: float) -> LIF:
    beta, gain = _decay_and_gain(what, "tau", node.tau, node.r, dt)
    v_th, v_reset = _threshold_and_reset(what, node, gain)
    tau_mem = _time_constant_for_decay(beta, dt, torch.get_default_dtype())
    fields = {"tau_mem": tau_mem, "v_th": v_th}
    values = _dendrix_values(what, node, "LIF", dt, fields)
    return LIF(
        tuple(beta.shape) or None,
        tau_mem=_compact(values["tau_mem"]),
        v_th=_compact(values["v_th"]),
        v_reset=v_reset,
        reset="zero",
        dt=dt,
        return_state=False,
        **_training_options(node),
    )


def _import_cuba_lif(what: str, node: Any, dt: float) -> CubaLIF:
    alpha, gain_syn = _decay_and_gain(what, "tau_syn", node.tau_syn, node.w_in, dt)
    beta, gain_mem = _decay_and_gain(what, "tau_mem", node.tau_mem, node.r, dt)
    v_th, v_reset = _threshold_and_reset(what, node, gain_syn * gain_mem)
    dtype = torch.get_default_dtype()
    fields = {
        "tau_syn": _time_constant_for_decay(alpha, dt, dtype),
        "tau_mem": _time_constant_for_decay(beta, dt, dtype),
        "v_th": v_th,
    }
    values = _dendrix_values(what, node, "CubaLIF", dt, fields)
    return CubaLIF(
        tuple(beta.shape) or None,
        tau_syn=_compact(values["tau_syn"]),
        tau_mem=_compact(values["tau_mem"]),
        v_th=_compact(values["v_th"]),
        v_reset=v_reset,
        reset="zero",
        dt=dt,
        return_state=False,
        **_training_options(node),
    )


def _import_delay(what: str, node: Any, dt: float) -> Delay:
    delay = np.atleast_1d(np.asarray(node.delay, dtype=np.float64))
    steps = np.rint(delay / dt)
    if not np.allclose(delay / dt, steps, rtol=0.0, atol=1e-6) or (steps < 0).any():
        raise ValueError(
            f"{what}: delays must be non-negative whole numbers of steps of dt={dt} s; got "
            f"{delay.min():g}..{delay.max():g} s. Import with a dt that divides them."
        )
    per_feature = steps.reshape(-1, steps.shape[-1])
    if not (per_feature == per_feature[:1]).all():
        raise NotImplementedError(
            f"{what}: dendrix's Delay has one delay per feature of the last axis; these delays "
            "also vary along the other axes."
        )
    return Delay(steps.shape[-1], torch.from_numpy(per_feature[0].astype(np.int64)))

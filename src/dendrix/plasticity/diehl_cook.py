r"""Diehl & Cook (2015): unsupervised digit recognition with STDP, adaptive thresholds and WTA.

**Network.** ``n_input`` Poisson inputs (one per pixel) drive ``n_exc`` excitatory
conductance-based LIF neurons (:mod:`dendrix.spiking.functional.coba_lif`) through plastic
weights :math:`W` ``[n_exc, n_input]``; each excitatory neuron drives one inhibitory neuron
(weight :math:`w_{ei}` = 10.4), which inhibits every *other* excitatory neuron (weight
:math:`w_{ie}` = 17.0): a soft winner-take-all. Per step :math:`t` of ``dt`` seconds:

.. math::

    x^e_t &= W s_t, \qquad x^i_t = w_{ie} \big(\textstyle\sum_k z^{inh}_{t-1,k} - z^{inh}_{t-1}\big)
        &\text{(input, lateral inhibition)}\\
    z^{exc}_t &= \mathrm{CobaLIF}_{exc}(x^e_t, x^i_t;\ \vartheta = v_{thresh} - \text{offset}
        + \theta_{t-1})  &\text{(excitatory layer)}\\
    z^{inh}_t &= \mathrm{CobaLIF}_{inh}(w_{ei} z^{exc}_t)            &\text{(inhibitory layer)}\\
    \theta_t &= e^{-dt/\tau_\theta} \theta_{t-1} + \theta_+ z^{exc}_t  &\text{(adaptive threshold)}

with :math:`s_t` the input spikes. An input spike reaches the excitatory neurons and an
excitatory spike its inhibitory partner in the same step (dendrix's convention, no transmission
delay); the inhibition arrives one step later. Learning is the triplet-style rule of Diehl &
Cook's Brian code (:meth:`~dendrix.plasticity.stdp.TripletSTDP.diehl_cook_2015`, nearest-spike
traces :math:`x_{pre}` (20 ms), :math:`o_1` (20 ms), :math:`o_2` (40 ms)):

.. math::

    \text{pre spike } j:\ w_{ij} \mathrel{-}= \nu_{pre}\, o_{1,i}, \qquad
    \text{post spike } i:\ w_{ij} \mathrel{+}= \nu_{post}\, x_{pre,j}\, o_{2,i}(t - \epsilon),

clipped into :math:`[0, w_{max}]`; after every presentation each neuron's weights are rescaled
to sum to 78.4 (:func:`~dendrix.plasticity.homeostasis.normalize_weights`). With
``rule="symmetric"`` (:class:`DiehlCookConfig`) the pre spike potentiates instead, by
:math:`\nu_{pre}\, o_{1,i}`, and the post spike by :math:`\nu_{post}\, x_{pre,j}`: Hao et al.'s
symmetric STDP, the hidden layer of :mod:`dendrix.plasticity.sym_stdp`.

**Presentation.** An image is shown for 350 ms as Poisson spike trains of rate
``pixel / 8 * intensity`` Hz (intensity 2: at most 63.75 Hz), then the inputs are silent for
150 ms while the network relaxes (nothing is reset between images). If the excitatory layer
fires fewer than 5 spikes, the image is shown again with the intensity raised by 1. The
response of an image is the excitatory spike count of its accepted 350 ms presentation.

**Labels and accuracy** (:func:`assign_labels`, :func:`predict`): after training, with learning
off and :math:`\theta` frozen, each neuron is assigned the class for which its mean response
over labelled *training* images is highest; a test image is classified as the class whose
assigned neurons respond most on average.

**Two paths, one model.** :meth:`DiehlCookNetwork.run` simulates one image either with
``backend="reference"``, a readable loop over the dendrix pieces (``coba_lif_step``,
``TripletSTDP.update_``, ``AdaptiveThreshold.update``, ``lateral_inhibition``,
``normalize_weights``) on float64 tensors, or with ``backend="kernel"`` (default), a numba
kernel that runs all steps of the image in one call, event-driven: the input current and the
depression touch only the columns of the few inputs that spiked, the potentiation only the rows
of the neurons that spiked. Both read the same pre-drawn input spikes and the same state, and
are tested to give identical spikes and weights equal to 1e-12 (``tests/plasticity/
test_diehl_cook.py``).

**Units.** Potentials and :math:`\theta` in mV (as published), time in seconds, rates in Hz,
conductances and weights in units of the leak conductance.

**Constants** (:class:`DiehlCookConfig`), checked against Diehl & Cook's published Brian code
(``Diehl&Cook_spiking_MNIST.py``, ``Diehl&Cook_MNIST_random_conn_generator.py``,
``Diehl&Cook_MNIST_evaluation.py`` in github.com/peter-u-diehl/stdp-mnist) and algorithms.md
§11 (which gives the input rate, the timing, :math:`	heta_+` and :math:`	au_	heta`, the sum
78.4 and the accuracies). Where this module differs from that code, on purpose: the membrane is
integrated exactly with the conductances held over a step and conductances and traces decay
exactly (their Brian 1 integrated these nonlinear equations with forward Euler); input spikes
act in their own step (in Brian one step later, through random delays of 0-10 ms per synapse,
left out here); the code normalises to 78.0, algorithms.md says 78.4 (used here); their
threshold test is ``v > threshold``, here ``v >= threshold``; the re-presentation intensity is
capped at ``max_intensity`` (theirs is unbounded).

Reference: Diehl PU, Cook M (2015) Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. Front Comput Neurosci 9:99.

Example:
    >>> import torch
    >>> from dendrix.plasticity.diehl_cook import DiehlCookConfig, DiehlCookNetwork
    >>> g = torch.Generator().manual_seed(0)
    >>> net = DiehlCookNetwork(DiehlCookConfig(n_exc=16), generator=g)
    >>> image = torch.zeros(28, 28, dtype=torch.uint8)
    >>> image[8:20, 12:16] = 255
    >>> out = net.present(image, learn=True, generator=torch.Generator().manual_seed(1))
    >>> int(out.counts.sum()) >= 5, round(float(net.weight.sum(1)[0]), 6)
    (True, 78.4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
import torch
from numba import njit
from torch import Tensor

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.plasticity.homeostasis import (
    AdaptiveThreshold,
    lateral_inhibition,
    normalize_weights,
)
from dendrix.plasticity.stdp import STDPState, SymmetricSTDP, TripletSTDP, TripletSTDPState
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked
from dendrix.spiking.functional.coba_lif import (
    CobaLIFParameters,
    CobaLIFState,
    coba_lif_step,
)
from dendrix.spiking.functional.lif import refractory_steps

__all__ = [
    "BACKENDS",
    "STDP_RULES",
    "DiehlCookConfig",
    "DiehlCookNetwork",
    "InputSpikes",
    "Presentation",
    "accuracy",
    "assign_labels",
    "predict",
]

BACKENDS = ("kernel", "reference")
#: Learning rules of the input weights: Diehl & Cook's triplet rule, Hao et al.'s symmetric STDP.
STDP_RULES = ("triplet", "symmetric")

#: Grey levels of an 8-bit image.
_MAX_PIXEL = 255.0


@dataclass(frozen=True)
class DiehlCookConfig:
    """The network's constants; defaults are Diehl & Cook's (module docstring).

    Attributes:
        n_exc: excitatory neurons (and as many inhibitory ones).
        n_input: inputs (pixels), 784 for MNIST.
        dt: time step in seconds (0.5 ms).
        t_present: presentation of one image in seconds (350 ms).
        t_rest: silent input after it in seconds (150 ms).
        v_rest_exc, v_reset_exc, v_thresh_exc: excitatory rest, reset and threshold in mV
            (-65, -65, -52).
        theta_offset: the excitatory threshold is ``v_thresh_exc - theta_offset + theta`` (mV;
            their ``offset``, 20).
        theta_init: :math:`\\theta` at the start of training in mV (20, so the initial threshold
            is -52 mV).
        tau_exc: excitatory membrane time constant in seconds (100 ms).
        t_ref_exc: excitatory refractory period in seconds (5 ms).
        e_inh_exc: inhibitory reversal potential of the excitatory neurons in mV (-100).
        v_rest_inh, v_reset_inh, v_thresh_inh: inhibitory rest, reset, threshold in mV (-60,
            -45, -40).
        tau_inh: inhibitory membrane time constant in seconds (10 ms).
        t_ref_inh: inhibitory refractory period in seconds (2 ms).
        e_inh_inh: inhibitory reversal potential of the inhibitory neurons in mV (-85; no
            inhibitory synapse reaches them in this network).
        e_exc: excitatory reversal potential in mV (0).
        tau_ge, tau_gi: conductance time constants in seconds (1 ms, 2 ms).
        v_init_offset: membranes start at ``v_rest + v_init_offset`` mV (-40, as in their code).
        w_exc_inh: excitatory -> inhibitory weight, one to one (10.4).
        w_inh_exc: inhibitory -> excitatory weight, to all but the partner (17.0).
        theta_plus: threshold increase per spike in mV (0.05).
        tau_theta: threshold decay time constant in seconds (1e7 ms = 1e4 s).
        tau_pre, tau_post1, tau_post2: STDP traces in seconds (20, 20, 40 ms).
        nu_pre, nu_post: depression and potentiation rates (1e-4, 1e-2). With
            ``rule="symmetric"`` ``nu_pre`` is the rate of the post-before-pre *potentiation*.
        rule: ``"triplet"`` (Diehl & Cook, above) or ``"symmetric"``: Hao et al.'s symmetric
            STDP (:class:`~dendrix.plasticity.stdp.SymmetricSTDP`, nearest-spike traces
            :math:`x_{pre}` (``tau_pre``) and :math:`o_1` (``tau_post1``)), which potentiates
            for both orders, :math:`w_{ij} \\mathrel{+}= \\nu_{post} x_{pre,j}` at a post spike
            and :math:`w_{ij} \\mathrel{+}= \\nu_{pre} o_{1,i}` at a pre spike; the weight
            normalisation is then the only depression (synaptic scaling).
        w_max: weight bound (1); weights stay in ``[0, w_max]``.
        weight_sum: each neuron's input weights sum to this after every presentation (78.4).
        w_init_low, w_init_high: initial weights uniform in this range (their
            ``(U(0, 1) + 0.01) * 0.3``: 0.003 to 0.303).
        intensity: starting input intensity (2).
        rate_per_level: input rate in Hz per grey level per unit of intensity (1/8).
        min_spikes: fewer excitatory spikes than this re-presents the image (5).
        max_intensity: the intensity is not raised past this (the rate must stay below 1/dt).
    """

    n_exc: int = 400
    n_input: int = 784
    dt: float = 0.5e-3
    t_present: float = 0.35
    t_rest: float = 0.15
    v_rest_exc: float = -65.0
    v_reset_exc: float = -65.0
    v_thresh_exc: float = -52.0
    theta_offset: float = 20.0
    theta_init: float = 20.0
    tau_exc: float = 100e-3
    t_ref_exc: float = 5e-3
    e_inh_exc: float = -100.0
    v_rest_inh: float = -60.0
    v_reset_inh: float = -45.0
    v_thresh_inh: float = -40.0
    tau_inh: float = 10e-3
    t_ref_inh: float = 2e-3
    e_inh_inh: float = -85.0
    e_exc: float = 0.0
    tau_ge: float = 1e-3
    tau_gi: float = 2e-3
    v_init_offset: float = -40.0
    w_exc_inh: float = 10.4
    w_inh_exc: float = 17.0
    theta_plus: float = 0.05
    tau_theta: float = 1e4
    tau_pre: float = 20e-3
    tau_post1: float = 20e-3
    tau_post2: float = 40e-3
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    w_max: float = 1.0
    weight_sum: float = 78.4
    w_init_low: float = 0.003
    w_init_high: float = 0.303
    intensity: float = 2.0
    rate_per_level: float = 1.0 / 8.0
    min_spikes: int = 5
    max_intensity: float = 32.0
    rule: str = "triplet"

    def __post_init__(self) -> None:
        check_choice("rule", self.rule, STDP_RULES)
        check_int("n_exc", self.n_exc, minimum=1)
        check_int("n_input", self.n_input, minimum=1)
        check_float("dt", self.dt, minimum=0.0, open_min=True, hint="Give it in seconds.")
        for name in ("t_present", "t_rest"):
            value = check_float(name, getattr(self, name), minimum=0.0, hint="In seconds.")
            steps = value / self.dt
            if abs(steps - round(steps)) > 1e-6:
                raise ValueError(
                    f"{name} = {value:g} s is not a whole number of steps of dt = {self.dt:g} s; "
                    "choose a multiple of dt."
                )
        if round(self.t_present / self.dt) < 1:
            raise ValueError("t_present must last at least one step of dt.")
        for name in (
            "tau_exc", "tau_inh", "tau_ge", "tau_gi", "tau_theta",
            "tau_pre", "tau_post1", "tau_post2",
        ):  # fmt: skip
            check_time_constant(name, getattr(self, name))
        for name in ("t_ref_exc", "t_ref_inh"):
            check_float(name, getattr(self, name), minimum=0.0, hint="In seconds.")
        for f in fields(self):
            if f.type == "float":
                check_float(f.name, getattr(self, f.name))
        for name in ("w_exc_inh", "w_inh_exc", "theta_plus", "nu_pre", "nu_post"):
            check_float(name, getattr(self, name), minimum=0.0)
        if self.e_inh_exc >= self.e_exc or self.e_inh_inh >= self.e_exc:
            raise ValueError(
                f"the inhibitory reversal potentials (e_inh_exc={self.e_inh_exc:g}, "
                f"e_inh_inh={self.e_inh_inh:g} mV) must lie below e_exc={self.e_exc:g} mV."
            )
        check_float("w_max", self.w_max, minimum=0.0, open_min=True)
        if not 0.0 <= self.w_init_low < self.w_init_high <= self.w_max:
            raise ValueError(
                f"need 0 <= w_init_low < w_init_high <= w_max, got w_init_low="
                f"{self.w_init_low:g}, w_init_high={self.w_init_high:g}, w_max={self.w_max:g}."
            )
        check_float(
            "weight_sum",
            self.weight_sum,
            minimum=0.0,
            open_min=True,
            maximum=self.n_input * self.w_max,
            hint="It cannot exceed n_input * w_max.",
        )
        check_float("rate_per_level", self.rate_per_level, minimum=0.0, open_min=True)
        check_float("intensity", self.intensity, minimum=0.0, open_min=True)
        check_float("max_intensity", self.max_intensity, minimum=self.intensity)
        top = _MAX_PIXEL * self.rate_per_level * self.max_intensity * self.dt
        if top > 1.0:
            raise ValueError(
                f"max_intensity = {self.max_intensity:g} gives a white pixel a spike probability "
                f"of {top:g} per step (> 1); lower max_intensity or dt."
            )
        check_int("min_spikes", self.min_spikes, minimum=0)

    @property
    def steps_present(self) -> int:
        """Steps of one presentation, ``round(t_present / dt)``."""
        return round(self.t_present / self.dt)

    @property
    def steps_rest(self) -> int:
        """Steps of the rest after it, ``round(t_rest / dt)``."""
        return round(self.t_rest / self.dt)

    def max_rate_hz(self, intensity: float) -> float:
        """Rate of a white pixel (255) at ``intensity``: ``255 * rate_per_level * intensity``."""
        return _MAX_PIXEL * self.rate_per_level * intensity


class InputSpikes(NamedTuple):
    """Input spikes of one presentation, compressed by step (CSR).

    Attributes:
        ptr: int64 ``[T + 1]``; the inputs that spike at step ``t`` are
            ``idx[ptr[t]:ptr[t + 1]]`` (ascending).
        idx: int64 ``[nnz]`` input indices.
    """

    ptr: Tensor
    idx: Tensor

    def dense(self, n_input: int, dtype: torch.dtype = torch.float64) -> Tensor:
        """The spikes as a dense ``[T, n_input]`` 0/1 tensor."""
        steps = self.ptr.numel() - 1
        out = torch.zeros(steps, n_input, dtype=dtype)
        rows = torch.repeat_interleave(torch.arange(steps), self.ptr.diff())
        out[rows, self.idx] = 1.0
        return out


class Presentation(NamedTuple):
    """What :meth:`DiehlCookNetwork.present` returns.

    Attributes:
        counts: int64 ``[n_exc]`` excitatory spike counts of the accepted presentation.
        intensity: the input intensity of that presentation.
        presentations: how many times the image was shown (1 + re-presentations).
        raster: uint8 ``[steps_present + steps_rest, n_exc]`` excitatory spikes of the accepted
            presentation and its rest (``present(record=True)``), else ``None``.
    """

    counts: Tensor
    intensity: float
    presentations: int
    raster: Tensor | None = None


# ---------------------------------------------------------------------------------------------
# The fused kernel
# ---------------------------------------------------------------------------------------------
# fparams[.]
(
    F_ALPHA_E, F_ALPHA_I, F_DT,
    F_TAU_E, F_VREST_E, F_VRESET_E, F_VTH_E, F_EINH_E,
    F_TAU_I, F_VREST_I, F_VRESET_I, F_VTH_I, F_EINH_I,
    F_EEXC, F_W_EI, F_W_IE,
    F_D_PRE, F_D_X, F_D_POST1, F_D_POST2, F_NU_PRE, F_NU_POST, F_W_MAX,
    F_D_THETA, F_THETA_PLUS, F_WEIGHT_SUM,
) = range(26)  # fmt: skip
N_FPARAMS = 26
# iparams[.]
I_NREF_E, I_NREF_I, I_STEPS_PRESENT, I_STEPS_REST, I_SYMMETRIC = range(5)
N_IPARAMS = 5
# rows of the neuron-state arrays exc[., n] and inh[., n]
V, GE, GI, R = range(4)
#: Conductances and traces below this are set to 0 by the kernel. Without it they decay into the
#: subnormal range (below 2.2e-308), where every multiplication costs ~100 cycles, and a
#: network whose neurons and pixels fire rarely slows down severalfold as it learns. The change
#: is invisible in double precision: 1 + 1e-250 == 1, and a weight or trace this small added to
#: anything of order 1e-235 or more leaves it unchanged, so the reference (which keeps them)
#: and the kernel stay equal to the test's tolerance.
TINY = 1e-250


@njit(cache=True)
def _coba_neuron(
    state: np.ndarray, i: int, x_e: float, x_i: float, has_inh: bool,
    alpha_e: float, alpha_i: float, dt: float, tau: float, v_rest: float, e_exc: float,
    e_inh: float, v_th: float, v_reset: float, n_ref: float, beta: float,
) -> float:  # fmt: skip
    """One step of neuron ``i`` (:func:`~dendrix.spiking.functional.coba_lif.coba_lif_step`,
    same operations in the same order); returns its spike (0.0 or 1.0).

    ``n_ref`` is the refractory period in steps (as a float); with ``n_ref = 0`` the counter
    ``state[R]`` starts and stays at 0, as in the reference. ``beta`` must be
    ``exp(-dt * 1.0 / tau)``: the decay when both conductances are 0, where the general formula
    reduces exactly to ``v_rest + (v - v_rest) * beta`` (no exponential, no division).
    """
    g_e = alpha_e * state[GE, i] + x_e
    g_i = alpha_i * state[GI, i]
    if has_inh:
        g_i = g_i + x_i
    if abs(g_e) < TINY:
        g_e = 0.0
    if abs(g_i) < TINY:
        g_i = 0.0
    state[GE, i] = g_e
    state[GI, i] = g_i
    v = state[V, i]
    r = state[R, i]
    if r > 0.0:  # refractory: v clamped, no spike
        state[R, i] = max(r - 1.0, 0.0)
        return 0.0
    if g_e == 0.0 and g_i == 0.0:
        h = v_rest + (v - v_rest) * beta
    else:
        g_total = 1.0 + g_e + g_i
        v_inf = (v_rest + g_e * e_exc + g_i * e_inh) / g_total
        h = v_inf + (v - v_inf) * math.exp(-dt * g_total / tau)
    if h - v_th >= 0.0:
        state[V, i] = v_reset
        state[R, i] = n_ref
        return 1.0
    state[V, i] = h
    state[R, i] = max(r - 1.0, 0.0)
    return 0.0


@njit(cache=True)
def simulate_image(
    ptr: np.ndarray,
    idx: np.ndarray,
    wt: np.ndarray,
    theta: np.ndarray,
    exc: np.ndarray,
    inh: np.ndarray,
    z_inh: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    fparams: np.ndarray,
    iparams: np.ndarray,
    learn: bool,
    counts: np.ndarray,
    raster: np.ndarray,
) -> None:
    """Simulate one image (presentation then rest) in place; the kernel of ``backend="kernel"``.

    Mirrors :meth:`DiehlCookNetwork._run_reference` step for step, except that conductances
    and traces below :data:`TINY` are set to 0 (see there; no effect at double precision).

    Args:
        ptr, idx: :class:`InputSpikes` of the presentation (int64).
        wt: float64 ``[n_input, n_exc]``, the weights *transposed* (so that the column of an
            input is contiguous); changed in place when ``learn``.
        theta: float64 ``[n_exc]`` threshold shifts (mV).
        exc, inh: float64 ``[4, n_exc]`` neuron states, rows ``V, GE, GI, R``.
        z_inh: float64 ``[n_exc]`` inhibitory spikes of the previous step.
        pre: float64 ``[2, n_input]`` STDP traces ``r1`` (x_pre) and ``r2``.
        post: float64 ``[2, n_exc]`` STDP traces ``o1``, ``o2``.
        fparams, iparams: constants, ``F_*`` and ``I_*`` above.
        learn: STDP, threshold adaptation and the final weight normalisation on/off.
        counts: int64 ``[n_exc]``, receives the excitatory spike counts of the presentation.
        raster: uint8 ``[steps_present + steps_rest, n_exc]`` receives every excitatory spike
            of the image, or ``[0, n_exc]`` to record nothing.
    """
    n_input, n = wt.shape
    alpha_e, alpha_i, dt = fparams[F_ALPHA_E], fparams[F_ALPHA_I], fparams[F_DT]
    w_ei, w_ie = fparams[F_W_EI], fparams[F_W_IE]
    d_pre, d_x = fparams[F_D_PRE], fparams[F_D_X]
    d_post1, d_post2 = fparams[F_D_POST1], fparams[F_D_POST2]
    nu_pre, nu_post, w_max = fparams[F_NU_PRE], fparams[F_NU_POST], fparams[F_W_MAX]
    d_theta, theta_plus = fparams[F_D_THETA], fparams[F_THETA_PLUS]
    steps_present = iparams[I_STEPS_PRESENT]
    n_ref_e, n_ref_i = float(iparams[I_NREF_E]), float(iparams[I_NREF_I])
    beta_e = math.exp(-dt * 1.0 / fparams[F_TAU_E])
    beta_i = math.exp(-dt * 1.0 / fparams[F_TAU_I])
    steps = steps_present + iparams[I_STEPS_REST]
    symmetric = iparams[I_SYMMETRIC] == 1
    record = raster.shape[0] > 0
    if record:
        raster[:] = 0
    x_e = np.zeros(n)
    z_exc = np.zeros(n)
    fired = np.empty(n, dtype=np.int64)
    o2_before = np.empty(n)
    depression = np.empty(n)
    counts[:] = 0
    for t in range(steps):
        lo, hi = (ptr[t], ptr[t + 1]) if t < steps_present else (0, 0)
        # input conductance jumps x_e = W s_t: only the columns of the inputs that spiked
        x_e[:] = 0.0
        for k in range(lo, hi):
            col = wt[idx[k]]
            for i in range(n):
                x_e[i] += col[i]
        n_inh = 0.0
        for i in range(n):
            n_inh += z_inh[i]
        # excitatory layer; lateral inhibition from the previous step's inhibitory spikes
        n_fired = 0
        for i in range(n):
            x_i = w_ie * (n_inh - z_inh[i])
            z = _coba_neuron(
                exc, i, x_e[i], x_i, True, alpha_e, alpha_i, dt, fparams[F_TAU_E],
                fparams[F_VREST_E], fparams[F_EEXC], fparams[F_EINH_E],
                fparams[F_VTH_E] + theta[i], fparams[F_VRESET_E], n_ref_e, beta_e,
            )  # fmt: skip
            z_exc[i] = z
            if z > 0.0:
                fired[n_fired] = i
                n_fired += 1
        # inhibitory layer, driven one to one
        for i in range(n):
            z_inh[i] = _coba_neuron(
                inh, i, w_ei * z_exc[i], 0.0, False, alpha_e, alpha_i, dt, fparams[F_TAU_I],
                fparams[F_VREST_I], fparams[F_EEXC], fparams[F_EINH_I], fparams[F_VTH_I],
                fparams[F_VRESET_I], n_ref_i, beta_i,
            )  # fmt: skip
        if t < steps_present:
            for k in range(n_fired):
                counts[fired[k]] += 1
        if record:
            for k in range(n_fired):
                raster[t, fired[k]] = 1
        if not learn:
            continue
        # STDP (TripletSTDP.diehl_cook_2015 .update_ or SymmetricSTDP.update_, nearest-spike
        # traces): decay, pre spikes set x_pre to 1; the symmetric rule has no r2, o2
        for j in range(n_input):
            r1 = pre[0, j] * d_pre
            r2 = pre[1, j] * d_x
            pre[0, j] = r1 if r1 >= TINY else 0.0
            pre[1, j] = r2 if r2 >= TINY else 0.0
        for k in range(lo, hi):
            pre[0, idx[k]] = 1.0
        for i in range(n):
            o1 = post[0, i] * d_post1
            o2 = post[1, i] * d_post2
            post[0, i] = o1 if o1 >= TINY else 0.0
            o2_before[i] = o2 if o2 >= TINY else 0.0
        # potentiation of the rows of neurons that fired, then the acausal term (depression,
        # or potentiation for the symmetric rule) of the spiking columns
        for k in range(n_fired):
            i = fired[k]
            gain = nu_post if symmetric else nu_post * o2_before[i]
            for j in range(n_input):
                wt[j, i] += gain * pre[0, j]
        for i in range(n):
            depression[i] = post[0, i] * nu_pre if symmetric else -(post[0, i] * nu_pre)
        for k in range(lo, hi):  # acausal term then clipping of the spiking columns (fused: the
            col = wt[idx[k]]  # rows' potentiation is already in, clipping is idempotent)
            for i in range(n):
                col[i] = min(max(col[i] + depression[i], 0.0), w_max)
        for k in range(n_fired):
            i = fired[k]
            for j in range(n_input):
                wt[j, i] = min(max(wt[j, i], 0.0), w_max)
        if not symmetric:
            for k in range(lo, hi):
                pre[1, idx[k]] = 1.0
        for i in range(n):
            post[0, i] = 1.0 if z_exc[i] > 0.0 else post[0, i]
            if not symmetric:
                post[1, i] = 1.0 if z_exc[i] > 0.0 else o2_before[i]
            # adaptive threshold
            theta[i] = theta[i] * d_theta + theta_plus * z_exc[i]
    if learn:
        _normalize(wt, fparams[F_WEIGHT_SUM])


@njit(cache=True)
def _normalize(wt: np.ndarray, target: float) -> None:
    """:func:`~dendrix.plasticity.homeostasis.normalize_weights` on ``wt`` ``[n_input, n]``."""
    n_input, n = wt.shape
    total = np.zeros(n)
    for j in range(n_input):
        for i in range(n):
            total[i] += wt[j, i]
    for i in range(n):
        total[i] = target / total[i] if total[i] > 0.0 else 1.0
    for j in range(n_input):
        for i in range(n):
            wt[j, i] = wt[j, i] * total[i]


@njit(cache=True)
def _threshold_to_csr(
    u: np.ndarray, p: np.ndarray, active: np.ndarray, ptr: np.ndarray, idx: np.ndarray
) -> int:
    """Spikes ``u[t, k] < p[k]`` of inputs ``active[k]``, by step into ``ptr``/``idx``; returns
    their number."""
    steps, n_active = u.shape
    nnz = 0
    for t in range(steps):
        for k in range(n_active):
            if u[t, k] < p[k]:
                idx[nnz] = active[k]
                nnz += 1
        ptr[t + 1] = nnz
    return nnz


# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------
def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (the global RNG is never used), got "
            f"{type(generator).__name__}; pass e.g. torch.Generator().manual_seed(0)."
        )
    return generator


def _checked_state(
    owner: object, names: tuple[str, ...], state: dict[str, Any]
) -> list[tuple[Tensor, Tensor]]:
    """``(target, value)`` for each state tensor ``owner._name`` and ``state["name"]``, after
    checking that every key is there with the target's shape (nothing is written)."""
    pairs = []
    for name in names:
        key = name.lstrip("_")
        if key not in state:
            raise KeyError(f"state has no {key!r}; give what state_dict() returned.")
        value = torch.as_tensor(state[key], dtype=torch.float64)
        target = getattr(owner, name)
        if value.shape != target.shape:
            raise ValueError(
                f"state[{key!r}] has shape {tuple(value.shape)}, this network needs "
                f"{tuple(target.shape)}; was it saved from another config?"
            )
        pairs.append((target, value))
    return pairs


class DiehlCookNetwork:
    """Diehl & Cook's network (module docstring): state, one-image simulation, presentation.

    Args:
        config: :class:`DiehlCookConfig`.
        generator: draws the initial weights (uniform in ``[w_init_low, w_init_high)``), which
            are then normalised to ``weight_sum``.

    All state is float64 on the CPU: :attr:`weight` ``[n_exc, n_input]`` (a transposed view of
    the ``[n_input, n_exc]`` array the kernel reads), :attr:`theta` ``[n_exc]`` in mV, both
    layers' :class:`~dendrix.spiking.functional.coba_lif.CobaLIFState`, the inhibitory spikes
    of the last step and the STDP traces; :meth:`state_dict` / :meth:`load_state_dict` save and
    restore all of it, so a run can stop and resume between images.
    """

    def __init__(self, config: DiehlCookConfig | None = None, *, generator: torch.Generator):
        self.config = DiehlCookConfig() if config is None else config
        if not isinstance(self.config, DiehlCookConfig):
            raise TypeError(f"config must be a DiehlCookConfig, got {type(self.config).__name__}.")
        generator = _check_generator(generator)
        c = self.config
        n, m = c.n_exc, c.n_input
        u = torch.rand(m, n, generator=generator, dtype=torch.float64)
        self._wt = (c.w_init_low + (c.w_init_high - c.w_init_low) * u).contiguous()
        self._wt.copy_(normalize_weights(self._wt.T, c.weight_sum).T)
        self.theta = torch.full((n,), c.theta_init, dtype=torch.float64)
        self._exc = torch.zeros(4, n, dtype=torch.float64)
        self._exc[V] = c.v_rest_exc + c.v_init_offset
        self._inh = torch.zeros(4, n, dtype=torch.float64)
        self._inh[V] = c.v_rest_inh + c.v_init_offset
        self._z_inh = torch.zeros(n, dtype=torch.float64)
        self._pre = torch.zeros(2, m, dtype=torch.float64)
        self._post = torch.zeros(2, n, dtype=torch.float64)
        self.rule: TripletSTDP | SymmetricSTDP
        if c.rule == "symmetric":
            self.rule = SymmetricSTDP(
                a_plus=c.nu_post,
                a_minus=c.nu_pre,
                tau_plus=c.tau_pre,
                tau_minus=c.tau_post1,
                dt=c.dt,
                pairing="nearest",
                bounds="hard",
                w_max=c.w_max,
                reduce="sum",
                check_finite=False,
            )
        else:
            self.rule = TripletSTDP.diehl_cook_2015(
                dt=c.dt,
                a3_plus=c.nu_post,
                a2_minus=c.nu_pre,
                tau_plus=c.tau_pre,
                tau_x=c.tau_pre,
                tau_minus=c.tau_post1,
                tau_y=c.tau_post2,
                w_max=c.w_max,
                reduce="sum",
                check_finite=False,
            )
        self.threshold = AdaptiveThreshold(
            theta_plus=c.theta_plus, tau_theta=c.tau_theta, dt=c.dt, check_finite=False
        )
        self.exc_params = CobaLIFParameters.diehl_cook_excitatory(
            tau_mem=c.tau_exc,
            tau_ge=c.tau_ge,
            tau_gi=c.tau_gi,
            v_rest=c.v_rest_exc,
            v_reset=c.v_reset_exc,
            v_th=c.v_thresh_exc - c.theta_offset,  # + theta, per step
            e_exc=c.e_exc,
            e_inh=c.e_inh_exc,
            t_ref=c.t_ref_exc,
        )
        self.inh_params = CobaLIFParameters.diehl_cook_inhibitory(
            tau_mem=c.tau_inh,
            tau_ge=c.tau_ge,
            tau_gi=c.tau_gi,
            v_rest=c.v_rest_inh,
            v_reset=c.v_reset_inh,
            v_th=c.v_thresh_inh,
            e_exc=c.e_exc,
            e_inh=c.e_inh_inh,
            t_ref=c.t_ref_inh,
        )
        self._fparams = self._kernel_fparams()
        self._iparams = np.array(
            [
                refractory_steps(c.t_ref_exc, c.dt),
                refractory_steps(c.t_ref_inh, c.dt),
                c.steps_present,
                c.steps_rest,
                int(c.rule == "symmetric"),
            ],
            dtype=np.int64,
        )

    def _kernel_fparams(self) -> np.ndarray:
        c, d = self.config, decay_unchecked
        f = np.zeros(N_FPARAMS)
        f[F_ALPHA_E], f[F_ALPHA_I], f[F_DT] = d(c.tau_ge, c.dt), d(c.tau_gi, c.dt), c.dt
        f[F_TAU_E], f[F_VREST_E], f[F_VRESET_E] = c.tau_exc, c.v_rest_exc, c.v_reset_exc
        f[F_VTH_E], f[F_EINH_E] = c.v_thresh_exc - c.theta_offset, c.e_inh_exc
        f[F_TAU_I], f[F_VREST_I], f[F_VRESET_I] = c.tau_inh, c.v_rest_inh, c.v_reset_inh
        f[F_EINH_I] = c.e_inh_inh
        f[F_VTH_I], f[F_EEXC], f[F_W_EI], f[F_W_IE] = (
            c.v_thresh_inh, c.e_exc, c.w_exc_inh, c.w_inh_exc,
        )  # fmt: skip
        f[F_D_PRE], f[F_D_X] = d(c.tau_pre, c.dt), d(c.tau_pre, c.dt)
        f[F_D_POST1], f[F_D_POST2] = d(c.tau_post1, c.dt), d(c.tau_post2, c.dt)
        f[F_NU_PRE], f[F_NU_POST], f[F_W_MAX] = c.nu_pre, c.nu_post, c.w_max
        f[F_D_THETA], f[F_THETA_PLUS] = d(c.tau_theta, c.dt), c.theta_plus
        f[F_WEIGHT_SUM] = c.weight_sum
        return f

    # -- state -------------------------------------------------------------------------------
    @property
    def weight(self) -> Tensor:
        """Input weights ``[n_exc, n_input]`` (a view: writing it changes the network)."""
        return self._wt.T

    def exc_state(self) -> CobaLIFState:
        """The excitatory layer's state, each field ``[1, n_exc]`` (copies)."""
        return CobaLIFState(*(row.clone().unsqueeze(0) for row in self._exc))

    def inh_state(self) -> CobaLIFState:
        """The inhibitory layer's state, each field ``[1, n_exc]`` (copies)."""
        return CobaLIFState(*(row.clone().unsqueeze(0) for row in self._inh))

    def stdp_state(self) -> TripletSTDPState | STDPState:
        """The STDP traces as the rule's state (copies): for the triplet rule ``r1, r2``
        ``[1, n_input]`` and ``o1, o2`` ``[1, n_exc]``; for the symmetric rule ``pre_trace``
        (``r1``) and ``post_trace`` (``o1``)."""
        if self.config.rule == "symmetric":
            return STDPState(pre_trace=self._pre[0:1].clone(), post_trace=self._post[0:1].clone())
        return TripletSTDPState(
            r1=self._pre[0:1].clone(),
            r2=self._pre[1:2].clone(),
            o1=self._post[0:1].clone(),
            o2=self._post[1:2].clone(),
        )

    _STATE = ("_wt", "theta", "_exc", "_inh", "_z_inh", "_pre", "_post")

    def state_dict(self) -> dict[str, Tensor]:
        """Every state tensor (copies), enough to resume exactly between images.

        Keys: ``wt`` the weights transposed ``[n_input, n_exc]``, ``theta`` ``[n_exc]``,
        ``exc`` and ``inh`` ``[4, n_exc]`` (rows ``v``, ``g_e``, ``g_i``, refractory steps
        ``r``), ``z_inh`` ``[n_exc]`` the last step's inhibitory spikes, ``pre``
        ``[2, n_input]`` (STDP traces ``r1``, ``r2``) and ``post`` ``[2, n_exc]`` (``o1``,
        ``o2``; ``r2`` and ``o2`` stay 0 under the symmetric rule).
        """
        return {name.lstrip("_"): getattr(self, name).clone() for name in self._STATE}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (tensors or NumPy arrays)."""
        for target, value in _checked_state(self, self._STATE, state):
            target.copy_(value)

    # -- input -------------------------------------------------------------------------------
    def encode(self, image: Tensor, intensity: float, generator: torch.Generator) -> InputSpikes:
        """Poisson spikes of ``image`` for one presentation, rate ``pixel * rate_per_level *
        intensity`` Hz (:func:`~dendrix.spiking.encoding.poisson_encode`).

        Only the non-zero pixels are drawn (a black pixel never spikes), so the draw costs
        ``steps_present * (non-zero pixels)`` uniforms of ``generator``.

        Args:
            image: ``[n_input]`` or ``[28, 28]`` grey levels 0..255 (uint8 or float).
            intensity: > 0.
            generator: the :class:`torch.Generator` to draw from.
        """
        generator = _check_generator(generator)
        c = self.config
        check_tensor("image", image)
        flat = image.reshape(-1)
        if flat.numel() != c.n_input:
            raise ValueError(
                f"image has {flat.numel()} pixels but the network has n_input={c.n_input} "
                "inputs; give one image (e.g. [28, 28] for MNIST)."
            )
        x = flat.to(torch.float64) / _MAX_PIXEL
        if bool((x < 0).any()) or bool((x > 1).any()):
            raise ValueError("image must hold grey levels in [0, 255].")
        intensity = check_float("intensity", intensity, minimum=0.0, open_min=True)
        active = torch.nonzero(x > 0).squeeze(1)  # [A]
        # the draw and the comparison of poisson_encode(x[active], T, ...), done in one pass
        # that also compresses the spikes (tested equal to poisson_encode)
        p = x[active] * (c.max_rate_hz(intensity) * c.dt)  # [A] spike probability per step
        u = torch.rand((c.steps_present, active.numel()), generator=generator)  # [T, A]
        ptr = np.zeros(c.steps_present + 1, dtype=np.int64)
        idx = np.empty(u.numel(), dtype=np.int64)
        nnz = _threshold_to_csr(u.numpy(), p.numpy(), active.numpy(), ptr, idx)
        return InputSpikes(ptr=torch.from_numpy(ptr), idx=torch.from_numpy(idx[:nnz].copy()))

    def _check_spikes(self, spikes: InputSpikes) -> None:
        if not isinstance(spikes, InputSpikes):
            raise TypeError(
                f"spikes must be InputSpikes (from encode), got {type(spikes).__name__}."
            )
        c = self.config
        check_tensor("spikes.ptr", spikes.ptr, kind="integer", ndim=1)
        check_tensor("spikes.idx", spikes.idx, kind="integer", ndim=1)
        if spikes.ptr.numel() != c.steps_present + 1:
            raise ValueError(
                f"spikes.ptr has {spikes.ptr.numel()} entries, a presentation of "
                f"{c.steps_present} steps needs {c.steps_present + 1}."
            )
        if int(spikes.ptr[-1]) != spikes.idx.numel() or int(spikes.ptr[0]) != 0:
            raise ValueError("spikes.ptr must start at 0 and end at len(spikes.idx).")
        if spikes.idx.numel() and not (
            0 <= int(spikes.idx.min()) <= int(spikes.idx.max()) < c.n_input
        ):
            raise ValueError(f"spikes.idx must lie in [0, n_input={c.n_input}).")

    # -- one image ---------------------------------------------------------------------------
    def run(
        self,
        spikes: InputSpikes,
        *,
        learn: bool,
        backend: str = "kernel",
        raster: Tensor | None = None,
    ) -> Tensor:
        """Simulate one presentation of ``spikes`` and the rest after it; return the counts.

        Args:
            spikes: :class:`InputSpikes` of one presentation (:meth:`encode`).
            learn: STDP and threshold adaptation on, weights normalised at the end; off: all
                weights and :math:`\\theta` stay as they are.
            backend: ``"kernel"`` (numba, fast) or ``"reference"`` (readable torch loop).
            raster: optional uint8 ``[steps_present + steps_rest, n_exc]`` tensor, overwritten
                with every excitatory spike of the image (presentation and rest): the input of
                a layer downstream (:mod:`dendrix.plasticity.sym_stdp`).

        Returns:
            int64 ``[n_exc]`` excitatory spike counts during the presentation.
        """
        self._check_spikes(spikes)
        check_choice("backend", backend, BACKENDS)
        c = self.config
        if raster is None:
            out = np.zeros((0, c.n_exc), dtype=np.uint8)
        else:
            shape = (c.steps_present + c.steps_rest, c.n_exc)
            check_tensor("raster", raster, ndim=2)
            if raster.dtype != torch.uint8 or tuple(raster.shape) != shape:
                raise ValueError(
                    f"raster must be a uint8 tensor of shape {shape} (steps, n_exc), got "
                    f"{raster.dtype} {tuple(raster.shape)}; allocate torch.zeros({shape}, "
                    "dtype=torch.uint8)."
                )
            if not raster.is_contiguous():
                raise ValueError("raster must be contiguous (it is written in place).")
            out = raster.numpy()
        if backend == "reference":
            return self._run_reference(spikes, bool(learn), raster)
        counts = np.zeros(c.n_exc, dtype=np.int64)
        simulate_image(
            spikes.ptr.numpy(),
            spikes.idx.numpy(),
            self._wt.numpy(),
            self.theta.numpy(),
            self._exc.numpy(),
            self._inh.numpy(),
            self._z_inh.numpy(),
            self._pre.numpy(),
            self._post.numpy(),
            self._fparams,
            self._iparams,
            bool(learn),
            counts,
            out,
        )
        return torch.from_numpy(counts)

    @torch.no_grad()
    def _run_reference(self, spikes: InputSpikes, learn: bool, raster: Tensor | None) -> Tensor:
        """The readable path: the model composed from dendrix's step functions and rules."""
        c = self.config
        dense = spikes.dense(c.n_input)  # [T, n_input]
        silence = torch.zeros(1, c.n_input, dtype=torch.float64)
        exc, inh, traces = self.exc_state(), self.inh_state(), self.stdp_state()
        z_inh = self._z_inh.clone().unsqueeze(0)  # [1, n_exc]
        theta = self.theta.clone()  # [n_exc]
        weight = self.weight  # [n_exc, n_input], written in place by update_
        base_threshold = self.exc_params.v_th
        counts = torch.zeros(c.n_exc, dtype=torch.int64)
        for t in range(c.steps_present + c.steps_rest):
            s = dense[t : t + 1] if t < c.steps_present else silence  # [1, n_input]
            x_e = s @ weight.T  # [1, n_exc]
            x_i = -lateral_inhibition(z_inh, c.w_inh_exc)  # all but self, >= 0
            p_exc = self.exc_params._replace(v_th=base_threshold + theta)
            z_exc, exc = coba_lif_step(x_e, exc, p_exc, c.dt, x_i)
            z_inh, inh = coba_lif_step(c.w_exc_inh * z_exc, inh, self.inh_params, c.dt)
            if t < c.steps_present:
                counts += z_exc[0].to(torch.int64)
            if raster is not None:
                raster[t] = z_exc[0].to(torch.uint8)
            if learn:
                traces = self.rule.update_(s, z_exc, traces, weight)
                theta = self.threshold.update(z_exc, theta)
        if learn:
            weight.copy_(normalize_weights(weight, c.weight_sum))
            self.theta.copy_(theta)
            if isinstance(traces, STDPState):  # symmetric rule: r2 and o2 stay 0
                self._pre[0].copy_(traces.pre_trace[0])
                self._post[0].copy_(traces.post_trace[0])
            else:
                self._pre.copy_(torch.cat([traces.r1, traces.r2]))
                self._post.copy_(torch.cat([traces.o1, traces.o2]))
        self._exc.copy_(torch.cat(list(exc)))
        self._inh.copy_(torch.cat(list(inh)))
        self._z_inh.copy_(z_inh[0])
        return counts

    def present(
        self,
        image: Tensor,
        *,
        learn: bool,
        generator: torch.Generator,
        backend: str = "kernel",
        record: bool = False,
    ) -> Presentation:
        """Show ``image`` until the excitatory layer fires ``min_spikes`` (re-presentation rule).

        Each presentation draws fresh Poisson spikes at the current intensity (starting at
        ``intensity``) and runs :meth:`run`; with fewer than ``min_spikes`` excitatory spikes
        the intensity rises by 1 and the image is shown again, up to ``max_intensity``.

        Args:
            image: ``[n_input]`` or ``[28, 28]`` grey levels 0..255.
            learn: training (plastic) or frozen (labelling, testing).
            generator: the :class:`torch.Generator` of the Poisson draws.
            backend: as in :meth:`run`.
            record: also return the spike raster of the accepted presentation.
        """
        c = self.config
        intensity = c.intensity
        shown = 0
        raster = (
            torch.zeros(c.steps_present + c.steps_rest, c.n_exc, dtype=torch.uint8)
            if record
            else None
        )
        while True:
            counts = self.run(
                self.encode(image, intensity, generator),
                learn=learn,
                backend=backend,
                raster=raster,
            )
            shown += 1
            if int(counts.sum()) >= c.min_spikes or intensity + 1.0 > c.max_intensity:
                return Presentation(counts, intensity, shown, raster)
            intensity += 1.0

    def responses(
        self,
        images: Tensor,
        *,
        generator: torch.Generator,
        backend: str = "kernel",
        progress: Any = None,
    ) -> Tensor:
        """Frozen responses (learning off, :math:`\\theta` fixed) to ``images`` ``[N, ...]``.

        Returns:
            int64 ``[N, n_exc]`` spike counts, one row per image.
        """
        out = torch.zeros(len(images), self.config.n_exc, dtype=torch.int64)
        for k in range(len(images)):
            out[k] = self.present(
                images[k], learn=False, generator=generator, backend=backend
            ).counts
            if progress is not None:
                progress.update(1)
        return out


# ---------------------------------------------------------------------------------------------
# Labels and accuracy
# ---------------------------------------------------------------------------------------------
def assign_labels(responses: Tensor, labels: Tensor, n_classes: int = 10) -> Tensor:
    """Each neuron's class: the one with its highest mean response (Diehl & Cook).

    :math:`a_i = \\arg\\max_c \\bar r_{ic}`, :math:`\\bar r_{ic}` the mean count of neuron
    :math:`i` over the images of class :math:`c`; a neuron that never responded is left
    unassigned (-1, as in their evaluation script); ties go to the lower class.

    Args:
        responses: ``[N, n_exc]`` spike counts of labelled (training) images.
        labels: ``[N]`` integer classes in ``[0, n_classes)``.
        n_classes: number of classes.

    Returns:
        int64 ``[n_exc]`` assignments in ``[-1, n_classes)``.

    Example:
        >>> r = torch.tensor([[3, 0, 0], [0, 2, 0], [4, 0, 0]])
        >>> assign_labels(r, torch.tensor([1, 0, 1]), n_classes=2).tolist()
        [1, 0, -1]
    """
    rates = _class_means(responses, labels, n_classes)  # [n_classes, n_exc]
    best, cls = rates.max(0)
    return torch.where(best > 0, cls, torch.full_like(cls, -1))


def _class_means(responses: Tensor, labels: Tensor, n_classes: int) -> Tensor:
    check_tensor("responses", responses, ndim=2)
    check_tensor("labels", labels, kind="integer", ndim=1)
    n_classes = check_int("n_classes", n_classes, minimum=1)
    if labels.numel() != responses.shape[0]:
        raise ValueError(
            f"labels has {labels.numel()} entries but responses has {responses.shape[0]} rows; "
            "give one label per image."
        )
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, n_classes={n_classes}).")
    r = responses.to(torch.float64)
    sums = torch.zeros(n_classes, r.shape[1], dtype=torch.float64).index_add_(0, labels, r)
    n = torch.bincount(labels, minlength=n_classes).to(torch.float64)
    return sums / n.clamp(min=1).unsqueeze(1)  # classes without images: 0


def predict(responses: Tensor, assignments: Tensor, n_classes: int = 10) -> Tensor:
    """Diehl & Cook's vote: the class whose assigned neurons respond most on average.

    :math:`\\hat y = \\arg\\max_c \\frac{1}{|A_c|}\\sum_{i \\in A_c} r_i`,
    :math:`A_c = \\{i : a_i = c\\}` (a class with no neuron scores 0; ties go to the lower
    class).

    Args:
        responses: ``[N, n_exc]`` spike counts.
        assignments: int64 ``[n_exc]`` from :func:`assign_labels`.
        n_classes: number of classes.

    Returns:
        int64 ``[N]`` predicted classes.

    Example:
        >>> predict(torch.tensor([[5, 0, 1], [0, 3, 0]]), torch.tensor([1, 0, 1]), 2).tolist()
        [1, 0]
    """
    check_tensor("responses", responses, ndim=2)
    check_tensor("assignments", assignments, kind="integer", ndim=1)
    if assignments.numel() != responses.shape[1]:
        raise ValueError(
            f"assignments has {assignments.numel()} entries but responses has "
            f"{responses.shape[1]} neurons (columns)."
        )
    n_classes = check_int("n_classes", n_classes, minimum=1)
    r = responses.to(torch.float64)
    one_hot = torch.stack([(assignments == c).to(torch.float64) for c in range(n_classes)], 1)
    per_class = one_hot.sum(0).clamp(min=1)  # [n_classes]
    scores = (r @ one_hot) / per_class  # [N, n_exc] @ [n_exc, n_classes]
    return scores.argmax(1)


def accuracy(predictions: Tensor, labels: Tensor) -> float:
    """Percentage of ``predictions`` equal to ``labels``."""
    check_tensor("predictions", predictions, kind="integer", ndim=1)
    check_tensor("labels", labels, kind="integer", ndim=1)
    if predictions.shape != labels.shape:
        raise ValueError("predictions and labels must have the same length.")
    return 100.0 * float((predictions == labels).sum()) / max(labels.numel(), 1)

r"""Conductance-based LIF neuron (Diehl & Cook's neurons), one time step.

.. math::

    g_{e,t} &= \alpha_e\, g_{e,t-1} + x^{e}_t, \qquad \alpha_e = e^{-dt/\tau_{ge}},
    \qquad g_{i,t} = \alpha_i\, g_{i,t-1} + x^{i}_t                        &\text{(synapse)}\\
    \tau_m \dot v &= (v_{rest} - v) + g_e (E_{exc} - v) + g_i (E_{inh} - v)   &\text{(membrane)}\\
    h_t &= v_\infty + (v_{t-1} - v_\infty)\, e^{-dt (1 + g_e + g_i)/\tau_m},
    \quad v_\infty = \frac{v_{rest} + g_e E_{exc} + g_i E_{inh}}{1 + g_e + g_i}   &\text{(charge)}\\
    z_t &= H\big((h_t - \vartheta)/v_{scale}\big), \qquad
    v_t = h_t (1 - z_t) + z_t\, v_{reset}                                   &\text{(fire, reset)}

**Units.** Membrane potentials (:math:`v`, :math:`v_{rest}`, :math:`v_{reset}`, the threshold
:math:`\vartheta` and the reversal potentials :math:`E_{exc}`, :math:`E_{inh}`) are in
**millivolts**, as published (Diehl & Cook 2015): this family, like the Izhikevich neuron, is
an exception to the dimensionless membranes of :mod:`dendrix.spiking.functional.base`.
Conductances :math:`g_e`, :math:`g_i` are dimensionless, in units of the leak conductance
(Diehl & Cook's ``ge * nS`` over a leak of 1 nS); the inputs :math:`x^e`, :math:`x^i` are the
conductance jumps of the step (a synaptic weight per presynaptic spike). Time constants
:math:`\tau_m`, :math:`\tau_{ge}`, :math:`\tau_{gi}` and the step :math:`dt` are in seconds.

**Integration.** Conductances decay exactly (:func:`~dendrix.spiking.functional.base.decay`)
and then receive the step's input, so an input reaches the membrane in the same step. The
membrane is integrated exactly over the step with the conductances held at their new values
(the exponential-Euler scheme): :math:`h` is a convex combination of :math:`v_{t-1}` and
:math:`v_\infty`, and :math:`v_\infty` one of :math:`v_{rest}`, :math:`E_{exc}`,
:math:`E_{inh}`, so the membrane can never leave :math:`[\min(E_{inh}, v_{rest}, v_0),
\max(E_{exc}, v_{rest}, v_0)]`, however strong the input (forward Euler, which Brian 1 applied
to these equations in Diehl & Cook's code, overshoots when :math:`dt (1 + g_e + g_i) >
\tau_m`).

**Refractory period.** ``t_ref`` seconds, rounded to :math:`n_{ref} =
\mathrm{round}(t_{ref}/dt)` steps: after a spike the membrane is clamped at :math:`v_{reset}`
and cannot fire for :math:`n_{ref}` steps (Brian's ``refractory``), while the conductances keep
integrating their input. The counter :math:`r` lives in the state.

**Spikes** use an exact Heaviside forward and a surrogate derivative backward
(:mod:`dendrix.spiking.surrogate`) on :math:`(h - \vartheta)/v_{scale}`, so the step is
differentiable like every family; ``v_scale`` (mV) sets the width of the surrogate.

Diehl PU, Cook M (2015) Unsupervised learning of digit recognition using spike-timing-dependent
plasticity. Front Comput Neurosci 9:99 (their Brian code: ``neuron_eqs_e``, ``neuron_eqs_i``);
Gerstner et al. 2014, *Neuronal Dynamics*, §1.3.3 (conductance-based synapses); the
exponential-Euler scheme: Rotter S, Diesmann M (1999) Biol Cybern 81:381-402 and Brian's
``exponential_euler``.

Example:
    >>> import torch
    >>> from dendrix.spiking.functional.coba_lif import (
    ...     CobaLIFParameters, coba_lif_initial_state, coba_lif_step)
    >>> p = CobaLIFParameters()          # Diehl & Cook's excitatory neuron (mV, s)
    >>> x = torch.tensor([[5.0, 200.0]])  # conductance jumps; the second is strong enough
    >>> z, s = coba_lif_step(x, coba_lif_initial_state(x, p), p, dt=0.5e-3)
    >>> z.tolist(), [round(v, 3) for v in s.v[0].tolist()], s.r.tolist()
    ([[0.0, 1.0]], [-63.399, -65.0], [[0.0, 10.0]])
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dendrix.spiking.functional.base import decay_unchecked
from dendrix.spiking.functional.lif import refractory_steps
from dendrix.spiking.surrogate import FastSigmoid, Surrogate

__all__ = [
    "CobaLIFParameters",
    "CobaLIFState",
    "coba_lif_charge",
    "coba_lif_conductance",
    "coba_lif_fire",
    "coba_lif_initial_state",
    "coba_lif_reset",
    "coba_lif_step",
]


class CobaLIFState(NamedTuple):
    """State of a conductance-based LIF population, each ``[B, ...]``.

    Attributes:
        v: membrane potential in mV.
        g_e: excitatory conductance (units of the leak conductance).
        g_i: inhibitory conductance (units of the leak conductance).
        r: refractory steps left (0 when free).
    """

    v: Tensor
    g_e: Tensor
    g_i: Tensor
    r: Tensor


class CobaLIFParameters(NamedTuple):
    """Parameters of :func:`coba_lif_step`; defaults: Diehl & Cook's excitatory neuron.

    Attributes:
        tau_mem: membrane time constant :math:`\\tau_m` in seconds (100 ms).
        tau_ge: excitatory conductance time constant in seconds (1 ms).
        tau_gi: inhibitory conductance time constant in seconds (2 ms).
        v_rest: resting potential in mV (-65).
        v_reset: potential after a spike in mV (-65).
        v_th: threshold :math:`\\vartheta` in mV (-52); a float or a tensor broadcastable to
            the population (e.g. Diehl & Cook's :math:`-72 + \\theta` with an adaptive
            :math:`\\theta`).
        e_exc: excitatory reversal potential in mV (0).
        e_inh: inhibitory reversal potential in mV (-100).
        t_ref: absolute refractory period in seconds (5 ms; 0 disables it).
        v_scale: width of the surrogate in mV (the spike is :math:`H((h - \\vartheta)/v_{scale})`).
        detach_reset: use the spike without gradient in the reset.
        surrogate: spike function (:class:`~dendrix.spiking.surrogate.Surrogate`).

    Time constants, ``v_rest``, ``v_reset`` and ``v_th`` may be tensors broadcastable to the
    feature shape (heterogeneous or learnable).
    """

    tau_mem: Tensor | float = 100e-3
    tau_ge: Tensor | float = 1e-3
    tau_gi: Tensor | float = 2e-3
    v_rest: Tensor | float = -65.0
    v_reset: Tensor | float = -65.0
    v_th: Tensor | float = -52.0
    e_exc: float = 0.0
    e_inh: float = -100.0
    t_ref: float = 5e-3
    v_scale: float = 1.0
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()

    @classmethod
    def diehl_cook_excitatory(cls, **overrides: object) -> CobaLIFParameters:
        """Diehl & Cook's excitatory neuron: rest and reset -65 mV, threshold -52 mV (before
        their adaptive :math:`\\theta` and offset), :math:`\\tau_m` = 100 ms, refractory 5 ms,
        :math:`E_{inh}` = -100 mV (``neuron_eqs_e`` of their code)."""
        return cls()._replace(**overrides)

    @classmethod
    def diehl_cook_inhibitory(cls, **overrides: object) -> CobaLIFParameters:
        """Diehl & Cook's inhibitory neuron: rest -60 mV, reset -45 mV, threshold -40 mV,
        :math:`\\tau_m` = 10 ms, refractory 2 ms, :math:`E_{inh}` = -85 mV (``neuron_eqs_i``)."""
        p = cls(tau_mem=10e-3, v_rest=-60.0, v_reset=-45.0, v_th=-40.0, e_inh=-85.0, t_ref=2e-3)
        return p._replace(**overrides)


def coba_lif_initial_state(x: Tensor, p: CobaLIFParameters | None = None) -> CobaLIFState:
    """Resting state shaped like one input step ``x`` ``[B, ...]``: ``v = v_rest``, no
    conductance, not refractory."""
    v_rest = CobaLIFParameters().v_rest if p is None else p.v_rest
    zeros = torch.zeros_like(x)
    return CobaLIFState(v=zeros + v_rest, g_e=zeros, g_i=zeros.clone(), r=zeros.clone())


def coba_lif_conductance(g: Tensor, x: Tensor | None, alpha: Tensor | float) -> Tensor:
    """Synapse phase :math:`g \\leftarrow \\alpha g + x` (``x = None``: no input)."""
    g = alpha * g
    return g if x is None else g + x


def coba_lif_charge(v: Tensor, g_e: Tensor, g_i: Tensor, p: CobaLIFParameters, dt: float) -> Tensor:
    """Membrane phase: exact integration over ``dt`` with the conductances held (module
    docstring), :math:`h = v_\\infty + (v - v_\\infty) e^{-dt (1 + g_e + g_i)/\\tau_m}`."""
    g_total = 1.0 + g_e + g_i
    v_inf = (p.v_rest + g_e * p.e_exc + g_i * p.e_inh) / g_total
    return v_inf + (v - v_inf) * torch.exp(-dt * g_total / p.tau_mem)


def coba_lif_fire(h: Tensor, p: CobaLIFParameters) -> Tensor:
    """:math:`z = H((h - \\vartheta)/v_{scale})` with a surrogate gradient."""
    return p.surrogate((h - p.v_th) / p.v_scale)


def coba_lif_reset(h: Tensor, z: Tensor, v_reset: Tensor | float, detach: bool) -> Tensor:
    """:math:`v = h (1 - z) + z\\, v_{reset}`."""
    if detach:
        z = z.detach()
    return h * (1.0 - z) + z * v_reset


def coba_lif_step(
    x: Tensor,
    state: CobaLIFState,
    p: CobaLIFParameters,
    dt: float,
    x_inh: Tensor | None = None,
) -> tuple[Tensor, CobaLIFState]:
    """One step (module docstring): conductances, charge, fire, reset, refractory count.

    Args:
        x: excitatory conductance jumps of the step :math:`x^e` ``[B, ...]`` (>= 0 for an
            excitatory synapse; units of the leak conductance).
        state: :class:`CobaLIFState` of the same shape.
        p: :class:`CobaLIFParameters`.
        dt: time step in seconds.
        x_inh: inhibitory conductance jumps :math:`x^i` ``[B, ...]`` (``None``: none).

    Returns:
        ``(z, state)``: spikes ``[B, ...]`` (0/1 in the dtype of ``x``) and the new state.
    """
    g_e = coba_lif_conductance(state.g_e, x, decay_unchecked(p.tau_ge, dt))
    g_i = coba_lif_conductance(state.g_i, x_inh, decay_unchecked(p.tau_gi, dt))
    h = coba_lif_charge(state.v, g_e, g_i, p, dt)
    n_ref = refractory_steps(p.t_ref, dt) if p.t_ref > 0 else 0
    if n_ref > 0:
        free = state.r <= 0
        h = torch.where(free, h, state.v)  # clamped at v_reset while refractory
        z = coba_lif_fire(h, p) * free.to(h.dtype)
        r = torch.where(z > 0, torch.full_like(state.r, n_ref), (state.r - 1).clamp(min=0))
    else:
        z = coba_lif_fire(h, p)
        r = state.r
    v = coba_lif_reset(h, z, p.v_reset, p.detach_reset)
    return z, CobaLIFState(v=v, g_e=g_e, g_i=g_i, r=r)

r"""Spike-timing-dependent plasticity with exponential traces: pair, symmetric and triplet rules.

**Pair STDP** (:class:`STDP`). A presynaptic trace :math:`x` (time constant :math:`\tau_+`) and
a postsynaptic trace :math:`y` (:math:`\tau_-`) follow :mod:`dendrix.plasticity.traces`; per step

.. math::

    \Delta w_{ij} = A_+\, f_+(w_{ij})\; z^{post}_i\, x_j \;-\; A_-\, f_-(w_{ij})\; y_i\, z^{pre}_j

so a pre spike followed by a post spike :math:`\Delta t = t_{post} - t_{pre} \ge 0` later
changes the weight by :math:`+A_+ e^{-\Delta t/\tau_+}` and the reverse order by
:math:`-A_- e^{-|\Delta t|/\tau_-}`. :math:`A_\pm` are dimensionless amplitudes (weight units),
:math:`\tau_\pm` and the step :math:`dt` in seconds.

**Timing within a step.** The neurons of :mod:`dendrix.spiking` have no transmission delay: a pre
spike of step :math:`t` reaches its target in the same step. So a pre and a post spike in the
same step count as causal (:math:`\Delta t = 0`, potentiation :math:`A_+`) and never as
acausal. Concretely, each step: decay both traces; add this step's pre spikes to :math:`x`;
potentiate with :math:`z^{post} x`; depress with :math:`y z^{pre}`, :math:`y` still without this
step's post spikes; then add them to :math:`y`. This is the order of Brian's ``on_pre`` then
``on_post`` pathways, and of Diehl & Cook's code.

**Pairing.** ``pairing="all_to_all"`` sums over every earlier spike of the partner;
``"nearest"`` resets a trace to 1 at each spike, so a spike pairs only with the partner's most
recent spike (the symmetric nearest-spike scheme of Morrison et al. 2008, sec. 4.1.2).

**Weight dependence** (``bounds``):

- ``"none"``: additive, :math:`f_\pm = 1`, no bounds (Song, Miller & Abbott 2000).
- ``"hard"``: additive, and :math:`w + \Delta w` clipped into :math:`[w_{min}, w_{max}]`.
- ``"soft"``: multiplicative, :math:`f_+ = (w_{max} - w)^\mu`, :math:`f_- = (w - w_{min})^\mu`,
  so updates shrink to zero at the bounds (van Rossum, Bi & Turrigiano 2000 for :math:`\mu = 1`;
  Gütig et al. 2003 for :math:`0 \le \mu \le 1`); the result is also clipped, in case a large
  step overshoots.

**Symmetric STDP** (:class:`SymmetricSTDP`; Hao et al. 2020) potentiates for both orders,
:math:`\Delta w = +A_+ e^{-\Delta t/\tau_+}` for :math:`\Delta t \ge 0` and
:math:`+A_- e^{-|\Delta t|/\tau_-}` for :math:`\Delta t < 0`, i.e.
:math:`\propto e^{-|\Delta t|/\tau}` when :math:`A_+ = A_-` and :math:`\tau_+ = \tau_-`; soft
bounds use :math:`f_+` on both branches.

**Triplet STDP** (:class:`TripletSTDP`; Pfister & Gerstner 2006, eqs. 3-4). Two pre traces
:math:`r_1` (:math:`\tau_+`), :math:`r_2` (:math:`\tau_x`), two post traces :math:`o_1`
(:math:`\tau_-`), :math:`o_2` (:math:`\tau_y`):

.. math::

    \Delta w &= z^{post}\, r_1 \,[A_2^+ + A_3^+\, o_2(t - \epsilon)]
             \;-\; o_1\, z^{pre}\, [A_2^- + A_3^-\, r_2(t - \epsilon)]

where :math:`t - \epsilon` means "before this step's own spike is added"; so a second post spike
:math:`\Delta t_2` after the first adds :math:`A_3^+ e^{-\Delta t_2/\tau_y}` to the pair term.
With :math:`A_3^\pm = 0` it is pair STDP.

**Steps.** ``update(pre, post, state, weight) -> (dw, state)`` is the pure reference: it writes
nothing (:mod:`dendrix.plasticity.base` for shapes, the batch reduction and how to apply
``dw``). ``update_(pre, post, state, weight) -> state`` is the event-driven fast path: it adds
the same update to ``weight`` in place, computing only the rows of neurons and the columns of
inputs that spiked, so its cost follows the activity rather than the size of the weight
matrix. ``term`` gives the per-sample update that a three-factor rule stores.

References: Bi GQ, Poo MM (1998) J Neurosci 18:10464-10472; Song S, Miller KD, Abbott LF (2000)
Nat Neurosci 3:919-926; van Rossum MCW, Bi GQ, Turrigiano GG (2000) J Neurosci 20:8812-8821;
Gütig R, Aharonov R, Rotter S, Sompolinsky H (2003) J Neurosci 23:3697-3714; Morrison A,
Diesmann M, Gerstner W (2008) Biol Cybern 98:459-478; Pfister JP, Gerstner W (2006) J Neurosci
26:9673-9682; Hao Y, Huang X, Dong M, Xu B (2020) A biologically plausible supervised learning
method for spiking neural networks using the symmetric STDP rule. Neural Netw 121:387-395;
Diehl PU, Cook M (2015) Front Comput Neurosci 9:99.

Example:
    >>> import torch
    >>> from dendrix.plasticity import STDP
    >>> rule = STDP(a_plus=0.01, tau_plus=20e-3, dt=1e-3)
    >>> w = torch.full((1, 1), 0.5)
    >>> state = rule.initial_state(w)
    >>> one, zero = torch.ones(1, 1), torch.zeros(1, 1)
    >>> _, state = rule.update(one, zero, state, w)      # pre spike at t = 0
    >>> for _ in range(4):                              # silence until t = 5 ms
    ...     _, state = rule.update(zero, zero, state, w)
    >>> dw, state = rule.update(zero, one, state, w)     # post spike at t = 5 ms
    >>> round(dw.item(), 7)                              # 0.01 * exp(-5/20)
    0.007788
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor

from dendrix._validation import check_choice, check_float, check_int, check_tensor
from dendrix.plasticity.base import (
    BOUNDS,
    RULES,
    RuleSpec,
    check_bounds,
    check_layer,
    check_reduce,
    check_state_shapes,
    clip_update,
    reduce_batch,
)
from dendrix.plasticity.traces import TRACE_MODES, trace_decay, trace_spike
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked

__all__ = ["STDP", "STDPState", "SymmetricSTDP", "TripletSTDP", "TripletSTDPState"]


class STDPState(NamedTuple):
    """Traces of a pair rule.

    Attributes:
        pre_trace: presynaptic trace :math:`x` ``[B, n_in]`` (time constant ``tau_plus``).
        post_trace: postsynaptic trace :math:`y` ``[B, n_out]`` (time constant ``tau_minus``).
    """

    pre_trace: Tensor
    post_trace: Tensor


class TripletSTDPState(NamedTuple):
    """Traces of :class:`TripletSTDP`: ``r1``, ``r2`` ``[B, n_in]``; ``o1``, ``o2`` ``[B, n_out]``.

    Attributes:
        r1, r2: presynaptic traces (time constants ``tau_plus``, ``tau_x``).
        o1, o2: postsynaptic traces (time constants ``tau_minus``, ``tau_y``).
    """

    r1: Tensor
    r2: Tensor
    o1: Tensor
    o2: Tensor


# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------
def _outer(a: Tensor, b: Tensor, per_sample: bool) -> Tensor:
    """Batch outer product: ``[B, o] x [B, i] -> [o, i]`` summed over B, or ``[B, o, i]``."""
    return torch.einsum("bo,bi->boi" if per_sample else "bo,bi->oi", a, b)


def _active(s: Tensor) -> Tensor:
    """Indices of the columns of ``s`` ``[B, n]`` that hold any nonzero entry."""
    return (s != 0).any(0).nonzero().squeeze(1)


class _Factors(NamedTuple):
    """One step of a spike-timing rule, as two outer products.

    ``dw = f_+(w) * sum_b post_gain^T causal_trace + sign * f(w) * sum_b acausal_trace^T pre_gain``
    """

    post_gain: Tensor  # [B, n_out]: post spikes times their amplitude
    causal_trace: Tensor  # [B, n_in]: pre trace including this step's pre spikes
    acausal_trace: Tensor  # [B, n_out]: post trace without this step's post spikes
    pre_gain: Tensor  # [B, n_in]: pre spikes times their amplitude


class _SpikeRule:
    """The engine shared by the spike-timing rules: checks, the two outer products, bounds.

    A rule provides :meth:`initial_state`, ``_state_shapes`` and ``_factors``; this class turns
    them into :meth:`update` (pure), :meth:`term` (per sample) and :meth:`update_` (in place,
    event-driven).
    """

    bounds: str
    w_min: float
    w_max: float
    mu: float
    reduce: str
    check_finite: bool
    dt: float

    #: +1 for symmetric STDP (both orders potentiate), -1 for depression.
    _acausal_sign: ClassVar[float] = -1.0

    # -- provided by each rule -----------------------------------------------------------
    def initial_state(self, weight: Tensor, batch_size: int = 1) -> Any:
        raise NotImplementedError

    def _state_shapes(self, pre: Tensor, post: Tensor) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _factors(self, pre: Tensor, post: Tensor, state: Any) -> tuple[_Factors, Any]:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------
    def _check_common(self) -> None:
        check_float("dt", self.dt, minimum=0.0, open_min=True, hint="Give the step in seconds.")
        check_choice("bounds", self.bounds, BOUNDS)
        check_bounds(self.w_min, self.w_max)
        check_float("mu", self.mu, minimum=0.0, hint="mu = 1 is multiplicative, 0 additive.")
        check_reduce(self.reduce)

    def _check_batch(self, batch_size: object, weight: object) -> int:
        check_tensor("weight", weight, kind="floating", ndim=2)
        return check_int("batch_size", batch_size, minimum=1)

    def _prepare(self, pre: Tensor, post: Tensor, state: Any, weight: Tensor) -> Any:
        check_layer(pre, post, weight, check_finite=self.check_finite)
        if state is None:
            return self.initial_state(weight, pre.shape[0])
        check_state_shapes(
            state, self._state_shapes(pre, post), "rule.initial_state(weight, batch_size)"
        )
        return state

    def _potentiation_factor(self, w: Tensor) -> Tensor | float:
        if self.bounds != "soft":
            return 1.0
        return (self.w_max - w).clamp(min=0.0) ** self.mu

    def _acausal_factor(self, w: Tensor) -> Tensor | float:
        if self.bounds != "soft":
            return 1.0
        if self._acausal_sign > 0:  # symmetric: both branches potentiate
            return self._potentiation_factor(w)
        return (w - self.w_min).clamp(min=0.0) ** self.mu

    def _dense(self, f: _Factors, w: Tensor, per_sample: bool) -> Tensor:
        # [B, n_out] x [B, n_in] -> [n_out, n_in] (or [B, n_out, n_in] per sample)
        causal = _outer(f.post_gain, f.causal_trace, per_sample)
        acausal = _outer(f.acausal_trace, f.pre_gain, per_sample)
        return (
            self._potentiation_factor(w) * causal
            + self._acausal_sign * self._acausal_factor(w) * acausal
        )

    @torch.no_grad()
    def update(self, pre: Tensor, post: Tensor, state: Any, weight: Tensor) -> tuple[Tensor, Any]:
        """One step: the weight update and the new traces (pure; see the module docstring).

        Args:
            pre: presynaptic spikes of the step ``[B, n_in]``.
            post: postsynaptic spikes of the same step ``[B, n_out]``.
            state: the rule's state from :meth:`initial_state` or the previous step
                (``None``: start from empty traces).
            weight: current weights ``[n_out, n_in]`` (read for the bounds, never written).

        Returns:
            ``(dw, state)``: ``dw`` ``[n_out, n_in]`` reduced over the batch (and bounded),
            and the traces after this step.
        """
        state = self._prepare(pre, post, state, weight)
        factors, state = self._factors(pre, post, state)
        dw = reduce_batch(self._dense(factors, weight, False), pre.shape[0], self.reduce)
        if self.bounds != "none":
            dw = clip_update(dw, weight, self.w_min, self.w_max)
        return dw, state

    @torch.no_grad()
    def term(self, pre: Tensor, post: Tensor, state: Any, weight: Tensor) -> tuple[Tensor, Any]:
        """The per-sample update before batch reduction and clipping, ``[B, n_out, n_in]``.

        This is the Hebbian factor that a three-factor rule accumulates in its eligibility
        trace (:class:`~dendrix.plasticity.three_factor.ThreeFactor`). Arguments as in
        :meth:`update`.
        """
        state = self._prepare(pre, post, state, weight)
        factors, state = self._factors(pre, post, state)
        return self._dense(factors, weight, True), state

    @torch.no_grad()
    def update_(self, pre: Tensor, post: Tensor, state: Any, weight: Tensor) -> Any:
        """Event-driven, in place: add this step's update to ``weight``; return the new state.

        Only the rows of neurons that spiked (potentiation) and the columns of inputs that
        spiked (depression) are computed, written and clipped, so a step costs
        ``O((rows + columns) * n)`` instead of ``O(n_out * n_in)``: the fast path for sparse
        activity. For weights inside the bounds it equals
        ``weight += rule.update(pre, post, state, weight)[0]`` (weights outside the bounds are
        clipped only where a spike touches them). It reads spike indices, which synchronises
        with a GPU once per step.

        Args:
            pre, post, state: as in :meth:`update`.
            weight: ``[n_out, n_in]``, changed in place (an ``nn.Parameter`` is fine).

        Returns:
            the state after this step.
        """
        state = self._prepare(pre, post, state, weight)
        f, state = self._factors(pre, post, state)
        scale = 1.0 / pre.shape[0] if self.reduce == "mean" else 1.0
        rows, cols = _active(f.post_gain), _active(f.pre_gain)
        # both parts read the weights before this step, as the dense update does
        up = down = None
        if rows.numel():
            w_rows = weight.index_select(0, rows)  # [R, n_in]
            causal = _outer(f.post_gain.index_select(1, rows), f.causal_trace, False)
            up = (scale * self._potentiation_factor(w_rows)) * causal
        if cols.numel():
            w_cols = weight.index_select(1, cols)  # [n_out, C]
            acausal = _outer(f.acausal_trace, f.pre_gain.index_select(1, cols), False)
            down = (self._acausal_sign * scale * self._acausal_factor(w_cols)) * acausal
        if up is not None:
            weight.index_add_(0, rows, up)
        if down is not None:
            weight.index_add_(1, cols, down)
        if self.bounds != "none":
            if up is not None:
                weight.index_copy_(
                    0, rows, weight.index_select(0, rows).clamp_(self.w_min, self.w_max)
                )
            if down is not None:
                weight.index_copy_(
                    1, cols, weight.index_select(1, cols).clamp_(self.w_min, self.w_max)
                )
        return state


# ---------------------------------------------------------------------------------------------
# Pair STDP
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class STDP(_SpikeRule):
    """Pair-based STDP with exponential traces (module docstring for the equations).

    Args:
        a_plus: potentiation amplitude :math:`A_+ \\ge 0` (weight units per pair).
        a_minus: depression amplitude :math:`A_- \\ge 0` (weight units per pair; the sign is
            in the rule).
        tau_plus: potentiation window :math:`\\tau_+` (pre trace) in seconds.
        tau_minus: depression window :math:`\\tau_-` (post trace) in seconds.
        dt: time step in seconds (the step of the layer the rule is attached to).
        pairing: ``"all_to_all"`` or ``"nearest"``.
        bounds: ``"none"``, ``"hard"`` or ``"soft"``.
        w_min, w_max: weight bounds, ``w_min < w_max`` (used by ``"hard"`` and ``"soft"``).
        mu: soft-bound exponent :math:`\\mu \\ge 0`.
        reduce: ``"mean"`` or ``"sum"`` over the batch (:mod:`dendrix.plasticity.base`).
        check_finite: refuse NaN/inf inputs at every step (one device sync per step).

    Steps: :meth:`update` (pure, returns ``dw``), :meth:`update_` (in place, event-driven),
    :meth:`term` (per sample, for three-factor rules).
    """

    a_plus: float = 1e-2
    a_minus: float = 1e-2
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3
    dt: float = 1e-3
    pairing: str = "all_to_all"
    bounds: str = "hard"
    w_min: float = 0.0
    w_max: float = 1.0
    mu: float = 1.0
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        check_float("a_plus", self.a_plus, minimum=0.0, hint="Amplitudes are magnitudes.")
        check_float("a_minus", self.a_minus, minimum=0.0, hint="Amplitudes are magnitudes.")
        check_time_constant("tau_plus", self.tau_plus)
        check_time_constant("tau_minus", self.tau_minus)
        check_choice("pairing", self.pairing, TRACE_MODES)
        self._check_common()

    def initial_state(self, weight: Tensor, batch_size: int = 1) -> STDPState:
        """Empty traces for ``weight`` ``[n_out, n_in]`` and ``batch_size`` copies."""
        batch = self._check_batch(batch_size, weight)
        n_out, n_in = weight.shape
        z = weight.new_zeros
        return STDPState(pre_trace=z(batch, n_in), post_trace=z(batch, n_out))

    def _state_shapes(self, pre: Tensor, post: Tensor) -> dict[str, tuple[int, ...]]:
        return {"pre_trace": tuple(pre.shape), "post_trace": tuple(post.shape)}

    def _factors(self, pre: Tensor, post: Tensor, state: STDPState) -> tuple[_Factors, STDPState]:
        mode, dt = self.pairing, self.dt
        # pre trace with this step's pre spikes (they pair with this step's post spikes)
        x = trace_spike(
            trace_decay(state.pre_trace, decay_unchecked(self.tau_plus, dt)), pre, 1.0, mode
        )
        # post trace decayed, without this step's post spikes (no acausal pair at dt = 0)
        y = trace_decay(state.post_trace, decay_unchecked(self.tau_minus, dt))
        factors = _Factors(
            post_gain=self.a_plus * post,
            causal_trace=x,
            acausal_trace=y,
            pre_gain=self.a_minus * pre,
        )
        return factors, STDPState(pre_trace=x, post_trace=trace_spike(y, post, 1.0, mode))


@dataclass(frozen=True)
class SymmetricSTDP(STDP):
    """Symmetric STDP: both orders potentiate, :math:`\\Delta w \\propto e^{-|\\Delta t|/\\tau}`.

    Hao et al. 2020 (module docstring); the dopamine that gates it in their network is the
    third factor of :class:`~dendrix.plasticity.three_factor.ThreeFactor`. Arguments as in
    :class:`STDP`; ``a_minus`` is the (positive) amplitude for post-before-pre pairs.
    """

    _acausal_sign: ClassVar[float] = 1.0


# ---------------------------------------------------------------------------------------------
# Triplet STDP
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TripletSTDP(_SpikeRule):
    """Triplet STDP (Pfister & Gerstner 2006; module docstring for the equations).

    The defaults are the paper's visual-cortex fit, all-to-all pairing, full model (their
    Table 4): :math:`\\tau_+ = 16.8` ms, :math:`\\tau_- = 33.7` ms, :math:`\\tau_x = 101` ms,
    :math:`\\tau_y = 125` ms, :math:`A_2^+ = 5 \\cdot 10^{-10}`, :math:`A_3^+ = 6.2 \\cdot
    10^{-3}`, :math:`A_2^- = 7 \\cdot 10^{-3}`, :math:`A_3^- = 2.3 \\cdot 10^{-4}`.

    Args:
        a2_plus, a3_plus: pair and triplet potentiation amplitudes (>= 0).
        a2_minus, a3_minus: pair and triplet depression amplitudes (>= 0).
        tau_plus, tau_x: pre traces :math:`r_1`, :math:`r_2` in seconds.
        tau_minus, tau_y: post traces :math:`o_1`, :math:`o_2` in seconds.
        dt, pairing, bounds, w_min, w_max, mu, reduce, check_finite: as in :class:`STDP`.

    Steps: :meth:`update`, :meth:`update_`, :meth:`term`, as in :class:`STDP`.
    """

    a2_plus: float = 5e-10
    a3_plus: float = 6.2e-3
    a2_minus: float = 7e-3
    a3_minus: float = 2.3e-4
    tau_plus: float = 16.8e-3
    tau_minus: float = 33.7e-3
    tau_x: float = 101e-3
    tau_y: float = 125e-3
    dt: float = 1e-3
    pairing: str = "all_to_all"
    bounds: str = "hard"
    w_min: float = 0.0
    w_max: float = 1.0
    mu: float = 1.0
    reduce: str = "mean"
    check_finite: bool = True

    def __post_init__(self) -> None:
        for name in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            check_float(name, getattr(self, name), minimum=0.0, hint="Amplitudes are magnitudes.")
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_time_constant(name, getattr(self, name))
        check_choice("pairing", self.pairing, TRACE_MODES)
        self._check_common()

    @classmethod
    def diehl_cook_2015(cls, dt: float = 0.5e-3, **overrides: Any) -> TripletSTDP:
        """The rule of Diehl & Cook's published code (``eqs_stdp_*_ee``).

        On a pre spike ``w -= 1e-4 * post1``; on a post spike ``w += 1e-2 * pre * post2before``;
        traces set to 1 at spikes (nearest), ``tau_pre = tau_post1 = 20`` ms,
        ``tau_post2 = 40`` ms, ``w`` clipped into ``[0, 1]``. That is this rule with
        :math:`A_2^+ = A_3^- = 0`, :math:`A_3^+ = 10^{-2}`, :math:`A_2^- = 10^{-4}`.
        """
        params: dict[str, Any] = {
            "a2_plus": 0.0,
            "a3_plus": 1e-2,
            "a2_minus": 1e-4,
            "a3_minus": 0.0,
            "tau_plus": 20e-3,
            "tau_minus": 20e-3,
            "tau_x": 20e-3,
            "tau_y": 40e-3,
            "dt": dt,
            "pairing": "nearest",
            "bounds": "hard",
            "w_min": 0.0,
            "w_max": 1.0,
        }
        params.update(overrides)
        return cls(**params)

    def initial_state(self, weight: Tensor, batch_size: int = 1) -> TripletSTDPState:
        """Empty traces for ``weight`` ``[n_out, n_in]`` and ``batch_size`` copies."""
        batch = self._check_batch(batch_size, weight)
        n_out, n_in = weight.shape
        z = weight.new_zeros
        return TripletSTDPState(
            r1=z(batch, n_in), r2=z(batch, n_in), o1=z(batch, n_out), o2=z(batch, n_out)
        )

    def _state_shapes(self, pre: Tensor, post: Tensor) -> dict[str, tuple[int, ...]]:
        n_pre, n_post = tuple(pre.shape), tuple(post.shape)
        return {"r1": n_pre, "r2": n_pre, "o1": n_post, "o2": n_post}

    def _factors(
        self, pre: Tensor, post: Tensor, state: TripletSTDPState
    ) -> tuple[_Factors, TripletSTDPState]:
        mode, dt = self.pairing, self.dt
        r1 = trace_decay(state.r1, decay_unchecked(self.tau_plus, dt))
        r2_before = trace_decay(state.r2, decay_unchecked(self.tau_x, dt))
        o1 = trace_decay(state.o1, decay_unchecked(self.tau_minus, dt))
        o2_before = trace_decay(state.o2, decay_unchecked(self.tau_y, dt))
        r1 = trace_spike(r1, pre, 1.0, mode)  # this step's pre spike pairs with its post spike
        factors = _Factors(
            # on post spikes: z_post [A2+ + A3+ o2(t - eps)], times r1
            post_gain=post * (self.a2_plus + self.a3_plus * o2_before),
            causal_trace=r1,
            # on pre spikes: z_pre [A2- + A3- r2(t - eps)], times o1
            acausal_trace=o1,
            pre_gain=pre * (self.a2_minus + self.a3_minus * r2_before),
        )
        new_state = TripletSTDPState(
            r1=r1,
            r2=trace_spike(r2_before, pre, 1.0, mode),
            o1=trace_spike(o1, post, 1.0, mode),
            o2=trace_spike(o2_before, post, 1.0, mode),
        )
        return factors, new_state


RULES.add("stdp", RuleSpec(build=STDP))
RULES.add("stdp-symmetric", RuleSpec(build=SymmetricSTDP))
RULES.add("stdp-triplet", RuleSpec(build=TripletSTDP))
RULES.add("stdp-diehl-cook", RuleSpec(build=TripletSTDP.diehl_cook_2015))

r"""Three-factor rules: a Hebbian term stored in an eligibility trace, gated by a neuromodulator.

.. math::

    e_t &= e^{-dt/\tau_e}\, e_{t-1} + H_t                         &\text{(eligibility)}\\
    \Delta w_t &= \eta\, M_t\, e_t                                 &\text{(modulation)}

:math:`H_t` ``[B, n_out, n_in]`` is the per-sample Hebbian term of a two-factor rule (the pair
update of :class:`~dendrix.plasticity.stdp.STDP`, :class:`~dendrix.plasticity.stdp.TripletSTDP`,
:class:`~dendrix.plasticity.stdp.SymmetricSTDP`, or the rate product of
:class:`~dendrix.plasticity.hebbian.Hebb`), :math:`e` the eligibility trace (weight units),
:math:`\tau_e` its time constant and :math:`dt` the step in seconds, :math:`\eta` a
dimensionless learning rate and :math:`M_t` the neuromodulator of the step: a reward, a reward
prediction error :math:`R - \bar R` (:func:`reward_prediction_error`), a dopamine concentration
(e.g. a trace of rewards, :mod:`dendrix.plasticity.traces`) or a per-neuron error signal. The
update is zero whenever :math:`M = 0`, while the eligibility keeps the memory of recent
coincidences, so a reward that arrives up to a few :math:`\tau_e` later still credits them.

``modulator`` may be a number (one signal for everything), ``[B]`` (one per sample) or
``[B, n_out]`` (one per postsynaptic neuron, as in error-modulated rules). The batch reduction
and the bounds follow the Hebbian rule (``reduce``; ``bounds="hard"``/``"soft"`` clip the
weight into ``[w_min, w_max]``).

**Reward-modulated STDP** (:meth:`ThreeFactor.reward_modulated_stdp`) is the instance with a
pair-STDP term: Izhikevich 2007 (:math:`\tau_e = 1` s, the "synaptic tag" :math:`c`, gated by
dopamine :math:`d`), Florian 2007; the family is reviewed by Frémaux & Gerstner 2016.

References: Izhikevich EM (2007) Solving the distal reward problem through linkage of STDP and
dopamine signaling. Cereb Cortex 17:2443-2452; Florian RV (2007) Neural Comput 19:1468-1502;
Frémaux N, Gerstner W (2016) Neuromodulated spike-timing-dependent plasticity, and theory of
three-factor learning rules. Front Neural Circuits 9:85.

Example:
    >>> import torch
    >>> from dendrix.plasticity import ThreeFactor
    >>> rule = ThreeFactor.reward_modulated_stdp(a_plus=1.0, tau_e=1.0, eta=0.1, dt=1e-3)
    >>> w = torch.full((1, 1), 0.5)
    >>> one = torch.ones(1, 1)
    >>> dw, state = rule.update(one, one, None, w, modulator=0.0)   # a pair, no reward yet
    >>> dw.item(), state.eligibility.item()
    (0.0, 1.0)
    >>> dw, state = rule.update(0 * one, 0 * one, state, w, modulator=1.0)  # reward 1 ms later
    >>> round(dw.item(), 6)                                         # 0.1 * exp(-1e-3 / 1)
    0.0999
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import torch
from torch import Tensor

from dendrix._validation import check_float, check_tensor
from dendrix.plasticity.base import (
    RULES,
    RuleSpec,
    check_reduce,
    check_state_shapes,
    clip_update,
    reduce_batch,
)
from dendrix.plasticity.stdp import STDP
from dendrix.spiking.functional.base import check_time_constant, decay_unchecked

__all__ = ["HebbianTerm", "ThreeFactor", "ThreeFactorState", "reward_prediction_error"]


@runtime_checkable
class HebbianTerm(Protocol):
    """A two-factor rule that can give its per-sample term (``term``) and its state."""

    def initial_state(self, weight: Tensor, batch_size: int = 1) -> Any: ...

    def term(self, pre: Tensor, post: Tensor, state: Any, weight: Tensor) -> tuple[Tensor, Any]: ...


class ThreeFactorState(NamedTuple):
    """State of :class:`ThreeFactor`.

    Attributes:
        term_state: the state of the Hebbian rule (its traces).
        eligibility: eligibility trace :math:`e` ``[B, n_out, n_in]`` (weight units).
    """

    term_state: Any
    eligibility: Tensor


@dataclass(frozen=True)
class ThreeFactor:
    """Eligibility trace times neuromodulator (module docstring for the equations).

    Args:
        hebbian: the two-factor rule whose per-sample ``term`` fills the eligibility trace.
        tau_e: eligibility time constant :math:`\\tau_e` in seconds.
        eta: learning rate :math:`\\eta` (dimensionless, >= 0).
        dt: time step in seconds; ``None`` takes the Hebbian rule's ``dt`` (they must agree).
        check_finite: refuse a NaN/inf modulator.

    The eligibility trace holds one ``[n_out, n_in]`` matrix per sample, so memory grows as
    ``B * n_out * n_in``.
    """

    hebbian: HebbianTerm
    tau_e: float = 1.0
    eta: float = 1.0
    dt: float | None = None
    check_finite: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.hebbian, HebbianTerm):
            raise TypeError(
                "hebbian must be a two-factor rule with initial_state() and term() (e.g. STDP, "
                f"TripletSTDP, SymmetricSTDP, Hebb), got {type(self.hebbian).__name__}."
            )
        check_time_constant("tau_e", self.tau_e)
        check_float("eta", self.eta, minimum=0.0, hint="The modulator carries the sign.")
        inner = getattr(self.hebbian, "dt", None)
        if self.dt is None and inner is None:
            raise ValueError(
                f"{type(self.hebbian).__name__} has no dt; give ThreeFactor(dt=...) in seconds."
            )
        if self.dt is not None:
            check_float("dt", self.dt, minimum=0.0, open_min=True, hint="Give it in seconds.")
            if inner is not None and float(inner) != float(self.dt):
                raise ValueError(
                    f"dt={self.dt:g} s differs from the Hebbian rule's dt={inner:g} s; leave "
                    "dt=None to use the rule's step."
                )

    @classmethod
    def reward_modulated_stdp(
        cls, *, tau_e: float = 1.0, eta: float = 1.0, **stdp: Any
    ) -> ThreeFactor:
        """R-STDP: pair :class:`~dendrix.plasticity.stdp.STDP` (built from ``stdp``) as the term.

        ``bounds`` defaults to ``"none"`` here: the modulator's sign decides the direction, so
        give ``bounds="hard"`` with ``w_min``/``w_max`` to keep weights in a range.
        """
        stdp.setdefault("bounds", "none")
        return cls(hebbian=STDP(**stdp), tau_e=tau_e, eta=eta)

    def _step_seconds(self) -> float:
        """The time step in seconds (``dt``, or the Hebbian rule's)."""
        inner: Any = self.hebbian  # a spike rule carries dt (checked in __post_init__)
        return float(self.dt if self.dt is not None else inner.dt)

    def initial_state(self, weight: Tensor, batch_size: int = 1) -> ThreeFactorState:
        """Empty traces and zero eligibility for ``weight`` ``[n_out, n_in]``."""
        term_state = self.hebbian.initial_state(weight, batch_size)
        return ThreeFactorState(
            term_state=term_state,
            eligibility=weight.new_zeros(batch_size, *weight.shape),
        )

    def _modulator(self, modulator: object, like: Tensor, batch: int, n_out: int) -> Tensor:
        """Shape the modulator as ``[B or 1, n_out or 1, 1]`` to scale ``[B, n_out, n_in]``."""
        if not isinstance(modulator, Tensor):
            value = check_float("modulator", modulator)
            return like.new_full((1, 1, 1), value)
        check_tensor("modulator", modulator, kind="floating")
        if self.check_finite and not torch.compiler.is_compiling():
            check_tensor("modulator", modulator, finite=True)
        m = modulator.to(like.dtype)
        if m.ndim == 0:
            return m.reshape(1, 1, 1)
        if m.ndim == 1 and m.shape[0] == batch:
            return m.reshape(batch, 1, 1)
        if m.ndim == 2 and tuple(m.shape) == (batch, n_out):
            return m.unsqueeze(-1)
        raise ValueError(
            f"modulator must be a number, [B]={[batch]} or [B, n_out]={[batch, n_out]}, got shape "
            f"{tuple(m.shape)}; give one signal per sample or per postsynaptic neuron."
        )

    @torch.no_grad()
    def update(
        self,
        pre: Tensor,
        post: Tensor,
        state: ThreeFactorState | None,
        weight: Tensor,
        modulator: Tensor | float,
    ) -> tuple[Tensor, ThreeFactorState]:
        """One step: eligibility, then ``dw = eta * M * e`` reduced over the batch.

        Args:
            pre: presynaptic activity ``[B, n_in]``.
            post: postsynaptic activity ``[B, n_out]``.
            state: :class:`ThreeFactorState` (``None``: empty).
            weight: ``[n_out, n_in]`` (read, never written).
            modulator: the third factor :math:`M_t` of this step: number, ``[B]`` or
                ``[B, n_out]``.

        Returns:
            ``(dw, state)`` with ``dw`` ``[n_out, n_in]``.
        """
        term_state = None if state is None else state.term_state
        term, term_state = self.hebbian.term(pre, post, term_state, weight)
        batch = pre.shape[0]
        if state is None:
            eligibility = torch.zeros_like(term)
        else:
            check_state_shapes(
                state,
                {"eligibility": tuple(term.shape)},
                "rule.initial_state(weight, batch_size)",
            )
            eligibility = state.eligibility
        m = self._modulator(modulator, term, batch, weight.shape[0])
        # e: [B, n_out, n_in]
        eligibility = eligibility * decay_unchecked(self.tau_e, self._step_seconds()) + term
        reduce = check_reduce(getattr(self.hebbian, "reduce", "mean"))
        dw = self.eta * reduce_batch((m * eligibility).sum(0), batch, reduce)
        inner: Any = self.hebbian
        if getattr(inner, "bounds", "none") != "none":
            dw = clip_update(dw, weight, inner.w_min, inner.w_max)
        return dw, ThreeFactorState(term_state=term_state, eligibility=eligibility)


def reward_prediction_error(
    reward: Tensor | float, baseline: Tensor | float, *, alpha: float
) -> tuple[Tensor | float, Tensor | float]:
    r"""Reward prediction error against a running mean: :math:`\delta = R - \bar R`.

    .. math:: \delta = R - \bar R, \qquad \bar R \leftarrow \bar R + \alpha\, \delta

    :math:`\alpha \in (0, 1]` is the baseline's learning rate (an average over about
    :math:`1/\alpha` trials). Using :math:`\delta` rather than :math:`R` as the modulator makes
    the expected update zero once the reward is predicted (Frémaux & Gerstner 2016, sec. 4;
    Schultz, Dayan & Montague 1997, Science 275:1593).

    Args:
        reward: the reward :math:`R` (number or tensor, e.g. ``[B]``).
        baseline: the current baseline :math:`\bar R` (same shape).
        alpha: baseline learning rate in ``(0, 1]``.

    Returns:
        ``(delta, new_baseline)``.

    Example:
        >>> reward_prediction_error(1.0, 0.25, alpha=0.5)
        (0.75, 0.625)
    """
    alpha = check_float("alpha", alpha, minimum=0.0, maximum=1.0, open_min=True)
    for name, value in (("reward", reward), ("baseline", baseline)):
        if isinstance(value, Tensor):
            check_tensor(name, value, kind="floating", finite=True)
        else:
            check_float(name, value)
    if isinstance(reward, Tensor) and isinstance(baseline, Tensor):
        if reward.shape != baseline.shape:
            raise ValueError(
                f"reward {tuple(reward.shape)} and baseline {tuple(baseline.shape)} must have "
                "the same shape; start the baseline as torch.zeros_like(reward)."
            )
    delta = reward - baseline
    return delta, baseline + alpha * delta


RULES.add(
    "reward-modulated-stdp",
    RuleSpec(build=lambda: ThreeFactor.reward_modulated_stdp(tau_e=0.1), modulated=True),
)

"""Local learning rules: STDP family, three-factor rules, homeostasis, Hebbian rules, HLOP.

Every rule is a frozen configuration object with a pure step ``update(pre, post, state, weight)
-> (dw, state)``; it reads the activity a layer exposes (spikes or rates, ``[B, n]``, one time
step) and returns an update for ``weight`` ``[n_out, n_in]`` without writing anything (the
spike-timing rules add an event-driven in-place ``update_``). Shapes, units, the batch
reduction and how to apply ``dw`` beside gradient descent are documented once, in
:mod:`dendrix.plasticity.base`.

- :mod:`~dendrix.plasticity.traces`: exponential spike traces (all-to-all, nearest).
- :mod:`~dendrix.plasticity.stdp`: :class:`STDP`, :class:`SymmetricSTDP`, :class:`TripletSTDP`.
- :mod:`~dendrix.plasticity.three_factor`: :class:`ThreeFactor` (eligibility x neuromodulator),
  reward-modulated STDP, :func:`reward_prediction_error`.
- :mod:`~dendrix.plasticity.homeostasis`: :class:`AdaptiveThreshold`,
  :func:`normalize_weights`, :class:`IntrinsicPlasticity`, :func:`k_winners_take_all`,
  :func:`lateral_inhibition`.
- :mod:`~dendrix.plasticity.hebbian`: :class:`Hebb`, :class:`Oja`, :class:`OjaSubspace`,
  :class:`BCM`, :class:`AntiHebbian`.
- :mod:`~dendrix.plasticity.projection`: :class:`HLOP` (orthogonal projection for continual
  learning).
- :mod:`~dendrix.plasticity.diehl_cook`: the Diehl & Cook (2015) unsupervised STDP network, a
  readable reference composed of the pieces above and a fused per-image numba kernel.
- :mod:`~dendrix.plasticity.sym_stdp`: Hao et al.'s (2020) supervised network, the Diehl & Cook
  layer with symmetric STDP and a teacher-driven output layer.
"""

from dendrix.plasticity.base import apply_update
from dendrix.plasticity.hebbian import BCM, AntiHebbian, BCMState, Hebb, Oja, OjaSubspace
from dendrix.plasticity.homeostasis import (
    AdaptiveThreshold,
    IntrinsicPlasticity,
    IPState,
    k_winners_take_all,
    lateral_inhibition,
    normalize_weights,
)
from dendrix.plasticity.projection import HLOP, HLOPState
from dendrix.plasticity.stdp import STDP, STDPState, SymmetricSTDP, TripletSTDP, TripletSTDPState
from dendrix.plasticity.three_factor import ThreeFactor, ThreeFactorState, reward_prediction_error
from dendrix.plasticity.traces import TraceParameters, TraceState, trace_step

__all__ = [
    "BCM",
    "HLOP",
    "STDP",
    "AdaptiveThreshold",
    "AntiHebbian",
    "BCMState",
    "HLOPState",
    "Hebb",
    "IPState",
    "IntrinsicPlasticity",
    "Oja",
    "OjaSubspace",
    "STDPState",
    "SymmetricSTDP",
    "ThreeFactor",
    "ThreeFactorState",
    "TraceParameters",
    "TraceState",
    "TripletSTDP",
    "TripletSTDPState",
    "apply_update",
    "k_winners_take_all",
    "lateral_inhibition",
    "normalize_weights",
    "reward_prediction_error",
    "trace_step",
]

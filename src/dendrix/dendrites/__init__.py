"""Dendritic deep learning: active dendrites, sparse k-winner networks, synaptic intelligence.

- :mod:`dendrix.dendrites.active` — :class:`ActiveDendrites` layers gated by context segments
  and the :class:`DendriticMLP` of Iyer et al. (2022), task prototypes
  (:class:`PrototypeContext`) and the :class:`SynapticIntelligence` regulariser (Zenke et al.
  2017).
- :mod:`dendrix.dendrites.sparse` — :class:`SparseWeights` (fixed random masks), the sparse and
  dense CNN-2 of Ahmad & Scheinkman (2019) and their :func:`noise_score`.
- :mod:`dendrix.dendrites.elm` — the expressive leaky memory neuron :class:`ELM` and its
  branched variant :class:`BranchELM` (Spieler et al. 2024).
- :mod:`dendrix.dendrites.perforated` — :func:`perforate` grows cascade-correlation-trained
  dendrite nodes on chosen layers of a trained network (perforated backpropagation, Brenner &
  Itti 2025), driven by :class:`PerforationTrainer`.
- :mod:`dendrix.dendrites.two_point` — :class:`TwoPointNeuron`, basal drive modulated by apical
  context, which alone never drives the output.
"""

from dendrix.dendrites.active import (
    GATINGS,
    ActiveDendrites,
    DendriticMLP,
    PrototypeContext,
    SynapticIntelligence,
    active_dendrites,
    dendrite_activations,
    dendritic_gate,
    nearest_prototype,
    select_segment,
    si_consolidate,
    si_path_step,
    si_penalty,
)
from dendrix.dendrites.elm import (
    ELM,
    BranchELM,
    ELMParameters,
    ELMState,
    elm_sequence,
    elm_step,
)
from dendrix.dendrites.perforated import (
    DendriteCandidates,
    PerforatedLayer,
    PerforationTrainer,
    correlation_score,
    dendrite_node_output,
    parameter_count,
    perforate,
    perforated_layers,
    perforated_output,
)
from dendrix.dendrites.sparse import (
    NOISE_LEVELS,
    DenseCNN,
    NoiseScore,
    SparseCNN,
    SparseConv2d,
    SparseLinear,
    SparseWeights,
    add_pixel_noise,
    noise_score,
    rezero_weights,
    sparse_mask,
    update_boost_strength,
)
from dendrix.dendrites.two_point import (
    TRANSFER_FUNCTIONS,
    TwoPointNeuron,
    two_point,
    two_point_layer,
)

__all__ = [
    "ELM",
    "GATINGS",
    "NOISE_LEVELS",
    "TRANSFER_FUNCTIONS",
    "ActiveDendrites",
    "BranchELM",
    "DendriteCandidates",
    "DendriticMLP",
    "DenseCNN",
    "ELMParameters",
    "ELMState",
    "NoiseScore",
    "PerforatedLayer",
    "PerforationTrainer",
    "PrototypeContext",
    "SparseCNN",
    "SparseConv2d",
    "SparseLinear",
    "SparseWeights",
    "SynapticIntelligence",
    "TwoPointNeuron",
    "active_dendrites",
    "add_pixel_noise",
    "correlation_score",
    "dendrite_activations",
    "dendrite_node_output",
    "dendritic_gate",
    "elm_sequence",
    "elm_step",
    "nearest_prototype",
    "noise_score",
    "parameter_count",
    "perforate",
    "perforated_layers",
    "perforated_output",
    "rezero_weights",
    "select_segment",
    "si_consolidate",
    "si_path_step",
    "si_penalty",
    "sparse_mask",
    "two_point",
    "two_point_layer",
    "update_boost_strength",
]

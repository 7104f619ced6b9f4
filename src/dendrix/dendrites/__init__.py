"""Dendritic deep learning: active dendrites, sparse k-winner networks, synaptic intelligence.

- :mod:`dendrix.dendrites.active` — :class:`ActiveDendrites` layers gated by context segments
  and the :class:`DendriticMLP` of Iyer et al. (2022), task prototypes
  (:class:`PrototypeContext`) and the :class:`SynapticIntelligence` regulariser (Zenke et al.
  2017).
- :mod:`dendrix.dendrites.sparse` — :class:`SparseWeights` (fixed random masks), the sparse and
  dense CNN-2 of Ahmad & Scheinkman (2019) and their :func:`noise_score`.
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

__all__ = [
    "GATINGS",
    "NOISE_LEVELS",
    "ActiveDendrites",
    "DendriticMLP",
    "DenseCNN",
    "NoiseScore",
    "PrototypeContext",
    "SparseCNN",
    "SparseConv2d",
    "SparseLinear",
    "SparseWeights",
    "SynapticIntelligence",
    "active_dendrites",
    "add_pixel_noise",
    "dendrite_activations",
    "dendritic_gate",
    "nearest_prototype",
    "noise_score",
    "rezero_weights",
    "select_segment",
    "si_consolidate",
    "si_path_step",
    "si_penalty",
    "sparse_mask",
    "update_boost_strength",
]

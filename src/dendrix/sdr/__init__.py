"""Sparse distributed representations: the SDR type, encoders, k-winners and SDR theory.

- :class:`SDR` — batched SDRs as dense boolean tensors with an index view.
- :mod:`dendrix.sdr.encoders` — scalar, random distributed scalar, category and date encoders
  with HTM conventions.
- :mod:`dendrix.sdr.kwinners` — k-winners-take-all with boosting (Ahmad & Scheinkman 2019).
- :mod:`dendrix.sdr.theory` — exact false-match, noise and union probabilities
  (Ahmad & Hawkins 2016) with a Monte Carlo check.
"""

from dendrix.sdr import theory
from dendrix.sdr.encoders import (
    RDSE,
    CategoryEncoder,
    DateEncoder,
    RandomDistributedScalarEncoder,
    ScalarEncoder,
)
from dendrix.sdr.kwinners import KWinners, KWinners2d, KWinners2dConfig, KWinnersConfig
from dendrix.sdr.sdr import SDR

__all__ = [
    "RDSE",
    "SDR",
    "CategoryEncoder",
    "DateEncoder",
    "KWinners",
    "KWinners2d",
    "KWinners2dConfig",
    "KWinnersConfig",
    "RandomDistributedScalarEncoder",
    "ScalarEncoder",
    "theory",
]

"""dendrix: biologically grounded neurons for PyTorch.

Sparse distributed representations and the theory of dendritic pattern recognition
(:mod:`dendrix.sdr`), with recipes that reproduce each mechanism's paper
(:mod:`dendrix.recipes`, run by ``dendrix reproduce``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dendrix")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

"""Paper reproductions, registered by name and run by ``dendrix reproduce``.

Each module here defines one recipe: a frozen config and ``run(config) -> Result``.
Importing this package registers them all.
"""

from dendrix.recipes import (  # noqa: F401  (importing registers each recipe)
    active_dendrites,
    diehl_cook,
    elm_long_horizon,
    hlop_pmnist,
    htm_sequence,
    kwinners_boosting,
    nab,
    nyc_taxi,
    perforated,
    sdr_theory,
    snn_delays,
    snn_images,
    snn_nmnist,
    sparse_noise,
    sym_stdp,
    three_factor,
    two_point,
)
from dendrix.recipes.base import (
    RECIPES,
    Claim,
    Recipe,
    Result,
    register_recipe,
    result_path,
    run_recipe,
    write_report,
)

__all__ = [
    "RECIPES",
    "Claim",
    "Recipe",
    "Result",
    "register_recipe",
    "result_path",
    "run_recipe",
    "write_report",
]

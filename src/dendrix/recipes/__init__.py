"""Paper reproductions, registered by name and run by ``dendrix reproduce``.

Each module here defines one recipe: a frozen config and ``run(config) -> Result``.
Importing this package registers them all.
"""

from dendrix.recipes import htm_sequence, kwinners_boosting, nab, sdr_theory  # noqa: F401
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

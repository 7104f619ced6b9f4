"""Recipe ``kwinners-boosting``: boosting spreads activity over all units of a k-winners layer.

Ahmad & Scheinkman (2019) boost each unit by b_i = exp(beta (k/n - d_i)) so that units which
rarely win (duty cycle d_i below the target density k/n) get a chance. This recipe feeds
10,000 random inputs x = relu(z W) (a fixed random W makes units unequal in typical drive) to
a ``KWinners`` layer for several boost strengths beta and reports how far the duty cycles
spread around k/n: without boosting some units starve, with strong enough boosting every unit
stays within a factor 2 of the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.sdr.kwinners import KWinners

__all__ = ["KWinnersBoostingConfig", "run"]

PAPER = (
    "Ahmad S, Scheinkman L (2019) How can we be so dense? The benefits of using highly sparse "
    "representations. arXiv:1903.11257"
)


@dataclass(frozen=True)
class KWinnersBoostingConfig:
    """Budget of the ``kwinners-boosting`` recipe.

    Attributes:
        seed: seed of the input generator (the same inputs for every boost strength).
        units: n, units of the layer.
        percent_on: k / n.
        input_dim: dimension of z; x = relu(z W) with W fixed, [input_dim, units].
        samples: inputs fed in training mode.
        batch_size: inputs per forward pass.
        boost_strengths: the beta values compared; the last one is judged by the claim.
    """

    seed: int = 0
    units: int = 50
    percent_on: float = 0.1
    input_dim: int = 10
    samples: int = 10_000
    batch_size: int = 100
    boost_strengths: tuple[float, ...] = (0.0, 1.5, 5.0, 10.0, 20.0)


def _duty_ratios(config: KWinnersBoostingConfig, beta: float) -> np.ndarray:
    g = torch.Generator().manual_seed(config.seed)
    w = torch.randn(config.input_dim, config.units, generator=g)
    layer = KWinners(config.units, percent_on=config.percent_on, boost_strength=beta)
    with torch.no_grad():
        for _ in range(config.samples // config.batch_size):
            layer(torch.relu(torch.randn(config.batch_size, config.input_dim, generator=g) @ w))
    return (layer.duty_cycle / (layer.k / config.units)).numpy()


@register_recipe(
    "kwinners-boosting",
    config=KWinnersBoostingConfig(),
    quick=KWinnersBoostingConfig(),
    title="Boosting keeps every k-winners unit near the target duty cycle",
    paper=PAPER,
)
def run(config: KWinnersBoostingConfig) -> Result:
    ratios = {beta: _duty_ratios(config, beta) for beta in config.boost_strengths}
    metrics: dict[str, float] = {}
    for beta, r in ratios.items():
        metrics[f"min_duty_ratio_beta{beta:g}"] = float(r.min())
        metrics[f"max_duty_ratio_beta{beta:g}"] = float(r.max())
        metrics[f"starving_units_beta{beta:g}"] = int((r < 0.5).sum())
    strongest = config.boost_strengths[-1]
    claims = [
        Claim(
            f"min_duty_ratio_beta{strongest:g}",
            0.5,
            metrics[f"min_duty_ratio_beta{strongest:g}"],
            unit="x k/n",
            source="acceptance: every duty cycle within a factor 2 of k/n with boosting",
            compare="at_least",
            rel_tol=0.0,
        ),
        Claim(
            f"max_duty_ratio_beta{strongest:g}",
            2.0,
            metrics[f"max_duty_ratio_beta{strongest:g}"],
            unit="x k/n",
            source="acceptance: every duty cycle within a factor 2 of k/n with boosting",
            compare="at_most",
            rel_tol=0.0,
        ),
    ]
    starving = metrics["starving_units_beta0"] if 0.0 in ratios else None
    notes = (
        f"{config.samples} inputs x = relu(z W), n = {config.units}, k/n = {config.percent_on}, "
        f"seed {config.seed}. "
        + (
            f"Without boosting {starving} units win less than half the target rate. "
            if starving is not None
            else ""
        )
        + "The paper's networks use beta of about 1.0-1.5 on trained weights; on this input "
        "distribution the spread between units needs beta of about 10-20 to stay within a "
        "factor 2, because a starving unit's boost is at most exp(beta k/n)."
    )
    return Result(
        metrics=metrics, claims=claims, figures={"duty-cycles": _figure(ratios)}, notes=notes
    )


def _figure(ratios: dict[float, np.ndarray]) -> Figure:
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for beta, r in ratios.items():
        ax.plot(np.sort(r), marker=".", label=f"β = {beta:g}")
    ax.axhspan(0.5, 2.0, color="0.9", zorder=0, label="within a factor 2 of k/n")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(
        xlabel="units, sorted by duty cycle",
        ylabel="duty cycle / (k/n)",
        title="k-winners duty cycles after 10,000 inputs",
    )
    ax.legend(fontsize=8)
    return fig

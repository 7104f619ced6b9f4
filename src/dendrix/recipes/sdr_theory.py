"""Recipe ``sdr-theory``: the closed-form theory of dendritic pattern recognition.

Reproduces the worked values of Ahmad & Hawkins (2016) with :mod:`dendrix.sdr.theory`, checks
the closed forms against a Monte Carlo simulation of random SDRs and segments wherever the
probability is large enough to sample (>= 1e-3), and draws the paper's three kinds of curve:
false match vs threshold for several population sizes, false negatives vs noise, and the
union property (false matches vs number of patterns stored on one segment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from dendrix.recipes.base import Claim, Result, register_recipe
from dendrix.sdr import theory

__all__ = ["SdrTheoryConfig", "run"]

PAPER = (
    "Ahmad S, Hawkins J (2016) How do neurons operate on sparse distributed representations? "
    "A mathematical theory of sparsity, neurons and active dendrites. arXiv:1601.00720"
)

# Monte Carlo check configurations: (kind, parameters) with probabilities >= 1e-3.
FALSE_MATCH_CASES = ((64, 16, 12, 4), (128, 20, 16, 4), (256, 32, 24, 5), (200, 40, 20, 6))
FALSE_NEGATIVE_CASES = ((40, 20, 10, 20), (64, 24, 12, 32), (128, 30, 12, 64), (100, 16, 8, 60))
UNION_CASES = ((256, 16, 10, 4, 5), (512, 24, 12, 4, 10), (1024, 40, 20, 6, 20))


@dataclass(frozen=True)
class SdrTheoryConfig:
    """Budget of the ``sdr-theory`` recipe.

    Attributes:
        seed: seed of the Monte Carlo generator.
        mc_trials: random patterns drawn per Monte Carlo configuration.
    """

    seed: int = 0
    mc_trials: int = 200_000


def _z(estimate, p: float) -> float:
    """Deviation of a Monte Carlo estimate from the exact p, in binomial standard deviations."""
    sd = np.sqrt(p * (1 - p) / estimate.trials)
    return float((estimate.probability - p) / sd)


@register_recipe(
    "sdr-theory",
    config=SdrTheoryConfig(),
    quick=SdrTheoryConfig(mc_trials=10_000),
    title="False-match, noise and union theory of active dendrites",
    paper=PAPER,
)
def run(config: SdrTheoryConfig) -> Result:
    g = torch.Generator().manual_seed(config.seed)
    trials = config.mc_trials

    fm_4000 = theory.false_match_probability(4000, 128, 24, 12)
    fm_2048 = theory.false_match_probability(2048, 40, 20, 10)
    fn_noise = theory.false_negative_probability(128, 30, 12, 64)

    zs: list[float] = []
    for n, a, s, theta in FALSE_MATCH_CASES:
        p = theory.false_match_probability(n, a, s, theta)
        zs.append(_z(theory.simulate_false_match(n, a, s, theta, trials, generator=g), p))
    fn_mc = []
    for a, s, theta, v in FALSE_NEGATIVE_CASES:
        p = theory.false_negative_probability(a, s, theta, v)
        est = theory.simulate_false_negative(a, s, theta, v, trials, generator=g)
        fn_mc.append((a, s, theta, v, est.probability))
        zs.append(_z(est, p))
    for n, a, s, theta, m in UNION_CASES:
        p = theory.union_false_match_probability(n, a, s, theta, m)
        zs.append(_z(theory.simulate_union_false_match(n, a, s, theta, m, trials, generator=g), p))
    max_z = float(np.max(np.abs(zs)))

    # The paper's threshold argument: with n = 4000 cells, a = 128 active (3 %), s = 24
    # synapses and half the pattern replaced by noise, which theta minimises total error?
    theta_opt = int(theory.optimal_threshold(4000, 128, 24, v=64))

    metrics = {
        "false_match_n4000_a128_s24_theta12": fm_4000,
        "false_match_n2048_a40_s20_theta10": fm_2048,
        "false_negative_a128_s30_theta12_v64": fn_noise,
        "optimal_threshold_n4000_a128_s24_v64": theta_opt,
        "monte_carlo_configs": len(zs),
        "monte_carlo_max_abs_z": max_z,
        "monte_carlo_trials_per_config": trials,
    }
    claims = [
        Claim("false_match_n4000_a128_s24_theta12", 1.34e-12, fm_4000, source=PAPER[:27]),
        Claim("false_match_n2048_a40_s20_theta10", 3.9e-13, fm_2048, source=PAPER[:27]),
        Claim("false_negative_a128_s30_theta12_v64", 0.0717, fn_noise, source=PAPER[:27]),
        Claim(
            "monte_carlo_max_abs_z",
            4.0,
            max_z,
            unit="s.d.",
            source="acceptance: simulation within 4 binomial s.d. of theory",
            compare="at_most",
            rel_tol=0.0,
        ),
    ]
    notes = (
        f"Closed forms are exact (integer binomials). Monte Carlo: {len(zs)} configurations "
        f"with probabilities >= 1e-3, {trials} random draws each (seed {config.seed}); the "
        f"largest deviation from theory is {max_z:.2f} binomial standard deviations."
    )
    return Result(
        metrics=metrics,
        claims=claims,
        figures={
            "false-match": _false_match_figure(),
            "false-negative": _false_negative_figure(fn_mc),
            "union": _union_figure(),
        },
        notes=notes,
    )


def _false_match_figure() -> Figure:
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    s = 24
    theta = np.arange(1, s + 1)
    for n in (500, 1000, 2000, 4000, 8000, 16000):
        ax.semilogy(theta, theory.false_match_probability(n, 128, s, theta), label=f"n = {n}")
    ax.set(
        xlabel="threshold θ (synapses)",
        ylabel="P(false match)",
        title="False match vs threshold (a = 128, s = 24)",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _false_negative_figure(mc_points) -> Figure:
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    a, s = 128, 30
    v = np.arange(0, a + 1)
    for theta in (8, 12, 16, 20):
        ax.semilogy(
            100 * v / a, theory.false_negative_probability(a, s, theta, v), label=f"θ = {theta}"
        )
    for pa, ps, pt, pv, p in mc_points:
        if (pa, ps) == (a, s):
            ax.plot(100 * pv / pa, p, "k+", ms=10, label=f"Monte Carlo (θ = {pt})")
    ax.set(
        xlabel="noise (% of the a active cells replaced)",
        ylabel="P(false negative)",
        title="Missing a pattern under noise (a = 128, s = 30)",
        ylim=(1e-12, 1.5),
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _union_figure() -> Figure:
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    m = np.arange(1, 61)
    for n in (4000, 8000, 16000, 32000, 64000):
        ax.semilogy(m, theory.union_false_match_probability(n, 128, 24, 12, m), label=f"n = {n}")
    ax.set(
        xlabel="patterns stored on one segment (M)",
        ylabel="P(false match)",
        title="Union property (a = 128, s = 24 per pattern, θ = 12)",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig

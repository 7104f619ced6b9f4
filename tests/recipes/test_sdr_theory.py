"""Recipe sdr-theory: the paper's worked values and the Monte Carlo check."""

from __future__ import annotations

import pytest

from dendrix.recipes.sdr_theory import SdrTheoryConfig, run


@pytest.fixture(scope="module")
def result():
    return run(SdrTheoryConfig(seed=3, mc_trials=4000))


def test_worked_values_of_the_paper_are_reproduced_within_one_percent(result):
    m = result.metrics
    assert m["false_match_n4000_a128_s24_theta12"] == pytest.approx(1.34e-12, rel=0.01)
    assert m["false_match_n2048_a40_s20_theta10"] == pytest.approx(3.9e-13, rel=0.01)
    assert m["false_negative_a128_s30_theta12_v64"] == pytest.approx(0.0717, rel=0.01)


def test_simulation_agrees_with_theory_within_four_standard_deviations(result):
    assert result.metrics["monte_carlo_configs"] >= 10
    assert result.metrics["monte_carlo_max_abs_z"] < 4.0


def test_the_three_curves_of_the_paper_are_drawn(result):
    assert set(result.figures) == {"false-match", "false-negative", "union"}
    for fig in result.figures.values():
        assert all(ax.lines for ax in fig.axes)

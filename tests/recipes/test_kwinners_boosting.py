"""Recipe kwinners-boosting: boosting narrows the spread of duty cycles."""

from __future__ import annotations

from dendrix.recipes.kwinners_boosting import KWinnersBoostingConfig, run


def test_spread_of_duty_cycles_narrows_as_boosting_grows():
    result = run(KWinnersBoostingConfig(samples=5000, boost_strengths=(0.0, 5.0, 20.0)))
    m = result.metrics
    assert m["starving_units_beta0"] > 0
    assert m["starving_units_beta20"] == 0
    assert m["min_duty_ratio_beta0"] < m["min_duty_ratio_beta5"] < m["min_duty_ratio_beta20"]
    assert m["max_duty_ratio_beta0"] > m["max_duty_ratio_beta5"] > m["max_duty_ratio_beta20"]

"""Recipe htm-sequence: repetition curve and high-order learning."""

from __future__ import annotations

from dendrix.recipes.htm_sequence import HtmSequenceConfig, run


def test_high_order_context_is_learned_only_when_wrong_predictions_are_punished():
    base = {"repetitions": 6, "trials": 200, "block": 40}
    punished = run(HtmSequenceConfig(**base)).metrics
    unpunished = run(HtmSequenceConfig(**base, predicted_segment_decrement=0.0)).metrics
    assert punished["high_order_final_block_accuracy"] == 1.0
    assert unpunished["high_order_final_block_accuracy"] < 0.9


def test_repetition_curve_matches_the_cpp_library():
    m = run(HtmSequenceConfig(repetitions=8, trials=20, block=10)).metrics
    assert [m[f"abcd_mean_anomaly_rep{r}"] for r in range(1, 9)] == [1, 1, 1, 1, 0.25, 0, 0, 0]

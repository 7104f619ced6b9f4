"""Behavioural tests for the SDR classifier / k-step-ahead predictor (dendrix.htm.predictor).

Each test checks one rule of the module docstring against an expectation worked out by hand in
the comments (softmax of equal activations is uniform; one SGD step moves each active row by
alpha * (y - p); values average as m <- (1 - beta) m + beta v).
"""

from __future__ import annotations

import dataclasses
import doctest
import math

import numpy as np
import pytest
import torch

import dendrix.htm.predictor as predictor_module
from dendrix.htm.predictor import Predictor, PredictorConfig, softmax
from dendrix.sdr import SDR

A, B, C, D = [0, 1], [2, 3], [4, 5], [6, 7]


def test_docstring_examples_run():
    result = doctest.testmod(predictor_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_softmax_is_stable_and_normalised():
    # exp(1000) overflows; subtracting the max gives softmax([0, -inf-ish]) = [1, 0] exactly.
    np.testing.assert_allclose(softmax(np.array([1000.0, 0.0])), [1.0, 0.0])
    np.testing.assert_allclose(softmax(np.array([math.log(3.0), 0.0])), [0.75, 0.25])
    assert softmax(np.zeros(0)).shape == (0,)


def test_defaults_follow_nupic():
    pred = Predictor(size=8)
    assert pred.config == PredictorConfig(size=8, steps=(1, 5), alpha=0.001, act_value_alpha=0.3)


def test_config_is_frozen_and_sorts_steps():
    cfg = PredictorConfig(size=4, steps=[5, 1])
    assert cfg.steps == (1, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.alpha = 0.5  # type: ignore[misc]
    assert Predictor.from_config(cfg).config == cfg


def test_infer_before_any_learning_is_empty():
    pred = Predictor(size=8, steps=(1, 5))
    probs = pred.infer(A)
    assert set(probs) == {1, 5}
    assert all(p.shape == (0,) for p in probs.values())
    values = pred.predict_value(A)
    assert all(math.isnan(v) for v in values.values())


def test_first_inference_is_uniform_over_known_buckets():
    # Bucket 3 creates buckets 0..3; no history yet, so nothing is learned: p = 1/4 each.
    pred = Predictor(size=8, steps=(1, 5))
    pred.learn(0, A, bucket=3)
    assert pred.num_buckets == 4
    for p in pred.infer(A).values():
        np.testing.assert_array_equal(p, np.full(4, 0.25))


def test_one_learning_step_moves_only_active_rows_by_alpha_y_minus_p():
    # t=0: A with bucket 1 -> buckets {0, 1}, nothing to learn from.
    # t=1: bucket 0; source x(0) = A, p = softmax([0, 0]) = [1/2, 1/2], y = [1, 0]:
    #      rows 0 and 1 change by alpha * ([1, 0] - [1/2, 1/2]) = [+alpha/2, -alpha/2].
    alpha = 0.1
    pred = Predictor(size=8, steps=(1,), alpha=alpha)
    pred.learn(0, A, bucket=1)
    pred.learn(1, B, bucket=0)
    expected = np.zeros((8, 2))
    expected[A] = [alpha / 2, -alpha / 2]
    np.testing.assert_allclose(pred.weights[1], expected, rtol=0, atol=1e-15)


def test_second_step_uses_current_weights_for_p():
    # As above, W[A] = [0.05, -0.05] after t=1. t=2 presents A again (bucket 0, source B with
    # zero rows: W[B] = [0.05, -0.05]); t=3 learns bucket 0 from x(2) = A, whose activation is
    # 2 * [0.05, -0.05] = [0.1, -0.1], so p0 = e^0.1 / (e^0.1 + e^-0.1) = 1 / (1 + e^-0.2).
    alpha = 0.1
    pred = Predictor(size=8, steps=(1,), alpha=alpha)
    pred.learn(0, A, bucket=1)
    pred.learn(1, B, bucket=0)
    pred.learn(2, A, bucket=0)
    pred.learn(3, C, bucket=0)
    p0 = 1.0 / (1.0 + math.exp(-0.2))
    w_a = np.array([0.05, -0.05]) + alpha * (np.array([1.0, 0.0]) - [p0, 1.0 - p0])
    np.testing.assert_allclose(pred.weights[1][A], [w_a, w_a], rtol=0, atol=1e-15)
    # B learned bucket 0 from p = [1/2, 1/2] at t=2.
    np.testing.assert_allclose(pred.weights[1][B], [[0.05, -0.05]] * 2, rtol=0, atol=1e-15)


def test_learning_uses_the_pattern_exactly_k_steps_back():
    # A B C with buckets 0 1 2 and steps=(2,): only at t=2 is there a source, x(0) = A, with
    # target 2 and p = 1/3 each: W[A] = alpha * ([0, 0, 1] - 1/3); B's rows stay 0.
    alpha = 0.3
    pred = Predictor(size=8, steps=(2,), alpha=alpha)
    pred.learn(0, A, bucket=0)
    pred.learn(1, B, bucket=1)
    pred.learn(2, C, bucket=2)
    w = pred.weights[2]
    np.testing.assert_allclose(w[A], [[-0.1, -0.1, 0.2]] * 2, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(w[B + C + D], np.zeros((6, 3)))
    assert int(pred.infer(A)[2].argmax()) == 2


def test_each_step_has_its_own_weights():
    # steps (1, 2) on A B C: step 1 learns A->1 (t=1) and B->2 (t=2); step 2 learns A->2 (t=2).
    pred = Predictor(size=8, steps=(1, 2), alpha=0.5)
    for t, (x, b) in enumerate([(A, 0), (B, 1), (C, 2)]):
        pred.learn(t, x, bucket=b)
    probs_a = pred.infer(A)
    assert int(probs_a[1].argmax()) == 1
    assert int(probs_a[2].argmax()) == 2
    assert int(pred.infer(B)[1].argmax()) == 2
    np.testing.assert_array_equal(pred.weights[2][B], np.zeros((2, 3)))


def test_repeated_training_predicts_each_step_of_a_sequence():
    # 8 distinct random patterns (20 of 200 cells) in a cycle; pattern i is in bucket i, so
    # after pattern i the bucket k records ahead is (i + k) mod 8.
    rng = np.random.Generator(np.random.PCG64(5))
    patterns = [np.sort(rng.choice(200, size=20, replace=False)) for _ in range(8)]
    pred = Predictor(size=200, steps=(1, 5), alpha=0.1)
    for t in range(8 * 30):
        pred.learn(t, patterns[t % 8], bucket=t % 8)
    for i, x in enumerate(patterns):
        probs = pred.infer(x)
        assert int(probs[1].argmax()) == (i + 1) % 8
        assert int(probs[5].argmax()) == (i + 5) % 8


def test_new_buckets_are_added_with_zero_weights():
    pred = Predictor(size=8, steps=(1,), alpha=0.1)
    pred.learn(0, A, bucket=1)
    pred.learn(1, B, bucket=0)
    before = np.array(pred.weights[1])
    # t=5 follows a gap (no record 4): nothing is learned, only columns 2 and 3 are added.
    pred.learn(5, C, bucket=3)
    w = pred.weights[1]
    assert w.shape == (8, 4)
    np.testing.assert_array_equal(w[:, :2], before)
    np.testing.assert_array_equal(w[:, 2:], np.zeros((8, 2)))
    assert pred.num_buckets == 4


def test_new_bucket_joins_the_softmax_of_its_own_record():
    # t=1 introduces bucket 2 while learning from x(0) = A: p = [1/3]*3 over the grown set,
    # so W[A] = alpha * ([0, 0, 1] - 1/3) with alpha = 0.3.
    pred = Predictor(size=8, steps=(1,), alpha=0.3)
    pred.learn(0, A, bucket=0)
    pred.learn(1, B, bucket=2)
    np.testing.assert_allclose(pred.weights[1][A], [[-0.1, -0.1, 0.2]] * 2, rtol=0, atol=1e-15)


def test_actual_values_are_averaged_with_act_value_alpha():
    # Bucket 2 sees 10, 20, 40 with beta = 0.3: m = 10 (first value), then
    # 0.7 * 10 + 0.3 * 20 = 13, then 0.7 * 13 + 0.3 * 40 = 21.1.
    pred = Predictor(size=8, steps=(1,), act_value_alpha=0.3)
    pred.learn(0, A, bucket=2, value=10.0)
    assert pred.bucket_values[2] == 10.0
    pred.learn(1, B, bucket=2, value=20.0)
    assert pred.bucket_values[2] == pytest.approx(13.0, abs=1e-12)
    pred.learn(2, C, bucket=2, value=40.0)
    assert pred.bucket_values[2] == pytest.approx(21.1, abs=1e-12)
    assert np.isnan(pred.bucket_values[:2]).all()
    # Only bucket 2 has a value, so it is the prediction whatever the probabilities.
    assert pred.predict_value(D) == {1: pytest.approx(21.1, abs=1e-12)}


def test_learn_without_value_leaves_values_alone():
    pred = Predictor(size=8, steps=(1,))
    pred.learn(0, A, bucket=0, value=5.0)
    pred.learn(1, B, bucket=0)
    assert pred.bucket_values.tolist() == [5.0]


def test_predict_value_most_likely_and_expectation():
    # Hand-set state: buckets 0 and 1 with values 10 and 30, W[A] rows such that the
    # activation of A is [ln 3, 0] -> p = [3/4, 1/4]. Most likely: 10; expectation:
    # 0.75 * 10 + 0.25 * 30 = 15.
    pred = Predictor(size=8, steps=(1,))
    state = pred.state_dict()
    w = np.zeros((8, 2))
    w[0, 0] = math.log(3.0)
    state["weights"] = {1: w}
    state["bucket_values"] = np.array([10.0, 30.0])
    pred.load_state_dict(state)
    assert pred.predict_value(A) == {1: pytest.approx(10.0)}
    assert pred.predict_value(A, method="expectation") == {1: pytest.approx(15.0)}


def test_predict_value_skips_buckets_without_a_value():
    # Bucket 0 is most probable but never had a value: the best bucket with a value wins.
    pred = Predictor(size=8, steps=(1,))
    state = pred.state_dict()
    w = np.zeros((8, 3))
    w[0] = [2.0, 0.0, 1.0]
    state["weights"] = {1: w}
    state["bucket_values"] = np.array([np.nan, 7.0, 9.0])
    pred.load_state_dict(state)
    assert pred.predict_value(A) == {1: 9.0}


def test_gap_uses_only_exact_sources():
    # steps (1, 2); records 0 (A), 1 (B), then 3 (D) -- record 2 is missing.
    # Step 1 needs x(2): missing, so step 1 learns nothing at t=3.
    # Step 2 needs x(1) = B: held, so it learns B -> 3; A (3 back) is not used.
    pred = Predictor(size=8, steps=(1, 2), alpha=0.4)
    pred.learn(0, A, bucket=0)
    pred.learn(1, B, bucket=1)
    w1_before = np.array(pred.weights[1])
    pred.learn(3, D, bucket=3)
    w1 = pred.weights[1]
    np.testing.assert_array_equal(w1[:, :2], w1_before)
    np.testing.assert_array_equal(w1[:, 2:], np.zeros((8, 2)))
    w2 = pred.weights[2]
    np.testing.assert_allclose(w2[B], [[-0.1, -0.1, -0.1, 0.3]] * 2, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(w2[A], np.zeros((2, 4)))


def test_reset_clears_history_and_allows_t_to_restart():
    pred = Predictor(size=8, steps=(1,), alpha=0.1)
    pred.learn(0, A, bucket=0)
    pred.learn(1, B, bucket=1)
    before = np.array(pred.weights[1])
    pred.reset()
    pred.learn(0, C, bucket=0)  # t restarts; no source after the reset: nothing learned
    np.testing.assert_array_equal(pred.weights[1], before)
    pred.learn(1, D, bucket=1)  # source x(0) = C
    assert not np.array_equal(pred.weights[1][C], np.zeros((2, 2)))


def test_patterns_as_sdr_tensor_and_array_agree():
    pred = Predictor(size=8, steps=(1,), alpha=0.1)
    pred.learn(0, SDR.from_indices([0, 1], size=8), bucket=0)
    pred.learn(1, torch.tensor([3, 2]), bucket=1)  # order does not matter
    pred.learn(2, np.array([4, 5]), bucket=0)
    forms = [A, np.array(A), torch.tensor(A), SDR.from_indices(A, size=8), [1, 0]]
    reference = pred.infer(A)[1]
    for form in forms:
        np.testing.assert_array_equal(pred.infer(form)[1], reference)


def test_state_round_trip_gives_identical_predictions():
    rng = np.random.Generator(np.random.PCG64(11))
    patterns = [np.sort(rng.choice(50, size=6, replace=False)) for _ in range(5)]
    a = Predictor(size=50, steps=(1, 3), alpha=0.2)
    for t in range(17):
        a.learn(t, patterns[t % 5], bucket=t % 4, value=float(t))
    state = a.state_dict()
    b = Predictor.from_state_dict(state)
    state["weights"][1][:] = 99.0  # the saved state holds copies
    for t in range(17, 30):
        x = patterns[t % 5]
        pa, pb = a.infer(x), b.infer(x)
        for k in (1, 3):
            np.testing.assert_array_equal(pa[k], pb[k])
        assert a.predict_value(x) == b.predict_value(x)
        a.learn(t, x, bucket=t % 6, value=float(t))
        b.learn(t, x, bucket=t % 6, value=float(t))
    for k in (1, 3):
        np.testing.assert_array_equal(a.weights[k], b.weights[k])
    np.testing.assert_array_equal(a.bucket_values, b.bucket_values)


def test_load_state_dict_refuses_another_config():
    state = Predictor(size=8, steps=(1,)).state_dict()
    with pytest.raises(ValueError, match="from_state_dict"):
        Predictor(size=8, steps=(2,)).load_state_dict(state)


def test_weights_view_is_read_only():
    pred = Predictor(size=8, steps=(1,))
    pred.learn(0, A, bucket=1)
    with pytest.raises(ValueError):
        pred.weights[1][0, 0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"size": 0}, "size"),
        ({"size": 8, "steps": ()}, "steps"),
        ({"size": 8, "steps": (0,)}, "steps"),
        ({"size": 8, "steps": (1, -2)}, "steps"),
        ({"size": 8, "steps": (1.5,)}, "steps"),
        ({"size": 8, "steps": (1, 1)}, "steps"),
        ({"size": 8, "steps": 3}, "steps"),
        ({"size": 8, "alpha": 0.0}, "alpha"),
        ({"size": 8, "alpha": 1.5}, "alpha"),
        ({"size": 8, "alpha": float("nan")}, "alpha"),
        ({"size": 8, "act_value_alpha": -0.1}, "act_value_alpha"),
        ({"size": 8, "act_value_alpha": 2.0}, "act_value_alpha"),
    ],
)
def test_bad_constructor_arguments_name_the_argument(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=rf"^{name} "):
        Predictor(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((0, [0, 8], 0), {}, "pattern"),  # out of range
        ((0, [-1, 2], 0), {}, "pattern"),  # negative index
        ((0, [2, 2], 0), {}, "pattern"),  # duplicate
        ((0, [0.5, 2], 0), {}, "pattern"),  # non-integer
        ((0, np.array([0.0, 2.0]), 0), {}, "pattern"),  # float array
        ((0, np.array([[0, 1]]), 0), {}, "pattern"),  # 2-D
        ((0, SDR.from_indices([0, 1], size=9), 0), {}, "pattern"),  # wrong size
        ((0, "01", 0), {}, "pattern"),
        ((0, A, -1), {}, "bucket"),
        ((0, A, 1.0), {}, "bucket"),
        ((0, A, 0), {"value": float("nan")}, "value"),
        ((0, A, 0), {"value": "3"}, "value"),
        ((-1, A, 0), {}, "t"),
        ((1.5, A, 0), {}, "t"),
    ],
)
def test_bad_learn_arguments_name_the_argument(args, kwargs, name):
    pred = Predictor(size=8, steps=(1,))
    with pytest.raises((TypeError, ValueError), match=rf"^{name} "):
        pred.learn(*args, **kwargs)


@pytest.mark.parametrize("t", [3, 2])
def test_non_increasing_t_is_refused(t):
    pred = Predictor(size=8, steps=(1,))
    pred.learn(3, A, bucket=0)
    with pytest.raises(ValueError, match=r"^t must increase"):
        pred.learn(t, B, bucket=0)


def test_bad_predict_value_method_is_named():
    with pytest.raises(ValueError, match=r"^method "):
        Predictor(size=8).predict_value(A, method="mean")


def test_infer_validates_the_pattern():
    with pytest.raises(ValueError, match=r"^pattern .*size=8"):
        Predictor(size=8).infer([8])

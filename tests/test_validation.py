"""Argument checks: each names the argument, the expectation and what arrived."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dendrix._validation import check_choice, check_float, check_int, check_tensor


def test_integers_are_normalised_from_numpy_and_0d_tensors():
    assert check_int("n", np.int64(5)) == 5
    assert check_int("n", torch.tensor(7)) == 7


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (True, TypeError, "n must be an integer in [1, 10], got True (bool)"),
        (2.0, TypeError, "got 2.0 (float)"),
        (0, ValueError, "n must be an integer in [1, 10], got 0."),
        (11, ValueError, "got 11"),
    ],
)
def test_bad_integers_are_named_with_range_and_value(value, error, text):
    with pytest.raises(error) as info:
        check_int("n", value, minimum=1, maximum=10)
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (float("nan"), ValueError, "dt must be finite, got nan"),
        (float("inf"), ValueError, "dt must be finite"),
        (0.0, ValueError, "dt must be in (0, inf), got 0.0"),
        ("1", TypeError, "dt must be a real number"),
    ],
)
def test_bad_floats_are_named(value, error, text):
    with pytest.raises(error) as info:
        check_float("dt", value, minimum=0, open_min=True)
    assert text in str(info.value)


def test_hint_is_appended_to_the_message():
    with pytest.raises(ValueError, match=r"got -1\. Use a positive count\."):
        check_int("k", -1, minimum=0, hint="Use a positive count.")


def test_choice_lists_the_options():
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b'; got 'c'"):
        check_choice("mode", "c", ("a", "b"))


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "text"),
    [
        ([1.0], {}, TypeError, "x must be a torch.Tensor"),
        (torch.zeros(2, dtype=torch.long), {"kind": "floating"}, TypeError, "floating dtype"),
        (torch.zeros(2), {"ndim": 2}, ValueError, "2 dimension(s), got shape (2,)"),
        (torch.zeros(2), {"min_ndim": 2}, ValueError, "at least 2"),
        (torch.zeros(2, 3), {"last_dim": 4}, ValueError, "last dimension 4, got shape (2, 3)"),
        (torch.tensor([1.0, float("nan")]), {"finite": True}, ValueError, "1 NaN or infinite"),
    ],
)
def test_bad_tensors_are_named(value, kwargs, error, text):
    with pytest.raises(error) as info:
        check_tensor("x", value, **kwargs)
    assert text in str(info.value)

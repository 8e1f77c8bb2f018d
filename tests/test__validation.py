"""The shared checks: one wording ("<where>: expected …, got …") everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib._validation import (
    check_nchw,
    check_xy,
    int_in_range,
    non_negative_int,
    positive_int,
)


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_positive_int_returns_a_python_int(value):
    assert positive_int("n", value) == value and type(positive_int("n", value)) is int


@pytest.mark.parametrize("value", [0, -2, 2.0, True, "3", None])
def test_positive_int_rejects_what_is_not_a_whole_number_above_zero(value):
    with pytest.raises(ValueError, match=rf"^n: expected a positive integer, got {value!r}\.$"
                       .replace("(", r"\(").replace(")", r"\)")):
        positive_int("n", value)


def test_non_negative_int_accepts_zero_and_rejects_minus_one():
    assert non_negative_int("padding", 0) == 0
    with pytest.raises(ValueError, match=r"padding: expected a non-negative integer, got -1\."):
        non_negative_int("padding", -1)


def test_int_in_range_names_both_bounds():
    assert int_in_range("k", 5, 1, 5) == 5
    with pytest.raises(ValueError, match=r"k: expected an integer from 1 to 5, got 6\."):
        int_in_range("k", 6, 1, 5)
    with pytest.raises(ValueError, match=r"k: expected an integer at least 2, got 1\."):
        int_in_range("k", 1, 2)


def test_check_nchw_names_the_received_shape_and_the_fix():
    with pytest.raises(ValueError, match=r"f: expected a 4-D input .*got shape \(5, 28, 28\).*"
                                         r"reshape\(-1, 1, 28, 28\)"):
        check_nchw(np.zeros((5, 28, 28)), "f")


def test_check_nchw_checks_the_channel_count():
    with pytest.raises(ValueError,
                       match=r"expected 3 input channel\(s\).*got shape \(2, 1, 4, 4\)"):
        check_nchw(np.zeros((2, 1, 4, 4)), "f", channels=3)


def test_check_xy_returns_the_length_and_rejects_mismatches():
    assert check_xy(np.zeros((4, 2)), np.zeros(4), "fit") == 4
    with pytest.raises(ValueError, match=r"fit: expected as many labels as inputs, got 4 inputs "
                                         r"and 3 labels"):
        check_xy(np.zeros((4, 2)), np.zeros(3), "fit")


def test_check_xy_rejects_an_empty_batch_unless_allowed():
    with pytest.raises(ValueError, match=r"evaluate: expected at least one example"):
        check_xy(np.zeros((0, 2)), np.zeros(0), "evaluate")
    assert check_xy(np.zeros((0, 2)), np.zeros(0), "predict", allow_empty=True) == 0

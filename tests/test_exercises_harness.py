"""Tests for cnnlib.book.exercises.harness: every checker against a table of hostile functions.

Readers hand checkers whatever their code returns. Each checker must answer with a verdict
that says what came back and what was expected, and never raise from cnnlib's internals.
"""

import numpy as np
import pytest

import cnnlib
from cnnlib.book import exercises
from cnnlib.book.exercises import (
    convolution,
    fully_connected,
    harness,
    overfitting,
    pooling,
    softmax,
    training,
)


def _split(n, val_size, seed):
    order = np.random.default_rng(seed).permutation(n)
    return order[val_size:], order[:val_size]


# checker -> (a correct function, its number of parameters)
CORRECT = {
    "check_output_size": (lambda s, k, st, p: (s + 2 * p - k) // st + 1, 4),
    "check_conv2d": (convolution._conv2d_one, 4),
    "check_conv2d_backward": (convolution._conv2d_backward_one, 3),
    "check_maxpool2d": (pooling._maxpool2d_one, 3),
    "check_maxpool2d_backward": (pooling._maxpool2d_backward_one, 4),
    "check_receptive_field": (pooling._receptive_field, 2),
    "check_linear_forward": (fully_connected._reference_linear, 3),
    "check_linear_backward": (fully_connected._reference_linear_backward, 3),
    "check_softmax": (lambda z: cnnlib.softmax(z, axis=-1), 1),
    "check_cross_entropy": (softmax._reference_cross_entropy, 2),
    "check_softmax_cross_entropy_backward": (softmax._reference_ce_backward, 2),
    "check_adam_step": (training._adam_reference, 9),
    "check_accuracy": (lambda logits, labels: cnnlib.accuracy(logits, labels), 2),
    "check_train_val_split": (_split, 3),
    "check_standardize": (training._standardize_reference, 2),
    "check_im2col": (lambda x, k, s: cnnlib.im2col(x, k, s), 3),
    "check_conv2d_im2col": (lambda x, w, b: cnnlib.conv2d(x, w, b), 3),
    "check_dropout": (overfitting._dropout_reference, 3),
    "check_batchnorm_forward": (overfitting._batchnorm_reference, 4),
    "check_shift": (overfitting._shift_reference, 4),
    "check_cosine_lr": (overfitting._cosine_reference, 4),
}


def test_the_table_covers_every_checker():
    assert set(CORRECT) == {n for n in exercises.__all__ if n.startswith("check_")}


def _renamed(good, arity):
    """The correct function, with parameters called p0, p1, ... instead of the documented names."""
    params = ", ".join(f"p{i}" for i in range(arity))
    return eval(f"lambda {params}: good({params})", {"good": good})  # noqa: S307


def _spoil_first(result, spoil):
    """Apply ``spoil`` to the first array of a result (or the result itself)."""
    if isinstance(result, tuple):
        return (spoil(result[0]), *result[1:])
    return spoil(result)


def _with_nan(a):
    a = np.array(a, dtype=np.float64)
    a.reshape(-1)[:1] = np.nan
    return a if a.ndim else float(a)


def _as_complex(a):
    return np.asarray(a) + 1e-3j


def _mutating(good):
    def fn(*args):
        result = good(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        for a in args:
            if isinstance(a, np.ndarray):
                a += 1
                break
        return result
    return fn


def _raise(*args):
    raise RuntimeError("boom")


# kind -> (make the hostile function from the correct one, words one of which the verdict says)
HOSTILE = {
    "raises": (lambda good: _raise, ("raised RuntimeError",)),
    "returns None": (lambda good: lambda *a: None, ("None",)),
    "wrong shape": (lambda good: lambda *a: np.zeros((1, 2, 3)), ("shape", "ndarray", "return")),
    "ragged list": (lambda good: lambda *a: [[[1.0], [2.0, 3.0]], [4.0], [5.0]],
                    ("cannot turn", "list")),
    "str": (lambda good: lambda *a: "not an array", ("str",)),
    "bytes": (lambda good: lambda *a: b"\x00\x01", ("bytes",)),
    "object": (lambda good: lambda *a: object(), ("object",)),
    "NaN": (lambda good: lambda *a: _spoil_first(good(*a), _with_nan), ("nan",)),
    "complex": (lambda good: lambda *a: _spoil_first(good(*a), _as_complex), ("complex",)),
}
CASES = [(checker, kind) for checker in CORRECT for kind in HOSTILE]


@pytest.mark.parametrize(("checker", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_a_hostile_function_gets_a_verdict_that_names_what_came_back(checker, kind):
    good, _ = CORRECT[checker]
    make, words = HOSTILE[kind]
    result = getattr(exercises, checker)(make(good))
    assert isinstance(result, harness.CheckResult)
    assert not result.passed
    assert "could not judge" not in result.message  # answered by a verdict, not the guard
    assert any(w.lower() in result.message.lower() for w in words), result.message


@pytest.mark.parametrize("checker", list(CORRECT))
def test_a_correct_function_passes(checker):
    good, _ = CORRECT[checker]
    assert getattr(exercises, checker)(good).passed


@pytest.mark.parametrize("checker", list(CORRECT))
def test_a_correct_function_with_other_parameter_names_passes(checker):
    good, arity = CORRECT[checker]
    assert getattr(exercises, checker)(_renamed(good, arity)).passed


@pytest.mark.parametrize("checker", [c for c in CORRECT if c not in
                                     ("check_output_size", "check_train_val_split",
                                      "check_receptive_field", "check_cosine_lr")])
def test_a_function_that_changes_its_input_is_told_so(checker):
    good, _ = CORRECT[checker]
    result = getattr(exercises, checker)(_mutating(good))
    assert not result.passed
    assert "in place" in result.message


@pytest.mark.parametrize("checker", list(CORRECT))
def test_a_value_that_is_not_a_function_gets_a_verdict(checker):
    result = getattr(exercises, checker)(np.zeros(3))
    assert not result.passed
    assert "expected your function itself" in result.message


def test_nan_verdict_names_the_index():
    message = harness.judge_value(np.array([1.0, np.nan]), np.array([1.0, 2.0]), "the result",
                                  "case 1")
    assert "returned NaN in the result at index (1,)" in message


def test_complex_verdict_says_complex_and_no_complex_warning(recwarn):
    message = harness.judge_value(np.array([1.0 + 0j]), np.array([1.0]), "the result", "case 1")
    assert "complex values" in message
    assert not [w for w in recwarn if "Complex" in type(w.message).__name__]


def test_positional_call_follows_the_case_order():
    assert harness.call(lambda a, b: a - b, {"first": 5, "second": 2}) == 3


def test_guard_turns_an_internal_error_into_a_verdict():
    @harness.checker
    def check_broken(fn):
        raise KeyError("internal")

    result = check_broken(lambda: None)
    assert not result.passed
    assert "could not judge" in result.message and "KeyError" in result.message

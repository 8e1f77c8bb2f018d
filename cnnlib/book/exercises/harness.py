"""The harness every exercise checker shares.

A checker calls the reader's function on random cases, compares it with cnnlib's own
implementation and returns a :class:`CheckResult`, which prints as a pass or as what went wrong
(the shape, the values, a hint) without revealing the solution.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckResult", "call", "checker", "compare_on_cases", "describe_case",
           "judge_value", "not_a_function", "quietly", "diagnose", "first_matching_hint",
           "check_with_known_mistakes"]


@dataclass
class CheckResult:
    """The verdict of a checker: ``passed`` and a human-readable ``message``."""

    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✅ passed" if self.passed else "❌ not yet"
        return f"{self.name}: {mark} — {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        mark = "✅ **passed**" if self.passed else "❌ **not yet**"
        return f"`{self.name}`: {mark} — {self.message}"


def call(fn: Callable, case: dict):
    """Call the reader's function with the case's values, positionally, in documented order.

    Positional calls accept a correct function whatever its parameters are called
    (``softmax(z)`` as well as ``softmax(logits)``). NumPy's floating-point warnings are
    silenced: overflow is judged from the result, not printed.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*case.values())


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _expected(want: np.ndarray) -> str:
    return "a number" if want.ndim == 0 else f"an array of shape {want.shape}"


def judge_value(got, want, label: str, where: str, *, hint: str = "", rtol: float = 1e-5,
                atol: float = 1e-6) -> str | None:
    """What is wrong with one returned value compared with ``want``; None when it matches.

    Every kind of result a reader's function may produce is described, never raised:
    None, a ``str`` or ``bytes``, a ragged list, an object, complex numbers, the wrong shape,
    NaN or infinity where the reference is finite, and wrong values.
    """
    want = np.asarray(want)
    expected = _expected(want)
    if got is None:
        return f"{where}: {label} is None; did you forget to return it?"
    if isinstance(got, (str, bytes)):
        return (f"{where}: {label} is a {type(got).__name__} ({_short(got)}), expected "
                f"{expected}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = np.asarray(got)
    except (ValueError, TypeError):
        return (f"{where}: {label} is a {type(got).__name__} that NumPy cannot turn into one "
                f"array (rows of different lengths?), expected {expected}.")
    if g.dtype.kind == "c":
        return (f"{where}: {label} holds complex values ({g.dtype}), expected real numbers; "
                "a square root or logarithm of a negative number makes them.")
    if g.dtype.kind not in "biuf":
        return (f"{where}: {label} is a {type(got).__name__} of {g.dtype} values "
                f"({_short(got)}), expected {expected} of numbers.")
    if g.shape != want.shape:
        return f"{where}: {label} has shape {g.shape}, expected {want.shape}. {hint}".strip()
    g64, w64 = g.astype(np.float64), want.astype(np.float64)
    for test, what in ((np.isnan, "NaN"), (np.isinf, "infinity")):
        bad = test(g64) & ~test(w64)
        if bad.any():
            at = tuple(int(a) for a in np.argwhere(bad)[0])
            return (f"{where}: your function returned {what} in {label} at index {at}, where "
                    f"the answer is {w64[at]:.4g}. {hint}".strip())
    if not np.allclose(g64, w64, rtol=rtol, atol=atol, equal_nan=True):
        diff = np.atleast_1d(np.abs(g64 - w64))
        diff[np.isnan(diff)] = 0.0
        at = tuple(int(a) for a in np.unravel_index(np.argmax(diff), diff.shape))[:g64.ndim]
        return (f"{where}: {label} has the right shape but wrong values; the largest "
                f"difference is {diff.max():.3g} at index {at}. {hint}".strip())
    return None


def describe_case(number: int, total: int, case: dict) -> str:
    """``case 2 of 5 (x(4, 3), stride=2)``: where a verdict applies."""
    parts = ", ".join(f"{k}{tuple(np.shape(v))}" if np.ndim(v) else f"{k}={v!r}"
                      for k, v in case.items())
    return f"case {number} of {total} ({parts})"


def compare_on_cases(name: str, fn: Callable, reference: Callable, cases: list[dict], *,
                     hint: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> CheckResult:
    """Run ``fn`` and ``reference`` on every case and compare the results.

    ``fn`` gets each case's values positionally, in the case's (documented) order;
    ``reference`` gets them by name. Results may be arrays, numbers or tuples of them. The
    first failing case is described: an exception, a changed input, the wrong number of return
    values, or whatever :func:`judge_value` finds, followed by ``hint``.
    """
    for number, case in enumerate(cases, start=1):
        where = describe_case(number, len(cases), case)
        copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
        try:
            got = call(fn, copies)
        except Exception as exc:  # the reader's code failed: say how, not why
            return CheckResult(name, False, f"{where}: your function raised "
                               f"{type(exc).__name__}: {exc}. {hint}".strip())
        for k, v in case.items():
            if isinstance(v, np.ndarray) and not (
                    isinstance(copies[k], np.ndarray) and copies[k].shape == v.shape
                    and np.array_equal(copies[k], v, equal_nan=True)):
                return CheckResult(name, False, f"{where}: your function changed its input "
                                   f"{k!r} in place; work on a copy or a new array.")
        want = reference(**case)
        want_t = want if isinstance(want, tuple) else (want,)
        if len(want_t) > 1:
            if not isinstance(got, (tuple, list)) or len(got) != len(want_t):
                count = len(got) if isinstance(got, (tuple, list)) else 1
                return CheckResult(name, False, f"{where}: expected {len(want_t)} return "
                                   f"value(s), got {count} ({type(got).__name__}).")
            got_t = tuple(got)
        elif isinstance(got, tuple):
            return CheckResult(name, False, f"{where}: expected one return value, got a "
                               f"tuple of {len(got)}.")
        else:
            got_t = (got,)
        for i, (g, w) in enumerate(zip(got_t, want_t, strict=True)):
            label = f"return value {i + 1}" if len(want_t) > 1 else "the result"
            problem = judge_value(g, w, label, where, hint=hint, rtol=rtol, atol=atol)
            if problem is not None:
                return CheckResult(name, False, problem)
    return CheckResult(name, True, f"matches cnnlib on all {len(cases)} random cases.")


def not_a_function(name: str, fn) -> CheckResult | None:
    if callable(fn):
        return None
    return CheckResult(name, False, f"expected your function itself, e.g. {name}(my_function), "
                       f"got {type(fn).__name__}.")


def checker(check: Callable) -> Callable:
    """Decorate every ``check_*``: it answers with a :class:`CheckResult`, whatever came back.

    The reader's function is called positionally and every kind of result is described by
    :func:`judge_value`; this wrapper is the last line of defence: a non-callable argument gets
    a verdict, and an error inside the checker itself becomes a verdict that names it instead of
    a traceback from cnnlib's internals.
    """

    @functools.wraps(check)
    def run(fn, *args, **kwargs) -> CheckResult:
        if (bad := not_a_function(check.__name__, fn)) is not None:
            return bad
        try:
            return check(fn, *args, **kwargs)
        except Exception as exc:
            return CheckResult(check.__name__, False, "the checker could not judge what your "
                               f"function returned ({type(exc).__name__}: {exc}); return "
                               "values of the types and shapes the exercise asks for.")

    return run


def quietly(fn: Callable) -> Callable:
    """``fn`` with NumPy's floating-point warnings silenced (overflow in a naive exp, ...)."""

    def run(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return run


def diagnose(name: str, fn: Callable, reference: Callable, cases: list[dict],
              diagnoses: list[tuple[Callable, str]]) -> CheckResult | None:
    """Look for a known mistake before the generic comparison.

    ``diagnoses`` holds ``(test(got, want) -> bool, message)`` pairs; the first test that is
    true on some case (where ``got`` has the right shape) decides the verdict. Exceptions,
    None and wrong shapes are left to :func:`compare_on_cases`, which describes them.
    """
    for number, case in enumerate(cases, start=1):
        where = describe_case(number, len(cases), case)
        copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
        try:
            got = call(fn, copies)
        except Exception:
            continue
        if got is None:
            return CheckResult(name, False, f"{where}: the result is None; did you forget to "
                               "return it?")
        want = reference(**case)
        want_t = want if isinstance(want, tuple) else (want,)
        got_t = tuple(got) if len(want_t) > 1 and isinstance(got, (tuple, list)) else (got,)
        if len(got_t) != len(want_t) or any(g is None for g in got_t):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arrays = tuple(np.asarray(g) for g in got_t)
        except (TypeError, ValueError):
            continue
        if any(a.dtype.kind not in "biuf" for a in arrays):
            continue  # str, object, complex: compare_on_cases says what came back
        got_t = tuple(a.astype(np.float64) for a in arrays)
        want_t = tuple(np.asarray(w, dtype=np.float64) for w in want_t)
        if any(g.shape != w.shape for g, w in zip(got_t, want_t, strict=True)):
            continue
        if all(np.allclose(g, w, rtol=1e-5, atol=1e-6)
               for g, w in zip(got_t, want_t, strict=True)):
            continue
        for test, message in diagnoses:
            if test(got_t, want_t):
                return CheckResult(name, False, f"{where}: {message}")
    return None


def first_matching_hint(name: str, fn: Callable, cases: list[dict],
                         variants: list[tuple[Callable, str]], **tol) -> str:
    """The hint of the first known mistake (a wrong reference) that ``fn`` reproduces."""
    for wrong, hint in variants:
        try:
            if compare_on_cases(name, fn, wrong, cases, **tol).passed:
                return hint
        except Exception:  # a variant that cannot even run on a case says nothing
            continue
    return ""


def check_with_known_mistakes(name: str, fn: Callable, reference: Callable, cases: list[dict],
                               variants: list[tuple[Callable, str]], hint: str = "",
                               **tol) -> CheckResult:
    """:func:`compare_on_cases`, plus a targeted hint when wrong values match a known mistake."""
    try:
        nothing = call(fn, {k: (v.copy() if isinstance(v, np.ndarray) else v)
                            for k, v in cases[0].items()}) is None
    except Exception:
        nothing = False  # compare_on_cases reports the exception
    if nothing:
        return CheckResult(name, False, "the result is None; did you forget to return it? "
                           "(The stub returns None until you write the body.)")
    result = compare_on_cases(name, fn, reference, cases, hint=hint, **tol)
    if result.passed or "wrong values" not in result.message:
        return result
    known = first_matching_hint(name, fn, cases, variants, **tol)
    if known:
        where = result.message.split(":")[0]
        return CheckResult(name, False, f"{where}: wrong values. {known}")
    return result

"""The harness every exercise checker shares.

A checker calls the reader's function on random cases, compares it with cnnlib's own
implementation and returns a :class:`CheckResult`, which prints as a pass or as what went wrong
(the shape, the values, a hint) without revealing the solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckResult", "compare_on_cases", "not_a_function", "quietly", "diagnose",
           "first_matching_hint", "check_with_known_mistakes"]


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


def compare_on_cases(name: str, fn: Callable, reference: Callable, cases: list[dict], *,
                     hint: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> CheckResult:
    """Run ``fn(**case)`` and ``reference(**case)`` on every case and compare the results.

    Results may be arrays or tuples of arrays. The first failing case is described: an
    exception, a wrong type, a wrong shape (expected vs received), or wrong values (where
    the largest difference is and how large), followed by ``hint``.
    """
    for number, case in enumerate(cases, start=1):
        shapes = ", ".join(f"{k}{tuple(np.shape(v))}" if np.ndim(v) else f"{k}={v!r}"
                           for k, v in case.items())
        where = f"case {number} of {len(cases)} ({shapes})"
        copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
        try:
            got = fn(**copies)
        except Exception as exc:  # the reader's code failed: say how, not why
            return CheckResult(name, False, f"{where}: your function raised "
                               f"{type(exc).__name__}: {exc}. {hint}".strip())
        for k, v in case.items():
            if isinstance(v, np.ndarray) and not np.array_equal(copies[k], v):
                return CheckResult(name, False, f"{where}: your function changed its input "
                                   f"{k!r} in place; work on a copy or a new array.")
        want = reference(**case)
        got_t = got if isinstance(got, tuple) else (got,)
        want_t = want if isinstance(want, tuple) else (want,)
        if len(got_t) != len(want_t):
            return CheckResult(name, False, f"{where}: expected {len(want_t)} return value(s), "
                               f"got {len(got_t)}.")
        for i, (g, w) in enumerate(zip(got_t, want_t, strict=True)):
            label = f"return value {i + 1}" if len(want_t) > 1 else "the result"
            if g is None:
                return CheckResult(name, False, f"{where}: {label} is None; did you forget "
                                   "to return it?")
            g = np.asarray(g)
            w = np.asarray(w)
            if g.shape != w.shape:
                return CheckResult(name, False, f"{where}: {label} has shape {g.shape}, "
                                   f"expected {w.shape}. {hint}".strip())
            if not np.allclose(g, w, rtol=rtol, atol=atol):
                diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
                at = np.unravel_index(np.argmax(diff), diff.shape)
                return CheckResult(name, False, f"{where}: {label} has the right shape but "
                                   f"wrong values; the largest difference is {diff.max():.3g} "
                                   f"at index {tuple(int(a) for a in at)}. {hint}".strip())
    return CheckResult(name, True, f"matches cnnlib on all {len(cases)} random cases.")


def not_a_function(name: str, fn) -> CheckResult | None:
    if callable(fn):
        return None
    return CheckResult(name, False, f"expected your function itself, e.g. {name}(my_function), "
                       f"got {type(fn).__name__}.")


def quietly(fn: Callable) -> Callable:
    """``fn`` with NumPy's floating-point warnings silenced (overflow in a naive exp, ...)."""

    def run(**kwargs):
        with np.errstate(all="ignore"):
            return fn(**kwargs)

    return run


def diagnose(name: str, fn: Callable, reference: Callable, cases: list[dict],
              diagnoses: list[tuple[Callable, str]]) -> CheckResult | None:
    """Look for a known mistake before the generic comparison.

    ``diagnoses`` holds ``(test(got, want) -> bool, message)`` pairs; the first test that is
    true on some case (where ``got`` has the right shape) decides the verdict. Exceptions,
    None and wrong shapes are left to :func:`compare_on_cases`, which describes them.
    """
    for number, case in enumerate(cases, start=1):
        shapes = ", ".join(f"{k}{tuple(np.shape(v))}" for k, v in case.items())
        where = f"case {number} of {len(cases)} ({shapes})"
        copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
        try:
            got = quietly(fn)(**copies)
        except Exception:
            continue
        if got is None:
            return CheckResult(name, False, f"{where}: the result is None; did you forget to "
                               "return it?")
        want = reference(**case)
        got_t = got if isinstance(got, tuple) else (got,)
        want_t = want if isinstance(want, tuple) else (want,)
        if len(got_t) != len(want_t) or any(g is None for g in got_t):
            continue
        try:
            got_t = tuple(np.asarray(g, dtype=np.float64) for g in got_t)
        except (TypeError, ValueError):
            continue
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
        nothing = fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
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

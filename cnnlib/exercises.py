"""Self-checks for the exercises: call a checker with your function and read the verdict.

Each ``check_*`` function runs the reader's function on random cases, compares it with
cnnlib's own implementation, and returns a :class:`CheckResult`, which prints as a pass, or as
what went wrong (the shape, the values, a hint) without revealing the solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckResult", "compare_on_cases"]


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


# ----------------------------------------------------------------------- chapter 1: convolution


# ----------------------------------------------------------------------- chapter 2: pooling


# ----------------------------------------------------------------------- chapter 3: fully connected


# ----------------------------------------------------------------------- chapter 4: softmax


# ----------------------------------------------------------------------- chapter 5: training

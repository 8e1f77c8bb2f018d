"""Self-checks for the exercises: call a checker with your function and read the verdict.

Each ``check_*`` function runs the reader's function on random cases, compares it with
cnnlib's own implementation, and returns a :class:`CheckResult`, which prints as a pass, or as
what went wrong (the shape, the values, a hint) without revealing the solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .layers import Linear, conv2d, im2col
from .layers import conv2d as _conv2d
from .layers import conv2d_backward_naive as _conv2d_backward_naive
from .layers import conv_output_size as _conv_output_size
from .layers import maxpool2d_backward_naive as _maxpool2d_backward_naive
from .layers import maxpool2d_naive as _maxpool2d_naive
from .losses import SoftmaxCrossEntropy, softmax
from .train import accuracy

__all__ = [
    "CheckResult",
    "compare_on_cases",
    # chapter 1
    "check_conv2d",
    "check_conv2d_backward",
    "check_output_size",
    # chapter 2
    "check_maxpool2d",
    "check_maxpool2d_backward",
    # chapter 3
    "check_linear_backward",
    "check_linear_forward",
    # chapter 4
    "check_cross_entropy",
    "check_softmax",
    "check_softmax_cross_entropy_backward",
    # chapters 5 and 6
    "check_accuracy",
    "check_adam_step",
    "check_conv2d_im2col",
    "check_im2col",
    "check_standardize",
    "check_train_val_split",
]


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


def compare_on_cases(
    name: str,
    fn: Callable,
    reference: Callable,
    cases: list[dict],
    *,
    hint: str = "",
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> CheckResult:
    """Run ``fn(**case)`` and ``reference(**case)`` on every case and compare the results.

    Results may be arrays or tuples of arrays. The first failing case is described: an
    exception, a wrong type, a wrong shape (expected vs received), or wrong values (where
    the largest difference is and how large), followed by ``hint``.
    """
    for number, case in enumerate(cases, start=1):
        shapes = ", ".join(
            f"{k}{tuple(np.shape(v))}" if np.ndim(v) else f"{k}={v!r}" for k, v in case.items()
        )
        where = f"case {number} of {len(cases)} ({shapes})"
        copies = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
        try:
            got = fn(**copies)
        except Exception as exc:  # the reader's code failed: say how, not why
            return CheckResult(
                name,
                False,
                f"{where}: your function raised {type(exc).__name__}: {exc}. {hint}".strip(),
            )
        for k, v in case.items():
            if isinstance(v, np.ndarray) and not np.array_equal(copies[k], v):
                return CheckResult(
                    name,
                    False,
                    f"{where}: your function changed its input "
                    f"{k!r} in place; work on a copy or a new array.",
                )
        want = reference(**case)
        got_t = got if isinstance(got, tuple) else (got,)
        want_t = want if isinstance(want, tuple) else (want,)
        if len(got_t) != len(want_t):
            return CheckResult(
                name, False, f"{where}: expected {len(want_t)} return value(s), got {len(got_t)}."
            )
        for i, (g, w) in enumerate(zip(got_t, want_t, strict=True)):
            label = f"return value {i + 1}" if len(want_t) > 1 else "the result"
            if g is None:
                return CheckResult(
                    name, False, f"{where}: {label} is None; did you forget to return it?"
                )
            g = np.asarray(g)
            w = np.asarray(w)
            if g.shape != w.shape:
                return CheckResult(
                    name,
                    False,
                    f"{where}: {label} has shape {g.shape}, expected {w.shape}. {hint}".strip(),
                )
            if not np.allclose(g, w, rtol=rtol, atol=atol):
                diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
                at = np.unravel_index(np.argmax(diff), diff.shape)
                return CheckResult(
                    name,
                    False,
                    f"{where}: {label} has the right shape but "
                    f"wrong values; the largest difference is {diff.max():.3g} "
                    f"at index {tuple(int(a) for a in at)}. {hint}".strip(),
                )
    return CheckResult(name, True, f"matches cnnlib on all {len(cases)} random cases.")


# ----------------------------------------------------------------------- chapter 1: convolution


def _not_a_function(name: str, fn) -> CheckResult | None:
    if callable(fn):
        return None
    return CheckResult(
        name,
        False,
        f"expected your function itself, e.g. {name}(my_function), got {type(fn).__name__}.",
    )


_OUTPUT_SIZE_HINT = (
    "Count how many positions the window can take: the padded length is "
    "H + 2P, the window needs K of it, and it moves S pixels at a time."
)


def check_output_size(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(size, kernel_size, stride, padding) -> int``, the output length of a
    convolution along one axis, against :func:`cnnlib.conv_output_size`."""
    name = "check_output_size"
    if (bad := _not_a_function(name, fn)) is not None:
        return bad
    rng = np.random.default_rng(seed)
    cases = [
        (5, 3, 1, 0),
        (28, 5, 1, 0),
        (28, 3, 1, 1),
        (28, 3, 2, 1),
        (8, 3, 2, 0),
        (5, 5, 1, 0),
        (10, 4, 3, 2),
    ]
    while len(cases) < 20:
        size, k, s, p = (
            int(rng.integers(1, 40)),
            int(rng.integers(1, 8)),
            int(rng.integers(1, 5)),
            int(rng.integers(0, 4)),
        )
        if k <= size + 2 * p:
            cases.append((size, k, s, p))
    for number, (size, k, s, p) in enumerate(cases, start=1):
        where = (
            f"case {number} of {len(cases)} (size={size}, kernel_size={k}, stride={s}, padding={p})"
        )
        try:
            got = fn(size, k, s, p)
        except Exception as exc:
            return CheckResult(
                name, False, f"{where}: your function raised {type(exc).__name__}: {exc}."
            )
        want = _conv_output_size(size, k, s, p)
        if got is None:
            return CheckResult(
                name, False, f"{where}: the result is None; did you forget to return it?"
            )
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return CheckResult(
                name,
                False,
                f"{where}: you returned {got!r} "
                f"({type(got).__name__}); a size must be an int. Floor division "
                "(//) divides and rounds down in one step.",
            )
        if got != want:
            return CheckResult(
                name, False, f"{where}: you returned {got}, expected {want}. {_OUTPUT_SIZE_HINT}"
            )
    return CheckResult(name, True, f"matches cnnlib.conv_output_size on all {len(cases)} cases.")


def _conv2d_one(x, kernel, stride=1, padding=0):
    """cnnlib's convolution of one 2-D image with one 2-D kernel."""
    return _conv2d(x[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def check_conv2d(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(x, kernel, stride, padding)``: one (H, W) image convolved with one (k, k)
    kernel (no flip, as in cnnlib and PyTorch), zero padding on every side; returns
    (OH, OW) with ``OH = (H + 2 * padding - k) // stride + 1``."""
    name = "check_conv2d"
    if (bad := _not_a_function(name, fn)) is not None:
        return bad
    rng = np.random.default_rng(seed)
    shapes = [
        (5, 5, 3, 1, 0),
        (6, 7, 3, 1, 1),
        (7, 7, 3, 2, 0),
        (8, 6, 2, 2, 1),
        (9, 8, 4, 3, 2),
        (5, 6, 5, 1, 0),
        (10, 9, 3, 2, 1),
    ]
    cases = [
        {
            "x": rng.standard_normal((h, w)),
            "kernel": rng.standard_normal((k, k)),
            "stride": s,
            "padding": p,
        }
        for h, w, k, s, p in shapes
    ]
    return compare_on_cases(
        name,
        lambda x, kernel, stride, padding: fn(x, kernel, stride, padding),
        _conv2d_one,
        cases,
        hint="Pad with zeros on all four sides, move the window `stride` pixels at a "
        "time, size the output with O = ⌊(H + 2P − K)/S⌋ + 1 (rows and columns separately), "
        "and do not flip the kernel.",
    )


def _as_triple(result):
    # A bare None (a stub that returns nothing) reads as "return value 1 is None".
    return (None, None, None) if result is None else result


def _conv2d_backward_one(grad_out, x, kernel):
    dx, dw, db = _conv2d_backward_naive(grad_out[None, None], x[None, None], kernel[None, None])
    return dx[0, 0], dw[0, 0], float(db[0])


def check_conv2d_backward(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(grad_out, x, kernel) -> (dx, dkernel, dbias)``, the backward pass of a
    stride-1, unpadded convolution of one (H, W) image with one (k, k) kernel plus a scalar
    bias; ``grad_out`` is (H - k + 1, W - k + 1) and ``dbias`` a number."""
    name = "check_conv2d_backward"
    if (bad := _not_a_function(name, fn)) is not None:
        return bad
    rng = np.random.default_rng(seed)
    cases = []
    for h, w, k in [(4, 4, 3), (5, 5, 3), (6, 7, 3), (7, 5, 2), (6, 6, 4)]:
        cases.append(
            {
                "grad_out": rng.standard_normal((h - k + 1, w - k + 1)),
                "x": rng.standard_normal((h, w)),
                "kernel": rng.standard_normal((k, k)),
            }
        )
    return compare_on_cases(
        name,
        lambda grad_out, x, kernel: _as_triple(fn(grad_out, x, kernel)),
        _conv2d_backward_one,
        cases,
        hint="Return (dx, dkernel, dbias). dkernel slides grad_out over x; dx is a full "
        "convolution of grad_out with the kernel turned by 180 degrees (or: every output "
        "adds grad_out[r, c] * kernel to the patch it read); dbias adds up grad_out.",
    )


# ----------------------------------------------------------------------- chapter 2: pooling


# (H, W, size, stride): tiling windows, rows and columns left over, overlapping windows.
_POOL_SHAPES = [
    (4, 4, 2, 2),
    (6, 6, 2, 2),
    (7, 7, 2, 2),
    (6, 8, 3, 3),
    (7, 7, 3, 2),
    (5, 6, 2, 1),
    (8, 8, 4, 4),
]


def _pool_cases(rng: np.random.Generator, with_grad: bool) -> list[dict]:
    cases = []
    for number, (h, w, size, stride) in enumerate(_POOL_SHAPES):
        x = rng.standard_normal((h, w))
        if number == 2:
            x = -np.abs(x) - 0.1  # every value negative: the maximum is below zero
        if number == 5:
            x = np.maximum(rng.integers(-2, 3, (h, w)), 0).astype(np.float64)  # ReLU'd: ties
        case = {"x": x, "size": size, "stride": stride}
        if with_grad:
            oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
            case = {"grad_out": rng.standard_normal((oh, ow)), **case}
        cases.append(case)
    return cases


def _maxpool2d_one(x, size, stride):
    return _maxpool2d_naive(x[None, None], size, stride)[0, 0]


def check_maxpool2d(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(x, size, stride)``: max pooling of one (H, W) array with size x size
    windows every ``stride`` pixels; returns (OH, OW), ``OH = (H - size) // stride + 1``."""
    name = "check_maxpool2d"
    if (bad := _not_a_function(name, fn)) is not None:
        return bad
    cases = _pool_cases(np.random.default_rng(seed), with_grad=False)
    return compare_on_cases(
        name,
        lambda x, size, stride: fn(x, size, stride),
        _maxpool2d_one,
        cases,
        hint="Windows start every `stride` pixels (they may overlap or leave the last rows "
        "out: O = ⌊(H − size)/stride⌋ + 1), and a window of negative numbers has a negative "
        "maximum.",
    )


def _maxpool2d_backward_one(grad_out, x, size, stride):
    return _maxpool2d_backward_naive(grad_out[None, None], x[None, None], size, stride)[0, 0]


def check_maxpool2d_backward(fn: Callable, seed: int = 0) -> CheckResult:
    """Check ``fn(grad_out, x, size, stride) -> dx``, the backward pass of max pooling of one
    (H, W) array: ``dx`` has the shape of ``x``. Ties go to the first maximum of a window in
    row-major order (as ``np.argmax`` finds it)."""
    name = "check_maxpool2d_backward"
    if (bad := _not_a_function(name, fn)) is not None:
        return bad
    cases = _pool_cases(np.random.default_rng(seed), with_grad=True)
    return compare_on_cases(
        name,
        lambda grad_out, x, size, stride: fn(grad_out, x, size, stride),
        _maxpool2d_backward_one,
        cases,
        hint="Each grad_out value goes to one input only, the maximum of its window (the "
        "first one, row by row, when several are equal); where windows overlap the "
        "gradients add up, and inputs that no window reads get 0.",
    )


# ----------------------------------------------------------------------- chapter 3: fully connected


def _quietly(fn: Callable) -> Callable:
    """``fn`` with NumPy's floating-point warnings silenced (overflow in a naive exp, ...)."""

    def run(**kwargs):
        with np.errstate(all="ignore"):
            return fn(**kwargs)

    return run


def _diagnose(
    name: str,
    fn: Callable,
    reference: Callable,
    cases: list[dict],
    diagnoses: list[tuple[Callable, str]],
) -> CheckResult | None:
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
            got = _quietly(fn)(**copies)
        except Exception:
            continue
        if got is None:
            return CheckResult(
                name, False, f"{where}: the result is None; did you forget to return it?"
            )
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
        if all(np.allclose(g, w, rtol=1e-5, atol=1e-6) for g, w in zip(got_t, want_t, strict=True)):
            continue
        for test, message in diagnoses:
            if test(got_t, want_t):
                return CheckResult(name, False, f"{where}: {message}")
    return None


def _linear_cases(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, d_in, d_out in [(1, 3, 2), (4, 5, 3), (7, 12, 9), (3, 800, 128)]:
        cases.append(
            {
                "x": rng.standard_normal((n, d_in)),
                "weight": rng.standard_normal((d_out, d_in)),
                "bias": rng.standard_normal(d_out),
            }
        )
    return cases


def _reference_linear(x, weight, bias):
    layer = Linear(weight.shape[1], weight.shape[0], dtype=np.float64)
    layer.params["weight"][...] = weight
    layer.params["bias"][...] = bias
    return layer.forward(x)


def check_linear_forward(fn: Callable) -> CheckResult:
    """Check ``fn(x, weight, bias) -> y``, a dense layer's forward pass.

    Shape
    -----
    x (N, in_features), weight (out_features, in_features), bias (out_features,)
    -> y (N, out_features)
    """
    return compare_on_cases(
        "linear_forward",
        fn,
        _reference_linear,
        _linear_cases(0),
        hint="weight has shape (out_features, in_features): check which of its axes meets "
        "the features of x, and that bias is added to every row of the result.",
    )


def _reference_linear_backward(grad_out, x, weight):
    layer = Linear(weight.shape[1], weight.shape[0], dtype=np.float64)
    layer.params["weight"][...] = weight
    layer.forward(x)
    dx = layer.backward(grad_out)
    return dx, layer.grads["weight"].copy(), layer.grads["bias"].copy()


def check_linear_backward(fn: Callable) -> CheckResult:
    """Check ``fn(grad_out, x, weight) -> (dx, dweight, dbias)``, a dense layer's backward pass.

    Shape
    -----
    grad_out (N, out_features), x (N, in_features), weight (out_features, in_features)
    -> dx (N, in_features), dweight (out_features, in_features), dbias (out_features,)
    """
    cases = []
    for case in _linear_cases(1):
        n, d_out = case["x"].shape[0], case["weight"].shape[0]
        grad_out = np.random.default_rng(n).standard_normal((n, d_out))
        cases.append({"grad_out": grad_out, "x": case["x"], "weight": case["weight"]})
    hint = (
        "Each gradient has the shape of what it is the gradient of (dx like x, dweight "
        "like weight, dbias like the bias); the parameter gradients add up the "
        "contributions of every example in the batch."
    )
    diagnoses = [
        (
            lambda g, w: np.allclose(g[1], w[1] / len(w[0])) and len(w[0]) > 1,
            "dweight is N times too small (N = batch size): add up the contributions "
            "of the examples rather than averaging them; any averaging already "
            "happened in the loss, and grad_out carries it.",
        )
    ]
    found = _diagnose("linear_backward", fn, _reference_linear_backward, cases, diagnoses)
    if found is not None:
        return found
    return compare_on_cases("linear_backward", fn, _reference_linear_backward, cases, hint=hint)


# ----------------------------------------------------------------------- chapter 4: softmax


_OVERFLOW_HINT = (
    "it contains nan or inf: exp overflowed (exp(1000) is inf in floating "
    "point, and inf / inf is nan). Subtract the maximum of each row from the "
    "logits before exponentiating; the softmax does not change."
)


def _nonfinite(got: tuple, want: tuple) -> bool:
    return any(not np.all(np.isfinite(g)) for g in got)


def _softmax_cases(seed: int, with_labels: bool = False) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = [
        {"logits": np.array([[2.0, 1.0, 0.1]])},
        {"logits": rng.standard_normal((4, 10)) * 3},
        {"logits": rng.standard_normal((6, 5)) * 2 + 50},
        {"logits": rng.standard_normal((5, 10)) * 5 + 1000},  # exp overflows
        {"logits": rng.standard_normal((3, 10)) * 5 - 1000},
    ]  # exp underflows to 0
    if with_labels:
        for case in cases:
            n, c = case["logits"].shape
            case["labels"] = rng.integers(0, c, size=n)
        # a true class far below the others: softmax rounds its probability to 0
        cases.append(
            {"logits": np.array([[0.0, 800.0, 5.0], [1.0, 2.0, 3.0]]), "labels": np.array([0, 2])}
        )
    return cases


def check_softmax(fn: Callable) -> CheckResult:
    """Check ``fn(logits) -> probs``, a softmax over the last axis, including huge logits.

    Shape
    -----
    logits (N, C) -> probs (N, C), every row positive and summing to 1.
    """

    def reference(logits):
        return softmax(logits, axis=-1)

    cases = _softmax_cases(2)
    found = _diagnose("softmax", fn, reference, cases, [(_nonfinite, _OVERFLOW_HINT)])
    if found is not None:
        return found
    return compare_on_cases(
        "softmax",
        _quietly(fn),
        reference,
        cases,
        hint="Each row is one example: exponentiate its logits and divide by that row's sum, "
        "so every row sums to 1.",
    )


def _reference_cross_entropy(logits, labels):
    return SoftmaxCrossEntropy().forward(logits, labels)


def check_cross_entropy(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> loss``, the mean cross-entropy of softmax(logits).

    Shape
    -----
    logits (N, C), labels (N,) integers in [0, C) -> loss, one number.
    """
    cases = _softmax_cases(3, with_labels=True)
    diagnoses = [
        (
            _nonfinite,
            "the loss is nan or inf: a probability rounded to exactly 0 (log 0 is "
            "-inf) or exp overflowed. Compute the log-probabilities directly with "
            "the maximum subtracted (log-softmax) instead of taking log(softmax(z)).",
        ),
        (
            lambda g, w: float(g[0]) < 0 and np.isclose(-float(g[0]), float(w[0])),
            "the sign is flipped: the loss is the *negative* log-probability of the true class, "
            "a positive number.",
        ),
        (
            lambda g, w: (
                not np.isclose(float(g[0]), float(w[0]))
                and any(np.isclose(float(g[0]), float(w[0]) * n) for n in range(2, 11))
            ),
            "your value is a multiple of the right one: the loss is the mean over the batch, "
            "not the sum.",
        ),
    ]
    found = _diagnose("cross_entropy", fn, _reference_cross_entropy, cases, diagnoses)
    if found is not None:
        return found
    return compare_on_cases(
        "cross_entropy",
        _quietly(fn),
        _reference_cross_entropy,
        cases,
        hint="Take minus the log-probability of each example's true class (labels[i]) and "
        "average over the batch: the result is one number.",
    )


def _reference_ce_backward(logits, labels):
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    return loss.backward()


def check_softmax_cross_entropy_backward(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> grad``, the gradient of the mean loss for the logits.

    Shape
    -----
    logits (N, C), labels (N,) -> grad (N, C)
    """
    cases = _softmax_cases(4, with_labels=True)
    diagnoses = [
        (_nonfinite, _OVERFLOW_HINT),
        (
            lambda g, w: np.allclose(g[0], -w[0]),
            "the sign is flipped: raising the true "
            "class's logit must lower the loss, so its gradient entry is negative.",
        ),
        (
            lambda g, w: len(g[0]) > 1 and np.allclose(g[0], w[0] * len(g[0])),
            "your gradient is N times too large (N = batch size): the loss is the mean over "
            "the batch, so its gradient is divided by N.",
        ),
    ]
    found = _diagnose(
        "softmax_cross_entropy_backward", fn, _reference_ce_backward, cases, diagnoses
    )
    if found is not None:
        return found
    return compare_on_cases(
        "softmax_cross_entropy_backward",
        _quietly(fn),
        _reference_ce_backward,
        cases,
        hint="Row i is the gradient for example i (see the derivation in this chapter); "
        "remember that the loss is a mean over the batch.",
    )


# ----------------------------------------------------------------------- chapter 5: training


def _first_matching_hint(
    name: str, fn: Callable, cases: list[dict], variants: list[tuple[Callable, str]], **tol
) -> str:
    """The hint of the first known mistake (a wrong reference) that ``fn`` reproduces."""
    for wrong, hint in variants:
        try:
            if compare_on_cases(name, fn, wrong, cases, **tol).passed:
                return hint
        except Exception:  # a variant that cannot even run on a case says nothing
            continue
    return ""


def _check_with_known_mistakes(
    name: str,
    fn: Callable,
    reference: Callable,
    cases: list[dict],
    variants: list[tuple[Callable, str]],
    hint: str = "",
    **tol,
) -> CheckResult:
    """:func:`compare_on_cases`, plus a targeted hint when wrong values match a known mistake."""
    try:
        nothing = (
            fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in cases[0].items()})
            is None
        )
    except Exception:
        nothing = False  # compare_on_cases reports the exception
    if nothing:
        return CheckResult(
            name,
            False,
            "the result is None; did you forget to return it? "
            "(The stub returns None until you write the body.)",
        )
    result = compare_on_cases(name, fn, reference, cases, hint=hint, **tol)
    if result.passed or "wrong values" not in result.message:
        return result
    known = _first_matching_hint(name, fn, cases, variants, **tol)
    if known:
        where = result.message.split(":")[0]
        return CheckResult(name, False, f"{where}: wrong values. {known}")
    return result


def _adam_reference(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_cases(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for shape, t, lr, betas in [
        ((3,), 1, 1e-3, (0.9, 0.999)),
        ((4, 5), 2, 1e-2, (0.95, 0.99)),
        ((2, 3, 3), 10, 1e-3, (0.9, 0.999)),
        ((6,), 100, 3e-4, (0.8, 0.9)),
    ]:
        cases.append(
            dict(
                param=rng.standard_normal(shape),
                grad=rng.standard_normal(shape),
                m=0.1 * rng.standard_normal(shape),
                v=0.05 * rng.random(shape),
                t=t,
                lr=lr,
                beta1=betas[0],
                beta2=betas[1],
                eps=1e-8,
            )
        )
    return cases


def check_adam_step(fn: Callable) -> CheckResult:
    """Check ``fn(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``.

    One Adam update with bias correction, returning new arrays (the inputs must stay
    unchanged): the updated parameter and the updated first and second moments. ``t`` is the
    number of the step being taken, 1 for the first.
    """
    name = "check_adam_step"

    def uncorrected(param, grad, m, v, t, lr, beta1, beta2, eps):
        m2 = beta1 * m + (1 - beta1) * grad
        v2 = beta2 * v + (1 - beta2) * grad**2
        return param - lr * m2 / (np.sqrt(v2) + eps), m2, v2

    def step_off_by_one(param, grad, m, v, t, lr, beta1, beta2, eps):
        return _adam_reference(param, grad, m, v, t + 1, lr, beta1, beta2, eps)

    def reset_moments(param, grad, m, v, t, lr, beta1, beta2, eps):
        zero = np.zeros_like(param)
        return _adam_reference(param, grad, zero, zero, t, lr, beta1, beta2, eps)

    def uphill(param, grad, m, v, t, lr, beta1, beta2, eps):
        p, m2, v2 = _adam_reference(param, grad, m, v, t, lr, beta1, beta2, eps)
        return 2 * param - p, m2, v2

    def eps_inside(param, grad, m, v, t, lr, beta1, beta2, eps):
        m2 = beta1 * m + (1 - beta1) * grad
        v2 = beta2 * v + (1 - beta2) * grad**2
        return param - lr * (m2 / (1 - beta1**t)) / np.sqrt(v2 / (1 - beta2**t) + eps), m2, v2

    variants = [
        (
            uncorrected,
            "Your update matches Adam without bias correction: divide each moment "
            "by (1 - beta**t) before using it in the update.",
        ),
        (
            reset_moments,
            "Your update starts from zero moments, the seed article's bug: build "
            "on the m and v passed in, which carry the history of past steps.",
        ),
        (
            step_off_by_one,
            "Your bias correction uses the wrong step number: t is the number of "
            "the step being taken, 1 for the first one.",
        ),
        (
            uphill,
            "Your parameter moved in the direction of the gradient, uphill: gradient "
            "descent subtracts the step.",
        ),
        (eps_inside, "eps belongs outside the square root, added to sqrt(v_hat)."),
    ]
    return _check_with_known_mistakes(
        name,
        fn,
        _adam_reference,
        _adam_cases(),
        variants,
        hint="Update m and v first, bias-correct them with the step number t, then step.",
        rtol=1e-6,
        atol=1e-9,
    )


def _accuracy_cases(seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, c in [(8, 10), (50, 10), (1, 10), (30, 3)]:
        labels = rng.integers(0, c, size=n)
        logits = rng.standard_normal((n, c))
        # make about half of the predictions right, so the accuracy is not near 0
        right = rng.random(n) < 0.5
        logits[right, labels[right]] += 5.0
        cases.append(dict(logits=logits, labels=labels))
    return cases


def check_accuracy(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> float``: the fraction of rows whose largest logit is the
    label.

    Shape
    -----
    logits (N, C), labels (N,) -> a number in [0, 1]
    """

    def reference(logits, labels):
        return accuracy(logits, labels)

    variants = [
        (
            lambda logits, labels: accuracy(logits, labels) * len(labels),
            "You returned the number of correct predictions; the accuracy is a fraction of the "
            "examples.",
        ),
        (
            lambda logits, labels: accuracy(logits, labels) * 100,
            "You returned a percentage; return a fraction between 0 and 1.",
        ),
        (
            lambda logits, labels: 1 - accuracy(logits, labels),
            "You returned the error rate, the fraction of wrong predictions.",
        ),
    ]
    return _check_with_known_mistakes(
        "check_accuracy",
        fn,
        reference,
        _accuracy_cases(),
        variants,
        hint="The predicted class of a row is the position of its largest logit.",
    )


class _Verdict(Exception):
    """What is wrong with the reader's result (raised and caught inside a checker)."""


def check_train_val_split(fn: Callable) -> CheckResult:
    """Check ``fn(n, val_size, seed) -> (train_idx, val_idx)``, a seeded random split.

    The two integer arrays must be disjoint, together hold every index ``0 .. n-1`` once, have
    ``n - val_size`` and ``val_size`` entries, be shuffled (not simply the first or last
    examples), and depend on ``seed`` only: the same seed gives the same split.
    """
    name = "check_train_val_split"
    cases = [(10, 3), (100, 20), (1000, 100), (60000, 5000)]

    def call(n, val_size, seed):
        got = fn(n=n, val_size=val_size, seed=seed)
        if got is None:
            raise _Verdict("the result is None; did you forget to return it?")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise _Verdict("return two arrays, (train_idx, val_idx).")
        train, val = (np.asarray(a) for a in got)
        if train.ndim != 1 or val.ndim != 1:
            raise _Verdict(
                f"train_idx and val_idx must be 1-D arrays of indices, got shapes "
                f"{train.shape} and {val.shape}."
            )
        if (train.size and train.dtype.kind not in "iu") or (
            val.size and val.dtype.kind not in "iu"
        ):
            raise _Verdict(f"indices must be integers, got dtypes {train.dtype} and {val.dtype}.")
        return train, val

    for n, val_size in cases:
        where = f"n={n}, val_size={val_size}"
        try:
            train, val = call(n, val_size, 0)
            if len(val) != val_size or len(train) != n - val_size:
                raise _Verdict(
                    f"got {len(train)} training and {len(val)} validation indices, "
                    f"expected {n - val_size} and {val_size}."
                )
            both = np.concatenate([train, val])
            if both.min() < 0 or both.max() >= n:
                raise _Verdict(
                    f"indices must lie in 0..{n - 1}, got values from {both.min()} to {both.max()}."
                )
            if np.intersect1d(train, val).size:
                raise _Verdict(
                    "some examples are in both splits; each must land in exactly "
                    "one, or validation would measure memorisation."
                )
            if np.unique(both).size != n:
                raise _Verdict(
                    "some indices appear twice and others never; each example must "
                    "land in exactly one split, once."
                )
            if n >= 100 and (
                np.array_equal(np.sort(val), np.arange(n - val_size, n))
                or np.array_equal(np.sort(val), np.arange(val_size))
            ):
                raise _Verdict(
                    "the validation set is simply the last (or first) examples: "
                    "shuffle first, a file may be sorted by class or by writer."
                )
            again_train, again_val = call(n, val_size, 0)
            if not (np.array_equal(again_val, val) and np.array_equal(again_train, train)):
                raise _Verdict(
                    "the same seed gave two different splits; draw the randomness "
                    "from a generator made from the seed."
                )
            _, other_val = call(n, val_size, 1)
            if n >= 100 and np.array_equal(np.sort(other_val), np.sort(val)):
                raise _Verdict(
                    "seeds 0 and 1 gave the same split; the seed should choose the shuffle."
                )
        except _Verdict as verdict:
            return CheckResult(name, False, f"{where}: {verdict}")
        except Exception as exc:
            return CheckResult(
                name, False, f"{where}: your function raised {type(exc).__name__}: {exc}"
            )
    return CheckResult(
        name,
        True,
        f"a valid seeded split on all {len(cases)} cases: the right "
        "sizes, disjoint, complete, shuffled and reproducible.",
    )


def _standardize_reference(train, test):
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std


def check_standardize(fn: Callable) -> CheckResult:
    """Check ``fn(train, test) -> (train_std, test_std)``: both standardised with the mean and
    standard deviation of ``train`` (one number each, over all pixels), as floats.
    """
    rng = np.random.default_rng(2)
    cases = [
        dict(
            train=rng.integers(0, 256, size=s1).astype(np.float64) / 255,
            test=rng.integers(0, 256, size=s2).astype(np.float64) / 255,
        )
        for s1, s2 in [
            ((20, 4, 4), (5, 4, 4)),
            ((50, 28, 28), (10, 28, 28)),
            ((7, 1, 3, 3), (3, 1, 3, 3)),
        ]
    ]
    cases.append(dict(train=3 + 2 * rng.standard_normal(100), test=rng.standard_normal(40)))

    def own_statistics(train, test):
        return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()

    def truncated(train, test):
        mean, std = np.trunc(train.mean()), np.trunc(train.std())
        return (train - mean) / (std or 1.0), (test - mean) / (std or 1.0)

    def per_pixel(train, test):
        mean, std = train.mean(axis=0), train.std(axis=0) + 1e-12
        return (train - mean) / std, (test - mean) / std

    variants = [
        (
            own_statistics,
            "You standardised the test set with its own statistics (the seed "
            "article's mistake): use the training mean and std for both.",
        ),
        (
            truncated,
            "Your statistics were rounded to integers (the seed article's mistake): "
            "keep them as floats.",
        ),
        (
            per_pixel,
            "You used a mean and std per pixel; this exercise wants one mean and one "
            "std over all training pixels.",
        ),
    ]
    return _check_with_known_mistakes(
        "check_standardize",
        fn,
        _standardize_reference,
        cases,
        variants,
        hint="Subtract the training mean and divide by the training standard deviation.",
    )


# chapter 6 (making it fast) has no section of its own; its checkers live here.
def _fast_im2col_cases(seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        dict(x=rng.standard_normal(shape), kernel_size=k, stride=s)
        for shape, k, s in [
            ((1, 1, 4, 4), 3, 1),
            ((2, 3, 5, 5), 3, 1),
            ((1, 2, 6, 6), 2, 2),
            ((2, 1, 7, 5), 3, 2),
        ]
    ]


def check_im2col(fn: Callable) -> CheckResult:
    """Check ``fn(x, kernel_size, stride) -> cols`` against :func:`cnnlib.im2col`.

    Shape
    -----
    x (N, C, H, W) -> cols (N * OH * OW, C * k * k); row ``(i * OH + r) * OW + s`` is the window
    under output position (r, s) of image i, flattened in (C, k, k) order.
    """

    def reference(x, kernel_size, stride):
        return im2col(x, kernel_size, stride=stride)

    def channels_last(x, kernel_size, stride):
        n, c = x.shape[:2]
        cols = im2col(x, kernel_size, stride=stride).reshape(-1, c, kernel_size, kernel_size)
        return cols.transpose(0, 2, 3, 1).reshape(cols.shape[0], -1)

    def transposed_windows(x, kernel_size, stride):
        k = kernel_size
        cols = im2col(x, k, stride=stride).reshape(-1, x.shape[1], k, k)
        return cols.transpose(0, 1, 3, 2).reshape(cols.shape[0], -1)

    variants = [
        (
            channels_last,
            "Each row holds the right numbers in (k, k, C) order; flatten each "
            "window as (C, k, k), the order of weight.reshape(F, -1).",
        ),
        (
            transposed_windows,
            "Each window is flattened column by column; flatten it row by "
            "row, as window.reshape(-1) does.",
        ),
    ]
    return _check_with_known_mistakes(
        "check_im2col",
        fn,
        reference,
        _fast_im2col_cases(),
        variants,
        hint="Rows run over images, then output rows, then output columns; each row is one "
        "window flattened.",
    )


def check_conv2d_im2col(fn: Callable) -> CheckResult:
    """Check ``fn(x, weight, bias) -> out``: a convolution (stride 1, no padding) written with
    :func:`cnnlib.im2col` and one matrix product, against :func:`cnnlib.conv2d`.

    Shape
    -----
    x (N, C, H, W), weight (F, C, k, k), bias (F,) -> out (N, F, OH, OW)
    """

    rng = np.random.default_rng(4)
    cases = [
        dict(
            x=rng.standard_normal((n, c, h, h)),
            weight=rng.standard_normal((f, c, k, k)),
            bias=rng.standard_normal(f),
        )
        for n, c, h, f, k in [(1, 1, 4, 1, 3), (2, 3, 6, 4, 3), (3, 2, 7, 5, 2)]
    ]

    def reference(x, weight, bias):
        return conv2d(x, weight, bias)

    def straight_reshape(x, weight, bias):
        n, _, h, w = x.shape
        f, _, k, _ = weight.shape
        out = im2col(x, k) @ weight.reshape(f, -1).T + bias
        return out.reshape(n, f, h - k + 1, w - k + 1)

    def no_bias(x, weight, bias):
        return conv2d(x, weight)

    variants = [
        (
            straight_reshape,
            "The numbers are right but in the wrong places: the product has one "
            "row per output position and one column per filter; think about "
            "which shape that reshapes to before the filter axis can move.",
        ),
        (no_bias, "You forgot the bias: add bias[f] to every output of filter f."),
    ]
    return _check_with_known_mistakes(
        "check_conv2d_im2col",
        fn,
        reference,
        cases,
        variants,
        hint="Flatten the weight to (F, C*k*k) so each filter lines up with a row of im2col.",
    )

"""Softmax and the cross-entropy loss on raw logits."""

from __future__ import annotations

import numpy as np

__all__ = ["softmax", "log_softmax", "SoftmaxCrossEntropy", "CrossEntropyLoss"]


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """Numerically stable ``log(softmax(logits))``.

    Subtracting the maximum first changes nothing mathematically (softmax is shift-invariant)
    but keeps ``exp`` from overflowing: the largest exponent becomes ``exp(0) = 1``.
    """
    z = np.asarray(logits)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: ``exp(z - max z) / sum(exp(z - max z))``.

    >>> softmax(np.array([1000.0, 1000.0])).tolist()
    [0.5, 0.5]
    """
    z = np.asarray(logits)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _check_labels(labels, n: int, num_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"labels must have shape ({n},) to match logits of batch size {n}, "
            f"got shape {labels.shape}."
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels: expected integers (class indices), got dtype {labels.dtype}. "
            "Convert with labels.astype(int)."
        )
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}] for {num_classes} classes, "
            f"got values from {labels.min()} to {labels.max()}."
        )
    return labels


class SoftmaxCrossEntropy:
    """Softmax followed by the mean cross-entropy, from raw logits and integer labels.

    ``loss = mean_i( -log softmax(z_i)[y_i] )`` and its gradient
    ``dloss/dz = (softmax(z) - one_hot(y)) / N``.

    Shape
    -----
    logits (N, C), labels (N,) integers in [0, C) -> loss, a float.
    ``backward()`` returns (N, C). After ``forward``, ``probs`` holds the softmax (N, C).
    """

    def __init__(self) -> None:
        self.probs: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"

    def __call__(self, logits, labels) -> float:
        return self.forward(logits, labels)

    def forward(self, logits, labels) -> float:
        logits = np.asarray(logits)
        if logits.ndim != 2:
            raise ValueError(
                f"logits must have shape (N, C), got shape {logits.shape}. "
                "Pass the raw scores of the last Linear layer, one row per example."
            )
        if logits.shape[0] == 0:
            raise ValueError(
                f"SoftmaxCrossEntropy: expected at least one example, got logits of shape "
                f"{logits.shape}. The mean loss over no examples is undefined; check the slice "
                "that made the batch."
            )
        labels = _check_labels(labels, logits.shape[0], logits.shape[1])
        logp = log_softmax(logits, axis=1)
        self.probs = np.exp(logp)
        self._labels = labels
        return float(-logp[np.arange(len(labels)), labels].mean())

    def backward(self) -> np.ndarray:
        if self.probs is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward() was called before forward().")
        grad = self.probs.copy()
        grad[np.arange(len(self._labels)), self._labels] -= 1
        grad /= len(self._labels)
        return grad


CrossEntropyLoss = SoftmaxCrossEntropy

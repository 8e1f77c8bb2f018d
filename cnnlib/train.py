"""The training loop: minibatches, forward, loss, backward, optimiser step; plus evaluation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["History", "fit", "evaluate", "accuracy", "confusion_matrix"]


@dataclass
class History:
    """What :func:`fit` recorded, in the shape of Keras' ``History``.

    Attributes
    ----------
    history : dict of str -> list of float
        Per-epoch ``"loss"`` and ``"accuracy"`` (running means over the epoch's batches),
        ``"val_loss"`` and ``"val_accuracy"`` (when validation data was given, measured after
        the epoch) and ``"epoch_time"`` in seconds.
    epoch : list of int
        1, 2, ..., one per epoch.
    batch_loss : list of float
        The loss of every training batch, in order.
    snapshots : list of dict
        With ``snapshots=True``: ``state_dict()`` copies, index 0 before training and index
        ``e`` after epoch ``e``.
    """

    history: dict[str, list[float]] = field(
        default_factory=lambda: {
            "loss": [],
            "accuracy": [],
            "val_loss": [],
            "val_accuracy": [],
            "epoch_time": [],
        }
    )
    epoch: list[int] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    snapshots: list[dict[str, np.ndarray]] = field(default_factory=list)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def best_epoch(self, metric: str = "val_loss") -> int:
        """The epoch (1-based) with the lowest loss or highest accuracy for ``metric``."""
        values = self.history.get(metric)
        if not values:
            raise ValueError(
                f"no values recorded for {metric!r}; recorded: "
                f"{[k for k, v in self.history.items() if v]}."
            )
        pick = np.argmin if "loss" in metric else np.argmax
        return int(pick(values)) + 1


def accuracy(logits_or_labels: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of correct predictions, from logits (N, C) or predicted labels (N,)."""
    pred, labels = np.asarray(logits_or_labels), np.asarray(labels)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    if pred.shape != labels.shape:
        raise ValueError(
            f"accuracy needs one prediction per label: got predictions of shape "
            f"{pred.shape} for labels of shape {labels.shape}."
        )
    return float(np.mean(pred == labels))


def confusion_matrix(y_true, y_pred, num_classes: int = 10) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Returns
    -------
    ndarray of int, shape (num_classes, num_classes)
        Row ``i``, column ``j``: how many examples of class ``i`` were predicted as ``j``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D of equal length, got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes - 1}], got values from "
                f"{y.min()} to {y.max()}."
            )
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true.astype(np.intp), y_pred.astype(np.intp)), 1)
    return cm


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_xy(x, y, what: str) -> None:
    if len(x) != len(y):
        raise ValueError(f"{what}: {len(x)} inputs but {len(y)} labels; they must match.")
    if len(x) == 0:
        raise ValueError(f"{what} is empty.")


def evaluate(
    model, loss_fn, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, float]:
    """Mean loss and accuracy over ``(x, y)``, computed in batches (memory stays bounded)."""
    _check_xy(x, y, "evaluate")
    batch_size = _positive("batch_size", batch_size)
    total_loss, correct = 0.0, 0
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    try:
        for i in range(0, len(x), batch_size):
            logits = model.forward(x[i : i + batch_size])
            yb = y[i : i + batch_size]
            total_loss += loss_fn.forward(logits, yb) * len(yb)
            correct += int(np.sum(logits.argmax(axis=1) == yb))
    finally:
        if was_training:
            model.train()
    return total_loss / len(x), correct / len(x)


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="img", leave=True, mininterval=0.5)


def fit(
    model,
    loss_fn,
    optimizer,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int | np.random.Generator | None = 0,
    snapshots: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` with minibatch gradient descent.

    Each epoch visits every training example once, in a fresh order drawn from ``seed``: for
    each batch, forward, loss, backward, ``optimizer.step()``.

    Parameters
    ----------
    model : Sequential
    loss_fn : SoftmaxCrossEntropy
    optimizer : SGD or Adam, built on ``model.parameters()``
    x : ndarray, shape (N, C, H, W) (or (N, features) for a dense network)
    y : ndarray of int, shape (N,)
    epochs, batch_size : int
    validation_data : (x_val, y_val), optional
        Evaluated after every epoch into ``val_loss`` / ``val_accuracy``.
    seed : int or Generator
        The shuffling order; the same seed (and the same initial weights) gives bit-identical
        histories.
    snapshots : bool
        Keep a copy of the weights before training and after every epoch.
    progress : bool
        Show a tqdm bar (a widget in notebooks, text in terminals) with running loss/accuracy.
    on_epoch_end : callable(epoch, history), optional

    Returns
    -------
    History

    Raises
    ------
    FloatingPointError
        When the loss becomes NaN or infinite; the message names the epoch and batch.
    """
    _check_xy(x, y, "training data")
    if validation_data is not None:
        _check_xy(*validation_data, "validation_data")
    epochs, batch_size = _positive("epochs", epochs), _positive("batch_size", batch_size)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    hist = History()
    if validation_data is None:  # as in Keras: no val_* entries without validation data
        del hist.history["val_loss"], hist.history["val_accuracy"]
    model.train()
    if snapshots:
        hist.snapshots.append(model.state_dict())
    n = len(x)
    num_batches = -(-n // batch_size)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n)
        bar = _progress(n, f"epoch {epoch}/{epochs}", progress)
        seen, loss_sum, correct = 0, 0.0, 0
        try:
            for b in range(num_batches):
                idx = order[b * batch_size : (b + 1) * batch_size]
                xb, yb = x[idx], y[idx]
                logits = model.forward(xb)
                loss = loss_fn.forward(logits, yb)
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"the training loss became {loss} at epoch {epoch}, batch {b + 1} of "
                        f"{num_batches}. The learning rate ({getattr(optimizer, 'lr', '?')}) is "
                        "probably too high, or the inputs are not normalised."
                    )
                optimizer.zero_grad()
                model.backward(loss_fn.backward(), input_grad=False)
                optimizer.step()
                seen += len(idx)
                loss_sum += loss * len(idx)
                correct += int(np.sum(logits.argmax(axis=1) == yb))
                hist.batch_loss.append(loss)
                if bar is not None:
                    bar.update(len(idx))
                    if b % 50 == 0 or b == num_batches - 1:
                        bar.set_postfix(
                            loss=f"{loss_sum / seen:.4f}",
                            acc=f"{correct / seen:.4f}",
                            refresh=False,
                        )
        finally:
            if bar is not None:
                bar.close()
        h = hist.history
        h["loss"].append(loss_sum / seen)
        h["accuracy"].append(correct / seen)
        if validation_data is not None:
            val_loss, val_acc = evaluate(model, loss_fn, *validation_data)
            h["val_loss"].append(val_loss)
            h["val_accuracy"].append(val_acc)
        h["epoch_time"].append(time.perf_counter() - start)
        hist.epoch.append(epoch)
        if snapshots:
            hist.snapshots.append(model.state_dict())
        if on_epoch_end is not None:
            on_epoch_end(epoch, hist)
    return hist

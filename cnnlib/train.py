"""The training loop: minibatches, forward, loss, backward, optimiser step; plus evaluation.

:func:`fit` also watches the run: it stops cleanly on Ctrl-C (returning what it has), raises
on a loss that stops being finite, warns when training diverges, and takes three optional
hooks: a learning-rate ``scheduler``, a data ``augment`` function and ``early_stopping``.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_xy, positive_int

__all__ = [
    "History",
    "fit",
    "evaluate",
    "accuracy",
    "confusion_matrix",
    "lower_is_better",
]

_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def lower_is_better(metric: str) -> bool:
    """True when smaller values of ``metric`` are better: its name ends in ``"loss"``.

    The one rule :meth:`History.best_epoch` and early stopping both use.

    >>> lower_is_better("val_loss"), lower_is_better("val_accuracy")
    (True, False)
    """
    return metric.endswith("loss")


@dataclass
class History:
    """What :func:`fit` recorded, in the shape of Keras' ``History``.

    Attributes
    ----------
    history : dict of str -> list of float
        Per-epoch ``"loss"`` and ``"accuracy"`` (running means over the epoch's batches),
        ``"val_loss"`` and ``"val_accuracy"`` (when validation data was given, measured after
        the epoch), ``"lr"`` (with a ``scheduler``: the learning rate of the epoch) and
        ``"epoch_time"`` in seconds.
    epoch : list of int
        1, 2, ..., one per completed epoch.
    batch_loss : list of float
        The loss of every training batch, in order.
    snapshots : list of dict
        With ``snapshots=True``: ``state_dict()`` copies (parameters and buffers), index 0
        before training and index ``e`` after epoch ``e``.
    stopped_epoch : int or None
        With ``early_stopping``: the epoch after which training stopped early (None when it
        ran every epoch).
    restored_epoch : int or None
        With ``early_stopping``: the epoch whose weights and buffers the model holds at the end.
    interrupted_at : (int, int) or None
        When a ``KeyboardInterrupt`` stopped ``fit``: the (epoch, batch) it was in.
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
    stopped_epoch: int | None = None
    restored_epoch: int | None = None
    interrupted_at: tuple[int, int] | None = None

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def best_epoch(self, metric: str = "val_loss") -> int:
        """The epoch (1-based) with the best value of ``metric``: the lowest for a name ending
        in ``"loss"`` (:func:`lower_is_better`), the highest otherwise; the first on a tie."""
        values = self.history.get(metric)
        if not values:
            raise ValueError(
                f"no values recorded for {metric!r}; recorded: "
                f"{[k for k, v in self.history.items() if v]}."
            )
        pick = np.argmin if lower_is_better(metric) else np.argmax
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
            f"y_true, y_pred: expected two 1-D arrays of equal length, got shapes "
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


def _evaluating(model):
    """``model.evaluating()`` when the model has it; otherwise nothing changes."""
    if hasattr(model, "evaluating"):
        return model.evaluating()
    return contextlib.nullcontext(model)


def evaluate(
    model, loss_fn, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, float]:
    """Mean loss and accuracy over ``(x, y)``, computed in batches (memory stays bounded).

    The model runs in eval mode and is returned to the mode it was in.

    Parameters
    ----------
    model : Sequential
    loss_fn : SoftmaxCrossEntropy
    x : ndarray, shape (N, ...)
    y : ndarray of int, shape (N,)
    batch_size : int, default 1000

    Returns
    -------
    (float, float)
        Mean loss per example and the fraction classified correctly.
    """
    n = check_xy(x, y, "evaluate")
    batch_size = positive_int("batch_size", batch_size)
    total_loss, correct = 0.0, 0
    with _evaluating(model):
        for i in range(0, n, batch_size):
            logits = model.forward(x[i : i + batch_size])
            yb = y[i : i + batch_size]
            total_loss += loss_fn.forward(logits, yb) * len(yb)
            correct += int(np.sum(logits.argmax(axis=1) == yb))
    return total_loss / n, correct / n


def _progress(total: int, desc: str, enabled: bool):
    """A tqdm bar when ``enabled`` and tqdm is installed, else None (no bar, no error)."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar
        return None
    return tqdm(total=total, desc=desc, unit="img", leave=True, mininterval=0.5)


def _say(message: str) -> None:
    """fit's one-line messages (interrupted, stopped early)."""
    print(f"fit: {message}", flush=True)


def _divergence(epoch: int, loss: float, acc: float, classes: int,
                first_loss: float) -> str | None:
    """Why the epoch looks diverged, or None.

    ``ln C`` is the loss of a uniform guess over ``C`` classes, and where a well-initialised
    network starts. Diverged: the epoch's mean training loss is more than twice that, and
    above the first batch's loss (training made it worse than where it started).
    """
    if classes < 2:
        return None
    guess = math.log(classes)
    if not (loss > 2 * guess and loss > first_loss):
        return None
    return (f"training diverged in epoch {epoch}: the mean training loss {loss:.4g} is far "
            f"above ln {classes} = {guess:.3f} (a uniform guess) and above the first batch's "
            f"{first_loss:.4g}; the training accuracy is {acc:.2%} (chance: {1 / classes:.2%}).")


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
    scheduler=None,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    early_stopping: int | None = None,
    monitor: str = "val_loss",
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
        The shuffling order (and the ``augment`` randomness); the same seed (and the same
        initial weights) gives bit-identical histories.
    snapshots : bool
        Keep a ``state_dict()`` copy (parameters and buffers) before training and after every
        epoch.
    progress : bool
        Show a tqdm bar (a widget in notebooks, text in terminals) with running loss/accuracy,
        if tqdm is installed; without tqdm there is no bar.
    on_epoch_end : callable(epoch, history), optional
    scheduler : object with ``step()``, optional
        A learning-rate schedule on ``optimizer``; ``scheduler.step()`` is called once after
        every epoch (PyTorch's convention) and each epoch's ``optimizer.lr`` is recorded in
        ``history.history["lr"]``.
    augment : callable(x_batch, rng) -> x_batch, optional
        Applied to every training batch (never to validation data) before the forward pass;
        must return an array of the batch's shape. ``rng`` is a ``numpy.random.Generator``
        derived from ``seed``, so augmented runs are reproducible.
    early_stopping : int, optional
        Patience: stop after this many epochs without an improvement of ``monitor``, then
        restore the weights and buffers of the best epoch (also when every epoch ran).
        Sets ``history.stopped_epoch`` and ``history.restored_epoch``.
    monitor : {"val_loss", "val_accuracy", "loss", "accuracy"}, default "val_loss"
        What early stopping watches; lower is better for names ending in "loss"
        (:func:`lower_is_better`). The ``val_*`` ones need ``validation_data``.

    Returns
    -------
    History
        On Ctrl-C (``KeyboardInterrupt``), fit prints one line saying where it stopped and
        returns the history of the completed epochs (``history.interrupted_at`` is set); the
        model keeps the weights it had at that moment.

    Raises
    ------
    FloatingPointError
        When the loss becomes NaN or infinite; the message names the epoch and batch and the
        exception's ``history`` attribute holds the History so far.

    Warns
    -----
    RuntimeWarning
        Once, naming the epoch, when training diverges: the epoch's mean training loss is
        more than twice ``ln C`` (C classes, from the logits' width; the loss of a uniform
        guess) and above the first batch's loss.
    """
    n = check_xy(x, y, "fit (training data)")
    if validation_data is not None:
        check_xy(*validation_data, "fit (validation_data)")
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            f"fit: expected a scheduler with a step() method, got {type(scheduler).__name__}. "
            "Pass e.g. StepLR(optimizer, step_size=5)."
        )
    if augment is not None and not callable(augment):
        raise TypeError(
            f"fit: expected augment to be a function (x_batch, rng) -> x_batch, got "
            f"{type(augment).__name__}."
        )
    if early_stopping is not None:
        early_stopping = positive_int("early_stopping", early_stopping)
        if monitor not in _METRICS:
            raise ValueError(f"fit: expected monitor to be one of {_METRICS}, got {monitor!r}.")
        if monitor.startswith("val_") and validation_data is None:
            raise ValueError(
                f"fit: early stopping on {monitor!r} needs validation_data, got None. Pass "
                "validation_data=(x_val, y_val), or monitor='loss'."
            )
    rng = np.random.default_rng(seed)
    augment_rng = _child(rng) if augment is not None else None
    hist = History()
    if validation_data is None:  # as in Keras: no val_* entries without validation data
        del hist.history["val_loss"], hist.history["val_accuracy"]
    if scheduler is not None:
        hist.history["lr"] = []
    model.train()
    if snapshots:
        hist.snapshots.append(model.state_dict())
    num_batches = -(-n // batch_size)
    best_value, best_state, waited, warned = None, None, 0, False
    epoch = b = 0
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            lr = getattr(optimizer, "lr", None)
            order = rng.permutation(n)
            bar = _progress(n, f"epoch {epoch}/{epochs}", progress)
            seen, loss_sum, correct, classes, b = 0, 0.0, 0, 0, 0
            try:
                for b in range(1, num_batches + 1):
                    idx = order[(b - 1) * batch_size : b * batch_size]
                    xb, yb = x[idx], y[idx]
                    if augment is not None:
                        xb = _augmented(augment, xb, augment_rng)
                    logits = model.forward(xb)
                    loss = loss_fn.forward(logits, yb)
                    if not np.isfinite(loss):
                        err = FloatingPointError(
                            f"the training loss became {loss} at epoch {epoch}, batch {b} of "
                            f"{num_batches}. The learning rate ({getattr(optimizer, 'lr', '?')})"
                            " is probably too high, or the inputs are not normalised. The "
                            "history so far is in this exception's .history."
                        )
                        err.history = hist
                        raise err
                    optimizer.zero_grad()
                    model.backward(loss_fn.backward(), input_grad=False)
                    optimizer.step()
                    seen += len(idx)
                    loss_sum += loss * len(idx)
                    correct += int(np.sum(logits.argmax(axis=1) == yb))
                    classes = logits.shape[1]
                    hist.batch_loss.append(loss)
                    if bar is not None:
                        bar.update(len(idx))
                        if b % 50 == 1 or b == num_batches:
                            bar.set_postfix(
                                loss=f"{loss_sum / seen:.4f}",
                                acc=f"{correct / seen:.4f}",
                                refresh=False,
                            )
            finally:
                if bar is not None:
                    bar.close()
            h = hist.history
            val = evaluate(model, loss_fn, *validation_data) if validation_data else None
            h["loss"].append(loss_sum / seen)
            h["accuracy"].append(correct / seen)
            if val is not None:
                h["val_loss"].append(val[0])
                h["val_accuracy"].append(val[1])
            if scheduler is not None:
                h["lr"].append(lr)
                scheduler.step()
            h["epoch_time"].append(time.perf_counter() - start)
            hist.epoch.append(epoch)
            if snapshots:
                hist.snapshots.append(model.state_dict())
            if not warned:
                why = _divergence(epoch, h["loss"][-1], h["accuracy"][-1], classes,
                                  hist.batch_loss[0])
                if why is not None:
                    warned = True
                    warnings.warn(
                        f"{why} Lower the learning rate (it was {lr}) or check that the "
                        "inputs are normalised.", RuntimeWarning, stacklevel=2)
            if on_epoch_end is not None:
                on_epoch_end(epoch, hist)
            if early_stopping is not None:
                value = h[monitor][-1]
                if best_value is None or (value < best_value if lower_is_better(monitor)
                                          else value > best_value):
                    best_value, best_state, waited = value, model.state_dict(), 0
                    hist.restored_epoch = epoch
                else:
                    waited += 1
                if waited >= early_stopping and epoch < epochs:
                    hist.stopped_epoch = epoch
                    break
    except KeyboardInterrupt:
        done = len(hist.epoch)
        hist.interrupted_at = (epoch, b)
        hist.restored_epoch = None  # nothing is restored: the model keeps its current weights
        _say(f"interrupted at epoch {epoch}, batch {b} of {num_batches}; returning the "
             f"history of {done} completed epoch{'s' if done != 1 else ''} (the model keeps "
             "its current weights).")
        return hist
    if best_state is not None:
        model.load_state_dict(best_state)
        best = f"{monitor} {best_value:.4g}"
        if hist.stopped_epoch is not None:
            _say(f"stopped early after epoch {hist.stopped_epoch}: {monitor} did not improve "
                 f"for {early_stopping} epoch{'s' if early_stopping != 1 else ''}; restored "
                 f"the weights of epoch {hist.restored_epoch} ({best}).")
        elif hist.restored_epoch != hist.epoch[-1]:
            _say(f"restored the weights of epoch {hist.restored_epoch}, the best ({best}).")
    return hist


def _child(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator derived from ``rng``, leaving ``rng``'s stream untouched
    when it can (so adding ``augment`` does not change the shuffling order)."""
    try:
        return rng.spawn(1)[0]
    except (AttributeError, TypeError, ValueError):  # NumPy < 1.25, or no SeedSequence
        pass
    try:
        return np.random.Generator(rng.bit_generator.jumped())  # far ahead in the stream
    except AttributeError:  # a bit generator that cannot jump
        return np.random.default_rng(rng.integers(2**63))


def _augmented(augment, xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.asarray(augment(xb, rng))
    if out.shape != xb.shape:
        raise ValueError(
            f"fit: expected augment to return an array of the batch's shape {xb.shape}, got "
            f"{out.shape}. An augmentation changes the pixels, not the shape."
        )
    return out

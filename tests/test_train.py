"""Tests for cnnlib.train: fit, History, evaluate, accuracy, confusion_matrix, and one full
training step of the seed network against PyTorch."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from cnnlib.layers import Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.model import Sequential, seed_network
from cnnlib.optim import SGD, Adam
from cnnlib.train import (
    History,
    accuracy,
    confusion_matrix,
    evaluate,
    fit,
    lower_is_better,
)

REPO = Path(__file__).resolve().parents[1]


def blobs(n=90, seed=0):
    """An easy problem: 6x6 noise images, class c has a bright band in rows 2c and 2c+1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.normal(0.0, 0.3, size=(n, 1, 6, 6))
    for c in range(3):
        x[y == c, 0, 2 * c : 2 * c + 2, :] += 1.5
    return x.astype(np.float32), y


def small_net(seed=0, dtype=np.float32):
    return Sequential(Conv2d(1, 2, 3, rng=seed, dtype=dtype), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(8, 3, rng=seed + 1, dtype=dtype))


def train(epochs=3, batch_size=16, validation=False, seed=0, snapshots=False, lr=0.05,
          model=None, **kwargs):
    x, y = blobs()
    model = small_net() if model is None else model
    val = blobs(30, seed=1) if validation else None
    hist = fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr, momentum=0.9), x, y,
               epochs=epochs, batch_size=batch_size, validation_data=val, seed=seed,
               snapshots=snapshots, progress=False, **kwargs)
    return model, hist


def assert_same_state(a, b):
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


# --------------------------------------------------------------------------- History from fit
def test_fit_records_one_value_per_epoch():
    _, hist = train(epochs=3)
    assert hist.epoch == [1, 2, 3]
    for key in ("loss", "accuracy", "epoch_time"):
        assert len(hist.history[key]) == 3, key


def test_fit_records_every_batch_loss():
    _, hist = train(epochs=2, batch_size=16)  # 90 examples: 6 batches per epoch, the last of 10
    assert len(hist.batch_loss) == 12
    assert all(isinstance(loss, float) for loss in hist.batch_loss)


def test_epoch_loss_is_the_mean_over_the_epoch_examples():
    _, hist = train(epochs=2, batch_size=15)  # 6 equal batches per epoch
    np.testing.assert_allclose(hist.history["loss"],
                               np.mean(np.reshape(hist.batch_loss, (2, 6)), axis=1), rtol=1e-12)


def test_validation_metrics_absent_without_validation_data():
    _, hist = train(epochs=2)
    assert not hist.history.get("val_loss")
    assert not hist.history.get("val_accuracy")


def test_validation_metrics_recorded_each_epoch_with_validation_data():
    model, hist = train(epochs=2, validation=True)
    assert len(hist.history["val_loss"]) == len(hist.history["val_accuracy"]) == 2
    x_val, y_val = blobs(30, seed=1)
    expected = evaluate(model, SoftmaxCrossEntropy(), x_val, y_val)
    assert (hist.history["val_loss"][-1], hist.history["val_accuracy"][-1]) == pytest.approx(
        expected, rel=1e-12)


def test_snapshots_hold_epochs_plus_one_state_dicts():
    _, hist = train(epochs=3, snapshots=True)
    assert len(hist.snapshots) == 4


def test_snapshot_zero_equals_the_initial_weights():
    _, hist = train(epochs=2, snapshots=True)
    assert_same_state(hist.snapshots[0], small_net().state_dict())


def test_last_snapshot_equals_the_final_weights():
    model, hist = train(epochs=2, snapshots=True)
    assert_same_state(hist.snapshots[-1], model.state_dict())


def test_snapshots_are_independent_copies():
    _, hist = train(epochs=2, snapshots=True)
    assert not np.array_equal(hist.snapshots[1]["0.weight"], hist.snapshots[2]["0.weight"])


def test_no_snapshots_by_default():
    _, hist = train(epochs=1)
    assert hist.snapshots == []


def test_on_epoch_end_is_called_after_every_epoch():
    calls = []
    train(epochs=3, on_epoch_end=lambda epoch, hist: calls.append((epoch, len(hist.epoch))))
    assert calls == [(1, 1), (2, 2), (3, 3)]


# --------------------------------------------------------------------------- learning
def test_loss_decreases_on_an_easy_problem():
    _, hist = train(epochs=6)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.9


def test_fit_leaves_the_model_in_training_mode():
    model, _ = train(epochs=1, validation=True)
    assert model.training and all(layer.training for layer in model)


def test_fit_trains_a_model_left_in_eval_mode():
    model = small_net().eval()
    _, hist = train(epochs=1, model=model)
    assert model.training
    assert len(hist.batch_loss) == 6


def test_huge_learning_rate_raises_floating_point_error_naming_epoch_and_batch():
    with np.errstate(all="ignore"), pytest.raises(
            FloatingPointError, match=r"training loss became (nan|inf) at epoch 1, batch \d+ "
                                      r"of 6\. The learning rate \(1e\+30\)"):
        train(epochs=2, lr=1e30)


def test_progress_false_prints_nothing(capfd):
    train(epochs=2, validation=True)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_progress_true_shows_a_bar(capfd):
    pytest.importorskip("tqdm")
    x, y = blobs()
    model = small_net()
    fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.05), x, y, progress=True)
    assert "epoch 1/1" in "".join(capfd.readouterr())


# --------------------------------------------------------------------------- reproducibility
def test_same_seed_gives_bit_identical_histories_and_weights():
    model_a, a = train(epochs=2, validation=True, seed=3)
    model_b, b = train(epochs=2, validation=True, seed=3)
    assert a.batch_loss == b.batch_loss
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert a.history[key] == b.history[key], key
    assert_same_state(model_a.state_dict(), model_b.state_dict())


def test_same_seed_generator_gives_the_same_history_as_the_integer():
    _, a = train(epochs=2, seed=3)
    _, b = train(epochs=2, seed=np.random.default_rng(3))
    assert a.batch_loss == b.batch_loss


def test_different_seed_gives_a_different_history():
    _, a = train(epochs=2, seed=0)
    _, b = train(epochs=2, seed=1)
    assert a.batch_loss != b.batch_loss


def test_seed_network_training_is_bit_identical_for_the_same_seed():
    x, y = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32), \
        np.arange(8) % 10
    runs = []
    for _ in range(2):
        model = seed_network(rng=0)
        hist = fit(model, SoftmaxCrossEntropy(), Adam(model.parameters()), x, y, batch_size=4,
                   seed=0, progress=False)
        runs.append((hist.batch_loss, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert_same_state(runs[0][1], runs[1][1])


# --------------------------------------------------------------------------- fit errors
def test_fit_rejects_mismatched_lengths():
    x, y = blobs()
    model = small_net()
    with pytest.raises(ValueError, match=r"fit \(training data\): expected as many labels as "
                                         r"inputs, got 90 inputs and 89 labels"):
        fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), x, y[:-1],
            progress=False)


def test_fit_rejects_mismatched_validation_lengths():
    x, y = blobs()
    model = small_net()
    with pytest.raises(ValueError, match=r"fit \(validation_data\): expected as many labels as "
                                         r"inputs, got 90 inputs and 3 labels"):
        fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), x, y,
            validation_data=(x, y[:3]), progress=False)


def test_fit_rejects_empty_data():
    model = small_net()
    with pytest.raises(ValueError, match=r"fit \(training data\): expected at least one example"):
        fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1),
            np.zeros((0, 1, 6, 6)), np.zeros(0, int), progress=False)


@pytest.mark.parametrize(("kwargs", "shown"), [({"epochs": 0}, "epochs .* got 0"),
                                               ({"epochs": -1}, "epochs .* got -1"),
                                               ({"epochs": 1.5}, "epochs .* got 1.5"),
                                               ({"batch_size": 0}, "batch_size .* got 0")])
def test_fit_rejects_non_positive_epochs_or_batch_size(kwargs, shown):
    x, y = blobs()
    model = small_net()
    with pytest.raises(ValueError, match=shown.replace(" .* ", ": expected a positive integer, ")):
        fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), x, y, progress=False,
            **kwargs)


def test_fit_rejects_float_labels():
    x, y = blobs()
    model = small_net()
    with pytest.raises(ValueError, match=r"labels: expected integers"):
        fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), x, y.astype(float),
            progress=False)


# --------------------------------------------------------------------------- evaluate
def test_evaluate_in_batches_equals_one_batch():
    x, y = blobs()
    model, loss_fn = small_net(dtype=np.float64), SoftmaxCrossEntropy()
    x = x.astype(np.float64)
    batched = evaluate(model, loss_fn, x, y, batch_size=7)
    whole = evaluate(model, loss_fn, x, y, batch_size=len(x))
    assert batched == pytest.approx(whole, rel=1e-12)


def test_evaluate_matches_the_loss_and_accuracy_of_one_forward():
    x, y = blobs()
    model, loss_fn = small_net(dtype=np.float64), SoftmaxCrossEntropy()
    logits = model(x.astype(np.float64))
    expected = (loss_fn(logits, y), accuracy(logits, y))
    assert evaluate(model, loss_fn, x.astype(np.float64), y) == pytest.approx(expected)


def test_evaluate_restores_training_mode():
    x, y = blobs()
    model = small_net()
    evaluate(model, SoftmaxCrossEntropy(), x, y)
    assert model.training and all(layer.training for layer in model)


def test_evaluate_rejects_mismatched_lengths():
    x, y = blobs()
    with pytest.raises(ValueError, match=r"evaluate: expected as many labels as inputs, got 90 "
                                         r"inputs and 10 labels"):
        evaluate(small_net(), SoftmaxCrossEntropy(), x, y[:10])


# --------------------------------------------------------------------------- metrics, History
def test_accuracy_from_predicted_labels():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75


def test_accuracy_from_logits():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    assert accuracy(logits, np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_confusion_matrix_is_ten_by_ten_by_default():
    cm = confusion_matrix(np.arange(10), np.arange(10))
    assert cm.shape == (10, 10) and cm.dtype.kind == "i"
    np.testing.assert_array_equal(cm, np.eye(10, dtype=int))


def test_confusion_matrix_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"equal length, got shapes \(3,\) and \(2,\)"):
        confusion_matrix([0, 1, 2], [0, 1])


def test_confusion_matrix_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 2\], got values from 0 to 3"):
        confusion_matrix([0, 1, 2], [0, 1, 3], num_classes=3)


def test_best_epoch_picks_the_lowest_loss():
    hist = History()
    hist.history["val_loss"] = [0.5, 0.3, 0.4]
    assert hist.best_epoch() == 2


def test_best_epoch_picks_the_highest_accuracy():
    hist = History()
    hist.history["val_accuracy"] = [0.8, 0.85, 0.9, 0.7]
    assert hist.best_epoch("val_accuracy") == 3


def test_best_epoch_without_values_raises():
    hist = History()
    hist.history["loss"] = [1.0]
    with pytest.raises(ValueError, match=r"no values recorded for 'val_loss'; recorded: "
                                         r"\['loss'\]"):
        hist.best_epoch()


# --------------------------------------------------------------------------- PyTorch as an oracle
def torch_seed_network(torch, model):
    """The seed network in PyTorch (float64) with the weights of ``model``."""
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.Conv2d(8, 8, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 128), nn.ReLU(),
                        nn.Linear(128, 10)).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(model.state_dict()[name]))
    return net


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_fit_step_of_the_seed_network_matches_torch(optimizer):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 1, 28, 28)), np.array([0, 3, 9, 3, 1, 7])
    model = seed_network(rng=0, dtype=np.float64)
    net = torch_seed_network(torch, model)
    if optimizer == "sgd":
        ours = SGD(model.parameters(), lr=0.1, momentum=0.9)
        theirs = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    else:
        ours = Adam(model.parameters(), lr=1e-3)
        theirs = torch.optim.Adam(net.parameters(), lr=1e-3)

    hist = fit(model, SoftmaxCrossEntropy(), ours, x, y, batch_size=6, progress=False)
    theirs.zero_grad()
    loss_t = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
    loss_t.backward()
    theirs.step()

    assert hist.batch_loss[0] == pytest.approx(loss_t.item(), rel=1e-6)
    state = model.state_dict()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(state[name], p.detach().numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)


# --------------------------------------------------------------------------- tiny dense models
class Tally(Module):
    """Identity layer with a buffer: how many examples it saw in training mode."""

    def __init__(self) -> None:
        super().__init__()
        self._make_buffers(np.float64, seen=np.zeros(1))

    def forward(self, x):
        if self.training:
            self.buffers["seen"] += len(x)
        return self._keep_output(x)

    def backward(self, grad_out, input_grad=True):
        grad_out = self._check_grad_out(grad_out)
        return grad_out if input_grad else None


def dense_net(seed=0):
    return Sequential(Flatten(), Tally(), Linear(36, 8, rng=seed), ReLU(),
                      Linear(8, 3, rng=seed + 1, gain=0.1))


def dense_fit(model=None, optimizer=None, lr=0.1, data=None, **kwargs):
    """fit on the 90 blobs (6 batches of 16 per epoch), quietly, on a small dense network."""
    x, y = blobs() if data is None else data
    model = dense_net() if model is None else model
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9) if optimizer is None else optimizer
    kwargs.setdefault("batch_size", 16)
    kwargs.setdefault("progress", False)
    return model, fit(model, SoftmaxCrossEntropy(), optimizer, x, y, **kwargs)


def wrong_labels_validation():
    """Validation data whose labels are all wrong: val_loss rises as the network learns."""
    x, y = blobs(30, seed=1)
    return x, (y + 1) % 3


# --------------------------------------------------------------------------- optional packages
def test_importing_cnnlib_imports_no_book_package():
    code = ("import sys, cnnlib, cnnlib.train; "
            "print(sorted(m for m in ('tqdm', 'matplotlib', 'ipywidgets', 'pooch') "
            "if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, cwd=REPO).stdout
    assert out.strip() == "[]"


def test_progress_without_tqdm_trains_without_a_bar(monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    _, hist = dense_fit(epochs=2, progress=True)
    assert hist.epoch == [1, 2]
    assert capfd.readouterr() == ("", "")


# --------------------------------------------------------------------------- lower is better
@pytest.mark.parametrize(("metric", "lower"), [("loss", True), ("val_loss", True),
                                               ("accuracy", False), ("val_accuracy", False),
                                               ("loss_scale", False)])
def test_lower_is_better_iff_the_name_ends_in_loss(metric, lower):
    assert lower_is_better(metric) is lower


def test_best_epoch_follows_lower_is_better_for_other_names():
    hist = History()
    hist.history["loss_scale"] = [1.0, 4.0, 2.0]  # does not end in "loss": highest is best
    assert hist.best_epoch("loss_scale") == 2


# --------------------------------------------------------------------------- Ctrl-C
class InterruptAt:
    """An SGD that raises KeyboardInterrupt on its ``at``-th step, remembering the weights."""

    def __init__(self, model, at, lr=0.1):
        self.model, self.at, self.steps, self.inner = model, at, 0, SGD(model.parameters(), lr)
        self.lr, self.weights_then = lr, None

    def zero_grad(self):
        self.inner.zero_grad()

    def step(self):
        self.steps += 1
        if self.steps == self.at:
            self.weights_then = self.model.state_dict()
            raise KeyboardInterrupt
        self.inner.step()


def test_keyboard_interrupt_returns_the_history_of_the_completed_epochs():
    model = dense_net()
    _, hist = dense_fit(model, InterruptAt(model, at=8), epochs=3)  # epoch 2, batch 2
    assert hist.epoch == [1] and len(hist.history["loss"]) == 1
    assert hist.interrupted_at == (2, 2)
    assert len(hist.batch_loss) == 7


def test_keyboard_interrupt_prints_one_line_naming_epoch_and_batch(capsys):
    model = dense_net()
    dense_fit(model, InterruptAt(model, at=8), epochs=3)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "fit: interrupted at epoch 2, batch 2 of 6" in out


def test_keyboard_interrupt_keeps_the_current_weights():
    model = dense_net()
    optimizer = InterruptAt(model, at=8)
    dense_fit(model, optimizer, epochs=3)
    assert_same_state(model.state_dict(), optimizer.weights_then)


def test_keyboard_interrupt_during_early_stopping_restores_nothing():
    model = dense_net()
    optimizer = InterruptAt(model, at=14)  # epoch 3, batch 2
    _, hist = dense_fit(model, optimizer, epochs=5, early_stopping=1, monitor="loss")
    assert hist.restored_epoch is None and hist.interrupted_at == (3, 2)
    assert_same_state(model.state_dict(), optimizer.weights_then)


def test_keyboard_interrupt_in_augment_is_caught_too():
    def augment(xb, rng, calls=[]):  # noqa: B006 - a counter across calls
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return xb.copy()

    _, hist = dense_fit(augment=augment, epochs=2)
    assert hist.interrupted_at == (1, 3) and hist.epoch == []


# --------------------------------------------------------------------------- non-finite loss
def test_non_finite_loss_error_carries_the_history_so_far():
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as info:
        train(epochs=2, lr=1e30)
    hist = info.value.history
    assert isinstance(hist, History)
    assert len(hist.batch_loss) >= 1 and all(np.isfinite(hist.batch_loss))


# --------------------------------------------------------------------------- divergence
class BlowUp:
    """An 'optimiser' that multiplies every weight by 10 per step: the loss explodes but stays
    finite."""

    def __init__(self, params):
        self.params, self.lr = params, 1.0

    def zero_grad(self):
        pass

    def step(self):
        for p, _ in self.params:
            p *= 10


def test_divergence_warns_naming_the_epoch():
    model = dense_net()
    with pytest.warns(RuntimeWarning, match=r"training diverged in epoch 1: the mean training "
                                            r"loss .* is far above ln 3 = 1\.099"):
        dense_fit(model, BlowUp(model.parameters()), epochs=1)


def test_divergence_warns_once_per_fit():
    model = dense_net()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dense_fit(model, BlowUp(model.parameters()), epochs=3)
    assert len([w for w in caught if "diverged" in str(w.message)]) == 1


def test_a_normal_run_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, hist = dense_fit(epochs=4, validation_data=blobs(30, seed=1))
    assert hist.history["accuracy"][-1] > 0.9  # it did learn


def test_divergence_of_the_issue_warns_on_real_mnist():
    """Adam(lr=0.1) on the seed network and 300 MNIST images: the loss jumps far above ln 10."""
    from cnnlib.data import as_nchw, load_mnist, standardize

    try:
        mnist = load_mnist(download=False, progress=False)
    except FileNotFoundError:
        pytest.skip("the MNIST files are not available (set CNNLIB_DATA)")
    x = standardize(as_nchw(mnist.train_images[:300]))[0]
    y = mnist.train_labels[:300].astype(np.int64)
    model = seed_network(rng=0)
    with pytest.warns(RuntimeWarning, match=r"training diverged in epoch 1: .* ln 10 = 2\.303"):
        fit(model, SoftmaxCrossEntropy(), Adam(model.parameters(), lr=0.1), x, y,
            progress=False)


# --------------------------------------------------------------------------- empty data
def test_evaluate_rejects_empty_data():
    with pytest.raises(ValueError, match=r"evaluate: expected at least one example"):
        evaluate(dense_net(), SoftmaxCrossEntropy(), np.zeros((0, 1, 6, 6)), np.zeros(0, int))


def test_fit_rejects_empty_validation_data():
    with pytest.raises(ValueError, match=r"fit \(validation_data\): expected at least one "
                                         r"example"):
        dense_fit(validation_data=(np.zeros((0, 1, 6, 6)), np.zeros(0, int)))


# --------------------------------------------------------------------------- snapshots, buffers
def test_snapshots_hold_the_buffers():
    _, hist = dense_fit(epochs=2, snapshots=True)
    assert [float(s["1.seen"][0]) for s in hist.snapshots] == [0.0, 90.0, 180.0]


def test_evaluate_uses_eval_mode_so_buffers_do_not_change():
    model = dense_net()
    evaluate(model, SoftmaxCrossEntropy(), *blobs())
    assert model[1].buffers["seen"][0] == 0 and model.training


# --------------------------------------------------------------------------- scheduler hook
class Halve:
    """A stub schedule: halves the optimiser's learning rate at every step()."""

    def __init__(self, optimizer):
        self.optimizer, self.steps = optimizer, 0

    def step(self):
        self.steps += 1
        self.optimizer.lr /= 2


def test_scheduler_steps_once_after_every_epoch():
    model = dense_net()
    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = Halve(optimizer)
    dense_fit(model, optimizer, epochs=3, scheduler=scheduler)
    assert scheduler.steps == 3 and optimizer.lr == pytest.approx(0.0125)


def test_scheduler_learning_rate_of_each_epoch_is_recorded():
    model = dense_net()
    optimizer = SGD(model.parameters(), lr=0.1)
    _, hist = dense_fit(model, optimizer, epochs=3, scheduler=Halve(optimizer))
    assert hist.history["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_no_lr_entry_without_a_scheduler():
    _, hist = dense_fit(epochs=1)
    assert "lr" not in hist.history


def test_scheduler_without_step_is_rejected():
    with pytest.raises(TypeError, match=r"expected a scheduler with a step\(\) method, got "
                                        r"float"):
        dense_fit(scheduler=0.5)


# --------------------------------------------------------------------------- augment hook
def test_augment_sees_every_training_batch_and_no_validation_data():
    seen = []
    x_val = np.full((30, 1, 6, 6), 1000.0, dtype=np.float32)  # recognisable
    val = (x_val, blobs(30, seed=1)[1])

    def record(xb, rng):
        seen.append(xb.copy())
        return xb.copy()

    dense_fit(epochs=2, augment=record, validation_data=val)
    assert [len(b) for b in seen] == [16, 16, 16, 16, 16, 10] * 2
    assert not any((b == 1000.0).any() for b in seen)


def test_augment_output_is_what_the_model_trains_on():
    _, augmented = dense_fit(epochs=2, augment=lambda xb, rng: np.zeros_like(xb))
    x, y = blobs()
    _, zeros = dense_fit(epochs=2, data=(np.zeros_like(x), y))
    assert augmented.batch_loss == zeros.batch_loss


def test_augment_gets_a_generator():
    kinds = set()
    dense_fit(augment=lambda xb, rng: kinds.add(type(rng)) or xb.copy())
    assert kinds == {np.random.Generator}


def noisy(xb, rng):
    return xb + rng.normal(0.0, 0.5, size=xb.shape).astype(xb.dtype)


def test_augmented_run_is_reproducible_from_the_seed():
    _, a = dense_fit(epochs=2, augment=noisy, seed=5)
    _, b = dense_fit(epochs=2, augment=noisy, seed=5)
    assert a.batch_loss == b.batch_loss and a.history == {**b.history,
                                                          "epoch_time": a.history["epoch_time"]}


def test_augmented_run_changes_with_the_seed():
    _, a = dense_fit(epochs=1, augment=noisy, seed=5)
    _, b = dense_fit(epochs=1, augment=noisy, seed=6)
    assert a.batch_loss != b.batch_loss


def test_augment_does_not_change_the_shuffling_order():
    _, plain = dense_fit(epochs=2, seed=5)
    _, identity = dense_fit(epochs=2, seed=5, augment=lambda xb, rng: xb.copy())
    assert plain.batch_loss == identity.batch_loss


def test_augment_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"expected augment to return an array of the batch's "
                                         r"shape \(16, 1, 6, 6\), got \(16, 36\)"):
        dense_fit(augment=lambda xb, rng: xb.reshape(len(xb), -1))


# --------------------------------------------------------------------------- early stopping
def test_early_stopping_stops_after_patience_epochs_without_improvement():
    _, hist = dense_fit(epochs=10, validation_data=wrong_labels_validation(), early_stopping=2)
    assert hist.stopped_epoch == 3 and hist.epoch == [1, 2, 3]


def test_early_stopping_restores_the_best_weights_and_buffers():
    model, hist = dense_fit(epochs=10, validation_data=wrong_labels_validation(),
                            early_stopping=2, snapshots=True)
    assert hist.restored_epoch == hist.best_epoch("val_loss") == 1
    assert_same_state(model.state_dict(), hist.snapshots[1])
    assert model[1].buffers["seen"][0] == 90  # the buffer of epoch 1, not of epoch 3


def test_early_stopping_prints_one_line(capsys):
    dense_fit(epochs=10, validation_data=wrong_labels_validation(), early_stopping=2)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("fit: stopped early after epoch 3: val_loss did not improve for 2 "
                          "epochs; restored the weights of epoch 1")


def test_early_stopping_that_never_triggers_runs_every_epoch():
    _, hist = dense_fit(epochs=4, validation_data=blobs(30, seed=1), early_stopping=4)
    assert hist.stopped_epoch is None and hist.epoch == [1, 2, 3, 4]


def test_early_stopping_on_accuracy_keeps_the_highest():
    model, hist = dense_fit(epochs=4, validation_data=blobs(30, seed=1), early_stopping=4,
                            monitor="val_accuracy", snapshots=True)
    assert hist.restored_epoch == hist.best_epoch("val_accuracy")
    assert_same_state(model.state_dict(), hist.snapshots[hist.restored_epoch])


def test_early_stopping_on_training_loss_needs_no_validation_data():
    _, hist = dense_fit(epochs=3, early_stopping=1, monitor="loss")
    assert hist.restored_epoch == hist.best_epoch("loss")


def test_early_stopping_on_val_loss_needs_validation_data():
    with pytest.raises(ValueError, match=r"early stopping on 'val_loss' needs validation_data"):
        dense_fit(early_stopping=2)


def test_early_stopping_rejects_an_unknown_monitor():
    with pytest.raises(ValueError, match=r"expected monitor to be one of .*, got 'val_acc'"):
        dense_fit(early_stopping=2, monitor="val_acc", validation_data=blobs(30, seed=1))


def test_early_stopping_rejects_a_patience_of_zero():
    with pytest.raises(ValueError, match=r"early_stopping: expected a positive integer, got 0"):
        dense_fit(early_stopping=0, validation_data=blobs(30, seed=1))


def test_evaluate_works_for_a_model_without_evaluating():
    class Plain:  # forward only: no train/eval modes
        def forward(self, x):
            return np.tile([0.0, 1.0, 0.0], (len(x), 1))

    x, y = blobs()
    _, acc = evaluate(Plain(), SoftmaxCrossEntropy(), x, y)
    assert acc == pytest.approx(np.mean(y == 1))

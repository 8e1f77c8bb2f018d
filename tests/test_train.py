"""Tests for cnnlib.train: fit, History, evaluate, accuracy, confusion_matrix, and one full
training step of the seed network against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.model import Sequential, seed_network
from cnnlib.optim import SGD, Adam
from cnnlib.train import History, accuracy, confusion_matrix, evaluate, fit


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
    with pytest.raises(ValueError, match=r"labels must be integers"):
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
    with pytest.raises(ValueError, match=r"1-D of equal length, got shapes \(3,\) and \(2,\)"):
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

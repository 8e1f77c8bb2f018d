import time

import numpy as np
import pytest

import cnnlib
from cnnlib.book import timing


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 4)


def test_best_time_keeps_the_fastest_call():
    durations = iter([0.0, 0.02, 0.001, 0.02])

    def run():
        time.sleep(next(durations, 0.02))

    assert timing.best_time(run, min_time=10.0, max_runs=3) < 0.015


def test_best_time_calls_at_least_once_after_warm_up():
    calls = []
    timing.best_time(lambda: calls.append(1), min_time=0.0, max_runs=1)
    assert len(calls) == 2


def test_best_time_rejects_non_callable():
    with pytest.raises(TypeError, match="expected a function to time"):
        timing.best_time(3)


def test_best_time_rejects_zero_runs():
    with pytest.raises(ValueError, match="max_runs >= 1"):
        timing.best_time(lambda: None, max_runs=0)


def test_layer_times_has_a_row_per_layer_plus_loss_and_step(batch):
    model = cnnlib.seed_network(rng=0)
    opt = cnnlib.Adam(model.parameters())
    rows = timing.layer_times(model, *batch, optimizer=opt, min_time=0.0)
    assert [r.name for r in rows[:3]] == ["0 Conv2d", "1 ReLU", "2 Conv2d"]
    assert [r.name for r in rows[-2:]] == ["loss", "optimizer step"]
    assert len(rows) == len(model) + 2
    assert all(r.forward >= 0 and r.backward >= 0 for r in rows)


def test_layer_times_leaves_weights_alone_without_optimizer(batch):
    model = cnnlib.seed_network(rng=0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    timing.layer_times(model, *batch, min_time=0.0)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_layer_times_gives_the_conv_gradients_of_a_full_backward(batch):
    model = cnnlib.seed_network(rng=0, dtype=np.float64)
    x, y = batch[0].astype(np.float64), batch[1]
    timing.layer_times(model, x, y, min_time=0.0)
    timed = model[2].grads["weight"].copy()
    loss_fn = cnnlib.SoftmaxCrossEntropy()
    loss_fn(model(x), y)
    model.backward(loss_fn.backward())
    np.testing.assert_allclose(timed, model[2].grads["weight"])


def test_layer_times_rejects_mismatched_batch(batch):
    with pytest.raises(ValueError, match="as many labels as inputs"):
        timing.layer_times(cnnlib.seed_network(rng=0), batch[0], batch[1][:2])


def test_format_layer_times_shares_add_up():
    rows = [timing.LayerTime("a", 0.001, 0.003), timing.LayerTime("b", 0.0, 0.004)]
    table = timing.format_layer_times(rows)
    assert "| a | 1.000 | 3.000 | 50.0% |" in table
    assert table.splitlines()[-1].startswith("| **all** | 1.000 | 7.000")


def test_format_layer_times_rejects_empty():
    with pytest.raises(ValueError, match="empty list"):
        timing.format_layer_times([])

"""Tests for cnnlib.model: Sequential passes, prediction, parameters, summary, saving, modes."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cnnlib.gradcheck import numerical_gradient, rel_error
from cnnlib.layers import Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU
from cnnlib.losses import SoftmaxCrossEntropy
from cnnlib.model import Sequential, seed_network
from cnnlib.optim import SGD

SEED_NAMES = ["0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias", "8.weight",
              "8.bias"]


def images(n=4, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(dtype)


def small_net(seed=0, dtype=np.float64):
    """Conv -> ReLU -> pool -> dense on 6x6 images with 3 classes."""
    return Sequential(Conv2d(1, 2, 3, rng=seed, dtype=dtype), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(8, 3, rng=seed + 1, dtype=dtype))


def assert_same_state(a, b):
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


# --------------------------------------------------------------------------- construction
def test_sequential_runs_layers_in_order():
    model = small_net()
    x = np.random.default_rng(1).standard_normal((2, 1, 6, 6))
    expected = x
    for layer in model.layers:
        expected = layer.forward(expected)
    np.testing.assert_array_equal(model(x), expected)


def test_sequential_is_indexable_and_iterable():
    model = small_net()
    assert isinstance(model[0], Conv2d) and isinstance(model[-1], Linear)
    assert len(model) == 5
    assert list(model) == model.layers


def test_sequential_rejects_a_layer_class_instead_of_an_instance():
    with pytest.raises(TypeError, match=r"argument 1 is type\. Did you pass a class instead of "
                                        r"an instance"):
        Sequential(Linear(2, 2, rng=0), ReLU)


def test_seed_network_architecture():
    kinds = [type(layer) for layer in seed_network()]
    assert kinds == [Conv2d, ReLU, Conv2d, ReLU, MaxPool2d, Flatten, Linear, ReLU, Linear]


def test_seed_network_maps_images_to_ten_logits():
    assert seed_network()(images(3)).shape == (3, 10)


def test_seed_network_same_seed_gives_bit_identical_weights():
    assert_same_state(seed_network(rng=3).state_dict(), seed_network(rng=3).state_dict())


def test_seed_network_accepts_a_generator():
    assert_same_state(seed_network(rng=np.random.default_rng(3)).state_dict(),
                      seed_network(rng=3).state_dict())


def test_seed_network_different_seeds_give_different_weights():
    a, b = seed_network(rng=0).state_dict(), seed_network(rng=1).state_dict()
    assert all(not np.array_equal(a[name], b[name]) for name in a if name.endswith("weight"))


def test_seed_network_dtype():
    assert all(p.dtype == np.float64 for p, _ in seed_network(dtype=np.float64).parameters())


# --------------------------------------------------------------------------- backward
def test_backward_matches_finite_differences_through_the_whole_network():
    rng = np.random.default_rng(2)
    model, loss_fn = small_net(seed=4), SoftmaxCrossEntropy()
    x, y = rng.standard_normal((3, 1, 6, 6)), np.array([0, 2, 1])
    model[4].params["bias"][:] = rng.standard_normal(3)
    # Precondition: no ReLU input near its kink, no near-tie in a pooling window.
    pre = model[0](x)
    assert np.abs(pre).min() > 1e-3
    top2 = np.sort(np.maximum(pre, 0).reshape(3, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
                   .reshape(3, 2, 2, 2, 4), axis=-1)[..., -2:]
    assert (np.diff(top2, axis=-1) > 1e-3).all()

    loss_fn(model(x), y)
    model.zero_grad()
    dx = model.backward(loss_fn.backward())
    assert rel_error(dx, numerical_gradient(lambda: loss_fn(model(x), y), x)) < 1e-6
    for name, p, g in model.named_parameters():
        analytic = g.copy()
        numeric = numerical_gradient(lambda: loss_fn(model(x), y), p)
        assert rel_error(analytic, numeric) < 1e-6, name


def test_backward_with_input_grad_false_returns_none_and_same_parameter_gradients():
    model, loss_fn = seed_network(dtype=np.float64), SoftmaxCrossEntropy()
    loss_fn(model(images(3, dtype=np.float64)), np.array([1, 5, 9]))
    grad = loss_fn.backward()
    model.backward(grad)
    expected = {name: g.copy() for name, _, g in model.named_parameters()}
    model.zero_grad()
    assert model.backward(grad, input_grad=False) is None
    for name, _, g in model.named_parameters():
        np.testing.assert_array_equal(g, expected[name])


def test_backward_with_input_grad_false_returns_none_when_the_first_layer_has_no_params():
    model = Sequential(Flatten(), Linear(12, 3, rng=0))
    model(np.ones((2, 3, 2, 2)))
    assert model.backward(np.ones((2, 3)), input_grad=False) is None


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match=r"Linear\.backward\(\) was called before forward"):
        seed_network().backward(np.ones((2, 10), np.float32))


def test_zero_grad_clears_every_layer():
    model, loss_fn = seed_network(), SoftmaxCrossEntropy()
    loss_fn(model(images(2)), np.array([0, 1]))
    model.backward(loss_fn.backward())
    model.zero_grad()
    assert all(not g.any() for _, g in model.parameters())


# --------------------------------------------------------------------------- train / eval
def test_eval_switches_every_layer_and_train_switches_back():
    model = seed_network()
    model.eval()
    assert not model.training and not any(layer.training for layer in model)
    model.train()
    assert model.training and all(layer.training for layer in model)


def test_backward_after_an_eval_forward_raises():
    model = seed_network()
    out = model(images(2))  # a training forward first: eval must drop its cache
    model.eval()
    model(images(2))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        model.backward(np.ones_like(out))


def test_eval_forward_gives_the_training_forward_output():
    model = seed_network()
    expected = model(images(2)).copy()
    np.testing.assert_allclose(model.eval()(images(2)), expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- prediction
def test_predict_proba_rows_sum_to_one():
    probs = seed_network().predict_proba(images(5))
    assert probs.shape == (5, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_predict_proba_does_not_depend_on_batch_size():
    model, x = seed_network(dtype=np.float64), images(7, dtype=np.float64)
    np.testing.assert_allclose(model.predict_proba(x, batch_size=3),
                               model.predict_proba(x, batch_size=1000), rtol=1e-12, atol=1e-15)


def test_predict_does_not_depend_on_batch_size():
    model, x = seed_network(), images(7)
    np.testing.assert_array_equal(model.predict(x, batch_size=2), model.predict(x))


def test_predict_is_the_argmax_of_the_logits():
    model, x = seed_network(), images(6)
    np.testing.assert_array_equal(model.predict(x), model(x).argmax(axis=1))


def test_predict_restores_training_mode():
    model = seed_network()
    model.predict(images(2))
    assert model.training and all(layer.training for layer in model)


def test_predict_keeps_eval_mode():
    model = seed_network().eval()
    model.predict(images(2))
    assert not model.training


@pytest.mark.parametrize("batch_size", [0, -5])
def test_predict_rejects_non_positive_batch_size(batch_size):
    with pytest.raises(ValueError, match=rf"batch_size: expected a positive integer, got "
                                         rf"{batch_size}"):
        seed_network().predict_proba(images(2), batch_size=batch_size)


def test_activations_name_and_keep_every_layer_output():
    model, x = seed_network(), images(2)
    acts = model.activations(x)
    assert [name for name, _ in acts][:2] == ["0: Conv2d(1, 8, kernel_size=5)", "1: ReLU()"]
    assert [a.shape for _, a in acts] == [(2, 8, 24, 24), (2, 8, 24, 24), (2, 8, 20, 20),
                                         (2, 8, 20, 20), (2, 8, 10, 10), (2, 800), (2, 128),
                                         (2, 128), (2, 10)]
    np.testing.assert_array_equal(acts[-1][1], model(x))


# --------------------------------------------------------------------------- parameters, summary
def test_named_parameters_use_pytorch_names():
    assert [name for name, _, _ in seed_network().named_parameters()] == SEED_NAMES


def test_parameters_are_the_layer_arrays_themselves():
    model = seed_network()
    p, g = model.parameters()[0]
    assert p is model[0].params["weight"] and g is model[0].grads["weight"]


def test_seed_network_has_105634_parameters():
    assert seed_network().num_parameters() == 105_634


def test_summary_shows_the_total():
    lines = seed_network().summary((1, 28, 28)).splitlines()
    assert lines[-1].split() == ["total", "105,634"]


@pytest.mark.parametrize(("row", "shape", "count"), [
    ("0: Conv2d(1, 8, kernel_size=5)", "(8, 24, 24)", "208"),
    ("1: ReLU()", "(8, 24, 24)", "0"),
    ("2: Conv2d(8, 8, kernel_size=5)", "(8, 20, 20)", "1,608"),
    ("4: MaxPool2d(kernel_size=2, stride=2)", "(8, 10, 10)", "0"),
    ("5: Flatten()", "(800,)", "0"),
    ("6: Linear(in_features=800, out_features=128)", "(128,)", "102,528"),
    ("8: Linear(in_features=128, out_features=10, gain=0.1)", "(10,)", "1,290"),
])
def test_summary_shows_output_shape_and_parameter_count_per_layer(row, shape, count):
    table = seed_network().summary((1, 28, 28))
    line = next(line for line in table.splitlines() if line.startswith(row))
    assert line[len(row):].strip().startswith(shape)
    assert line.rstrip().endswith(" " + count)


def test_summary_leaves_a_pending_backward_intact():
    model, loss_fn = seed_network(dtype=np.float64), SoftmaxCrossEntropy()
    loss_fn(model(images(3, dtype=np.float64)), np.array([1, 5, 9]))
    grad = loss_fn.backward()
    model.backward(grad)
    expected = {name: g.copy() for name, _, g in model.named_parameters()}
    model.summary((1, 28, 28))
    model.backward(grad)
    for name, _, g in model.named_parameters():
        np.testing.assert_array_equal(g, expected[name])


# --------------------------------------------------------------------------- state dicts
def test_state_dict_keys_and_shapes():
    state = seed_network().state_dict()
    assert list(state) == SEED_NAMES
    assert state["0.weight"].shape == (8, 1, 5, 5) and state["6.weight"].shape == (128, 800)


def test_state_dict_holds_copies():
    model = seed_network()
    state = model.state_dict()
    state["0.weight"][...] = 0.0
    assert model[0].params["weight"].any()


def test_load_state_dict_copies_values_in_place():
    model = seed_network(rng=0)
    weight = model[0].params["weight"]
    model.load_state_dict(seed_network(rng=1).state_dict())
    assert model[0].params["weight"] is weight
    assert_same_state(model.state_dict(), seed_network(rng=1).state_dict())


def test_load_state_dict_keeps_optimizer_pairs_valid():
    model = seed_network(rng=0)
    optimizer = SGD(model.parameters(), lr=1.0)
    model.load_state_dict(seed_network(rng=1).state_dict())
    model[8].grads["bias"][...] = 1.0
    optimizer.step()
    np.testing.assert_allclose(model[8].params["bias"], -1.0)


def test_load_state_dict_names_missing_and_unexpected_entries():
    state = seed_network().state_dict()
    state["9.weight"] = state.pop("8.weight")
    with pytest.raises(ValueError, match=r"missing \['8\.weight'\], unexpected \['9\.weight'\]"):
        seed_network().load_state_dict(state)


def test_load_state_dict_names_the_entry_with_the_wrong_shape():
    state = seed_network().state_dict()
    state["6.weight"] = np.zeros((128, 784), np.float32)
    with pytest.raises(ValueError, match=r"entry '6\.weight': expected shape \(128, 800\), "
                                         r"got \(128, 784\)"):
        seed_network().load_state_dict(state)


def test_rejected_state_dict_leaves_the_model_unchanged():
    model = seed_network(rng=0)
    before = model.state_dict()
    state = seed_network(rng=1).state_dict()
    state["8.bias"] = np.zeros(11, np.float32)  # the last entry is wrong, the others fine
    with pytest.raises(ValueError, match=r"'8\.bias'"):
        model.load_state_dict(state)
    assert_same_state(model.state_dict(), before)


# --------------------------------------------------------------------------- save / load
def test_save_then_load_round_trips_the_weights(tmp_path):
    path = tmp_path / "model.npz"
    seed_network(rng=5).save(path)
    model = seed_network(rng=0).load(path)
    assert_same_state(model.state_dict(), seed_network(rng=5).state_dict())


def test_saved_file_loads_with_numpy_without_pickle(tmp_path):
    path = tmp_path / "model.npz"
    seed_network().save(str(path))
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(SEED_NAMES)
        np.testing.assert_array_equal(data["0.bias"], seed_network()[0].params["bias"])


def test_save_leaves_no_temporary_file(tmp_path):
    seed_network().save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == ["model.npz"]


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    seed_network(rng=1).save(path)
    old = path.read_bytes()

    def half_write(file, **arrays):
        file.write(b"PK half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", half_write)
    with pytest.raises(OSError, match="disk full"):
        seed_network(rng=2).save(path)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert path.read_bytes() == old


@pytest.mark.parametrize("name", ["model", "model.npy", "model.npz.bak"])
def test_save_rejects_a_path_without_npz(tmp_path, name):
    with pytest.raises(ValueError, match=r"save: expected a path ending in \.npz, got .*"
                                         rf"{name.replace('.', '[.]')}'"):
        seed_network().save(tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_load_into_a_different_architecture_names_the_mismatch(tmp_path):
    path = tmp_path / "small.npz"
    Sequential(Linear(4, 3, rng=0)).save(path)
    with pytest.raises(ValueError, match=r"missing \[.*'2\.weight'.*\], unexpected nothing"):
        seed_network().load(path)


def test_load_with_a_different_layer_size_names_the_shapes(tmp_path):
    path = tmp_path / "small.npz"
    Sequential(Linear(4, 3, rng=0)).save(path)
    with pytest.raises(ValueError, match=r"'0\.weight': expected shape \(.*\), got \(3, 4\)"):
        Sequential(Linear(5, 3, rng=0)).load(path)


# --------------------------------------------------------------------------- buffers
class Shift(Module):
    """A toy layer with a buffer: adds ``offset`` (saved, not trained)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.features = features
        self._make_buffers(np.float64, offset=np.zeros(features))
        self._seen = None

    def forward(self, x):
        self._seen = True
        return self._keep_output(x + self.buffers["offset"])

    def backward(self, grad_out, input_grad=True):
        grad_out = self._check_grad_out(grad_out, "_seen")
        return grad_out if input_grad else None


def buffered_net():
    net = Sequential(Linear(3, 2, rng=0, dtype=np.float64), Shift(2))
    net[1].buffers["offset"][:] = [0.5, -1.5]
    return net


def test_state_dict_holds_buffers_next_to_parameters():
    assert sorted(buffered_net().state_dict()) == ["0.bias", "0.weight", "1.offset"]


def test_buffers_are_not_handed_to_the_optimiser():
    assert len(buffered_net().parameters()) == 2


def test_buffers_survive_save_and_load(tmp_path):
    buffered_net().save(tmp_path / "b.npz")
    other = Sequential(Linear(3, 2, rng=9, dtype=np.float64), Shift(2)).load(tmp_path / "b.npz")
    np.testing.assert_array_equal(other[1].buffers["offset"], [0.5, -1.5])


# --------------------------------------------------------------------------- checked loading
@pytest.mark.parametrize(("bad", "message"), [
    (np.array(["a", "b"]), r"'1\.offset': expected real floating-point values, got <U1"),
    (np.array([1 + 2j, 0j]), r"'1\.offset': expected real floating-point values, got complex"),
    (np.array([np.nan, 0.0]), r"'1\.offset': expected finite values, got 1 NaN or infinite"),
    (np.array([0.0, np.inf]), r"'1\.offset': expected finite values, .*index \(1,\)"),
    (np.zeros(3), r"'1\.offset': expected shape \(2,\), got \(3,\)"),
], ids=["strings", "complex", "nan", "inf", "shape"])
def test_a_bad_later_entry_changes_nothing(bad, message):
    net = buffered_net()
    before = net.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    state["1.offset"] = bad
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    assert_same_state(net.state_dict(), before)


def test_load_refuses_a_checkpoint_holding_nan(tmp_path):
    path = tmp_path / "nan.npz"
    state = seed_network().state_dict()
    state["6.weight"][0, 0] = np.nan
    np.savez(path, **state)
    with pytest.raises(ValueError, match=r"'6\.weight': expected finite values"):
        seed_network().load(path)


def test_load_of_a_npy_file_says_what_is_wrong(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match=r"not an \.npz checkpoint written by save\(\)"):
        seed_network().load(path)


def test_load_of_a_text_file_named_npz_says_what_is_wrong(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not weights\n")
    with pytest.raises(ValueError, match=r"not an \.npz checkpoint written by save\(\)"):
        seed_network().load(path)


def test_load_of_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        seed_network().load(tmp_path / "nowhere.npz")


# --------------------------------------------------------------------------- safe saving
def test_save_never_writes_through_a_symlink_at_a_guessable_name(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = tmp_path / "model.npz"
    for guess in (f"{path}.tmp-{os.getpid()}.npz", f"{path}.tmp", f"{path}.part"):
        os.symlink(victim, guess)
    seed_network().save(path)
    assert victim.read_text() == "keep me"
    assert sorted(seed_network(rng=5).load(path).state_dict()) == sorted(
        seed_network().state_dict())


def test_save_respects_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        seed_network().save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o640


# --------------------------------------------------------------------------- empty batches
def test_predict_proba_of_no_images_is_an_empty_table_of_ten_columns():
    assert seed_network().predict_proba(np.zeros((0, 1, 28, 28), np.float32)).shape == (0, 10)


def test_predict_of_no_images_is_an_empty_vector():
    assert seed_network().predict(np.zeros((0, 1, 28, 28), np.float32)).shape == (0,)


def test_predict_proba_restores_training_mode():
    net = seed_network()
    net.predict_proba(images(2))
    assert net.training and all(layer.training for layer in net)


# --------------------------------------------------------------------------- initialisation
def test_untrained_seed_network_loss_is_near_ln_10_on_real_digits():
    data_dir = os.environ.get("CNNLIB_DATA")
    if not data_dir:
        pytest.skip("CNNLIB_DATA is not set (the MNIST files)")
    from cnnlib.data import prepare_mnist

    data = prepare_mnist(data_dir=data_dir, download=False, progress=False)
    loss_fn = SoftmaxCrossEntropy()
    for seed in range(3):
        logits = seed_network(rng=seed).eval()(data.x_test[:1000])
        loss = loss_fn(logits, data.y_test[:1000])
        assert abs(loss - np.log(10)) < 0.25, (seed, loss)

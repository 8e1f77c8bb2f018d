import numpy as np
import pytest

import cnnlib
from cnnlib.book import article, models


@pytest.fixture
def tiny_data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 40)


def test_trained_seed_network_is_cached_and_identical(tiny_data, tmp_path):
    first = models.trained_seed_network(*tiny_data, batch_size=8, cache_dir=tmp_path)
    second = models.trained_seed_network(*tiny_data, batch_size=8, cache_dir=tmp_path)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert second.seconds == first.seconds
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_trained_seed_network_trains(tiny_data, tmp_path):
    trained = models.trained_seed_network(*tiny_data, batch_size=8, cache_dir=tmp_path).model
    fresh = cnnlib.seed_network(rng=0)
    assert not np.array_equal(trained[0].params["weight"], fresh[0].params["weight"])


def test_trained_seed_network_key_depends_on_settings(tiny_data, tmp_path):
    models.trained_seed_network(*tiny_data, batch_size=8, cache_dir=tmp_path)
    other = models.trained_seed_network(*tiny_data, batch_size=8, lr=2e-3, cache_dir=tmp_path)
    assert not other.from_cache
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_trained_seed_network_retrains_over_a_corrupt_file(tiny_data, tmp_path):
    models.trained_seed_network(*tiny_data, batch_size=8, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not an npz")
    again = models.trained_seed_network(*tiny_data, batch_size=8, cache_dir=tmp_path)
    assert not again.from_cache
    assert not list(tmp_path.glob("*.tmp.npz"))


def test_trained_seed_network_rejects_generator_seed(tiny_data, tmp_path):
    with pytest.raises(TypeError, match="expected integer seeds"):
        models.trained_seed_network(*tiny_data, rng=np.random.default_rng(0),
                                    cache_dir=tmp_path)


def test_trained_seed_network_rejects_mismatched_labels(tiny_data, tmp_path):
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        models.trained_seed_network(tiny_data[0], tiny_data[1][:5], cache_dir=tmp_path)


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path))
    assert models.default_cache_dir() == tmp_path


def test_article_network_initialisation():
    net = models.article_network(rng=0, dtype=np.float64)
    conv2, dense1 = net[2].params["weight"], net[6].params["weight"]
    assert abs(conv2.std() - 1 / np.sqrt(conv2.size)) < 0.05 / np.sqrt(conv2.size)
    assert abs(dense1.std() - 0.01) < 0.0005
    assert all(not np.any(p) for name, p, _ in net.named_parameters() if name.endswith("bias"))


def test_article_data_uses_truncated_own_statistics():
    n = article.TRAIN_IMAGES
    train = np.zeros((n + 10, 28, 28), np.uint8)
    test = np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 201, np.uint8)])
    raw = cnnlib.MNIST(train, np.zeros(n + 10, np.uint8), test, np.zeros(2, np.uint8))
    raw = raw._replace(train_images=test.repeat((n + 10) // 2, axis=0))
    prepared = models.article_data(raw)
    assert prepared.x_train.shape == (n, 1, 28, 28)
    assert prepared.test_stats == (100, 100)        # 100.5 and 100.5, truncated
    np.testing.assert_allclose(prepared.x_test[:, 0, 0, 0], [-1.0, 1.01])


def test_article_data_rejects_other_input():
    with pytest.raises(TypeError, match="expected what cnnlib.load_mnist"):
        models.article_data(np.zeros((5, 28, 28)))


def test_article_adam_takes_the_articles_step():
    p, g = np.zeros(3), np.array([1.0, -2.0, 1e-6])
    models.ArticleAdam([(p, g)], lr=0.01, betas=(0.95, 0.99), eps=1e-7).step()
    expected = -0.01 * 0.05 * g / np.sqrt(0.01 * g**2 + 1e-7)
    np.testing.assert_allclose(p, expected)


def test_article_adam_forgets_between_steps():
    p, g = np.zeros(1), np.array([1.0])
    opt = models.ArticleAdam([(p, g)])
    opt.step()
    first = p.copy()
    opt.step()
    np.testing.assert_allclose(p, 2 * first)


def test_article_adam_rejects_bad_betas():
    with pytest.raises(ValueError, match="expected betas"):
        models.ArticleAdam([(np.zeros(1), np.zeros(1))], betas=(0.9, 1.0))

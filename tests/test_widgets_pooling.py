"""Tests for cnnlib.book.widgets.pooling: the pooling explorer."""

import numpy as np
import pytest
import traitlets
from conftest import fake_digits

from cnnlib import maxpool2d
from cnnlib.book import widgets


def test_pooling_explorer_initial_state():
    explorer = widgets.pooling_explorer(fake_digits(), index=1)
    fmap = explorer.data["feature_map"]
    assert fmap.shape == (26, 26) and fmap.min() >= 0.0  # after ReLU
    assert explorer.data["output_shape"] == (13, 13)
    assert explorer.data["elements"] == 169
    assert explorer.stride == 2 and explorer.tied


def test_pooling_explorer_pooled_matches_maxpool2d():
    explorer = widgets.pooling_explorer(fake_digits(), kernel="Sobel x")
    expected = maxpool2d(explorer.data["feature_map"][None, None], 2)[0, 0]
    np.testing.assert_array_equal(explorer.data["pooled"], expected)


def test_pooling_explorer_stride_follows_size_while_tied():
    explorer = widgets.pooling_explorer(fake_digits())
    explorer.size = 3
    assert explorer.stride == 3
    assert explorer.data["output_shape"] == (8, 8)  # (26 - 3) // 3 + 1


def test_pooling_explorer_untied_stride_stays():
    explorer = widgets.pooling_explorer(fake_digits())
    explorer.tied = False
    explorer.size = 3
    assert explorer.stride == 2
    assert explorer.data["output_shape"] == (12, 12)  # (26 - 3) // 2 + 1


def test_pooling_explorer_untied_stride_overlaps_windows():
    explorer = widgets.pooling_explorer(fake_digits(), size=3, stride=2)
    explorer.stride = 1
    assert explorer.data["output_shape"] == (24, 24)


def test_pooling_explorer_tying_again_resets_the_stride():
    explorer = widgets.pooling_explorer(fake_digits(), size=3, stride=1)
    explorer.tied = True
    assert explorer.stride == 3


def test_pooling_explorer_average_mode():
    explorer = widgets.pooling_explorer(fake_digits(), size=2)
    max_pooled = explorer.data["pooled"]
    explorer.mode = "average"
    expected = explorer.data["feature_map"].reshape(13, 2, 13, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(explorer.data["pooled"], expected)
    assert np.all(explorer.data["pooled"] <= max_pooled + 1e-12)


def test_pooling_explorer_size_one_keeps_everything():
    explorer = widgets.pooling_explorer(fake_digits(), size=1)
    np.testing.assert_array_equal(explorer.data["pooled"], explorer.data["feature_map"])


def test_pooling_explorer_kernel_changes_the_feature_map():
    explorer = widgets.pooling_explorer(fake_digits())
    before = explorer.data["feature_map"]
    explorer.kernel = "blur"
    assert not np.array_equal(before, explorer.data["feature_map"])


def test_pooling_explorer_index_changes_the_feature_map():
    explorer = widgets.pooling_explorer(fake_digits())
    before = explorer.data["feature_map"]
    explorer.index = 4
    assert not np.array_equal(before, explorer.data["feature_map"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kernel": "laplace"}, "kernel must be one of"),
    ({"size": 5}, "size must be 1, 2, 3 or 4"),
    ({"stride": 0}, "stride must be 1, 2, 3, 4 or None"),
    ({"mode": "min"}, "mode must be 'max' or 'average'"),
])
def test_pooling_explorer_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.pooling_explorer(fake_digits(), **kwargs)


@pytest.mark.parametrize(("name", "value", "match"), [
    ("size", 5, r"size must be an integer in 1\.\.4, got 5"),
    ("mode", "min", "mode must be 'max' or 'average', got 'min'"),
    ("kernel", "laplace", "kernel must be one of"),
])
def test_pooling_explorer_rejects_bad_trait_values(name, value, match):
    explorer = widgets.pooling_explorer(fake_digits())
    with pytest.raises(traitlets.TraitError, match=match):
        setattr(explorer, name, value)

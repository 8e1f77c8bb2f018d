"""Test data and hypothesis strategies shared by test_functional.py and test_layers.py."""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=30, deadline=None, database=None, derandomize=True)


def close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(shape, seed=0):
    """Float64 values spaced 0.01 apart, shuffled: no max-pool ties, even after a 1e-5 nudge."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.01 - 0.005 * n


@st.composite
def conv_cases(draw):
    k = draw(st.integers(1, 4))
    padding = draw(st.integers(0, 2))
    smallest = max(1, k - 2 * padding)
    return {
        "n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 3)), "f": draw(st.integers(1, 3)),
        "h": draw(st.integers(smallest, 8)), "w": draw(st.integers(smallest, 8)), "k": k,
        "stride": draw(st.integers(1, 3)), "padding": padding,
        "seed": draw(st.integers(0, 2**16)),
    }


@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 3))
    return {
        "n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 3)),
        "h": draw(st.integers(k, 8)), "w": draw(st.integers(k, 8)), "k": k,
        "stride": draw(st.sampled_from([None, 1, 2, 3])), "seed": draw(st.integers(0, 2**16)),
    }

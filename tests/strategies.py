"""Hypothesis strategies shared by tests/test_functional.py and tests/test_layers.py."""

from __future__ import annotations

from hypothesis import strategies as st


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

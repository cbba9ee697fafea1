"""Object arrays keep each value whole, whatever it is."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.metrics._objects import object_array

VALUES = st.none() | st.integers() | st.text(max_size=3) | st.tuples(st.integers(), st.integers())
VALUES |= st.lists(st.text(max_size=2), max_size=3)


@given(st.lists(VALUES, max_size=8))
def test_an_object_array_holds_each_value_as_one_element(values: list[Any]) -> None:
    array = object_array(iter(values))
    assert array.dtype == object
    assert array.shape == (len(values),)
    assert array.tolist() == values

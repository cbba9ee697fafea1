"""Categorical columns: ``int32`` codes into a dictionary of values, ``-1`` for a missing value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError

__all__ = ["Categorical", "missing_mask"]

_NONE = np.array(None, dtype=object)


def missing_mask(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Which entries are missing: ``None``, NaN (how pandas marks a gap) or the empty string."""
    if values.dtype.kind in "US":
        empty: npt.NDArray[np.bool_] = values == values.dtype.type()
        return empty
    if values.dtype.kind != "O":
        if values.dtype.kind == "f":
            nan: npt.NDArray[np.bool_] = np.isnan(values)
            return nan
        return np.zeros(len(values), dtype=np.bool_)
    # NaN is the one value that is not equal to itself; comparing object arrays elementwise stays
    # in C, so no Python loop runs per row.
    missing: npt.NDArray[np.bool_] = (
        np.equal(values, _NONE) | np.not_equal(values, values) | np.equal(values, "")
    )
    return missing


def _as_categories(value: object) -> npt.NDArray[Any]:
    array = np.asarray(value)
    if array.ndim != 1:
        raise ValidationError.single("categories", value, "a one-dimensional array of values")
    return array


def _as_codes(value: object) -> npt.NDArray[np.int32]:
    array = np.asarray(value)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValidationError.single("codes", value, "a one-dimensional array of integer codes")
    return array.astype(np.int32, copy=False)


@attrs.frozen(eq=False)
class Categorical:
    """A column of values stored as codes into a dictionary, the form frames keep attributes in.

    Attributes:
        codes: ``int32`` code per row: an index into ``categories``, or ``-1`` for no value.
        categories: The distinct values, each once.
    """

    codes: npt.NDArray[np.int32] = attrs.field(converter=_as_codes)
    categories: npt.NDArray[Any] = attrs.field(converter=_as_categories)

    def __attrs_post_init__(self) -> None:
        codes = self.codes
        if len(codes) and (codes.min() < -1 or codes.max() >= len(self.categories)):
            bad = int(np.flatnonzero((codes < -1) | (codes >= len(self.categories)))[0])
            raise ValidationError.single(
                f"codes[{bad}]",
                int(codes[bad]),
                f"-1 or an index into the {len(self.categories)} categories",
            )

    def __len__(self) -> int:
        return len(self.codes)

    @classmethod
    def from_values(cls, values: Sequence[object] | npt.NDArray[Any]) -> Categorical:
        """Factorize values; missing ones (``None``, NaN, ``""``) get code ``-1``.

        Categories come out sorted, so the same values always give the same codes.
        """
        array = np.asarray(values)
        if array.ndim != 1:
            raise ValidationError.single("values", values, "a one-dimensional sequence")
        missing = missing_mask(array)
        present = array[~missing]
        try:
            categories, inverse = np.unique(present, return_inverse=True)
        except TypeError:
            # Values of mixed types do not order; their text does.
            categories, inverse = np.unique(present.astype(str), return_inverse=True)
        codes = np.full(len(array), -1, dtype=np.int32)
        codes[~missing] = inverse.reshape(-1)
        if categories.dtype.kind in "US":
            categories = categories.astype(object)
        return cls(codes, categories)

    def labels(self) -> npt.NDArray[Any]:
        """The value of every row, ``None`` where missing, as an object array."""
        table = np.empty(len(self.categories) + 1, dtype=object)
        table[:-1] = self.categories
        # Code -1 indexes the None at the end.
        labels: npt.NDArray[Any] = table[self.codes]
        return labels

    def take(self, rows: npt.NDArray[np.integer[Any]]) -> Categorical:
        """The rows at these positions, with the same categories."""
        return Categorical(self.codes[rows], self.categories)

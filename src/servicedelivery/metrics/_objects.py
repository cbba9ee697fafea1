"""Object arrays: columns of Python values (ids, labels, evidence), one value per element."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["object_array"]


def object_array(values: Iterable[Any]) -> npt.NDArray[Any]:
    """A one-dimensional object array with each of ``values`` as one element.

    ``np.array(values, dtype=object)`` would turn values that are sequences themselves (tuples,
    lists of evidence) into a second dimension; filling an empty array keeps each one whole.
    """
    listed = list(values)
    array: npt.NDArray[Any] = np.empty(len(listed), dtype=object)
    array[:] = listed
    return array

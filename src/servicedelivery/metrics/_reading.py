"""Reading input columns into the frame's codes: states, owners, reasons, items and attributes.

Each reader looks at the distinct values of a column once (not at every row), and records the rows it
cannot use in a :class:`RowProblems`, so that one error names every bad row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.metrics._categorical import Categorical, missing_mask
from servicedelivery.metrics._problems import RowProblems
from servicedelivery.model import OWNERS, STATES, MilestoneState, Taxonomy

__all__ = [
    "STATE_NAMES",
    "as_column",
    "categorical_column",
    "check_blocked_rows",
    "code_column",
]

STATE_NAMES: tuple[str, ...] = tuple(state.value for state in STATES)
OWNER_NAMES: tuple[str, ...] = tuple(owner.value for owner in OWNERS)
_BLOCKED = STATES.index(MilestoneState.BLOCKED)


def as_column(value: object) -> npt.NDArray[Any] | Categorical | None:
    """An input column as a numpy array or a :class:`Categorical`; ``None`` if not 1-D.

    Anything with ``codes`` and ``categories`` (a pandas ``Categorical``, the event log's columns)
    is taken as codes into categories, without decoding.
    """
    if isinstance(value, Categorical):
        return value
    codes, categories = getattr(value, "codes", None), getattr(value, "categories", None)
    if codes is not None and categories is not None:
        return Categorical(np.asarray(codes), np.asarray(categories, dtype=object))
    array = np.asarray(value)
    return array if array.ndim == 1 else None


def code_column(
    values: npt.NDArray[Any] | Categorical,
    names: Sequence[str],
    *,
    column: str,
    what: str,
    problems: RowProblems,
    dtype: type[np.signedinteger[Any]],
    required: bool = False,
) -> npt.NDArray[Any]:
    """Codes into ``names`` for a column of names (strings, enums) or of integer codes.

    Missing values give ``-1``, and are a problem when ``required``.

    Args:
        values: The column.
        names: The known names, in code order.
        column: The column's name, for the error.
        what: What a value is, for the error (``"a state"``).
        problems: Where unusable rows are recorded.
        dtype: The integer type of the codes.
    """
    expected = f"{what} (one of {', '.join(names)})"
    if isinstance(values, Categorical):
        lookup = _lookup_names(values.categories, names)
        bad_category = lookup == -2
        table = np.append(np.where(bad_category, -1, lookup), -1).astype(dtype)
        problems.add(
            np.isin(values.codes, np.flatnonzero(bad_category)),
            column=column,
            values=values.labels(),
            expected=expected,
        )
        codes: npt.NDArray[Any] = table[values.codes]
        if required:
            problems.add(
                values.codes == -1, column=column, values=values.labels(), expected=expected
            )
        return codes
    if values.dtype.kind in "iu":
        bad = (values < (0 if required else -1)) | (values >= len(names))
        problems.add(bad, column=column, values=values, expected=expected + " or its code")
        return np.where(bad, -1, values).astype(dtype)
    missing = missing_mask(values)
    if required:
        problems.add(missing, column=column, values=values, expected=expected)
    distinct, inverse = np.unique(
        values[~missing].astype(str) if values.dtype.kind == "O" else values[~missing],
        return_inverse=True,
    )
    lookup = _lookup_names(distinct, names)
    result = np.full(len(values), -1, dtype=dtype)
    found = lookup[inverse.reshape(-1)]
    result[~missing] = np.where(found == -2, -1, found)
    bad = np.zeros(len(values), dtype=np.bool_)
    bad[np.flatnonzero(~missing)[found == -2]] = True
    problems.add(bad, column=column, values=values, expected=expected)
    return result


def _lookup_names(distinct: npt.NDArray[Any], names: Sequence[str]) -> npt.NDArray[np.int64]:
    """The code of each distinct value, or -2 for a value that is not a known name."""
    index = {name: code for code, name in enumerate(names)}
    # One lookup per distinct value; str() turns enum members (StrEnum) into their names.
    return np.array([index.get(str(value), -2) for value in distinct.tolist()], dtype=np.int64)


def categorical_column(
    values: npt.NDArray[Any] | Categorical,
) -> Categorical:
    """A column as a :class:`Categorical`: kept as given, or factorized with sorted categories."""
    if isinstance(values, Categorical):
        return values
    return Categorical.from_values(values)


def check_blocked_rows(
    state: npt.NDArray[np.int8],
    owner: npt.NDArray[np.int8],
    reason: npt.NDArray[np.int16],
    *,
    taxonomy: Taxonomy,
    owner_column: str,
    reason_column: str,
    problems: RowProblems,
) -> npt.NDArray[np.int8]:
    """Check that blocked rows say why and on whom, and that no other row does.

    A blocked row with a reason and no owner gets the reason's default owner from the taxonomy.

    Returns:
        The owner codes, with defaults filled in.
    """
    blocked = state == _BLOCKED
    default_owner = np.array(
        [OWNERS.index(reason_.owner) for reason_ in taxonomy.reasons] + [-1], dtype=np.int8
    )
    owner = np.where(blocked & (owner == -1), default_owner[reason], owner).astype(np.int8)
    problems.add(
        blocked & (reason == -1),
        column=reason_column,
        values=lambda: np.full(len(state), None, dtype=object),
        expected="a reason code for a blocked row",
    )
    problems.add(
        ~blocked & (reason != -1),
        column=reason_column,
        values=lambda: _names_or_none(reason, taxonomy.codes),
        expected="no reason: the row is not blocked",
    )
    problems.add(
        ~blocked & (owner != -1),
        column=owner_column,
        values=lambda: _names_or_none(owner, OWNER_NAMES),
        expected="no owner: the row is not blocked",
    )
    return owner


def _names_or_none(codes: npt.NDArray[Any], names: Sequence[str]) -> npt.NDArray[Any]:
    table = np.array([*names, None], dtype=object)
    named: npt.NDArray[Any] = table[codes]
    return named

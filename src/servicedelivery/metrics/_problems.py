"""Collecting the rows a frame cannot use, so that one error lists them all, capped sensibly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError

__all__ = ["RowProblems"]

ROWS_SHOWN = 5
"""How many rows are listed one by one for each kind of problem; the rest are counted."""


class RowProblems:
    """Problems found in input rows, grouped by column and by what was expected.

    Each kind of problem lists its first :data:`ROWS_SHOWN` rows individually (``rows[12].time``, the
    value, what was expected) and then one line counting the others, so that a file with a million bad
    rows still gives a readable error that says which rows and why.
    """

    def __init__(self, total_rows: int) -> None:
        self.total_rows = total_rows
        self._kinds: list[tuple[str, str, npt.NDArray[np.intp], npt.NDArray[Any]]] = []

    def add(
        self,
        bad: npt.NDArray[np.bool_],
        *,
        column: str,
        values: npt.NDArray[Any] | Callable[[], npt.NDArray[Any]],
        expected: str,
        rows: npt.NDArray[np.intp] | None = None,
    ) -> None:
        """Record the rows where ``bad`` is true.

        Args:
            bad: One flag per checked value.
            column: The column's name, as the user wrote it.
            values: The checked values (the same length as ``bad``), to show what was found; or a
                function that returns them, called only when a row is bad.
            expected: What would have been accepted.
            rows: The input row number of each checked value, when they are not ``0..n-1``.
        """
        where = np.flatnonzero(bad)
        if not len(where):
            return
        numbers = where if rows is None else rows[where]
        order = np.argsort(numbers, kind="stable")
        shown = values() if callable(values) else values
        self._kinds.append((column, expected, numbers[order], shown[where[order]]))

    def __bool__(self) -> bool:
        return bool(self._kinds)

    def bad_rows(self) -> npt.NDArray[np.intp]:
        """Every input row with at least one problem, sorted."""
        if not self._kinds:
            return np.empty(0, dtype=np.intp)
        return np.unique(np.concatenate([numbers for _, _, numbers, _ in self._kinds]))

    def errors(self) -> list[FieldError]:
        """One error per listed row, plus one per kind for the rows not listed."""
        found: list[FieldError] = []
        for column, expected, numbers, values in self._kinds:
            shown = min(len(numbers), ROWS_SHOWN)
            found.extend(
                FieldError(f"rows[{int(numbers[i])}].{column}", _plain(values[i]), expected)
                for i in range(shown)
            )
            more = len(numbers) - shown
            if more:
                found.append(
                    FieldError(
                        f"{column} in {more:,} more row{'s' if more != 1 else ''} "
                        f"(the next is rows[{int(numbers[shown])}])",
                        _plain(values[shown]),
                        expected,
                    )
                )
        return found

    def raise_if_any(self) -> None:
        """Raise one :class:`ValidationError` for everything recorded, if anything was.

        Raises:
            ValidationError: Titled with how many rows cannot be used out of how many.
        """
        if not self._kinds:
            return
        count = len(self.bad_rows())
        raise ValidationError(
            self.errors(),
            title=f"{count:,} of {self.total_rows:,} rows cannot be used",
        )


def _plain(value: object) -> object:
    # numpy scalars print as np.int64(3) in numpy 2; users wrote 3.
    if isinstance(value, np.generic):
        return value.item()
    return value

"""One section of the report: a table with the section's fixed columns, and why it may be empty."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.metrics._table import NONE_NS, Column, Kind, Tabular, iso_instant
from servicedelivery.report._schema import SECTIONS

__all__ = ["ReportTable", "json_value"]

_INSTANT_COLUMNS = frozenset({"blocked_since", "target_at", "due_at", "forecast_p85_at"})


def json_value(value: object) -> object:
    """A plain JSON value: numpy scalars unwrapped, NaN as ``None``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@attrs.frozen(eq=False, repr=False)
class ReportTable(Tabular):
    """One section of a :class:`PortfolioReport`: rows under the section's fixed columns.

    Build one with :meth:`from_columns`; ``to_pandas()``, ``repr`` and ``_repr_html_`` come with it.

    Attributes:
        key: The section's key in the JSON (``"blocked_by_reason"``).
        title: What the section shows.
        columns: The columns, in the section's order.
        note: Why the section is empty or what it rests on, or ``None``.
    """

    key: str
    title: str
    columns: tuple[Column, ...]
    note: str | None = None

    @classmethod
    def from_columns(
        cls, key: str, values: Mapping[str, object], *, note: str | None = None
    ) -> ReportTable:
        """Build section ``key`` from its columns by name.

        Instants (``blocked_since``, ``target_at``, ``due_at``, ``forecast_p85_at``) are ``int64``
        ns since the epoch;
        durations are floats of days; the rest are numbers or labels.

        Raises:
            ValidationError: An unknown section, missing or extra columns, or columns of
                different lengths.
        """
        if key not in SECTIONS:
            raise ValidationError.single("key", key, f"one of {sorted(SECTIONS)}")
        title, names = SECTIONS[key]
        errors = [
            FieldError(f"columns[{name!r}]", name, f"only the columns {list(names)}")
            for name in values
            if name not in names
        ]
        errors += [
            FieldError(f"columns[{name!r}]", None, "a column of the section")
            for name in names
            if name not in values
        ]
        if errors:
            raise ValidationError(errors, title=f"invalid report section {key!r}")
        arrays = [_array(name, values[name]) for name in names]
        lengths = {len(array) for array in arrays}
        if len(lengths) > 1:
            raise ValidationError.single(
                "columns", {n: len(a) for n, a in zip(names, arrays, strict=True)}, "equal lengths"
            )
        columns = tuple(
            Column(name, array, Kind.INSTANT if name in _INSTANT_COLUMNS else Kind.PLAIN)
            for name, array in zip(names, arrays, strict=True)
        )
        return cls(key=key, title=title, columns=columns, note=note)

    @classmethod
    def empty(cls, key: str, *, note: str) -> ReportTable:
        """Section ``key`` with no rows, and why."""
        _, names = SECTIONS[key]
        return cls.from_columns(key, {name: np.empty(0, dtype=object) for name in names}, note=note)

    def __len__(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    def column(self, name: str) -> npt.NDArray[Any]:
        """The values of one column."""
        for column in self.columns:
            if column.name == name:
                return column.values
        raise ValidationError.single("name", name, f"one of {[c.name for c in self.columns]}")

    def rows(self) -> list[dict[str, object]]:
        """The rows as JSON-ready mappings: instants as ISO 8601 text in UTC, NaN as ``None``."""
        lists: list[list[object]] = []
        for column in self.columns:
            if column.kind is Kind.INSTANT:
                lists.append(
                    [None if v == NONE_NS else iso_instant(v) for v in column.values.tolist()]
                )
            else:
                lists.append([json_value(v) for v in column.values.tolist()])
        names = [column.name for column in self.columns]
        return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]

    def to_data(self) -> dict[str, object]:
        """The section as JSON-ready data: ``title``, ``note`` and ``rows``."""
        return {"title": self.title, "note": self.note, "rows": self.rows()}

    def _title(self) -> str:
        count = f"{len(self):,} rows"
        return f"{self.title}: {count}" + (f" ({self.note})" if self.note else "")

    def _columns(self) -> list[Column]:
        return list(self.columns)


def _array(name: str, values: object) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if name in _INSTANT_COLUMNS:
        if array.dtype == object and not len(array):
            return np.empty(0, dtype=np.int64)
        return array.astype(np.int64)
    return array

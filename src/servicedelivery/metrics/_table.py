"""How frames and results show themselves: pandas (optional), a text table and an HTML table.

Every result is a set of aligned numpy columns, each of a kind: an instant (``int64`` ns since the
epoch), a duration (``int64`` ns), or plain values. ``INT64_MIN`` in an instant or duration column is
"none" and shows as ``NaT``, exactly what numpy and pandas read it as.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import OptionalDependencyError
from servicedelivery.metrics._reading import OWNER_NAMES, STATE_NAMES
from servicedelivery.model import NS_PER_DAY, NS_PER_SECOND

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NONE_NS",
    "Column",
    "Kind",
    "Tabular",
    "import_pandas",
    "iso_instant",
    "status_columns",
]

NONE_NS = np.iinfo(np.int64).min
"""The "no instant" / "no duration" marker: numpy's and pandas' NaT."""

ROWS_SHOWN = 10


class Kind(Enum):
    """How a column's values are read."""

    PLAIN = "plain"
    INSTANT = "instant"
    DURATION = "duration"
    DATE = "date"
    """A local calendar date (``datetime64[D]``): no instant, so pandas gets a naive datetime."""


@attrs.frozen(eq=False)
class Column:
    """One named column of a table."""

    name: str
    values: npt.NDArray[Any]
    kind: Kind = Kind.PLAIN


def status_columns(
    state: npt.NDArray[np.int8],
    owner: npt.NDArray[np.int8],
    reason: npt.NDArray[np.int16],
    *,
    reasons: Sequence[str],
) -> list[Column]:
    """State, owner and reason codes as columns of their names (``None`` for code -1)."""
    return [
        Column("state", np.array(STATE_NAMES, dtype=object)[state]),
        Column("owner", np.array([*OWNER_NAMES, None], dtype=object)[owner]),
        Column("reason", np.array([*reasons, None], dtype=object)[reason]),
    ]


def import_pandas() -> Any:
    """Import pandas, or explain how to install it.

    Raises:
        OptionalDependencyError: pandas is not installed.
    """
    try:
        import pandas  # noqa: PLC0415 - optional: imported only when asked for
    except ImportError:
        raise OptionalDependencyError(
            "pandas", extra="pandas", purpose="converting results to pandas"
        ) from None
    return pandas


def to_pandas(columns: Sequence[Column]) -> pd.DataFrame:
    """The columns as a pandas DataFrame: instants as UTC datetimes, durations as timedeltas."""
    pandas = import_pandas()
    data: dict[str, Any] = {}
    for column in columns:
        values = column.values
        if column.kind is Kind.INSTANT:
            data[column.name] = pandas.Series(values.view("M8[ns]")).dt.tz_localize("UTC")
        elif column.kind is Kind.DURATION:
            data[column.name] = pandas.Series(values.view("m8[ns]"))
        elif column.kind is Kind.DATE:
            data[column.name] = pandas.Series(values.astype("datetime64[s]"))
        else:
            # Object columns stay object, so a missing label stays None rather than becoming NaN.
            data[column.name] = pandas.Series(values, dtype=values.dtype)
    frame: pd.DataFrame = pandas.DataFrame(data)
    return frame


def iso_instant(ns: int) -> str:
    """An instant (ns since the epoch) as ISO 8601 in UTC, to the second: ``2024-03-31T07:00:00Z``."""
    return str(np.datetime_as_string(np.int64(ns).view("M8[ns]"), unit="s", timezone="UTC"))


def format_duration(ns: int) -> str:
    """A duration for people: ``3d 04:05:06``, with milliseconds when there are any."""
    if ns == NONE_NS:
        return "NaT"
    sign = "-" if ns < 0 else ""
    days, rest = divmod(abs(ns), NS_PER_DAY)
    seconds, fraction = divmod(rest, NS_PER_SECOND)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}{days}d {hours:02d}:{minutes:02d}:{seconds:02d}"
    milliseconds = fraction // 1_000_000
    if milliseconds:
        # Shown to the millisecond; the exact nanoseconds are in the data.
        text += f".{milliseconds:03d}"
    return text


def _cells(column: Column, rows: npt.NDArray[np.intp]) -> list[str]:
    values = column.values[rows]
    if column.kind is Kind.INSTANT:
        return [
            str(text)
            for text in np.datetime_as_string(values.view("M8[ns]"), unit="s", timezone="UTC")
        ]
    if column.kind is Kind.DURATION:
        return [format_duration(int(value)) for value in values.tolist()]
    if column.kind is Kind.DATE:
        return [str(value) for value in values]
    return ["" if value is None else str(value) for value in values.tolist()]


def _shown_rows(length: int) -> npt.NDArray[np.intp]:
    if length <= ROWS_SHOWN:
        return np.arange(length)
    half = ROWS_SHOWN // 2
    return np.concatenate([np.arange(half), np.arange(length - half, length)])


def text_table(title: str, columns: Sequence[Column], length: int) -> str:
    """A title line, then up to ten rows (the first and last five) as aligned text."""
    if not columns or not length:
        return title
    rows = _shown_rows(length)
    cells = [[column.name, *_cells(column, rows)] for column in columns]
    widths = [max(len(cell) for cell in column_cells) for column_cells in cells]
    lines = [title]
    for index in range(len(rows) + 1):
        if index == ROWS_SHOWN // 2 + 1 and length > ROWS_SHOWN:
            lines.append("  ...")
        lines.append(
            "  "
            + "  ".join(
                column_cells[index].ljust(width)
                for column_cells, width in zip(cells, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def html_table(title: str, columns: Sequence[Column], length: int) -> str:
    """The same as :func:`text_table`, as HTML for notebooks."""
    parts = [f"<p><b>{html.escape(title)}</b></p>"]
    if columns and length:
        rows = _shown_rows(length)
        cells = [_cells(column, rows) for column in columns]
        head = "".join(f"<th>{html.escape(column.name)}</th>" for column in columns)
        body = []
        for index in range(len(rows)):
            if index == ROWS_SHOWN // 2 and length > ROWS_SHOWN:
                body.append(f"<tr><td colspan='{len(columns)}'>…</td></tr>")
            body.append(
                "<tr>"
                + "".join(f"<td>{html.escape(column[index])}</td>" for column in cells)
                + "</tr>"
            )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    return "".join(parts)


class Tabular:
    """Mixin for frames and results: ``to_pandas()``, a readable ``repr`` and HTML for notebooks.

    A subclass says what it is (:meth:`_title`) and what its columns are (:meth:`_columns`).
    """

    __slots__ = ()

    def _title(self) -> str:
        raise NotImplementedError

    def _columns(self) -> list[Column]:
        raise NotImplementedError

    def _length(self) -> int:
        columns = self._columns()
        return len(columns[0].values) if columns else 0

    def to_pandas(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (needs the optional pandas).

        Instants become ``datetime64[ns, UTC]``, durations ``timedelta64[ns]``, both exact, with
        ``NaT`` where there is none.

        Raises:
            OptionalDependencyError: pandas is not installed.
        """
        return to_pandas(self._columns())

    def __repr__(self) -> str:
        return text_table(self._title(), self._columns(), self._length())

    def _repr_html_(self) -> str:
        return html_table(self._title(), self._columns(), self._length())

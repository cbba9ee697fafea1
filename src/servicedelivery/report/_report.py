"""The portfolio report as data: a summary and sections with stable keys, shown as text, JSON or HTML."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.metrics import ItemDurations
from servicedelivery.metrics._table import iso_instant
from servicedelivery.report._schema import SCHEMA, SECTIONS, SUMMARY_KEYS
from servicedelivery.report._table import ReportTable, json_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PortfolioReport"]

_INSTANT_SUMMARY = frozenset({"first_event", "last_event"})


def _sections(value: Mapping[str, ReportTable]) -> dict[str, ReportTable]:
    return dict(value)


@attrs.frozen(eq=False, repr=False)
class PortfolioReport:
    """What a delivery manager reads on Monday morning, as data.

    Build one with :func:`portfolio_report`. Every number has a stable key in :meth:`to_data`
    (documented in ``docs/reference/report.md``); every section converts to pandas.

    Attributes:
        source: What the events were read from.
        now: The instant the portfolio is seen at, ``int`` ns since the epoch.
        timezone: The zone whose calendar cuts weeks and months.
        summary: The headline figures, by key.
        sections: The sections, by key, in the order of ``SECTIONS``.
        cycle_time: The cycle time of every completed item (for drill-through and plots).
        work_item_age: The age of every open item that has started.
    """

    source: str
    now: int
    timezone: str
    summary: dict[str, object]
    sections: dict[str, ReportTable] = attrs.field(converter=_sections)
    cycle_time: ItemDurations
    work_item_age: ItemDurations

    def __attrs_post_init__(self) -> None:
        problems = []
        if list(self.sections) != list(SECTIONS):
            problems.append(
                FieldError(
                    "sections", list(self.sections), f"the sections {list(SECTIONS)} in order"
                )
            )
        if list(self.summary) != list(SUMMARY_KEYS):
            problems.append(
                FieldError(
                    "summary", list(self.summary), f"the summary keys {list(SUMMARY_KEYS)} in order"
                )
            )
        if problems:
            raise ValidationError(problems)

    def __getitem__(self, key: str) -> ReportTable:
        """The section ``key``.

        Raises:
            ValidationError: No such section.
        """
        if key not in self.sections:
            raise ValidationError.single("key", key, f"one of {list(self.sections)}")
        return self.sections[key]

    def to_pandas(self, key: str) -> pd.DataFrame:
        """Section ``key`` as a pandas DataFrame (needs the optional pandas)."""
        return self[key].to_pandas()

    def to_data(self) -> dict[str, object]:
        """The report as JSON-ready data with stable keys: instants as ISO 8601 text in UTC."""
        summary = {
            key: (
                iso_instant(int(value))  # type: ignore[call-overload]
                if key in _INSTANT_SUMMARY and value is not None
                else json_value(value)
            )
            for key, value in self.summary.items()
        }
        return {
            "schema": SCHEMA,
            "source": self.source,
            "now": iso_instant(self.now),
            "timezone": self.timezone,
            "summary": summary,
            "sections": {key: table.to_data() for key, table in self.sections.items()},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (see :meth:`to_data`)."""
        return json.dumps(self.to_data(), indent=indent, ensure_ascii=False)

    def to_text(self, *, rows: int = 10) -> str:
        """The report as plain text for a terminal: each section's first ``rows`` rows."""
        from servicedelivery.report._text import report_text  # noqa: PLC0415 - avoids a cycle

        return report_text(self, rows=rows)

    def to_html(self) -> str:
        """The report as one self-contained HTML page: inline CSS and SVG plots, no scripts."""
        from servicedelivery.report._html import report_html  # noqa: PLC0415 - avoids a cycle

        return report_html(self, page=True)

    def _repr_html_(self) -> str:
        from servicedelivery.report._html import report_html  # noqa: PLC0415 - avoids a cycle

        return report_html(self, page=False)

    def __repr__(self) -> str:
        return self.to_text(rows=5)

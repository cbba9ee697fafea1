"""The report as plain text for a terminal: a header, the headline figures, then each section."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from servicedelivery.metrics._table import Kind, iso_instant

if TYPE_CHECKING:
    from servicedelivery.report._report import PortfolioReport
    from servicedelivery.report._table import ReportTable

__all__ = ["cell", "report_text", "section_text"]


def cell(name: str, value: object, kind: Kind) -> str:
    """One value as people read it: days to one decimal, shares as percentages, none as ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind is Kind.INSTANT:
        return iso_instant(int(value))  # type: ignore[call-overload]
    if name in {"share", "blocked_share"}:
        return f"{100 * float(value):.1f}%"  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def section_text(table: ReportTable, *, rows: int) -> str:
    """A section as a title and aligned columns, its first ``rows`` rows."""
    title = table.title
    lines = [title, "-" * len(title)]
    if table.note:
        lines.append(f"({table.note})")
    count = len(table)
    if not count:
        return "\n".join(lines)
    shown = min(rows, count)
    cells = [
        [column.name, *(cell(column.name, v, column.kind) for v in column.values[:shown].tolist())]
        for column in table.columns
    ]
    widths = [max(len(text) for text in column) for column in cells]
    numeric = [
        column.values.dtype.kind in "iuf" or column.kind is Kind.INSTANT for column in table.columns
    ]
    for index in range(shown + 1):
        parts = [
            column[index].rjust(width) if right else column[index].ljust(width)
            for column, width, right in zip(cells, widths, numeric, strict=True)
        ]
        lines.append("  " + "  ".join(parts).rstrip())
    if count > shown:
        lines.append(f"  ... {count - shown:,} more rows")
    return "\n".join(lines)


def report_text(report: PortfolioReport, *, rows: int) -> str:
    """The whole report as text."""
    summary = report.summary
    title = f"Portfolio report: {report.source}" if report.source else "Portfolio report"
    first, last = summary["first_event"], summary["last_event"]
    header = [
        title,
        "=" * len(title),
        f"As of {iso_instant(report.now)}; weeks and months in {report.timezone}.",
        f"{summary['items']:,} items, {summary['events']:,} events "
        f"from {iso_instant(first) if isinstance(first, int) else '-'} "
        f"to {iso_instant(last) if isinstance(last, int) else '-'}.",
        f"Open {summary['open']:,}: {summary['planned']:,} planned, "
        f"{summary['in_progress']:,} in progress, {summary['blocked']:,} blocked "
        f"({cell('share', summary['blocked_share'], Kind.PLAIN)} of open work). "
        f"Done {summary['done']:,}, cancelled {summary['cancelled']:,}.",
        f"Cycle time of {summary['cycle_time_items']:,} completed items: "
        f"p50 {cell('', summary['cycle_time_p50_days'], Kind.PLAIN)} days, "
        f"p85 {cell('', summary['cycle_time_p85_days'], Kind.PLAIN)} days, "
        f"p95 {cell('', summary['cycle_time_p95_days'], Kind.PLAIN)} days.",
    ]
    parts = ["\n".join(header)]
    parts.extend(section_text(table, rows=rows) for table in report.sections.values())
    return "\n\n".join(parts) + "\n"

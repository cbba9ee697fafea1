"""The report as one self-contained HTML page: inline CSS, inline SVG plots, every section's table."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from servicedelivery.metrics._table import Kind, iso_instant
from servicedelivery.model import STATES, MilestoneState
from servicedelivery.report._svg import PALETTE, Axes, bars, days, month_ticks
from servicedelivery.report._text import cell

if TYPE_CHECKING:
    from servicedelivery.report._report import PortfolioReport
    from servicedelivery.report._table import ReportTable

__all__ = ["report_html"]

_MOST_ROWS = 50
_MOST_POINTS = 20_000

_CSS = """
.sd-report{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2933;max-width:1100px;margin:0 auto;padding:16px 24px;line-height:1.4}
.sd-report h1{font-size:26px;margin:8px 0 2px}
.sd-report h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #e4e7eb;padding-bottom:4px}
.sd-report .meta{color:#616e7c;margin:0 0 14px}
.sd-report .cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.sd-report .card{background:#f5f7fa;border-radius:8px;padding:10px 14px;min-width:120px}
.sd-report .card b{display:block;font-size:22px}
.sd-report .card span{color:#616e7c;font-size:13px}
.sd-report .card.alert b{color:#c81e1e}
.sd-report .plots{display:grid;grid-template-columns:1fr;gap:8px}
.sd-report figure{margin:6px 0 22px}
.sd-report h3{font-size:15px;margin:14px 0 4px;color:#323f4b}
.sd-report figcaption{color:#616e7c;font-size:13px}
.sd-report svg.plot{width:100%;height:auto;background:#fff}
.sd-report svg .grid{stroke:#e4e7eb}
.sd-report svg .axisline{stroke:#9aa5b1}
.sd-report svg .tick{font-size:11px;fill:#52606d}
.sd-report svg .axis{font-size:12px;fill:#3e4c59}
.sd-report svg .dots{fill:none;stroke-width:3.2;stroke-linecap:round;stroke-opacity:.55}
.sd-report svg .pline{stroke-width:1.6;stroke-dasharray:6 4}
.sd-report svg .plabel{font-size:12px;font-weight:600}
.sd-report table{border-collapse:collapse;font-size:13px;margin:4px 0 6px}
.sd-report th{background:#f5f7fa;text-align:left;padding:4px 8px;border-bottom:1px solid #cbd2d9}
.sd-report td{padding:3px 8px;border-bottom:1px solid #eef0f2}
.sd-report td.num{text-align:right;font-variant-numeric:tabular-nums}
.sd-report .note{color:#7b8794;font-style:italic;margin:2px 0}
.sd-report section{overflow-x:auto}
"""


def report_html(report: PortfolioReport, *, page: bool) -> str:
    """The report as HTML: a whole page, or a fragment for a notebook."""
    body = [
        '<div class="sd-report">',
        f"<h1>{html.escape(_title(report))}</h1>",
        f'<p class="meta">As of {iso_instant(report.now)}; weeks and months in '
        f"{html.escape(report.timezone)}.</p>",
        _cards(report),
        "<h2>At a glance</h2>",
        '<div class="plots">',
        _figure(
            "cycle-time-scatter",
            "Cycle time of completed work",
            _cycle_scatter(report),
            _scatter_caption(report),
        ),
        _figure(
            "aging-by-step",
            "Aging work in progress, by step",
            _aging_by_step(report),
            "Age of every open item that has started, by step; red is blocked. "
            "The dashed line is each step's 85th percentile of age.",
        ),
        _figure(
            "cumulative-flow",
            "Cumulative flow",
            _cumulative_flow(report),
            "Items in each state at the end of each week.",
        ),
        _figure(
            "blocked-time-by-owner",
            "Blocked time, by owner",
            _blocked_by_owner(report),
            "Total time spent blocked, over all history, by who the work waited on.",
        ),
        "</div>",
        *(_section(table) for table in report.sections.values()),
        "</div>",
    ]
    fragment = f"<style>{_CSS}</style>" + "".join(body)
    if not page:
        return fragment
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(_title(report))}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"</head><body>{fragment}</body></html>\n"
    )


def _title(report: PortfolioReport) -> str:
    return f"Portfolio report: {report.source}" if report.source else "Portfolio report"


def _cards(report: PortfolioReport) -> str:
    summary = report.summary
    cards = [
        ("open", "open items", False),
        ("blocked", "blocked now", True),
        ("blocked_share", "of open work blocked", True),
        ("cycle_time_p85_days", "days: cycle time p85", False),
        ("done", "done", False),
        ("items", "items in all", False),
    ]
    parts = [
        f'<div class="card{" alert" if alert else ""}" data-key="{key}">'
        f"<b>{html.escape(cell(key, summary[key], Kind.PLAIN))}</b><span>{html.escape(label)}</span>"
        "</div>"
        for key, label, alert in cards
    ]
    for key, label in (
        ("sla_at_risk", "SLA clocks at risk"),
        ("target_date_at_risk", "target dates at risk"),
        ("escalations_due", "escalations due"),
    ):
        table = report.sections[key]
        count = f"{len(table):,}" if len(table) or table.note is None else "-"
        parts.append(
            f'<div class="card alert" data-key="{key}"><b>{count}</b>'
            f"<span>{html.escape(label)}</span></div>"
        )
    return '<div class="cards">' + "".join(parts) + "</div>"


def _figure(name: str, title: str, svg: str, caption: str) -> str:
    return (
        f'<figure id="{name}"><h3>{html.escape(title)}</h3>{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _empty_plot(title: str, why: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 60" role="img" '
        f'aria-label="{html.escape(title)}" class="plot"><title>{html.escape(title)}</title>'
        f'<text x="20" y="35" class="axis">{html.escape(why)}</text></svg>'
    )


def _thin(count: int) -> npt.NDArray[np.int64]:
    """Evenly spread rows to draw when there are more than the plot can show."""
    if count <= _MOST_POINTS:
        return np.arange(count)
    return np.linspace(0, count - 1, _MOST_POINTS).astype(np.int64)


def _scatter_caption(report: PortfolioReport) -> str:
    count = len(report.cycle_time)
    text = (
        "Cycle time of every completed item against the day it completed; dashed lines are the "
        "50th, 85th and 95th percentiles; the longest are drawn at the top edge."
    )
    if count > _MOST_POINTS:
        text += f" {_MOST_POINTS:,} of {count:,} items are drawn, evenly spread."
    return text


def _cycle_scatter(report: PortfolioReport) -> str:
    title = "Cycle time scatter"
    durations = report.cycle_time
    if not len(durations):
        return _empty_plot(title, "No work has completed yet.")
    rows = _thin(len(durations))
    end = durations.end[rows]
    value = days(durations.duration[rows])
    summary = report.summary
    lines = [
        (q, float(summary[f"cycle_time_{q}_days"]))  # type: ignore[arg-type]
        for q in ("p50", "p85", "p95")
    ]
    top = max(lines[-1][1] * 1.5, float(np.percentile(value, 99)), 1.0)
    axes = Axes(
        x=(float(durations.end.min()), float(max(durations.end.max(), report.now))),
        y=(0.0, top),
        label=title,
    )
    axes.y_axis("cycle time (days)")
    axes.x_dates(month_ticks(int(durations.end.min()), report.now))
    axes.dots(end, np.minimum(value, top), color=PALETTE["point"], name="items")
    for name, level in lines:
        axes.hline(level, color=PALETTE[name], label=f"{name} {level:,.1f}d")
    return axes.svg(title)


def _aging_by_step(report: PortfolioReport) -> str:
    title = "Aging work in progress by step"
    age = report.work_item_age
    if not len(age):
        return _empty_plot(title, "No open work has started.")
    frame = age.frame
    step = frame.item_attributes.get("step")
    if step is None:
        names = ["all work"]
        column = np.zeros(len(age), dtype=np.int64)
    else:
        codes = step.codes[age.item]
        used = np.unique(codes)
        names = [str(step.categories[c]) if c >= 0 else "(none)" for c in used.tolist()]
        column = np.searchsorted(used, codes)
    value = days(age.duration)
    # A deterministic jitter from the item code spreads the dots of one step sideways.
    jitter = (age.item.astype(np.float64) * 0.618034) % 1.0 - 0.5
    top = max(float(np.percentile(value, 99)) * 1.1, 1.0)
    axes = Axes(x=(-0.6, len(names) - 0.4), y=(0.0, top), label=title)
    axes.y_axis("age (days)")
    axes.x_categories(names)
    blocked = age.state == STATES.index(MilestoneState.BLOCKED)
    for name, mask in (("in_progress", ~blocked), ("blocked", blocked)):
        axes.dots(
            column[mask] + 0.7 * jitter[mask],
            np.minimum(value[mask], top),
            color=PALETTE[name],
            name=name,
        )
    for index in range(len(names)):  # one line per step, a handful
        values = np.sort(value[column == index])
        if len(values):
            p85 = float(values[max(int(np.ceil(0.85 * len(values))) - 1, 0)])
            axes.segment(index - 0.4, index + 0.4, min(p85, top), color=PALETTE["p85"])
    axes.legend([("in progress", PALETTE["in_progress"]), ("blocked", PALETTE["blocked"])])
    return axes.svg(title)


def _cumulative_flow(report: PortfolioReport) -> str:
    title = "Cumulative flow"
    table = report.sections["cumulative_flow"]
    if len(table) < 2:
        return _empty_plot(title, "Too short a history for a cumulative flow diagram.")
    starts = table.column("period").astype("M8[D]").astype("M8[ns]").astype(np.int64)
    order = ("done", "cancelled", "in_progress", "blocked", "planned")
    counts = np.array([table.column(name).astype(np.int64) for name in order])
    stacked = np.cumsum(counts, axis=0)
    axes = Axes(
        x=(float(starts[0]), float(starts[-1])), y=(0.0, float(stacked[-1].max())), label=title
    )
    axes.y_axis("items")
    axes.x_dates(month_ticks(int(starts[0]), int(starts[-1])))
    low = np.zeros(len(starts))
    for name, high in zip(order, stacked, strict=True):  # five states
        axes.band(starts, low, high, color=PALETTE[name], name=name)
        low = high
    axes.legend([(name.replace("_", " "), PALETTE[name]) for name in reversed(order)])
    return axes.svg(title)


def _blocked_by_owner(report: PortfolioReport) -> str:
    title = "Blocked time by owner"
    table = report.sections["blocked_time_by_owner"]
    if not len(table):
        return _empty_plot(title, "No work was ever blocked.")
    names = [str(name) for name in table.column("owner").tolist()]
    return bars(
        names,
        table.column("blocked_days").astype(np.float64),
        title=title,
        unit="days",
        color=PALETTE["blocked"],
    )


def _section(table: ReportTable) -> str:
    parts = [f'<section id="{table.key}"><h2>{html.escape(table.title)}</h2>']
    if table.note:
        parts.append(f'<p class="note">{html.escape(table.note)}</p>')
    count = len(table)
    if count:
        shown = min(count, _MOST_ROWS)
        head = "".join(f"<th>{html.escape(column.name)}</th>" for column in table.columns)
        numeric = [column.values.dtype.kind in "iuf" for column in table.columns]
        cells = [
            [
                f'<td class="num">{html.escape(text)}</td>'
                if right
                else f"<td>{html.escape(text)}</td>"
                for text in (cell(c.name, v, c.kind) for v in c.values[:shown].tolist())
            ]
            for c, right in zip(table.columns, numeric, strict=True)
        ]
        rows = "".join("<tr>" + "".join(row) + "</tr>" for row in zip(*cells, strict=True))
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        if count > shown:
            parts.append(
                f'<p class="note">The first {shown:,} of {count:,} rows; the JSON has them all.</p>'
            )
    parts.append("</section>")
    return "".join(parts)

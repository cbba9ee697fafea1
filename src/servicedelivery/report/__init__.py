"""The portfolio report: what is blocked, aging, slow, at risk and due, each with its evidence.

What is blocked, where, why and on whom; what is aging; how long each provider, region and step
takes; what is at risk; which escalations are due.

:func:`portfolio_report` builds a :class:`PortfolioReport` from an event frame. It converts to JSON
with stable keys (:meth:`PortfolioReport.to_data`), plain text, one self-contained HTML page with
plots, and pandas per section. :class:`Progress` shows long work on a terminal.
"""

from servicedelivery.report._build import AGING_BUCKETS, portfolio_report
from servicedelivery.report._check import SourceCheck, check_source
from servicedelivery.report._progress import SILENT, Progress, Task
from servicedelivery.report._report import PortfolioReport
from servicedelivery.report._schema import SCHEMA, SECTIONS, SUMMARY_KEYS
from servicedelivery.report._sources import LoadedSource, SourceSpec, load_source
from servicedelivery.report._table import ReportTable
from servicedelivery.report._targets import TargetDates

__all__ = [
    "AGING_BUCKETS",
    "SCHEMA",
    "SECTIONS",
    "SILENT",
    "SUMMARY_KEYS",
    "LoadedSource",
    "PortfolioReport",
    "Progress",
    "ReportTable",
    "SourceCheck",
    "SourceSpec",
    "TargetDates",
    "Task",
    "check_source",
    "load_source",
    "portfolio_report",
]

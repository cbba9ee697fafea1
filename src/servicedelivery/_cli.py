"""The ``servicedelivery`` command: ``demo``, ``report SOURCE`` and ``check SOURCE``.

The command is thin: reading sources, building the report and the demo's trail live in
:mod:`servicedelivery.report` and :mod:`servicedelivery.synthetic`. Every error the library reports
ends the command with one line on standard error and exit status 1; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pendulum

from servicedelivery._version import __version__
from servicedelivery.calendars import BusinessCalendar
from servicedelivery.errors import (
    ServiceDeliveryError,
    SourceError,
    UnmappedStatusError,
    ValidationError,
)
from servicedelivery.policy import Policy, PolicySet
from servicedelivery.report import (
    PortfolioReport,
    Progress,
    SourceSpec,
    check_source,
    load_source,
    portfolio_report,
)
from servicedelivery.report._demo import DEMO_POLICIES, DEMO_SLA, build_demo_trail
from servicedelivery.report._sources import check_timezone, read_status_map
from servicedelivery.sla import SLA

__all__ = ["main"]

_SHOWN_ERRORS = 8


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    progress = Progress(sys.stderr if args.progress or sys.stderr.isatty() else None)
    try:
        if args.command == "demo":
            if args.orders < 1:
                parser.error(f"--orders: expected a positive number, got {args.orders}")
            return _demo(args, progress)
        if args.command == "report":
            return _report(args, progress)
        return _check(args, progress)
    except ServiceDeliveryError as error:
        sys.stderr.write(f"servicedelivery: error: {one_line(error)}\n")
        return 1
    except OSError as error:  # writing the output, say
        sys.stderr.write(f"servicedelivery: error: {error.strerror}: {error.filename}\n")
        return 1


def one_line(error: ServiceDeliveryError) -> str:
    """An error as one line: the title, then each problem (the first few, then a count)."""
    if isinstance(error, ValidationError) and (len(error.errors) > 1 or error.title):
        # Unmapped statuses are all named: the user needs each one to write its rule.
        limit = len(error.errors) if isinstance(error, UnmappedStatusError) else _SHOWN_ERRORS
        shown = "; ".join(str(problem) for problem in error.errors[:limit])
        more = len(error.errors) - limit
        tail = f"; and {more} more" if more > 0 else ""
        return f"{error.title or 'invalid input'}: {shown}{tail}"
    return " ".join(str(error).split())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicedelivery",
        description="What is blocked, where, why, and who owns it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="record a seeded synthetic portfolio in a SQLite event trail and report on it",
        description="Build a seeded synthetic portfolio with realistic histories, record them "
        "through the lifecycle into a SQLite event trail (its path is printed), read it back and "
        "print the portfolio report.",
    )
    demo.add_argument("--orders", type=int, default=2000, help="how many orders (default 2000)")
    demo.add_argument("--seed", type=int, default=7, help="the seed (default 7)")
    demo.add_argument(
        "--trail",
        type=Path,
        default=None,
        help="where to write the SQLite trail (default out/demo-<seed>-<orders>.sqlite; an "
        "existing file there is replaced)",
    )
    _output_options(demo)

    report = commands.add_parser(
        "report",
        help="the portfolio report of an event source",
        description="Report on SOURCE: a CSV or JSON-lines file of events (optionally .gz) or a "
        "SQLite event trail.",
    )
    report.add_argument("source", type=Path, help="the event file or SQLite trail")
    _source_options(report)
    report.add_argument(
        "--now",
        help="the instant to report at, ISO 8601 with an offset (default: the last event)",
    )
    report.add_argument(
        "--calendar",
        type=Path,
        help="a business calendar (JSON): SLAs count working time in it, and its time zone cuts "
        "weeks and months",
    )
    report.add_argument(
        "--sla",
        type=Path,
        action="append",
        default=[],
        help="an SLA definition (JSON) whose clocks fill the SLA-at-risk queue; repeatable",
    )
    report.add_argument(
        "--policy",
        type=Path,
        help="a policy or a policy set (JSON) whose escalations due fill the escalations queue",
    )
    _output_options(report)

    check = commands.add_parser(
        "check",
        help="check a history against the lifecycle and list every violation",
        description="Check SOURCE's history against the milestone lifecycle; exit 1 when it has "
        "violations (or, for a trail, fails its tamper check).",
    )
    check.add_argument("source", type=Path, help="the event file or SQLite trail")
    _source_options(check)
    check.add_argument(
        "--limit", type=int, default=20, help="how many violations to list (default 20)"
    )
    check.add_argument("--progress", action="store_true", help="show progress on stderr")
    return parser


def _source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("columns of an event file")
    group.add_argument("--spec", type=Path, help="a JSON source spec naming the columns")
    group.add_argument("--item", help="the column of item ids (default case:concept:name)")
    group.add_argument("--time", help="the column of times (default time:timestamp)")
    group.add_argument("--state", help="a column of canonical states")
    group.add_argument("--trigger", help="a column of lifecycle triggers")
    group.add_argument("--owner", help="a column of owners of blocked rows")
    group.add_argument("--reason", help="a column of reason codes of blocked rows")
    group.add_argument("--event-id", help="a column of event ids, kept as evidence")
    group.add_argument("--status-map", type=Path, help="a status map (JSON) for the statuses")
    group.add_argument(
        "--attribute",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="read attribute NAME (provider, region, step, ...) from COLUMN; repeatable",
    )
    group.add_argument(
        "--missing", action="append", default=[], metavar="TEXT", help="a text meaning no value"
    )
    group.add_argument(
        "--time-format", help="a fixed-width time format such as %%d-%%m-%%Y %%H:%%M"
    )
    group.add_argument("--timezone", help="the IANA zone of times written without an offset")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json", "html"), default="text", help="the output format"
    )
    parser.add_argument("--output", type=Path, help="write the report to this file")
    parser.add_argument("--rows", type=int, default=10, help="rows per section in text (10)")
    parser.add_argument("--progress", action="store_true", help="show progress on stderr")


def _spec(args: argparse.Namespace) -> SourceSpec | None:
    """The source spec from --spec, with the column options laid over it."""
    spec = SourceSpec.from_file(args.spec) if args.spec else SourceSpec()
    changes: dict[str, Any] = {}
    for name in ("item", "time", "state", "trigger", "owner", "reason", "event_id", "time_format"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.timezone is not None:
        changes["timezone"] = check_timezone(args.timezone, path="--timezone")
    if args.status_map is not None:
        changes["status_map"] = read_status_map(args.status_map)
    if args.attribute:
        attributes = dict(spec.attributes)
        for given in args.attribute:
            name, equals, column = given.partition("=")
            if not equals or not name or not column:
                raise ValidationError.single("--attribute", given, "NAME=COLUMN")
            attributes[name] = column
        changes["attributes"] = attributes
    if args.missing:
        changes["missing"] = (*spec.missing, *args.missing)
    spec = attrs.evolve(spec, **changes)
    return None if spec == SourceSpec() else spec


def _write(args: argparse.Namespace, report: PortfolioReport) -> None:
    if args.format == "json":
        text = report.to_json() + "\n"
    elif args.format == "html":
        text = report.to_html()
    else:
        text = report.to_text(rows=args.rows)
    if args.output is None:
        sys.stdout.write(text)
        return
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    sys.stderr.write(f"servicedelivery: report written to {args.output}\n")


def _report(args: argparse.Namespace, progress: Progress) -> int:
    now = None
    if args.now is not None:
        now = _instant(args.now)
    timezone = "UTC"
    calendar = None
    if args.calendar is not None:
        calendar = BusinessCalendar.from_json(_text(args.calendar, what="calendar"))
        timezone = calendar.timezone
    slas = [
        SLA.from_json(_text(path, what="SLA definition"), calendars=calendar) for path in args.sla
    ]
    policies = None if args.policy is None else _policies(args.policy)
    loaded = load_source(args.source, spec=_spec(args), progress=progress)
    with progress.task("building the report", unit="items") as task:
        report = portfolio_report(
            loaded.frame,
            now=now,
            source=loaded.name,
            timezone=timezone,
            targets=loaded.targets,
            slas=slas,
            calendars=calendar,
            policies=policies,
            escalations=loaded.escalations,
        )
        task.update(loaded.frame.item_count)
    _write(args, report)
    return 0


def _check(args: argparse.Namespace, progress: Progress) -> int:
    result = check_source(args.source, spec=_spec(args), progress=progress)
    sys.stdout.write(result.to_text(limit=max(args.limit, 0)))
    return 0 if result.ok else 1


def _demo(args: argparse.Namespace, progress: Progress) -> int:
    path = args.trail or Path("out") / f"demo-{args.seed}-{args.orders}.sqlite"
    trail = build_demo_trail(path, orders=args.orders, seed=args.seed, progress=progress)
    sys.stderr.write(
        f"servicedelivery: recorded {trail.events:,} events in {trail.streams:,} streams "
        f"into the SQLite event trail {path}\n"
    )
    loaded = load_source(path, progress=progress)
    report = portfolio_report(
        loaded.frame,
        now=trail.now,
        source=f"synthetic portfolio, {args.orders:,} orders, seed {args.seed} ({path})",
        targets=loaded.targets,
        slas=[DEMO_SLA],
        policies=DEMO_POLICIES,
        escalations=loaded.escalations,
    )
    _write(args, report)
    return 0


def _instant(text: str) -> pendulum.DateTime:
    try:
        parsed = pendulum.parse(text, exact=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise ValidationError.single("--now", text, "an ISO 8601 instant with an offset") from None
    if not isinstance(parsed, pendulum.DateTime) or parsed.tzinfo is None or "T" not in text:
        raise ValidationError.single("--now", text, "an ISO 8601 instant with an offset")
    if not any(mark in text[10:] for mark in ("Z", "+", "-")):
        raise ValidationError.single("--now", text, "an instant with a UTC offset, such as +02:00")
    return parsed


def _policies(path: Path) -> PolicySet:
    """A policy set, or one policy, from a JSON file."""
    text = _text(path, what="policy file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"the policy file is not JSON ({error.msg} at line {error.lineno})", source=str(path)
        ) from None
    if isinstance(data, dict) and "policies" not in data:
        return PolicySet((Policy.from_data(data),))
    return PolicySet.from_data(data)


def _text(path: Path, *, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourceError(f"cannot read the {what} ({error.strerror})", source=str(path)) from None
    except UnicodeDecodeError:
        raise SourceError(f"the {what} is not a text file", source=str(path)) from None

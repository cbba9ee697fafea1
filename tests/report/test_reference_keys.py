"""docs/reference/report.md documents exactly the keys the report's JSON has."""

from __future__ import annotations

import re
from pathlib import Path

import pendulum

from servicedelivery.eventlog import InMemoryEventLog
from servicedelivery.metrics import EventFrame
from servicedelivery.report import ReportTable, TargetDates, portfolio_report
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"^\| `([a-z_0-9.\[\]<>]+)` \|", re.MULTILINE)


def _paths(value: object, prefix: str) -> set[str]:
    if isinstance(value, dict):
        paths: set[str] = set()
        for key, inner in value.items():
            paths |= _paths(inner, f"{prefix}.{key}" if prefix else key)
        return paths
    if isinstance(value, list):
        return set().union(*(_paths(inner, f"{prefix}[]") for inner in value)) if value else set()
    return {prefix}


def test_documented_keys_are_the_produced_keys() -> None:
    log = InMemoryEventLog()
    for stream_id, events in synthetic_trail(synthetic_portfolio(orders=80, seed=2), seed=2):
        log.append(stream_id, events)
    columns = log.read_columns()
    sla = ReportTable.from_columns(
        "sla_at_risk",
        {
            "item": ["O000001-M1"],
            "sla": ["delivery_30d"],
            "state": ["blocked"],
            "due_at": [1_767_225_600 * 10**9],
            "remaining_days": [-1.5],
            "status": ["breached"],
            "evidence": ["e-1"],
        },
    )
    escalations = ReportTable.from_columns(
        "escalations_due",
        {
            "item": ["O000001-M1"],
            "policy": ["p"],
            "action": ["raise"],
            "level": [1],
            "target": ["owner:provider"],
            "explanation": ["why"],
            "evidence": ["e-2"],
        },
    )
    report = portfolio_report(
        EventFrame.from_event_columns(columns),
        now=pendulum.datetime(2026, 1, 5, 9, tz="UTC"),
        targets=TargetDates.from_event_columns(columns),
        sla_at_risk=sla,
        escalations_due=escalations,
    )
    data = report.to_data()
    sections = data["sections"]
    assert isinstance(sections, dict)
    assert all(section["rows"] for section in sections.values()), "every section has rows"
    produced = _paths(data, "")
    # Every section's title and note are documented once, as sections.<key>.title / .note.
    produced = {
        re.sub(r"^sections\.[a-z_]+\.(title|note)$", r"sections.<key>.\1", p) for p in produced
    }
    text = (ROOT / "docs/reference/report.md").read_text(encoding="utf-8")
    json_part = text.split("\n## The JSON\n", 1)[1]
    documented = set(DOCUMENTED.findall(json_part))
    assert documented == produced

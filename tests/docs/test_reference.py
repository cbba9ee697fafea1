"""The reference pages name everything they claim to describe."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from servicedelivery import metrics, model

ROOT = Path(__file__).resolve().parents[2]
MODEL_PAGE = (ROOT / "docs/reference/model.md").read_text(encoding="utf-8")
ENTITIES = [
    model.Site,
    model.Service,
    model.Order,
    model.Milestone,
    model.Case,
    model.Invoice,
    model.Money,
    model.Period,
    model.Portfolio,
]


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.__name__)
def test_every_field_is_documented(entity: type) -> None:
    assert f"`{entity.__name__}`" in MODEL_PAGE
    for field in attrs.fields(entity):
        assert f"`{field.name}`" in MODEL_PAGE or field.name in MODEL_PAGE, field.name


def test_every_default_reason_is_documented_with_its_owner() -> None:
    for reason in model.DEFAULT_TAXONOMY:
        assert f"| `{reason.code}` | {reason.label} | {reason.owner.value} |" in MODEL_PAGE


def test_every_enum_value_is_documented() -> None:
    for enum in (model.Owner, model.MilestoneState, model.CaseKind, model.Priority):
        for member in enum:
            assert f"`{member.value}`" in MODEL_PAGE, member


METRICS_PAGE = (ROOT / "docs/reference/metrics.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", metrics.__all__)
def test_every_metrics_name_is_in_the_reference(name: str) -> None:
    assert f"`{name}" in METRICS_PAGE, name


def test_every_metric_is_defined_in_the_explanation() -> None:
    page = (ROOT / "docs/explanation/metric-definitions.md").read_text(encoding="utf-8")
    for function in (
        "cycle_time",
        "lead_time",
        "work_item_age",
        "time_in_current_state",
        "time_in_state",
        "flow_efficiency",
    ):
        assert f"`{function}`" in page, function


EVENTLOG_PAGE = (ROOT / "docs/reference/eventlog.md").read_text(encoding="utf-8")


def test_every_event_type_is_documented_with_its_fields() -> None:
    from servicedelivery.eventlog import DEFAULT_REGISTRY

    for event_type in DEFAULT_REGISTRY:
        row = next(
            (line for line in EVENTLOG_PAGE.splitlines() if f"| `{event_type.name}` |" in line),
            None,
        )
        assert row is not None, event_type.name
        assert f"`{event_type.cls.__name__}`" in row
        for field in attrs.fields(event_type.cls):
            assert f"`{field.name}`" in row, (event_type.name, field.name)


def test_every_eventlog_name_is_in_the_reference() -> None:
    from servicedelivery import eventlog

    for name in eventlog.__all__:
        assert name in EVENTLOG_PAGE, name

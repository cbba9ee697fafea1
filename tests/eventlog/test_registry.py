from __future__ import annotations

from typing import Any, ClassVar

import attrs
import pytest

from servicedelivery.errors import DefinitionError, UnknownEventTypeError, ValidationError
from servicedelivery.eventlog import (
    DEFAULT_REGISTRY,
    Event,
    EventRegistry,
    EventType,
    MilestoneBlocked,
    MilestoneStarted,
)
from servicedelivery.model import Owner
from servicedelivery.model._validation import checked, slug


@attrs.frozen(kw_only=True)
class Audited(Event):
    stream_kind: ClassVar[str] = "site"

    auditor: str = checked(slug)
    score: int = 0


def test_names_are_the_registry_order() -> None:
    assert DEFAULT_REGISTRY.names[:3] == (
        "milestone.planned",
        "milestone.started",
        "milestone.blocked",
    )
    assert len(DEFAULT_REGISTRY) == len(set(DEFAULT_REGISTRY.names)) == 26


def test_types_are_found_by_name_and_by_class() -> None:
    blocked = DEFAULT_REGISTRY.get("milestone.blocked")
    assert blocked.cls is MilestoneBlocked
    event = MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER)
    assert DEFAULT_REGISTRY.type_of(event) is blocked
    assert "milestone.blocked" in DEFAULT_REGISTRY


def test_unknown_names_and_classes_are_typed_errors() -> None:
    with pytest.raises(UnknownEventTypeError) as caught:
        DEFAULT_REGISTRY.get("milestone.exploded")
    assert caught.value.errors[0].value == "milestone.exploded"
    with pytest.raises(UnknownEventTypeError):
        DEFAULT_REGISTRY.type_of(Audited(auditor="x"))


def test_upcasters_bring_old_data_to_the_current_version() -> None:
    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"auditor": data.pop("by"), **data}

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "score": data.get("score", 0) * 10}

    registry = DEFAULT_REGISTRY.extended(
        EventType("site.audited", Audited, version=3, upcasters={1: v1_to_v2, 2: v2_to_v3})
    )
    assert registry.decode("site.audited", {"by": "ann", "score": 4}, schema_version=1) == Audited(
        auditor="ann", score=40
    )
    assert registry.decode("site.audited", {"auditor": "bob", "score": 4}, schema_version=2) == (
        Audited(auditor="bob", score=40)
    )
    assert registry.decode("site.audited", {"auditor": "cy"}, schema_version=3) == Audited(
        auditor="cy"
    )
    with pytest.raises(UnknownEventTypeError) as caught:
        registry.decode("site.audited", {}, schema_version=4)
    assert caught.value.errors[0].path == "schema_version"


def test_a_failing_upcaster_is_a_validation_error() -> None:
    registry = DEFAULT_REGISTRY.extended(
        EventType("site.audited", Audited, version=2, upcasters={1: lambda data: data["by"]})
    )
    with pytest.raises(ValidationError) as caught:
        registry.decode("site.audited", {"auditor": "x"}, schema_version=1)
    assert "KeyError" in caught.value.errors[0].expected


def test_extended_replaces_by_name() -> None:
    registry = DEFAULT_REGISTRY.extended(EventType("milestone.started", Audited))
    assert registry.get("milestone.started").cls is Audited
    assert registry.names == DEFAULT_REGISTRY.names


def test_every_definition_problem_is_reported_with_its_path() -> None:
    with pytest.raises(DefinitionError) as caught:
        EventRegistry(
            [
                EventType("Site Audited", Audited),
                EventType("site.audited", dict, version=0),  # type: ignore[arg-type]
                EventType("site.checked", Audited, version=2),
                EventType("milestone.started", MilestoneStarted),
                EventType("milestone.started", MilestoneStarted),
                "milestone.started",  # type: ignore[list-item]
            ]
        )
    assert [e.path for e in caught.value.errors] == [
        "types[0].name",
        "types[1].cls",
        "types[1].version",
        "types[2].upcasters",
        "types[2].cls",
        "types[4].name",
        "types[4].cls",
        "types[5]",
    ]


def test_decode_reports_bad_payloads_under_payload() -> None:
    with pytest.raises(ValidationError) as caught:
        DEFAULT_REGISTRY.decode("milestone.planned", {"order_id": 3, "step": "Survey"})
    assert [e.path for e in caught.value.errors] == ["payload.order_id", "payload.step"]
    with pytest.raises(ValidationError) as caught:
        DEFAULT_REGISTRY.decode("milestone.planned", ["not", "an", "object"])
    assert caught.value.errors[0].path == "payload"

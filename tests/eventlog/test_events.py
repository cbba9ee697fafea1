from __future__ import annotations

import json
import uuid
from typing import Any

import pendulum
import pytest
from hypothesis import given

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import (
    DEFAULT_REGISTRY,
    BlockReclassified,
    EscalationRaised,
    Event,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    MilestoneTransitioned,
    NewEvent,
    OrderPlaced,
    StreamKind,
    TargetDateChanged,
    Transition,
)
from servicedelivery.model import Order, Owner, structure, unstructure
from servicedelivery.testing import events

PARIS = pendulum.datetime(2024, 3, 29, 17, tz="Europe/Paris")


@pytest.mark.parametrize("event_type", list(DEFAULT_REGISTRY), ids=lambda t: t.name)
def test_every_event_type_round_trips_through_json(event_type: Any) -> None:
    @given(events(types=(event_type.cls,)))
    def check(event: Event) -> None:
        data = json.loads(json.dumps(unstructure(event)))
        assert structure(data, event_type.cls) == event
        assert DEFAULT_REGISTRY.decode(event_type.name, data) == event
        _, payload = DEFAULT_REGISTRY.encode(event)
        assert json.loads(payload) == data

    check()


def test_type_names_start_with_the_stream_kind() -> None:
    for event_type in DEFAULT_REGISTRY:
        assert event_type.name.split(".")[0] == event_type.cls.stream_kind
        assert event_type.cls.stream_kind in set(StreamKind)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (MilestoneStarted(), Transition("start")),
        (
            MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER),
            Transition("block", "site_access", Owner.CUSTOMER, False),
        ),
        (
            BlockReclassified(reason="provider_fault", owner=Owner.NOC, override=True),
            Transition("reclassify", "provider_fault", Owner.NOC, True),
        ),
        (MilestoneTransitioned(trigger="accept"), Transition("accept")),
        (MilestonePlanned(order_id="O-1", step="survey"), None),
        (TargetDateChanged(target_at=None), None),
    ],
)
def test_milestone_events_name_their_trigger(event: Event, expected: Transition | None) -> None:
    assert event.transition() == expected


def test_a_block_without_reason_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        MilestoneBlocked(reason=None, owner=Owner.CUSTOMER)  # type: ignore[arg-type]
    assert [e.path for e in caught.value.errors] == ["reason"]
    with pytest.raises(ValidationError) as caught:
        DEFAULT_REGISTRY.decode("milestone.blocked", {"owner": "customer"})
    assert [(e.path, e.expected) for e in caught.value.errors] == [("payload.reason", "a string")]


def test_planned_attributes_are_read_only_copies() -> None:
    given_attributes = {"provider": "cobalt_fibre"}
    event = MilestonePlanned(order_id="O-1", step="survey", attributes=given_attributes)
    given_attributes["provider"] = "other"
    assert event.attributes == {"provider": "cobalt_fibre"}
    with pytest.raises(TypeError):
        event.attributes["region"] = "x"  # type: ignore[index]
    assert hash(event) == hash(MilestonePlanned(order_id="O-1", step="survey"))


@pytest.mark.parametrize(
    "attributes",
    [{"order_id": "O-2"}, {"step": "x"}, {"Provider": "x"}, {"provider": ""}, {"region": " x"}],
)
def test_planned_attributes_are_checked(attributes: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        MilestonePlanned(order_id="O-1", step="survey", attributes=attributes)
    assert [e.path for e in caught.value.errors] == ["attributes"]


def test_escalation_explanation_is_plain_data_copied() -> None:
    explanation: dict[str, Any] = {"rule": {"gt": 3}, "values": [1, 2]}
    event = EscalationRaised(
        policy="late", item="milestone:M-1", episode=4, target="customer", explanation=explanation
    )
    explanation["values"].append(3)
    assert event.explanation == {"rule": {"gt": 3}, "values": [1, 2]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("explanation", {"x": float("nan")}),
        ("explanation", {"x": object()}),
        ("evidence", ("not-a-uuid",)),
        ("item", "M-1"),
        ("level", 0),
        ("policy", "Late Policy"),
    ],
)
def test_escalation_fields_are_checked(field: str, value: object) -> None:
    fields: dict[str, Any] = {
        "policy": "late",
        "item": "milestone:M-1",
        "episode": 1,
        "target": "customer",
    }
    fields[field] = value
    with pytest.raises(ValidationError) as caught:
        EscalationRaised(**fields)
    assert [e.path for e in caught.value.errors] == [field]


def test_escalation_evidence_accepts_uuid_objects() -> None:
    ident = uuid.uuid4()
    event = EscalationRaised(
        policy="late", item="milestone:M-1", episode=1, target="noc", evidence=[ident]
    )
    assert event.evidence == (str(ident),)


def test_entity_events_name_their_entity() -> None:
    order = Order(
        id="O-9", customer="ACME", site_id="S-1", service_ids=("SV-1",), requested_at=PARIS
    )
    assert OrderPlaced(order=order).entity_id() == "O-9"
    assert MilestoneStarted().entity_id() is None


def test_new_event_checks_every_field_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        NewEvent(
            {"type": "milestone.started"},  # type: ignore[arg-type]
            occurred_at=pendulum.naive(2024, 1, 1),  # type: ignore[arg-type]
            event_id="123",
            actor=" ",
        )
    assert [e.path for e in caught.value.errors] == ["event", "occurred_at", "event_id", "actor"]


def test_new_event_draws_an_id_once() -> None:
    new = NewEvent(MilestoneStarted(), occurred_at=PARIS)
    assert str(uuid.UUID(new.event_id)) == new.event_id
    assert new.occurred_at.utcoffset() == PARIS.utcoffset()
    given_id = uuid.uuid4()
    assert NewEvent(MilestoneStarted(), occurred_at=PARIS, event_id=given_id).event_id == str(
        given_id
    )

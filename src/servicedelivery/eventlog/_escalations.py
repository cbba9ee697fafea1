"""Events the policies record when they escalate work, and when the escalation ends.

Recording escalations in the trail makes them evidence like everything else, and lets a policy tell
whether it already escalated an item: an escalation is identified by the policy, the item, the
episode it belongs to and its level. Escalations are recorded in ``escalation:<entity id>`` streams;
the policy layer chooses the entity id (for instance one stream per policy and item).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog._events import (
    Event,
    json_object,
    to_json_object,
    to_uuid_text,
    uuid_text,
)
from servicedelivery.eventlog._streams import StreamKind, split_stream_id
from servicedelivery.model._validation import (
    checked,
    identifier,
    non_negative_int,
    slug,
    to_tuple,
    tuple_of,
)

__all__ = ["EscalationCleared", "EscalationRaised"]


def _stream(value: object) -> str | None:
    try:
        split_stream_id(value)  # type: ignore[arg-type]
    except ValidationError as error:
        return error.errors[0].expected
    return None


def _to_uuid_texts(value: object) -> object:
    value = to_tuple(value)
    if isinstance(value, tuple):
        return tuple(to_uuid_text(item) for item in value)
    return value


def _level(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return "an integer >= 1"


@attrs.frozen(kw_only=True)
class EscalationRaised(Event):
    """A policy escalated an item to someone who must act.

    Attributes:
        policy: The name of the policy that escalated.
        item: The stream id of the item escalated, such as ``"milestone:M-1"``.
        episode: Which episode of the item the escalation belongs to; by convention the position of
            the event that opened the episode (the block that has lasted too long, say), so that a
            new block is a new episode.
        level: The escalation level, from 1.
        target: Who it was escalated to: an owner or a queue.
        explanation: Why, as plain data (the rule, the figures it compared), for people and tools.
        evidence: The ids of the events the decision rests on.
    """

    stream_kind: ClassVar[str] = StreamKind.ESCALATION

    policy: str = checked(slug)
    item: str = checked(_stream)
    episode: int = checked(non_negative_int)
    level: int = checked(_level, default=1)
    target: str = checked(identifier)
    explanation: Mapping[str, Any] = checked(
        json_object, converter=to_json_object, factory=dict, hash=False
    )
    evidence: tuple[str, ...] = checked(
        tuple_of(uuid_text, unique=True), converter=_to_uuid_texts, default=()
    )


@attrs.frozen(kw_only=True)
class EscalationCleared(Event):
    """An escalation episode ended: the item moved on, or someone acknowledged it.

    Attributes:
        policy: The name of the policy that had escalated.
        item: The stream id of the item.
        episode: The episode that ended.
        explanation: Why it ended, as plain data.
    """

    stream_kind: ClassVar[str] = StreamKind.ESCALATION
    opens_stream: ClassVar[bool | None] = False

    policy: str = checked(slug)
    item: str = checked(_stream)
    episode: int = checked(non_negative_int)
    explanation: Mapping[str, Any] = checked(
        json_object, converter=to_json_object, factory=dict, hash=False
    )

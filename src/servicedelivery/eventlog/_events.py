"""The base of every domain event, and the checks event fields share.

An event is a frozen, validated attrs value that says what happened to one entity. It knows nothing
of where it is stored: its type name and schema version come from an
:class:`~servicedelivery.eventlog.EventRegistry`, its envelope (ids, positions, times, actor) from the
log that records it.
"""

from __future__ import annotations

import math
import types
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from servicedelivery.model import Owner
from servicedelivery.model._validation import Validated, identifier, slug

__all__ = ["Event", "Transition"]


class Transition(NamedTuple):
    """What a milestone event asks of the lifecycle: a trigger and the facts its guards read."""

    trigger: str
    reason: str | None = None
    owner: Owner | None = None
    override: bool = False


class Event(Validated):
    """The base of every event type.

    Subclasses are frozen attrs classes (keyword-only) that declare ``stream_kind``, the kind of
    stream they are recorded in, and ``opens_stream``: ``True`` for the event that creates an entity
    (only ever the first of its stream), ``False`` for events that need the stream to exist, ``None``
    when either is fine.
    """

    __slots__ = ()

    stream_kind: ClassVar[str]
    opens_stream: ClassVar[bool | None] = None

    def transition(self) -> Transition | None:
        """The lifecycle trigger this event fires, with its guard facts; ``None`` if it fires none."""
        return None

    def entity_id(self) -> str | None:
        """The id of the entity the event carries, which must be its stream's entity id, if any."""
        return None


# Field checks shared by the event types.


def uuid_text(value: object) -> str | None:
    """A UUID in its canonical text form (lowercase, with hyphens)."""
    if isinstance(value, str):
        try:
            if str(uuid.UUID(value)) == value:
                return None
        except ValueError:
            pass
    return "a UUID in canonical form such as '0b7e4a52-3f7c-4d44-9a0e-8c2b9c1d5e6f'"


def to_uuid_text(value: object) -> object:
    """Accept a ``uuid.UUID`` where UUID text is expected."""
    return str(value) if isinstance(value, uuid.UUID) else value


_RESERVED_ATTRIBUTES = frozenset({"order_id", "step", "sequence"})


def attribute_map(value: object) -> str | None:
    """Analytics attributes: lowercase codes to ids, such as ``{"provider": "cobalt_fibre"}``."""
    expected = (
        "a mapping of lowercase codes (not order_id, step or sequence) to non-empty strings "
        "without surrounding whitespace"
    )
    if not isinstance(value, Mapping):
        return expected
    for key, item in value.items():
        if slug(key) is not None or key in _RESERVED_ATTRIBUTES or identifier(item) is not None:
            return expected
    return None


def to_frozen_mapping(value: object) -> object:
    """A read-only copy of a mapping; anything else is left for the field's check to report."""
    if isinstance(value, Mapping):
        return types.MappingProxyType(dict(value))
    return value


def json_object(value: object) -> str | None:
    """Plain data: a mapping of strings to JSON values (no NaN or infinity)."""
    if isinstance(value, Mapping) and _is_json(value):
        return None
    return (
        "a mapping of strings to JSON values (strings, finite numbers, booleans, null, lists, maps)"
    )


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_is_json(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    return False


def to_json_object(value: object) -> object:
    """A copy of plain data, read-only at the top, so the caller's later changes do not leak in."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({key: _copy_json(item) for key, item in value.items()})
    return value


def _copy_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy_json(item) for item in value]
    return value

"""Stream ids: one stream per entity, named ``"<kind>:<entity id>"`` (``"milestone:M-1"``).

A stream holds every event about one entity, in order; its kind says which event types it accepts.
The entity id is everything after the first colon, so ids that contain colons are fine.
"""

from __future__ import annotations

from enum import StrEnum, unique

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.model._validation import identifier, slug

__all__ = ["StreamKind", "split_stream_id", "stream_id"]


@unique
class StreamKind(StrEnum):
    """The kinds of stream the library's own event types are recorded in.

    A host's own event types may use other kinds: any lowercase code works.
    """

    MILESTONE = "milestone"
    ORDER = "order"
    SITE = "site"
    SERVICE = "service"
    CASE = "case"
    INVOICE = "invoice"
    ESCALATION = "escalation"


def stream_id(kind: str, entity_id: str) -> str:
    """The id of the stream that holds the events of one entity.

    Args:
        kind: The stream's kind, such as ``StreamKind.MILESTONE`` or a host's own code.
        entity_id: The entity's id (``"M-1"``).

    Returns:
        ``"<kind>:<entity id>"``, such as ``"milestone:M-1"``.

    Raises:
        ValidationError: The kind is not a lowercase code, or the id is not a valid id.
    """
    errors = _problems(kind, entity_id)
    if errors:
        raise ValidationError(errors, title="invalid stream id")
    return f"{kind}:{entity_id}"


def split_stream_id(stream: str, *, path: str = "stream_id") -> tuple[str, str]:
    """The kind and entity id of a stream id: ``split_stream_id("milestone:M-1") == ("milestone", "M-1")``.

    Raises:
        ValidationError: ``stream`` is not of the form ``"<kind>:<entity id>"``.
    """
    given: object = stream
    if not isinstance(given, str) or ":" not in given:
        raise ValidationError.single(path, given, _EXPECTED)
    kind, _, entity_id = given.partition(":")
    if _problems(kind, entity_id):
        raise ValidationError.single(path, given, _EXPECTED)
    return kind, entity_id


_EXPECTED = "a stream id '<kind>:<entity id>' such as 'milestone:M-1'"


def _problems(kind: object, entity_id: object) -> list[FieldError]:
    errors = []
    if (expected := slug(kind)) is not None:
        errors.append(FieldError("kind", kind, expected))
    if (expected := identifier(entity_id)) is not None:
        errors.append(FieldError("entity_id", entity_id, expected))
    return errors

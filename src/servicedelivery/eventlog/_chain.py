"""The hash chain: each record's SHA-256 covers the record and the hash of the record before it.

The hashed text is the canonical JSON (sorted keys, no whitespace, UTF-8) of an object with these
keys: ``actor``, ``causation_id``, ``correlation_id``, ``event_id``, ``occurred_at``, ``payload`` (the
payload's canonical JSON text, as a string), ``position``, ``previous`` (the previous record's hash
in hex; 64 zeros for the first record), ``recorded_at``, ``schema_version``, ``source``,
``stream_id``, ``type`` and ``version``. Anyone can recompute it in any language from the stored
columns, so a record changed or removed behind the library's back shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from servicedelivery.eventlog._canonical import canonical_string
from servicedelivery.eventlog._records import StoredRecord

__all__ = ["GENESIS", "Covered", "chain_text", "chain_text_of", "chained_hashes", "record_hash"]

GENESIS = "0" * 64
"""The ``previous`` hash of the first record."""


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else canonical_string(value)


def chain_text(  # noqa: PLR0917 - called positionally once per appended event, for speed
    position: int,
    event_id: str,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    payload: str,
    occurred_at: str,
    recorded_at: str,
    actor: str | None,
    source: str | None,
    correlation_id: str | None,
    causation_id: str | None,
    previous: str,
) -> str:
    """The canonical JSON text that a record's hash covers.

    Equal to ``canonical_json`` of the dict of these fields (a test checks), written out by hand
    because the log computes one for every event it appends and ``json`` sorts keys every time.
    """
    q = canonical_string
    return (
        f'{{"actor":{_text_or_null(actor)},"causation_id":{_text_or_null(causation_id)},'
        f'"correlation_id":{_text_or_null(correlation_id)},"event_id":{q(event_id)},'
        f'"occurred_at":{q(occurred_at)},"payload":{q(payload)},"position":{position:d},'
        f'"previous":{q(previous)},"recorded_at":{q(recorded_at)},'
        f'"schema_version":{schema_version:d},"source":{_text_or_null(source)},'
        f'"stream_id":{q(stream_id)},"type":{q(type)},"version":{version:d}}}'
    )


def chain_text_of(record: StoredRecord, previous: str) -> str:
    """The chain text of a stored record, given the hash of the record before it.

    A stored record's first fields are those the hash covers, in ``chain_text``'s order.
    """
    return chain_text(*record[:13], previous)


Covered = tuple[
    int, str, str, int, str, int, str, str, str, str | None, str | None, str | None, str | None
]
"""The fields of a record the hash covers, in ``chain_text``'s order (without ``previous``)."""

_NO_IDS = '{"actor":null,"causation_id":null,"correlation_id":null,"event_id":'


def chained_hashes(records: Iterable[Covered], previous: str) -> list[str]:
    """The hashes of consecutive records, the first chained to ``previous``.

    Each is ``record_hash(chain_text(*record, previous))`` with ``previous`` the hash before it (a
    test checks), written as one formatting per record: an append computes one per event. The texts
    of fields that repeat from one record to the next (a batch's stream and recorded_at, the
    common types) are escaped once.
    """
    q = canonical_string
    sha256 = hashlib.sha256
    hashes: list[str] = []
    append = hashes.append
    texts: dict[str, str] = {}  # escaped texts of the repeating fields
    for (
        position,
        event_id,
        stream_id,
        version,
        type,
        schema_version,
        payload,
        occurred_at,
        recorded_at,
        actor,
        source,
        correlation_id,
        causation_id,
    ) in records:
        if actor is None and causation_id is None and correlation_id is None:
            head = _NO_IDS
        else:
            head = (
                f'{{"actor":{_text_or_null(actor)},"causation_id":{_text_or_null(causation_id)},'
                f'"correlation_id":{_text_or_null(correlation_id)},"event_id":'
            )
        stream_text = texts.get(stream_id) or texts.setdefault(stream_id, q(stream_id))
        type_text = texts.get(type) or texts.setdefault(type, q(type))
        recorded_text = texts.get(recorded_at) or texts.setdefault(recorded_at, q(recorded_at))
        previous = sha256(
            f'{head}{q(event_id)},"occurred_at":{q(occurred_at)},"payload":{q(payload)},'
            f'"position":{position:d},"previous":{q(previous)},"recorded_at":{recorded_text},'
            f'"schema_version":{schema_version:d},'
            f'"source":{"null" if source is None else q(source)},"stream_id":{stream_text},'
            f'"type":{type_text},"version":{version:d}}}'.encode()
        ).hexdigest()
        append(previous)
    return hashes


def record_hash(text: str) -> str:
    """The SHA-256 of a record's chain text, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

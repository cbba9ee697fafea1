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
import itertools
from collections.abc import Iterable, Sequence

from servicedelivery.eventlog._canonical import canonical_string
from servicedelivery.eventlog._records import StoredRecord

__all__ = ["GENESIS", "batch_hashes", "chain_text", "chain_text_of", "record_hash"]

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


_NO_IDS = '{"actor":null,"causation_id":null,"correlation_id":null,"event_id":"'


def batch_hashes(
    positions: Sequence[int],
    event_ids: Sequence[str],
    *,
    stream_ids: str | Sequence[str],
    versions: Sequence[int],
    types: Sequence[str],
    schema_versions: Sequence[int],
    quoted_payloads: Sequence[str],
    occurred_at: Sequence[str],
    recorded_at: str,
    envelope_ids: tuple[
        Sequence[str | None], Sequence[str | None], Sequence[str | None], Sequence[str | None]
    ],
    previous: str,
) -> list[str]:
    """The hashes of a batch's records, the first chained to ``previous``.

    Each is ``record_hash(chain_text(...))`` of its record with ``previous`` the hash before it (a
    test checks), the columns given as lists. ``stream_ids`` is one stream for all (one batch) or
    each record's; ``quoted_payloads`` are the payloads' texts as JSON strings (``canonical_string``
    of each); ``envelope_ids`` are the actors, sources, correlation and causation ids. The parts of
    the texts that repeat (the streams, the recorded instant, each type) are escaped once each.
    Event ids (UUID texts), instants (ISO 8601 texts) and type names (dotted codes) are written
    between quotes as they are: none of their characters needs escaping in JSON. Positions,
    versions and schema versions are integers (never booleans).
    """
    actors, sources, correlations, causations = envelope_ids
    count = len(positions)
    streams = [stream_ids] * count if isinstance(stream_ids, str) else stream_ids
    # What follows the previous hash up to the version depends only on the type, its schema
    # version, the source and the stream: made once for each distinct one.
    recorded = f'","recorded_at":"{recorded_at}","schema_version":'
    afters = {
        key: f'{recorded}{key[1]},"source":{_text_or_null(key[2])},'
        f'"stream_id":{canonical_string(key[3])},"type":"{key[0]}","version":'
        for key in set(zip(types, schema_versions, sources, streams, strict=True))
    }
    if len(afters) == 1:
        keys: Iterable[tuple[str, int, str | None, str]] = itertools.repeat(next(iter(afters)))
    else:
        keys = zip(types, schema_versions, sources, streams, strict=True)
    if actors.count(None) + correlations.count(None) + causations.count(None) < 3 * count:
        heads: Iterable[str] = [
            f'{{"actor":{_text_or_null(actor)},"causation_id":{_text_or_null(causation)},'
            f'"correlation_id":{_text_or_null(correlation)},"event_id":"'
            for actor, causation, correlation in zip(actors, causations, correlations, strict=True)
        ]
    else:
        heads = itertools.repeat(_NO_IDS)
    new_hash = _SHA256.copy
    hashes: list[str] = []
    append = hashes.append
    # One text per record, formatted and hashed in the one loop that must run in order.
    for head, event_id, occurred, payload, position, key, version in zip(
        heads, event_ids, occurred_at, quoted_payloads, positions, keys, versions, strict=False
    ):  # not strict: ``heads`` and ``keys`` may repeat without end
        digest = new_hash()
        digest.update(
            f'{head}{event_id}","occurred_at":"{occurred}","payload":{payload},'
            f'"position":{position},"previous":"{previous}{afters[key]}{version}}}'.encode()
        )
        previous = digest.hexdigest()
        append(previous)
    return hashes


def record_hash(text: str) -> str:
    """The SHA-256 of a record's chain text, in hex."""
    digest = _SHA256.copy()
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


# Copying a fresh SHA-256 costs half of what making one costs (OpenSSL looks the algorithm up on
# every construction), and the log makes one for every record it appends or verifies.
_SHA256 = hashlib.sha256()

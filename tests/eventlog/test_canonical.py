from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog._canonical import canonical_json, canonical_string
from servicedelivery.eventlog._chain import GENESIS, batch_hashes, chain_text, record_hash
from servicedelivery.eventlog._instants import instant_text
from servicedelivery.eventlog._registry import _TYPE_NAME
from servicedelivery.testing import aware_datetimes

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(json_values)
def test_canonical_json_is_sorted_compact_utf8(value: Any) -> None:
    assert canonical_json(value) == reference(value)


@given(st.text())
def test_canonical_string_matches_the_encoder(text: str) -> None:
    assert canonical_string(text) == reference(text)


def test_canonical_json_refuses_nan() -> None:
    try:
        canonical_json({"x": float("nan")})
    except ValueError:
        return
    raise AssertionError("NaN was encoded")


maybe_text = st.none() | st.text(max_size=12)


@given(
    position=st.integers(1, 2**62),
    event_id=st.uuids().map(str),
    stream_id=st.text(min_size=1),
    version=st.integers(1, 2**31),
    type=st.text(min_size=1, max_size=20),
    schema_version=st.integers(1, 9),
    payload=st.dictionaries(st.text(max_size=5), st.text(max_size=5)).map(canonical_json),
    occurred_at=st.text(max_size=30),
    recorded_at=st.text(max_size=30),
    actor=maybe_text,
    source=maybe_text,
    correlation_id=maybe_text,
    causation_id=maybe_text,
    previous=st.just(GENESIS) | st.binary(min_size=32, max_size=32).map(bytes.hex),
)
def test_chain_text_is_the_canonical_json_of_the_record(**fields: Any) -> None:
    assert chain_text(**fields) == reference(fields)


def test_record_hash_is_sha256_of_the_utf8_text() -> None:
    # Known answer: sha256 of the empty object.
    assert record_hash("{}") == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_a_stored_record_starts_with_the_fields_the_hash_covers_in_order() -> None:
    import inspect

    from servicedelivery.eventlog import StoredRecord

    covered = list(inspect.signature(chain_text).parameters)[:-1]
    assert list(StoredRecord._fields[: len(covered)]) == covered
    assert StoredRecord._fields[len(covered)] == "hash"


covered_records = st.tuples(
    st.uuids().map(str),
    st.sampled_from(["milestone.started", "case.opened"])
    | st.from_regex(_TYPE_NAME, fullmatch=True),
    st.integers(1, 9),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5)).map(canonical_json),
    aware_datetimes().map(lambda instant: instant_text(instant)[0]),
    maybe_text,
    maybe_text,
    maybe_text,
    maybe_text,
)


@given(
    records=st.lists(covered_records, min_size=1, max_size=6),
    position=st.integers(1, 2**62),
    version=st.integers(0, 2**31),
    stream_id=st.sampled_from(["milestone:M-1", 'case:"C\\1"', "site:Zürich"])
    | st.text(min_size=1),
    recorded_at=aware_datetimes().map(lambda instant: instant_text(instant)[0]),
    previous=st.just(GENESIS) | st.binary(min_size=32, max_size=32).map(bytes.hex),
    each_own_stream=st.booleans(),
)
def test_batch_hashes_chain_the_record_hash_of_each_chain_text(
    *,
    records: list[Any],
    position: int,
    version: int,
    stream_id: str,
    recorded_at: str,
    previous: str,
    each_own_stream: bool,
) -> None:
    # One stream for the batch, or (as append_many has them) each record's own, some repeating.
    streams = [f"{stream_id}{offset % 3}" for offset in range(len(records))]
    expected = []
    for offset, (event_id, type, schema_version, payload, occurred_at, *ids) in enumerate(
        records, start=1
    ):
        text = chain_text(
            position + offset,
            event_id,
            streams[offset - 1] if each_own_stream else stream_id,
            version + offset,
            type,
            schema_version,
            payload,
            occurred_at,
            recorded_at,
            *ids,
            expected[-1] if expected else previous,
        )
        expected.append(record_hash(text))
    columns = list(zip(*records, strict=True))
    hashes = batch_hashes(
        range(position + 1, position + len(records) + 1),
        columns[0],
        stream_ids=streams if each_own_stream else stream_id,
        versions=range(version + 1, version + len(records) + 1),
        types=columns[1],
        schema_versions=columns[2],
        quoted_payloads=[canonical_string(payload) for payload in columns[3]],
        occurred_at=columns[4],
        recorded_at=recorded_at,
        envelope_ids=(columns[5], columns[6], columns[7], columns[8]),
        previous=previous,
    )
    assert hashes == expected

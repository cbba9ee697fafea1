from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog._canonical import canonical_json, canonical_string
from servicedelivery.eventlog._chain import GENESIS, chain_text, chained_hashes, record_hash

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
    st.integers(1, 2**62),
    st.uuids().map(str),
    st.sampled_from(["milestone:M-1", 'case:"C\\1"', "site:Zürich"]) | st.text(min_size=1),
    st.integers(1, 2**31),
    st.sampled_from(["milestone.started", "x.\u2028"]) | st.text(min_size=1, max_size=20),
    st.integers(1, 9),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5)).map(canonical_json),
    st.text(max_size=30),
    st.sampled_from(["2025-01-06T09:00:00+01:00"]) | st.text(max_size=30),
    maybe_text,
    maybe_text,
    maybe_text,
    maybe_text,
)


@given(
    st.lists(covered_records, max_size=6),
    st.just(GENESIS) | st.binary(min_size=32, max_size=32).map(bytes.hex) | st.text(max_size=8),
)
def test_chained_hashes_chain_the_record_hash_of_each_chain_text(
    records: list[Any], previous: str
) -> None:
    expected = []
    for record in records:
        previous_hash = expected[-1] if expected else previous
        expected.append(record_hash(chain_text(*record, previous_hash)))
    assert chained_hashes(records, previous) == expected

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import StreamKind, split_stream_id, stream_id
from servicedelivery.testing import identifiers


def test_stream_id_joins_kind_and_entity() -> None:
    assert stream_id(StreamKind.MILESTONE, "M-1") == "milestone:M-1"
    assert stream_id("ticket", "T:7") == "ticket:T:7"


@given(st.sampled_from(StreamKind), identifiers())
def test_split_inverts_stream_id(kind: StreamKind, entity: str) -> None:
    assert split_stream_id(stream_id(kind, entity)) == (kind.value, entity)


def test_entity_ids_may_contain_colons() -> None:
    assert split_stream_id("escalation:late:milestone:M-1") == ("escalation", "late:milestone:M-1")


def test_bad_parts_are_all_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        stream_id("Milestone", " M-1")
    assert [e.path for e in caught.value.errors] == ["kind", "entity_id"]


@pytest.mark.parametrize("bad", ["M-1", ":M-1", "milestone:", "Milestone:M-1", "milestone: M", 7])
def test_malformed_stream_ids_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as caught:
        split_stream_id(bad)  # type: ignore[arg-type]
    assert caught.value.errors[0].path == "stream_id"
    assert caught.value.errors[0].value == bad

"""The fast paths of reading equal the fully checked paths they stand in for."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import re
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import IntegrityError, ServiceDeliveryError, ValidationError
from servicedelivery.eventlog import (
    DEFAULT_REGISTRY,
    Event,
    InMemoryEventLog,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    NewEvent,
    _decode,
)
from servicedelivery.eventlog._canonical import canonical_json
from servicedelivery.eventlog._chain import chain_text_of, record_hash
from servicedelivery.eventlog._decode import decode_payload
from servicedelivery.eventlog._fast import (
    fast_builder,
    fast_columns,
    parse_payload,
    parse_payloads,
)
from servicedelivery.eventlog._instants import (
    instant_at,
    instant_text,
    parse_instant,
)
from servicedelivery.eventlog._records import StoredRecord
from servicedelivery.model import Owner, unstructure
from servicedelivery.testing import aware_datetimes, events

# The library's types whose payloads hold only fields the fast path builds. Listed, so that a change
# that silently sends them back to the slow path fails here.
FAST = {
    "milestone.planned",
    "milestone.started",
    "milestone.blocked",
    "milestone.block_reclassified",
    "milestone.unblocked",
    "milestone.completed",
    "milestone.cancelled",
    "milestone.reopened",
    "milestone.transitioned",
    "milestone.target_date_changed",
    "order.placed",
    "order.amended",
    "order.cancelled",
    "site.registered",
    "site.updated",
    "service.registered",
    "service.updated",
    "case.opened",
    "case.updated",
    "case.resolved",
    "case.reopened",
    "invoice.disputed",
    "invoice.approved",
}


def test_the_usual_types_have_a_fast_builder() -> None:
    assert {t.name for t in DEFAULT_REGISTRY if fast_builder(t.cls) is not None} == FAST


def _same(left: object, right: object) -> None:
    """Equal, and made of values of the same types, down to every field and time zone."""
    assert left == right
    assert type(left) is type(right)
    if attrs.has(type(left)):
        for field in attrs.fields(type(left)):
            _same(getattr(left, field.name), getattr(right, field.name))
    elif isinstance(left, dt.datetime):
        assert isinstance(right, dt.datetime)
        assert type(left.tzinfo) is type(right.tzinfo)
        assert left.utcoffset() == right.utcoffset()
        assert repr(left) == repr(right)
    elif isinstance(left, tuple):
        assert isinstance(right, tuple)
        for a, b in zip(left, right, strict=True):
            _same(a, b)


def _record(name: str, payload: str, schema_version: int = 1) -> StoredRecord:
    at = "2025-01-06T09:00:00+01:00"
    return StoredRecord(
        1, "0" * 32, "milestone:M-1", 1, name, schema_version, payload, at, at, None, None, None,
        None, "0" * 64, 0, 0, None, None, None, False, None, None,
    )  # fmt: skip


@pytest.mark.parametrize("event_type", list(DEFAULT_REGISTRY), ids=lambda t: t.name)
def test_fast_decoding_equals_checked_decoding(event_type: Any) -> None:
    build = fast_builder(event_type.cls)

    @given(events(types=(event_type.cls,)))
    def check(event: Event) -> None:
        payload = canonical_json(unstructure(event))
        checked = DEFAULT_REGISTRY.decode(event_type.name, json.loads(payload))
        _same(checked, event)
        if build is not None:
            _same(build(parse_payload(payload)), checked)
        _same(decode_payload(DEFAULT_REGISTRY, _record(event_type.name, payload)), checked)

    check()


_BLOCK = {"note": "", "owner": "customer", "override": False, "reason": "site_access"}


@pytest.mark.parametrize(
    "data",
    [
        [],
        {k: v for k, v in _BLOCK.items() if k != "note"},  # a field missing
        {**_BLOCK, "extra": 1},  # a field too many
        {**_BLOCK, "owner": "nobody"},  # not a member of the enum
        {**_BLOCK, "override": 0},  # an integer where a boolean is stored
        {**_BLOCK, "note": None},  # null where a string is stored
        {**_BLOCK, "reason": 3},
    ],
)
def test_data_of_another_shape_is_left_to_the_checked_path(data: object) -> None:
    build = fast_builder(MilestoneBlocked)
    assert build is not None
    assert build(data) is None
    record = _record("milestone.blocked", json.dumps(data))
    try:
        checked = DEFAULT_REGISTRY.decode("milestone.blocked", data)
    except ValidationError:
        with pytest.raises(IntegrityError, match="does not decode"):
            decode_payload(DEFAULT_REGISTRY, record)
    else:  # a field left out takes its default, as the checked path says
        assert data == {k: v for k, v in _BLOCK.items() if k != "note"}
        _same(decode_payload(DEFAULT_REGISTRY, record), checked)


_PLAN = {"order_id": "O-1", "step": "installation", "sequence": 0, "attributes": {}}


@pytest.mark.parametrize(
    "changes",
    [
        {"target_at": "2025-01-06T09:00:00"},  # naive
        {"target_at": "not a date"},
        {"target_at": 5},
        {"target_at": None, "attributes": {"region": 1}},
        {"target_at": None, "attributes": ["region"]},
        {"target_at": None, "sequence": True},
    ],
)
def test_bad_nested_values_are_left_to_the_checked_path(changes: dict[str, object]) -> None:
    build = fast_builder(MilestonePlanned)
    assert build is not None
    assert build({**_PLAN, **changes}) is None


def test_a_type_with_more_than_checked_fields_has_no_fast_builder() -> None:
    @attrs.frozen(kw_only=True)
    class Initialized(MilestonePlanned):
        def __attrs_post_init__(self) -> None:
            super().__attrs_post_init__()

    @attrs.frozen(kw_only=True)
    class Object(MilestonePlanned):
        anything: object = None

    assert fast_builder(Initialized) is None
    assert fast_builder(Object) is None


def test_older_schema_versions_are_upcast_on_the_checked_path() -> None:
    def rename(data: dict[str, Any]) -> dict[str, Any]:
        return {"note": data["comment"]}

    registry = DEFAULT_REGISTRY.extended(
        attrs.evolve(DEFAULT_REGISTRY.get("milestone.started"), version=2, upcasters={1: rename})
    )
    record = _record("milestone.started", '{"comment":"hi"}', schema_version=1)
    assert decode_payload(registry, record).note == "hi"  # type: ignore[attr-defined]


_json_texts = st.text(max_size=12) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
).map(json.dumps)


@given(_json_texts, st.sampled_from(["", " ", "x", "}", "  \n"]))
def test_payloads_parse_as_json_loads_does(text: str, suffix: str) -> None:
    try:
        expected: object = json.loads(text + suffix)
    except ValueError:
        with pytest.raises(json.JSONDecodeError):
            parse_payload(text + suffix)
    else:
        assert parse_payload(text + suffix) == expected


@given(st.lists(_json_texts, max_size=6), st.sampled_from(["", " ", "x", "}", "  \n"]))
def test_many_payloads_parse_as_each_or_not_at_all(texts: list[str], suffix: str) -> None:
    """``parse_payloads`` gives ``json.loads`` of each, or ``None`` when one is not JSON alone."""
    texts = [text + suffix for text in texts]

    def alone(text: str) -> bool:  # one JSON value, nothing around it
        try:
            _, end = json.JSONDecoder().raw_decode(text)
        except ValueError:
            return False
        return end == len(text)

    parsed = parse_payloads(texts)
    if all(map(alone, texts)):
        assert parsed == [json.loads(text) for text in texts]
        assert parsed == [parse_payload(text) for text in texts]
    else:
        assert parsed is None


@pytest.mark.parametrize("event_type", list(DEFAULT_REGISTRY), ids=lambda t: t.name)
def test_column_wise_building_equals_building_each(event_type: Any) -> None:
    build, columns = fast_builder(event_type.cls), fast_columns(event_type.cls)
    assert (build is None) == (columns is None)
    if columns is None:
        return
    assert build is not None

    @given(st.lists(events(types=(event_type.cls,)), max_size=5), st.data())
    def check(items: list[Event], data: st.DataObject) -> None:
        rows = [json.loads(canonical_json(unstructure(event))) for event in items]
        built = columns(rows)
        assert built is not None
        for one, event in zip(built, items, strict=True):
            _same(one, build(json.loads(canonical_json(unstructure(event)))))
            _same(one, event)
        if not rows:
            return
        # A row of another shape: the whole column is left to be built one by one.
        index = data.draw(st.integers(0, len(rows) - 1))
        name = data.draw(st.sampled_from(sorted(rows[index])))
        rows[index] = {**rows[index], name: data.draw(st.sampled_from([[1], {"x": 1}, 1.5]))}
        assert build(rows[index]) is None
        assert columns(rows) is None

    check()


@pytest.mark.parametrize(
    "changes",
    [
        {"target_at": "2025-01-06T09:00:00"},  # naive
        {"target_at": 5},
        {"attributes": {"region": 1}},
        {"attributes": ["region"]},
        {"sequence": True},
        {"extra": 1},
    ],
)
def test_bad_values_in_a_column_leave_it_to_be_built_one_by_one(changes: dict[str, Any]) -> None:
    columns = fast_columns(MilestonePlanned)
    assert columns is not None
    good = {**_PLAN, "target_at": None}
    bad = {**good, **changes}
    assert columns([good, bad, good]) is None
    assert columns([good, {**good, "target_at": "2025-01-06T09:00:00Z"}]) is not None


@given(aware_datetimes())
def test_instants_parse_at_their_fixed_offset(instant: dt.datetime) -> None:
    text, _ = instant_text(instant)
    reference = instant_at(dt.datetime.fromisoformat(text))
    for _ in range(2):  # the first parse of an offset may fill the zone table, the second uses it
        _same(parse_instant(text), reference)
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant(text[:19])  # naive


def test_verify_checks_in_full_what_reading_trusts() -> None:
    """A payload rewritten with a bad value and re-hashed reads back as it is; verify refuses it."""
    log = InMemoryEventLog()
    at = pendulum.datetime(2025, 1, 6, 9, tz="Europe/Paris")
    plan = MilestonePlanned(order_id="O-1", step="survey")
    block = MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER)
    log.append(
        "milestone:M-1",
        [NewEvent(plan, occurred_at=at), NewEvent(MilestoneStarted(), occurred_at=at)],
    )
    log.append("milestone:M-1", [NewEvent(block, occurred_at=at)])
    bad = StoredRecord(*log._records[2]).payload.replace('"site_access"', '"Site Access"')
    record = StoredRecord(*log._records[2])._replace(payload=bad)
    log._records[2] = record._replace(
        hash=record_hash(chain_text_of(record, StoredRecord(*log._records[1]).hash))
    )
    assert log.read_all()[2].event.reason == "Site Access"  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError, match=r"position 3: the stored payload does not decode"):
        log.verify()


@pytest.mark.parametrize("enabled", [True, False])
def test_reads_leave_the_garbage_collector_as_they_found_it(enabled: bool) -> None:
    """Reads pause the collector while they decode and restore it, even when they fail."""
    log = InMemoryEventLog()
    at = pendulum.datetime(2025, 1, 6, 9, tz="Europe/Paris")
    plan = MilestonePlanned(order_id="O-1", step="survey")
    log.append("milestone:M-1", [NewEvent(plan, occurred_at=at)])
    seen: list[bool] = []

    def spy(text: str) -> pendulum.DateTime:
        seen.append(gc.isenabled())
        return parse_instant(text)

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_decode, "parse_instant", spy)  # a small read: record by record
            select = log._select_envelopes
            patch.setattr(
                log, "_select_envelopes", lambda *a: seen.append(gc.isenabled()) or select(*a)
            )
            assert log.read_all()[0].event == plan
            assert gc.isenabled() is enabled
            log._records[0] = StoredRecord(*log._records[0])._replace(payload="[")
            with pytest.raises(IntegrityError):
                log.read_stream("milestone:M-1")
            assert gc.isenabled() is enabled
        # The select, then occurred_at and recorded_at: all with the collector paused.
        assert seen == [False, False, False]
    finally:
        (gc.enable if was else gc.disable)()


def test_the_usual_types_have_a_checked_fast_builder_too() -> None:
    assert {t.name for t in DEFAULT_REGISTRY if fast_builder(t.cls, checked=True)} == FAST


def _text_leaves(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """The paths to every string in plain data (dict keys and list indexes)."""
    if isinstance(data, str):
        return [path]
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    return [leaf for key, value in items for leaf in _text_leaves(value, (*path, key))]


def _replaced(data: Any, path: tuple[Any, ...], value: object) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replaced(data[path[0]], path[1:], value)
    return copy


_BAD_TEXTS = st.sampled_from(["", " x", "Bad Value", "a" * 300, "2025-13-01", "-1", "x/y"])


@pytest.mark.parametrize("event_type", list(DEFAULT_REGISTRY), ids=lambda t: t.name)
def test_checked_fast_decoding_refuses_what_the_checked_path_refuses(event_type: Any) -> None:
    """Verify's decoding: a string anywhere in a payload replaced, accepted only if it is valid."""
    build = fast_builder(event_type.cls, checked=True)

    @given(events(types=(event_type.cls,)), st.data())
    def check(event: Event, data: st.DataObject) -> None:
        payload = unstructure(event)
        leaves = _text_leaves(payload)
        if leaves:
            path = data.draw(st.sampled_from(leaves))
            payload = _replaced(payload, path, data.draw(_BAD_TEXTS | st.text(max_size=5)))
        text = canonical_json(payload)
        record = _record(event_type.name, text)
        expected: Event | ValidationError
        try:
            expected = DEFAULT_REGISTRY.decode(event_type.name, json.loads(text))
        except ValidationError as error:
            expected = error
        if isinstance(expected, ValidationError):
            if build is not None:
                try:
                    refused = build(parse_payload(text)) is None  # not of the usual shape
                except ValidationError:  # a check failed
                    refused = True
                assert refused
            with pytest.raises(IntegrityError) as raised:
                decode_payload(DEFAULT_REGISTRY, record, checked=True)
            assert (
                str(raised.value) == f"position 1: the stored payload does not decode: {expected}"
            )
        else:
            if build is not None:
                _same(build(parse_payload(text)), expected)
            _same(decode_payload(DEFAULT_REGISTRY, record, checked=True), expected)

    check()


_ORDER = {
    "customer": "c-1",
    "id": "O-1",
    "priority": "high",
    "requested_at": "2025-01-06T09:00:00+01:00",
    "service_ids": ["O-1-SV1"],
    "site_id": "S-1",
    "target_at": None,
    "value": None,
}


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("milestone.blocked", {**_BLOCK, "reason": "Site Access"}),  # a field's own check
        ("milestone.planned", {**_PLAN, "target_at": None, "step": "Not A Slug"}),
        ("order.placed", {"order": {**_ORDER, "service_ids": []}}),  # a check across fields
    ],
)
def test_checked_fast_builders_run_every_check(name: str, payload: dict[str, Any]) -> None:
    build = fast_builder(DEFAULT_REGISTRY.get(name).cls, checked=True)
    assert build is not None
    with pytest.raises(ValidationError):
        build(payload)
    assert fast_builder(DEFAULT_REGISTRY.get(name).cls)(payload) is not None  # type: ignore[misc]
    with pytest.raises(IntegrityError, match="does not decode"):
        decode_payload(DEFAULT_REGISTRY, _record(name, json.dumps(payload)), checked=True)


def test_a_type_with_attrs_validators_has_no_fast_builder() -> None:
    @attrs.frozen(kw_only=True)
    class Validated(MilestonePlanned):
        extra: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    assert fast_builder(Validated) is None
    assert fast_builder(Validated, checked=True) is None


_AT = ["2025-01-06T09:00:00+01:00", "2025-03-30T01:59:59.000001-05:30", "2024-02-29T23:00:00Z"]


@given(
    st.lists(
        st.tuples(events(), st.sampled_from(_AT), st.sampled_from(_AT)), min_size=1, max_size=12
    ),
    st.data(),
)
def test_decoding_in_bulk_equals_decoding_record_by_record(
    items: list[tuple[Event, str, str]], data: st.DataObject
) -> None:
    """Equal results, and for a corrupt payload, type or instant the same error at the same place."""
    rows = [
        (
            position, f"{position:032x}", "milestone:M-1", position, DEFAULT_REGISTRY.type_of(event).name,
            1, canonical_json(unstructure(event)), occurred, recorded, None, "s", None, None, "h",
        )
        for position, (event, occurred, recorded) in enumerate(items * 2, start=1)
    ]  # fmt: skip
    # Chunks of a few records, so that events and instants decoded in one serve the next.
    chunk = data.draw(st.integers(1, 8))
    bulk = functools.partial(_decode._in_bulk, DEFAULT_REGISTRY)
    expected = _decode.decode_each(DEFAULT_REGISTRY, rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_decode, "_CHUNK", chunk)
        decoded = bulk(rows)
    assert decoded == expected == _decode.decode_records(DEFAULT_REGISTRY, rows)
    for one, reference in zip(decoded, expected, strict=True):
        _same(tuple(one), tuple(reference))
    # One field of one row made bad: both raise the same error, for the first bad row.
    index = data.draw(st.integers(0, len(rows) - 1))
    field, bad = data.draw(
        st.sampled_from([(4, "no.such_type"), (5, 99), (6, "{"), (6, "[]"), (7, "2025-01-06")])
    )
    rows[index] = (*rows[index][:field], bad, *rows[index][field + 1 :])
    with pytest.raises((ServiceDeliveryError, ValueError), match=r"\w") as expected_error:
        _decode.decode_each(DEFAULT_REGISTRY, rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_decode, "_CHUNK", chunk)
        with pytest.raises(type(expected_error.value), match=re.escape(str(expected_error.value))):
            bulk(rows)

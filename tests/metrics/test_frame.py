"""Building frames: inputs accepted, rows refused with their numbers and reasons, sorting, ties."""

from __future__ import annotations

import builtins
import datetime as dt
import sys
from typing import NamedTuple

import numpy as np
import pandas as pd
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import OptionalDependencyError, ValidationError
from servicedelivery.metrics import Categorical, EventFrame, cycle_time, summarize
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    OWNERS,
    BlockedReason,
    Owner,
    StatusMap,
    Taxonomy,
    to_epoch_ns,
)
from servicedelivery.testing import aware_datetimes

SIMPLE = {
    "item": ["a", "a", "b"],
    "time": ["2024-03-31T01:00:00+01:00", "2024-03-31T03:30:00+02:00", "2024-03-30T10:00:00Z"],
    "state": ["in_progress", "done", "planned"],
}


def paths(error: ValidationError) -> list[str]:
    return [e.path for e in error.errors]


def test_a_frame_from_columns_is_sorted_by_item_then_time() -> None:
    frame = EventFrame.from_columns(SIMPLE)
    assert frame.items.tolist() == ["a", "b"]
    assert frame.item.tolist() == [0, 0, 1]
    assert frame.time.tolist() == [
        to_epoch_ns(pendulum.datetime(2024, 3, 31, 0, tz="UTC")),
        to_epoch_ns(pendulum.datetime(2024, 3, 31, 1, 30, tz="UTC")),
        to_epoch_ns(pendulum.datetime(2024, 3, 30, 10, tz="UTC")),
    ]
    assert frame.state.tolist() == [1, 3, 0]
    assert frame.position.tolist() == [0, 1, 2]
    assert frame.offsets.tolist() == [0, 2, 3]
    assert len(frame) == 3
    assert frame.item_count == 2


@given(aware_datetimes())
def test_iso_text_with_any_offset_reads_as_the_same_instant(when: dt.datetime) -> None:
    text = when.isoformat()
    frame = EventFrame.from_columns({"item": ["x"], "time": [text], "state": ["planned"]})
    assert frame.time.tolist() == [to_epoch_ns(when)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31T09:00:00Z", "2024-03-31T09:00:00+00:00"),
        ("2024-03-31 09:00:00+0200", "2024-03-31T07:00:00+00:00"),
        ("2024-03-31T09:00+05", "2024-03-31T04:00:00+00:00"),
        ("2024-03-31T09:00:00.123456789-03:30", "2024-03-31T12:30:00.123456+00:00"),
    ],
)
def test_iso_variants(text: str, expected: str) -> None:
    frame = EventFrame.from_columns({"item": ["x"], "time": [text], "state": ["planned"]})
    assert frame.time[0] // 1000 == to_epoch_ns(dt.datetime.fromisoformat(expected)) // 1000
    if "123456789" in text:
        assert frame.time[0] % 1000 == 789


def test_other_instant_forms_are_read_exactly() -> None:
    paris = pendulum.datetime(2024, 10, 27, 2, 30, tz="Europe/Paris", fold=0)
    stamp = pd.Timestamp("2024-01-01T00:00:00.000000001+00:00")
    frame = EventFrame.from_columns(
        {
            "item": ["a", "b", "c", "d"],
            "time": np.array([paris, stamp, 1_000, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)], object),
            "state": ["planned"] * 4,
        }
    )
    assert frame.time.tolist() == [
        to_epoch_ns(paris),
        to_epoch_ns(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) + 1,
        1_000,
        to_epoch_ns(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
    ]


def test_unusable_rows_are_listed_with_their_numbers_and_why() -> None:
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(
            {
                "item": ["a", None, "c", "d", "e", "f"],
                "time": [
                    "2024-03-31T09:00:00",  # naive
                    "2024-03-31T09:00:00Z",
                    "yesterday",
                    "2024-03-31T09:00:00+25:00",
                    "",
                    "2024-03-31T09:00:00Z",
                ],
                "state": ["planned", "planned", "planned", "paused", "blocked", "done"],
                "reason": [None, None, None, None, None, "site_access"],
            },
            reason="reason",
        )
    error = caught.value
    assert error.title == "6 of 6 rows cannot be used"
    assert paths(error) == [
        "rows[1].item",
        "rows[4].time",
        "rows[0].time",
        "rows[2].time",
        "rows[3].time",
        "rows[3].state",
        "rows[4].reason",
        "rows[5].reason",
    ]
    naive = error.errors[2]
    assert naive.value == "2024-03-31T09:00:00"
    assert "this one has no offset" in naive.expected
    assert error.errors[5].value == "paused"
    assert "a reason code for a blocked row" in error.errors[6].expected
    assert error.errors[7].expected == "no reason: the row is not blocked"


def test_a_long_list_of_bad_rows_is_capped_with_a_count() -> None:
    count = 10_000
    times = np.array(["2024-03-31T09:00:00"] * count)
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns({"item": ["x"] * count, "time": times, "state": ["done"] * count})
    error = caught.value
    assert [e.path for e in error.errors] == [
        "rows[0].time",
        "rows[1].time",
        "rows[2].time",
        "rows[3].time",
        "rows[4].time",
        "time in 9,995 more rows (the next is rows[5])",
    ]
    assert error.title == "10,000 of 10,000 rows cannot be used"


def test_naive_numpy_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(
            {
                "item": ["x"],
                "time": np.array(["2024-03-31T09:00"], dtype="datetime64[ns]"),
                "state": ["planned"],
            }
        )
    assert "numpy datetime64 has no zone" in str(caught.value)


def test_missing_columns_and_bad_options_are_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns({"item": ["x"]}, owner="who")
    assert paths(caught.value) == ["time", "state", "who"]
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(SIMPLE, attributes=["state"])
    assert "attribute names cannot be" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns({**SIMPLE, "item": ["a", "b"]})
    assert paths(caught.value) == ["columns"]
    status_map = StatusMap.from_data(
        {"columns": "status", "rules": [{"match": "x", "state": "done"}]}
    )
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(SIMPLE, status_map=status_map, state="state", reason="r")
    assert paths(caught.value) == ["state", "reason"]


def test_blocked_rows_take_their_reasons_default_owner_unless_given() -> None:
    frame = EventFrame.from_columns(
        {
            "item": ["a", "b", "c"],
            "time": [1, 2, 3],
            "state": ["blocked", "blocked", "in_progress"],
            "reason": ["site_access", "site_access", None],
            "owner": [None, "noc", None],
        },
        reason="reason",
        owner="owner",
    )
    assert [None if o < 0 else OWNERS[o] for o in frame.owner] == [
        Owner.CUSTOMER,
        Owner.NOC,
        None,
    ]
    assert frame.reason.tolist() == [DEFAULT_TAXONOMY.codes.index("site_access")] * 2 + [-1]


def test_codes_are_accepted_as_well_as_names() -> None:
    frame = EventFrame.from_columns(
        {"item": [7, 7], "time": [1, 2], "state": np.array([1, 2]), "reason": np.array([-1, 0])},
        reason="reason",
    )
    assert frame.items.tolist() == [7]
    assert frame.state.tolist() == [1, 2]
    assert frame.owner.tolist() == [-1, OWNERS.index(DEFAULT_TAXONOMY.reasons[0].owner)]
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns({"item": [1], "time": [1], "state": np.array([9])})
    assert paths(caught.value) == ["rows[0].state"]


def test_event_ids_must_be_present_and_unique() -> None:
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns({**SIMPLE, "id": ["e1", "e1", None]}, event_id="id")
    assert paths(caught.value) == ["rows[2].id", "rows[1].id"]


def test_a_status_map_reads_state_owner_and_reason_and_names_unmapped_rows() -> None:
    status_map = StatusMap.from_data(
        {
            "columns": ["status", "sub"],
            "rules": [
                {"match": {"status": "Wait", "sub": "Vendor"}, "state": "blocked",
                 "reason": "awaiting_provider"},
                {"match": {"status": "Open"}, "state": "in_progress"},
                {"match": {"status": "Closed"}, "state": "done"},
            ],
        }
    )  # fmt: skip
    columns = {
        "item": ["a", "a", "a"],
        "time": [1, 2, 3],
        "status": ["Open", "Wait", "Closed"],
        "sub": ["", "Vendor", None],
    }
    frame = EventFrame.from_columns(columns, status_map=status_map)
    assert frame.state.tolist() == [1, 2, 3]
    assert OWNERS[frame.owner[1]] is Owner.PROVIDER
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(
            {**columns, "status": ["Open", "Wait", "Odd"], "sub": ["x", "Customer", None]},
            status_map=status_map,
        )
    assert paths(caught.value) == ["rows[1].status | sub", "rows[2].status | sub"]
    assert caught.value.errors[0].value == "Wait | Customer"


def test_a_custom_taxonomy_comes_with_its_status_map() -> None:
    taxonomy = Taxonomy(
        [BlockedReason(code="waiting_on_legal", label="Legal", owner=Owner.CUSTOMER)]
    )
    status_map = StatusMap.from_data(
        {
            "columns": "s",
            "rules": [{"match": "L", "state": "blocked", "reason": "waiting_on_legal"}],
        },
        taxonomy=taxonomy,
    )
    frame = EventFrame.from_columns({"item": ["a"], "time": [1], "s": ["L"]}, status_map=status_map)
    assert frame.taxonomy is taxonomy
    assert frame.reason.tolist() == [0]
    with pytest.raises(ValidationError):
        EventFrame.from_columns(
            {"item": ["a"], "time": [1], "s": ["L"]},
            status_map=status_map,
            taxonomy=DEFAULT_TAXONOMY,
        )


def test_from_pandas_reads_aware_datetimes_and_categories_exactly() -> None:
    data = pd.DataFrame(
        {
            "case": pd.Categorical(["b", "a", "b"]),
            "at": pd.to_datetime(
                ["2024-01-01T00:00:00.000000007+01:00", "2024-01-01T00:00Z", "2024-01-02T00:00Z"],
                format="ISO8601",
                utc=True,
            ),
            "state": ["planned", "done", "done"],
            "team": pd.Categorical(["x", None, "y"]),
        }
    )
    frame = EventFrame.from_pandas(data, item="case", time="at", attributes=["team"])
    assert frame.items.tolist() == ["a", "b"]
    assert frame.time.tolist()[1] == to_epoch_ns(pendulum.datetime(2023, 12, 31, 23, tz="UTC")) + 7
    assert frame.attributes["team"].labels().tolist() == [None, "x", "y"]
    assert frame.item_attributes["team"].labels().tolist() == [None, "y"]
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_pandas(data, item="case", time="when")
    assert paths(caught.value) == ["when"]
    naive = data.assign(at=data["at"].dt.tz_localize(None))
    with pytest.raises(ValidationError):
        EventFrame.from_pandas(naive, item="case", time="at")


def test_from_records_reads_rows_such_as_a_csv_gives() -> None:
    rows = [
        {"id": "t1", "when": "2024-01-01T10:00:00+01:00", "state": "in_progress"},
        {"id": "t1", "when": "2024-01-02T10:00:00+01:00", "state": "done", "team": "n1"},
    ]
    frame = EventFrame.from_records(rows, item="id", time="when", attributes=["team"])
    assert frame.item_attributes["team"].labels().tolist() == ["n1"]
    assert cycle_time(frame).duration.tolist() == [86_400 * 10**9]


def test_item_attributes_are_the_last_value_recorded() -> None:
    frame = EventFrame.from_columns(
        {
            "item": ["a", "a", "a", "b"],
            "time": [1, 2, 3, 1],
            "state": ["planned"] * 4,
            "team": ["x", "y", None, None],
        },
        attributes=["team"],
    )
    assert frame.item_attributes["team"].labels().tolist() == ["y", None]
    assert frame.as_of(1).item_attributes["team"].labels().tolist() == ["x", None]


def test_as_of_select_and_evidence() -> None:
    frame = EventFrame.from_columns({**SIMPLE, "id": ["e1", "e2", "e3"]}, event_id="id")
    assert frame.evidence("a").tolist() == ["e1", "e2"]
    assert frame.select(["b"]).items.tolist() == ["b"]
    assert frame.select(["b"]).event_id.tolist() == ["e3"]  # type: ignore[union-attr]
    early = frame.as_of(to_epoch_ns(pendulum.datetime(2024, 3, 30, 12, tz="UTC")))
    assert early.items.tolist() == ["b"]
    with pytest.raises(ValidationError) as caught:
        frame.select(["zz"])
    assert paths(caught.value) == ["item_ids[0]"]
    assert EventFrame.from_columns(SIMPLE).evidence("a").tolist() == [0, 1]


def test_the_constructor_checks_what_it_is_given() -> None:
    with pytest.raises(ValidationError) as caught:
        EventFrame(
            items=np.array(["a"], dtype=object),
            item=[0, 0],
            time=[5, 1],
            state=[0, 7],
            owner=[-1, -1],
            reason=[-1, -1],
            position=[0, 1],
        )
    assert paths(caught.value) == ["state", "item, time"]


def test_a_frame_shows_itself() -> None:
    frame = EventFrame.from_columns(SIMPLE)
    text = repr(frame)
    assert text.splitlines()[0] == (
        "EventFrame: 3 events, 2 items, 2024-03-30T10:00:00Z to 2024-03-31T01:30:00Z; "
        "attributes: none"
    )
    assert "in_progress" in text
    assert "<table>" in frame._repr_html_()
    table = frame.to_pandas()
    assert str(table["time"].dtype) == "datetime64[ns, UTC]"
    assert table["state"].tolist() == ["in_progress", "done", "planned"]


def test_categorical_checks_its_codes() -> None:
    with pytest.raises(ValidationError):
        Categorical(np.array([0, 2]), np.array(["a", "b"], dtype=object))
    column = Categorical.from_values(["b", None, "a", float("nan"), "b"])
    assert column.codes.tolist() == [1, -1, 0, -1, 1]
    assert column.labels().tolist() == ["b", None, "a", None, "b"]


def test_the_core_works_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pandas(name: str, *args: object, **kwargs: object) -> object:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("no pandas here")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    for name in [n for n in sys.modules if n == "pandas" or n.startswith("pandas.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    frame = EventFrame.from_columns({**SIMPLE, "team": ["x", "x", "y"]}, attributes=["team"])
    summary = summarize(cycle_time(frame), by=["team"], percentiles=[85])
    assert summary.count.tolist() == [1]
    assert "cycle time" in repr(summary).lower()
    with pytest.raises(OptionalDependencyError) as caught:
        summary.to_pandas()
    assert caught.value.package == "pandas"


@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=20))
def test_categorical_round_trips_its_values(values: list[str]) -> None:
    assert Categorical.from_values(values).labels().tolist() == values


def test_any_codes_and_categories_are_taken_as_a_categorical() -> None:
    class Coded(NamedTuple):
        codes: np.ndarray
        categories: np.ndarray

    frame = EventFrame.from_columns(
        {
            "item": pd.Categorical(["b", "a", "b"]),
            "time": [3, 1, 2],
            "state": Coded(
                np.array([0, 1, 3]), np.array(["planned", "in_progress", "blocked", "done"])
            ),
            "team": Coded(np.array([-1, 0, 1]), np.array(["x", "y"], dtype=object)),
        },
        attributes=["team"],
    )
    assert frame.items.tolist() == ["a", "b"]
    assert frame.state.tolist() == [1, 3, 0]
    assert frame.attributes["team"].labels().tolist() == ["x", "y", None]

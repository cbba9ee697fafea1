"""Behaviour shared by every log beyond the contract: options, upcasting, projection, views."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import attrs
import numpy as np
import pendulum
import pytest

from servicedelivery.errors import (
    SourceError,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog import (
    DEFAULT_REGISTRY,
    NO_TARGET,
    CatchUpProjector,
    Event,
    EventType,
    FileCheckpoint,
    InMemoryCheckpoint,
    InMemoryEventLog,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    NewEvent,
    RecordedEvent,
    SQLiteEventLog,
)
from servicedelivery.eventlog._columns import columns_from_raw
from servicedelivery.model import MilestoneState, Owner
from servicedelivery.model._validation import checked, slug
from servicedelivery.testing import ManualClock

T0 = pendulum.datetime(2024, 3, 4, 9, tz="Europe/Paris")


def new(event: Event, minutes: int = 0) -> NewEvent:
    return NewEvent(event, occurred_at=T0.add(minutes=minutes))


@attrs.frozen(kw_only=True)
class Surveyed(Event):
    """A host's own event type (version 2 renamed ``by`` to ``surveyor`` and added ``score``)."""

    stream_kind: ClassVar[str] = "site"

    surveyor: str = checked(slug)
    score: int = 0


@attrs.frozen(kw_only=True)
class SurveyedV1(Event):
    stream_kind: ClassVar[str] = "site"

    by: str = checked(slug)


def test_old_records_are_upcast_when_read(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    old = DEFAULT_REGISTRY.extended(EventType("site.surveyed", SurveyedV1))
    with SQLiteEventLog(path, registry=old, clock=ManualClock()) as log:
        log.append("site:S-1", [new(SurveyedV1(by="ann"))])
    upcasters = {1: lambda data: {"surveyor": data["by"], "score": 0}}
    current = DEFAULT_REGISTRY.extended(
        EventType("site.surveyed", Surveyed, version=2, upcasters=upcasters)
    )
    with SQLiteEventLog(path, registry=current, clock=ManualClock()) as log:
        log.append("site:S-1", [new(Surveyed(surveyor="bob", score=3), 1)])
        first, second = log.read_stream("site:S-1")
        assert (first.schema_version, first.event) == (1, Surveyed(surveyor="ann"))
        assert (second.schema_version, second.event) == (2, Surveyed(surveyor="bob", score=3))
        assert log.verify().records == 2
        assert log.read_columns().kinds[log.read_columns().kind[0]] == "site.surveyed"
    with SQLiteEventLog(path, clock=ManualClock()) as log:  # the default registry lacks the type
        with pytest.raises(UnknownEventTypeError):
            log.read_all()
        with pytest.raises(UnknownEventTypeError):
            log.read_columns()


def test_log_options_are_checked_all_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        InMemoryEventLog(lifecycle="default", taxonomy=None, registry={}, clock=3)  # type: ignore[arg-type]
    assert [e.path for e in caught.value.errors] == ["lifecycle", "taxonomy", "registry", "clock"]


def filled() -> InMemoryEventLog:
    log = InMemoryEventLog(clock=ManualClock())
    for item in range(5):
        plan = MilestonePlanned(
            order_id=f"O-{item % 2}",
            step="installation",
            sequence=item,
            target_at=T0.add(days=item),
            attributes={"provider": f"p{item % 3}"},
        )
        log.append(f"milestone:M-{item}", [new(plan, item), new(MilestoneStarted(), 10 + item)])
    blocked = MilestoneBlocked(reason="hardware_delivery", owner=Owner.PROVIDER)
    log.append("milestone:M-3", [new(blocked, 30)])
    return log


def test_the_projector_catches_up_in_batches_and_resumes(tmp_path: Path) -> None:
    log = filled()
    seen: list[list[int]] = []

    def handle(records: list[RecordedEvent]) -> None:
        seen.append([record.position for record in records])

    checkpoint = FileCheckpoint(tmp_path / "checkpoint")
    projector = CatchUpProjector(log, handle, checkpoint=checkpoint, batch_size=4)
    assert (projector.position, projector.lag()) == (0, 11)
    assert projector.run(until=6) == 6
    assert seen == [[1, 2, 3, 4], [5, 6]]
    # Another projector with the same checkpoint (another process, say) goes on from there.
    again = CatchUpProjector(log, handle, checkpoint=FileCheckpoint(tmp_path / "checkpoint"))
    assert again.run() == 5
    assert seen[-1] == [7, 8, 9, 10, 11]
    assert again.run() == 0
    assert again.lag() == 0
    assert checkpoint.load() == 11


def test_a_failing_handler_does_not_advance_the_checkpoint() -> None:
    log = filled()
    calls: list[int] = []

    def handle(records: list[RecordedEvent]) -> None:
        calls.append(records[0].position)
        if records[0].position == 4:
            raise RuntimeError("read model unavailable")

    checkpoint = InMemoryCheckpoint()
    projector = CatchUpProjector(log, handle, checkpoint=checkpoint, batch_size=3)
    with pytest.raises(RuntimeError):
        projector.run()
    assert checkpoint.position == 3
    assert calls == [1, 4]


def test_projector_options_and_checkpoint_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        CatchUpProjector("log", None, checkpoint=3, batch_size=0)  # type: ignore[arg-type]
    assert [e.path for e in caught.value.errors] == ["log", "handle", "checkpoint", "batch_size"]
    garbage = tmp_path / "checkpoint"
    garbage.write_text("twelve")
    with pytest.raises(SourceError):
        FileCheckpoint(garbage).load()
    FileCheckpoint(garbage).save(12)
    assert garbage.read_text() == "12\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_columns_convert_to_pandas_and_select() -> None:
    columns = filled().read_columns()
    frame = columns.to_pandas()
    assert len(frame) == len(columns) == 11
    assert frame["kind"].iloc[0] == "milestone.planned"
    assert frame["trigger"].iloc[1] == "start"
    assert frame["owner"].iloc[10] == "provider"
    assert frame["provider"].iloc[0] == "p0"
    assert frame["target_at"].isna().sum() == 6
    assert frame["sequence"].isna().sum() == 6
    planned = columns.take(columns.kind == columns.kind_code("milestone.planned"))
    assert len(planned) == 5
    assert (planned.target_ns != NO_TARGET).all()
    assert planned.attributes["provider"][1].tolist() == ["p0", "p1", "p2"]
    with pytest.raises(UnknownEventTypeError):
        columns.kind_code("milestone.exploded")
    assert repr(columns) == "<EventColumns: 11 records, 5 streams, positions 1..11>"


def test_the_portfolio_view_gives_milestones_and_frames() -> None:
    view = filled().portfolio()
    assert len(view) == 5
    assert view.select(MilestoneState.BLOCKED).tolist() == [False, False, False, True, False]
    blocked = view.milestone("M-3")
    assert (blocked.owner, blocked.reason, blocked.sequence) == (
        Owner.PROVIDER,
        "hardware_delivery",
        3,
    )
    assert [m.id for m in view.milestones(["M-0", "M-4"])] == ["M-0", "M-4"]
    with pytest.raises(ValidationError):
        view.milestone("M-9")
    frame = view.to_pandas()
    assert frame.set_index("item").loc["M-3", "reason"] == "hardware_delivery"
    assert frame["provider"].tolist() == ["p0", "p1", "p2", "p0", "p1"]
    assert "in_progress 4" in repr(view)
    assert "blocked 1" in repr(view)


def test_columns_from_a_later_position_keep_only_what_they_use() -> None:
    columns = filled().read_columns(from_position=10)
    assert columns.position.tolist() == [10, 11]
    assert columns.streams.tolist() == ["milestone:M-3", "milestone:M-4"]
    # Attribute keys are those of the planned records read; order_id and step are always there.
    assert sorted(columns.attributes) == ["order_id", "step"]
    assert np.all(columns.attributes["order_id"][0] == -1)


def test_replay_refuses_columns_of_another_taxonomy() -> None:
    from servicedelivery.eventlog import replay
    from servicedelivery.model import DEFAULT_TAXONOMY, BlockedReason

    other = DEFAULT_TAXONOMY.extended(
        BlockedReason(code="landlord", label="Landlord", owner=Owner.CUSTOMER)
    )
    columns = filled().read_columns()
    with pytest.raises(ValidationError) as caught:
        replay(columns, taxonomy=other)
    assert [e.path for e in caught.value.errors] == ["columns.reasons"]


def test_the_default_columns_agree_with_each_backends_own(tmp_path: Path) -> None:
    from servicedelivery.eventlog import EventLog
    from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail

    batches = synthetic_trail(synthetic_portfolio(orders=25, seed=4), seed=4)
    for log in (InMemoryEventLog(), SQLiteEventLog(tmp_path / "t.db", synchronous="normal")):
        for stream_id, events in batches:
            log.append(stream_id, events)
        for start in (0, 1, 37, log.head(), log.head() + 1):
            fast = log.read_columns(from_position=start)
            default = EventLog._select_columns(log, start)
            slow = columns_from_raw(
                default,
                kinds=log.registry.names,
                triggers=log.lifecycle.trigger_names,
                reasons=log.taxonomy.codes,
            )
            for name, array in fast.arrays().items():
                assert np.array_equal(array, getattr(slow, name)), (start, name)
            assert np.array_equal(fast.streams, slow.streams)
            assert fast.attributes.keys() == slow.attributes.keys()
            for key, (codes, categories) in fast.attributes.items():
                assert np.array_equal(codes, slow.attributes[key][0]), key
                assert np.array_equal(categories, slow.attributes[key][1]), key
        log.close()


def test_without_pandas_the_frames_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from servicedelivery.errors import OptionalDependencyError

    log = filled()
    columns, view = log.read_columns(), log.portfolio()
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    for convert in (columns.to_pandas, view.to_pandas):
        with pytest.raises(OptionalDependencyError) as caught:
            convert()
        assert (caught.value.package, caught.value.extra) == ("pandas", "pandas")
    assert len(log.portfolio()) == 5  # the core works without it


def test_ids_and_attributes_ending_in_nul_characters_survive_columns_and_replay(
    tmp_path: Path,
) -> None:
    from servicedelivery.eventlog import EventLog

    plan = MilestonePlanned(order_id="O\x00", step="survey", attributes={"site": "S\x00"})
    for log in (InMemoryEventLog(), SQLiteEventLog(tmp_path / "nul.db")):
        log.append("milestone:M\x00", [new(plan)])
        raw = EventLog._select_columns(log, 0)
        for columns in (
            log.read_columns(),
            columns_from_raw(
                raw, kinds=log.registry.names, triggers=log.lifecycle.trigger_names, reasons=()
            ),
        ):
            assert columns.streams.tolist() == ["milestone:M\x00"]
            assert columns.attributes["site"][1].tolist() == ["S\x00"]
            assert columns.attributes["order_id"][1].tolist() == ["O\x00"]
        view = log.portfolio()
        assert view.items.tolist() == ["M\x00"]
        assert view.milestone("M\x00").order_id == "O\x00"
        log.close()

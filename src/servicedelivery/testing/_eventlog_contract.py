"""The contract every event log backend must honour, as a pytest suite a host subclasses.

Write a backend, then in your tests::

    class TestMyLog(EventLogContract):
        def make_log(self, **options):
            return MyEventLog(connection_string, **options)   # a new, empty log each call

pytest then runs every test below against it: what is recorded, what is refused (and that a refused
append leaves the log exactly as it was), idempotent retries, concurrency checks, reads, columns,
replay, the hash chain, and a Hypothesis state machine that drives appends, retries, conflicting
writers and reads against a simple model of a log.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    run_state_machine_as_test,
)

from servicedelivery.errors import (
    ConcurrencyError,
    EventIdConflictError,
    EventLogError,
    InvalidTransition,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog import (
    NO_TARGET,
    EscalationRaised,
    Event,
    EventLog,
    ExpectedVersion,
    MilestoneCompleted,
    MilestoneStarted,
    MilestoneUnblocked,
    NewEvent,
    OrderCancelled,
    OrderPlaced,
    replay,
)
from servicedelivery.model import (
    OWNERS,
    MilestoneState,
    Owner,
    to_epoch_ns,
)
from servicedelivery.testing._clock import ManualClock
from servicedelivery.testing._eventlog_histories import (
    LogMachine,
    assert_columns_match_records,
    at,
    block,
    fold,
    history,
    log_snapshot,
    new,
    order,
    plan,
    random_history,
)

__all__ = ["EventLogContract", "check_event_log"]


class EventLogContract:
    """The behaviour every :class:`~servicedelivery.eventlog.EventLog` backend must have.

    Subclass it in a test module and implement :meth:`make_log`. The suite's tests are methods of
    this class, so pytest runs them for every subclass.
    """

    workdir: Path

    def make_log(self, **options: Any) -> EventLog:
        """A new, empty log built with ``options`` (lifecycle, taxonomy, registry, clock).

        Called many times per test (every Hypothesis example builds its own). ``self.workdir`` is
        a fresh temporary directory for the test, for backends that need files.
        """
        raise NotImplementedError("implement make_log() in the subclass")

    def setup_contract(self, workdir: Path) -> None:
        """Prepare a test: ``workdir`` is an empty directory the backend may use."""
        self.workdir = workdir
        self._made: list[EventLog] = []

    def teardown_contract(self) -> None:
        """Close every log the test made."""
        for log in self._made:
            log.close()

    @pytest.fixture(autouse=True)
    def _contract_workdir(self, tmp_path: Path) -> Iterator[None]:
        self.setup_contract(tmp_path)
        yield
        self.teardown_contract()

    def new_log(self, **options: Any) -> EventLog:
        """A log from :meth:`make_log`, with a manual clock unless one is given; closed after."""
        options.setdefault("clock", ManualClock())
        log = self.make_log(**options)
        self._made.append(log)
        return log

    def assert_refused(
        self,
        log: EventLog,
        error: type[BaseException],
        stream: str,
        events: list[NewEvent],
        **kw: Any,
    ) -> BaseException:
        """Append, expect ``error``, and check that nothing observable changed."""
        before = log_snapshot(log)
        with pytest.raises(error) as caught:
            log.append(stream, events, **kw)
        assert log_snapshot(log) == before
        return caught.value

    # -- An empty log ---------------------------------------------------------------------------

    def test_a_new_log_is_empty(self) -> None:
        log = self.new_log()
        assert log.head() == 0
        assert log.read_all() == []
        assert log.read_stream("milestone:M-1") == []
        assert log.stream_version("milestone:M-1") == 0
        assert len(log.read_columns()) == 0
        assert len(log.portfolio()) == 0
        verification = log.verify()
        assert (verification.records, verification.last_position) == (0, 0)

    # -- What an append records -----------------------------------------------------------------

    def test_an_append_records_the_envelope(self) -> None:
        clock = ManualClock(pendulum.datetime(2024, 5, 1, 12, tz="UTC"))
        log = self.new_log(clock=clock)
        correlation, causation = str(uuid.uuid4()), str(uuid.uuid4())
        planned = new(
            plan(target_at=at(600)),
            actor="ann",
            source="manual",
            correlation_id=correlation,
            causation_id=causation,
        )
        started = new(MilestoneStarted(note="on site"), 5)
        appended = log.append("milestone:M-1", [planned, started])
        assert appended.positions == range(1, 3)
        assert appended.versions == range(1, 3)
        assert appended.version == 2
        assert appended.retried is False
        assert appended.recorded_at == pendulum.datetime(2024, 5, 1, 12, tz="UTC")
        first, second = log.read_stream("milestone:M-1")
        assert first.event == planned.event
        assert first.type == "milestone.planned"
        assert first.schema_version == 1
        assert first.event_id == planned.event_id
        assert (first.position, first.version, first.stream_id) == (1, 1, "milestone:M-1")
        assert first.occurred_at == planned.occurred_at
        assert first.occurred_at.utcoffset() == dt.timedelta(hours=1)
        assert first.recorded_at == appended.recorded_at == second.recorded_at
        assert (first.actor, first.source) == ("ann", "manual")
        assert (first.correlation_id, first.causation_id) == (correlation, causation)
        assert (second.actor, second.source, second.correlation_id) == (None, None, None)
        assert second.event == MilestoneStarted(note="on site")
        assert len(first.hash) == 64
        assert first.hash != second.hash

    def test_positions_are_global_and_versions_per_stream(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan())])
        log.append("milestone:B", [new(plan())])
        log.append("milestone:A", [new(MilestoneStarted(), 1), new(block(), 2)])
        log.append("order:O-1", [new(OrderPlaced(order=order()))])
        records = log.read_all()
        assert [(r.position, r.stream_id, r.version) for r in records] == [
            (1, "milestone:A", 1),
            (2, "milestone:B", 1),
            (3, "milestone:A", 2),
            (4, "milestone:A", 3),
            (5, "order:O-1", 1),
        ]
        assert log.head() == 5
        assert log.stream_version("milestone:A") == 3
        assert [r.position for r in log.read_stream("milestone:A")] == [1, 3, 4]

    def test_reads_page_by_position_and_version(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan()), new(MilestoneStarted(), 1)])
        log.append("milestone:B", [new(plan())])
        log.append("milestone:A", [new(block(), 2), new(MilestoneUnblocked(), 3)])
        assert [r.position for r in log.read_all(from_position=3)] == [3, 4, 5]
        assert [r.position for r in log.read_all(from_position=0, limit=2)] == [1, 2]
        assert [r.position for r in log.read_all(from_position=2, limit=2)] == [2, 3]
        assert log.read_all(from_position=6) == []
        assert [r.version for r in log.read_stream("milestone:A", from_version=2)] == [2, 3, 4]
        assert [r.version for r in log.read_stream("milestone:A", from_version=3, limit=1)] == [3]
        for bad in ({"from_position": -1}, {"limit": -2}, {"from_position": True}):
            with pytest.raises(ValidationError):
                log.read_all(**bad)
        with pytest.raises(ValidationError):
            log.read_stream("milestone:A", from_version=0)
        with pytest.raises(ValidationError):
            log.read_stream("M-1")

    # -- Expected versions ----------------------------------------------------------------------

    def test_expected_versions(self) -> None:
        log = self.new_log()
        no_stream = ExpectedVersion.NO_STREAM
        assert log.append("milestone:A", [new(plan())], expected_version=no_stream).version == 1
        assert log.append("milestone:B", [new(plan())], expected_version=0).version == 1
        started = [new(MilestoneStarted(), 1)]
        assert log.append("milestone:A", started, expected_version=1).version == 2
        assert log.append("milestone:A", [new(block(), 2)]).version == 3
        error = self.assert_refused(
            log,
            ConcurrencyError,
            "milestone:A",
            [new(MilestoneUnblocked(), 3)],
            expected_version=2,
        )
        assert isinstance(error, ConcurrencyError)
        assert (error.stream_id, error.expected, error.actual) == ("milestone:A", 2, 3)
        error = self.assert_refused(
            log, ConcurrencyError, "milestone:A", [new(MilestoneUnblocked(), 3)],
            expected_version=no_stream,
        )  # fmt: skip
        assert isinstance(error, ConcurrencyError)
        assert error.actual == 3
        self.assert_refused(log, ConcurrencyError, "milestone:C", [new(plan())], expected_version=1)
        for bad in (-1, "latest", 1.0, True):
            self.assert_refused(
                log, ValidationError, "milestone:C", [new(plan())], expected_version=bad
            )

    def test_two_writers_of_one_version_conflict(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan()), new(MilestoneStarted(), 1)])
        seen = log.stream_version("milestone:A")
        log.append("milestone:A", [new(block(), 2)], expected_version=seen)
        self.assert_refused(
            log, ConcurrencyError, "milestone:A", [new(MilestoneCompleted(), 3)],
            expected_version=seen,
        )  # fmt: skip

    # -- Idempotence ----------------------------------------------------------------------------

    def test_a_retry_returns_the_original_positions(self) -> None:
        log = self.new_log()
        log.append("milestone:Z", [new(plan())])
        batch = [new(plan()), new(MilestoneStarted(), 1)]
        first = log.append("milestone:A", batch, expected_version=0)
        log.append("milestone:Z", [new(MilestoneStarted(), 1)])
        before = log_snapshot(log)
        again = log.append("milestone:A", batch, expected_version=0)
        assert log_snapshot(log) == before
        assert (again.positions, again.versions, again.recorded_at) == (
            first.positions,
            first.versions,
            first.recorded_at,
        )
        assert again.retried is True
        # Retrying the tail of a batch alone is a retry too.
        assert log.append("milestone:A", batch[1:]).positions == range(3, 4)

    def test_an_id_reused_for_other_content_is_refused(self) -> None:
        log = self.new_log()
        planned = new(plan())
        log.append("milestone:A", [planned])
        for changed in (
            NewEvent(plan(step="installation"), occurred_at=at(0), event_id=planned.event_id),
            NewEvent(plan(), occurred_at=at(1), event_id=planned.event_id),
        ):
            self.assert_refused(log, EventIdConflictError, "milestone:A", [changed])
        self.assert_refused(
            log, EventIdConflictError, "milestone:B",
            [NewEvent(plan(), occurred_at=at(0), event_id=planned.event_id)],
        )  # fmt: skip
        # A batch mixing a recorded event with new ones is not a retry.
        self.assert_refused(
            log, EventIdConflictError, "milestone:A", [planned, new(MilestoneStarted(), 1)]
        )
        # Nor is a batch that reorders recorded events.
        started = new(MilestoneStarted(), 1)
        blocked = new(block(), 2)
        log.append("milestone:A", [started, blocked])
        self.assert_refused(log, EventIdConflictError, "milestone:A", [blocked, started])

    def test_ids_repeated_within_a_batch_are_refused(self) -> None:
        log = self.new_log()
        planned = new(plan())
        twin = NewEvent(MilestoneStarted(), occurred_at=at(1), event_id=planned.event_id)
        error = self.assert_refused(log, ValidationError, "milestone:A", [planned, twin])
        assert isinstance(error, ValidationError)
        assert [e.path for e in error.errors] == ["events[1].event_id"]

    # -- What is refused, with nothing written --------------------------------------------------

    def test_illegal_transitions_are_refused(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan()), new(MilestoneStarted(), 1)])
        error = self.assert_refused(
            log, InvalidTransition, "milestone:A",
            [new(MilestoneCompleted(), 2), new(MilestoneStarted(), 3)],
        )  # fmt: skip
        assert isinstance(error, InvalidTransition)
        assert (error.item, error.state, error.trigger) == ("A", "done", "start")
        assert "events[1]" in " ".join(getattr(error, "__notes__", []))
        self.assert_refused(log, InvalidTransition, "milestone:A", [new(block(owner=Owner.NOC), 2)])
        error = self.assert_refused(
            log, ValidationError, "milestone:A", [new(block(reason="no_such_reason"), 2)]
        )
        assert isinstance(error, ValidationError)
        assert [e.path for e in error.errors] == ["events[0].event.reason"]
        log.append("milestone:A", [new(block(owner=Owner.NOC, override=True), 2)])
        assert log.portfolio().milestone("A").owner is Owner.NOC

    def test_events_must_fit_their_stream(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan())])
        log.append("order:O-1", [new(OrderPlaced(order=order()))])
        cases: list[tuple[str, list[NewEvent], list[str]]] = [
            ("milestone:B", [new(MilestoneStarted())], ["events[0].event"]),
            ("milestone:A", [new(plan(), 1)], ["events[0].event"]),
            ("order:O-1", [new(plan(), 1)], ["events[0].event"]),
            ("order:O-2", [new(OrderPlaced(order=order("O-3")))], ["events[0].event"]),
            ("order:O-9", [new(OrderCancelled())], ["events[0].event"]),
            ("milestone:A", [new(MilestoneStarted(), -5)], ["events[0].occurred_at"]),
            (
                "milestone:A",
                [new(MilestoneStarted(), 3), new(block(), 2)],
                ["events[1].occurred_at"],
            ),
            ("milestone:A", [], ["events"]),
            ("milestone:A", [MilestoneStarted()], ["events[0]"]),  # type: ignore[list-item]
        ]
        for stream, events, paths in cases:
            error = self.assert_refused(log, ValidationError, stream, events)
            assert isinstance(error, ValidationError)
            assert [e.path for e in error.errors] == paths, (stream, events)
        self.assert_refused(log, ValidationError, "M-1", [new(plan())])

    def test_unknown_event_types_are_refused(self) -> None:
        import attrs  # noqa: PLC0415

        @attrs.frozen(kw_only=True)
        class Audited(Event):
            stream_kind = "milestone"

        log = self.new_log()
        log.append("milestone:A", [new(plan())])
        error = self.assert_refused(log, UnknownEventTypeError, "milestone:A", [new(Audited(), 1)])
        assert isinstance(error, UnknownEventTypeError)
        assert [e.path for e in error.errors] == ["events[0].event"]

    def test_escalations_cite_recorded_events(self) -> None:
        log = self.new_log()
        planned = new(plan())
        log.append("milestone:A", [planned])
        escalation = _escalation(planned.event_id, str(uuid.uuid4()))
        error = self.assert_refused(
            log, ValidationError, "escalation:late:milestone:A", [new(escalation, 1)]
        )
        assert isinstance(error, ValidationError)
        assert [e.path for e in error.errors] == ["events[0].event.evidence[1]"]
        cited = _escalation(planned.event_id)
        assert log.append("escalation:late:milestone:A", [new(cited, 1)]).version == 1

    # -- Several streams in one transaction ------------------------------------------------------

    def test_append_many_records_every_batch_in_order(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan())])
        planned_b = new(plan())
        results = log.append_many(
            [
                ("milestone:B", [planned_b, new(MilestoneStarted(), 1)]),
                ("milestone:A", [new(MilestoneStarted(), 2)]),
                ("milestone:B", [new(block(), 3)]),  # a stream may come again
                ("order:O-1", [new(OrderPlaced(order=order()))]),
            ],
            expected_versions={"milestone:A": 1, "milestone:B": ExpectedVersion.NO_STREAM},
        )
        assert [(r.stream_id, r.positions, r.versions) for r in results] == [
            ("milestone:B", range(2, 4), range(1, 3)),
            ("milestone:A", range(4, 5), range(2, 3)),
            ("milestone:B", range(5, 6), range(3, 4)),
            ("order:O-1", range(6, 7), range(1, 2)),
        ]
        assert len({r.recorded_at for r in results}) == 1  # one transaction
        assert [r.stream_id for r in log.read_all()] == [
            "milestone:A",
            "milestone:B",
            "milestone:B",
            "milestone:A",
            "milestone:B",
            "order:O-1",
        ]
        assert log.portfolio().milestone("B").state == MilestoneState.BLOCKED
        assert log.verify().records == 6

    def test_append_many_writes_nothing_when_one_batch_is_refused(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan())])
        before = log_snapshot(log)
        good = ("milestone:B", [new(plan()), new(MilestoneStarted(), 1)])
        for bad, error, kw in (
            (("milestone:A", [new(MilestoneCompleted(), 1)]), InvalidTransition, {}),
            (
                ("milestone:A", [new(MilestoneStarted(), 1)]),
                ConcurrencyError,
                {"expected_versions": {"milestone:A": 0}},
            ),
            (("milestone:C", [new(MilestoneStarted(), 1)]), ValidationError, {}),
            (("milestone:C", [new(plan()), "not an event"]), ValidationError, {}),
        ):
            with pytest.raises(error) as caught:
                log.append_many([good, bad], **kw)  # type: ignore[list-item]
            assert log_snapshot(log) == before
            assert any("batches[1]" in note for note in caught.value.__notes__)

    def test_append_many_refuses_an_id_in_two_batches(self) -> None:
        log = self.new_log()
        planned = new(plan())
        before = log_snapshot(log)
        with pytest.raises(ValidationError) as caught:
            log.append_many([("milestone:A", [planned]), ("milestone:B", [planned])])
        assert [e.path for e in caught.value.errors] == ["batches[1].events[0].event_id"]
        assert log_snapshot(log) == before

    def test_append_many_retries_recorded_batches_and_records_new_ones(self) -> None:
        log = self.new_log()
        first = [("milestone:A", [new(plan()), new(MilestoneStarted(), 1)])]
        original = log.append_many(first)
        more = ("milestone:B", [new(plan(), 2)])
        results = log.append_many([*first, more])
        assert results[0].retried
        assert results[0].positions == original[0].positions
        assert not results[1].retried
        assert results[1].positions == range(3, 4)
        assert log.head() == 3

    def test_append_many_escalations_may_cite_an_earlier_batch(self) -> None:
        log = self.new_log()
        planned = new(plan())
        cited = _escalation(planned.event_id)
        results = log.append_many(
            [("milestone:A", [planned]), ("escalation:late:milestone:A", [new(cited, 1)])]
        )
        assert [r.positions for r in results] == [range(1, 2), range(2, 3)]

    def test_append_many_checks_its_arguments(self) -> None:
        log = self.new_log()
        for batches, kw in (
            ([], {}),
            ([("milestone:A",)], {}),
            ("milestone:A", {}),
            ([("milestone:A", [new(plan())])], {"expected_versions": {"milestone:Z": 0}}),
            ([("milestone:A", [new(plan())])], {"expected_versions": [("milestone:A", 0)]}),
        ):
            with pytest.raises(ValidationError):
                log.append_many(batches, **kw)  # type: ignore[arg-type]
        assert log.head() == 0

    def test_a_naive_clock_is_refused(self) -> None:
        log = self.new_log(clock=lambda: dt.datetime(2024, 1, 1))
        error = self.assert_refused(log, ValidationError, "milestone:A", [new(plan())])
        assert isinstance(error, ValidationError)
        assert error.errors[0].path == "clock()"

    def test_a_closed_log_refuses_everything(self) -> None:
        log = self.new_log()
        log.append("milestone:A", [new(plan())])
        log.close()
        log.close()
        for call in (log.head, log.read_all, log.verify, log.read_columns):
            with pytest.raises(EventLogError):
                call()
        with pytest.raises(EventLogError):
            log.append("milestone:A", [new(MilestoneStarted(), 1)])

    # -- Columns and replay ---------------------------------------------------------------------

    def test_columns_agree_with_the_records(self) -> None:
        log = self.new_log()
        history(log)
        assert_columns_match_records(log)
        records = log.read_all()
        later = log.read_columns(from_position=4)
        assert later.position.tolist() == [r.position for r in records[3:]]
        assert later.streams[later.stream].tolist() == [r.stream_id for r in records[3:]]

    def test_the_portfolio_follows_the_lifecycle(self) -> None:
        log = self.new_log()
        history(log)
        view = log.portfolio()
        assert view.items.tolist() == ["M-1", "M-2", "M-3"]
        survey = view.milestone("M-1")
        assert survey.state.value == "blocked"
        assert (survey.owner, survey.reason) == (Owner.PROVIDER, "provider_fault")
        assert survey.target_at == at(24 * 60)
        assert (survey.order_id, survey.step, survey.sequence) == ("O-1", "site_survey", 0)
        since = view.row("M-1")
        assert view.since_ns[since] == to_epoch_ns(at(30))
        assert view.milestone("M-2").state.value == "done"
        assert view.milestone("M-3").target_at is None
        before_block = log.portfolio(as_of=at(25))
        assert before_block.milestone("M-1").state.value == "in_progress"
        assert before_block.items.tolist() == ["M-1", "M-2"]
        assert len(log.portfolio(as_of=at(-1))) == 0
        with pytest.raises(ValidationError):
            log.portfolio(as_of=dt.datetime(2024, 1, 1))

    def test_replay_agrees_with_a_walk_through_the_records(self) -> None:
        # The property is defined inside the test: every backend's class runs its own.
        @given(data=st.data())
        @settings(deadline=None)
        def check(data: st.DataObject) -> None:
            log = self.new_log()
            for item in range(data.draw(st.integers(1, 5), label="milestones")):
                random_history(data, log, f"M-{item}", minutes=item)
            records = log.read_all()
            cut = data.draw(st.none() | st.integers(0, 400), label="as_of minutes")
            as_of_ns = None if cut is None else to_epoch_ns(at(cut))
            view = replay(log.read_columns(), as_of=as_of_ns)
            expected = fold(records, as_of_ns)
            assert view.items.tolist() == sorted(expected)
            for row, item in enumerate(view.items):
                want = expected[item]
                owner = None if view.owner[row] < 0 else OWNERS[view.owner[row]].value
                reason = None if view.reason[row] < 0 else view.reasons[view.reason[row]]
                target = None if view.target_ns[row] == NO_TARGET else int(view.target_ns[row])
                assert view.state_names[view.state[row]] == want["state"], item
                assert (owner, reason, target) == (want["owner"], want["reason"], want["target_ns"])
                assert view.since_ns[row] == want["since_ns"]
                assert view.since_position[row] == want["since_position"]
                assert view.last_position[row] == want["last_position"]
            assert view.violations.tolist() == []
            assert_columns_match_records(log)

        check()

    # -- Tamper evidence ------------------------------------------------------------------------

    def test_verify_walks_the_chain_and_honours_an_anchor(self) -> None:
        log = self.new_log()
        history(log)
        first = log.verify()
        assert (first.records, first.last_position) == (log.head(), log.head())
        assert first.last_hash == log.read_all()[-1].hash
        log.append("milestone:M-3", [new(MilestoneStarted(), 200)])
        second = log.verify(anchor=first)
        assert second.last_position == first.last_position + 1

    # -- The model ------------------------------------------------------------------------------

    def test_appends_retries_conflicts_and_reads_match_a_model(self) -> None:
        contract = self

        class Machine(LogMachine):
            def make(self) -> EventLog:
                return contract.new_log()

        run_state_machine_as_test(Machine, settings=settings(stateful_step_count=25, deadline=None))


def _escalation(*evidence: str) -> EscalationRaised:
    """An escalation of milestone A citing ``evidence``."""
    return EscalationRaised(
        policy="late", item="milestone:A", episode=1, target="customer", evidence=evidence
    )


def check_event_log(make_log: Callable[..., EventLog]) -> list[str]:
    """Run the whole contract suite against a backend, without pytest.

    Args:
        make_log: Builds a new, empty log from keyword options (lifecycle, taxonomy, registry,
            clock); called many times.

    Returns:
        The names of the tests, all of which passed.

    Raises:
        AssertionError: The first test that failed (its name is in the error's notes); any other
            error a test raised.
    """

    class Suite(EventLogContract):
        def make_log(self, **options: Any) -> EventLog:
            return make_log(**options)

    names = sorted(name for name in dir(EventLogContract) if name.startswith("test_"))
    for name in names:
        suite = Suite()
        with tempfile.TemporaryDirectory() as workdir:
            suite.setup_contract(Path(workdir))
            try:
                getattr(suite, name)()
            except BaseException as error:
                error.add_note(f"contract test {name} failed")
                raise
            finally:
                suite.teardown_contract()
    return names

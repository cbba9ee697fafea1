"""Evaluation of one item, for services that check a milestone when it changes.

This path is written separately from the bulk one, in plain Python over the item's few events, so
that a check costs microseconds instead of the fixed cost of numpy calls; the property tests hold
the two to identical results. It follows the definitions of :mod:`servicedelivery.policy._truth`
and :mod:`servicedelivery.policy._measures` step by step.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._options import OPEN_STATES, as_instant
from servicedelivery.model import DEFAULT_TAXONOMY, OWNERS, STATES, Taxonomy
from servicedelivery.policy._conditions import (
    AllOf,
    Condition,
    FieldTest,
    Measure,
    MeasureTest,
    Not,
    Op,
)
from servicedelivery.policy._context import BLOCKED, COMMITTED, LATEST, NONE, as_calendar_set
from servicedelivery.policy._durations import Clock, Duration, business_day_ns
from servicedelivery.policy._escalations import Escalations
from servicedelivery.policy._evaluate import _part_path, level_path
from servicedelivery.policy._explain import NodeFacts
from servicedelivery.policy._external import forecast_one, sla_one
from servicedelivery.policy._findings import (
    NO_DAY,
    FindingAction,
    Findings,
    distinct_evidence,
    explanation,
    level_index,
)
from servicedelivery.policy._measures import COMPLEMENT
from servicedelivery.policy._policy import Policy, Variant
from servicedelivery.policy._policyset import PolicySet, as_policy_set
from servicedelivery.policy._targets import Target

__all__ = ["ItemHistory", "evaluate_item"]

_STATE_NAMES = tuple(state.value for state in STATES)
_OWNER_NAMES = tuple(owner.value for owner in OWNERS)
_OPEN = tuple(bool(x) for x in OPEN_STATES)
_COMMITTED = tuple(bool(x) for x in COMMITTED)
# As Python ints: numpy scalars would make every comparison and sum of this path a numpy call.
_NONE = int(NONE)
_LATEST = int(LATEST)


@attrs.frozen
class ItemHistory:
    """One item's events, in time order (ties in the order they were recorded).

    Build one with :meth:`from_frame` (an item of a frame) or :meth:`from_events` (a service's
    own records).

    Attributes:
        item: The item's id.
        time: Each event's instant, ns since the epoch.
        state: Each event's state code (index into ``model.STATES``).
        owner: Each event's owner code (index into ``model.OWNERS``, ``-1`` unless blocked).
        reason: Each event's reason code (index into ``taxonomy.codes``, ``-1`` unless blocked).
        position: Each event's position (its log position, or row number).
        event_id: Each event's id, or ``None`` when there are none.
        attributes: Each attribute's value on each event (``None`` where not recorded).
        taxonomy: The taxonomy reason codes index.
        target: The item's target date (ns), or ``None``.
    """

    item: Any
    time: tuple[int, ...]
    state: tuple[int, ...]
    owner: tuple[int, ...]
    reason: tuple[int, ...]
    position: tuple[int, ...]
    event_id: tuple[Any, ...] | None = None
    attributes: Mapping[str, tuple[Any, ...]] = attrs.field(factory=dict)
    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    target: int | None = None

    def __attrs_post_init__(self) -> None:
        count = len(self.time)
        lengths = {
            "state": self.state,
            "owner": self.owner,
            "reason": self.reason,
            "position": self.position,
            **({"event_id": self.event_id} if self.event_id is not None else {}),
            **{f"attributes[{name!r}]": values for name, values in self.attributes.items()},
        }
        errors = [
            FieldError(name, f"{len(values)} events", f"{count} events, like time")
            for name, values in lengths.items()
            if len(values) != count
        ]
        if any(later < earlier for earlier, later in zip(self.time, self.time[1:], strict=False)):
            errors.append(FieldError("time", self.time, "instants in time order"))
        if errors:
            raise ValidationError(errors, title="invalid ItemHistory")

    @classmethod
    def from_frame(
        cls, frame: EventFrame, item_id: object, *, target: object = None
    ) -> ItemHistory:
        """The history of one item of a frame.

        Args:
            frame: The events.
            item_id: The item.
            target: Its target date (an aware datetime or ns), if any.

        Raises:
            ValidationError: The item is not in the frame.
        """
        code = int(frame.codes_of([item_id])[0])
        rows = slice(int(frame.offsets[code]), int(frame.offsets[code + 1]))
        return cls(
            item=frame.items[code].item()
            if isinstance(frame.items[code], np.generic)
            else frame.items[code],
            time=tuple(frame.time[rows].tolist()),
            state=tuple(frame.state[rows].tolist()),
            owner=tuple(frame.owner[rows].tolist()),
            reason=tuple(frame.reason[rows].tolist()),
            position=tuple(frame.position[rows].tolist()),
            event_id=None if frame.event_id is None else tuple(frame.event_id[rows].tolist()),
            attributes={
                name: tuple(column.labels()[rows].tolist())
                for name, column in frame.attributes.items()
            },
            taxonomy=frame.taxonomy,
            target=None if target is None else as_instant(target, path="target"),
        )

    @classmethod
    def from_events(
        cls,
        item: object,
        events: Iterable[Mapping[str, Any]],
        *,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        target: object = None,
    ) -> ItemHistory:
        """An item's history from a service's own records of its events.

        Each event is a mapping with ``time`` (an aware datetime or ns), ``state`` (a canonical
        state name), and for blocks ``reason`` and optionally ``owner`` (default: the reason's);
        optionally ``event_id``, ``position`` (default: the event's number) and ``attributes`` (a
        mapping of attribute values).

        Raises:
            ValidationError: Listing every bad field with its event number.
        """
        errors: list[FieldError] = []
        rows: list[tuple[int, int, int, int, int, Any]] = []
        attributes: dict[str, list[Any]] = {}
        listed = list(events)
        for index, event in enumerate(listed):
            where = f"events[{index}]"
            try:
                time = as_instant(event.get("time"), path=f"{where}.time")
            except ValidationError as error:
                errors.extend(error.errors)
                time = 0
            state = str(event.get("state"))
            if state not in _STATE_NAMES:
                errors.append(FieldError(f"{where}.state", event.get("state"), "a state name"))
                continue
            owner, reason = -1, -1
            if state == "blocked":
                found = taxonomy.get(str(event.get("reason")))
                if found is None:
                    errors.append(FieldError(f"{where}.reason", event.get("reason"),
                                             "a reason code of the taxonomy"))  # fmt: skip
                    continue
                reason = taxonomy.codes.index(found.code)
                named = event.get("owner") or found.owner.value
                if str(named) not in _OWNER_NAMES:
                    errors.append(FieldError(f"{where}.owner", named, "an owner"))
                    continue
                owner = _OWNER_NAMES.index(str(named))
            rows.append((time, _STATE_NAMES.index(state), owner, reason,
                         int(event.get("position", index)), event.get("event_id")))  # fmt: skip
            for name in dict(event.get("attributes") or {}):
                attributes.setdefault(name, [None] * index)
            for name, values in attributes.items():
                values.append((event.get("attributes") or {}).get(name))
        if errors:
            raise ValidationError(errors, title="invalid item events")
        order = sorted(range(len(rows)), key=lambda i: rows[i][0])
        ids = [rows[i][5] for i in order]
        return cls(
            item=item,
            time=tuple(rows[i][0] for i in order),
            state=tuple(rows[i][1] for i in order),
            owner=tuple(rows[i][2] for i in order),
            reason=tuple(rows[i][3] for i in order),
            position=tuple(rows[i][4] for i in order),
            event_id=None if all(i is None for i in ids) else tuple(ids),
            attributes={
                name: tuple(values[i] for i in order) for name, values in attributes.items()
            },
            taxonomy=taxonomy,
            target=None if target is None else as_instant(target, path="target"),
        )


# ----------------------------------------------------------------------------------- the item


class _Item:
    """One item as of ``now``: its events, episodes, calendar and what measures read."""

    def __init__(
        self,
        history: ItemHistory,
        now: int,
        calendars: CalendarSet | None,
        *,
        slas: object = None,
        forecast: object = None,
    ) -> None:
        self.history = history
        self.now = now
        self.slas = slas
        self.forecast = forecast
        self._worked: dict[tuple[int, int], int] = {}
        self._reached: dict[tuple[int, int, bool], int] = {}
        self.measures: dict[tuple[Any, ...], _Monotone] = {}
        self._attributes: dict[str, Any] = {}
        count = 0
        for time in history.time:
            if time > now:
                break
            count += 1
        self.count = count
        self.time = history.time[:count]
        self.state = history.state[:count]
        self.owner = history.owner[:count]
        self.reason = history.reason[:count]
        # Episodes: (first row, start), where state, owner or reason change.
        self.episodes: list[tuple[int, int]] = []
        previous: tuple[int, int, int] | None = None
        for row in range(count):
            key = (self.state[row], self.owner[row], self.reason[row])
            if key != previous:
                self.episodes.append((row, self.time[row]))
                previous = key
        if count:
            last_row = self.episodes[-1][0]
            self.current_state = self.state[last_row]
            self.is_open = _OPEN[self.current_state]
        self.calendar: BusinessCalendar | None = None
        self.day_ns: int | None = None
        if calendars is not None and count:
            self.calendar = calendars.calendar_for(
                site=self._label("site"), region=self._label("region")
            )
            self.day_ns = business_day_ns(self.calendar)

    def _label(self, name: str) -> str | None:
        """An attribute's last recorded value, as text."""
        values = self.history.attributes.get(name)
        if values is None:
            return None
        for value in reversed(values[: self.count]):
            if value is not None:
                return str(value)
        return None

    def attribute(self, name: str) -> Any:
        """An attribute's last recorded value (``None`` if never recorded)."""
        if name in self._attributes:
            return self._attributes[name]
        found = None
        for value in reversed(self.history.attributes.get(name, ())[: self.count]):
            if value is not None:
                found = value
                break
        self._attributes[name] = found
        return found

    def episode_state(self, index: int) -> int:
        return self.state[self.episodes[index][0]]

    def episode_end(self, index: int) -> int:
        return self.now if index == len(self.episodes) - 1 else self.episodes[index + 1][1]

    def evidence(self, row: int) -> Any:
        if row < 0:
            return None
        if self.history.event_id is not None:
            return self.history.event_id[row]
        return self.history.position[row]

    # --- clocks ----------------------------------------------------------------------------

    def _calendar(self, path: str) -> BusinessCalendar:
        if self.calendar is None:
            raise ValidationError.single(
                path, None, "business calendars (calendars=) to count working time in"
            )
        return self.calendar

    def amount(self, duration: Duration, path: str) -> int:
        if duration.in_business_days:
            self._calendar(path)
        return duration.one(self.day_ns)

    def elapsed(self, clock: Clock, start: int, end: int, path: str) -> int:
        if clock is Clock.CALENDAR:
            return max(end - start, 0)
        # Policies on one item often count working time over the same spans: asked once.
        key = (start, end)
        found = self._worked.get(key)
        if found is None:
            found = self._worked[key] = self._calendar(path).working_ns_one(start, end)
        return found

    def reach(self, clock: Clock, start: int, amount: int, strict: bool, path: str) -> int:
        if clock is Clock.CALENDAR:
            return start + max(amount, 0)
        if amount < 0:
            return start
        key = (start, amount, strict)
        found = self._reached.get(key)
        if found is None:
            calendar = self._calendar(path)
            due = calendar.add_working_one(start, amount)
            found = self._reached[key] = calendar.next_opening_one(due) if strict else due
        return found


# ------------------------------------------------------------------------------------ leaves


def _field(item: _Item, test: FieldTest, path: str) -> NodeFacts:
    name = test.field
    history = item.history
    if name == "state":
        labels: Sequence[Any] = [_STATE_NAMES[s] for s in item.state]
    elif name == "owner":
        labels = [_OWNER_NAMES[o] if o >= 0 else None for o in item.owner]
    elif name == "reason":
        unknown = [v for v in test.values if v not in history.taxonomy]
        if unknown:
            raise ValidationError.single(
                f"{path}.{test.op.value}" if path else test.op.value,
                unknown[0] if len(unknown) == 1 else unknown,
                f"reason codes of the frame's taxonomy ({', '.join(history.taxonomy.codes)})",
            )
        codes = history.taxonomy.codes
        labels = [codes[r] if r >= 0 else None for r in item.reason]
    elif name in history.attributes:
        labels = []
        last: Any = None
        for value in history.attributes[name][: item.count]:
            if value is not None:
                last = value
            labels.append(last)
    else:
        known = ", ".join(["state", "owner", "reason", *history.attributes])
        raise ValidationError.single(
            f"{path}.field" if path else "field", name, f"a field of the frame ({known})"
        )
    wanted = set(test.values)
    negate = test.op in (Op.NE, Op.NOT_IN)
    truths = [(label is not None and str(label) in wanted) != negate for label in labels]
    current = truths[-1]
    run = len(truths) - 1
    while run > 0 and truths[run - 1] == current:
        run -= 1
    return NodeFacts(current, item.time[run], labels[-1], None, item.evidence(run))


class _Monotone:
    """One item's measure: see :class:`servicedelivery.policy._measures.Monotone`."""

    def __init__(
        self,
        *,
        rising: bool,
        defined: bool,
        window: int,
        start: int,
        value: Any,
        anchor: int,
        onset: Any,
    ) -> None:
        self.rising = rising
        self.defined = defined
        self.window = window
        self.start = start
        self.value = value
        self.anchor = anchor
        self.onset = onset


def _growing(
    item: _Item, clock: Clock, *, defined: bool, window: int, start: int, anchor: int, path: str
) -> _Monotone:
    start = start if defined else _LATEST
    begin = min(start, item.now)
    value = item.elapsed(clock, begin, item.now, path) if defined else _NONE

    def onset(threshold: int, strict: bool) -> int:
        return item.reach(clock, begin, threshold, strict, path)

    return _Monotone(
        rising=True, defined=defined, window=window, start=start, value=value, anchor=anchor,
        onset=onset,
    )  # fmt: skip


def _measure(item: _Item, test: MeasureTest, clock: Clock, path: str) -> _Monotone:
    measure = test.measure.value
    first_time = item.time[0]
    current = len(item.episodes) - 1
    current_row, current_start = item.episodes[current]
    if measure == "age":
        commit = next(
            (i for i in range(len(item.episodes)) if _COMMITTED[item.episode_state(i)]), -1
        )
        row, start = item.episodes[max(commit, 0)]
        return _growing(item, clock, defined=commit >= 0, window=first_time, start=start,
                        anchor=row if commit >= 0 else -1, path=path)  # fmt: skip
    if measure == "time_in_state":
        return _growing(item, clock, defined=True, window=current_start, start=current_start,
                        anchor=current_row, path=path)  # fmt: skip
    if measure == "blocked_for":
        blocked = item.current_state == BLOCKED
        return _growing(item, clock, defined=blocked, window=current_start, start=current_start,
                        anchor=current_row if blocked else -1, path=path)  # fmt: skip
    if measure == "blocked_total":
        return _blocked_total(item, clock, path)
    if measure == "time_to_target":
        return _time_to_target(item, clock, path)
    if test.measure.needs_sla:
        return _sla(item, test, path)
    return _target_miss(item, path)


def _episode_at(item: _Item, instant: int) -> int:
    """The index of the episode in force at ``instant`` (the first one, before it began)."""
    chosen = 0
    for index, (_, start) in enumerate(item.episodes):
        if start <= instant:
            chosen = index
    return chosen


def _sla(item: _Item, test: MeasureTest, path: str) -> _Monotone:
    fields = sla_one(item.slas, test, item.history.item, path)
    started = bool(fields["started"])
    elapsed = int(fields["elapsed_ns"])
    target = elapsed + int(fields["remaining_ns"])
    end = int(fields["stop_ns"]) if fields["stopped"] else item.now
    start = int(fields["start_ns"]) if started else _LATEST
    first_time = item.time[0]
    anchor = item.episodes[_episode_at(item, max(start, first_time))][0] if started else -1
    if test.measure is Measure.SLA_FRACTION_USED:
        value: Any = float(fields["fraction_used"]) if started else float("nan")

        def onset(threshold: Any, strict: bool) -> int:
            amount = int(np.rint(np.float64(threshold) * target))
            return end - (elapsed - amount)

        return _Monotone(rising=True, defined=started, window=first_time, start=start,
                         value=value, anchor=anchor, onset=onset)  # fmt: skip
    value = int(fields["remaining_ns"]) if started else _NONE

    def onset_remaining(threshold: Any, strict: bool) -> int:
        return int(end - (elapsed - (target - threshold)))

    return _Monotone(rising=False, defined=started, window=first_time, start=start, value=value,
                     anchor=anchor, onset=onset_remaining)  # fmt: skip


def _target_miss(item: _Item, path: str) -> _Monotone:
    probability = forecast_one(item.forecast, item.history.item, path)
    defined = not np.isnan(probability)
    row, start = item.episodes[-1]

    def onset(threshold: Any, strict: bool) -> int:
        return start

    return _Monotone(rising=True, defined=defined, window=start, start=start, value=probability,
                     anchor=row if defined else -1, onset=onset)  # fmt: skip


def _blocked_total(item: _Item, clock: Clock, path: str) -> _Monotone:
    first_time = item.time[0]
    blocks: list[tuple[int, int, int]] = []  # (start, duration, total after)
    total = 0
    latest_row = -1
    for index, (row, start) in enumerate(item.episodes):
        if item.episode_state(index) != BLOCKED:
            continue
        duration = item.elapsed(clock, start, item.episode_end(index), path)
        total += duration
        blocks.append((start, duration, total))
        latest_row = row

    def onset(threshold: int, strict: bool) -> int:
        if threshold < 0 or (threshold == 0 and not strict):
            return first_time
        for start, duration, after in blocks:
            if (after > threshold) if strict else (after >= threshold):
                return item.reach(clock, start, threshold - (after - duration), strict, path)
        return _LATEST

    return _Monotone(rising=True, defined=True, window=first_time, start=first_time, value=total,
                     anchor=latest_row, onset=onset)  # fmt: skip


def _time_to_target(item: _Item, clock: Clock, path: str) -> _Monotone:
    target = item.history.target
    defined = target is not None
    goal = target if target is not None else item.now
    first_time = item.time[0]
    now = item.now
    if not defined:
        value: int = _NONE
    elif clock is Clock.CALENDAR:
        value = goal - now
    else:
        value = item.elapsed(clock, now, goal, path) - item.elapsed(clock, goal, now, path)

    def onset(threshold: int, strict: bool) -> int:
        if clock is Clock.CALENDAR:
            return goal - threshold
        if threshold > 0 or (threshold == 0 and not strict):
            before = item.elapsed(clock, first_time, goal, path) - threshold
            return item.reach(clock, first_time, before, strict, path)
        return item.reach(clock, goal, -threshold, strict, path)

    return _Monotone(rising=False, defined=defined, window=first_time, start=first_time,
                     value=value, anchor=-1, onset=onset)  # fmt: skip


_COMPARE = {Op.LT: operator.lt, Op.LE: operator.le, Op.GT: operator.gt, Op.GE: operator.ge}


def _measure_leaf(item: _Item, test: MeasureTest, path: str) -> NodeFacts:
    threshold_path = f"{path}.{test.op.value}" if path else test.op.value
    threshold: Any
    if isinstance(test.threshold, Duration):
        clock = test.threshold.clock
        threshold = item.amount(test.threshold, threshold_path)
    else:
        clock = Clock.CALENDAR
        threshold = float(test.threshold)
    key = (test.measure, clock, test.sla)
    base = item.measures.get(key)
    if base is None:  # each measure once per item, as the bulk path computes it once per frame
        base = item.measures[key] = _measure(item, test, clock, threshold_path)
    holds = bool(base.defined and _COMPARE[test.op](base.value, threshold))
    if (test.op in (Op.GT, Op.GE)) == base.rising:
        strict = test.op in (Op.GT, Op.LT)
        since = max(base.start, base.onset(threshold, strict)) if holds else base.window
    else:
        complement = COMPLEMENT[test.op]
        if holds:
            since = base.start
        else:
            onset = base.onset(threshold, complement in (Op.GT, Op.LT))
            since = onset if base.defined and onset > base.start else base.window
    return NodeFacts(holds, since, base.value, threshold, item.evidence(base.anchor))


def _condition(item: _Item, condition: Condition, path: str, out: list[NodeFacts]) -> NodeFacts:
    if isinstance(condition, FieldTest):
        facts = _field(item, condition, path)
        out.append(facts)
        return facts
    if isinstance(condition, MeasureTest):
        facts = _measure_leaf(item, condition, path)
        out.append(facts)
        return facts
    slot = len(out)
    out.append(NodeFacts(False, 0))
    if isinstance(condition, Not):
        child = _condition(item, condition.condition, _join(path, "not"), out)
        node = NodeFacts(not child.holds, child.since)
    else:
        every = isinstance(condition, AllOf)
        children = [
            _condition(item, c, _join(path, f"{condition.combinator}[{i}]"), out)
            for i, c in enumerate(condition.conditions)
        ]
        latest = max(c.since for c in children)
        if every:
            holds = all(c.holds for c in children)
            since = latest if holds else min(c.since for c in children if not c.holds)
        else:
            holds = any(c.holds for c in children)
            since = min(c.since for c in children if c.holds) if holds else latest
        node = NodeFacts(holds, since)
    out[slot] = node
    return node


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


# ------------------------------------------------------------------------------- the policies


def _matches(item: _Item, scope: Any) -> bool:
    if scope is None:
        return True
    for name in scope.attributes:
        value = item.attribute(name)
        if value is None or str(value) not in scope.values(name):
            return False
    return True


def _check_scope(history: ItemHistory, scope: Any, path: str) -> None:
    if scope is None:
        return
    for name in scope.attributes:
        if name not in history.attributes:
            known = ", ".join(history.attributes) or "none"
            raise ValidationError.single(
                f"{path}.{name}", name, f"an attribute of the frame (it has {known})"
            )


def _render(item: _Item, target: Target, path: str) -> str:
    values: dict[str, str] = {}
    current_row = item.episodes[-1][0]
    for name in target.fields:
        value: Any
        if name == "state":
            value = _STATE_NAMES[item.state[current_row]]
        elif name == "owner":
            code = item.owner[current_row]
            value = _OWNER_NAMES[code] if code >= 0 else None
        elif name == "reason":
            code = item.reason[current_row]
            value = item.history.taxonomy.codes[code] if code >= 0 else None
        elif name in item.history.attributes:
            value = item.attribute(name)
        else:
            known = ", ".join(["state", "owner", "reason", *item.history.attributes])
            raise ValidationError.single(path, name, f"placeholders naming fields ({known})")
        values[name] = "none" if value is None else str(value)
    return target.render(values)


_Record = tuple[str, int, int, bool, int]
"""One escalation event of the item: (policy, episode, level, cleared, at)."""


def _records(escalations: Escalations, item: object) -> list[_Record]:
    """The item's escalation events, in record order (one scan of the escalations)."""
    if not len(escalations):
        return []
    rows = np.flatnonzero(escalations.item == str(item))
    return list(
        zip(
            escalations.policy[rows].tolist(),
            escalations.episode[rows].tolist(),
            escalations.level[rows].tolist(),
            escalations.cleared[rows].tolist(),
            escalations.at[rows].tolist(),
            strict=True,
        )
    )


_QUIET: Mapping[str, Any] = MappingProxyType(
    {"open": False, "episode": _NONE, "level": 0, "notified": _NONE, "used": frozenset()}
)
"""The state of a policy with no escalation recorded for the item."""


def _state(records: list[_Record], policy: str) -> Mapping[str, Any]:
    """One policy's escalation state for the item, from its events in record order."""
    if not records:
        return _QUIET
    mine = [record for record in records if record[0] == policy]
    used = {record[1] for record in mine}
    raised = [record for record in mine if not record[3]]
    if not raised:
        return {"open": False, "episode": _NONE, "level": 0, "notified": _NONE, "used": used}
    episode = raised[-1][1]
    current = [record for record in mine if record[1] == episode]
    if any(record[3] for record in current):
        return {"open": False, "episode": _NONE, "level": 0, "notified": _NONE, "used": used}
    ups = [record for record in current if not record[3]]
    return {
        "open": True,
        "episode": episode,
        "level": max(record[2] for record in ups),
        "notified": max(record[4] for record in ups),
        "used": used,
    }


def _held(item: _Item, duration: Duration | None, since: int, path: str) -> bool:
    if duration is None:
        return True
    return item.elapsed(duration.clock, since, item.now, path) >= item.amount(duration, path)


def _reached(
    item: _Item, variant: Variant, paths: _Paths, holds: bool, since: int
) -> tuple[int, dict[int, list[NodeFacts]]]:
    """The highest level whose condition, hold and delay are met, and the levels' own facts."""
    reached = 0
    level_facts: dict[int, list[NodeFacts]] = {}
    for index, step in enumerate(variant.levels):
        level_holds, level_since = holds, since
        if step.when is not None:
            found: list[NodeFacts] = []
            top = _condition(item, step.when, f"{paths.levels[index]}.when", found)
            level_facts[index] = found
            level_holds = holds and top.holds
            level_since = max(since, top.since)
        if (
            level_holds
            and _held(item, variant.hold, level_since, paths.hold)
            and _held(item, step.after, level_since, f"{paths.levels[index]}.after")
        ):
            reached = index + 1
    return reached, level_facts


def _variant_finding(
    item: _Item, variant: Variant, paths: _Paths, state: Mapping[str, Any]
) -> tuple[FindingAction, int, str, bool, int, int, _OnePart] | None:
    when_facts: list[NodeFacts] = []
    condition = _condition(item, variant.when, paths.when, when_facts)
    if item.is_open:
        holds, since = condition.holds, condition.since
    else:
        closed = _closed_since(item)
        holds = False
        since = closed if condition.holds else min(condition.since, closed)
    reached, level_facts = _reached(item, variant, paths, holds, since)
    candidate = (
        item.history.position[item.episodes[_episode_at(item, since)][0]] if holds else _NONE
    )
    is_open = state["open"]
    fresh = holds and not is_open
    used = fresh and candidate in state["used"]
    action: FindingAction | None = None
    level = state["level"]
    key = state["episode"]
    if fresh and not used:
        if reached > 0:
            action, level, key = FindingAction.RAISE, reached, candidate
        else:
            action, level, key = FindingAction.PENDING, 1, candidate
    elif holds and is_open and reached > state["level"]:
        action, level = FindingAction.RAISE, reached
    elif is_open:
        action = FindingAction.ACTIVE
        if holds and variant.repeat is not None:
            if _held(item, variant.repeat, state["notified"], paths.repeat):
                action = FindingAction.REPEAT
        elif not holds and _held(item, variant.clear_after, since, paths.clear_after):
            action = FindingAction.CLEAR
    if action is None:
        return None
    index = level_index(level, len(variant.levels))
    target = _render(item, variant.levels[index].to, f"{paths.levels[index]}.to")
    chosen_level = level_facts.get(index)
    part = _OnePart(
        variant=variant,
        action=action,
        level=level,
        target=target,
        holds=holds,
        since=since,
        when=when_facts,
        level_when=chosen_level,
    )
    return action, level, target, holds, since, key, part


@attrs.frozen(eq=False)
class _OnePart:
    """One finding's facts; its explanation is written out only when asked for."""

    variant: Variant
    action: FindingAction
    level: int
    target: str
    holds: bool
    since: int
    when: list[NodeFacts]
    level_when: list[NodeFacts] | None

    def explain(self, row: int) -> dict[str, Any]:
        """The explanation (``row`` is 0: a part of one row)."""
        return explanation(
            variant=self.variant,
            action=self.action,
            level=self.level,
            target=self.target,
            holds=self.holds,
            since=self.since,
            when=iter(self.when),
            level_when=None if self.level_when is None else iter(self.level_when),
        )

    def evidence(self, row: int) -> tuple[Any, ...]:
        """The ids of the events the finding rests on."""
        return distinct_evidence(self.when + (self.level_when or []))


def _closed_since(item: _Item) -> int:
    index = len(item.episodes) - 1
    while index > 0 and not _OPEN[item.episode_state(index - 1)]:
        index -= 1
    return item.episodes[index][1]


def evaluate_item(
    policies: PolicySet | Policy | Iterable[Policy],
    history: ItemHistory,
    *,
    now: object,
    calendars: CalendarSet | BusinessCalendar | None = None,
    escalations: Escalations | None = None,
    slas: object = None,
    forecast: object = None,
) -> Findings:
    """Evaluate policies for one item: the same findings as :func:`evaluate` gives for it.

    Spike policies, which watch groups rather than items, are skipped.

    Args:
        policies: A :class:`PolicySet`, one policy, or a sequence of policies.
        history: The item's events (and target date).
        now: The instant of the evaluation.
        calendars: The business calendars, as for :func:`evaluate`.
        escalations: The escalations already recorded (at least the item's own).
        slas: The SLAs that SLA measures name.
        forecast: A fitted completion forecast, for ``target_miss_probability``.

    Raises:
        ValidationError: As :func:`evaluate`.
    """
    plan = _plan(as_policy_set(policies))
    at = as_instant(now, path="now")
    item = _Item(history, at, as_calendar_set(calendars), slas=slas, forecast=forecast)
    if not item.count:
        return _findings([], now=at)
    records = [] if escalations is None else _records(escalations, history.item)
    # Scopes name attributes the history must have: checked once per set of attribute names.
    names = tuple(history.attributes)
    checked = names in plan.checked
    found_rows: list[tuple[str, object, FindingAction, int, str, bool, int, int, _OnePart]] = []
    for entry in plan.entries:
        policy = entry.policy
        if not checked:
            _check_scope(history, policy.scope, f"{entry.path}.scope")
        if not _matches(item, policy.scope):
            continue
        chosen: tuple[Variant, _Paths] | None = None
        for candidate, paths in entry.variants:
            if not checked and candidate.scope is not None:
                _check_scope(history, candidate.scope, paths.scope)
            if chosen is None and _matches(item, candidate.scope):
                chosen = (candidate, paths)
                if checked:
                    break
        assert chosen is not None  # the policy itself matches every item in its scope
        found = _variant_finding(item, *chosen, _state(records, policy.name))
        if found is not None:
            found_rows.append((policy.name, history.item, *found))
    plan.checked.add(names)
    return _findings(found_rows, now=at)


@attrs.frozen
class _Paths:
    """Where each part of a variant is written, for errors: made once per policy set."""

    when: str
    hold: str
    repeat: str
    clear_after: str
    levels: tuple[str, ...]
    scope: str


@attrs.frozen
class _Entry:
    policy: Policy
    path: str
    variants: tuple[tuple[Variant, _Paths], ...]


@attrs.frozen
class _Plan:
    """A policy set's item policies with their paths, and the attribute names checked so far."""

    entries: tuple[_Entry, ...]
    checked: set[tuple[str, ...]] = attrs.field(factory=set)


_PLANS: dict[int, tuple[PolicySet, _Plan]] = {}


def _plan(policy_set: PolicySet) -> _Plan:
    """The plan of a policy set, made once per set object (a few sets are remembered)."""
    known = _PLANS.get(id(policy_set))
    if known is not None and known[0] is policy_set:
        return known[1]
    if len(_PLANS) > 64:
        _PLANS.clear()
    entries = []
    for index, policy in enumerate(policy_set):
        if not isinstance(policy, Policy):
            continue
        path = f"policies[{index}]"
        variants = tuple(
            (
                variant,
                _Paths(
                    when=_part_path(path, variant, "when"),
                    hold=_part_path(path, variant, "hold"),
                    repeat=_part_path(path, variant, "repeat"),
                    clear_after=_part_path(path, variant, "clear_after"),
                    levels=tuple(level_path(path, variant, i) for i in range(len(variant.levels))),
                    scope=f"{path}.overrides[{variant.override}].scope",
                ),
            )
            for variant in policy.variants()
        )
        entries.append(_Entry(policy=policy, path=path, variants=variants))
    plan = _Plan(entries=tuple(entries))
    _PLANS[id(policy_set)] = (policy_set, plan)
    return plan


_COLUMNS = (
    ("policy", object), ("item", object), ("action", np.int8), ("level", np.int16),
    ("target", object), ("holds", np.bool_), ("since", np.int64), ("episode", np.int64),
)  # fmt: skip


def _findings(
    rows: list[tuple[str, object, FindingAction, int, str, bool, int, int, _OnePart]], *, now: int
) -> Findings:
    """The findings of one item, one row per policy in order, the columns written at once."""
    count = len(rows)
    columns: dict[str, Any] = {}
    for position, (name, dtype) in enumerate(_COLUMNS):
        column: npt.NDArray[Any] = np.empty(count, dtype=dtype)
        for row, values in enumerate(rows):  # a handful of policies, not items
            value = values[position]
            column[row] = _ACTION_CODES[value] if name == "action" else value
        columns[name] = column
    return Findings(
        now=now,
        parts=tuple(values[-1] for values in rows),
        day=np.full(count, NO_DAY),
        part=np.arange(count, dtype=np.int32),
        part_row=np.zeros(count, dtype=np.int64),
        **columns,
    )


_ACTION_CODES: Mapping[Any, int] = {action: index for index, action in enumerate(FindingAction)}

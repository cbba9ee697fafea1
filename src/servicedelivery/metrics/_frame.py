"""The event frame: state-change events as aligned numpy columns, sorted by item and time.

A frame is what every metric reads. Each row is one event that set an item's state (and, when
blocked, its owner and reason) at an instant. Rows are kept sorted by item, then by time; rows of one
item with the same time keep the order they were recorded in (the order of the input, or of the log),
which is the frame's one rule for ties.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import MISSING, FieldError, UnmappedStatusError, ValidationError
from servicedelivery.eventlog import EventColumns, EventLog, RecordedEvent
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.metrics._categorical import Categorical, missing_mask
from servicedelivery.metrics._instants import epoch_ns_column
from servicedelivery.metrics._objects import object_array
from servicedelivery.metrics._order import item_time_order
from servicedelivery.metrics._problems import RowProblems
from servicedelivery.metrics._reading import (
    OWNER_NAMES,
    STATE_NAMES,
    as_column,
    categorical_column,
    check_blocked_rows,
    code_column,
)
from servicedelivery.metrics._table import Column, Kind, Tabular, status_columns
from servicedelivery.metrics._trail import columns_of_log, columns_of_records
from servicedelivery.metrics._triggers import states_from_triggers
from servicedelivery.model import DEFAULT_TAXONOMY, StatusMap, Taxonomy

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RESERVED_NAMES", "EventFrame"]

RESERVED_NAMES = frozenset({"item", "time", "state", "owner", "reason", "event_id", "position"})
"""Names an attribute cannot take: they are the frame's own columns (and summary keys)."""


def _int32(value: object) -> npt.NDArray[np.int32]:
    return np.asarray(value).astype(np.int32, copy=False)


def _int64(value: object) -> npt.NDArray[np.int64]:
    return np.asarray(value).astype(np.int64, copy=False)


def _int16(value: object) -> npt.NDArray[np.int16]:
    return np.asarray(value).astype(np.int16, copy=False)


def _int8(value: object) -> npt.NDArray[np.int8]:
    return np.asarray(value).astype(np.int8, copy=False)


def _as_attributes(value: Mapping[str, Categorical]) -> dict[str, Categorical]:
    return dict(value)


@attrs.frozen(eq=False, repr=False)
class EventFrame(Tabular):
    """State-change events as aligned numpy columns, sorted by item then time (ties: recorded order).

    Build one with :meth:`from_columns`, :meth:`from_pandas` or :meth:`from_records`; the
    constructor itself takes columns that are already coded and sorted, and checks them.

    Attributes:
        items: The item ids (``object`` or integer array); ``item`` codes index it.
        item: ``int32`` item code of each row.
        time: ``int64`` nanoseconds since the epoch, UTC.
        state: ``int8`` index into ``servicedelivery.model.STATES``.
        owner: ``int8`` index into ``OWNERS`` for blocked rows, else ``-1``.
        reason: ``int16`` index into ``taxonomy.codes`` for blocked rows, else ``-1``.
        position: ``int64`` where the row came from: its input row number, or its log position.
        event_id: The event id of each row (``object`` array), or ``None`` when the input had none.
        attributes: Categorical attributes of each row (provider, region, step, ...), by name.
        taxonomy: The taxonomy that reason codes index.
        offsets: ``int64``, one more than there are items: item ``i``'s rows are
            ``offsets[i]:offsets[i + 1]``.
        item_attributes: Each attribute's value per item: the last value recorded for the item
            (rows without one are skipped), with the same categories.
    """

    items: npt.NDArray[Any] = attrs.field(converter=np.asarray)
    item: npt.NDArray[np.int32] = attrs.field(converter=_int32)
    time: npt.NDArray[np.int64] = attrs.field(converter=_int64)
    state: npt.NDArray[np.int8] = attrs.field(converter=_int8)
    owner: npt.NDArray[np.int8] = attrs.field(converter=_int8)
    reason: npt.NDArray[np.int16] = attrs.field(converter=_int16)
    position: npt.NDArray[np.int64] = attrs.field(converter=_int64)
    event_id: npt.NDArray[Any] | None = None
    attributes: dict[str, Categorical] = attrs.field(factory=dict, converter=_as_attributes)
    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    offsets: npt.NDArray[np.int64] = attrs.field(init=False)
    item_attributes: dict[str, Categorical] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        errors = list(self._problems())
        if errors:
            raise ValidationError(errors, title="invalid EventFrame")
        counts = np.bincount(self.item, minlength=len(self.items))
        offsets = np.zeros(len(self.items) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(
            self,
            "item_attributes",
            {name: self._per_item(column) for name, column in self.attributes.items()},
        )

    def _problems(self) -> Iterable[FieldError]:
        count = len(self.item)
        columns: dict[str, Any] = {
            "time": self.time,
            "state": self.state,
            "owner": self.owner,
            "reason": self.reason,
            "position": self.position,
        }
        if self.event_id is not None:
            columns["event_id"] = self.event_id
        columns.update({f"attributes[{name!r}]": c.codes for name, c in self.attributes.items()})
        for name, values in columns.items():
            if len(values) != count:
                yield FieldError(name, f"{len(values)} rows", f"{count} rows, like item")
        if self.items.ndim != 1:
            yield FieldError("items", self.items, "a one-dimensional array of ids")
            return
        for name in self.attributes:
            if name in RESERVED_NAMES:
                yield FieldError(
                    f"attributes[{name!r}]", name, f"a name other than {sorted(RESERVED_NAMES)}"
                )
        if not count:
            return
        ranges = (
            ("item", self.item, 0, len(self.items) - 1),
            ("state", self.state, 0, len(STATE_NAMES) - 1),
            ("owner", self.owner, -1, len(OWNER_NAMES) - 1),
            ("reason", self.reason, -1, len(self.taxonomy.codes) - 1),
        )
        for name, codes, low, high in ranges:
            if codes.min() < low or codes.max() > high:
                yield FieldError(name, f"codes {codes.min()}..{codes.max()}", f"{low}..{high}")
        step = np.diff(self.item)
        if (step < 0).any() or ((step == 0) & (np.diff(self.time) < 0)).any():
            yield FieldError("item, time", MISSING, "rows sorted by item code, then by time")

    def _per_item(self, column: Categorical) -> Categorical:
        """An attribute's value per item: the last value recorded in the item's rows."""
        if not len(self.items):
            return Categorical(np.empty(0, dtype=np.int32), column.categories)
        rows = np.arange(len(column.codes))
        # The last row with a value: the largest row index among rows that have one, per item.
        last = np.maximum.reduceat(np.where(column.codes >= 0, rows, -1), self.offsets[:-1])
        codes = np.where(last >= 0, column.codes[np.maximum(last, 0)], -1)
        return Categorical(codes, column.categories)

    # ----------------------------------------------------------------------------------- building

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, object],
        *,
        item: str = "item",
        time: str = "time",
        state: str | None = None,
        status_map: StatusMap | None = None,
        trigger: str | None = None,
        lifecycle: Lifecycle | None = None,
        owner: str | None = None,
        reason: str | None = None,
        event_id: str | None = None,
        attributes: Sequence[str] = (),
        taxonomy: Taxonomy | None = None,
    ) -> EventFrame:
        """Build a frame from named columns, in the spirit of pm4py's column keys.

        The state of each row comes from one of three kinds of column: canonical states
        (``state``), a source system's statuses (``status_map``), or the lifecycle triggers that
        led to it (``trigger``, replayed through ``lifecycle``).

        Args:
            columns: Columns by name: sequences, numpy arrays or :class:`Categorical`.
            item: The column of item ids (milestones, cases, tickets).
            time: The column of instants: ISO 8601 text with an offset, aware datetimes, or
                ``int64`` nanoseconds since the epoch (``INT64_MIN``, numpy's NaT, is missing).
            state: The column of canonical state names (``"blocked"``) or codes; defaults to
                ``"state"`` when no ``status_map`` is given.
            status_map: Read states, owners and reasons from the source statuses in the map's
                columns instead.
            trigger: Read states from the column of lifecycle triggers (names or codes) instead:
                each item's triggers are replayed in time order through ``lifecycle``, and each
                state read as the canonical state it belongs to. A row without a trigger keeps the
                item's state; a trigger the lifecycle refuses leaves it unchanged.
            lifecycle: The lifecycle the triggers belong to (default: the default lifecycle).
            owner: The column of owners of blocked rows (names or codes); a blocked row without one
                takes its reason's default owner.
            reason: The column of blocked reasons (taxonomy codes or their indexes).
            event_id: The column of event ids, kept as evidence; each must be unique.
            attributes: Columns kept as categorical attributes (provider, region, step, site, ...).
            taxonomy: The reasons' taxonomy; defaults to the status map's, else the default one.

        Raises:
            ValidationError: Options that contradict each other, missing columns, columns of
                different lengths, or rows the frame cannot use, listed with their row numbers and
                what was wrong.
        """
        taxonomy = _choose_taxonomy(taxonomy, status_map)
        _check_options(
            state=state,
            status_map=status_map,
            trigger=trigger,
            lifecycle=lifecycle,
            owner=owner,
            reason=reason,
        )
        names = _needed_columns(
            _ColumnOptions(
                item=item,
                time=time,
                state=state,
                status_map=status_map,
                trigger=trigger,
                owner=owner,
                reason=reason,
                event_id=event_id,
                attributes=attributes,
            )
        )
        arrays = _gather(columns, names)
        count = _common_length(arrays)
        problems = RowProblems(count)

        items = categorical_column(arrays[item])
        problems.add(
            items.codes == -1,
            column=item,
            values=lambda: np.full(count, None, dtype=object),
            expected="an item id",
        )
        time_column = arrays[time]
        if isinstance(time_column, Categorical):
            time_column = time_column.labels()
        times = epoch_ns_column(time_column, column=time, problems=problems)

        if status_map is not None:
            states, owners, reasons = _mapped(status_map, arrays, count, problems)
        else:
            owners = _optional_codes(
                arrays=arrays,
                name=owner,
                names=OWNER_NAMES,
                what="an owner",
                count=count,
                problems=problems,
            )
            reasons = _optional_codes(
                arrays=arrays,
                name=reason,
                names=taxonomy.codes,
                what="a reason code",
                count=count,
                problems=problems,
            ).astype(np.int16)
            if trigger is not None:
                lifecycle = lifecycle or DEFAULT_LIFECYCLE
                moves = code_column(
                    arrays[trigger],
                    lifecycle.trigger_names,
                    column=trigger,
                    what="a trigger of the lifecycle",
                    problems=problems,
                    dtype=np.int16,
                )
                states, owners, reasons = states_from_triggers(
                    item=items.codes,
                    time=times,
                    trigger=moves,
                    owner=owners.astype(np.int8),
                    reason=reasons,
                    lifecycle=lifecycle,
                )
            else:
                state_column = state or "state"
                states = code_column(
                    arrays[state_column],
                    STATE_NAMES,
                    column=state_column,
                    what="a state",
                    problems=problems,
                    dtype=np.int8,
                    required=True,
                )
            owners = check_blocked_rows(
                states,
                owners.astype(np.int8),
                reasons,
                taxonomy=taxonomy,
                owner_column=owner or "owner",
                reason_column=reason or "reason",
                problems=problems,
            )

        ids = None
        if event_id is not None:
            ids = _event_ids(arrays[event_id], column=event_id, problems=problems)
        kept = {name: categorical_column(arrays[name]) for name in attributes}
        problems.raise_if_any()
        return cls._sorted(
            items=items,
            time=times,
            state=states,
            owner=owners,
            reason=reasons,
            position=np.arange(count, dtype=np.int64),
            event_id=ids,
            attributes=kept,
            taxonomy=taxonomy,
        )

    @classmethod
    def from_pandas(cls, data: pd.DataFrame, **options: Unpack[_ColumnOptions]) -> EventFrame:
        """Build a frame from a pandas DataFrame; the options are those of :meth:`from_columns`.

        Timezone-aware datetime columns are read exactly (to the nanosecond); categorical columns
        keep their categories; row numbers in errors are positions (0 for the first row), not index
        labels.

        Raises:
            ValidationError: As :meth:`from_columns`.
        """
        names = _needed_columns(options)
        missing = [name for name in names if name not in data.columns]
        if missing:
            raise _missing_columns(missing, list(map(str, data.columns)))
        columns = {name: _from_series(data[name]) for name in names}
        return cls.from_columns(columns, **options)

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, object]], **options: Unpack[_ColumnOptions]
    ) -> EventFrame:
        """Build a frame from rows (mappings, such as ``csv.DictReader`` gives); see :meth:`from_columns`.

        A key absent from a row reads as a missing value.

        Raises:
            ValidationError: As :meth:`from_columns`.
        """
        rows = list(records)
        columns: dict[str, object] = {}
        for name in _needed_columns(options):
            columns[name] = object_array([row.get(name) for row in rows])
        return cls.from_columns(columns, **options)

    @classmethod
    def from_log(cls, log: EventLog, *, attributes: Sequence[str] | None = None) -> EventFrame:
        """Build a frame from an event log: every milestone's planning and transitions.

        Reads the log's columns (no Python loop per event) and replays each milestone's triggers
        through the log's own lifecycle; see :meth:`from_event_columns`.

        Args:
            log: The event log.
            attributes: The attributes to keep (default: all the planned milestones recorded,
                such as ``order_id``, ``step``, ``site``, ``provider``, ``region``).

        Raises:
            ValidationError: An attribute the log does not hold.
        """
        return cls.from_event_columns(
            log.read_columns(),
            lifecycle=log.lifecycle,
            taxonomy=log.taxonomy,
            attributes=attributes,
        )

    @classmethod
    def from_event_columns(
        cls,
        columns: EventColumns,
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        attributes: Sequence[str] | None = None,
    ) -> EventFrame:
        """Build a frame from an event log's columns (``log.read_columns()``).

        Rows are the records of milestone streams that planned a milestone or fired a lifecycle
        trigger; items are the milestone ids; times are occurrence times, ties in log order; the
        evidence is each record's event id and log position. The planned record puts a milestone
        in the lifecycle's initial state; triggers are replayed through ``lifecycle``.

        Args:
            columns: The log's columns.
            lifecycle: The log's lifecycle (the one its trigger codes index).
            taxonomy: The log's taxonomy (the one its reason codes index).
            attributes: The attributes to keep (default: all).

        Raises:
            ValidationError: The lifecycle or taxonomy is not the one the columns were read with,
                or an attribute is unknown.
        """
        found, positions, names = columns_of_log(
            columns, lifecycle=lifecycle, taxonomy=taxonomy, attributes=attributes
        )
        return cls._from_trail(found, positions, names, lifecycle=lifecycle, taxonomy=taxonomy)

    @classmethod
    def from_events(
        cls,
        records: Iterable[RecordedEvent],
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        attributes: Sequence[str] | None = None,
    ) -> EventFrame:
        """Build a frame from recorded events (``log.read_all()``, a stream, a subscription).

        The same rows as :meth:`from_event_columns`; the records are read one by one, since they
        are Python objects, and everything after works on whole columns.

        Raises:
            ValidationError: An attribute no planned milestone recorded, or rows the frame cannot
                use (a reason the taxonomy does not know, say).
        """
        found, positions, names = columns_of_records(records, attributes=attributes)
        return cls._from_trail(found, positions, names, lifecycle=lifecycle, taxonomy=taxonomy)

    @classmethod
    def _from_trail(
        cls,
        columns: dict[str, Any],
        positions: npt.NDArray[np.int64],
        attributes: Sequence[str],
        *,
        lifecycle: Lifecycle,
        taxonomy: Taxonomy,
    ) -> EventFrame:
        frame = cls.from_columns(
            columns,
            trigger="trigger",
            lifecycle=lifecycle,
            owner="owner",
            reason="reason",
            event_id="event_id",
            attributes=attributes,
            taxonomy=taxonomy,
        )
        # The frame numbered its input rows; the evidence is the records' positions in the log.
        return attrs.evolve(frame, position=positions[frame.position])

    @classmethod
    def _sorted(
        cls,
        *,
        items: Categorical,
        time: npt.NDArray[np.int64],
        state: npt.NDArray[np.int8],
        owner: npt.NDArray[np.int8],
        reason: npt.NDArray[np.int16],
        position: npt.NDArray[np.int64],
        event_id: npt.NDArray[Any] | None,
        attributes: Mapping[str, Categorical],
        taxonomy: Taxonomy,
    ) -> EventFrame:
        """Sort rows by item, then time, stably (ties keep their order), and drop unused items."""
        order = item_time_order(items.codes, time)
        codes = items.codes if order is None else items.codes[order]
        used = np.bincount(codes, minlength=len(items.categories)) > 0
        ids = items.categories
        if not used.all():
            renumber = np.cumsum(used, dtype=np.int32) - 1
            codes = renumber[codes]
            ids = ids[used]

        def take(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return values if order is None else values[order]

        return cls(
            items=ids,
            item=codes,
            time=take(time),
            state=take(state),
            owner=take(owner),
            reason=take(reason),
            position=take(position),
            event_id=None if event_id is None else take(event_id),
            attributes={
                name: Categorical(take(column.codes), column.categories)
                for name, column in attributes.items()
            },
            taxonomy=taxonomy,
        )

    def take_rows(self, rows: npt.NDArray[np.intp]) -> EventFrame:
        """The frame of these rows (given in increasing order), dropping items left without rows."""
        used = np.zeros(len(self.items), dtype=np.bool_)
        codes = self.item[rows]
        used[codes] = True
        renumber = np.cumsum(used, dtype=np.int32) - 1
        return EventFrame(
            items=self.items[used],
            item=renumber[codes],
            time=self.time[rows],
            state=self.state[rows],
            owner=self.owner[rows],
            reason=self.reason[rows],
            position=self.position[rows],
            event_id=None if self.event_id is None else self.event_id[rows],
            attributes={name: column.take(rows) for name, column in self.attributes.items()},
            taxonomy=self.taxonomy,
        )

    # ------------------------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.item)

    @property
    def item_count(self) -> int:
        """How many items have at least one row."""
        return len(self.items)

    @cached_property
    def first_time(self) -> int | None:
        """The earliest instant in the frame (ns since the epoch), or ``None`` if it is empty."""
        return int(self.time.min()) if len(self.time) else None

    @cached_property
    def last_time(self) -> int | None:
        """The latest instant in the frame (ns since the epoch), or ``None`` if it is empty."""
        return int(self.time.max()) if len(self.time) else None

    def as_of(self, now: int) -> EventFrame:
        """The frame as it was known at ``now``: rows at or before ``now`` (ns since the epoch).

        Items whose rows all come later disappear; attributes per item are those known at ``now``.
        """
        if self.last_time is None or self.last_time <= now:
            return self
        keep = self.time <= now
        return self.take_rows(np.flatnonzero(keep))

    @cached_property
    def _item_index(self) -> dict[object, int]:
        """Each item id's code, built once: a service looking items up one at a time pays once."""
        return {value: code for code, value in enumerate(self.items.tolist())}

    def codes_of(self, item_ids: Iterable[object]) -> npt.NDArray[np.int32]:
        """The item codes of these item ids.

        Raises:
            ValidationError: Listing the ids that are not in the frame.
        """
        wanted = list(item_ids)
        index = self._item_index
        unknown = [
            FieldError(f"item_ids[{n}]", value, "an item id of the frame")
            for n, value in enumerate(wanted)
            if value not in index
        ]
        if unknown:
            raise ValidationError(unknown)
        return np.array([index[value] for value in wanted], dtype=np.int32)

    def select(self, item_ids: Iterable[object]) -> EventFrame:
        """The frame of these items only: their events, with times, states and evidence.

        Raises:
            ValidationError: Listing the ids that are not in the frame.
        """
        codes = np.unique(self.codes_of(item_ids))
        rows = np.concatenate(
            [np.arange(self.offsets[code], self.offsets[code + 1]) for code in codes.tolist()]
            or [np.empty(0, dtype=np.intp)]
        )
        return self.take_rows(rows)

    def evidence(self, item_id: object) -> npt.NDArray[Any]:
        """The event ids behind an item, in the frame's order; its positions when there are no ids.

        Raises:
            ValidationError: The item is not in the frame.
        """
        code = int(self.codes_of([item_id])[0])
        rows = slice(int(self.offsets[code]), int(self.offsets[code + 1]))
        if self.event_id is None:
            return self.position[rows]
        return self.event_id[rows]

    # ---------------------------------------------------------------------------------- showing

    def _title(self) -> str:
        if not len(self):
            return "EventFrame: no events"
        first, last = np.datetime_as_string(
            np.array([self.first_time, self.last_time]).view("M8[ns]"), unit="s", timezone="UTC"
        )
        names = ", ".join(self.attributes) or "none"
        return (
            f"EventFrame: {len(self):,} events, {self.item_count:,} items, {first} to {last}; "
            f"attributes: {names}"
        )

    def _columns(self) -> list[Column]:
        columns = [
            Column("item", self.items[self.item]),
            Column("time", self.time, Kind.INSTANT),
            *status_columns(self.state, self.owner, self.reason, reasons=self.taxonomy.codes),
        ]
        if self.event_id is not None:
            columns.append(Column("event_id", self.event_id))
        columns.append(Column("position", self.position))
        columns.extend(Column(name, c.labels()) for name, c in self.attributes.items())
        return columns


# ---------------------------------------------------------------------------------------- helpers


def _choose_taxonomy(taxonomy: Taxonomy | None, status_map: StatusMap | None) -> Taxonomy:
    if status_map is None:
        return taxonomy or DEFAULT_TAXONOMY
    if taxonomy is not None and taxonomy.reasons != status_map.taxonomy.reasons:
        raise ValidationError.single(
            "taxonomy", taxonomy, "the status map's own taxonomy, or no taxonomy option"
        )
    return status_map.taxonomy


def _check_options(
    *,
    state: str | None,
    status_map: StatusMap | None,
    trigger: str | None,
    lifecycle: Lifecycle | None,
    owner: str | None,
    reason: str | None,
) -> None:
    clashes = []
    if status_map is not None:
        clashes = [
            FieldError(name, value, "no such option with status_map= (the map gives it)")
            for name, value in (
                ("state", state),
                ("trigger", trigger),
                ("owner", owner),
                ("reason", reason),
            )
            if value is not None
        ]
    elif trigger is not None and state is not None:
        clashes = [FieldError("state", state, "no state column with trigger= (triggers give it)")]
    if lifecycle is not None and trigger is None:
        clashes.append(FieldError("lifecycle", lifecycle.name, "a trigger column to go with it"))
    if clashes:
        raise ValidationError(clashes)


class _ColumnOptions(TypedDict, total=False):
    """The options of :meth:`EventFrame.from_columns`, for the constructors that forward them."""

    item: str
    time: str
    state: str | None
    status_map: StatusMap | None
    trigger: str | None
    lifecycle: Lifecycle | None
    owner: str | None
    reason: str | None
    event_id: str | None
    attributes: Sequence[str]
    taxonomy: Taxonomy | None


def _needed_columns(options: _ColumnOptions) -> list[str]:
    """The columns the options name, in order, each once."""
    status_map = options.get("status_map")
    attributes = list(options.get("attributes", ()))
    wanted = [options.get("item", "item"), options.get("time", "time")]
    if status_map is not None:
        wanted.extend(status_map.columns)
    else:
        wanted.append(options.get("trigger") or options.get("state") or "state")
    wanted.extend(
        name
        for name in (options.get("owner"), options.get("reason"), options.get("event_id"))
        if name is not None
    )
    wanted.extend(attributes)
    reserved = sorted(set(attributes) & RESERVED_NAMES)
    if reserved:
        raise ValidationError(
            [
                FieldError(f"attributes[{attributes.index(name)}]", name, "not a reserved name")
                for name in reserved
            ],
            title=f"attribute names cannot be {sorted(RESERVED_NAMES)}",
        )
    return list(dict.fromkeys(wanted))


def _missing_columns(missing: Sequence[str], present: Sequence[str]) -> ValidationError:
    shown = ", ".join(repr(name) for name in present[:20])
    return ValidationError(
        [FieldError(name, MISSING, f"a column of the input (it has {shown})") for name in missing]
    )


def _gather(
    columns: Mapping[str, object], names: Sequence[str]
) -> dict[str, npt.NDArray[Any] | Categorical]:
    missing = [name for name in names if name not in columns]
    if missing:
        raise _missing_columns(missing, list(columns))
    arrays: dict[str, npt.NDArray[Any] | Categorical] = {}
    errors = []
    for name in names:
        array = as_column(columns[name])
        if array is None:
            errors.append(FieldError(name, columns[name], "a one-dimensional column"))
        else:
            arrays[name] = array
    if errors:
        raise ValidationError(errors)
    return arrays


def _common_length(arrays: Mapping[str, npt.NDArray[Any] | Categorical]) -> int:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValidationError.single("columns", lengths, "columns of equal length")
    return next(iter(lengths.values()), 0)


def _mapped(
    status_map: StatusMap,
    arrays: Mapping[str, npt.NDArray[Any] | Categorical],
    count: int,
    problems: RowProblems,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8], npt.NDArray[np.int16]]:
    source = {
        name: column.labels() if isinstance(column, Categorical) else column
        for name, column in arrays.items()
        if name in status_map.columns
    }
    try:
        mapped = status_map.apply(source)
    except UnmappedStatusError as error:
        _unmapped_rows(error, source, status_map.columns, problems)
        zeros = np.zeros(count, dtype=np.int8)
        return zeros, zeros, zeros.astype(np.int16)
    return mapped.state, mapped.owner, mapped.reason


def _unmapped_rows(
    error: UnmappedStatusError,
    source: Mapping[str, npt.NDArray[Any]],
    columns: Sequence[str],
    problems: RowProblems,
) -> None:
    """Record the rows behind each status the map does not cover."""
    texts = []
    for name in columns:
        raw = np.asarray(source[name])
        text = raw.astype(str).astype(object)
        text[missing_mask(raw)] = ""
        texts.append(text)
    shown = texts[0]
    for text in texts[1:]:
        shown = shown + " | " + text  # elementwise on object arrays of str
    unmapped = np.zeros(len(shown), dtype=np.bool_)
    for combination, _ in error.statuses:
        rows = np.ones(len(shown), dtype=np.bool_)
        for text, value in zip(texts, combination, strict=True):
            rows &= text == value
        unmapped |= rows
    problems.add(
        unmapped,
        column=" | ".join(columns),
        values=shown,
        expected="a status the status map covers",
    )


def _optional_codes(
    *,
    arrays: Mapping[str, npt.NDArray[Any] | Categorical],
    name: str | None,
    names: Sequence[str],
    what: str,
    count: int,
    problems: RowProblems,
) -> npt.NDArray[Any]:
    if name is None:
        return np.full(count, -1, dtype=np.int16)
    return code_column(
        arrays[name], names, column=name, what=what, problems=problems, dtype=np.int16
    )


def _event_ids(
    values: npt.NDArray[Any] | Categorical, *, column: str, problems: RowProblems
) -> npt.NDArray[Any]:
    ids = values.labels() if isinstance(values, Categorical) else values.astype(object)
    missing = missing_mask(ids)
    problems.add(missing, column=column, values=ids, expected="an event id")
    text = ids.astype(str)
    _, first = np.unique(text, return_index=True)
    repeated = np.ones(len(ids), dtype=np.bool_)
    repeated[first] = False
    problems.add(
        repeated & ~missing,
        column=column,
        values=ids,
        expected="an event id not used by an earlier row",
    )
    return ids


def _from_series(series: pd.Series) -> npt.NDArray[Any] | Categorical:
    """A pandas column as numpy, exactly: aware datetimes to ns, categoricals to codes."""
    dtype = series.dtype
    if getattr(dtype, "tz", None) is not None:
        ns = series.array.as_unit("ns").asi8
        return np.asarray(ns, dtype=np.int64)
    if str(dtype) == "category":
        return Categorical(
            series.cat.codes.to_numpy(dtype=np.int32),
            series.cat.categories.to_numpy(dtype=object),
        )
    if dtype.kind in "iub" and not hasattr(dtype, "na_value"):
        return series.to_numpy()
    if dtype.kind == "M":
        return series.to_numpy()
    return series.to_numpy(dtype=object)

"""The log as columns: aligned numpy arrays in position order, for metrics and replay.

A backend returns :class:`RawColumns`, whose categorical columns are codes into whatever dictionary
the backend keeps (SQLite's table of names, say). :func:`columns_from_raw` turns them into
:class:`EventColumns`, whose codes index the library's vocabularies: the registry's type names, the
lifecycle's triggers, ``model.OWNERS`` and the taxonomy's reason codes. Everything is vectorized;
the only loops run over distinct categories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import (
    FieldError,
    OptionalDependencyError,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog._records import StoredRecord
from servicedelivery.model import OWNERS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NO_TARGET",
    "Categorical",
    "EventColumns",
    "RawColumns",
    "columns_from_raw",
    "raw_columns",
]

NO_TARGET = np.iinfo(np.int64).min
"""``target_ns`` of records that set no target (``INT64_MIN``)."""

Int64s = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]


class Categorical(NamedTuple):
    """A categorical column: integer codes (``-1`` for none) into an array of categories."""

    codes: npt.NDArray[np.integer[Any]]
    categories: Objects


class RawColumns(NamedTuple):
    """The columns a backend reads, aligned, in position order.

    Attributes:
        position: Global positions.
        event_id: Event ids (str).
        stream: Stream ids.
        type: Registered type names.
        occurred_ns: Occurrence time, ns since the epoch.
        recorded_ns: Recording time, ns since the epoch.
        trigger: Lifecycle trigger names (``-1``: none).
        owner: Owner values (``-1``: none).
        reason: Reason codes (``-1``: none).
        override: Owner overrides.
        target_ns: Targets set (``NO_TARGET``: none).
        sequence: Milestone sequences of planned records (``-1``: none).
        attribute_position: For each attribute of a planned record, the record's position.
        attribute_key: Its key (``order_id``, ``step``, ``provider``, ...).
        attribute_value: Its value.
    """

    position: Int64s
    event_id: Objects
    stream: Categorical
    type: Categorical
    occurred_ns: Int64s
    recorded_ns: Int64s
    trigger: Categorical
    owner: Categorical
    reason: Categorical
    override: npt.NDArray[np.bool_]
    target_ns: Int64s
    sequence: Int64s
    attribute_position: Int64s
    attribute_key: Categorical
    attribute_value: Categorical


def raw_columns(
    records: Sequence[StoredRecord], attributes: Sequence[tuple[int, str, str]]
) -> RawColumns:
    """Columns from stored records and attribute rows, for backends without a faster way.

    numpy walks the records' tuples itself (no Python loop per record): the records become one
    object array, each column is converted at once, and text columns are coded with ``np.unique``.
    """
    fields = StoredRecord._fields
    table = np.array(records, dtype=object).reshape(len(records), len(fields))
    rows = np.array(attributes, dtype=object).reshape(len(attributes), 3)

    def column(name: str) -> Objects:
        return table[:, fields.index(name)]

    def numbers(values: Objects, missing: int) -> Int64s:
        return np.where(values == None, missing, values).astype(np.int64)  # noqa: E711

    return RawColumns(
        position=numbers(column("position"), 0),
        event_id=column("event_id"),
        stream=_categorical(column("stream_id")),
        type=_categorical(column("type")),
        occurred_ns=numbers(column("occurred_ns"), 0),
        recorded_ns=numbers(column("recorded_ns"), 0),
        trigger=_categorical(column("trigger")),
        owner=_categorical(column("owner")),
        reason=_categorical(column("reason")),
        override=column("override").astype(bool),
        target_ns=numbers(column("target_ns"), NO_TARGET),
        sequence=numbers(column("sequence"), -1),
        attribute_position=rows[:, 0].astype(np.int64),
        attribute_key=_categorical(rows[:, 1]),
        attribute_value=_categorical(rows[:, 2]),
    )


def _categorical(values: Objects) -> Categorical:
    """Codes of a text column with ``None`` for missing: ``None`` becomes code -1."""
    present = values != None  # noqa: E711 - elementwise, not an identity test
    # Sorted as Python strings: numpy's fixed-width text would drop trailing NUL characters.
    categories, inverse = np.unique(values[present], return_inverse=True)
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[present] = inverse
    return Categorical(codes, categories.astype(object))


def _array_field() -> Any:
    return attrs.field(eq=False, repr=False)


@attrs.frozen(eq=False)
class EventColumns:
    """The log's records as aligned numpy arrays, in position order.

    Attributes:
        position: int64 global positions.
        event_id: object array of event ids (str UUIDs).
        stream: int32 codes into ``streams``.
        streams: object array of the stream ids present, sorted.
        kind: int16 codes into ``kinds``.
        kinds: The registry's type names (a type's code is its index).
        occurred_ns: int64 occurrence time, ns since the epoch (UTC).
        recorded_ns: int64 recording time, ns since the epoch (UTC).
        trigger: int16 codes into ``triggers`` (the lifecycle's trigger names); -1 when the record
            is not a lifecycle transition.
        triggers: The lifecycle's trigger names.
        owner: int8 codes into ``model.OWNERS``; -1 when none.
        reason: int16 codes into ``reasons`` (the taxonomy's codes); -1 when none.
        reasons: The taxonomy's reason codes.
        override: bool, whether the owner overrides the reason's default owner.
        target_ns: int64 target set by planned and target-date records; ``NO_TARGET``
            (``INT64_MIN``) on other records and when a target is withdrawn.
        sequence: int32 milestone sequence on planned records; -1 elsewhere.
        attributes: For ``order_id``, ``step`` and each attribute key of planned records, int32
            codes (-1 on other records) and the sorted categories they index.
    """

    position: Int64s = _array_field()
    event_id: Objects = _array_field()
    stream: npt.NDArray[np.int32] = _array_field()
    streams: Objects = _array_field()
    kind: npt.NDArray[np.int16] = _array_field()
    kinds: tuple[str, ...] = _array_field()
    occurred_ns: Int64s = _array_field()
    recorded_ns: Int64s = _array_field()
    trigger: npt.NDArray[np.int16] = _array_field()
    triggers: tuple[str, ...] = _array_field()
    owner: npt.NDArray[np.int8] = _array_field()
    reason: npt.NDArray[np.int16] = _array_field()
    reasons: tuple[str, ...] = _array_field()
    override: npt.NDArray[np.bool_] = _array_field()
    target_ns: Int64s = _array_field()
    sequence: npt.NDArray[np.int32] = _array_field()
    attributes: Mapping[str, tuple[npt.NDArray[np.int32], Objects]] = _array_field()

    def __len__(self) -> int:
        return len(self.position)

    def __repr__(self) -> str:
        span = f"positions {self.position[0]}..{self.position[-1]}" if len(self) else "empty"
        return f"<EventColumns: {len(self)} records, {len(self.streams)} streams, {span}>"

    def kind_code(self, name: str) -> int:
        """The code of the type ``name`` in ``kind``.

        Raises:
            UnknownEventTypeError: The registry has no such type.
        """
        try:
            return self.kinds.index(name)
        except ValueError:
            raise UnknownEventTypeError.single(
                "kind", name, f"a registered event type name ({', '.join(self.kinds)})"
            ) from None

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The arrays aligned with the records, by name (every field but the vocabularies)."""
        return {name: getattr(self, name) for name in _ALIGNED}

    def take(self, index: npt.NDArray[Any]) -> EventColumns:
        """The records selected by a boolean mask or an ascending array of row numbers.

        Categories are kept as they are, so codes mean the same in the result.
        """
        attributes = {key: (codes[index], cats) for key, (codes, cats) in self.attributes.items()}
        taken = {name: array[index] for name, array in self.arrays().items()}
        return attrs.evolve(self, attributes=attributes, **taken)

    def to_pandas(self) -> pd.DataFrame:
        """One row per record, categorical columns as pandas categoricals.

        Raises:
            OptionalDependencyError: pandas is not installed.
        """
        module = pandas("EventColumns.to_pandas()")

        categorical = categorical_maker(module)
        frame: pd.DataFrame = module.DataFrame(
            {
                "position": self.position,
                "event_id": self.event_id,
                "stream": categorical(self.stream, self.streams),
                "kind": categorical(self.kind, self.kinds),
                "occurred_at": module.to_datetime(self.occurred_ns, utc=True),
                "recorded_at": module.to_datetime(self.recorded_ns, utc=True),
                "trigger": categorical(self.trigger, self.triggers),
                "owner": categorical(self.owner, [owner.value for owner in OWNERS]),
                "reason": categorical(self.reason, self.reasons),
                "override": self.override,
                # NO_TARGET is INT64_MIN, which is NaT to pandas.
                "target_at": module.to_datetime(self.target_ns, utc=True),
                "sequence": module.Series(self.sequence, dtype="Int32").mask(self.sequence < 0),
            }
        )
        for key, (codes, categories) in self.attributes.items():
            frame[key] = categorical(codes, categories)
        return frame


_ALIGNED = (
    "position",
    "event_id",
    "stream",
    "kind",
    "occurred_ns",
    "recorded_ns",
    "trigger",
    "owner",
    "reason",
    "override",
    "target_ns",
    "sequence",
)


def pandas(purpose: str) -> Any:
    """The pandas module, imported when first needed.

    Raises:
        OptionalDependencyError: pandas is not installed.
    """
    try:
        import pandas as pd  # noqa: PLC0415 - an optional extra, imported only when used
    except ImportError:
        raise OptionalDependencyError("pandas", extra="pandas", purpose=purpose) from None
    return pd


def categorical_maker(module: Any) -> Callable[[npt.NDArray[Any], Iterable[Any]], Any]:
    """Builds pandas categoricals from codes (``-1``: missing) and their categories."""

    def categorical(codes: npt.NDArray[Any], categories: Iterable[Any]) -> Any:
        return module.Categorical.from_codes(codes, categories=module.Index(list(categories)))

    return categorical


def recode(column: Categorical) -> tuple[npt.NDArray[np.int32], Objects]:
    """Codes into the sorted categories actually used (``-1`` stays ``-1``).

    A backend's dictionary may hold categories the selected rows do not use, in any order; sorting
    the used ones makes results the same whatever the backend. ``np.unique`` on the integer codes
    finds the used ones; only the (few) distinct categories are sorted as strings.
    """
    codes = np.asarray(column.codes)
    valid = codes >= 0
    used, inverse = np.unique(codes[valid], return_inverse=True)
    categories = column.categories[used]
    order = np.argsort(categories, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    result = np.full(len(codes), -1, dtype=np.int32)
    result[valid] = rank[inverse]
    return result, categories[order]


def to_vocabulary(
    column: Categorical, vocabulary: Sequence[str], *, field: str, expected: str
) -> npt.NDArray[np.int64]:
    """Codes into ``vocabulary`` (``-1`` stays ``-1``).

    Raises:
        ValidationError: Listing every category that is not in the vocabulary.
    """
    codes = np.asarray(column.codes)
    valid = codes >= 0
    used, inverse = np.unique(codes[valid], return_inverse=True)
    index = {name: code for code, name in enumerate(vocabulary)}
    names = [str(name) for name in column.categories[used]]
    unknown = [name for name in names if name not in index]
    if unknown:
        raise ValidationError([FieldError(field, name, expected) for name in unknown])
    lookup = np.array([index[name] for name in names], dtype=np.int64)
    result = np.full(len(codes), -1, dtype=np.int64)
    result[valid] = lookup[inverse]
    return result


def columns_from_raw(
    raw: RawColumns,
    *,
    kinds: Sequence[str],
    triggers: Sequence[str],
    reasons: Sequence[str],
) -> EventColumns:
    """Translate a backend's columns into the library's vocabularies.

    Args:
        raw: What the backend read.
        kinds: The registry's type names.
        triggers: The lifecycle's trigger names.
        reasons: The taxonomy's reason codes.

    Raises:
        UnknownEventTypeError: A stored type name the registry does not know.
        ValidationError: A stored trigger or reason that the lifecycle or the taxonomy does not know.
    """
    try:
        kind = to_vocabulary(
            raw.type, kinds, field="type", expected="a type name the log's registry knows"
        )
    except ValidationError as error:
        raise UnknownEventTypeError(error.errors) from None
    trigger = to_vocabulary(
        raw.trigger, triggers, field="trigger", expected="a trigger of the log's lifecycle"
    )
    owner = to_vocabulary(
        raw.owner, [o.value for o in OWNERS], field="owner", expected="an Owner value"
    )
    reason = to_vocabulary(
        raw.reason, reasons, field="reason", expected="a reason code of the log's taxonomy"
    )
    stream, streams = recode(raw.stream)
    position = np.asarray(raw.position, dtype=np.int64)
    attributes: dict[str, tuple[npt.NDArray[np.int32], Objects]] = {}
    key_codes, keys = recode(raw.attribute_key)
    # Positions are sorted, so each attribute row finds its record by binary search.
    rows = np.searchsorted(position, np.asarray(raw.attribute_position, dtype=np.int64))
    for code, key in enumerate(keys):
        mine = key_codes == code
        values, categories = recode(
            Categorical(np.asarray(raw.attribute_value.codes)[mine], raw.attribute_value.categories)
        )
        column = np.full(len(position), -1, dtype=np.int32)
        column[rows[mine]] = values
        attributes[str(key)] = (column, categories)
    for key in ("order_id", "step"):
        attributes.setdefault(key, (np.full(len(position), -1, dtype=np.int32), _EMPTY))
    return EventColumns(
        position=position,
        event_id=np.asarray(raw.event_id, dtype=object),
        stream=stream,
        streams=streams,
        kind=kind.astype(np.int16),
        kinds=tuple(kinds),
        occurred_ns=np.asarray(raw.occurred_ns, dtype=np.int64),
        recorded_ns=np.asarray(raw.recorded_ns, dtype=np.int64),
        trigger=trigger.astype(np.int16),
        triggers=tuple(triggers),
        owner=owner.astype(np.int8),
        reason=reason.astype(np.int16),
        reasons=tuple(reasons),
        override=np.asarray(raw.override, dtype=bool),
        target_ns=np.asarray(raw.target_ns, dtype=np.int64),
        sequence=np.asarray(raw.sequence, dtype=np.int32),
        attributes=attributes,
    )


_EMPTY: Objects = np.array([], dtype=object)

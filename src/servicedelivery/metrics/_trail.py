"""Frames from the event trail: a log's columns, or an iterable of recorded events.

A milestone's stream holds the event that planned it and one event per lifecycle trigger (plus
events that fire none, such as target-date changes, which a frame leaves out). The planned event is
the milestone's first instant, in the lifecycle's initial state; each trigger is replayed through the
log's lifecycle. Times are occurrence times; ties keep the log's order (positions); the evidence of
every row is its event id and its position in the log. The attributes recorded when a milestone was
planned (order, step, and analytics context such as site, provider, region) become the frame's
attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.eventlog import EventColumns, MilestonePlanned, RecordedEvent, StreamKind
from servicedelivery.lifecycle import Lifecycle
from servicedelivery.metrics._categorical import Categorical
from servicedelivery.metrics._objects import object_array
from servicedelivery.model import Taxonomy, to_epoch_ns

__all__ = ["PLANNED_TYPE", "TrailColumns", "columns_of_log", "columns_of_records"]

PLANNED_TYPE = "milestone.planned"
_PREFIX = f"{StreamKind.MILESTONE}:"

TrailColumns = tuple[dict[str, Any], npt.NDArray[np.int64], list[str]]
"""Columns for ``EventFrame.from_columns``, the log position of each row, the attribute names."""


def _check_vocabularies(columns: EventColumns, lifecycle: Lifecycle, taxonomy: Taxonomy) -> None:
    errors = []
    if tuple(columns.triggers) != tuple(lifecycle.trigger_names):
        errors.append(
            FieldError("lifecycle", lifecycle.name, "the lifecycle the log's triggers belong to")
        )
    if tuple(columns.reasons) != tuple(taxonomy.codes):
        errors.append(
            FieldError("taxonomy", taxonomy.codes, "the taxonomy the log's reasons belong to")
        )
    if errors:
        raise ValidationError(errors)


def columns_of_log(
    columns: EventColumns,
    *,
    lifecycle: Lifecycle,
    taxonomy: Taxonomy,
    attributes: Sequence[str] | None,
) -> TrailColumns:
    """The milestone rows of a log's columns, ready for a frame, without a loop per record.

    Raises:
        ValidationError: The lifecycle or taxonomy is not the log's, or an attribute is unknown.
    """
    _check_vocabularies(columns, lifecycle, taxonomy)
    streams = np.asarray(columns.streams, dtype=str)
    # Split every stream id at its first colon: kind, then the entity id.
    parts = np.char.partition(streams, ":") if len(streams) else np.empty((0, 3), dtype=str)
    is_milestone = parts[:, 0] == StreamKind.MILESTONE.value
    planned = columns.kinds.index(PLANNED_TYPE) if PLANNED_TYPE in columns.kinds else -1
    keep = is_milestone[columns.stream] & ((columns.trigger >= 0) | (columns.kind == planned))
    rows = np.flatnonzero(keep)
    names = list(columns.attributes) if attributes is None else list(attributes)
    unknown = [name for name in names if name not in columns.attributes]
    if unknown:
        raise ValidationError(
            [
                FieldError(
                    "attributes", name, f"an attribute of the log ({', '.join(columns.attributes)})"
                )
                for name in unknown
            ]
        )
    result: dict[str, Any] = {
        "item": Categorical(columns.stream[rows], parts[:, 2].astype(object)),
        "time": columns.occurred_ns[rows],
        "trigger": columns.trigger[rows],
        "owner": columns.owner[rows],
        "reason": columns.reason[rows],
        "event_id": columns.event_id[rows],
    }
    for name in names:
        codes, categories = columns.attributes[name]
        result[name] = Categorical(codes[rows], categories)
    return result, columns.position[rows], names


def columns_of_records(
    records: Iterable[RecordedEvent], *, attributes: Sequence[str] | None
) -> TrailColumns:
    """The milestone rows of recorded events, ready for a frame.

    The records are Python objects, so reading them is one step per record; everything after is
    done on whole columns.

    Raises:
        ValidationError: A requested attribute that no planned milestone recorded.
    """
    rows: list[tuple[Any, ...]] = []
    recorded: list[dict[str, str]] = []
    for record in records:
        if not record.stream_id.startswith(_PREFIX):
            continue
        event = record.event
        move = event.transition()
        is_planned = isinstance(event, MilestonePlanned)
        if move is None and not is_planned:
            continue
        rows.append(
            (
                record.stream_id[len(_PREFIX) :],
                to_epoch_ns(record.occurred_at),
                None if move is None else move.trigger,
                None if move is None or move.owner is None else move.owner.value,
                None if move is None else move.reason,
                record.event_id,
                record.position,
            )
        )
        recorded.append(
            {"order_id": event.order_id, "step": event.step, **event.attributes}
            if isinstance(event, MilestonePlanned)
            else {}
        )
    known = sorted({key for values in recorded for key in values})
    names = known if attributes is None else list(attributes)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValidationError(
            [
                FieldError("attributes", name, f"an attribute of the events ({', '.join(known)})")
                for name in unknown
            ]
        )
    table = np.empty((len(rows), 7), dtype=object)
    table[:] = rows if rows else np.empty((0, 7), dtype=object)
    result: dict[str, Any] = {
        "item": table[:, 0],
        "time": table[:, 1].astype(np.int64),
        "trigger": table[:, 2],
        "owner": table[:, 3],
        "reason": table[:, 4],
        "event_id": table[:, 5],
    }
    for name in names:
        result[name] = object_array([row.get(name) for row in recorded])
    return result, table[:, 6].astype(np.int64), names

"""Target dates per item, read from the event trail or given by a host."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import NO_TARGET, EventColumns

__all__ = ["TargetDates"]

_SETS_TARGET = ("milestone.planned", "milestone.target_date_changed")


def _objects(value: object) -> npt.NDArray[Any]:
    return np.asarray(value, dtype=object)


def _int64s(value: object) -> npt.NDArray[np.int64]:
    return np.asarray(value).astype(np.int64, copy=False)


@attrs.frozen(eq=False)
class TargetDates:
    """The target date agreed last for each item, and the event that set it.

    Attributes:
        items: ``object`` array of item ids.
        target: ``int64`` ns since the epoch: each item's target.
        evidence: ``object`` array: the id of the event that set each target (``None`` if unknown).
    """

    items: npt.NDArray[Any] = attrs.field(converter=_objects)
    target: npt.NDArray[np.int64] = attrs.field(converter=_int64s)
    evidence: npt.NDArray[Any] = attrs.field(converter=_objects)

    def __attrs_post_init__(self) -> None:
        if not len(self.items) == len(self.target) == len(self.evidence):
            raise ValidationError.single(
                "target",
                f"{len(self.items)} items, {len(self.target)} targets, {len(self.evidence)} ids",
                "one target and one evidence id per item",
            )

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def from_event_columns(cls, columns: EventColumns) -> TargetDates:
        """The target each milestone of a log holds last: from its planning or its last change.

        A milestone whose target was withdrawn, or never set, has none and is left out.
        """
        kinds = [columns.kinds.index(name) for name in _SETS_TARGET]
        rows = np.flatnonzero(np.isin(columns.kind, kinds))
        # Records are in position order: the last record of a stream is its first one in reverse.
        streams, first_reversed = np.unique(columns.stream[rows][::-1], return_index=True)
        last = rows[::-1][first_reversed]
        target = columns.target_ns[last]
        kept = target != NO_TARGET
        names = columns.streams[streams[kept]].astype(str)
        # Milestone stream ids are "milestone:<id>"; the frame's items are the ids.
        items = np.char.partition(names, ":")[:, 2].astype(object)
        return cls(items=items, target=target[kept], evidence=columns.event_id[last[kept]])

    def aligned(self, item_ids: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
        """The target and evidence of each of ``item_ids``: ``NO_TARGET`` and ``None`` where none."""
        target = np.full(len(item_ids), NO_TARGET, dtype=np.int64)
        evidence = np.full(len(item_ids), None, dtype=object)
        if not len(self.items) or not len(item_ids):
            return target, evidence
        keys = self.items.astype(str)
        wanted = np.asarray(item_ids).astype(str)
        order = np.argsort(keys, kind="stable")
        found = np.clip(np.searchsorted(keys[order], wanted), 0, len(keys) - 1)
        hit = keys[order][found] == wanted
        target[hit] = self.target[order][found[hit]]
        evidence[hit] = self.evidence[order][found[hit]]
        return target, evidence

"""The escalations already raised and cleared: what keeps policies from firing twice.

:class:`Escalations` is a columnar record of escalation events, one row per event: read from the
event trail, kept by a service, or simulated by a backtest. For a policy and an item, its rows say
whether an escalation is open (raised and not cleared), its episode, the highest level raised and
when it last notified, and which episodes were escalated before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import MISSING, FieldError, ValidationError
from servicedelivery.metrics._objects import object_array
from servicedelivery.metrics._table import Column, Kind, Tabular

if TYPE_CHECKING:
    from servicedelivery.policy._findings import Findings

__all__ = ["Escalations", "ItemIndex", "PolicyState", "recorded_instant"]

_NONE = np.iinfo(np.int64).min


def recorded_instant(now: int) -> int:
    """The instant an escalation found at ``now`` is recorded at in the trail.

    The trail keeps occurrence times to the microsecond (floored), so the simulated escalations
    keep the same instants as the recorded ones, and a service reads back exactly what it held.
    """
    return (int(now) // 1_000) * 1_000


def _int64(value: Any) -> npt.NDArray[np.int64]:
    return np.asarray(value, np.int64)


def _int16(value: Any) -> npt.NDArray[np.int16]:
    return np.asarray(value, np.int16)


def _bools(value: Any) -> npt.NDArray[np.bool_]:
    return np.asarray(value, np.bool_)


def _texts(value: Iterable[Any]) -> npt.NDArray[Any]:
    array = object_array(value)
    if len(array):
        array[:] = array.astype(str)
    return array


@attrs.frozen(eq=False, repr=False)
class Escalations(Tabular):
    """Escalation events as aligned columns, in the order they were recorded.

    Build one with :meth:`empty`, :meth:`from_records`, or from a trail (see
    ``servicedelivery.policy.escalations_from_log``); add an evaluation's new events with
    :meth:`extended`.

    Attributes:
        policy: The policy's name, per event.
        item: The item's id as text (a spike policy's group, such as ``"provider:acme"``).
        episode: The episode key: the position of the event that opened the item's episode the
            escalation belongs to (a spike's day number).
        level: The level raised; 0 for a clearing.
        cleared: Whether the event cleared the escalation (else it raised or re-notified it).
        at: When it happened, ns since the epoch.
        target: Who it went to (``"queue:noc_leads"``), ``None`` when not known.
        event_id: The id of the recorded event, ``None`` when not recorded.
    """

    policy: npt.NDArray[Any] = attrs.field(converter=_texts)
    item: npt.NDArray[Any] = attrs.field(converter=_texts)
    episode: npt.NDArray[np.int64] = attrs.field(converter=_int64)
    level: npt.NDArray[np.int16] = attrs.field(converter=_int16)
    cleared: npt.NDArray[np.bool_] = attrs.field(converter=_bools)
    at: npt.NDArray[np.int64] = attrs.field(converter=_int64)
    target: npt.NDArray[Any] = attrs.field(converter=object_array)
    event_id: npt.NDArray[Any] = attrs.field(converter=object_array)

    def __attrs_post_init__(self) -> None:
        count = len(self.policy)
        errors = [
            FieldError(name, f"{len(getattr(self, name))} rows", f"{count} rows, like policy")
            for name in ("item", "episode", "level", "cleared", "at", "target", "event_id")
            if len(getattr(self, name)) != count
        ]
        if not errors and count:
            if (self.level[~self.cleared] < 1).any():
                errors.append(FieldError("level", self.level.min(), "levels >= 1 when raised"))
            if (self.episode < 0).any():
                errors.append(FieldError("episode", self.episode.min(), "episode keys >= 0"))
        if errors:
            raise ValidationError(errors, title="invalid Escalations")

    def __len__(self) -> int:
        return len(self.policy)

    @classmethod
    def empty(cls) -> Escalations:
        """No escalation at all."""
        return cls(*([] for _ in range(8)))

    @classmethod
    def from_records(cls, records: Iterable[object]) -> Escalations:
        """From one mapping per event (for tests, services and hand-kept records).

        Each mapping has ``policy``, ``item``, ``episode``, ``level`` (0 or absent for a clearing),
        ``cleared`` (default false), ``at`` (an aware datetime or ns), and optionally ``target``
        and ``event_id``.

        Raises:
            ValidationError: Listing every bad field with its row.
        """
        from servicedelivery.metrics._options import as_instant  # noqa: PLC0415

        rows = list(records)
        errors: list[FieldError] = []
        columns: dict[str, list[Any]] = {name: [] for name in _FIELDS}
        for index, row in enumerate(rows):
            where = f"records[{index}]"
            if not isinstance(row, Mapping):
                errors.append(FieldError(where, row, "a mapping"))
                continue
            errors.extend(
                FieldError(f"{where}.{name}", MISSING, "a value")
                for name in ("policy", "item", "episode", "at")
                if name not in row
            )
            try:
                at = as_instant(row.get("at", 0), path=f"{where}.at")
            except ValidationError as error:
                errors.extend(error.errors)
                at = 0
            cleared = bool(row.get("cleared", False))
            columns["policy"].append(row.get("policy"))
            columns["item"].append(row.get("item"))
            columns["episode"].append(row.get("episode", 0))
            columns["level"].append(row.get("level", 0 if cleared else 1))
            columns["cleared"].append(cleared)
            columns["at"].append(at)
            columns["target"].append(row.get("target"))
            columns["event_id"].append(row.get("event_id"))
        if errors:
            raise ValidationError(errors, title="invalid escalation records")
        return cls(**columns)

    def extended(self, findings: Findings) -> Escalations:
        """These escalations and the new events of ``findings`` (raised, repeated, cleared).

        They are dated as the trail records them: ``findings.now`` to the microsecond.
        """
        new = findings.new()
        return Escalations(
            policy=np.concatenate([self.policy, new.policy]),
            item=np.concatenate([self.item, _texts(new.item)]),
            episode=np.concatenate([self.episode, new.episode]),
            level=np.concatenate([self.level, np.where(new.cleared, 0, new.level)]),
            cleared=np.concatenate([self.cleared, new.cleared]),
            at=np.concatenate([self.at, np.full(len(new), recorded_instant(new.now), np.int64)]),
            target=np.concatenate([self.target, new.target]),
            event_id=np.concatenate([self.event_id, np.full(len(new), None, dtype=object)]),
        )

    def take(self, rows: npt.NDArray[Any]) -> Escalations:
        """The events selected by a mask or by row numbers (in order)."""
        return Escalations(*(getattr(self, name)[rows] for name in _FIELDS))

    def as_of(self, now: int) -> Escalations:
        """The events at or before ``now``."""
        return self.take(self.at <= now)

    def of(self, policy: str) -> Escalations:
        """The events of one policy."""
        return self.take(self.policy == policy)

    def _title(self) -> str:
        return f"Escalations: {len(self):,} events"

    def _columns(self) -> list[Column]:
        return [
            Column("policy", self.policy),
            Column("item", self.item),
            Column("episode", self.episode),
            Column("level", self.level),
            Column("cleared", self.cleared),
            Column("at", self.at, Kind.INSTANT),
            Column("target", self.target),
            Column("event_id", self.event_id),
        ]


_FIELDS = ("policy", "item", "episode", "level", "cleared", "at", "target", "event_id")


class ItemIndex:
    """Finds frame item codes from item ids given as text, without a Python loop per item."""

    def __init__(self, items: npt.NDArray[Any]) -> None:
        text = items.astype(str) if items.dtype.kind != "U" else items
        order = np.argsort(text, kind="stable")
        self._sorted = text[order]
        self._order = order

    def codes(self, ids: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """The code of each id, ``-1`` for ids that are not items of the frame."""
        if not len(ids) or not len(self._sorted):
            return np.full(len(ids), -1, dtype=np.int64)
        text = ids.astype(str)
        where = np.minimum(np.searchsorted(self._sorted, text), len(self._sorted) - 1)
        found = self._sorted[where] == text
        codes: npt.NDArray[np.int64] = np.where(found, self._order[where], -1).astype(np.int64)
        return codes

    def subset(self, used: npt.NDArray[np.bool_]) -> ItemIndex:
        """The index of the items ``used`` selects, renumbered in order: ``ItemIndex(items[used])``.

        A subsequence of a sorted sequence is sorted, and the stable sort kept equal ids in item
        order, which renumbering keeps; so no sort is needed.
        """
        keep = used[self._order]
        renumber = np.cumsum(used, dtype=np.int64) - 1
        index = ItemIndex.__new__(ItemIndex)
        index._sorted = self._sorted[keep]
        index._order = renumber[self._order[keep]]
        return index


@attrs.frozen(eq=False)
class PolicyState:
    """One policy's escalations, per item of a frame.

    Attributes:
        open: Whether an escalation is open (raised, not cleared).
        episode: The open escalation's episode key (``INT64_MIN`` when none is open).
        level: The highest level raised in it (0 when none is open).
        notified: When it last notified: raised, escalated up or repeated (``INT64_MIN``).
        used_items: With ``used_keys``: every (item, episode) ever escalated.
        used_keys: See ``used_items``.
    """

    open: npt.NDArray[np.bool_]
    episode: npt.NDArray[np.int64]
    level: npt.NDArray[np.int16]
    notified: npt.NDArray[np.int64]
    used_items: npt.NDArray[np.int64]
    used_keys: npt.NDArray[np.int64]

    def used(self, items: npt.NDArray[Any], keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Whether each (item, episode key) was escalated before.

        Keys are ranked among all keys involved, which fit in 32 bits, so each pair packs into one
        ``int64`` and membership is one ``np.isin``.
        """
        if not len(self.used_keys) or not len(items):
            return np.zeros(len(items), dtype=np.bool_)
        _, ranks = np.unique(np.concatenate([self.used_keys, keys]), return_inverse=True)
        packed = (np.concatenate([self.used_items, items]).astype(np.int64) << 32) | ranks
        known = packed[: len(self.used_keys)]
        result: npt.NDArray[np.bool_] = np.isin(packed[len(self.used_keys) :], known)
        return result


def policy_state(
    escalations: Escalations, policy: str, codes: npt.NDArray[np.int64], count: int
) -> PolicyState:
    """One policy's state per item of a frame of ``count`` items.

    Args:
        escalations: Every escalation event.
        policy: The policy's name.
        codes: The frame item code of each event of ``escalations`` (``-1``: not in the frame).
        count: How many items the frame has.
    """
    mine = np.flatnonzero((escalations.policy == policy) & (codes >= 0))
    item = codes[mine]
    episode = escalations.episode[mine]
    cleared = escalations.cleared[mine]
    order = np.argsort(item, kind="stable")  # record order within each item
    raised = order[~cleared[order]]
    open_episode = np.full(count, _NONE, dtype=np.int64)
    if len(raised):
        raised_item = item[raised]
        last = np.flatnonzero(np.append(raised_item[1:] != raised_item[:-1], True))
        open_episode[raised_item[last]] = episode[raised[last]]
    # The events of each item's latest escalated episode: its level, its last notice, its clearing.
    current = episode == open_episode[item]
    level = np.zeros(count, dtype=np.int16)
    notified = np.full(count, _NONE, dtype=np.int64)
    closed = np.zeros(count, dtype=np.bool_)
    up = current & ~cleared
    np.maximum.at(level, item[up], escalations.level[mine][up])
    np.maximum.at(notified, item[up], escalations.at[mine][up])
    closed[item[current & cleared]] = True
    is_open = (open_episode != _NONE) & ~closed
    return PolicyState(
        open=is_open,
        episode=np.where(is_open, open_episode, _NONE),
        level=np.where(is_open, level, 0).astype(np.int16),
        notified=np.where(is_open, notified, _NONE),
        used_items=item,
        used_keys=episode,
    )

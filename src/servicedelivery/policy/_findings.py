"""Findings: what an evaluation found, one row per (policy, item), with explanations and evidence.

A row says what to do now (raise, repeat, clear) or what is going on (active, pending), at which
level, to whom, since when the condition has held (or stopped holding), and for which episode. Each
row explains itself: :meth:`Findings.explain` gives the condition tree with the value measured at
every leaf, :meth:`Findings.evidence` the ids of the events it rests on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum, unique
from typing import Any, Protocol

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._table import Column, Kind, Tabular
from servicedelivery.policy._explain import NodeFacts, describe, iso, plain
from servicedelivery.policy._policy import Variant
from servicedelivery.policy._truth import Leaf, Node

__all__ = [
    "ACTIONS",
    "ACTION_NAMES",
    "FindingAction",
    "Findings",
    "Part",
    "VariantPart",
    "concat",
    "explanation",
    "level_index",
]


@unique
class FindingAction(StrEnum):
    """What a finding asks for, or reports."""

    RAISE = "raise"
    """Raise an escalation: a new one, or a higher level of an open one. Recorded."""
    REPEAT = "repeat"
    """Notify the open escalation's target again: the repeat interval has passed. Recorded."""
    CLEAR = "clear"
    """Clear the open escalation: its condition has been false for ``clear_after``. Recorded."""
    ACTIVE = "active"
    """An open escalation with nothing new to do (its condition may be briefly false)."""
    PENDING = "pending"
    """The condition holds but has not held long enough for the first level yet."""


ACTIONS: tuple[FindingAction, ...] = tuple(FindingAction)
"""The actions in code order: ``Findings.action`` stores an index into it."""
ACTION_NAMES = np.array([a.value for a in ACTIONS], dtype=object)
"""The actions' names in code order."""
_NEW = np.array([a in (FindingAction.RAISE, FindingAction.REPEAT, FindingAction.CLEAR)
                 for a in ACTIONS])  # fmt: skip
_CLEAR = ACTIONS.index(FindingAction.CLEAR)
_QUEUED = np.array([a in (FindingAction.RAISE, FindingAction.REPEAT, FindingAction.ACTIVE)
                    for a in ACTIONS])  # fmt: skip
NO_DAY = np.datetime64("NaT", "D")


class Part(Protocol):
    """Where a group of rows gets its explanations and evidence."""

    def explain(self, row: int) -> dict[str, Any]:
        """The explanation of the part's row ``row``."""

    def evidence(self, row: int) -> tuple[Any, ...]:
        """The evidence of the part's row ``row``."""


def explanation(
    *,
    variant: Variant,
    action: FindingAction,
    level: int,
    target: str,
    holds: bool,
    since: int,
    when: Iterator[NodeFacts],
    level_when: Iterator[NodeFacts] | None,
) -> dict[str, Any]:
    """One finding's explanation as plain data (the same for the bulk and single-item paths)."""
    data: dict[str, Any] = {
        "policy": variant.policy.name,
        "action": action.value,
        "level": level,
        "target": target,
        "holds": holds,
        "since": iso(since),
    }
    if variant.scope is not None:
        data["scope"] = variant.scope.to_data()
    data["when"] = describe(variant.when, when)
    chosen = variant.levels[level_index(level, len(variant.levels))]
    if level_when is not None and chosen.when is not None:
        data["level_when"] = describe(chosen.when, level_when)
    if variant.playbook is not None:
        data["playbook"] = variant.playbook
    return data


def level_index(level: int, count: int) -> int:
    """The index of the level whose target and condition describe a row of ``level``.

    An escalation recorded at a level the policy no longer has (its levels were changed since)
    is described by the policy's last level.
    """
    return min(max(level, 1), count) - 1


def distinct_evidence(facts: Sequence[NodeFacts]) -> tuple[Any, ...]:
    """The evidence of the leaves, each event once, in the order of the leaves."""
    return tuple(dict.fromkeys(f.evidence for f in facts if f.evidence is not None))


@attrs.frozen(eq=False)
class VariantPart:
    """The explanations of one policy variant's rows, from the bulk path's node results.

    Attributes:
        variant: The variant.
        action: Each row's action code.
        level: Each row's level.
        target: Each row's target.
        holds: Whether each row's condition holds.
        since: Each row's ``since``.
        when: The condition's node results at the rows, in preorder.
        when_evidence: Each node's evidence at the rows (``None`` for combinations).
        level_when: Per level with its own condition, that condition's results at the rows.
        level_evidence: Their evidence, likewise.
    """

    variant: Variant
    action: npt.NDArray[np.int8]
    level: npt.NDArray[np.int16]
    target: npt.NDArray[Any]
    holds: npt.NDArray[np.bool_]
    since: npt.NDArray[np.int64]
    when: list[Node]
    when_evidence: list[npt.NDArray[Any] | None]
    level_when: dict[int, list[Node]]
    level_evidence: dict[int, list[npt.NDArray[Any] | None]]

    def _facts(
        self, nodes: list[Node], evidence: list[npt.NDArray[Any] | None], row: int
    ) -> list[NodeFacts]:
        facts = []
        for node, ids in zip(nodes, evidence, strict=True):
            if isinstance(node, Leaf):
                threshold = None if node.threshold is None else plain(node.threshold[row])
                facts.append(
                    NodeFacts(
                        bool(node.holds[row]),
                        int(node.since[row]),
                        plain(node.value[row]),
                        threshold,
                        None if ids is None else plain(ids[row]),
                    )
                )
            else:
                facts.append(NodeFacts(bool(node.holds[row]), int(node.since[row])))
        return facts

    def _all_facts(self, row: int) -> tuple[list[NodeFacts], list[NodeFacts] | None]:
        level = int(self.level[row])
        when = self._facts(self.when, self.when_evidence, row)
        index = level_index(level, len(self.variant.levels))
        if index in self.level_when:
            return when, self._facts(self.level_when[index], self.level_evidence[index], row)
        return when, None

    def explain(self, row: int) -> dict[str, Any]:
        """The explanation of row ``row``."""
        when, level_when = self._all_facts(row)
        return explanation(
            variant=self.variant,
            action=ACTIONS[int(self.action[row])],
            level=int(self.level[row]),
            target=str(self.target[row]),
            holds=bool(self.holds[row]),
            since=int(self.since[row]),
            when=iter(when),
            level_when=None if level_when is None else iter(level_when),
        )

    def evidence(self, row: int) -> tuple[Any, ...]:
        """The ids of the events row ``row`` rests on."""
        when, level_when = self._all_facts(row)
        return distinct_evidence(when + (level_when or []))


@attrs.frozen(eq=False)
class FixedPart:
    """Explanations and evidence computed beforehand, one per row."""

    explanations: list[dict[str, Any]]
    evidences: list[tuple[Any, ...]]

    def explain(self, row: int) -> dict[str, Any]:
        """The explanation of row ``row``."""
        return self.explanations[row]

    def evidence(self, row: int) -> tuple[Any, ...]:
        """The evidence of row ``row``."""
        return self.evidences[row]


@attrs.frozen(eq=False, repr=False)
class Findings(Tabular):
    """What an evaluation found, one row per (policy, item) with something to do or report.

    Rows come in the order of the policies, then of the items (for spike policies, of the groups).

    Attributes:
        now: The instant of the evaluation.
        policy: The policy's name.
        item: The item's id (for a spike policy, the group, such as ``"provider:acme"``).
        action: Index into :data:`ACTIONS`.
        level: The level raised, repeated, open or cleared (the next one when pending).
        target: Who it goes to, such as ``"queue:account_manager_acme"`` or ``"owner:provider"``.
        holds: Whether the condition holds at ``now``.
        since: Since when the condition has held (if it holds) or not held.
        episode: The episode key: the position of the event that opened the item's episode the
            finding belongs to (for a spike policy, the day's number since 1970-01-01).
        day: The day a spike policy found a spike on; ``NaT`` for item policies.
        part: Which entry of ``parts`` explains each row.
        part_row: The row's place in its part.
        parts: Where explanations come from.
    """

    now: int
    policy: npt.NDArray[Any]
    item: npt.NDArray[Any]
    action: npt.NDArray[np.int8]
    level: npt.NDArray[np.int16]
    target: npt.NDArray[Any]
    holds: npt.NDArray[np.bool_]
    since: npt.NDArray[np.int64]
    episode: npt.NDArray[np.int64]
    day: npt.NDArray[np.datetime64]
    part: npt.NDArray[np.int32]
    part_row: npt.NDArray[np.int64]
    parts: tuple[Part, ...]

    def __len__(self) -> int:
        return len(self.policy)

    @classmethod
    def empty(cls, now: int) -> Findings:
        """No finding."""
        return concat([], now=now)

    @property
    def actions(self) -> npt.NDArray[Any]:
        """Each row's action as its name."""
        result: npt.NDArray[Any] = ACTION_NAMES[self.action]
        return result

    @property
    def cleared(self) -> npt.NDArray[np.bool_]:
        """Whether each row clears an escalation."""
        result: npt.NDArray[np.bool_] = self.action == _CLEAR
        return result

    def take(self, rows: npt.NDArray[Any]) -> Findings:
        """The rows selected by a mask or by row numbers."""
        return attrs.evolve(
            self,
            **{name: getattr(self, name)[rows] for name in _ALIGNED},
        )

    def new(self) -> Findings:
        """The rows to record: raises, repeats and clearings."""
        return self.take(_NEW[self.action])

    def where(
        self,
        *,
        policy: str | None = None,
        item: object | None = None,
        action: FindingAction | str | None = None,
    ) -> Findings:
        """The rows of one policy, one item and/or one action."""
        mask = np.ones(len(self), dtype=np.bool_)
        if policy is not None:
            mask &= self.policy == policy
        if item is not None:
            mask &= self.item == item
        if action is not None:
            mask &= self.action == ACTIONS.index(FindingAction(action))
        return self.take(mask)

    def queue(self, name: str) -> Findings:
        """The items in a queue now: rows raised, repeated or active with target ``queue:name``."""
        return self.take(_QUEUED[self.action] & (self.target == f"queue:{name}"))

    def explain(self, row: int) -> dict[str, Any]:
        """Row ``row``'s explanation, as plain data.

        It holds the policy, the condition tree with the value measured at each leaf (``value``,
        ``threshold``, ``holds``, ``since``, ``evidence``), the level's target and the playbook.

        Raises:
            ValidationError: ``row`` is out of range.
        """
        index = self._row(row)
        return self.parts[int(self.part[index])].explain(int(self.part_row[index]))

    def evidence(self, row: int) -> tuple[Any, ...]:
        """The ids of the events row ``row`` rests on (positions when the frame has no ids).

        Raises:
            ValidationError: ``row`` is out of range.
        """
        index = self._row(row)
        return self.parts[int(self.part[index])].evidence(int(self.part_row[index]))

    def _row(self, row: int) -> int:
        given: object = row
        if not isinstance(given, (int, np.integer)) or not -len(self) <= row < len(self):
            raise ValidationError.single("row", row, f"a row number below {len(self)}")
        return int(row) % len(self)

    def records(self) -> list[dict[str, Any]]:
        """Every row as plain data (JSON-compatible), with its explanation and evidence."""
        records = []
        for row in range(len(self)):
            record: dict[str, Any] = {
                "policy": str(self.policy[row]),
                "item": plain(self.item[row]),
                "action": ACTIONS[int(self.action[row])].value,
                "level": int(self.level[row]),
                "target": str(self.target[row]),
                "holds": bool(self.holds[row]),
                "since": iso(int(self.since[row])),
                "episode": int(self.episode[row]),
            }
            if not np.isnat(self.day[row]):
                record["day"] = str(self.day[row])
            record["explanation"] = self.explain(row)
            record["evidence"] = list(self.evidence(row))
            records.append(record)
        return records

    def _title(self) -> str:
        counts = ", ".join(
            f"{int(np.count_nonzero(self.action == code))} {action.value}"
            for code, action in enumerate(ACTIONS)
            if np.count_nonzero(self.action == code)
        )
        rows = "row" if len(self) == 1 else "rows"
        return f"Findings at {iso(self.now)}: {len(self):,} {rows}" + (
            f" ({counts})" if counts else ""
        )

    def _columns(self) -> list[Column]:
        columns = [
            Column("policy", self.policy),
            Column("item", self.item),
            Column("action", self.actions),
            Column("level", self.level),
            Column("target", self.target),
            Column("holds", self.holds),
            Column("since", self.since, Kind.INSTANT),
            Column("episode", self.episode),
        ]
        if not np.isnat(self.day).all():
            columns.append(Column("day", self.day, Kind.DATE))
        return columns


_ALIGNED = (
    "policy",
    "item",
    "action",
    "level",
    "target",
    "holds",
    "since",
    "episode",
    "day",
    "part",
    "part_row",
)


@attrs.frozen(eq=False)
class Rows:
    """Rows of findings from one source, before they are put together."""

    policy: str
    item: npt.NDArray[Any]
    action: npt.NDArray[np.int8]
    level: npt.NDArray[np.int16]
    target: npt.NDArray[Any]
    holds: npt.NDArray[np.bool_]
    since: npt.NDArray[np.int64]
    episode: npt.NDArray[np.int64]
    part: Part
    order: npt.NDArray[np.int64]
    day: npt.NDArray[np.datetime64] | None = None


def concat(groups: Sequence[Sequence[Rows]], *, now: int) -> Findings:
    """Findings from groups of rows: groups in order, and within a group by ``order``."""
    columns: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in _ALIGNED}
    parts: list[Part] = []
    for group in groups:
        if not group:
            continue
        order = np.concatenate([rows.order for rows in group])
        sort = np.argsort(order, kind="stable")
        pieces: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in _ALIGNED}
        for rows in group:
            count = len(rows.item)
            pieces["policy"].append(np.full(count, rows.policy, dtype=object))
            for name in ("item", "action", "level", "target", "holds", "since", "episode"):
                pieces[name].append(getattr(rows, name))
            pieces["day"].append(
                np.full(count, NO_DAY) if rows.day is None else rows.day.astype("M8[D]")
            )
            pieces["part"].append(np.full(count, len(parts), dtype=np.int32))
            pieces["part_row"].append(np.arange(count, dtype=np.int64))
            parts.append(rows.part)
        for name, values in pieces.items():
            columns[name].append(np.concatenate(values)[sort])
    dtypes: dict[str, Any] = {
        "policy": object,
        "item": object,
        "action": np.int8,
        "level": np.int16,
        "target": object,
        "holds": np.bool_,
        "since": np.int64,
        "episode": np.int64,
        "day": "M8[D]",
        "part": np.int32,
        "part_row": np.int64,
    }
    arrays = {
        name: (
            np.concatenate(values).astype(dtypes[name])
            if values
            else np.zeros(0, dtype=dtypes[name])
        )
        for name, values in columns.items()
    }
    return Findings(now=now, parts=tuple(parts), **arrays)

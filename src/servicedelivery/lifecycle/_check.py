"""What validating a history finds: every violation, and the state of every item."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum, unique
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import OptionalDependencyError
from servicedelivery.lifecycle._definition import Guard

if TYPE_CHECKING:
    import pandas as pd

    from servicedelivery.lifecycle._lifecycle import Lifecycle

__all__ = ["HistoryCheck", "ViolationKind"]

_SHOWN = 10


@unique
class ViolationKind(IntEnum):
    """Why an event of a history is refused; its value is its code in ``HistoryCheck.kinds``.

    An integer enum, because kinds live in ``int8`` arrays: ``check.kinds ==
    ViolationKind.MISSING_OWNER`` selects the events refused for a missing owner.
    """

    ILLEGAL_TRIGGER = 0
    """The trigger is not allowed from the item's state."""
    ILLEGAL_TARGET = 1
    """No transition leads from the item's state to the recorded state."""
    MISSING_REASON = 2
    """The move needs a blocked reason and the event has none."""
    MISSING_OWNER = 3
    """The move needs an owner and the event has none."""
    OWNER_MISMATCH = 4
    """The owner is not the reason's default owner, and the event declares no override."""

    @property
    def label(self) -> str:
        """The kind's name in data and reports, such as ``"missing_owner"``."""
        return self.name.lower()

    @classmethod
    def of_guard(cls, guard: Guard) -> ViolationKind:
        """The kind of violation reported when ``guard`` fails."""
        return _GUARD_KINDS[guard]


_GUARD_KINDS = {
    Guard.NEEDS_REASON: ViolationKind.MISSING_REASON,
    Guard.NEEDS_OWNER: ViolationKind.MISSING_OWNER,
    Guard.OWNER_MATCHES_REASON: ViolationKind.OWNER_MISMATCH,
}
_KIND_LABELS = tuple(kind.label for kind in ViolationKind)


def _array(**kwargs: Any) -> Any:
    return attrs.field(repr=False, **kwargs)


@attrs.frozen(eq=False)
class HistoryCheck:
    """The outcome of validating a history with a lifecycle's table.

    An illegal event is reported and leaves its item's state unchanged, exactly as the machine
    refuses it. Arrays named per event are aligned with the input arrays, whatever order the events
    were replayed in.

    Attributes:
        lifecycle: The lifecycle whose state codes the arrays hold.
        by: ``"trigger"`` when the history recorded triggers, ``"state"`` when it recorded states.
        positions: ``int64`` indices into the input arrays of every violating event, ascending.
        kinds: ``int8`` :class:`ViolationKind` codes aligned with ``positions``.
        attempted: The trigger codes (or, by state, the state codes) the violating events
            recorded, aligned with ``positions``.
        violating_items: The item of each violating event, aligned with ``positions``.
        states_before: ``int8`` state code before each event, aligned with the input.
        states_after: ``int8`` state code after each event, aligned with the input.
        items: Each distinct item, ascending (codes, or ids when ids were given).
        final_states: ``int8`` state code of each item after its last event, aligned with ``items``.
    """

    lifecycle: Lifecycle = attrs.field(repr=False)
    by: str
    positions: npt.NDArray[np.int64] = _array()
    kinds: npt.NDArray[np.int8] = _array()
    attempted: npt.NDArray[np.int16] = _array()
    violating_items: npt.NDArray[Any] = _array()
    states_before: npt.NDArray[np.int8] = _array()
    states_after: npt.NDArray[np.int8] = _array()
    items: npt.NDArray[Any] = _array()
    final_states: npt.NDArray[np.int8] = _array()

    @property
    def ok(self) -> bool:
        """Whether the history has no violation."""
        return len(self.positions) == 0

    @property
    def events(self) -> int:
        """How many events the history holds."""
        return len(self.states_after)

    def counts(self) -> dict[ViolationKind, int]:
        """How many violations of each kind, for the kinds that occur, in kind order."""
        tally = np.bincount(self.kinds, minlength=len(ViolationKind))
        return {kind: int(tally[kind]) for kind in ViolationKind if tally[kind]}

    def final_state_counts(self) -> dict[str, int]:
        """How many items end in each state, for the states that occur, in code order."""
        tally = np.bincount(self.final_states, minlength=len(self.lifecycle.state_names))
        return {
            name: int(count)
            for name, count in zip(self.lifecycle.state_names, tally, strict=True)
            if count
        }

    def summary(self) -> str:
        """A short readable report: totals, violations by kind, and the first few violations."""
        head = (
            f"lifecycle {self.lifecycle.name!r}: {self.events:,} events of "
            f"{len(self.items):,} items by {self.by}"
        )
        if self.ok:
            return head + "; no violations"
        counts = ", ".join(f"{kind.label} {count:,}" for kind, count in self.counts().items())
        total = len(self.positions)
        lines = [f"{head}; {total:,} violation{'s' if total != 1 else ''} ({counts})"]
        key = self._attempted_key()
        lines.extend(
            f"  event {record['position']}, item {record['item']!r}: {record['kind']} "
            f"({record[key]!r} from {record['state']!r})"
            for record in self.to_records(limit=_SHOWN)
        )
        if len(self.positions) > _SHOWN:
            lines.append(f"  ... and {len(self.positions) - _SHOWN:,} more")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<HistoryCheck {self.summary().splitlines()[0]}>"

    def _attempted_key(self) -> str:
        return "trigger" if self.by == "trigger" else "target"

    def _names(self) -> tuple[str, ...]:
        return self.lifecycle.trigger_names if self.by == "trigger" else self.lifecycle.state_names

    def to_records(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """The violations as plain records, in input order.

        Each record has ``position``, ``item``, ``kind`` (a :class:`ViolationKind` label) and
        ``state`` (the state the item was in), and the name of what the event recorded: under
        ``trigger`` for a trigger history, under ``target`` for a state history.

        Args:
            limit: At most this many records (the first ones); all by default.
        """
        count = len(self.positions) if limit is None else min(limit, len(self.positions))
        names = self._names()
        states = self.lifecycle.state_names
        key = self._attempted_key()
        before = self.states_before[self.positions[:count]]
        return [
            {
                "position": int(self.positions[index]),
                "item": self.violating_items[index].item(),
                "kind": _KIND_LABELS[self.kinds[index]],
                "state": states[before[index]],
                key: names[self.attempted[index]],
            }
            for index in range(count)
        ]

    def to_pandas(self) -> pd.DataFrame:
        """The violations as a pandas ``DataFrame`` (pandas is an optional dependency).

        Columns: ``position``, ``item``, and categoricals ``kind``, ``state`` and ``trigger`` (or
        ``target`` for state histories).

        Raises:
            OptionalDependencyError: pandas is not installed.
        """
        try:
            import pandas as pd  # noqa: PLC0415 - an optional package, imported when used
        except ImportError:
            raise OptionalDependencyError(
                "pandas", extra="pandas", purpose="HistoryCheck.to_pandas"
            ) from None

        def categorical(codes: npt.NDArray[np.integer], names: Sequence[str]) -> Any:
            return pd.Categorical.from_codes(codes, categories=pd.Index(list(names)))

        before = self.states_before[self.positions]
        return pd.DataFrame(
            {
                "position": self.positions,
                "item": self.violating_items,
                "kind": categorical(self.kinds, _KIND_LABELS),
                "state": categorical(before, self.lifecycle.state_names),
                self._attempted_key(): categorical(self.attempted, self._names()),
            }
        )

"""Replay: every milestone's situation, folded from the trail, now or as of any past instant.

Replay works on :class:`EventColumns` with the lifecycle's compiled table, so it folds millions of
events without a Python loop per event or per milestone. The result is a
:class:`PortfolioView`: one row per milestone, with its state, owner, reason, since when, target
date and analytics attributes, and the positions of the events each figure comes from.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.eventlog._columns import NO_TARGET, EventColumns, categorical_maker, pandas
from servicedelivery.eventlog._streams import StreamKind
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    OWNERS,
    STATES,
    Milestone,
    MilestoneState,
    Taxonomy,
    from_epoch_ns,
    to_epoch_ns,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PortfolioView", "replay"]

_TARGET_KINDS = ("milestone.planned", "milestone.target_date_changed")
_PREFIX = f"{StreamKind.MILESTONE}:"

Codes = npt.NDArray[np.int32]
Objects = npt.NDArray[np.object_]


def _array_field() -> Any:
    return attrs.field(eq=False, repr=False)


@attrs.frozen(eq=False, kw_only=True)
class PortfolioView:
    """Every milestone's situation, one row per milestone, sorted by id.

    Attributes:
        items: Milestone ids.
        state: int16 codes into ``state_names`` (the lifecycle's states).
        state_names: The lifecycle's state names.
        category: int8 canonical state codes, into ``model.STATES``.
        owner: int8 codes into ``model.OWNERS`` while blocked; -1 otherwise.
        reason: int16 codes into ``reasons`` while blocked; -1 otherwise.
        reasons: The taxonomy's reason codes.
        since_ns: When the milestone entered its current state (ns since the epoch, UTC).
        since_position: The position of the event that put it there.
        target_ns: Its target date (ns), ``NO_TARGET`` when none.
        planned_ns: When it was planned.
        last_position: The position of its last event taken into account.
        sequence: Its sequence within its order.
        attributes: ``order_id``, ``step`` and the attributes recorded when it was planned: int32
            codes and sorted categories.
        as_of_ns: The instant the view describes (ns), or ``None`` for the end of the log.
        violations: Positions of recorded events the lifecycle refuses, which left their milestone
            unchanged (always empty for a log this library wrote with the same lifecycle).
    """

    items: Objects = _array_field()
    state: npt.NDArray[np.int16] = _array_field()
    state_names: tuple[str, ...] = _array_field()
    category: npt.NDArray[np.int8] = _array_field()
    owner: npt.NDArray[np.int8] = _array_field()
    reason: npt.NDArray[np.int16] = _array_field()
    reasons: tuple[str, ...] = _array_field()
    since_ns: npt.NDArray[np.int64] = _array_field()
    since_position: npt.NDArray[np.int64] = _array_field()
    target_ns: npt.NDArray[np.int64] = _array_field()
    planned_ns: npt.NDArray[np.int64] = _array_field()
    last_position: npt.NDArray[np.int64] = _array_field()
    sequence: npt.NDArray[np.int32] = _array_field()
    attributes: Mapping[str, tuple[Codes, Objects]] = _array_field()
    as_of_ns: int | None = None
    violations: npt.NDArray[np.int64] = _array_field()

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        counts = np.bincount(self.category, minlength=len(STATES))
        tally = ", ".join(
            f"{state.value} {n}" for state, n in zip(STATES, counts, strict=True) if n
        )
        when = "now" if self.as_of_ns is None else from_epoch_ns(self.as_of_ns).isoformat()
        return f"<PortfolioView as of {when}: {len(self)} milestones ({tally or 'none'})>"

    def row(self, item: str) -> int:
        """The row of milestone ``item``.

        Raises:
            ValidationError: No milestone has this id in the view.
        """
        index = int(np.searchsorted(self.items, item))
        if index < len(self.items) and self.items[index] == item:
            return index
        raise ValidationError.single("item", item, "the id of a milestone in the view")

    def milestone(self, item: str) -> Milestone:
        """The milestone ``item`` as a ``model.Milestone``.

        Raises:
            ValidationError: No milestone has this id in the view.
        """
        i = self.row(item)
        name = self.state_names[self.state[i]]
        category = STATES[self.category[i]]
        order_codes, orders = self.attributes["order_id"]
        step_codes, steps = self.attributes["step"]
        return Milestone(
            id=item,
            order_id=orders[order_codes[i]],
            step=steps[step_codes[i]],
            sequence=max(int(self.sequence[i]), 0),
            state=category,
            owner=None if self.owner[i] < 0 else OWNERS[self.owner[i]],
            reason=None if self.reason[i] < 0 else self.reasons[self.reason[i]],
            target_at=None if self.target_ns[i] == NO_TARGET else from_epoch_ns(self.target_ns[i]),
            status=None if name == category.value else name,
        )

    def milestones(self, items: Iterable[str]) -> tuple[Milestone, ...]:
        """The milestones ``items`` as ``model.Milestone`` objects, for a few of them."""
        return tuple(self.milestone(item) for item in items)

    def select(self, category: MilestoneState) -> npt.NDArray[np.bool_]:
        """A mask of the milestones whose canonical state is ``category``."""
        return np.asarray(self.category == STATES.index(category))

    def to_pandas(self) -> pd.DataFrame:
        """One row per milestone, categorical codes as pandas categoricals.

        Raises:
            OptionalDependencyError: pandas is not installed.
        """
        module = pandas("PortfolioView.to_pandas()")

        categorical = categorical_maker(module)
        frame: pd.DataFrame = module.DataFrame(
            {
                "item": self.items,
                "state": categorical(self.state, self.state_names),
                "category": categorical(self.category, [s.value for s in STATES]),
                "owner": categorical(self.owner, [o.value for o in OWNERS]),
                "reason": categorical(self.reason, self.reasons),
                "since": module.to_datetime(self.since_ns, utc=True),
                "since_position": self.since_position,
                "target_at": module.to_datetime(self.target_ns, utc=True),
                "planned_at": module.to_datetime(self.planned_ns, utc=True),
                "last_position": self.last_position,
                "sequence": self.sequence,
            }
        )
        for key, (codes, categories) in self.attributes.items():
            frame[key] = categorical(codes, categories)
        return frame


def replay(
    columns: EventColumns,
    *,
    lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    as_of: dt.datetime | int | None = None,
) -> PortfolioView:
    """Fold the milestone events of ``columns`` into every milestone's situation.

    A milestone is in ``lifecycle.initial`` from its stream's first event, then moves with every
    transition; an event the lifecycle refuses is reported in ``violations`` and changes nothing,
    as the lifecycle specifies. While blocked, a milestone carries the owner and reason of the
    last transition that named them.

    Args:
        columns: The log's columns (``log.read_columns()``), read with this lifecycle and taxonomy.
        lifecycle: The lifecycle the columns' trigger codes belong to.
        taxonomy: The taxonomy the columns' reason codes belong to.
        as_of: Describe the portfolio at this instant (an aware datetime or ns since the epoch):
            only events that occurred at or before it count. Occurrence time never goes back within
            a stream, so this is a prefix of every stream. The end of the log by default.

    Raises:
        ValidationError: The columns were read with another lifecycle or taxonomy, or ``as_of`` is
            naive.
    """
    errors = []
    if columns.triggers != lifecycle.trigger_names:
        errors.append(FieldError("columns.triggers", columns.triggers, "the lifecycle's triggers"))
    if columns.reasons != taxonomy.codes:
        errors.append(FieldError("columns.reasons", columns.reasons, "the taxonomy's codes"))
    if errors:
        raise ValidationError(errors, title="columns read with another lifecycle or taxonomy")
    as_of_ns = (
        None
        if as_of is None
        else int(as_of)
        if isinstance(as_of, (int, np.integer))
        else to_epoch_ns(as_of, path="as_of")
    )
    groups = _Groups(columns, as_of_ns)
    fold = _Fold(groups, columns, lifecycle, taxonomy)
    category_of = np.array(
        [STATES.index(lifecycle.category(name)) for name in lifecycle.state_names], dtype=np.int8
    )
    first = groups.rows[groups.starts]
    return PortfolioView(
        items=_entity_ids(columns.streams[groups.stream[groups.starts]]),
        state=fold.state,
        state_names=lifecycle.state_names,
        category=category_of[fold.state],
        owner=fold.owner,
        reason=fold.reason,
        reasons=taxonomy.codes,
        since_ns=fold.since_ns,
        since_position=fold.since_position,
        target_ns=_targets(groups, columns),
        planned_ns=columns.occurred_ns[first],
        last_position=columns.position[groups.rows[groups.ends]],
        sequence=columns.sequence[first],
        attributes={
            key: (codes[first], categories)
            for key, (codes, categories) in columns.attributes.items()
        },
        as_of_ns=as_of_ns,
        violations=fold.violations,
    )


def _entity_ids(streams: Objects) -> Objects:
    """The entity ids of milestone stream ids: each without its ``"milestone:"`` prefix.

    numpy applies the C-level slice to every element; fixed-width text would drop trailing NULs.
    """
    return np.asarray(_WITHOUT_PREFIX(streams), dtype=object)


_WITHOUT_PREFIX = np.frompyfunc(operator.itemgetter(slice(len(_PREFIX), None)), 1, 1)
_IS_MILESTONE = np.frompyfunc(operator.methodcaller("startswith", _PREFIX), 1, 1)


class _Groups:
    """The rows of milestone streams, grouped by stream and in position order within a group."""

    def __init__(self, columns: EventColumns, as_of_ns: int | None) -> None:
        # Milestone streams, by a vectorized test of their ids' prefix.
        is_milestone = np.asarray(_IS_MILESTONE(columns.streams), dtype=bool)
        keep = is_milestone[columns.stream] if len(is_milestone) else np.zeros(0, dtype=bool)
        if as_of_ns is not None:
            keep &= columns.occurred_ns <= as_of_ns
        rows = np.flatnonzero(keep)
        # A stable sort keeps position order within each stream.
        self.rows = rows[np.argsort(columns.stream[rows], kind="stable")]
        self.stream = columns.stream[self.rows]
        change = np.r_[True, self.stream[1:] != self.stream[:-1]] if len(rows) else keep[:0]
        self.starts = np.flatnonzero(change)
        self.ends = np.r_[self.starts[1:], len(self.rows)][: len(self.starts)] - 1
        self.group = np.cumsum(change) - 1
        self.count = len(self.starts)


class _Fold:
    """Each group's state, since when, owner and reason, from the lifecycle's table."""

    def __init__(
        self, groups: _Groups, columns: EventColumns, lifecycle: Lifecycle, taxonomy: Taxonomy
    ) -> None:
        n = groups.count
        initial = lifecycle.state_names.index(lifecycle.initial)
        first = groups.rows[groups.starts]
        self.state = np.full(n, initial, dtype=np.int16)
        self.since_ns = columns.occurred_ns[first].copy()
        self.since_position = columns.position[first].copy()
        self.owner = np.full(n, -1, dtype=np.int8)
        self.reason = np.full(n, -1, dtype=np.int16)
        self.violations = np.zeros(0, dtype=np.int64)
        # A stream's first event puts the milestone in the initial state, whatever it is.
        opening = np.zeros(len(groups.rows), dtype=bool)
        opening[groups.starts] = True
        transitions = np.flatnonzero((columns.trigger[groups.rows] >= 0) & ~opening)
        if not len(transitions):
            return
        events = groups.rows[transitions]
        items = groups.group[transitions]
        check = lifecycle.table.validate(
            items,
            columns.trigger[events],
            owners=columns.owner[events],
            reasons=columns.reason[events],
            overrides=columns.override[events],
            taxonomy=taxonomy,
        )
        after = np.asarray(check.states_after, dtype=np.int16)
        self.state[np.asarray(check.items, dtype=np.int64)] = np.asarray(check.final_states)
        legal = np.ones(len(events), dtype=bool)
        legal[np.asarray(check.positions, dtype=np.int64)] = False
        self.violations = np.sort(columns.position[events[~legal]])
        first_of_item = np.r_[True, items[1:] != items[:-1]]
        last_of_item = np.r_[items[1:] != items[:-1], True]
        changes = np.flatnonzero(after != np.asarray(check.states_before, dtype=np.int16))
        if len(changes):
            # The last change of each item is where the item of the next change differs.
            last = changes[np.r_[items[changes][1:] != items[changes][:-1], True]]
            self.since_ns[items[last]] = columns.occurred_ns[events[last]]
            self.since_position[items[last]] = columns.position[events[last]]
        blocked = np.array(
            [lifecycle.category(name) is MilestoneState.BLOCKED for name in lifecycle.state_names]
        )[after]
        # An event after which the item is not blocked clears owner and reason; a legal event into
        # a blocked state that names them sets them; any other event (an illegal one, or a
        # blocked-to-blocked move that names nothing) keeps the previous ones. Keeping is a forward
        # fill: each event points at the last event up to itself that decided, found with a
        # running maximum of row numbers. Every item's first event decides, so a fill never
        # crosses into another item.
        row = np.arange(len(events))
        for values, out in (
            (columns.owner[events], self.owner),
            (columns.reason[events], self.reason),
        ):
            names_it = legal & blocked & (values >= 0)
            decides = first_of_item | ~blocked | names_it
            source = np.maximum.accumulate(np.where(decides, row, 0))
            out[items[last_of_item]] = np.where(names_it, values, -1)[source[last_of_item]]


def _targets(groups: _Groups, columns: EventColumns) -> npt.NDArray[np.int64]:
    """Each group's target: the one set by its last planned or target-date event."""
    target_ns = np.full(groups.count, NO_TARGET, dtype=np.int64)
    codes = [columns.kinds.index(kind) for kind in _TARGET_KINDS if kind in columns.kinds]
    setters = np.flatnonzero(np.isin(columns.kind[groups.rows], codes))
    if len(setters):
        # Rows are sorted by group, so a group's last setter is where the next setter's group differs.
        owners = groups.group[setters]
        last = setters[np.r_[owners[1:] != owners[:-1], True]]
        target_ns[groups.group[last]] = columns.target_ns[groups.rows[last]]
    return target_ns

"""Whether each item's condition holds at ``now``, and since when: the bulk kernels.

Every node of a condition tree gets, per item, ``holds`` (its truth at ``now``) and ``since`` (the
start of the interval, ending at ``now``, over which its truth has been what it is now, as far as
the node's *window* lets us see; see the "Policy semantics" explanation page):

- a field leaf's truth changes only at the item's events, so ``since`` is the instant of the first
  event of the last run of events with the same truth: exact;
- a measure leaf follows :mod:`servicedelivery.policy._measures`;
- ``all_of`` holds since the latest of its children's starts (exact); while false, it has been false
  at least since the earliest start among its false children;
- ``any_of`` holds at least since the earliest start among its true children; while false, it has
  been false since the latest of its children's starts (exact);
- ``not_`` swaps the truth and keeps ``since``.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError, join_path
from servicedelivery.metrics._episodes import Marked
from servicedelivery.model import OWNERS, STATES
from servicedelivery.policy._conditions import (
    AllOf,
    Condition,
    FieldTest,
    MeasureTest,
    Not,
    Op,
)
from servicedelivery.policy._context import LATEST, Context

__all__ = ["Leaf", "Node", "evaluate_condition"]

_STATE_NAMES = np.array([state.value for state in STATES], dtype=object)
_OWNER_NAMES = np.array([owner.value for owner in OWNERS], dtype=object)


@attrs.frozen(eq=False)
class Node:
    """One node's results for the items evaluated.

    Attributes:
        holds: Whether it holds at ``now``.
        since: Since when it has held (or not held).
    """

    holds: npt.NDArray[np.bool_]
    since: npt.NDArray[np.int64]

    def take(self, rows: npt.NDArray[np.intp]) -> Node:
        """The results of some of the items."""
        return Node(self.holds[rows], self.since[rows])


@attrs.frozen(eq=False)
class Leaf(Node):
    """A leaf's results: the node's, plus what was measured and the event it rests on.

    Attributes:
        value: The field's value (label, ``None`` when missing) or the measure's value (``int64``
            ns with ``INT64_MIN`` when undefined, or ``float64`` with NaN).
        threshold: The threshold each item was compared with (durations resolved per item), or
            ``None`` for fields.
        anchor: The frame row of the event the leaf rests on, ``-1`` for none.
    """

    value: npt.NDArray[Any]
    threshold: npt.NDArray[Any] | None
    anchor: npt.NDArray[np.int64]

    def take(self, rows: npt.NDArray[np.intp]) -> Leaf:
        """The results of some of the items."""
        return Leaf(
            self.holds[rows],
            self.since[rows],
            self.value[rows],
            None if self.threshold is None else self.threshold[rows],
            self.anchor[rows],
        )


def evaluate_condition(
    ctx: Context, condition: Condition, items: npt.NDArray[np.intp], path: str
) -> list[Node]:
    """Every node of ``condition`` for ``items``, in preorder (a node, then its children).

    Raises:
        ValidationError: A leaf that cannot be evaluated on this frame (an unknown attribute or
            reason, working time without calendars, a missing SLA), with its path.
    """
    results: list[Node] = []
    _evaluate(ctx, condition, items, path, results)
    return results


def _evaluate(
    ctx: Context, condition: Condition, items: npt.NDArray[np.intp], path: str, out: list[Node]
) -> Node:
    if isinstance(condition, FieldTest):
        leaf: Node = field_leaf(ctx, condition, items, path)
        out.append(leaf)
        return leaf
    if isinstance(condition, MeasureTest):
        from servicedelivery.policy._measures import measure_leaf  # noqa: PLC0415 - cycle

        leaf = measure_leaf(ctx, condition, items, path)
        out.append(leaf)
        return leaf
    slot = len(out)
    out.append(Node(np.zeros(0, bool), np.zeros(0, np.int64)))  # filled once children are known
    if isinstance(condition, Not):
        child = _evaluate(ctx, condition.condition, items, join_path(path, "not"), out)
        node = Node(~child.holds, child.since)
    else:
        name = condition.combinator
        children = [
            _evaluate(ctx, child, items, join_path(path, f"{name}[{index}]"), out)
            for index, child in enumerate(condition.conditions)
        ]
        node = combine(isinstance(condition, AllOf), children)
    out[slot] = node
    return node


def combine(every: bool, children: list[Node]) -> Node:
    """``all_of`` (``every``) or ``any_of`` of the children's results (see the module docstring)."""
    holds = np.stack([child.holds for child in children])
    since = np.stack([child.since for child in children])
    latest = since.max(axis=0)
    if every:
        result = np.asarray(holds.all(axis=0), dtype=np.bool_)
        # False: the earliest start among the children that are false.
        earliest_false = np.where(holds, LATEST, since).min(axis=0)
        return Node(result, np.where(result, latest, earliest_false))
    result = np.asarray(holds.any(axis=0), dtype=np.bool_)
    earliest_true = np.where(holds, since, LATEST).min(axis=0)
    return Node(result, np.where(result, earliest_true, latest))


# -------------------------------------------------------------------------------------- fields


def field_leaf(ctx: Context, test: FieldTest, items: npt.NDArray[np.intp], path: str) -> Leaf:
    """A field leaf: truth per event, then each item's last run of events with its current truth."""
    codes, labels = field_codes(ctx, test.field, path)
    wanted = _wanted_codes(test, labels, ctx, path)
    truth = np.isin(codes, wanted)
    if test.op in (Op.NE, Op.NOT_IN):
        truth = ~truth
    frame = ctx.frame
    last_row = frame.offsets[1:] - 1
    # A run starts at an item's first row or where the truth differs from the row before.
    change = np.ones(len(truth), dtype=np.bool_)
    if len(truth):
        np.not_equal(truth[1:], truth[:-1], out=change[1:])
        change[frame.offsets[:-1]] = True
    run = Marked(change, frame.offsets).last()[items]
    last = last_row[items]
    table = np.empty(len(labels) + 1, dtype=object)
    table[:-1] = labels
    return Leaf(
        holds=truth[last],
        since=frame.time[run],
        value=table[codes[last]],
        threshold=None,
        anchor=run.astype(np.int64),
    )


def field_codes(ctx: Context, name: str, path: str) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The codes of a field on every frame row (attributes carried forward) and their labels.

    Raises:
        ValidationError: The field is not an attribute of the frame.
    """
    cache: dict[str, tuple[npt.NDArray[Any], npt.NDArray[Any]]] = ctx.__dict__.setdefault(
        "_field_codes", {}
    )
    if name in cache:
        return cache[name]
    frame = ctx.frame
    result: tuple[npt.NDArray[Any], npt.NDArray[Any]]
    if name == "state":
        result = (frame.state, _STATE_NAMES)
    elif name == "owner":
        result = (frame.owner, _OWNER_NAMES)
    elif name == "reason":
        result = (frame.reason, np.array(frame.taxonomy.codes, dtype=object))
    elif name in frame.attributes:
        column = frame.attributes[name]
        result = (carried(column.codes, frame.offsets), np.asarray(column.categories, object))
    else:
        known = ", ".join(["state", "owner", "reason", *frame.attributes])
        raise ValidationError.single(
            join_path(path, "field"), name, f"a field of the frame ({known})"
        )
    cache[name] = result
    return result


def carried(codes: npt.NDArray[np.int32], offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    """An attribute's code on every row: the last value recorded at or before it, for its item.

    The running maximum of the row numbers that carry a value is the last such row; it belongs to
    the same item when it is not before the item's first row.
    """
    rows = np.arange(len(codes))
    last = np.maximum.accumulate(np.where(codes >= 0, rows, -1)) if len(codes) else rows
    first = np.repeat(offsets[:-1], np.diff(offsets))
    result: npt.NDArray[np.int32] = np.where(last >= first, codes[np.maximum(last, 0)], -1).astype(
        np.int32
    )
    return result


def _wanted_codes(
    test: FieldTest, labels: npt.NDArray[Any], ctx: Context, path: str
) -> npt.NDArray[np.int64]:
    index = {str(label): code for code, label in enumerate(labels.tolist())}
    if test.field == "reason":
        unknown = [value for value in test.values if value not in index]
        if unknown:
            raise ValidationError.single(
                join_path(path, test.op.value),
                unknown[0] if len(unknown) == 1 else unknown,
                f"reason codes of the frame's taxonomy ({', '.join(ctx.frame.taxonomy.codes)})",
            )
    # A value the frame never saw matches nothing: -2 is no code (missing values are -1).
    return np.array([index.get(value, -2) for value in test.values], dtype=np.int64)

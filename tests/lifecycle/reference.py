"""A slow, obvious reference for the lifecycle: plain Python, read straight from the rules.

It shares no code with the library's scalar check, machine or table: it walks the declared rules
each time, and replays a history event by event in (item, time, position) order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from servicedelivery.lifecycle import Guard, Lifecycle
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    OWNERS,
    Milestone,
    MilestoneState,
    Owner,
    Taxonomy,
)

# The default lifecycle's moves, written out by hand from the issue: an independent statement of
# what DEFAULT_LIFECYCLE must do (guards aside).
DEFAULT_MOVES = {
    ("planned", "start"): "in_progress",
    ("planned", "block"): "blocked",
    ("in_progress", "block"): "blocked",
    ("blocked", "reclassify"): "blocked",
    ("blocked", "unblock"): "in_progress",
    ("in_progress", "complete"): "done",
    ("planned", "cancel"): "cancelled",
    ("in_progress", "cancel"): "cancelled",
    ("blocked", "cancel"): "cancelled",
    ("done", "reopen"): "in_progress",
}
GUARDED = {"block", "reclassify"}


def milestone_in(lifecycle: Lifecycle, state: str, *, id: str = "M-1") -> Milestone:
    """A milestone in a lifecycle state; in a blocked one, with a reason and its owner."""
    category = lifecycle.category(state)
    blocked = category is MilestoneState.BLOCKED
    return Milestone(
        id=id,
        order_id="O-1",
        step="installation",
        state=category,
        status=None if state == category.value else state,
        owner=Owner.NOC if blocked else None,
        reason="noc_configuration" if blocked else None,
    )


_CHECK_ORDER = (Guard.NEEDS_REASON, Guard.NEEDS_OWNER, Guard.OWNER_MATCHES_REASON)


def failed_guard(
    guards: Sequence[Guard],
    *,
    reason: str | None,
    owner: str | None,
    override: bool,
    taxonomy: Taxonomy,
    reasons_given: bool = True,
    owners_given: bool = True,
) -> str | None:
    """The violation kind label of the first guard the event fails, or None."""
    for guard in _CHECK_ORDER:
        if guard not in guards:
            continue
        if guard is Guard.NEEDS_REASON and reasons_given and reason is None:
            return "missing_reason"
        if guard is Guard.NEEDS_OWNER and owners_given and owner is None:
            return "missing_owner"
        if (
            guard is Guard.OWNER_MATCHES_REASON
            and reasons_given
            and owners_given
            and reason is not None
            and not override
            and owner != taxonomy.require(reason).owner.value
        ):
            return "owner_mismatch"
    return None


def outcome(
    lifecycle: Lifecycle,
    by: str,
    state: str,
    symbol: str,
    *,
    reason: str | None = None,
    owner: str | None = None,
    override: bool = False,
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    reasons_given: bool = True,
    owners_given: bool = True,
) -> tuple[str, str | None]:
    """Where one event takes an item in ``state``, and the violation kind label (or None)."""
    if by == "trigger":
        rules = [r for r in lifecycle.transitions if r.trigger == symbol and state in r.sources]
        if not rules:
            return state, "illegal_trigger"
    else:
        if symbol == state:
            return state, None
        rules = [r for r in lifecycle.transitions if state in r.sources and r.dest == symbol]
        if not rules:
            return state, "illegal_target"
    first = None
    for rule in rules:
        failed = failed_guard(
            rule.guards,
            reason=reason,
            owner=owner,
            override=override,
            taxonomy=taxonomy,
            reasons_given=reasons_given,
            owners_given=owners_given,
        )
        if failed is None:
            return rule.dest, None
        first = first or failed
    return state, first


def replay(
    lifecycle: Lifecycle,
    columns: dict[str, Any],
    *,
    by: str = "trigger",
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    initial: Sequence[str] | str | None = None,
) -> dict[str, Any]:
    """Replay a history given as code columns (as ``validate`` takes them), event by event."""
    items = [int(i) for i in columns["items"]]
    symbols = [int(s) for s in columns[f"{by}s"]]
    n = len(items)
    times = columns.get("times")
    reasons = columns.get("reasons")
    owners = columns.get("owners")
    overrides = columns.get("overrides")
    names = lifecycle.trigger_names if by == "trigger" else lifecycle.state_names
    keys = sorted(range(n), key=lambda i: (items[i], 0 if times is None else int(times[i]), i))
    state: dict[int, str] = {}
    before: list[str] = [""] * n
    after: list[str] = [""] * n
    violations: list[tuple[int, str]] = []
    for position in keys:
        item = items[position]
        if item not in state:
            if initial is None:
                state[item] = lifecycle.initial
            elif isinstance(initial, str):
                state[item] = initial
            else:
                state[item] = initial[position]
        reason = (
            None if reasons is None or reasons[position] < 0 else taxonomy.codes[reasons[position]]
        )
        owner = None if owners is None or owners[position] < 0 else OWNERS[owners[position]].value
        dest, kind = outcome(
            lifecycle,
            by,
            state[item],
            names[symbols[position]],
            reason=reason,
            owner=owner,
            override=bool(overrides[position]) if overrides is not None else False,
            taxonomy=taxonomy,
            reasons_given=reasons is not None,
            owners_given=owners is not None,
        )
        before[position] = state[item]
        after[position] = dest
        state[item] = dest
        if kind is not None:
            violations.append((position, kind))
    return {
        "before": before,
        "after": after,
        "violations": sorted(violations),
        "final": dict(sorted(state.items())),
    }

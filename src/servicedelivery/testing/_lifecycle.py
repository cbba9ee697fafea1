"""Hypothesis strategies for lifecycles: valid custom lifecycles, and histories to validate.

Custom lifecycles are valid by construction (no filtering): a spanning tree of rules from the
initial state makes every state reachable, states without exits are declared terminal, and every
rule into a blocked state carries the reason and owner guards.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.lifecycle import (
    DEFAULT_LIFECYCLE,
    Guard,
    Lifecycle,
    LifecycleState,
    TransitionRule,
)
from servicedelivery.model import DEFAULT_TAXONOMY, OWNERS, MilestoneState, Taxonomy

__all__ = ["histories", "lifecycles"]

_TRIGGER_POOL = (
    "start",
    "block",
    "unblock",
    "reclassify",
    "complete",
    "cancel",
    "reopen",
    "submit",
    "accept",
    "reject",
    "escalate",
    "hold",
)
_BLOCKED_GUARDS = (Guard.NEEDS_REASON, Guard.NEEDS_OWNER)


@st.composite
def lifecycles(draw: st.DrawFn, *, max_states: int = 7) -> Lifecycle:
    """Valid custom lifecycles of 1 to ``max_states`` states, with custom state names.

    States belong to any canonical category (some named like their category); triggers come
    from a pool of delivery verbs, some rules have several sources, some states are terminal, and
    rules into blocked states carry the reason and owner guards (and sometimes the owner match).
    """
    n_states = draw(st.integers(1, max_states))
    categories = [draw(st.sampled_from(MilestoneState)) for _ in range(n_states)]
    names: list[str] = []
    for index, category in enumerate(categories):
        canonical = draw(st.booleans()) and category.value not in names
        names.append(category.value if canonical else f"{category.value}_{index}")
    # A spanning tree from the initial state (index 0) makes every state reachable; extra edges
    # add cycles, self-loops and shared triggers. Each (source, trigger) is used once.
    edges: dict[tuple[int, str], int] = {}
    for dest in range(1, n_states):
        source = draw(st.integers(0, dest - 1))
        used = {trigger for (s, trigger) in edges if s == source}
        trigger = draw(st.sampled_from([t for t in _TRIGGER_POOL if t not in used]))
        edges[source, trigger] = dest
    for source, trigger, dest in draw(
        st.lists(
            st.tuples(
                st.integers(0, n_states - 1),
                st.sampled_from(_TRIGGER_POOL),
                st.integers(0, n_states - 1),
            ),
            max_size=2 * n_states,
        )
    ):
        edges.setdefault((source, trigger), dest)
    owner_match = {
        dest: draw(st.booleans())
        for dest in range(n_states)
        if categories[dest] is MilestoneState.BLOCKED
    }
    # Edges with the same trigger and destination become one rule with several sources.
    grouped: dict[tuple[str, int], list[int]] = {}
    for (source, trigger), dest in edges.items():
        grouped.setdefault((trigger, dest), []).append(source)
    rules = []
    for (trigger, dest), sources in grouped.items():
        guards: tuple[Guard, ...] = ()
        if dest in owner_match:
            guards = _BLOCKED_GUARDS + ((Guard.OWNER_MATCHES_REASON,) if owner_match[dest] else ())
            guards = tuple(draw(st.permutations(guards)))
        rules.append(
            TransitionRule(
                trigger=trigger,
                sources=tuple(names[s] for s in sorted(sources)),
                dest=names[dest],
                guards=guards,
            )
        )
    with_exits = {source for source, _ in edges}
    states = [
        LifecycleState(name=name, category=category, terminal=index not in with_exits)
        for index, (name, category) in enumerate(zip(names, categories, strict=True))
    ]
    if not rules:
        # A lone state needs a way out to be a lifecycle: a self-loop, as in "reschedule".
        rules.append(TransitionRule(trigger="hold", sources=(names[0],), dest=names[0]))
        states[0] = LifecycleState(name=names[0], category=categories[0])
        if categories[0] is MilestoneState.BLOCKED:
            rules[0] = TransitionRule(
                trigger="hold", sources=(names[0],), dest=names[0], guards=_BLOCKED_GUARDS
            )
    return Lifecycle(name="custom", states=states, transitions=rules, initial=names[0])


@st.composite
def histories(
    draw: st.DrawFn,
    *,
    lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
    by: str = "trigger",
    max_events: int = 60,
    max_items: int = 5,
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    details: bool = True,
    times: bool = True,
) -> dict[str, Any]:
    """Histories as columns, ready for ``lifecycle.table.validate(**history)``.

    Items are interleaved; triggers (or, with ``by="state"``, recorded states) are drawn from the
    whole lifecycle, so some are illegal where they land. With ``times``, times are small integers
    with many ties and out of input order; with ``details``, owners, reasons and overrides are
    drawn so that every guard passes and fails.

    Args:
        lifecycle: The lifecycle whose codes the history uses.
        by: ``"trigger"`` for a ``triggers`` column, ``"state"`` for a ``states`` column.
        max_events: At most this many events.
        max_items: Items are drawn from this many codes (some negative, some large).
        taxonomy: Reasons are codes of this taxonomy.
        details: Whether to include ``owners``, ``reasons`` and ``overrides``.
        times: Whether to include ``times``.

    Returns:
        A dict of numpy arrays: ``items``, ``triggers`` or ``states``, and optionally ``times``,
        ``owners``, ``reasons``, ``overrides``.
    """
    if by not in ("trigger", "state"):
        raise ValidationError.single("by", by, "'trigger' or 'state'")
    names = lifecycle.trigger_names if by == "trigger" else lifecycle.state_names
    n = draw(st.integers(0, max_events))
    pool = draw(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=max_items, unique=True))
    items = [draw(st.sampled_from(pool)) for _ in range(n)]
    columns: dict[str, Any] = {
        "items": np.array(items, dtype=np.int64),
        f"{by}s": np.array(
            [draw(st.integers(0, len(names) - 1)) for _ in range(n)], dtype=np.int64
        ),
    }
    if times:
        columns["times"] = np.array([draw(st.integers(0, 6)) for _ in range(n)], dtype=np.int64)
    if details:
        default_owner = [OWNERS.index(reason.owner) for reason in taxonomy.reasons]
        reasons = [draw(st.integers(-1, len(taxonomy) - 1)) for _ in range(n)]
        owners = [
            draw(st.just(default_owner[r]) | st.integers(-1, len(OWNERS) - 1))
            if r >= 0
            # Without a reason, an owner alone (or nothing).
            else draw(st.integers(-1, len(OWNERS) - 1))
            for r in reasons
        ]
        columns["reasons"] = np.array(reasons, dtype=np.int64)
        columns["owners"] = np.array(owners, dtype=np.int64)
        columns["overrides"] = np.array([draw(st.booleans()) for _ in range(n)], dtype=bool)
    return columns

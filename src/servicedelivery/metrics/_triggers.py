"""Trigger histories: the state each event leaves its item in, replayed through a lifecycle.

A host that records what happened (``start``, ``block``, ``complete``) rather than the resulting
state gives the frame a trigger column and the lifecycle that gives triggers their meaning. The
lifecycle's compiled table replays every item at once; each state is then read as the canonical
state it belongs to. An event the lifecycle refuses leaves its item's state unchanged, exactly as
the lifecycle's own check of a history does (``lifecycle.table.validate`` lists them). A row without
a trigger (the record that a milestone was planned, say) keeps the item's current state, owner and
reason: the lifecycle's initial state before any trigger.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.lifecycle import Lifecycle
from servicedelivery.metrics._order import fill_forward, item_time_order
from servicedelivery.model import STATES, MilestoneState

__all__ = ["states_from_triggers"]

_BLOCKED = STATES.index(MilestoneState.BLOCKED)


def states_from_triggers(
    *,
    item: npt.NDArray[np.integer[Any]],
    time: npt.NDArray[np.int64],
    trigger: npt.NDArray[np.integer[Any]],
    owner: npt.NDArray[np.int8],
    reason: npt.NDArray[np.int16],
    lifecycle: Lifecycle,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8], npt.NDArray[np.int16]]:
    """Canonical state, owner and reason codes of every row (input order) of a trigger history.

    Owner and reason belong to blocked states only. An accepted trigger into a blocked state sets
    them; any other blocked row (one without a trigger, or a refused trigger) keeps those set
    before it; rows in other states have none.

    Args:
        item: Item code of each row.
        time: Instant of each row.
        trigger: Code into ``lifecycle.trigger_names`` of each row, ``-1`` for none.
        owner: Owner code each row names, ``-1`` for none.
        reason: Reason code each row names, ``-1`` for none.
        lifecycle: What the triggers mean.
    """
    count = len(item)
    order = item_time_order(item, time)
    if order is None:
        order = np.arange(count)
    item, trigger = item[order], trigger[order]
    moves = np.flatnonzero(trigger >= 0)
    # Rows are sorted, so the table replays them as given: time order, ties in recorded order.
    check = lifecycle.table.validate(item[moves], trigger[moves])
    canonical = np.array(
        [STATES.index(lifecycle.category(name)) for name in lifecycle.state_names], dtype=np.int8
    )
    after = np.zeros(count, dtype=np.int8)
    after[moves] = canonical[check.states_after]
    initial = STATES.index(lifecycle.category(lifecycle.initial))
    state = fill_forward(after, trigger >= 0, item, default=initial).astype(np.int8)
    blocked = state == _BLOCKED
    # Only a trigger the lifecycle accepts says why and on whom; other rows keep what was said.
    accepted = np.zeros(count, dtype=np.bool_)
    accepted[moves] = True
    accepted[moves[check.positions]] = False
    named = accepted & blocked & (reason[order] >= 0)
    owner_sorted = fill_forward(owner[order], named, item, default=-1)
    reason_sorted = fill_forward(reason[order], named, item, default=-1)
    result_state = np.empty(count, dtype=np.int8)
    result_owner = np.empty(count, dtype=np.int8)
    result_reason = np.empty(count, dtype=np.int16)
    result_state[order] = state
    result_owner[order] = np.where(blocked, owner_sorted, -1)
    result_reason[order] = np.where(blocked, reason_sorted, -1)
    return result_state, result_owner, result_reason

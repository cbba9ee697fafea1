"""The default milestone lifecycle, and the names of its triggers."""

from __future__ import annotations

from enum import StrEnum, unique

from servicedelivery.lifecycle._definition import Guard, LifecycleState, TransitionRule
from servicedelivery.lifecycle._lifecycle import Lifecycle
from servicedelivery.model import MilestoneState

__all__ = ["DEFAULT_LIFECYCLE", "Trigger"]


@unique
class Trigger(StrEnum):
    """The triggers of :data:`DEFAULT_LIFECYCLE`, in code order.

    A custom lifecycle may name other triggers (plain strings); these are for code written against
    the default, with completion and typo checking.
    """

    START = "start"
    """Work begins: planned to in_progress."""
    BLOCK = "block"
    """Work cannot go on until an owner acts: planned or in_progress to blocked."""
    UNBLOCK = "unblock"
    """The owner acted and work resumes: blocked to in_progress."""
    RECLASSIFY = "reclassify"
    """A blocked milestone's reason or owner changes: blocked to blocked."""
    COMPLETE = "complete"
    """The work is finished: in_progress to done."""
    CANCEL = "cancel"
    """The work will not be done: planned, in_progress or blocked to cancelled."""
    REOPEN = "reopen"
    """Finished work turns out not to be: done to in_progress."""


_BLOCK_GUARDS = (Guard.NEEDS_REASON, Guard.NEEDS_OWNER, Guard.OWNER_MATCHES_REASON)

DEFAULT_LIFECYCLE = Lifecycle(
    name="default",
    initial=MilestoneState.PLANNED.value,
    states=(
        LifecycleState(
            name="planned",
            category=MilestoneState.PLANNED,
            description="Agreed and scheduled; no work started.",
        ),
        LifecycleState(
            name="in_progress",
            category=MilestoneState.IN_PROGRESS,
            description="Someone is working on it.",
        ),
        LifecycleState(
            name="blocked",
            category=MilestoneState.BLOCKED,
            description="Cannot move until its owner acts; carries a reason and an owner.",
        ),
        LifecycleState(
            name="done",
            category=MilestoneState.DONE,
            description="Finished; may be reopened.",
        ),
        LifecycleState(
            name="cancelled",
            category=MilestoneState.CANCELLED,
            terminal=True,
            description="Will not be done.",
        ),
    ),
    transitions=(
        TransitionRule(
            trigger=Trigger.START.value,
            sources=("planned",),
            dest="in_progress",
            description="Work begins.",
        ),
        TransitionRule(
            trigger=Trigger.BLOCK.value,
            sources=("planned", "in_progress"),
            dest="blocked",
            guards=_BLOCK_GUARDS,
            description="Work cannot go on until the owner acts; says why and on whom.",
        ),
        TransitionRule(
            trigger=Trigger.UNBLOCK.value,
            sources=("blocked",),
            dest="in_progress",
            description="The owner acted; work resumes (also after a block before the start).",
        ),
        TransitionRule(
            trigger=Trigger.RECLASSIFY.value,
            sources=("blocked",),
            dest="blocked",
            guards=_BLOCK_GUARDS,
            description="Still blocked, for another reason or on another owner.",
        ),
        TransitionRule(
            trigger=Trigger.COMPLETE.value,
            sources=("in_progress",),
            dest="done",
            description="The work is finished; only work in progress can finish.",
        ),
        TransitionRule(
            trigger=Trigger.CANCEL.value,
            sources=("planned", "in_progress", "blocked"),
            dest="cancelled",
            description="The work will not be done.",
        ),
        TransitionRule(
            trigger=Trigger.REOPEN.value,
            sources=("done",),
            dest="in_progress",
            description="Finished work turns out not to be; it is in progress again.",
        ),
    ),
)
"""The standard lifecycle: planned, in_progress, blocked, done and cancelled (terminal).

Its state codes are those of :data:`servicedelivery.model.STATES` and its trigger codes those of
:class:`Trigger`.
"""

"""Events of a milestone: planned, then one event per lifecycle trigger, and target-date changes.

Each transition event maps to one trigger of the lifecycle (``MilestoneStarted`` fires ``start``,
``MilestoneBlocked`` fires ``block``, ...). ``MilestoneTransitioned`` fires any trigger by name, for
the triggers a custom lifecycle adds. The log checks every one against the lifecycle before it
records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import attrs
import pendulum

from servicedelivery.eventlog._events import (
    Event,
    Transition,
    attribute_map,
    to_frozen_mapping,
)
from servicedelivery.eventlog._streams import StreamKind
from servicedelivery.lifecycle import Trigger
from servicedelivery.model import Owner
from servicedelivery.model._validation import (
    aware_datetime,
    checked,
    identifier,
    member_of,
    non_negative_int,
    optional,
    slug,
    text,
    to_instant,
)

__all__ = [
    "BlockReclassified",
    "MilestoneBlocked",
    "MilestoneCancelled",
    "MilestoneCompleted",
    "MilestoneEvent",
    "MilestonePlanned",
    "MilestoneReopened",
    "MilestoneStarted",
    "MilestoneTransitioned",
    "MilestoneUnblocked",
    "TargetDateChanged",
]


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


class MilestoneEvent(Event):
    """The base of the events recorded in ``milestone:<id>`` streams."""

    __slots__ = ()
    stream_kind: ClassVar[str] = StreamKind.MILESTONE
    opens_stream: ClassVar[bool | None] = False


@attrs.frozen(kw_only=True)
class MilestonePlanned(MilestoneEvent):
    """A milestone was planned: the first event of its stream.

    Attributes:
        order_id: The order it belongs to.
        step: What step of delivery it is (``"site_survey"``).
        sequence: Its position among the order's milestones, from 0.
        target_at: When it is due, if a date was agreed.
        attributes: Analytics context that metrics group by, such as site, provider, region and
            service: lowercase codes to ids.
    """

    opens_stream: ClassVar[bool | None] = True

    order_id: str = checked(identifier)
    step: str = checked(slug)
    sequence: int = checked(non_negative_int, default=0)
    target_at: pendulum.DateTime | None = checked(
        optional(aware_datetime), converter=to_instant, default=None
    )
    attributes: Mapping[str, str] = checked(
        attribute_map, converter=to_frozen_mapping, factory=dict, hash=False
    )


@attrs.frozen(kw_only=True)
class MilestoneStarted(MilestoneEvent):
    """Work on the milestone started (trigger ``start``).

    Attributes:
        note: A comment for people.
    """

    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires ``start``."""
        return _START


@attrs.frozen(kw_only=True)
class _Block(MilestoneEvent):
    """What a block and a reclassification both say: why, on whom, and whether that overrides."""

    trigger_name: ClassVar[str]

    reason: str = checked(slug)
    owner: Owner = checked(member_of(Owner))
    override: bool = checked(_boolean, default=False)
    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires the trigger with the reason, owner and override."""
        return Transition(self.trigger_name, self.reason, self.owner, self.override)


@attrs.frozen(kw_only=True)
class MilestoneBlocked(_Block):
    """The milestone cannot move until its owner acts (trigger ``block``).

    Attributes:
        reason: The blocked reason's code, from the log's taxonomy.
        owner: Who must act. The lifecycle requires the reason's default owner unless ``override``.
        override: Whether ``owner`` deliberately differs from the reason's default owner.
        note: A comment for people.
    """

    trigger_name: ClassVar[str] = Trigger.BLOCK.value


@attrs.frozen(kw_only=True)
class BlockReclassified(_Block):
    """A blocked milestone's reason or owner changed; it stays blocked (trigger ``reclassify``).

    Attributes:
        reason: The new reason's code.
        owner: The new owner.
        override: Whether ``owner`` deliberately differs from the reason's default owner.
        note: A comment for people.
    """

    trigger_name: ClassVar[str] = Trigger.RECLASSIFY.value


@attrs.frozen(kw_only=True)
class MilestoneUnblocked(MilestoneEvent):
    """The block was lifted (trigger ``unblock``).

    Attributes:
        note: A comment for people.
    """

    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires ``unblock``."""
        return _UNBLOCK


@attrs.frozen(kw_only=True)
class MilestoneCompleted(MilestoneEvent):
    """The milestone is done (trigger ``complete``).

    Attributes:
        note: A comment for people.
    """

    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires ``complete``."""
        return _COMPLETE


@attrs.frozen(kw_only=True)
class MilestoneCancelled(MilestoneEvent):
    """The milestone will not be done (trigger ``cancel``).

    Attributes:
        note: A comment for people, such as why it was cancelled.
    """

    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires ``cancel``."""
        return _CANCEL


@attrs.frozen(kw_only=True)
class MilestoneReopened(MilestoneEvent):
    """Work on a finished milestone resumed (trigger ``reopen``).

    Attributes:
        note: A comment for people, such as what was found.
    """

    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires ``reopen``."""
        return _REOPEN


@attrs.frozen(kw_only=True)
class MilestoneTransitioned(MilestoneEvent):
    """Any trigger by name, for the triggers a custom lifecycle declares.

    Attributes:
        trigger: The trigger's name in the log's lifecycle.
        reason: The blocked reason's code, when the trigger leads into a blocked state.
        owner: Who must act, when the trigger leads into a blocked state.
        override: Whether ``owner`` deliberately differs from the reason's default owner.
        note: A comment for people.
    """

    trigger: str = checked(slug)
    reason: str | None = checked(optional(slug), default=None)
    owner: Owner | None = checked(optional(member_of(Owner)), default=None)
    override: bool = checked(_boolean, default=False)
    note: str = checked(text, default="")

    def transition(self) -> Transition:
        """Fires ``trigger`` with the reason, owner and override given."""
        return Transition(self.trigger, self.reason, self.owner, self.override)


@attrs.frozen(kw_only=True)
class TargetDateChanged(MilestoneEvent):
    """The milestone's due date changed, or was withdrawn (``None``). Fires no trigger.

    Attributes:
        target_at: The new due date, or ``None`` when no date is agreed any more.
        note: A comment for people, such as why the date moved.
    """

    target_at: pendulum.DateTime | None = checked(optional(aware_datetime), converter=to_instant)
    note: str = checked(text, default="")


_START = Transition(Trigger.START.value)
_UNBLOCK = Transition(Trigger.UNBLOCK.value)
_COMPLETE = Transition(Trigger.COMPLETE.value)
_CANCEL = Transition(Trigger.CANCEL.value)
_REOPEN = Transition(Trigger.REOPEN.value)

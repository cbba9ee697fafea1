"""Facts derived from an event that columnar reads need as real columns.

They are computed by one function, :func:`derive`, when a record is written, and again by
``verify`` from the stored payload, so the columns can never silently disagree with the payload.
"""

from __future__ import annotations

from typing import NamedTuple

from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._instants import instant_text
from servicedelivery.eventlog._milestone_events import MilestonePlanned, TargetDateChanged

__all__ = ["Derived", "derive"]


class Derived(NamedTuple):
    """The derived columns of one record."""

    trigger: str | None
    owner: str | None
    reason: str | None
    override: bool
    target_ns: int | None
    sequence: int | None
    attributes: tuple[tuple[str, str], ...]


_NOTHING = Derived(None, None, None, False, None, None, ())


def derive(event: Event) -> Derived:
    """The derived columns of ``event``.

    Planned milestones contribute their ``order_id``, ``step`` and attributes as categorical
    attributes (sorted by key after the first two), their sequence and their target; target-date
    changes their target; transitions their trigger, owner, reason and override.
    """
    transition = event.transition()
    if transition is not None:
        return Derived(
            transition.trigger,
            None if transition.owner is None else transition.owner.value,
            transition.reason,
            transition.override,
            None,
            None,
            (),
        )
    if isinstance(event, MilestonePlanned):
        return Derived(
            None,
            None,
            None,
            False,
            None if event.target_at is None else instant_text(event.target_at)[1],
            event.sequence,
            (
                ("order_id", event.order_id),
                ("step", event.step),
                *sorted(event.attributes.items()),
            ),
        )
    if isinstance(event, TargetDateChanged):
        target = None if event.target_at is None else instant_text(event.target_at)[1]
        return Derived(None, None, None, False, target, None, ())
    return _NOTHING

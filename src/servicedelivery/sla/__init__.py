"""SLA definitions and clocks: targets in working time, stop-the-clock pauses, stages and breaches.

An :class:`SLA` declares, as data, which episodes start, pause, stop and cancel a clock, the target
in working time under a business calendar (or in elapsed time), and the stages a clock passes on the
way to the target. Its clocks are computed for every item of an event frame at once, or for one
item at a time for services that check one milestone.

This package imports errors, model, lifecycle, calendars and metrics.
"""

from servicedelivery.sla._conditions import Condition
from servicedelivery.sla._definition import DEFAULT_STAGES, ITEM_CALENDAR, SLA, Reopening, Stage

__all__ = ["DEFAULT_STAGES", "ITEM_CALENDAR", "SLA", "Condition", "Reopening", "Stage"]

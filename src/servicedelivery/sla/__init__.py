"""SLA definitions and clocks: targets in working time, stop-the-clock pauses, stages and breaches.

An :class:`SLA` declares, as data, which episodes start, pause, stop and cancel a clock, the target
in working time under a business calendar (or in elapsed time), and the stages a clock passes on the
way to the target. :func:`sla_clocks` computes every item's clock of an event frame at once, with
numpy; :func:`sla_clock` computes one item's, for services that check one milestone at a time. Both
give the same answers.

This package imports errors, model, lifecycle, calendars and metrics.
"""

from servicedelivery.sla._clock import SLAClock, sla_clock
from servicedelivery.sla._clocks import SLAClocks, sla_clocks
from servicedelivery.sla._conditions import Condition
from servicedelivery.sla._definition import DEFAULT_STAGES, ITEM_CALENDAR, SLA, Reopening, Stage
from servicedelivery.sla._evidence import CLOCK_EVENTS, ClockEvent, ClockEvidence

__all__ = [
    "CLOCK_EVENTS",
    "DEFAULT_STAGES",
    "ITEM_CALENDAR",
    "SLA",
    "ClockEvent",
    "ClockEvidence",
    "Condition",
    "Reopening",
    "SLAClock",
    "SLAClocks",
    "Stage",
    "sla_clock",
    "sla_clocks",
]

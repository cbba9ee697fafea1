"""Tools for testing code built on servicedelivery: Hypothesis strategies and contract suites.

Install with the ``testing`` extra (``pip install servicedelivery[testing]``), which brings Hypothesis
and pytest.
"""

from servicedelivery.testing._calendars import business_calendars
from servicedelivery.testing._clock import ManualClock
from servicedelivery.testing._eventlog_contract import EventLogContract, check_event_log
from servicedelivery.testing._eventlog_histories import log_snapshot
from servicedelivery.testing._events import blocks, event_ids, events, notes, plans
from servicedelivery.testing._lifecycle import histories, lifecycles
from servicedelivery.testing._sla import slas
from servicedelivery.testing._strategies import (
    TIMEZONES,
    aware_datetimes,
    cases,
    identifiers,
    invoices,
    milestones,
    money,
    orders,
    periods,
    portfolios,
    services,
    sites,
    timezones,
)

__all__ = [
    "TIMEZONES",
    "EventLogContract",
    "ManualClock",
    "aware_datetimes",
    "blocks",
    "business_calendars",
    "cases",
    "check_event_log",
    "event_ids",
    "events",
    "histories",
    "identifiers",
    "invoices",
    "lifecycles",
    "log_snapshot",
    "milestones",
    "money",
    "notes",
    "orders",
    "periods",
    "plans",
    "portfolios",
    "services",
    "sites",
    "slas",
    "timezones",
]

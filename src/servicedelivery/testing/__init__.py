"""Tools for testing code built on servicedelivery: Hypothesis strategies and contract suites.

Install with the ``testing`` extra (``pip install servicedelivery[testing]``), which brings Hypothesis
and pytest.
"""

from servicedelivery.testing._calendars import business_calendars
from servicedelivery.testing._lifecycle import histories, lifecycles
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
    "aware_datetimes",
    "business_calendars",
    "cases",
    "histories",
    "identifiers",
    "invoices",
    "lifecycles",
    "milestones",
    "money",
    "orders",
    "periods",
    "portfolios",
    "services",
    "sites",
    "timezones",
]

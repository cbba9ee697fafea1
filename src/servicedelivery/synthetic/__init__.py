"""Seeded synthetic delivery data for demos, examples and benchmarks."""

from servicedelivery.synthetic._events import synthetic_event_columns
from servicedelivery.synthetic._portfolio import PROVIDERS, REGIONS, STEPS, synthetic_portfolio
from servicedelivery.synthetic._trail import synthetic_trail

__all__ = [
    "PROVIDERS",
    "REGIONS",
    "STEPS",
    "synthetic_event_columns",
    "synthetic_portfolio",
    "synthetic_trail",
]

"""A clock for tests: deterministic instants for an event log's ``recorded_at``."""

from __future__ import annotations

import datetime as dt

import pendulum

from servicedelivery.errors import ValidationError

__all__ = ["ManualClock"]


class ManualClock:
    """A clock that returns ``now`` and then moves it forward by ``step``.

    Pass it as an event log's ``clock`` to make ``recorded_at`` predictable; set ``now`` to jump.

    Args:
        start: The first instant it returns (timezone-aware).
        step: How far it moves after each reading.
    """

    def __init__(
        self,
        start: dt.datetime = pendulum.datetime(2024, 1, 1, tz="UTC"),  # noqa: B008 - immutable
        *,
        step: dt.timedelta = dt.timedelta(seconds=1),
    ) -> None:
        if start.utcoffset() is None:
            raise ValidationError.single("start", start, "a timezone-aware datetime")
        self.now = pendulum.instance(start)
        self.step = step

    def __call__(self) -> pendulum.DateTime:
        now = self.now
        self.now = now + self.step
        return now

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now.isoformat()!r}, step={self.step!r})"

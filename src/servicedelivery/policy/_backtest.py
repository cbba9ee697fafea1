"""Backtest: replay a policy set over a past period and see what it would have raised.

The policies are evaluated at a series of instants (every ``every`` from ``start`` to ``end``, or
at given instants), each time on the events known then, with de-duplication state simulated as a
service would have kept it: the escalations found at one instant are recorded before the next. The
result lists every escalation that would have been raised, re-notified or cleared: when, by which
policy, for which item, at which level and to whom, each with its explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._options import as_instant
from servicedelivery.metrics._table import Column, Kind, Tabular
from servicedelivery.policy._durations import Clock, Duration
from servicedelivery.policy._escalations import Escalations
from servicedelivery.policy._evaluate import Evaluations, check_escalations
from servicedelivery.policy._findings import ACTION_NAMES, Findings
from servicedelivery.policy._policy import Policy
from servicedelivery.policy._policyset import PolicySet

__all__ = ["Backtest", "backtest"]


@attrs.frozen(eq=False, repr=False)
class Backtest(Tabular):
    """What a policy set would have recorded over a period, one row per event it would record.

    Attributes:
        instants: The instants evaluated, in order.
        at: When each event would have been recorded.
        policy: The policy.
        item: The item (a spike policy's group).
        action: ``"raise"``, ``"repeat"`` or ``"clear"``.
        level: The level.
        target: Who it would have gone to.
        episode: The episode key.
        escalations: The simulated trail at the end: the given escalations and every row here.
        findings: Each instant's findings to record, for explanations (see :meth:`explain`).
    """

    instants: npt.NDArray[np.int64]
    at: npt.NDArray[np.int64]
    policy: npt.NDArray[Any]
    item: npt.NDArray[Any]
    action: npt.NDArray[Any]
    level: npt.NDArray[np.int16]
    target: npt.NDArray[Any]
    episode: npt.NDArray[np.int64]
    escalations: Escalations
    findings: tuple[Findings, ...]
    _source: npt.NDArray[np.int64] = attrs.field(repr=False)

    def __len__(self) -> int:
        return len(self.at)

    def explain(self, row: int) -> dict[str, Any]:
        """Row ``row``'s explanation, as the finding gave it at the time.

        Raises:
            ValidationError: ``row`` is out of range.
        """
        given: object = row
        if not isinstance(given, (int, np.integer)) or not -len(self) <= row < len(self):
            raise ValidationError.single("row", row, f"a row number below {len(self)}")
        instant, index = self._source[int(row) % len(self)]
        return self.findings[int(instant)].explain(int(index))

    def counts(self) -> dict[tuple[str, str, str], int]:
        """How many events each (policy, action, target) would have recorded."""
        keys = np.stack([self.policy.astype(str), self.action.astype(str),
                         self.target.astype(str)], axis=1)  # fmt: skip
        if not len(keys):
            return {}
        distinct, counts = np.unique(keys, axis=0, return_counts=True)
        return {
            (str(p), str(a), str(t)): int(c) for (p, a, t), c in zip(distinct, counts, strict=True)
        }

    def _title(self) -> str:
        span = ""
        if len(self.instants):
            first = np.datetime64(int(self.instants[0]), "ns")
            last = np.datetime64(int(self.instants[-1]), "ns")
            span = f" over {len(self.instants)} instants, {first}..{last}"
        return f"Backtest: {len(self):,} events{span}"

    def _columns(self) -> list[Column]:
        return [
            Column("at", self.at, Kind.INSTANT),
            Column("policy", self.policy),
            Column("item", self.item),
            Column("action", self.action),
            Column("level", self.level),
            Column("target", self.target),
            Column("episode", self.episode),
        ]


def _instants(start: object, end: object, every: object, at: object) -> npt.NDArray[np.int64]:
    if at is not None:
        if start is not None or end is not None or every is not None:
            raise ValidationError.single("at", "given", "either at=, or start=, end= and every=")
        if not isinstance(at, Iterable) or isinstance(at, (str, bytes)):
            raise ValidationError.single("at", at, "a sequence of instants")
        instants = np.array(
            [as_instant(value, path=f"at[{index}]") for index, value in enumerate(at)],
            dtype=np.int64,
        )
        return np.unique(instants)
    first = as_instant(start, path="start")
    last = as_instant(end, path="end")
    if last < first:
        raise ValidationError.single("end", end, "an instant not before start")
    step = Duration.parse(every if every is not None else "1h")
    if step.clock is not Clock.CALENDAR or step.ns <= 0:
        raise ValidationError.single(
            "every", step.to_data(), "a calendar duration > 0, such as '1h'"
        )
    return np.arange(first, last + 1, step.ns, dtype=np.int64)


def backtest(
    policies: PolicySet | Policy | Iterable[Policy],
    frame: EventFrame,
    *,
    start: object = None,
    end: object = None,
    every: object = None,
    at: object = None,
    calendars: CalendarSet | BusinessCalendar | None = None,
    escalations: Escalations | None = None,
    targets: object = None,
    slas: object = None,
    forecast: object = None,
) -> Backtest:
    """Replay ``policies`` over a past period, recording what they find as a service would.

    Args:
        policies: The policies to try: a :class:`PolicySet`, one policy or a sequence.
        frame: The events of the period (and before it: history the measures read).
        start: The first instant evaluated.
        end: The last instant evaluated (included when ``every`` lands on it).
        every: The step between instants, calendar time (default ``"1h"``).
        at: The instants to evaluate instead of ``start`` / ``end`` / ``every``, such as the
            frame's event times.
        calendars: The business calendars, as for :func:`evaluate`.
        escalations: The escalations already recorded before the period.
        targets: The items' target dates, as for :func:`evaluate`.
        slas: SLA clocks by name, or a function of the instant (ns) that computes them then, such
            as ``lambda now: {"restore": sla_clocks(restore, frame, now=now)}``.
        forecast: A completion forecast, or a function of the instant that fits one.

    Raises:
        ValidationError: Bad options, or a policy that cannot be evaluated on the frame.
    """
    instants = _instants(start, end, every, at)
    ledger = Escalations.empty() if escalations is None else check_escalations(escalations)
    found: list[Findings] = []
    # evaluate at each instant, with what does not depend on the instant worked out once.
    evaluations = Evaluations(policies, frame, calendars=calendars, targets=targets)
    for now in instants.tolist():  # a loop over instants; each evaluation is over every item
        slas_now, forecast_now = _at(slas, now), _at(forecast, now)
        new = evaluations.at(now, escalations=ledger, slas=slas_now, forecast=forecast_now).new()
        ledger = ledger.extended(new)
        found.append(new)
    sizes = [len(f) for f in found]
    source = np.stack(
        [np.repeat(np.arange(len(found)), sizes),
         np.concatenate([np.arange(n) for n in sizes]) if sizes else np.zeros(0, np.int64)],
        axis=1,
    ).astype(np.int64)  # fmt: skip

    def gather(name: str, dtype: Any) -> npt.NDArray[Any]:
        if not found:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([getattr(f, name) for f in found]).astype(dtype)

    return Backtest(
        instants=instants,
        at=np.repeat(instants, sizes) if sizes else np.zeros(0, np.int64),
        policy=gather("policy", object),
        item=gather("item", object),
        action=ACTION_NAMES[gather("action", np.int8)],
        level=gather("level", np.int16),
        target=gather("target", object),
        episode=gather("episode", np.int64),
        escalations=ledger,
        findings=tuple(found),
        source=source,
    )


def _at(value: object, now: int) -> object:
    if callable(value):
        function: Callable[[int], object] = value
        return function(now)
    return value

"""Computing the portfolio report from an event frame, with numpy over whole columns.

Loops run over sections, groups and a handful of states, never over items or events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.eventlog import NO_TARGET
from servicedelivery.metrics import (
    Categorical,
    Episodes,
    EventFrame,
    ItemDurations,
    cumulative_flow,
    cycle_time,
    episodes,
    time_in_state,
    trend,
    work_item_age,
)
from servicedelivery.metrics._episodes import Marked
from servicedelivery.metrics._objects import object_array
from servicedelivery.metrics._options import OPEN_STATES, as_instant
from servicedelivery.metrics._percentiles import GroupedValues
from servicedelivery.metrics._table import NONE_NS
from servicedelivery.model import NS_PER_DAY, OWNERS, STATES, MilestoneState
from servicedelivery.policy import (
    CompletionForecast,
    Escalations,
    Findings,
    Policy,
    PolicySet,
    evaluate,
    forecast_completion,
)
from servicedelivery.report._report import PortfolioReport
from servicedelivery.report._schema import SECTIONS
from servicedelivery.report._table import ReportTable
from servicedelivery.report._targets import TargetDates
from servicedelivery.sla import SLA, SLAClocks, sla_clocks

__all__ = ["AGING_BUCKETS", "portfolio_report"]

AGING_BUCKETS: tuple[int, ...] = (0, 7, 14, 30, 60, 90, 180)
"""Lower bounds, in days, of the aging buckets; the last bucket has no upper bound."""

_BLOCKED = STATES.index(MilestoneState.BLOCKED)
_IN_PROGRESS = STATES.index(MilestoneState.IN_PROGRESS)
_OWNER_NAMES = np.array([owner.value for owner in OWNERS], dtype=object)
_OWNER_LABELS = np.array([*_OWNER_NAMES, None], dtype=object)
"""Owner names by code, and ``None`` last, for code -1 (no owner)."""
_STATE_NAMES = np.array([state.value for state in STATES], dtype=object)
_TREND_MIN_ITEMS = 5
_TREND_TOLERANCE = 0.1
_MISS = 0.5  # a target date is at risk when it is more likely missed than met
_DUE = ("raise", "repeat")  # findings that ask someone to act now
_OPERATORS = {
    "eq": "=",
    "ne": "!=",
    "in": "in",
    "not_in": "not in",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
}


def _days(ns: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Durations in days, to four decimals (about nine seconds); NaN where there is none."""
    values = np.asarray(ns, dtype=np.int64)
    days = np.round(values / NS_PER_DAY, 4)
    return np.where(values == NONE_NS, np.nan, days)


def portfolio_report(
    frame: EventFrame,
    *,
    now: object | None = None,
    source: str = "",
    timezone: str = "UTC",
    targets: TargetDates | None = None,
    slas: Sequence[SLA] = (),
    calendars: CalendarSet | BusinessCalendar | None = None,
    policies: PolicySet | Policy | Sequence[Policy] | None = None,
    escalations: Escalations | None = None,
    sla_at_risk: ReportTable | None = None,
    escalations_due: ReportTable | None = None,
    oldest: int = 20,
    window_days: int = 90,
) -> PortfolioReport:
    """The portfolio report of a frame: what is blocked, aging, slow, at risk and due.

    Args:
        frame: The events.
        now: The instant the portfolio is seen at (default: the frame's last event); later events
            are left out.
        source: What the events were read from, for the title.
        timezone: The zone whose calendar cuts weeks and months.
        targets: Target dates per item, for the target-date-at-risk queue.
        slas: SLAs whose clocks fill the SLA-at-risk queue: every open clock that has reached a
            stage (at risk or breached).
        calendars: The calendars the SLAs count working time in.
        policies: Policies whose findings fill the escalations-due queue: every escalation to
            raise or to repeat now, with its explanation and evidence.
        escalations: The escalations already recorded (a trail records them), so that nothing
            already raised is raised again.
        sla_at_risk: The SLA-at-risk queue computed by the host instead (a ``"sla_at_risk"``
            section); not with ``slas``.
        escalations_due: The escalations due computed by the host instead (an
            ``"escalations_due"`` section); not with ``policies``.
        oldest: How many of the oldest blocked items to list.
        window_days: The length of the recent and previous windows a cycle-time trend compares.

    Raises:
        ValidationError: A frame without events, a bad ``now`` or zone, or a section given for the
            wrong key.
    """
    errors: list[tuple[str, object, str]] = []
    if not len(frame):
        errors.append(("frame", "no events", "a frame with at least one event"))
    # Callers may pass anything; the annotations are the promise.
    inputs: tuple[tuple[str, object], ...] = (
        ("sla_at_risk", sla_at_risk),
        ("escalations_due", escalations_due),
    )
    for key, given in inputs:
        if given is not None and (not isinstance(given, ReportTable) or given.key != key):
            errors.append((key, given, f"a ReportTable of section {key!r}"))
    if slas and sla_at_risk is not None:
        errors.append(("sla_at_risk", "a section", "either slas or sla_at_risk, not both"))
    if policies is not None and escalations_due is not None:
        errors.append(
            ("escalations_due", "a section", "either policies or escalations_due, not both")
        )
    given_slas: object = slas
    if isinstance(given_slas, SLA) or not all(isinstance(sla, SLA) for sla in slas):
        errors.append(("slas", slas, "a sequence of SLA definitions"))
    numbers: tuple[tuple[str, object], ...] = (("oldest", oldest), ("window_days", window_days))
    for name, number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            errors.append((name, number, "a positive whole number"))
    if errors:
        raise ValidationError([FieldError(*error) for error in errors])
    at = frame.last_time if now is None else as_instant(now, path="now")
    assert at is not None  # the frame has events
    seen = frame.as_of(at)
    if not len(seen):
        raise ValidationError.single("now", at, "an instant at or after the frame's first event")
    view = _View.of(seen, at, timezone)
    target = None if targets is None else targets.aligned(seen.items)[0]
    forecast = None if target is None else forecast_completion(seen, now=at, targets=target, seed=0)
    sections = {
        **view.blocked_sections(oldest),
        **view.aging_sections(),
        **view.cycle_sections(window_days),
        "blocked_time_by_owner": view.blocked_time_by_owner(),
        "cumulative_flow": view.cumulative_flow(),
        "sla_at_risk": (
            sla_at_risk
            if sla_at_risk is not None
            else view.sla_at_risk(
                [sla_clocks(sla, seen, now=at, calendars=calendars) for sla in slas]
            )
        ),
        "target_date_at_risk": view.target_date_at_risk(targets, forecast),
        "escalations_due": (
            escalations_due
            if escalations_due is not None
            else view.escalations_due(
                None
                if policies is None
                else evaluate(
                    policies,
                    seen,
                    now=at,
                    calendars=calendars,
                    escalations=escalations,
                    targets=target,
                    slas=list(slas) or None,
                    forecast=forecast,
                )
            )
        ),
    }
    return PortfolioReport(
        source=source,
        now=at,
        timezone=timezone,
        summary=view.summary(),
        sections=sections,
        cycle_time=view.cycle,
        work_item_age=view.age,
    )


@attrs.frozen(eq=False)
class _View:
    """The facts every section reads, computed once: each item's current episode, age, cycle time."""

    frame: EventFrame
    episodes: Episodes
    now: int
    timezone: str
    state: npt.NDArray[np.int8]
    owner: npt.NDArray[np.int8]
    reason: npt.NDArray[np.int16]
    blocked_since: npt.NDArray[np.int64]
    block_evidence: npt.NDArray[Any]
    age_ns: npt.NDArray[np.int64]
    age: ItemDurations
    cycle: ItemDurations
    reason_labels: npt.NDArray[Any]
    """The taxonomy's reason codes by code, and ``None`` last, for code -1 (no reason)."""

    @classmethod
    def of(cls, frame: EventFrame, now: int, timezone: str) -> _View:
        found = episodes(frame, now=now)
        last = found.offsets[1:] - 1
        # A blocked run is a stretch of consecutive blocked episodes of one item (a reclassified
        # block changes the episode, not the run). The current run begins right after the item's
        # last episode that is not blocked (or with the item); an item not blocked now has its
        # last episode there, which the minimum keeps.
        unblocked = Marked(found.state != _BLOCKED, found.offsets).last()
        current_first = np.minimum(
            np.where(unblocked >= 0, unblocked + 1, found.offsets[:-1]), last
        )
        rows = found.first_row[current_first]
        evidence = frame.position[rows] if frame.event_id is None else frame.event_id[rows]
        age = work_item_age(found)
        age_ns = np.full(frame.item_count, NONE_NS, dtype=np.int64)
        age_ns[age.item] = age.duration
        return cls(
            frame=frame,
            episodes=found,
            now=now,
            timezone=timezone,
            state=found.state[last],
            owner=found.owner[last],
            reason=found.reason[last],
            blocked_since=found.start[current_first],
            block_evidence=evidence,
            age_ns=age_ns,
            age=age,
            cycle=cycle_time(found),
            reason_labels=np.array([*frame.taxonomy.codes, None], dtype=object),
        )

    def attribute(self, name: str) -> Categorical | None:
        return self.frame.item_attributes.get(name)

    def labels(self, name: str) -> npt.NDArray[Any]:
        """Each item's value of an attribute (``None`` where it has none or there is no such one)."""
        column = self.attribute(name)
        if column is None:
            return np.full(self.frame.item_count, None, dtype=object)
        return column.labels()

    def by_attribute(
        self,
        prefix: str,
        names: tuple[str, ...],
        build: Callable[[str, str, Categorical], ReportTable],
    ) -> dict[str, ReportTable]:
        """The sections ``<prefix>_<name>`` built per attribute; empty, saying why, without it."""
        sections = {}
        for name in names:
            key = f"{prefix}_{name}"
            column = self.attribute(name)
            sections[key] = (
                ReportTable.empty(key, note=f"the events have no {name!r} attribute")
                if column is None
                else build(key, name, column)
            )
        return sections

    # ------------------------------------------------------------------------------- summary

    def summary(self) -> dict[str, object]:
        counts = np.bincount(self.state, minlength=len(STATES))
        open_count = int(np.count_nonzero(OPEN_STATES[self.state]))
        blocked = int(counts[_BLOCKED])
        cycle = self.cycle.duration
        percentiles = (
            _days(np.array([self.cycle.percentile(q) for q in (50, 85, 95)]))
            if len(cycle)
            else np.full(3, np.nan)
        )
        return {
            "items": self.frame.item_count,
            "events": len(self.frame),
            "first_event": self.frame.first_time,
            "last_event": self.frame.last_time,
            "open": open_count,
            **{state.value: int(counts[code]) for code, state in enumerate(STATES)},
            "blocked_share": round(blocked / open_count, 4) if open_count else None,
            "aging_items": len(self.age),
            "cycle_time_items": len(cycle),
            **{
                f"cycle_time_p{q}_days": None if np.isnan(value) else float(value)
                for q, value in zip((50, 85, 95), percentiles.tolist(), strict=True)
            },
        }

    # ------------------------------------------------------------------------------- blocked

    def blocked_sections(self, oldest: int) -> dict[str, ReportTable]:
        blocked = np.flatnonzero(self.state == _BLOCKED)
        blocked_ns = self.now - self.blocked_since[blocked]
        reasons = Categorical(self.reason[blocked].astype(np.int32), self.reason_labels[:-1])
        owners = Categorical(self.owner[blocked].astype(np.int32), _OWNER_NAMES)
        sections = {
            "blocked_by_reason": self._blocked_by(
                "blocked_by_reason", "reason", reasons, blocked_ns
            ),
            "blocked_by_owner": self._blocked_by("blocked_by_owner", "owner", owners, blocked_ns),
        }
        sections.update(
            self.by_attribute(
                "blocked_by",
                ("region", "provider"),
                lambda key, name, column: self._blocked_by(
                    key, name, column.take(blocked), blocked_ns
                ),
            )
        )
        sections["oldest_blocked"] = self._oldest_blocked(blocked, oldest)
        return sections

    def _blocked_by(
        self, key: str, name: str, groups: Categorical, blocked_ns: npt.NDArray[np.int64]
    ) -> ReportTable:
        index, count, stats = _grouped(groups, blocked_ns, (50,))
        total = int(count.sum())
        labels = _group_labels(groups, index)
        columns: dict[str, object] = {
            name: labels,
            "items": count,
            "share": np.round(count / total, 4) if total else np.zeros(0),
            "median_blocked_days": _days(stats[50]),
            "max_blocked_days": _days(stats["max"]),
        }
        if key == "blocked_by_reason":  # each reason's label and default owner, from the taxonomy
            known = {reason.code: reason for reason in self.frame.taxonomy.reasons}
            columns["label"] = np.array(
                [known[c].label if c in known else None for c in labels], dtype=object
            )
            columns["owner"] = np.array(
                [known[c].owner.value if c in known else None for c in labels], dtype=object
            )
        note = None if total else "nothing is blocked"
        return ReportTable.from_columns(key, columns, note=note)

    def _oldest_blocked(self, blocked: npt.NDArray[np.intp], oldest: int) -> ReportTable:
        order = blocked[np.argsort(self.blocked_since[blocked], kind="stable")][:oldest]
        return ReportTable.from_columns(
            "oldest_blocked",
            {
                "item": self.frame.items[order].astype(object),
                "reason": self.reason_labels[self.reason[order]],
                "owner": _OWNER_LABELS[self.owner[order]],
                "blocked_since": self.blocked_since[order],
                "blocked_days": _days(self.now - self.blocked_since[order]),
                "age_days": _days(self.age_ns[order]),
                "provider": self.labels("provider")[order],
                "region": self.labels("region")[order],
                "step": self.labels("step")[order],
                "evidence": self.block_evidence[order].astype(object),
            },
            note=None if len(order) else "nothing is blocked",
        )

    # --------------------------------------------------------------------------------- aging

    def aging_sections(self) -> dict[str, ReportTable]:
        edges = np.array([*AGING_BUCKETS], dtype=np.int64) * NS_PER_DAY
        age = self.age.duration
        bucket = np.searchsorted(edges, age, side="right") - 1
        state = self.state[self.age.item]
        buckets = len(edges)
        in_progress = np.bincount(bucket[state == _IN_PROGRESS], minlength=buckets)
        blocked = np.bincount(bucket[state == _BLOCKED], minlength=buckets)
        items = np.bincount(bucket, minlength=buckets)
        lows = list(AGING_BUCKETS)
        highs: list[int | None] = [*AGING_BUCKETS[1:], None]
        names = [
            f"{low}-{high} days" if high is not None else f"{low}+ days"
            for low, high in zip(lows, highs, strict=True)
        ]
        note = None if len(age) else "no open work has started"
        aging = ReportTable.from_columns(
            "aging",
            {
                "bucket": np.array(names, dtype=object),
                "from_days": np.array(lows),
                "to_days": np.array(highs, dtype=object),
                "in_progress": in_progress,
                "blocked": blocked,
                "items": items,
            },
            note=note,
        )
        step = self.attribute("step")
        if step is None:
            by_step = ReportTable.empty("aging_by_step", note="the events have no 'step' attribute")
        else:
            steps = step.take(self.age.item)
            index, count, stats = _grouped(steps, age, (50, 85))
            blocked_sum = _group_sums(steps, (state == _BLOCKED).astype(np.int64))
            by_step = ReportTable.from_columns(
                "aging_by_step",
                {
                    "step": _group_labels(steps, index),
                    "items": count,
                    "blocked": blocked_sum[index] if len(index) else np.zeros(0, np.int64),
                    "p50_age_days": _days(stats[50]),
                    "p85_age_days": _days(stats[85]),
                    "max_age_days": _days(stats["max"]),
                },
                note=note,
            )
        return {"aging": aging, "aging_by_step": by_step}

    # ---------------------------------------------------------------------------- cycle time

    def cycle_sections(self, window_days: int) -> dict[str, ReportTable]:
        sections = self.by_attribute(
            "cycle_time_by",
            ("provider", "region", "step"),
            lambda key, name, column: self._cycle_by(key, name, column, window_days),
        )
        sections["cycle_time_trend"] = self._cycle_trend()
        return sections

    def _cycle_by(self, key: str, name: str, column: Categorical, window_days: int) -> ReportTable:
        groups = column.take(self.cycle.item)
        duration = self.cycle.duration
        index, count, stats = _grouped(groups, duration, (50, 85, 95))
        window = window_days * NS_PER_DAY
        recent = self.cycle.end > self.now - window
        previous = ~recent & (self.cycle.end > self.now - 2 * window)
        recent_count, recent_p85 = _subset_p85(groups, duration, recent, index)
        previous_count, previous_p85 = _subset_p85(groups, duration, previous, index)
        enough = (recent_count >= _TREND_MIN_ITEMS) & (previous_count >= _TREND_MIN_ITEMS)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = recent_p85 / np.where(previous_p85 > 0, previous_p85, 1)
        label = np.where(
            ratio > 1 + _TREND_TOLERANCE,
            "slower",
            np.where(ratio < 1 - _TREND_TOLERANCE, "faster", "steady"),
        ).astype(object)
        label[~enough] = None
        return ReportTable.from_columns(
            key,
            {
                name: _group_labels(groups, index),
                "items": count,
                "mean_days": np.round(stats["mean"] / NS_PER_DAY, 4),
                "p50_days": _days(stats[50]),
                "p85_days": _days(stats[85]),
                "p95_days": _days(stats[95]),
                "max_days": _days(stats["max"]),
                "recent_items": recent_count,
                "recent_p85_days": _days(recent_p85),
                "previous_items": previous_count,
                "previous_p85_days": _days(previous_p85),
                "trend": label,
            },
            note=None if len(duration) else "no work has completed",
        )

    def _cycle_trend(self) -> ReportTable:
        if not len(self.cycle):
            return ReportTable.empty("cycle_time_trend", note="no work has completed")
        monthly = {q: trend(self.cycle, q=q, freq="month", tz=self.timezone) for q in (50, 85, 95)}
        first = monthly[50]
        return ReportTable.from_columns(
            "cycle_time_trend",
            {
                "period": first.periods.labels.astype(str).astype(object),
                "items": first.count,
                "p50_days": _days(monthly[50].value),
                "p85_days": _days(monthly[85].value),
                "p95_days": _days(monthly[95].value),
            },
        )

    # ------------------------------------------------------------------------ flow and owners

    def blocked_time_by_owner(self) -> ReportTable:
        spent = time_in_state(self.episodes, states=["blocked"], by=["owner"])
        owners = len(OWNERS)
        total = np.bincount(spent.owner, weights=spent.duration, minlength=owners)
        items = np.bincount(spent.owner, minlength=owners)
        present = np.flatnonzero(items > 0)
        present = present[np.argsort(-total[present], kind="stable")]
        whole = total.sum()
        return ReportTable.from_columns(
            "blocked_time_by_owner",
            {
                "owner": _OWNER_NAMES[present],
                "blocked_days": np.round(total[present] / NS_PER_DAY, 4),
                "items": items[present],
                "share": np.round(total[present] / whole, 4) if whole else np.zeros(len(present)),
            },
            note=None if len(present) else "no work was ever blocked",
        )

    def cumulative_flow(self) -> ReportTable:
        flow = cumulative_flow(self.episodes, freq="week", tz=self.timezone)
        return ReportTable.from_columns(
            "cumulative_flow",
            {
                "period": flow.periods.labels.astype(str).astype(object),
                **{state.value: flow.counts[:, code] for code, state in enumerate(STATES)},
            },
        )

    # ----------------------------------------------------------------------------- at risk

    def sla_at_risk(self, clocks: list[SLAClocks]) -> ReportTable:
        key = "sla_at_risk"
        if not clocks:
            return ReportTable.empty(
                key, note="no SLA definitions were given (report --sla, or slas=)"
            )
        parts: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in SECTIONS[key][1]}
        for clock in clocks:  # one per SLA
            chosen = np.flatnonzero(clock.started & ~clock.stopped & (clock.stage >= 0))
            # The evidence of a clock is the event that started its counted pass.
            evidence = np.full(len(clock), None, dtype=object)
            starts = np.flatnonzero(clock.evidence.kind == 0)
            items, first = np.unique(clock.evidence.item[starts], return_index=True)
            evidence[items] = clock.evidence.event[starts[first]]
            parts["item"].append(self.frame.items[chosen].astype(object))
            parts["sla"].append(np.full(len(chosen), clock.sla.name, dtype=object))
            parts["state"].append(_STATE_NAMES[self.state[chosen]])
            parts["due_at"].append(clock.breach_ns[chosen])
            parts["remaining_days"].append(_days(clock.remaining_ns[chosen]))
            parts["status"].append(clock.stage_names[chosen])
            parts["evidence"].append(evidence[chosen])
        columns = {name: np.concatenate(values) for name, values in parts.items()}
        order = np.argsort(columns["due_at"], kind="stable")
        names = ", ".join(clock.sla.name for clock in clocks)
        note = None if len(order) else f"no open clock has reached a stage ({names})"
        return ReportTable.from_columns(
            key, {name: values[order] for name, values in columns.items()}, note=note
        )

    def target_date_at_risk(
        self, targets: TargetDates | None, forecast: CompletionForecast | None
    ) -> ReportTable:
        key = "target_date_at_risk"
        if targets is None or forecast is None:
            return ReportTable.empty(
                key, note="no target dates were given (an event trail records them)"
            )
        target, evidence = targets.aligned(self.frame.items)
        open_items = OPEN_STATES[self.state] & (target != NO_TARGET)
        overdue = open_items & (target < self.now)
        # The forecast's probability is NaN where it cannot tell; such items are not listed.
        late = open_items & ~overdue & (np.nan_to_num(forecast.miss_probability) >= _MISS)
        chosen = np.flatnonzero(overdue | late)
        chosen = chosen[np.argsort(target[chosen], kind="stable")]
        note = None
        if not len(chosen):
            note = "no open item with a target date is overdue or likely to miss it"
        return ReportTable.from_columns(
            key,
            {
                "item": self.frame.items[chosen].astype(object),
                "state": _STATE_NAMES[self.state[chosen]],
                "owner": _OWNER_LABELS[self.owner[chosen]],
                "reason": self.reason_labels[self.reason[chosen]],
                "target_at": target[chosen],
                "days_to_target": _days(target[chosen] - self.now),
                "age_days": _days(self.age_ns[chosen]),
                "miss_probability": np.round(forecast.miss_probability[chosen], 4),
                "forecast_p85_at": forecast.p85_ns[chosen],
                "status": np.where(overdue[chosen], "overdue", "at_risk").astype(object),
                "provider": self.labels("provider")[chosen],
                "region": self.labels("region")[chosen],
                "step": self.labels("step")[chosen],
                "evidence": evidence[chosen],
            },
            note=note,
        )

    def escalations_due(self, findings: Findings | None) -> ReportTable:
        key = "escalations_due"
        if findings is None:
            return ReportTable.empty(
                key, note="no policy was given (report --policy, or policies=)"
            )
        due = findings.take(np.isin(findings.actions, _DUE))
        rows = range(len(due))  # the findings due: a queue for people, not a bulk path
        return ReportTable.from_columns(
            key,
            {
                "item": np.asarray(due.item, dtype=object),
                "policy": np.asarray(due.policy, dtype=object),
                "action": np.asarray(due.actions, dtype=object),
                "level": np.asarray(due.level, dtype=np.int64),
                "target": np.asarray(due.target, dtype=object),
                "explanation": object_array(explanation(due.explain(row)) for row in rows),
                "evidence": object_array(list(due.evidence(row)) for row in rows),
            },
            note=None if len(due) else "no escalation is due to be raised or repeated now",
        )


def explanation(explained: dict[str, Any]) -> str:
    """A finding's explanation in a line: the conditions that hold, with the values measured."""
    parts: list[str] = []
    _holding(explained.get("when", {}), parts)
    return "; ".join(parts) if parts else str(explained.get("policy", ""))


def _holding(node: dict[str, Any], parts: list[str]) -> None:
    for combined in ("all_of", "any_of"):
        if combined in node:
            for child in node[combined]:  # the parts of one condition: a handful
                _holding(child, parts)
            return
    if "not" in node or not node.get("holds"):
        return
    operator = next((op for op in _OPERATORS if op in node), None)
    if operator is None:
        return
    if "measure" in node:
        threshold = node.get("threshold", node[operator])
        parts.append(f"{node['measure']} {node.get('value')} {_OPERATORS[operator]} {threshold}")
    elif "field" in node:
        parts.append(f"{node['field']} {_OPERATORS[operator]} {node[operator]}")


def _grouped(
    groups: Categorical, values: npt.NDArray[np.int64], percentiles: tuple[float, ...]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], dict[object, npt.NDArray[Any]]]:
    """Per group present (most items first; no value last): count, percentiles, max and mean."""
    none = len(groups.categories)
    codes = np.where(groups.codes < 0, none, groups.codes).astype(np.int64)
    grouped = GroupedValues(values, codes, none + 1)
    present = np.flatnonzero(grouped.count > 0)
    present = present[np.argsort(-grouped.count[present], kind="stable")]
    stats: dict[object, npt.NDArray[Any]] = {
        q: grouped.percentile(q, fill=NONE_NS)[present] for q in percentiles
    }
    stats["max"] = grouped.maximum(fill=NONE_NS)[present]
    stats["mean"] = grouped.mean()[present]
    return present, grouped.count[present], stats


def _group_sums(groups: Categorical, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    none = len(groups.categories)
    codes = np.where(groups.codes < 0, none, groups.codes)
    return np.bincount(codes, weights=values, minlength=none + 1).astype(np.int64)


def _group_labels(groups: Categorical, index: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    labels = np.array([*groups.categories.tolist(), None], dtype=object)
    return labels[index]


def _subset_p85(
    groups: Categorical,
    values: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    index: npt.NDArray[np.intp],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Count and p85 of the values under ``mask``, for the groups ``index``."""
    none = len(groups.categories)
    codes = np.where(groups.codes < 0, none, groups.codes).astype(np.int64)
    grouped = GroupedValues(values[mask], codes[mask], none + 1)
    return grouped.count[index], grouped.percentile(85, fill=NONE_NS)[index].astype(np.int64)

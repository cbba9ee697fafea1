"""Random portfolios, policies and escalations for the policy tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_HOUR
from servicedelivery.policy import (
    Action,
    Chart,
    Duration,
    Level,
    Override,
    Policy,
    Scope,
    SpikeCount,
    SpikePolicy,
    Target,
    all_of,
    any_of,
    field,
    measure,
    not_,
)
from servicedelivery.policy._escalations import Escalations
from tests.metrics.strategies import BASE, PROVIDERS, REASONS, histories

CALENDAR_DURATIONS = ("0s", "1h", "3h", "PT6H", "1d", "1d12h", "2d", "P3D", "5d")
WORKING_DURATIONS = (
    {"working": "1h"},
    {"working": "4h"},
    "8 business hours",
    "1 business day",
    "2 business days",
    "0.5 business days",
)
STATE_VALUES = ("planned", "in_progress", "blocked", "done", "cancelled")
OWNER_VALUES = ("provider", "customer", "noc", "service_desk")


def durations(*, working: bool) -> st.SearchStrategy[Duration]:
    choices: list[Any] = list(CALENDAR_DURATIONS)
    if working:
        choices += list(WORKING_DURATIONS)
    return st.sampled_from(choices).map(Duration.parse)


@st.composite
def field_tests(draw: st.DrawFn) -> Any:
    name = draw(st.sampled_from(("state", "owner", "reason", "provider")))
    values = {
        "state": STATE_VALUES,
        "owner": OWNER_VALUES,
        "reason": REASONS,
        "provider": (*PROVIDERS, "p9"),
    }[name]
    ref = field(name)
    op = draw(st.sampled_from(("eq", "ne", "in", "not_in")))
    if op in ("eq", "ne"):
        return getattr(ref, op)(draw(st.sampled_from(values)))
    chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
    return ref.is_in(chosen) if op == "in" else ref.not_in(chosen)


@st.composite
def measure_tests(draw: st.DrawFn, *, working: bool) -> Any:
    name = draw(
        st.sampled_from(("age", "time_in_state", "blocked_for", "blocked_total", "time_to_target"))
    )
    op = draw(st.sampled_from(("lt", "le", "gt", "ge")))
    threshold = draw(durations(working=working))
    if name == "time_to_target" and draw(st.booleans()):
        threshold = (
            Duration.parse("-" + threshold.text)
            if not threshold.wrapped
            else (Duration.parse({"working": "-" + threshold.text}))
        )
    return getattr(measure(name), op)(threshold)


def conditions(*, working: bool = True, depth: int = 2) -> st.SearchStrategy[Any]:
    leaves = field_tests() | measure_tests(working=working)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda c: all_of(*c)),
            st.lists(inner, min_size=1, max_size=3).map(lambda c: any_of(*c)),
            inner.map(not_),
        ),
        max_leaves=4 if depth else 1,
    )


TARGETS = st.sampled_from(
    [
        Target.queue("ops"),
        Target.queue("am_{provider}"),
        Target.owner("provider"),
        Target.owner("{owner}"),
        Target.queue("{state}_{reason}"),
    ]
)


@st.composite
def levels(draw: st.DrawFn, *, working: bool) -> tuple[Level, ...]:
    count = draw(st.integers(1, 3))
    clock_working = working and draw(st.booleans())
    pool = (
        ["0.5 business days", "1 business day", "2 business days", "3 business days"]
        if clock_working
        else ["1h", "6h", "1d", "2d", "4d"]
    )
    afters = sorted(
        draw(st.lists(st.sampled_from(pool), min_size=count, max_size=count, unique=True)),
        key=lambda text: (
            Duration.parse(text).days
            if Duration.parse(text).days is not None
            else Duration.parse(text).ns
        ),
    )
    result = []
    for index, text in enumerate(afters):
        when = draw(st.none() | conditions(working=working, depth=0)) if index else None
        after = None if index == 0 and draw(st.booleans()) else Duration.parse(text)
        result.append(Level(to=draw(TARGETS), after=after, when=when))
    return tuple(result)


@st.composite
def policies(draw: st.DrawFn, *, name: str = "p0", working: bool = True) -> Policy:
    action = draw(st.sampled_from(list(Action)))
    kwargs: dict[str, Any] = {
        "name": name,
        "when": draw(conditions(working=working)),
        "action": action,
    }
    if action is Action.ESCALATE:
        kwargs["levels"] = draw(levels(working=working))
    else:
        kwargs["to"] = draw(TARGETS)
    if draw(st.booleans()):
        kwargs["scope"] = Scope(
            {
                "provider": draw(
                    st.lists(st.sampled_from(PROVIDERS), min_size=1, max_size=3, unique=True)
                )
            }
        )
    for noise in ("hold", "repeat", "clear_after"):
        if draw(st.booleans()):
            chosen = draw(durations(working=working))
            if noise == "repeat" and chosen.ns == 0 and chosen.days is None:
                continue
            kwargs[noise] = chosen
    if draw(st.booleans()):
        override: dict[str, Any] = {"scope": Scope({"provider": draw(st.sampled_from(PROVIDERS))})}
        if draw(st.booleans()):
            override["when"] = draw(conditions(working=working))
        if draw(st.booleans()):
            override["hold"] = draw(durations(working=working))
        else:
            override["clear_after"] = draw(durations(working=working))
        kwargs["overrides"] = (Override(**override),)
        if "scope" in kwargs:
            kwargs["scope"] = Scope({"provider": tuple(PROVIDERS)})
    return Policy(**kwargs)


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[EventFrame, int]:
    columns, now = draw(histories(max_items=5, max_rows=25))
    frame = EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["provider"]
    )
    return frame, now


@st.composite
def ledgers(draw: st.DrawFn, frame: EventFrame, names: list[str], now: int) -> Escalations:
    count = draw(st.integers(0, 8))
    records = []
    positions = frame.position.tolist() or [0]
    for _ in range(count):
        cleared = draw(st.booleans()) and draw(st.booleans())
        records.append(
            {
                "policy": draw(st.sampled_from(names)),
                "item": str(draw(st.sampled_from(frame.items.tolist()))),
                "episode": draw(st.sampled_from(positions)),
                "level": 0 if cleared else draw(st.integers(1, 3)),
                "cleared": cleared,
                "at": draw(st.integers(BASE, now)) if now >= BASE else now,
            }
        )
    return Escalations.from_records(records)


TARGET_OFFSETS = st.integers(-20, 200).map(lambda hours: BASE + hours * 3 * NS_PER_HOUR)


@st.composite
def spike_policies(draw: st.DrawFn, *, name: str = "spike") -> SpikePolicy:
    chart = draw(st.none() | st.sampled_from(list(Chart)))
    kwargs: dict[str, Any] = {
        "name": name,
        "count": draw(st.sampled_from(list(SpikeCount))),
        "by": "provider",
        "to": draw(st.sampled_from([Target.queue("vendor_{provider}"), Target.queue("ops")])),
        "chart": chart,
    }
    if draw(st.booleans()):
        kwargs["baseline_days"] = draw(st.integers(2, 10))
    if draw(st.booleans()):
        kwargs["sigma"] = draw(st.sampled_from([1.0, 2, 3.5]))
    if chart is Chart.EWMA and draw(st.booleans()):
        kwargs["weight"] = draw(st.sampled_from([0.2, 0.5, 1]))
    if draw(st.booleans()):
        kwargs["timezone"] = draw(st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata"]))
    return SpikePolicy(**kwargs)

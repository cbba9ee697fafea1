"""Hypothesis strategies for SLA definitions, valid by construction under the default lifecycle.

Every canonical state is given one role (starts the clock, stops it, cancels it, or none), with
``cancelled`` (the default lifecycle's terminal state) stopping or cancelling it; pauses are drawn
among the states that neither stop nor cancel, and may name owners, reasons and an attribute, so
that start and pause overlap as often as they do in real definitions. No filtering is needed.
"""

from __future__ import annotations

from hypothesis import strategies as st

from servicedelivery.model import DEFAULT_TAXONOMY, NS_PER_MINUTE, MilestoneState, Owner
from servicedelivery.sla import ITEM_CALENDAR, SLA, Condition, Reopening, Stage

__all__ = ["slas"]

_ROLES = ("start", "stop", "cancel", "none")


@st.composite
def _stages(draw: st.DrawFn) -> tuple[Stage, ...]:
    # Hundredths, so that the fractions are the decimals a person writes.
    points = sorted(draw(st.sets(st.integers(1, 100), max_size=4)))
    return tuple(Stage(f"stage_{point}", point / 100) for point in points)


@st.composite
def slas(
    draw: st.DrawFn,
    *,
    calendars: st.SearchStrategy[str | None] | None = None,
    max_target_minutes: int = 3 * 24 * 60,
    attributes: dict[str, tuple[str, ...]] | None = None,
    reasons: tuple[str, ...] | None = None,
) -> SLA:
    """Valid SLAs under the default lifecycle and taxonomy.

    Args:
        calendars: What ``calendar`` is drawn from; ``None``, ``"item"`` or ``"office"`` by
            default.
        max_target_minutes: The longest target, in whole minutes (at least one minute).
        attributes: Attributes a pause may name, with the values it may match; none by default.
        reasons: The reason codes a pause may name; the default taxonomy's by default.
    """
    roles = {state: draw(st.sampled_from(_ROLES)) for state in MilestoneState}
    roles[MilestoneState.CANCELLED] = draw(st.sampled_from(("stop", "cancel")))
    # At least one state starts the clock and one stops it; the others keep their draws.
    free = [state for state in MilestoneState if state is not MilestoneState.CANCELLED]
    starter = draw(st.sampled_from(free))
    roles[starter] = "start"
    if "stop" not in roles.values():
        roles[draw(st.sampled_from([s for s in free if s is not starter]))] = "stop"

    def having(role: str) -> tuple[MilestoneState, ...]:
        return tuple(state for state in MilestoneState if roles[state] == role)

    pause = None
    pausable = [state for state in MilestoneState if roles[state] in ("start", "none")]
    if draw(st.booleans()):
        states = tuple(draw(st.sets(st.sampled_from(pausable), min_size=1)))
        owners: tuple[Owner, ...] = ()
        codes: tuple[str, ...] = ()
        if states == (MilestoneState.BLOCKED,):
            owners = tuple(draw(st.sets(st.sampled_from(tuple(Owner)), max_size=2)))
            pool = reasons if reasons is not None else DEFAULT_TAXONOMY.codes
            codes = tuple(draw(st.sets(st.sampled_from(pool), max_size=2)))
        chosen = {}
        if attributes and draw(st.booleans()):
            name = draw(st.sampled_from(sorted(attributes)))
            chosen[name] = tuple(draw(st.sets(st.sampled_from(attributes[name]), min_size=1)))
        pause = Condition(states=states, owners=owners, reasons=codes, attributes=chosen)
    cancel = having("cancel")
    return SLA(
        name=draw(st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)),
        target_ns=draw(st.integers(1, max(max_target_minutes, 1))) * NS_PER_MINUTE,
        start=Condition(states=having("start")),
        stop=Condition(states=having("stop")),
        pause=pause,
        cancel=Condition(states=cancel) if cancel else None,
        calendar=draw(
            calendars if calendars is not None else st.sampled_from([None, ITEM_CALENDAR, "office"])
        ),
        stages=draw(_stages()),
        reopened=draw(st.sampled_from(tuple(Reopening))),
        description=draw(st.text(max_size=20)),
    )

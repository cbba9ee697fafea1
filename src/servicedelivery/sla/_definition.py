"""SLA definitions: what starts, pauses, stops and cancels a clock, the target, and the stages.

An :class:`SLA` is data. It is checked once, when built: a definition that contradicts itself (a
start that is also a stop, a pause that would hold a stopped clock, stages out of order) is refused
with a :class:`~servicedelivery.errors.DefinitionError` that says why. What needs more than the
definition (the lifecycle's terminal states, the taxonomy's reasons, the calendar set's names) is
checked by :meth:`SLA.check`, which :meth:`SLA.from_data` runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum, unique
from fractions import Fraction
from math import floor, isfinite
from typing import TYPE_CHECKING, Any

import attrs

from servicedelivery.calendars import CalendarSet
from servicedelivery.errors import DefinitionError, FieldError, ValidationError
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import DEFAULT_TAXONOMY, MilestoneState, Taxonomy
from servicedelivery.model._definitions import read_json
from servicedelivery.model._validation import (
    Validated,
    checked,
    identifier,
    instance_of,
    member_of,
    optional,
    slug,
    text,
    to_tuple,
    tuple_of,
)
from servicedelivery.sla._conditions import Condition
from servicedelivery.sla._durations import format_duration

if TYPE_CHECKING:
    from servicedelivery.calendars import BusinessCalendar

__all__ = [
    "DEFAULT_STAGES",
    "ITEM_CALENDAR",
    "ROLES",
    "SLA",
    "Reopening",
    "Stage",
    "context_problems",
    "definition_problems",
    "positive_duration",
    "terminal_states",
]

ITEM_CALENDAR = "item"
"""The ``calendar`` of an SLA counted in each item's own calendar (site, else region, else default)."""


@unique
class Reopening(StrEnum):
    """What a clock does when work that stopped it starts again (a reopened ticket, say)."""

    FIRST = "first"
    """The first pass only: once stopped, the clock stays stopped whatever happens next."""
    CONTINUE = "continue"
    """One clock over every pass: it resumes where it stopped, and the time between a stop and the
    restart is not counted (as if paused)."""
    RESTART = "restart"
    """Each pass is its own clock, from zero; the clock reported is the latest pass's."""


def _fraction(value: object) -> str | None:
    if isinstance(value, float) and isfinite(value) and 0 < value <= 1:
        return None
    return "a fraction of the target in (0, 1], such as 0.75"


def _as_float(value: object) -> object:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


@attrs.frozen
class Stage(Validated):
    """A named point on a clock: reached once the time counted exceeds a fraction of the target.

    Attributes:
        name: The stage's name, a code such as ``"at_risk_75"`` or ``"breached"``.
        at: The fraction of the target, in (0, 1]; ``1.0`` is the target itself.
    """

    name: str = checked(slug)
    at: float = checked(_fraction, converter=_as_float)

    def threshold_ns(self, target_ns: int) -> int:
        """The counted time a clock must exceed to reach the stage: ``at * target``, rounded down.

        The fraction is read as the decimal it is written as (``0.9`` is nine tenths exactly), so
        the threshold is exact: a clock reaches the stage when its counted time, a whole number of
        nanoseconds, is greater than ``at * target``.
        """
        return floor(Fraction(repr(self.at)) * target_ns)


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("at_risk_50", 0.5),
    Stage("at_risk_75", 0.75),
    Stage("at_risk_90", 0.9),
    Stage("breached", 1.0),
)
"""The stages of an SLA that declares none: at risk at 50, 75 and 90% of the target, then breached."""


def positive_duration(value: object) -> str | None:
    """``None`` for a target a clock can count to in ``int64`` ns, else what is expected."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _LONGEST_NS:
        return None
    return "a duration > 0 and at most 292 years (2**63 - 1 ns)"


_LONGEST_NS = 2**63 - 1


def _stages(value: object) -> str | None:
    return tuple_of(instance_of(Stage))(value)


_CONDITION = instance_of(Condition)

#: The roles a condition plays in an SLA, in the order they are read and reported.
ROLES = ("start", "stop", "pause", "cancel")


@attrs.frozen(kw_only=True)
class SLA(Validated):
    """A service-level agreement's clock, as data.

    The clock of an item starts at its first episode matching ``start``; it then counts time,
    except while its episodes match ``pause``, until an episode matches ``stop`` (the target is
    then met or missed) or ``cancel`` (no verdict). What happens when work starts again after a
    stop is ``reopened``. Time is counted in ``calendar``. The explanation page "SLA clocks" states
    every rule.

    Attributes:
        name: The SLA's name, such as ``"p1_restore"``.
        target_ns: The agreed time, in ns: working time when ``calendar`` is set, else elapsed time.
        start: The episodes that start the clock.
        stop: The episodes that stop it; the target is met when the time counted is at most
            ``target_ns``.
        pause: The episodes during which a started clock does not count (stop-the-clock), or
            ``None``.
        cancel: The episodes that stop it without a verdict (cancelled work), or ``None``.
        calendar: ``None`` to count elapsed time; the name of a calendar of the
            :class:`~servicedelivery.calendars.CalendarSet` the clocks are computed with; or
            ``"item"`` (:data:`ITEM_CALENDAR`) for each item's own calendar through the set's chain.
        stages: Named fractions of the target, strictly increasing (default
            :data:`DEFAULT_STAGES`).
        reopened: What the clock does when work starts again after a stop.
        description: What the SLA is, for people.

    Raises:
        ValidationError: A field is not of the expected kind.
        DefinitionError: The definition contradicts itself (:meth:`check` says more with the
            lifecycle, taxonomy and calendars).
    """

    name: str = checked(identifier)
    target_ns: int = checked(positive_duration)
    start: Condition = checked(_CONDITION)
    stop: Condition = checked(_CONDITION)
    pause: Condition | None = checked(optional(_CONDITION), default=None)
    cancel: Condition | None = checked(optional(_CONDITION), default=None)
    calendar: str | None = checked(optional(identifier), default=None)
    stages: tuple[Stage, ...] = checked(_stages, converter=to_tuple, default=DEFAULT_STAGES)
    reopened: Reopening = checked(member_of(Reopening), default=Reopening.CONTINUE)
    description: str = checked(text, default="")

    def __attrs_post_init__(self) -> None:
        try:
            super().__attrs_post_init__()
        except ValidationError as error:
            # Every problem of a definition is a definition error, bad fields included.
            raise DefinitionError(error.errors, title=f"invalid SLA {self.name!r}") from None

    @property
    def conditions(self) -> dict[str, Condition]:
        """The conditions the SLA declares, by role: start, stop, and pause and cancel if any."""
        declared = {role: getattr(self, role) for role in ROLES}
        return {role: condition for role, condition in declared.items() if condition is not None}

    def thresholds_ns(self) -> tuple[int, ...]:
        """Each stage's threshold in ns of counted time (see :meth:`Stage.threshold_ns`)."""
        return tuple(stage.threshold_ns(self.target_ns) for stage in self.stages)

    # --- checks ------------------------------------------------------------------------------

    def _check_together(self) -> Iterable[FieldError]:
        return definition_problems(self.conditions, dict(enumerate(self.stages)))

    def check(
        self,
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        calendars: CalendarSet | BusinessCalendar | None = None,
    ) -> SLA:
        """Check the definition against what it refers to; return it unchanged.

        Args:
            lifecycle: The lifecycle items follow: a clock must stop or be cancelled in each of its
                terminal states, and no pause may match one (it could never end).
            taxonomy: The blocked reasons the conditions may name.
            calendars: The calendars the clocks will be computed with, if known: ``calendar``
                must name one of them.

        Raises:
            DefinitionError: Listing every problem, each with its path and why.
        """
        errors = list(
            context_problems(
                self.conditions,
                self.calendar,
                lifecycle=lifecycle,
                taxonomy=taxonomy,
                calendars=calendars,
            )
        )
        if errors:
            raise DefinitionError(errors, title=f"invalid SLA {self.name!r}")
        return self

    # --- data ----------------------------------------------------------------------------------

    @classmethod
    def from_data(
        cls,
        data: object,
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        calendars: CalendarSet | BusinessCalendar | None = None,
    ) -> SLA:
        """Load an SLA from plain data (as parsed from JSON), and :meth:`check` it.

        The format is in the data formats reference. A condition's ``state`` may name a canonical
        state or a state of ``lifecycle`` that is the only one of its canonical state.

        Raises:
            DefinitionError: Listing every problem with its path, such as ``pause.owner[0]``.
        """
        from servicedelivery.sla._reading import sla_from_data  # noqa: PLC0415

        return sla_from_data(data, lifecycle=lifecycle, taxonomy=taxonomy, calendars=calendars)

    @classmethod
    def from_json(
        cls,
        text: str,
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        calendars: CalendarSet | BusinessCalendar | None = None,
    ) -> SLA:
        """Load an SLA from a JSON document; see :meth:`from_data`."""
        return cls.from_data(
            read_json(text), lifecycle=lifecycle, taxonomy=taxonomy, calendars=calendars
        )

    def to_data(self) -> dict[str, Any]:
        """The SLA as plain data that :meth:`from_data` reads back unchanged."""
        return {
            "name": self.name,
            "description": self.description,
            "target": format_duration(self.target_ns),
            "calendar": self.calendar,
            "start": self.start.to_data(),
            "pause": None if self.pause is None else self.pause.to_data(),
            "stop": self.stop.to_data(),
            "cancel": None if self.cancel is None else self.cancel.to_data(),
            "reopened": self.reopened.value,
            "stages": [{"name": stage.name, "at": stage.at} for stage in self.stages],
        }


# Pairs of roles that no episode may match both of, and why.
_EXCLUSIVE = (
    ("start", "stop", "the clock would start and stop on the same episode"),
    ("start", "cancel", "the clock would start and be cancelled on the same episode"),
    ("stop", "cancel", "the clock would stop with and without a verdict on the same episode"),
    ("pause", "stop", "the clock would be paused and stopped on the same episode"),
    ("pause", "cancel", "the clock would be paused and cancelled on the same episode"),
)


def definition_problems(
    conditions: Mapping[str, Condition], stages: Mapping[int, Stage]
) -> Iterator[FieldError]:
    """What contradicts itself in a definition, whatever it is used with.

    Args:
        conditions: The conditions declared so far, by role (start, stop, pause, cancel).
        stages: The stages read so far, by their index in the definition.
    """
    for role, condition in conditions.items():
        if condition.blocked_only and MilestoneState.BLOCKED not in (
            condition.states or (MilestoneState.BLOCKED,)
        ):
            yield FieldError(
                role,
                condition.to_data(),
                "a condition that can match: it names owners or reasons, which only blocked "
                "episodes have, but not the blocked state",
            )
    yield from _clashes(conditions)
    yield from _stage_problems(stages)


def _clashes(conditions: Mapping[str, Condition]) -> Iterator[FieldError]:
    for first, second, why in _EXCLUSIVE:
        if first not in conditions or second not in conditions:
            continue
        both = conditions[first].overlap(conditions[second])
        if both is not None:
            yield FieldError(
                second,
                conditions[second].to_data(),
                f"a {second} condition that matches no episode the {first} condition matches; "
                f"both match {both.describe()}: {why}",
            )


def _stage_problems(stages: Mapping[int, Stage]) -> Iterator[FieldError]:
    seen: dict[str, int] = {}
    previous: int | None = None
    for index, stage in stages.items():
        if stage.name in seen:
            yield FieldError(
                f"stages[{index}].name",
                stage.name,
                f"a name not already used by stages[{seen[stage.name]}]",
            )
        seen.setdefault(stage.name, index)
        if previous is not None and stage.at <= stages[previous].at:
            yield FieldError(
                f"stages[{index}].at",
                stage.at,
                f"a fraction greater than stages[{previous}].at ({stages[previous].at}): "
                "stages are listed in the order a clock reaches them",
            )
        previous = index


def terminal_states(lifecycle: Lifecycle) -> tuple[MilestoneState, ...]:
    """The canonical states all of whose lifecycle states are terminal: nothing leaves them."""
    categories = {state.category for state in lifecycle.states}
    return tuple(
        category
        for category in MilestoneState
        if category in categories
        and all(state.terminal for state in lifecycle.states if state.category is category)
    )


def context_problems(
    conditions: Mapping[str, Condition],
    calendar: str | None,
    *,
    lifecycle: Lifecycle,
    taxonomy: Taxonomy,
    calendars: CalendarSet | BusinessCalendar | None,
) -> Iterator[FieldError]:
    """What does not fit the lifecycle, taxonomy or calendars a definition is used with.

    Args:
        conditions: The conditions declared so far, by role.
        calendar: The SLA's ``calendar``.
        lifecycle: Whose terminal states every clock must stop in, and no pause match.
        taxonomy: The reasons conditions may name.
        calendars: The calendars ``calendar`` must name one of, if given.
    """
    for role, condition in conditions.items():
        for index, code in enumerate(condition.reasons):
            if code not in taxonomy:
                yield FieldError(
                    f"{role}.reason[{index}]",
                    code,
                    f"a reason code of the taxonomy ({', '.join(taxonomy.codes)})",
                )
    pause, stop, cancel = (conditions.get(role) for role in ("pause", "stop", "cancel"))
    for state in terminal_states(lifecycle):
        alone = Condition(states=(state,))
        if pause is not None and pause.overlap(alone) is not None:
            yield FieldError(
                "pause",
                pause.to_data(),
                f"a pause that matches no episode in {state.value!r}: it is a terminal state of "
                f"lifecycle {lifecycle.name!r}, so a clock paused there could never resume",
            )
        if stop is not None and not (
            stop.covers(state) or (cancel is not None and cancel.covers(state))
        ):
            yield FieldError(
                "stop",
                stop.to_data(),
                f"a stop or a cancel that matches every episode in {state.value!r}: it is a "
                f"terminal state of lifecycle {lifecycle.name!r}, so a clock still running when "
                "an item enters it would never stop",
            )
    if calendars is not None and calendar is not None:
        yield from _calendar_problems(calendar, calendars)


def _calendar_problems(
    name: str, calendars: CalendarSet | BusinessCalendar
) -> Iterator[FieldError]:
    known = (
        [calendar.name for calendar in calendars.calendars]
        if isinstance(calendars, CalendarSet)
        else [calendars.name]
    )
    if name == ITEM_CALENDAR and ITEM_CALENDAR in known:
        yield FieldError(
            "calendar",
            name,
            f"a name that is not both {ITEM_CALENDAR!r} (each item's own calendar) and the name "
            "of a calendar of the set: rename that calendar",
        )
    elif name != ITEM_CALENDAR and name not in known:
        yield FieldError(
            "calendar",
            name,
            f"{ITEM_CALENDAR!r} (each item's own calendar) or the name of a calendar of the set "
            f"({', '.join(map(repr, known))})",
        )

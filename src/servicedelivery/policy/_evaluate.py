"""Bulk evaluation: every policy over every item of a frame at once, with numpy masks.

For each policy, items are split among its variants (the most specific matching override first),
each variant's condition is evaluated for its items, and the noise controls decide, against the
escalations already recorded, what to do now. Loops run over policies, variants, levels and the
nodes of a condition, never over items.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._options import as_instant
from servicedelivery.model import OWNERS, STATES
from servicedelivery.policy import _external  # noqa: F401 - registers the SLA and forecast measures
from servicedelivery.policy._context import NONE, Context, Shared, as_calendar_set
from servicedelivery.policy._durations import Duration
from servicedelivery.policy._escalations import Escalations, PolicyState, policy_state
from servicedelivery.policy._findings import (
    ACTIONS,
    FindingAction,
    Findings,
    Rows,
    VariantPart,
    concat,
)
from servicedelivery.policy._policy import Policy, Variant
from servicedelivery.policy._policyset import PolicySet, as_policy_set
from servicedelivery.policy._targets import Scope, Target
from servicedelivery.policy._truth import Leaf, Node, evaluate_condition

__all__ = ["Evaluations", "check_escalations", "evaluate", "render_targets", "scope_mask"]

_CODE = {action: np.int8(ACTIONS.index(action)) for action in ACTIONS}
_STATE_NAMES = np.array([state.value for state in STATES], dtype=object)
_OWNER_LABELS = np.array([*(owner.value for owner in OWNERS), None], dtype=object)
"""Owner names by code, and ``None`` for code -1 (no owner)."""


def evaluate(
    policies: PolicySet | Policy | Iterable[Policy],
    frame: EventFrame,
    *,
    now: object,
    calendars: CalendarSet | BusinessCalendar | None = None,
    escalations: Escalations | None = None,
    targets: object = None,
    slas: object = None,
    forecast: object = None,
) -> Findings:
    """Evaluate policies over every item of a frame at ``now``.

    Args:
        policies: A :class:`PolicySet`, one policy, or a sequence of policies.
        frame: The events; rows after ``now`` are ignored.
        now: The instant of the evaluation (an aware datetime or ns since the epoch).
        calendars: The items' business calendars, for working time: a :class:`CalendarSet`
            (each item's from its ``site`` and ``region`` attributes) or one calendar for all.
        escalations: The escalations already recorded (from the trail); none by default.
        targets: The items' target dates: an attribute name, a mapping of item id to instant, or
            an ``int64`` array aligned with ``frame.items`` (for ``time_to_target`` and forecasts).
        slas: The SLAs that SLA measures name.
        forecast: The :class:`CompletionForecast` that ``target_miss_probability`` reads
            (see :func:`forecast_completion`); needed only by policies that use it.

    Returns:
        One row per (policy, item) with something to do or report.

    Raises:
        ValidationError: Bad options, or a policy that cannot be evaluated on this frame (an
            attribute it does not have, working time without calendars, ...), with the path of
            the part of the policy at fault.
    """
    policy_set = as_policy_set(policies)
    at = as_instant(now, path="now")
    ctx = Context(
        frame,
        now=at,
        calendars=as_calendar_set(calendars),
        targets=targets,
        slas=slas,
        forecast=forecast,
    )
    ledger = Escalations.empty() if escalations is None else check_escalations(escalations)
    return _findings(policy_set, ctx, ledger)


class Evaluations:
    """Policies over one frame at instant after instant (a backtest), each time as evaluate would.

    What does not depend on the instant is worked out once.
    The policy set, the calendars, the item index and target dates given as a mapping are
    worked out at the first evaluation, where :func:`evaluate` works them out (so the same
    problem is reported first), and kept for the others (see :class:`Shared`).

    Args:
        policies: As for :func:`evaluate`.
        frame: The events, of every instant.
        calendars: As for :func:`evaluate`.
        targets: As for :func:`evaluate`.
    """

    def __init__(
        self,
        policies: PolicySet | Policy | Iterable[Policy],
        frame: EventFrame,
        *,
        calendars: object,
        targets: object,
    ) -> None:
        self._policies = policies
        self._calendars = calendars
        self.shared = Shared(frame, targets)

    @cached_property
    def policy_set(self) -> PolicySet:
        """The policies, as a set."""
        return as_policy_set(self._policies)

    @cached_property
    def calendars(self) -> CalendarSet | None:
        """The calendars, as a set."""
        return as_calendar_set(self._calendars)

    def at(self, now: int, *, escalations: Escalations, slas: object, forecast: object) -> Findings:
        """``evaluate(policies, frame, now=now, ...)``, with the options of this object.

        Raises:
            ValidationError: As :func:`evaluate`.
        """
        policy_set = self.policy_set
        ctx = Context(
            self.shared.frame,
            now=now,
            calendars=self.calendars,
            targets=None,
            slas=slas,
            forecast=forecast,
            shared=self.shared,
        )
        return _findings(policy_set, ctx, escalations)


def _findings(policy_set: PolicySet, ctx: Context, ledger: Escalations) -> Findings:
    """Every policy's findings in a context, given the escalations already recorded."""
    codes = ctx.item_index.codes(ledger.item) if len(ledger) else np.zeros(0, dtype=np.int64)
    groups: list[list[Rows]] = []
    for index, policy in enumerate(policy_set):
        path = f"policies[{index}]"
        if isinstance(policy, Policy):
            state = policy_state(ledger, policy.name, codes, ctx.count)
            groups.append(_policy_rows(ctx, policy, state, path))
        else:
            from servicedelivery.policy._spike import spike_rows  # noqa: PLC0415 - optional part

            groups.append(spike_rows(ctx, policy, ledger, codes, path))
    return concat(groups, now=ctx.now)


def check_escalations(value: object) -> Escalations:
    """The ``escalations`` option, refused unless it is :class:`Escalations`."""
    if isinstance(value, Escalations):
        return value
    raise ValidationError.single("escalations", value, "Escalations (or None)")


def scope_mask(ctx: Context, scope: Scope | None, path: str) -> npt.NDArray[np.bool_]:
    """Which items a scope covers: each attribute's value (the item's last recorded) is accepted.

    Raises:
        ValidationError: The scope names an attribute the frame does not have.
    """
    mask = np.ones(ctx.count, dtype=np.bool_)
    if scope is None:
        return mask
    attributes = ctx.frame.item_attributes
    for name in scope.attributes:
        if name not in attributes:
            known = ", ".join(attributes) or "none"
            raise ValidationError.single(
                f"{path}.{name}", name, f"an attribute of the frame (it has {known})"
            )
        column = attributes[name]
        wanted = [
            code
            for code, label in enumerate(column.categories.tolist())
            if str(label) in scope.values(name)
        ]
        mask &= np.isin(column.codes, wanted)
    return mask


def _policy_rows(ctx: Context, policy: Policy, state: PolicyState, path: str) -> list[Rows]:
    in_scope = scope_mask(ctx, policy.scope, f"{path}.scope")
    variants = policy.variants()
    assigned = np.full(ctx.count, -1, dtype=np.int64)
    for number, variant in enumerate(variants):
        where = f"{path}.overrides[{variant.override}].scope"
        mask = in_scope & (assigned < 0)
        if variant.scope is not None:
            mask &= scope_mask(ctx, variant.scope, where)
        assigned[mask] = number
    rows = []
    for number, variant in enumerate(variants):
        items = np.flatnonzero(assigned == number)
        if len(items):
            rows.append(_variant_rows(ctx, variant, items, state, path))
    return rows


def _part_path(policy_path: str, variant: Variant, name: str) -> str:
    """Where a part of a variant is written: in its override, or in the policy itself."""
    if variant.override >= 0:
        override = variant.policy.overrides[variant.override]
        if getattr(override, name) is not None:
            return f"{policy_path}.overrides[{variant.override}].{name}"
    return f"{policy_path}.{name}"


def level_path(policy_path: str, variant: Variant, index: int) -> str:
    """Where level ``index`` of a variant is written (a route or tag policy's one: its ``to``)."""
    if variant.override >= 0 and variant.policy.overrides[variant.override].levels is not None:
        return f"{policy_path}.overrides[{variant.override}].levels[{index}]"
    if variant.policy.levels:
        return f"{policy_path}.levels[{index}]"
    return _part_path(policy_path, variant, "to").removesuffix(".to")


def _held(
    ctx: Context,
    duration: Duration | None,
    since: npt.NDArray[np.int64],
    items: npt.NDArray[np.intp],
    path: str,
) -> npt.NDArray[np.bool_]:
    """Whether ``duration`` has passed from ``since`` to now, in its clock (always, for none)."""
    if duration is None:
        return np.ones(len(items), dtype=np.bool_)
    elapsed = ctx.clocks.elapsed(duration.clock, since, ctx.now, items, path=path)
    result: npt.NDArray[np.bool_] = elapsed >= ctx.clocks.amount(duration, items, path=path)
    return result


def _reached(
    ctx: Context,
    variant: Variant,
    *,
    holds: npt.NDArray[np.bool_],
    since: npt.NDArray[np.int64],
    items: npt.NDArray[np.intp],
    path: str,
) -> tuple[npt.NDArray[np.int16], dict[int, list[Node]]]:
    """Per item, the highest level whose condition, hold and delay are met; the levels' nodes."""
    hold_path = _part_path(path, variant, "hold")
    reached = np.zeros(len(items), dtype=np.int16)
    level_nodes: dict[int, list[Node]] = {}
    for index, step in enumerate(variant.levels):
        level_holds, level_since = holds, since
        if step.when is not None:
            found = evaluate_condition(
                ctx, step.when, items, f"{level_path(path, variant, index)}.when"
            )
            level_nodes[index] = found
            level_holds = holds & found[0].holds
            level_since = np.maximum(since, found[0].since)
        rows = np.flatnonzero(level_holds)
        ok = _held(ctx, variant.hold, level_since[rows], items[rows], hold_path)
        after_path = f"{level_path(path, variant, index)}.after"
        ok &= _held(ctx, step.after, level_since[rows], items[rows], after_path)
        reached[rows[ok]] = index + 1
    return reached, level_nodes


def _variant_rows(
    ctx: Context,
    variant: Variant,
    items: npt.NDArray[np.intp],
    state: PolicyState,
    path: str,
) -> Rows:
    when_path = _part_path(path, variant, "when")
    nodes = evaluate_condition(ctx, variant.when, items, when_path)
    condition = nodes[0]
    # A closed item satisfies no condition: it has been false since it closed (or since earlier).
    open_item = ctx.is_open[items]
    closed = ctx.closed_since[items]
    holds = condition.holds & open_item
    since = np.where(
        open_item,
        condition.since,
        np.where(condition.holds, closed, np.minimum(condition.since, closed)),
    )
    reached, level_nodes = _reached(ctx, variant, holds=holds, since=since, items=items, path=path)
    # The episode a new escalation would belong to: the one in force when the condition began.
    candidate = np.full(len(items), NONE, dtype=np.int64)
    holding = np.flatnonzero(holds)
    if len(holding):
        episode = ctx.episode_at(items[holding], since[holding])
        candidate[holding] = ctx.frame.position[ctx.episodes.first_row[episode]]
    is_open = state.open[items]
    open_level = state.level[items]
    open_key = state.episode[items]
    fresh = holds & ~is_open
    used = np.zeros(len(items), dtype=np.bool_)
    fresh_rows = np.flatnonzero(fresh)
    used[fresh_rows] = state.used(items[fresh_rows], candidate[fresh_rows])
    raise_new = fresh & (reached > 0) & ~used
    pending = fresh & (reached == 0) & ~used
    escalate = holds & is_open & (reached > open_level)
    repeat = np.zeros(len(items), dtype=np.bool_)
    if variant.repeat is not None:
        due = np.flatnonzero(holds & is_open & ~escalate)
        repeat[due] = _held(
            ctx,
            variant.repeat,
            state.notified[items[due]],
            items[due],
            _part_path(path, variant, "repeat"),
        )
    clear = np.zeros(len(items), dtype=np.bool_)
    stopped = np.flatnonzero(is_open & ~holds)
    clear[stopped] = _held(
        ctx,
        variant.clear_after,
        since[stopped],
        items[stopped],
        _part_path(path, variant, "clear_after"),
    )
    active = is_open & ~(escalate | repeat | clear)
    action = np.full(len(items), -1, dtype=np.int8)
    for mask, name in (
        (raise_new | escalate, FindingAction.RAISE),
        (repeat, FindingAction.REPEAT),
        (clear, FindingAction.CLEAR),
        (active, FindingAction.ACTIVE),
        (pending, FindingAction.PENDING),
    ):
        action[mask] = _CODE[name]
    chosen = np.flatnonzero(action >= 0)
    level = np.where(raise_new | escalate, reached, np.where(pending, 1, open_level))[chosen]
    key = np.where(raise_new | pending, candidate, open_key)[chosen]
    chosen_items = items[chosen]
    target = render_targets(ctx, variant, chosen_items, level, path)
    when_taken = [node.take(chosen) for node in nodes]
    level_taken = {
        index: [node.take(chosen) for node in found] for index, found in level_nodes.items()
    }
    part = VariantPart(
        variant=variant,
        action=action[chosen],
        level=level.astype(np.int16),
        target=target,
        holds=holds[chosen],
        since=since[chosen],
        when=when_taken,
        when_evidence=_evidence(ctx, when_taken),
        level_when=level_taken,
        level_evidence={index: _evidence(ctx, found) for index, found in level_taken.items()},
    )
    return Rows(
        policy=variant.policy.name,
        item=ctx.frame.items[chosen_items],
        action=part.action,
        level=part.level,
        target=target,
        holds=part.holds,
        since=part.since,
        episode=key,
        part=part,
        order=chosen_items.astype(np.int64),
    )


def _evidence(ctx: Context, nodes: list[Node]) -> list[npt.NDArray[Any] | None]:
    return [ctx.evidence(node.anchor) if isinstance(node, Leaf) else None for node in nodes]


def _item_fields(
    ctx: Context, names: tuple[str, ...], items: npt.NDArray[np.intp], path: str
) -> list[npt.NDArray[Any]]:
    """Each named field's value per item, as labels (``"none"`` when missing)."""
    values = []
    ep = ctx.episodes
    current = ctx.current[items]
    for name in names:
        if name == "state":
            column = _STATE_NAMES[ep.state[current]]
        elif name == "owner":
            column = _OWNER_LABELS[ep.owner[current]]
        elif name == "reason":
            reasons: npt.NDArray[Any] = np.empty(len(ctx.frame.taxonomy.codes) + 1, dtype=object)
            reasons[:-1] = ctx.frame.taxonomy.codes
            column = reasons[ep.reason[current]]
        elif name in ctx.frame.item_attributes:
            column = ctx.frame.item_attributes[name].labels()[items]
        else:
            known = ", ".join(["state", "owner", "reason", *ctx.frame.item_attributes])
            raise ValidationError.single(path, name, f"placeholders naming fields ({known})")
        text = np.where(column == None, "none", column).astype(str)  # noqa: E711
        values.append(text)
    return values


def render_targets(
    ctx: Context,
    variant: Variant,
    items: npt.NDArray[np.intp],
    level: npt.NDArray[Any],
    policy_path: str,
) -> npt.NDArray[Any]:
    """Each row's target as recorded, its placeholders filled with the item's fields.

    The names are formatted once per distinct combination of values, not once per item.
    """
    result = np.empty(len(items), dtype=object)
    last = len(variant.levels)
    for index, chosen in enumerate(variant.levels):
        rows = np.flatnonzero(np.minimum(np.maximum(level, 1), last) == index + 1)
        if len(rows):
            path = f"{level_path(policy_path, variant, index)}.to"
            result[rows] = render(ctx, chosen.to, items[rows], path)
    return result


def render(
    ctx: Context, target: Target, items: npt.NDArray[np.intp], path: str
) -> npt.NDArray[Any]:
    """One target for some items."""
    names = target.fields
    if not names:
        return np.full(len(items), target.render({}), dtype=object)
    columns = _item_fields(ctx, names, items, path)
    table = np.stack(columns, axis=1)
    distinct, inverse = np.unique(table, axis=0, return_inverse=True)
    rendered = np.array(
        [target.render(dict(zip(names, values, strict=True))) for values in distinct.tolist()],
        dtype=object,
    )
    result: npt.NDArray[Any] = rendered[inverse.reshape(-1)]
    return result
